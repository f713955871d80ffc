using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Rpyc.Bench;

// Small /proc files read into a caller's buffer and parsed as bytes. The samplers that use this run
// beside the measured phases, every 50-100 ms, in the client process: File.ReadAllText and Split
// made them allocate ~7 MB/s (gen-0 collections that stop the measuring thread too) and cost ~3 ms
// of CPU per pass, a stall on one of the two CPUs every 50 ms. Only the path string is allocated now.
internal static class ProcFs
{
    // /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) names a thread's child processes; without it
    // finding a process's descendants means reading every process's stat.
    public static readonly bool HasChildrenFiles = File.Exists("/proc/thread-self/children");

    // A thread's /proc/.../schedstat: nanoseconds on a CPU, then nanoseconds runnable but waiting on
    // a run queue (then the number of time slices, not read). False when the thread is gone or the
    // kernel has no schedstat.
    public static bool TryReadSchedstat(string path, out long onCpu, out long waiting)
    {
        onCpu = 0;
        waiting = 0;
        Span<byte> text = stackalloc byte[128];
        Span<long> fields = stackalloc long[2];
        int length = Read(path, text);
        if (length <= 0 || Numbers(text[..length], fields) < 2)
        {
            return false;
        }
        onCpu = fields[0];
        waiting = fields[1];
        return true;
    }

    // Reads a whole small file (up to buffer.Length bytes); -1 when it is gone or unreadable.
    public static int Read(string path, Span<byte> buffer)
    {
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            int total = 0;
            while (total < buffer.Length)
            {
                int read = RandomAccess.Read(file, buffer[total..], total);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
            return total;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    // The numeric fields of a /proc/PID[/task/TID]/stat line after the command name: fields[0] is
    // field 3 of proc(5) (state, a letter: 0 here), fields[1] field 4 (ppid), and so on. The command
    // name may hold spaces and parentheses, so parsing starts after the last ')'. Returns the count.
    public static int StatFields(ReadOnlySpan<byte> stat, Span<long> fields)
    {
        int close = stat.LastIndexOf((byte)')');
        if (close < 0 || close + 2 > stat.Length)
        {
            return 0;
        }
        return Numbers(stat[(close + 2)..], fields);
    }

    // Space-separated integers (a field that is not one, such as the state letter, becomes 0).
    public static int Numbers(ReadOnlySpan<byte> text, Span<long> values)
    {
        int count = 0;
        while (count < values.Length)
        {
            text = text.TrimStart((byte)' ');
            if (text.IsEmpty || text[0] == (byte)'\n')
            {
                break;
            }
            int end = text.IndexOfAny((byte)' ', (byte)'\n');
            ReadOnlySpan<byte> field = end < 0 ? text : text[..end];
            values[count++] = long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : 0;
            text = end < 0 ? default : text[end..];
        }
        return count;
    }
}
