using System.Diagnostics;

namespace Rpyc.Bench;

/// <summary>python3, rpyc or Flask is missing: the message carries the install command.</summary>
public sealed class PythonPeerMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PythonPeerMissingException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is missing and how to install it.</param>
    public PythonPeerMissingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="innerException">The cause.</param>
    public PythonPeerMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The Python peers: where their scripts are, whether they can run, which versions.</summary>
public static class PythonPeers
{
    /// <summary>The command that installs what the Python peers need on Debian.</summary>
    public const string InstallCommand = "sudo apt-get install -y python3 python3-rpyc python3-flask";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StreamEndTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Throws unless the interpreter can import rpyc (and flask when asked).</summary>
    /// <param name="pythonPath">The interpreter, e.g. /usr/bin/python3.</param>
    /// <param name="needFlask">Also require Flask.</param>
    /// <exception cref="PythonPeerMissingException">Something is missing; the message says what and how to install it.</exception>
    public static void EnsureAvailable(string pythonPath, bool needFlask)
    {
        string modules = needFlask ? "rpyc, flask" : "rpyc";
        string? error = Check(pythonPath, $"import {modules}");
        if (error is not null)
        {
            throw new PythonPeerMissingException(
                $"The Python peers need {pythonPath} with {modules} ({error}). Install them with: {InstallCommand}");
        }
    }

    /// <summary>Versions of python, rpyc and flask, for run metadata; missing ones are left out.</summary>
    /// <param name="pythonPath">The interpreter.</param>
    /// <returns>Name → version.</returns>
    public static IReadOnlyDictionary<string, string> Versions(string pythonPath)
    {
        var versions = new Dictionary<string, string>();
        string? output = Run(pythonPath, "-c",
            "import sys; print('python', sys.version.split()[0])\n" +
            "try:\n import rpyc; print('rpyc', rpyc.__version__)\nexcept Exception: pass\n" +
            "try:\n import flask, importlib.metadata as m; print('flask', m.version('flask'))\nexcept Exception: pass\n",
            out _);
        foreach (string line in (output ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                versions[line[..space]] = line[(space + 1)..];
            }
        }
        return versions;
    }

    /// <summary>The full path of a peer script.</summary>
    /// <param name="directory">A configured directory, or <c>null</c> for <c>python/</c> beside the application.</param>
    /// <param name="file">The script's file name.</param>
    /// <returns>The path.</returns>
    /// <exception cref="FileNotFoundException">The script is not there.</exception>
    public static string Script(string? directory, string file)
    {
        string[] candidates = directory is not null
            ? [Path.Combine(directory, file)]
            : [Path.Combine(AppContext.BaseDirectory, "python", file), Path.Combine(Path.GetDirectoryName(typeof(PythonPeers).Assembly.Location) ?? ".", "python", file)];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"The Python peer script {file} was not found (looked in {string.Join(", ", candidates)}).", file);
    }

    private static string? Check(string pythonPath, string code)
    {
        if (!File.Exists(pythonPath))
        {
            return $"{pythonPath} does not exist";
        }
        Run(pythonPath, "-c", code, out string? error);
        return error;
    }

    private static string? Run(string fileName, string arg1, string arg2, out string? error)
    {
        error = null;
        try
        {
            var start = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(arg1);
            start.ArgumentList.Add(arg2);
            using Process process = Process.Start(start)!;
            // Both pipes drained in the background while the exit is awaited, so that the time limit
            // holds (stdout read to its end first waited as long as the pipe stayed open, for ever
            // behind a process the interpreter left running), and each kept bounded: what is used is
            // the first lines of stdout (the versions, one a line) and the last line of stderr.
            ErrorLines stdout = ErrorLines.AttachOutput(process);
            ErrorLines stderr = ErrorLines.Attach(process);
            if (!process.WaitForExit(RunTimeout))
            {
                process.Kill(entireProcessTree: true);
                error = "timed out";
                return null;
            }
            ErrorLines.WaitForExit(StreamEndTimeout, stdout, stderr);
            if (process.ExitCode != 0)
            {
                string[] lines = stderr.Join("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                error = lines.Length > 0 ? lines[^1] : $"exit code {process.ExitCode}";
            }
            return stdout.Join("\n");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
