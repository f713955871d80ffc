using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// The tool deployed on a remote host over SSH (the system <c>ssh</c> client): a published build
/// copied to a new folder there, one <c>rpycbench serve TARGET</c> per target started in its own
/// session on a free port, and the remote machine's description. <see cref="Dispose"/> stops every
/// server (their process groups) and removes the folder; deployments still live when this process
/// exits are cleaned up too (<see cref="StopAll"/>).
/// </summary>
/// <example>
/// <code>
/// var remote = new RemoteOptions { Destination = new SshDestination("bench", "10.0.0.2", null) };
/// using RemoteDeployment deployment = RemoteDeployment.Deploy(remote, ["rpyc_threaded", "tcp_raw"]);
/// BenchmarkReport report = BenchmarkSuite.RunAll(deployment.Apply(new SuiteOptions { Targets = [] }));
/// </code>
/// </example>
public sealed partial class RemoteDeployment : IDisposable
{
    private static readonly ConcurrentDictionary<RemoteDeployment, bool> s_live = new();
    private readonly SshRunner _ssh;
    private readonly List<(string Target, Process Ssh)> _servers = [];
    private readonly List<RemoteEndpoint> _endpoints = [];
    private readonly Dictionary<string, string> _skipped = [];
    private readonly Action<string> _log;
    private string _runner = "";
    private int _disposed;
    private bool _created;

    static RemoteDeployment()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    private RemoteDeployment(RemoteOptions options, Action<string> log)
    {
        _ssh = new SshRunner(options);
        _log = log;
        Options = options;
        RemoteDirectory = options.RemoteDirectory
            ?? $"/tmp/rpycbench-{Environment.MachineName}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>The options deployed with.</summary>
    public RemoteOptions Options { get; }

    /// <summary>The deployed folder on the remote host.</summary>
    public string RemoteDirectory { get; }

    /// <summary>The address the servers bind and the client connects to.</summary>
    public string Address { get; private set; } = "";

    /// <summary>The build deployed, e.g. <c>framework-dependent (…)</c> or <c>self-contained linux-x64 (…)</c>.</summary>
    public string Deployment { get; private set; } = "";

    /// <summary>Whether the self-contained build was deployed.</summary>
    public bool SelfContained { get; private set; }

    /// <summary>Where each started target is served on the remote host.</summary>
    public IReadOnlyList<RemoteEndpoint> Endpoints => _endpoints;

    /// <summary>Targets that could not be served remotely, with the reason (e.g. no python3-rpyc there).</summary>
    public IReadOnlyDictionary<string, string> Skipped => _skipped;

    /// <summary>
    /// The remote machine (<c>rpycbench machine --json</c> run there: <see cref="MachineInfo.ToDictionary"/>)
    /// plus <c>ssh_destination</c>, <c>address</c>, <c>deployment</c> and <c>remote_dir</c>.
    /// </summary>
    public IReadOnlyDictionary<string, object> Machine { get; private set; } = new Dictionary<string, object>();

    /// <summary>
    /// Deploys the tool and starts a server for each target that can run remotely (every target but
    /// those measured by a client of their own kind against another's server share that server's kind).
    /// On failure everything started is stopped and the folder removed before the exception.
    /// </summary>
    /// <param name="options">Where and how.</param>
    /// <param name="targets">The targets to serve remotely.</param>
    /// <param name="log">Receives progress lines, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops the deployment (then cleaned up).</param>
    /// <returns>The live deployment: dispose it to stop everything there.</returns>
    /// <exception cref="RemoteDeploymentException">SSH, the copy, or a server start failed.</exception>
    public static RemoteDeployment Deploy(RemoteOptions options, IReadOnlyList<string> targets, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(targets);
        var deployment = new RemoteDeployment(options, log ?? (static _ => { }));
        s_live[deployment] = true;
        try
        {
            deployment.Install(cancellationToken);
            foreach (string target in targets)
            {
                cancellationToken.ThrowIfCancellationRequested();
                deployment.StartServer(target, cancellationToken);
            }
            return deployment;
        }
        catch
        {
            deployment.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The suite's options pointed at the remote servers: each started target becomes an
    /// <see cref="SuiteOptions.Endpoints"/> entry (reported as remote) and the remote machine goes to
    /// <see cref="SuiteOptions.RemoteMachine"/>; skipped targets are removed.
    /// </summary>
    /// <param name="options">The options of a local run.</param>
    /// <returns>The options of the remote run.</returns>
    public SuiteOptions Apply(SuiteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Targets = options.Targets.Where(t => !_endpoints.Any(e => e.Target == t) && !_skipped.ContainsKey(t)).ToArray(),
            Endpoints = [.. options.Endpoints, .. _endpoints],
            RemoteMachine = Machine,
        };
    }

    /// <summary>Stops every deployment still live (at process exit, or on a second Ctrl-C).</summary>
    public static void StopAll()
    {
        foreach (RemoteDeployment deployment in s_live.Keys)
        {
            deployment.Dispose();
        }
    }

    /// <summary>Stops every server on the remote host and removes the deployed folder (unless <see cref="RemoteOptions.KeepRemoteDirectory"/>). Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        s_live.TryRemove(this, out _);
        foreach ((_, Process ssh) in _servers)
        {
            // The server exits when its standard input closes (--watch-stdin): close it first, then
            // make sure the ssh client is gone; the remote sweep below kills whatever is left.
            try
            {
                ssh.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
        foreach ((_, Process ssh) in _servers)
        {
            if (!ssh.WaitForExit(3000))
            {
                SshRunner.Kill(ssh);
            }
            ssh.Dispose();
        }
        if (!_created)
        {
            return;
        }
        try
        {
            _ssh.Run(CleanupScript(), $"stopping the servers in {RemoteDirectory}");
            _log(Options.KeepRemoteDirectory ? $"stopped the remote servers; kept {RemoteDirectory}" : $"stopped the remote servers and removed {RemoteDirectory}");
        }
        catch (RemoteDeploymentException ex)
        {
            _log($"warning: cleanup on {Options.Destination} failed: {ex.Message} Check for rpycbench processes and {RemoteDirectory} there.");
        }
    }

    internal static IReadOnlyDictionary<string, object> ParseMachine(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        var values = new Dictionary<string, object>();
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            if (ToValue(p.Value) is { } value)
            {
                values[p.Name] = value;
            }
        }
        return values;
    }

    private static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when e.TryGetInt64(out long l) => l,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(ToValue).Where(v => v is not null).ToArray(),
        _ => e.GetRawText(),
    };
}
