using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

// Debian's OpenSSH server on 127.0.0.1 for the tests: a free port, a host key and a user key made
// for the test in a temporary folder, a known_hosts naming that host key (so the client checks it
// strictly), logging in as the current user (root here: key-only root login). Stopped on dispose.
public sealed class SshServer : IDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private readonly Process _process;

    public SshServer()
    {
        if (!File.Exists(Sshd))
        {
            throw new InvalidOperationException($"{Sshd} is missing: install Debian's OpenSSH server with 'bash scripts/install-peers.sh' (apt-get install openssh-server).");
        }
        Directory = System.IO.Directory.CreateTempSubdirectory("rpycbench-sshd").FullName;
        string hostKey = Path.Combine(Directory, "host_key");
        KeyFile = Path.Combine(Directory, "user_key");
        KeyGen(hostKey);
        KeyGen(KeyFile);
        File.Copy(KeyFile + ".pub", Path.Combine(Directory, "authorized_keys"));
        Port = FreePort();
        string config = Path.Combine(Directory, "sshd_config");
        File.WriteAllText(config, string.Join("\n",
            $"Port {Port.ToString(CultureInfo.InvariantCulture)}",
            "ListenAddress 127.0.0.1",
            $"HostKey {hostKey}",
            $"PidFile {Path.Combine(Directory, "sshd.pid")}",
            $"AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            // The temporary folder is not the user's ~/.ssh: no ownership checks on it.
            "StrictModes no",
            "") );
        File.WriteAllText(KnownHosts, $"[127.0.0.1]:{Port.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', File.ReadAllText(hostKey + ".pub").Split(' ')[..2])}\n");
        if (Environment.UserName == "root")
        {
            // sshd run as root wants its privilege separation folder.
            System.IO.Directory.CreateDirectory("/run/sshd");
        }
        var start = new ProcessStartInfo(Sshd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in (string[])["-D", "-e", "-f", config])
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"sshd exited: {string.Join(" | ", log)}"));
                return;
            }
            log.Enqueue(e.Data);
            if (e.Data.Contains("Server listening", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        _process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            Dispose();
            throw new InvalidOperationException($"sshd did not listen in 30 s: {string.Join(" | ", log)}");
        }
    }

    public string Directory { get; }

    public int Port { get; }

    public string KeyFile { get; }

    public string KnownHosts => Path.Combine(Directory, "known_hosts");

    public string Destination => $"{Environment.UserName}@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    // The rpycbench options that log in here.
    public string[] CliArgs =>
        ["--remote-host", Destination, "--ssh-key", KeyFile, "--ssh-option", $"UserKnownHostsFile={KnownHosts}", "--ssh-option", "StrictHostKeyChecking=yes"];

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static void KeyGen(string path)
    {
        using Process keygen = Process.Start(new ProcessStartInfo("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        if (!keygen.WaitForExit(30_000) || keygen.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen failed: {keygen.StandardError.ReadToEnd()}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
