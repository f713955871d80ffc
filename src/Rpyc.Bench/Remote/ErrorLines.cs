using System.Diagnostics;
using System.Text;

namespace Rpyc.Bench;

// A child's standard error read line by line in the background (ssh running a remote server), for
// the message that says why it failed: the first lines and the last ones (where a traceback or an
// unhandled exception ends), with a count of those left out between, so a chatty child stays bounded.
// Standard output can be kept the same way (dotnet publish writes its errors there), by a second
// instance: one per stream, so that each stream's last lines are kept, however their reads interleave.
// Each line is bounded too: its first MaxLineChars characters and how many more it had. A reader
// that must act on a line as it comes (a server's 'PORT n' on startup) is handed each one, bounded
// the same way, on the reading task.
internal sealed class ErrorLines
{
    private const int HeadLines = 20;
    private const int TailLines = 30;
    internal const int MaxLineChars = 2_000;

    private readonly object _lock = new();
    private readonly List<string> _head = [];
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;
    private readonly Action<string>? _onLine;
    // Lines ended in the block just scanned, handed to _onLine outside the lock.
    private readonly List<string> _ended = [];
    // The line being read: its first MaxLineChars characters, and a count of the rest.
    private readonly StringBuilder _line = new();
    private long _lineMore;
    private bool _afterCarriageReturn;
    private long _leftOut;

    private ErrorLines(Process process, StreamReader reader, Action<string>? onLine)
    {
        _process = process;
        _onLine = onLine;
        _ = ReadAsync(reader);
    }

    public static ErrorLines Attach(Process process, Action<string>? onLine = null) => new(process, process.StandardError, onLine);

    public static ErrorLines AttachOutput(Process process, Action<string>? onLine = null) => new(process, process.StandardOutput, onLine);

    // Completes at the end of the stream (or when its pipe went with the process), after every line
    // was handed over.
    public Task Ended => _end.Task;

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
    // returns as soon as the child is gone, before the reader has read what is still in the pipe
    // (forever there if a grandchild keeps it open): the last lines, which say why, were lost.
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

    // The first lines, "(N lines left out)" when some were, the last lines, and the line being read.
    public string Join(string separator)
    {
        lock (_lock)
        {
            IEnumerable<string> leftOut = _leftOut > 0 ? [$"({_leftOut} lines left out)"] : [];
            IEnumerable<string> current = _line.Length > 0 || _lineMore > 0 ? [CurrentLine()] : [];
            return string.Join(separator, _head.Concat(leftOut).Concat(_tail).Concat(current)).Trim();
        }
    }

    // Not BeginErrorReadLine or ReadLine: both hand over whole lines only, so a child writing
    // megabytes without a newline had them all buffered (and then kept) before the first line came.
    // Line ends as theirs: \n, \r or \r\n; a last line without one still counts.
    private async Task ReadAsync(StreamReader reader)
    {
        char[] buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
            {
                lock (_lock)
                {
                    Scan(buffer.AsSpan(0, read));
                }
                HandOver();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe went with the process (disposed by its owner): what was read is kept.
        }
        finally
        {
            lock (_lock)
            {
                if (_line.Length > 0 || _lineMore > 0)
                {
                    EndLine();
                }
            }
            HandOver();
            _end.TrySetResult();
        }
    }

    private void Scan(ReadOnlySpan<char> chars)
    {
        while (!chars.IsEmpty)
        {
            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (chars[0] == '\n')
                {
                    chars = chars[1..];
                    continue;
                }
            }
            int end = chars.IndexOfAny('\r', '\n');
            ReadOnlySpan<char> text = end < 0 ? chars : chars[..end];
            int room = Math.Min(text.Length, MaxLineChars - _line.Length);
            _line.Append(text[..room]);
            _lineMore += text.Length - room;
            if (end < 0)
            {
                return;
            }
            _afterCarriageReturn = chars[end] == '\r';
            EndLine();
            chars = chars[(end + 1)..];
        }
    }

    private void HandOver()
    {
        if (_onLine is null)
        {
            return;
        }
        foreach (string line in _ended)
        {
            _onLine(line);
        }
        _ended.Clear();
    }

    private string CurrentLine() => _lineMore > 0 ? $"{_line} ... ({_lineMore} more characters)" : _line.ToString();

    private void EndLine()
    {
        string line = CurrentLine();
        _line.Clear();
        _lineMore = 0;
        if (_onLine is not null)
        {
            _ended.Add(line);
        }
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
