using System.ComponentModel;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench serve TARGET --host H --port P: prints "PORT <n>" once a request would be answered.
internal sealed class ServeCommand : Command<ServeCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<TARGET>")]
        [Description("rpyc_threaded, rpyc_forking, http_threaded, tcp_raw, py_rpyc_threaded, py_rpyc_forking, py_flask_threaded, or over TLS rpyc_threaded_tls and http_threaded_tls. " +
            "A TLS target makes a self-signed certificate at start and writes it to <temp>/rpycbench-<target>-<port>.pem (the path is printed on stderr); " +
            "the measuring side pins it: RPYCBENCH_TLS_CA=<file> rpycbench --endpoint rpyc_threaded_tls=HOST:PORT.")]
        public string Target { get; init; } = "";

        [CommandOption("--host <HOST>")]
        [Description("Address to bind: an IP address, localhost or a name that resolves (a host that does not is bad usage, exit 2). RPyC has no authentication: bind beyond loopback only on a trusted network.")]
        [DefaultValue("127.0.0.1")]
        public string Host { get; init; } = "127.0.0.1";

        [CommandOption("--port <PORT>")]
        [Description("Port to bind; 0 picks a free one (printed as PORT <n>).")]
        [DefaultValue(0)]
        public int Port { get; init; }

        [CommandOption("--receive-spin-us <US>")]
        [Description("Microseconds a server connection polls for the next request before it blocks (RpycConnectOptions.ReceiveSpin), as the suite's own servers do: lower latency for more CPU. 0 to 1000; the .NET RPyC and raw TCP targets only.")]
        [DefaultValue(50.0)]
        public double ReceiveSpinUs { get; init; } = 50;

        [CommandOption("--watch-stdin", IsHidden = true)]
        [Description("Exit when standard input closes (set by the suite's server hosts).")]
        public bool WatchStdin { get; init; }

        public override ValidationResult Validate() =>
            !TargetCatalog.IsKnown(Target) ? ValidationResult.Error($"Unknown target '{Target}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.")
            : Port is < 0 or > 65535 ? ValidationResult.Error("--port must be between 0 and 65535.")
            : !ReceiveSpinOption.IsValid(ReceiveSpinUs) ? ValidationResult.Error(ReceiveSpinOption.Error)
            : !LocalServer.TryResolveHost(Host, out string? hostError) ? ValidationResult.Error($"--host: {hostError}")
            : ValidationResult.Success();
    }

    // The serve loop is the library's, shared with rpycbench-host (the suite's server child), so a
    // target served here for a remote run is the same process setup as one the suite starts.
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        LocalServer.Serve(settings.Target, settings.Host, settings.Port, TimeSpan.FromMicroseconds(settings.ReceiveSpinUs), settings.WatchStdin,
            Console.Out, Console.Error, cancellationToken) == 0 ? ExitCodes.Ok : ExitCodes.Failed;
}
