using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Rpyc.Bench;

/// <summary>Runs <c>wrk</c> (Debian package) against an HTTP target: the reference for the load generator.</summary>
public static partial class WrkProbe
{
    /// <summary>The wrk executable found on PATH, or <c>null</c>.</summary>
    public static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "wrk");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs wrk on <c>GET /ping</c> and parses its requests per second.</summary>
    /// <param name="wrk">The wrk executable.</param>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="connections">Connections (<c>-c</c>).</param>
    /// <param name="duration">Run length.</param>
    /// <param name="cancellationToken">Kills wrk early.</param>
    /// <returns>The result, or <c>null</c> when wrk failed.</returns>
    public static WrkResult? Run(string wrk, string host, int port, int connections, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, connections));
        var start = new ProcessStartInfo(wrk) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s", $"http://{RemoteEndpoint.HostPort(host, port)}/ping" })
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start)!;
        // Both read whole on purpose, not through ErrorLines: stdout is wrk's summary (about ten
        // lines, the Requests/sec line near its end, parsed from the whole text) and stderr a line or
        // so (an address it cannot resolve, a thread it cannot start), read only to keep its pipe
        // drained. wrk starts no process that could hold the pipes open after it exits.
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        using (cancellationToken.Register(() => KillQuietly(process)))
        {
            if (!process.WaitForExit((int)duration.TotalMilliseconds + 15_000))
            {
                KillQuietly(process);
                return null;
            }
        }
        process.WaitForExit();
        Match match = RequestsPerSecond().Match(output.Result);
        if (process.ExitCode != 0 || !match.Success)
        {
            return null;
        }
        _ = stderr.Result;
        return new WrkResult
        {
            RequestsPerSecond = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
            Connections = connections,
            Threads = threads,
            Seconds = Math.Max(1, (int)duration.TotalSeconds),
            Path = "/ping",
        };
    }

    /// <summary>wrk's version line, or <c>null</c>.</summary>
    /// <param name="wrk">The wrk executable.</param>
    /// <returns>e.g. <c>wrk 4.1.0</c>.</returns>
    public static string? Version(string wrk)
    {
        try
        {
            var start = new ProcessStartInfo(wrk, "-v") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            // One stream after the other: 'wrk -v' prints its version line and usage (about 1 KB),
            // far less than a pipe holds, so stderr cannot fill while stdout is read.
            string text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit(5000);
            string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            int space = line.IndexOf(" [", StringComparison.Ordinal);
            return space > 0 ? line[..space] : line.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();
}
