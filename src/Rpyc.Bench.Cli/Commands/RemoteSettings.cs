using System.ComponentModel;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// The --remote-host options shared by the run and sweep commands, and the deployment they start.
internal abstract class RemoteSettings : CommandSettings
{
    [CommandOption("--remote-host <[USER@]HOST[:PORT]>")]
    [Description("Deploy rpycbench to HOST over SSH (system ssh, key or agent login), start the selected servers there on free ports, measure them from here (every target labelled remote), add the remote machine to metadata.remote_machine, then stop everything there and remove the folder, also on failure or Ctrl-C.")]
    public string? RemoteHost { get; init; }

    [CommandOption("--ssh-key <FILE>")]
    [Description("With --remote-host: the private key to log in with (ssh -i).")]
    public string? SshKey { get; init; }

    [CommandOption("--ssh-option <OPTION>")]
    [Description("With --remote-host: an ssh -o option (repeatable), e.g. UserKnownHostsFile=hosts or StrictHostKeyChecking=accept-new.")]
    public string[]? SshOptions { get; init; }

    [CommandOption("--remote-dir <DIR>")]
    [Description("With --remote-host: the new folder the tool is copied to there (must not exist). Default: a new folder under /tmp.")]
    public string? RemoteDir { get; init; }

    [CommandOption("--keep-remote")]
    [Description("With --remote-host: leave the deployed folder there (the servers are stopped all the same).")]
    public bool KeepRemote { get; init; }

    [CommandOption("--remote-bind <ADDRESS>")]
    [Description("With --remote-host: the address the remote servers bind and are measured at. Default: the remote's address of the SSH connection (127.0.0.1 over loopback). RPyC has no authentication: a non-loopback address is warned about.")]
    public string? RemoteBind { get; init; }

    [CommandOption("--remote-deploy <MODE>")]
    [Description("With --remote-host: auto (framework-dependent when the remote has this .NET and ASP.NET Core runtime, self-contained otherwise), framework-dependent or self-contained.")]
    [DefaultValue("auto")]
    public string RemoteDeploy { get; init; } = "auto";

    protected ValidationResult ValidateRemote(IReadOnlyList<string> targets, bool inProcess, IReadOnlyList<RemoteEndpoint> endpoints)
    {
        if (RemoteHost is null)
        {
            return SshKey is not null || SshOptions is { Length: > 0 } || RemoteDir is not null || KeepRemote || RemoteBind is not null || RemoteDeploy != "auto"
                ? ValidationResult.Error("--ssh-key, --ssh-option, --remote-dir, --keep-remote, --remote-bind and --remote-deploy need --remote-host.")
                : ValidationResult.Success();
        }
        if (!SshDestination.TryParse(RemoteHost, out _, out string? error))
        {
            return ValidationResult.Error(error);
        }
        if (SshKey is not null && !File.Exists(SshKey))
        {
            return ValidationResult.Error($"--ssh-key {SshKey}: no such file.");
        }
        if (RemoteDir is not null && (!RemoteDir.StartsWith('/') || RemoteDir.TrimEnd('/').Length < 2 || RemoteDir.Contains("..", StringComparison.Ordinal)))
        {
            return ValidationResult.Error("--remote-dir must be an absolute path of a new folder (not / and without '..').");
        }
        if (ParseMode(RemoteDeploy) is null)
        {
            return ValidationResult.Error("--remote-deploy must be auto, framework-dependent or self-contained.");
        }
        if (inProcess)
        {
            return ValidationResult.Error("--in-process and --remote-host exclude each other: the servers run on the remote host.");
        }
        string? both = targets.FirstOrDefault(t => endpoints.Any(e => e.Target == t));
        return both is null ? ValidationResult.Success()
            : ValidationResult.Error($"Target '{both}' has an endpoint given (--endpoint, --rpyc-host, --http-host or --tcp-host) and would be deployed by --remote-host too.");
    }

    public RemoteOptions? ToRemoteOptions()
    {
        if (RemoteHost is null || !SshDestination.TryParse(RemoteHost, out SshDestination? destination, out _))
        {
            return null;
        }
        return new RemoteOptions
        {
            Destination = destination,
            KeyFile = SshKey is null ? null : Path.GetFullPath(SshKey),
            SshOptions = SshOptions ?? [],
            RemoteDirectory = RemoteDir?.TrimEnd('/'),
            KeepRemoteDirectory = KeepRemote,
            BindAddress = RemoteBind,
            Mode = ParseMode(RemoteDeploy) ?? RemoteDeploymentMode.Auto,
        };
    }

    private static RemoteDeploymentMode? ParseMode(string mode) => mode switch
    {
        "auto" => RemoteDeploymentMode.Auto,
        "framework-dependent" => RemoteDeploymentMode.FrameworkDependent,
        "self-contained" => RemoteDeploymentMode.SelfContained,
        _ => null,
    };

    // After Deploy, for the run and sweep commands alike: the suite pointed at the remote servers,
    // and the Python peers checked. Null to go on, else the exit code.
    public int? PrepareTargets(RemoteDeployment? remote, bool remoteFailed, ref SuiteOptions options, CancellationToken cancellationToken)
    {
        if (remoteFailed)
        {
            return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Failed;
        }
        if (remote is not null)
        {
            options = remote.Apply(options);
            if (options.EffectiveTargets().Count == 0)
            {
                AnsiConsole.MarkupLine("[red]Error:[/] no target could run on the remote host.");
                return ExitCodes.Failed;
            }
        }
        if (options.Targets.Any(t => TargetCatalog.Get(t).UsesPython))
        {
            try
            {
                PythonPeers.EnsureAvailable(options.ServerOptions.PythonPath, options.Targets.Contains(TargetCatalog.PyFlaskThreaded));
            }
            catch (PythonPeerMissingException ex)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
                return ExitCodes.Failed;
            }
        }
        return null;
    }

    // Deploys to the remote host and returns the live deployment (null without --remote-host); a
    // failed deployment prints why and returns null with failed set. Progress goes to stderr.
    public RemoteDeployment? Deploy(IReadOnlyList<string> targets, CancellationToken cancellationToken, out bool failed)
    {
        failed = false;
        if (ToRemoteOptions() is not { } options)
        {
            return null;
        }
        try
        {
            RemoteDeployment deployment = RemoteDeployment.Deploy(options, targets, line => Console.Error.WriteLine($"remote: {line}"), cancellationToken);
            Console.Error.WriteLine($"remote: {deployment.Deployment} on {options.Destination}, servers at {deployment.Address}");
            return deployment;
        }
        catch (Exception ex) when (ex is RemoteDeploymentException or OperationCanceledException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {(ex is OperationCanceledException ? "interrupted while deploying to the remote host." : ex.Message)}");
            failed = true;
            return null;
        }
    }
}
