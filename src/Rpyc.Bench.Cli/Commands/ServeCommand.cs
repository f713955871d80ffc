using System.ComponentModel;
using System.Runtime.InteropServices;
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
        [Description("Address to bind. RPyC has no authentication: bind beyond loopback only on a trusted network.")]
        [DefaultValue("127.0.0.1")]
        public string Host { get; init; } = "127.0.0.1";

        [CommandOption("--port <PORT>")]
        [Description("Port to bind; 0 picks a free one (printed as PORT <n>).")]
        [DefaultValue(0)]
        public int Port { get; init; }

        [CommandOption("--receive-spin-us <US>")]
        [Description("Microseconds an RPyC server connection polls for the next message before it blocks (RpycConnectOptions.ReceiveSpin): lower latency for more CPU. 0 to 1000; .NET RPyC targets only.")]
        [DefaultValue(0.0)]
        public double ReceiveSpinUs { get; init; }

        [CommandOption("--watch-stdin", IsHidden = true)]
        [Description("Exit when standard input closes (set by the suite's server hosts).")]
        public bool WatchStdin { get; init; }

        public override ValidationResult Validate() =>
            !TargetCatalog.IsKnown(Target) ? ValidationResult.Error($"Unknown target '{Target}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.")
            : Port is < 0 or > 65535 ? ValidationResult.Error("--port must be between 0 and 65535.")
            : !ReceiveSpinOption.IsValid(ReceiveSpinUs) ? ValidationResult.Error(ReceiveSpinOption.Error)
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        TargetInfo info = TargetCatalog.Get(settings.Target);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.WatchStdin)
        {
            new Thread(() =>
            {
                try
                {
                    Console.In.ReadToEnd();
                }
                finally
                {
                    stop.Cancel();
                }
            })
            { IsBackground = true, Name = "stdin-watch" }.Start();
        }
        // SIGTERM (kill, systemd, a container stop) ends the server as Ctrl-C does.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        IDisposable server;
        int port;
        try
        {
            if (info.IsPython)
            {
                var host = ServerHost.Start(info.Name, settings.Host, settings.Port);
                (server, port) = (host, host.Port);
            }
            else
            {
                server = LocalServer.Start(info.Name, settings.Host, settings.Port, TimeSpan.FromMicroseconds(settings.ReceiveSpinUs), out port);
            }
        }
        catch (Exception ex) when (ex is ServerStartException or PythonPeerMissingException or System.Net.Sockets.SocketException or IOException)
        {
            Console.Error.WriteLine($"rpycbench serve: {ex.Message}");
            return ExitCodes.Failed;
        }
        using (server)
        {
            Console.Out.WriteLine($"PORT {port}");
            Console.Out.Flush();
            Console.Error.WriteLine($"rpycbench: serving {info.Name} ({info.Implementation}) on {settings.Host}:{port}; Ctrl-C stops.");
            BenchTls.Announce(info.Name, port, Console.Error);
            stop.Token.WaitHandle.WaitOne();
        }
        return ExitCodes.Ok;
    }
}
