using System.Text;

namespace Rpyc.Bench;

// A child's standard output read to its end in the background and kept whole (ErrorLines keeps
// standard error's first and last lines): when the end never comes, because a process the child
// started holds the pipe open, what was read so far can still be taken. Whole, because it is the
// command's result; a failure message quotes its End only.
internal sealed class OutputText
{
    internal const int EndChars = 2_000;
    private readonly StringBuilder _text = new();
    private readonly Task _reading;

    private OutputText(StreamReader reader) => _reading = ReadAsync(reader);

    public static OutputText Read(StreamReader reader) => new(reader);

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    // For a failure message: the trimmed text's last EndChars characters (where a failing command
    // says why), with a count of those before.
    public string End
    {
        get
        {
            string text = Text.Trim();
            return text.Length <= EndChars ? text : $"({text.Length - EndChars} characters before) ...{text[^EndChars..]}";
        }
    }

    // Whether the end of the stream came within the timeout.
    public bool WaitForEnd(TimeSpan timeout) => _reading.Wait(timeout, CancellationToken.None);

    private async Task ReadAsync(StreamReader reader)
    {
        char[] buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false)) > 0)
            {
                lock (_text)
                {
                    _text.Append(buffer, 0, read);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The process was disposed while the pipe was still open: what was read is all there is.
        }
    }
}
