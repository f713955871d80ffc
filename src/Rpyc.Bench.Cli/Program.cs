using Rpyc.Bench;
using Rpyc.Bench.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Ctrl-C cancels the run (partial report, servers stopped, exit 130); a second Ctrl-C stops at once.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested)
    {
        ServerHost.StopAll();
        return;
    }
    e.Cancel = true;
    interrupt.Cancel();
};

var app = new CommandApp<RunCommand>();
app.Configure(config =>
{
    config.SetApplicationName("rpycbench");
    config.UseStrictParsing();
    config.UseAssemblyInformationalVersion();
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Run one target's server until stopped, so a suite elsewhere can measure it (--rpyc-host/--http-host).")
        .WithExample("serve", "rpyc_threaded", "--host", "0.0.0.0", "--port", "18812");
    config.SetExceptionHandler((ex, resolver) =>
    {
        // Parse and validation errors are usage errors: say what is wrong, show the usage, exit 2.
        if (ex is CommandParseException or CommandConfigurationException or CommandRuntimeException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
            return ExitCodes.Usage;
        }
        AnsiConsole.WriteException(ex, ExceptionFormats.ShortenEverything);
        return ExitCodes.Failed;
    });
});

int code = app.Run(args, interrupt.Token);
if (code == ExitCodes.Usage)
{
    Console.WriteLine();
    string[] help = args.Length > 0 && args[0] == "serve" ? ["serve", "--help"] : ["--help"];
    app.Run(help, CancellationToken.None);
}
return code;
