using System.Diagnostics;

namespace Rpyc.Bench;

// A child's standard error read line by line in the background (ssh running a remote server), for
// the message that says why it failed: the first lines and the last ones (where a traceback or an
// unhandled exception ends), with a count of those left out between, so a chatty child stays bounded.
// Standard output can be kept the same way (dotnet publish writes its errors there), by a second
// instance: one per stream, so that each stream's last lines are kept, however their reads interleave.
internal sealed class ErrorLines
{
    private const int HeadLines = 20;
    private const int TailLines = 30;

    private readonly object _lock = new();
    private readonly List<string> _head = [];
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;
    private long _leftOut;

    private ErrorLines(Process process) => _process = process;

    public static ErrorLines Attach(Process process)
    {
        var lines = new ErrorLines(process);
        process.ErrorDataReceived += (_, e) => lines.Add(e.Data);
        process.BeginErrorReadLine();
        return lines;
    }

    public static ErrorLines AttachOutput(Process process)
    {
        var lines = new ErrorLines(process);
        process.OutputDataReceived += (_, e) => lines.Add(e.Data);
        process.BeginOutputReadLine();
        return lines;
    }

    // Waits for the exit, then for the end of every stream given, all within the one timeout.
    public static bool WaitForExit(TimeSpan timeout, params ReadOnlySpan<ErrorLines> streams)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        foreach (ErrorLines stream in streams)
        {
            if (!stream.WaitForExit(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64))))
            {
                return false;
            }
        }
        return true;
    }

    // Waits for the exit, then for the end of the stream, both within the timeout. WaitForExit(int)
    // returns as soon as the child is gone, before the reader has handed over what is still in the
    // pipe (only the parameterless overload waits for it, and forever if a grandchild keeps the pipe
    // open): the last lines, which say why, were lost.
    public bool WaitForExit(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        _end.Task.Wait(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)), CancellationToken.None);
        return true;
    }

    // On one line, for a message that is one sentence.
    public string Text => Join(" ");

    // The first lines, "(N lines left out)" when some were, and the last lines.
    public string Join(string separator)
    {
        lock (_lock)
        {
            IEnumerable<string> leftOut = _leftOut > 0 ? [$"({_leftOut} lines left out)"] : [];
            return string.Join(separator, _head.Concat(leftOut).Concat(_tail)).Trim();
        }
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            _end.TrySetResult();
            return;
        }
        lock (_lock)
        {
            if (_head.Count < HeadLines)
            {
                _head.Add(line);
                return;
            }
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
                _leftOut++;
            }
        }
    }
}
