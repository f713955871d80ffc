using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rpyc.IntegrationTests;

/// <summary>
/// Debian's interpreter with python3-rpyc. Tests that need it fail (never skip) when it is
/// missing, naming the install command, as STYLE.md section 8 requires.
/// </summary>
internal static class PythonEnvironment
{
    public const string Interpreter = "/usr/bin/python3";
    public const string InstallCommand = "apt-get install -y python3-rpyc python3-flask";

    private static readonly Lazy<string> s_rpycVersion = new(ProbeRpycVersion, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The rpyc version importable by <see cref="Interpreter"/>; throws with the install command when there is none.</summary>
    public static string RpycVersion => s_rpycVersion.Value;

    /// <summary>The envelope the installed rpyc speaks (5.x or 6.x).</summary>
    public static RpycProtocolVersion ProtocolVersion =>
        int.Parse(RpycVersion.Split('.')[0], CultureInfo.InvariantCulture) >= 6 ? RpycProtocolVersion.V6 : RpycProtocolVersion.V5;

    private static string ProbeRpycVersion()
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException(
                $"{Interpreter} does not exist: the interop tests need Debian's Python with rpyc. Install it with `{InstallCommand}`.");
        }
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import rpyc; print(rpyc.__version__)");
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"`{Interpreter} -c \"import rpyc\"` did not finish within 20 s.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Interpreter} cannot import rpyc (exit code {process.ExitCode}): {stderr.Result.Trim()}\n" +
                $"The interop tests need Debian's python3-rpyc. Install it with `{InstallCommand}`.");
        }
        return stdout.Result.Trim();
    }
}

/// <summary>
/// A stock rpyc ThreadedServer (tests/python/demo_server.py) in a child process on 127.0.0.1 and
/// a port chosen by the OS. Disposing kills the whole process tree.
/// </summary>
internal sealed class PythonPeer : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public PythonPeer(params string[] extraArguments)
    {
        string version = PythonEnvironment.RpycVersion;
        string script = Path.Combine(AppContext.BaseDirectory, "python", "demo_server.py");
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"The Python peer script was not copied to the test output: {script}.", script);
        }
        var start = new ProcessStartInfo(PythonEnvironment.Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--host");
        start.ArgumentList.Add("127.0.0.1");
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        foreach (string argument in extraArguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, fromStdout: true);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, fromStdout: false);
        _process.Exited += (_, _) =>
        {
            // Let the asynchronous readers drain so the message shows the traceback.
            _process.WaitForExit();
            _port.TrySetException(new InvalidOperationException(
                $"The Python peer (rpyc {version}) exited with code {_process.ExitCode} before listening. Its output:\n{Output}"));
        };
        if (!_process.Start())
        {
            throw new InvalidOperationException($"Could not start {PythonEnvironment.Interpreter} {script}.");
        }
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            Port = _port.Task.WaitAsync(s_startTimeout).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            Dispose();
            throw new TimeoutException($"The Python peer printed no `PORT <n>` line within {s_startTimeout.TotalSeconds} s. Its output:\n{Output}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The TCP port the server listens on.</summary>
    public int Port { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the peer printed so far (stdout and stderr), for diagnostics.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void OnLine(string? line, bool fromStdout)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            // Keep diagnostics bounded: a misbehaving peer must not eat the test host's memory.
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
        if (fromStdout && line.StartsWith("PORT ", StringComparison.Ordinal)
            && int.TryParse(line.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            _port.TrySetResult(port);
        }
    }

    /// <summary>Kills the server (and any child) and waits until it is gone.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Kill();
        _process.Dispose();
    }
}

/// <summary>One Python server shared by every test of the <see cref="PythonServerCollection"/>.</summary>
public sealed class PythonServerFixture : IDisposable
{
    private readonly PythonPeer _peer;

    public PythonServerFixture()
    {
        // Fails the whole collection with the install command when rpyc is missing.
        RpycVersion = PythonEnvironment.RpycVersion;
        _peer = new PythonPeer();
    }

    public string RpycVersion { get; }

    public int Port => _peer.Port;

    public string PeerOutput => _peer.Output;

    /// <summary>Options matching the installed rpyc's envelope, with overrides applied by the caller.</summary>
    public static RpycConnectOptions Options(TimeSpan? syncRequestTimeout = null, int compressionThreshold = -1) => new()
    {
        ProtocolVersion = PythonEnvironment.ProtocolVersion,
        SyncRequestTimeout = syncRequestTimeout ?? TimeSpan.FromSeconds(30),
        CompressionThreshold = compressionThreshold,
    };

    public RpycConnection Connect(RpycConnectOptions? options = null) =>
        RpycConnection.Connect("127.0.0.1", Port, options ?? Options());

    public void Dispose() => _peer.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PythonServerCollection : ICollectionFixture<PythonServerFixture>
{
    public const string Name = "Python rpyc server";
}
