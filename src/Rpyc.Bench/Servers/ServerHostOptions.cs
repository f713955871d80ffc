namespace Rpyc.Bench;

/// <summary>How server hosts start their servers.</summary>
public sealed class ServerHostOptions
{
    /// <summary>The defaults: every server in its own process.</summary>
    public static ServerHostOptions Default { get; } = new();

    /// <summary>
    /// Run .NET targets inside this process instead of a child process. Off by default: a server
    /// sharing the client's runtime (GC, thread pool, JIT) distorts both sides' numbers.
    /// </summary>
    public bool InProcess { get; init; }

    /// <summary>
    /// The program that serves .NET targets (<c>rpycbench.dll</c>, run as
    /// <c>dotnet exec rpycbench.dll serve TARGET</c>). Default: <c>rpycbench.dll</c> beside the
    /// application, or the <c>RPYCBENCH_SERVER</c> environment variable.
    /// </summary>
    public string? ServerProgram { get; init; }

    /// <summary>The Python interpreter of the Python peers. Default Debian's <c>/usr/bin/python3</c>.</summary>
    public string PythonPath { get; init; } = "/usr/bin/python3";

    /// <summary>Where <c>rpyc_server.py</c> and <c>flask_server.py</c> are. Default: <c>python/</c> beside the application.</summary>
    public string? PythonScriptDirectory { get; init; }

    /// <summary>How long a server may take to answer its first request. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
