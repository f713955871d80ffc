using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Rpyc.Figures.Peers;

/// <summary>Runs a script of tests/python (bench_client.py by default) and returns the JSON object it prints.</summary>
internal static class PythonClient
{
    public static JsonDocument Run(string python, string repoRoot, IEnumerable<string> arguments, TimeSpan timeout, string scriptName = "bench_client.py")
    {
        string script = Path.Combine(repoRoot, "tests", "python", scriptName);
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(info) ?? throw new FiguresException($"Could not start {python} {script}.");
        ChildProcesses.Track(process);
        var stdout = new StringBuilder();
        var stderr = new StderrTail();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) => stderr.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            ChildProcesses.Kill(process);
            throw new FiguresException($"{scriptName} did not finish within {timeout.TotalSeconds:0} s. stderr: {stderr}");
        }
        // The parameterless wait flushes the redirected streams.
        process.WaitForExit();
        ChildProcesses.Kill(process);
        if (process.ExitCode != 0)
        {
            throw new FiguresException($"{scriptName} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}. stderr: {stderr}");
        }
        string text;
        lock (stdout)
        {
            text = stdout.ToString();
        }
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new FiguresException($"{scriptName} printed something that is not JSON: {text}", ex);
        }
    }
}
