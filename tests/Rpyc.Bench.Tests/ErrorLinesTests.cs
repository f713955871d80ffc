using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// A remote server that fails says why on its standard error, read in the background: the report
// must get all of it, the last line included, without waiting forever for a pipe that stays open.
public sealed class ErrorLinesTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void WaitForExit_LinesStillUnreadAtTheExit_AllInTheText()
    {
        // The last line comes after the shell exits (its background job still holds the pipe): the
        // reader has not seen it when the exit is noticed.
        using Process process = Start("(sleep 0.5; echo 'Error: cannot bind 192.0.2.1' >&2) & echo starting >&2; exit 1");
        ErrorLines stderr = ErrorLines.Attach(process);
        Assert.True(stderr.WaitForExit(s_timeout));
        Assert.Equal("starting Error: cannot bind 192.0.2.1", stderr.Text);
    }

    [Fact]
    public void WaitForExit_LongOutput_FirstAndLastLinesInTheText()
    {
        using Process process = Start("i=1; while [ $i -le 300 ]; do echo \"warning $i\" >&2; i=$((i+1)); done; echo 'Error: the cause' >&2; exit 1");
        ErrorLines stderr = ErrorLines.Attach(process);
        Assert.True(stderr.WaitForExit(s_timeout));
        Assert.StartsWith("warning 1 warning 2 ", stderr.Text, StringComparison.Ordinal);
        Assert.EndsWith(" warning 300 Error: the cause", stderr.Text, StringComparison.Ordinal);
        Assert.Contains(" lines left out) ", stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitForExit_BothStreamsWithALateLine_EachStreamReadToItsEnd()
    {
        // dotnet publish's two streams, each kept apart: the wait covers the end of both, the late
        // error line included, and each keeps its own first and last lines.
        using Process process = Start(
            "(exec >/dev/null; sleep 0.5; echo 'Build FAILED.' >&2) & i=1; while [ $i -le 100 ]; do echo \"out $i\"; i=$((i+1)); done; echo 'error CS1002' >&2; exit 1",
            output: true);
        ErrorLines stdout = ErrorLines.AttachOutput(process);
        ErrorLines stderr = ErrorLines.Attach(process);
        Assert.True(ErrorLines.WaitForExit(s_timeout, stdout, stderr));
        Assert.StartsWith("out 1\nout 2\n", stdout.Join("\n"), StringComparison.Ordinal);
        Assert.Contains("\nout 20\n(50 lines left out)\nout 71\n", stdout.Join("\n"), StringComparison.Ordinal);
        Assert.EndsWith("\nout 100", stdout.Join("\n"), StringComparison.Ordinal);
        Assert.Equal("error CS1002\nBuild FAILED.", stderr.Join("\n"));
    }

    [Fact]
    public void WaitForExit_PipeNeverCloses_ReturnsWithTheLinesRead()
    {
        string pidFile = Path.GetTempFileName();
        using Process process = Start($"sleep 600 & echo $! > '{pidFile}'; echo 'Error: the cause' >&2; exit 1");
        try
        {
            ErrorLines stderr = ErrorLines.Attach(process);
            // The sleep keeps the pipe open for 10 minutes: the wait gives up on the end of it.
            Assert.True(stderr.WaitForExit(TimeSpan.FromSeconds(2)));
            Assert.Equal("Error: the cause", stderr.Text);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }

    // 5,000,000 characters without a newline were kept whole, and in the message.
    [Fact]
    public void WaitForExit_VeryLongLine_ItsStartKeptAndTheRestCounted()
    {
        using Process process = Start("head -c 5000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'Error: the cause' >&2; exit 1");
        ErrorLines stderr = ErrorLines.Attach(process);
        Assert.True(stderr.WaitForExit(s_timeout));
        string kept = new('x', ErrorLines.MaxLineChars);
        Assert.Equal($"{kept} ... ({5_000_000 - ErrorLines.MaxLineChars} more characters) Error: the cause", stderr.Text);
    }

    // A line that never ends: read by whole lines, nothing came while memory grew with it. Its start
    // and a growing count show while the child still writes.
    [Fact]
    public void Text_LineWithoutEnd_BoundedWhileTheChildStillWrites()
    {
        using Process process = Start("exec tr '\\0' x < /dev/zero >&2");
        try
        {
            ErrorLines stderr = ErrorLines.Attach(process);
            string text = "";
            Assert.True(SpinWait.SpinUntil(() => (text = stderr.Text).Contains(" more characters)", StringComparison.Ordinal), s_timeout), $"nothing of the line after {s_timeout.TotalSeconds} s: '{text}'");
            Assert.StartsWith(new string('x', ErrorLines.MaxLineChars) + " ... (", text, StringComparison.Ordinal);
            Assert.True(text.Length < ErrorLines.MaxLineChars + 40, $"{text.Length} characters kept");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void WaitForExit_CarriageReturnsAndNoFinalNewline_EachALine()
    {
        using Process process = Start("printf 'one\\rtwo\\r\\nthree\\n\\nfour' >&2; exit 1");
        ErrorLines stderr = ErrorLines.Attach(process);
        Assert.True(stderr.WaitForExit(s_timeout));
        Assert.Equal("one|two|three||four", stderr.Join("|"));
    }

    // A server's 'PORT n' is acted on as it comes, before the stream ends; a line without an end
    // before it reaches the callback bounded as the kept lines are.
    [Fact]
    public async Task AttachOutput_LineCallback_EachLineHandedOverAsItComesAndBounded()
    {
        using Process process = Start("head -c 5000 /dev/zero | tr '\\0' x; printf '\\nPORT 4242\\n'; exec sleep 600", output: true);
        try
        {
            var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var port = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ErrorLines stdout = ErrorLines.AttachOutput(process, line =>
            {
                lines.Enqueue(line);
                if (line == "PORT 4242")
                {
                    port.TrySetResult();
                }
            });
            // The sleep keeps stdout open: the port line must come before the stream's end.
            Assert.True(await Task.WhenAny(port.Task, Task.Delay(s_timeout)) == port.Task, $"no PORT line handed over in {s_timeout.TotalSeconds} s: {string.Join("|", lines)}");
            Assert.False(stdout.Ended.IsCompleted);
            Assert.Equal([$"{new string('x', ErrorLines.MaxLineChars)} ... ({5000 - ErrorLines.MaxLineChars} more characters)", "PORT 4242"], lines);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static Process Start(string script, bool output = false) =>
        Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { UseShellExecute = false, RedirectStandardOutput = output, RedirectStandardError = true })!;
}
