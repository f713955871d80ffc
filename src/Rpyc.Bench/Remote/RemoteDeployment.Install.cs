using System.Diagnostics;
using System.Globalization;
using System.Net;
using static Rpyc.Bench.SshRunner;

namespace Rpyc.Bench;

public sealed partial class RemoteDeployment
{
    // One round trip: what the remote has (its address on this connection, architecture, dotnet and
    // its runtimes, setsid, the Python peers).
    private const string ProbeScript =
        "echo \"conn=$SSH_CONNECTION\"; echo \"os=$(uname -s)\"; echo \"arch=$(uname -m)\"; " +
        "d=$(command -v dotnet 2>/dev/null); for c in \"$HOME/.dotnet/dotnet\" /usr/share/dotnet/dotnet /usr/lib/dotnet/dotnet; do [ -z \"$d\" ] && [ -x \"$c\" ] && d=$c; done; " +
        "echo \"dotnet=$d\"; [ -n \"$d\" ] && \"$d\" --list-runtimes 2>/dev/null | sed 's/^/runtime=/'; " +
        "echo \"setsid=$(command -v setsid 2>/dev/null)\"; echo \"tar=$(command -v tar 2>/dev/null)\"; " +
        "/usr/bin/python3 -c 'import rpyc; print(\"rpyc=\" + rpyc.__version__)' 2>/dev/null; " +
        "/usr/bin/python3 -c 'import flask; print(\"flask=\" + getattr(flask, \"__version__\", \"yes\"))' 2>/dev/null; true";

    private string? _rpycVersion;
    private bool _flask;
    private bool _setsid;

    private void Install(CancellationToken cancellationToken)
    {
        _log($"probing {Options.Destination}");
        Dictionary<string, List<string>> probe = ParseProbe(_ssh.Run(ProbeScript, "probing the remote host", cancellationToken));
        string First(string key) => probe.TryGetValue(key, out List<string>? v) ? v[0] : "";
        if (First("os") != "Linux")
        {
            throw new RemoteDeploymentException($"{Options.Destination} runs '{First("os")}': the remote servers need Linux.");
        }
        if (First("tar").Length == 0)
        {
            throw new RemoteDeploymentException($"{Options.Destination} has no 'tar', which the copy unpacks with.");
        }
        string rid = First("arch") switch
        {
            "x86_64" => "linux-x64",
            "aarch64" or "arm64" => "linux-arm64",
            string other => throw new RemoteDeploymentException($"{Options.Destination} is a '{other}' machine: rpycbench deploys to x86_64 and aarch64 Linux."),
        };
        _setsid = First("setsid").Length > 0;
        _rpycVersion = First("rpyc") is { Length: > 0 } rpyc ? rpyc : null;
        _flask = First("flask").Length > 0;
        string dotnet = First("dotnet");
        // The framework-dependent build needs this build's .NET and ASP.NET Core (Kestrel) majors there.
        string major = Environment.Version.Major.ToString(CultureInfo.InvariantCulture) + ".";
        IReadOnlyList<string> runtimes = probe.TryGetValue("runtime", out List<string>? r) ? r : [];
        bool hasRuntimes = dotnet.Length > 0 && rid == LocalRid()
            && runtimes.Any(l => l.StartsWith("Microsoft.NETCore.App " + major, StringComparison.Ordinal))
            && runtimes.Any(l => l.StartsWith("Microsoft.AspNetCore.App " + major, StringComparison.Ordinal));
        SelfContained = Options.Mode switch
        {
            RemoteDeploymentMode.SelfContained => true,
            RemoteDeploymentMode.FrameworkDependent when !hasRuntimes => throw new RemoteDeploymentException(
                $"{Options.Destination} has no .NET {Environment.Version.Major} and ASP.NET Core {Environment.Version.Major} runtimes ({(dotnet.Length == 0 ? "no dotnet found" : dotnet)}) for the framework-dependent build: leave the mode to auto for the self-contained one."),
            RemoteDeploymentMode.FrameworkDependent => false,
            _ => !hasRuntimes,
        };
        Address = Options.BindAddress ?? ReachedAddress(First("conn"));
        if (!IPAddress.TryParse(Address, out IPAddress? bind) || !IPAddress.IsLoopback(bind))
        {
            _log($"warning: the remote servers bind {Address}: RPyC has no authentication, and anyone who can reach that address can call them while the run lasts.");
        }
        // Checked before publishing, so a bad --remote-dir fails at once. The copy's 'mkdir' (no -p)
        // refuses a folder that appeared meanwhile: one that exists is never overwritten or removed.
        string parent = Path.GetDirectoryName(RemoteDirectory.TrimEnd('/')) is { Length: > 0 } p ? p : "/";
        _ssh.Run($"mkdir -p {Quote(parent)} && [ ! -e {Quote(RemoteDirectory)} ] || {{ echo {Quote(RemoteDirectory + " exists already: give --remote-dir a new folder")} >&2; exit 3; }}",
            "preparing the remote folder", cancellationToken);
        (string folder, string description) = RemotePublisher.Publish(Options, SelfContained, rid, _log, cancellationToken);
        Deployment = description;
        _runner = SelfContained ? $"{Quote(RemoteDirectory + "/rpycbench")}" : $"{Quote(dotnet)} {Quote(RemoteDirectory + "/rpycbench.dll")}";
        _log($"copying the {(SelfContained ? "self-contained" : "framework-dependent")} build to {Options.Destination}:{RemoteDirectory}");
        _ssh.Run($"mkdir {Quote(RemoteDirectory)} || {{ echo {Quote(RemoteDirectory + " could not be created (or exists already): give --remote-dir a new folder")} >&2; exit 3; }}",
            "preparing the remote folder", cancellationToken);
        // Ours from here on: the cleanup removes it.
        _created = true;
        _ssh.Run($"mkdir {Quote(RemoteDirectory + "/run")}", "preparing the remote folder", cancellationToken);
        _ssh.CopyFolder(folder, RemoteDirectory, cancellationToken);
        string machineJson = _ssh.Run($"{_runner} machine --json --seconds 0", "describing the remote machine", cancellationToken);
        var machine = new Dictionary<string, object>(ParseMachine(machineJson))
        {
            ["ssh_destination"] = Options.Destination.ToString(),
            ["address"] = Address,
            ["deployment"] = Deployment,
            ["remote_dir"] = RemoteDirectory,
        };
        if (_rpycVersion is not null)
        {
            machine["python_rpyc"] = _rpycVersion;
        }
        Machine = machine;
    }

    private void StartServer(string target, CancellationToken cancellationToken)
    {
        TargetInfo info = TargetCatalog.Get(target);
        TargetInfo server = TargetCatalog.Get(info.Server);
        if (server.IsPython && _rpycVersion is null)
        {
            Skip(target, "python3-rpyc is not installed there (/usr/bin/python3 cannot import rpyc): apt-get install python3-rpyc python3-flask");
            return;
        }
        if (server.Name == TargetCatalog.PyFlaskThreaded && !_flask)
        {
            Skip(target, "python3-flask is not installed there: apt-get install python3-flask");
            return;
        }
        if (server.Name == TargetCatalog.RpycForking && SelfContained)
        {
            Skip(target, "ForkingServer starts its workers with dotnet, which the self-contained deployment does not have");
            return;
        }
        _log($"starting {target} on {Options.Destination}");
        string pidFile = $"{RemoteDirectory}/run/{_servers.Count.ToString(CultureInfo.InvariantCulture)}.pid";
        string serve = $"echo $$ > {Quote(pidFile)}; exec {_runner} serve {Quote(server.Name)} --host {Quote(Address)} --port 0 --watch-stdin";
        // Its own session and process group (setsid): the cleanup kills the server with everything
        // it started (forked workers, the Python peer) even if ssh is gone.
        string command = _setsid ? $"cd {Quote(RemoteDirectory)} && exec setsid -w sh -c {Quote(serve)}" : $"cd {Quote(RemoteDirectory)} && exec sh -c {Quote(serve)}";
        Process ssh = _ssh.StartProcess(command, $"starting {target}");
        _servers.Add((target, ssh));
        ErrorLines stderr = ErrorLines.Attach(ssh);
        Task<string?> line = PortLine(ssh);
        long deadline = Environment.TickCount64 + (long)Options.CommandTimeout.TotalMilliseconds;
        while (!line.Wait(100, CancellationToken.None))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Environment.TickCount64 > deadline)
            {
                throw new RemoteDeploymentException($"{target} did not start on {Options.Destination} in {Options.CommandTimeout.TotalSeconds:0} s: {stderr.Text}");
            }
        }
        if (line.Result is not string portLine || !int.TryParse(portLine.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            stderr.WaitForExit(TimeSpan.FromSeconds(5));
            throw new RemoteDeploymentException($"{target} did not start on {Options.Destination}: {stderr.Text}");
        }
        _endpoints.Add(new RemoteEndpoint(target, Address, port));
        _log($"{target} serves on {RemoteEndpoint.HostPort(Address, port)} ({Options.Destination})");
    }

    // 'rpycbench serve' prints "PORT <n>" once the server would answer; nothing else on stdout. Null
    // when stdout ends, or has given 100 other lines, first. Read by ErrorLines, so that a line
    // without an end is kept bounded, and the rest of stdout is drained.
    private static Task<string?> PortLine(Process ssh)
    {
        var port = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        int lines = 0;
        ErrorLines stdout = ErrorLines.AttachOutput(ssh, line =>
        {
            if (line.StartsWith("PORT ", StringComparison.Ordinal) || ++lines >= 100)
            {
                port.TrySetResult(line.StartsWith("PORT ", StringComparison.Ordinal) ? line : null);
            }
        });
        _ = stdout.Ended.ContinueWith(_ => port.TrySetResult(null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return port.Task;
    }

    private void Skip(string target, string reason)
    {
        _skipped[target] = reason;
        _log($"warning: {target} is left out: {reason}.");
    }

    // Every server's process group gets SIGTERM, then up to 5 s to exit, then SIGKILL; then the folder goes.
    private string CleanupScript()
    {
        string dir = Quote(RemoteDirectory);
        string remove = Options.KeepRemoteDirectory ? $"rm -rf {dir}/run" : $"rm -rf {dir}";
        return $"pids=$(cat {dir}/run/*.pid 2>/dev/null); "
            + "for p in $pids; do kill -s TERM -- -$p 2>/dev/null; kill -s TERM $p 2>/dev/null; done; "
            + "i=0; while [ $i -lt 50 ]; do a=; for p in $pids; do kill -0 -- -$p 2>/dev/null && a=1; kill -0 $p 2>/dev/null && a=1; done; [ -z \"$a\" ] && break; sleep 0.1; i=$((i+1)); done; "
            + "for p in $pids; do kill -s KILL -- -$p 2>/dev/null; kill -s KILL $p 2>/dev/null; done; "
            + $"cd / && {remove}";
    }

    private static string ReachedAddress(string sshConnection)
    {
        // SSH_CONNECTION: client-ip client-port server-ip server-port. The server ip is the address
        // the client has just reached the remote host at.
        string[] parts = sshConnection.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 4 ? parts[2] : throw new RemoteDeploymentException($"The remote host did not report its address (SSH_CONNECTION='{sshConnection}'): give --remote-bind ADDRESS.");
    }

    private static string LocalRid() => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "linux-arm64",
        _ => "linux-x64",
    };

    private static Dictionary<string, List<string>> ParseProbe(string output)
    {
        var values = new Dictionary<string, List<string>>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                string key = line[..eq];
                if (!values.TryGetValue(key, out List<string>? list))
                {
                    values[key] = list = [];
                }
                list.Add(line[(eq + 1)..]);
            }
        }
        return values;
    }
}
