namespace Rpyc.Bench;

/// <summary>How the tool is deployed on the remote host: a framework-dependent build run by the remote's <c>dotnet</c>, or a self-contained one.</summary>
public enum RemoteDeploymentMode
{
    /// <summary>Framework-dependent when the remote has the .NET and ASP.NET Core runtimes of this build's major version, self-contained otherwise.</summary>
    Auto,

    /// <summary>The framework-dependent build (small: the remote runs it with its own <c>dotnet</c>).</summary>
    FrameworkDependent,

    /// <summary>A self-contained linux build (the remote needs no .NET; <c>rpyc_forking</c>, whose workers are started by <c>dotnet</c>, cannot run there).</summary>
    SelfContained,
}

/// <summary>Where and how <see cref="RemoteDeployment"/> deploys the servers over SSH (the system <c>ssh</c> and <c>scp</c> clients).</summary>
public sealed record RemoteOptions
{
    /// <summary>The SSH destination.</summary>
    public required SshDestination Destination { get; init; }

    /// <summary>The private key to log in with (<c>ssh -i</c>), or <c>null</c> for ssh's defaults and agent.</summary>
    public string? KeyFile { get; init; }

    /// <summary>
    /// The folder on the remote host the tool is copied to; it must not exist yet (it is removed
    /// afterwards). Default: a new folder under <c>/tmp</c> named after this process.
    /// </summary>
    public string? RemoteDirectory { get; init; }

    /// <summary>Leave the deployed folder on the remote host (the servers are stopped all the same).</summary>
    public bool KeepRemoteDirectory { get; init; }

    /// <summary>Extra <c>ssh -o</c> options, e.g. <c>UserKnownHostsFile=/tmp/known_hosts</c>.</summary>
    public IReadOnlyList<string> SshOptions { get; init; } = [];

    /// <summary>
    /// The address the remote servers bind. Default: the remote host's address of this SSH connection
    /// (<c>SSH_CONNECTION</c>), which the client has just reached; <c>127.0.0.1</c> over loopback.
    /// </summary>
    public string? BindAddress { get; init; }

    /// <summary>Framework-dependent or self-contained. Default: decided from the remote's runtimes.</summary>
    public RemoteDeploymentMode Mode { get; init; } = RemoteDeploymentMode.Auto;

    /// <summary>
    /// Where published builds are cached, one folder per mode, reused while the tool's assemblies are
    /// the same. Default: <c>artifacts/remote-publish</c> of the source tree the tool runs from.
    /// </summary>
    public string? PublishCache { get; init; }

    /// <summary>The longest one SSH command may take (a copy, a probe, a server start). Default 120 s.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
