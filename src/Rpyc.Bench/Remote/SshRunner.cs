using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Rpyc.Bench;

// Runs commands on the remote host with the system ssh client: never a terminal, never a password
// prompt (BatchMode), a bounded connect; the remote command is a POSIX sh string (Quote its parts).
internal sealed class SshRunner(RemoteOptions options)
{
    private static readonly TimeSpan StreamEndTimeout = TimeSpan.FromSeconds(5);

    public RemoteOptions Options { get; } = options;

    public static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public ProcessStartInfo StartInfo(string command)
    {
        var start = new ProcessStartInfo("ssh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])["-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"])
        {
            start.ArgumentList.Add(arg);
        }
        if (Options.KeyFile is not null)
        {
            start.ArgumentList.Add("-i");
            start.ArgumentList.Add(Options.KeyFile);
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add("IdentitiesOnly=yes");
        }
        if (Options.Destination.Port is int port)
        {
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (string option in Options.SshOptions)
        {
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add(option);
        }
        start.ArgumentList.Add(Options.Destination.Login);
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(command);
        return start;
    }

    // Runs a command to its end; stdin is closed at once. Throws RemoteDeploymentException on a non-zero exit.
    public string Run(string command, string what, CancellationToken cancellationToken = default, Action<Stream>? writeInput = null) =>
        Run(StartInfo(command), what, cancellationToken, writeInput);

    // The same for any process with its three streams redirected (ssh above; a local shell in the tests).
    internal string Run(ProcessStartInfo start, string what, CancellationToken cancellationToken = default, Action<Stream>? writeInput = null)
    {
        using Process process = StartProcess(start, what);
        OutputText stdout = OutputText.Read(process.StandardOutput);
        ErrorLines stderr = ErrorLines.Attach(process);
        try
        {
            if (writeInput is not null)
            {
                writeInput(process.StandardInput.BaseStream);
            }
        }
        catch (IOException)
        {
            // ssh exited early (refused, bad key): its stderr below says why.
        }
        finally
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
        if (!WaitForExit(process, Options.CommandTimeout, cancellationToken))
        {
            Kill(process);
            throw new RemoteDeploymentException(cancellationToken.IsCancellationRequested
                ? $"{what}: interrupted."
                : $"{what}: no answer from {Options.Destination} in {Options.CommandTimeout.TotalSeconds:0} s.");
        }
        // What ssh wrote is in the pipes, read at once; a process still holding them (a ControlPersist
        // master this ssh started, a job left running there) may never close them: the end of the
        // output is waited for a short while (one bound for both), never for as long as they stay open.
        long deadline = Environment.TickCount64 + (long)StreamEndTimeout.TotalMilliseconds;
        stdout.WaitForEnd(StreamEndTimeout);
        stderr.WaitForExit(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        if (process.ExitCode != 0)
        {
            string error = stderr.Text;
            throw new RemoteDeploymentException(process.ExitCode == 255
                ? $"{what}: ssh to {Options.Destination} failed: {(error.Length > 0 ? error : "exit 255")}"
                : $"{what} on {Options.Destination} failed (exit {process.ExitCode}): {(error.Length > 0 ? error : stdout.End)}");
        }
        return stdout.Text;
    }

    // Copies a local folder's content into an existing remote folder, as one gzip'd tar stream over
    // one ssh connection (file modes kept: the self-contained build's executable).
    public void CopyFolder(string localDirectory, string remoteDirectory, CancellationToken cancellationToken)
    {
        string command = $"tar xzf - -C {Quote(remoteDirectory)}";
        Run(command, $"copying {localDirectory} to {remoteDirectory}", cancellationToken, input =>
        {
            using var gzip = new GZipStream(input, CompressionLevel.Fastest, leaveOpen: true);
            TarFile.CreateFromDirectory(localDirectory, gzip, includeBaseDirectory: false);
        });
    }

    public Process StartProcess(string command, string what) => StartProcess(StartInfo(command), what);

    private static Process StartProcess(ProcessStartInfo start, string what)
    {
        try
        {
            return Process.Start(start) ?? throw new RemoteDeploymentException($"{what}: ssh did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RemoteDeploymentException($"{what}: the ssh client could not be run ({ex.Message}); install openssh-client.", ex);
        }
    }

    public static bool WaitForExit(Process process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!process.WaitForExit(100))
        {
            if (cancellationToken.IsCancellationRequested || Environment.TickCount64 > deadline)
            {
                return false;
            }
        }
        // Not the parameterless WaitForExit: with a stream read by events (BeginErrorReadLine) it also waits
        // for the end of that stream, forever if a process the child started keeps the pipe open.
        return true;
    }

    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }
}
