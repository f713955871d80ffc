using System.Globalization;

namespace Rpyc.Bench;

// One /proc/<pid>/stat line: fields after the ")" of the command name (proc(5)).
internal readonly record struct ProcStat(int Pid, int ParentPid, double UserSeconds, double SystemSeconds, double ChildrenUserSeconds, double ChildrenSystemSeconds, long RssBytes)
{
    // USER_HZ is 100 on every Linux ABI .NET runs on.
    private const double ClockTicksPerSecond = 100;

    // proc(5) field numbers less 3 (ProcFs.StatFields starts at field 3, state).
    private const int ParentPidField = 1;
    private const int UserTimeField = 11;
    private const int RssPagesField = 21;

    public static bool TryRead(int pid, out ProcStat stat)
    {
        stat = default;
        Span<byte> text = stackalloc byte[1024];
        int length = ProcFs.Read($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat", text);
        Span<long> f = stackalloc long[RssPagesField + 1];
        if (length <= 0 || ProcFs.StatFields(text[..length], f) <= RssPagesField)
        {
            return false;
        }
        // utime, stime, cutime, cstime are fields 14-17; rss (pages) is field 24.
        stat = new ProcStat(
            pid,
            (int)f[ParentPidField],
            f[UserTimeField] / ClockTicksPerSecond,
            f[UserTimeField + 1] / ClockTicksPerSecond,
            f[UserTimeField + 2] / ClockTicksPerSecond,
            f[UserTimeField + 3] / ClockTicksPerSecond,
            f[RssPagesField] * Environment.SystemPageSize);
        return true;
    }

    // Every live descendant of root (children, their children, ...), root excluded.
    public static List<ProcStat> Descendants(int root) =>
        ProcFs.HasChildrenFiles ? DescendantsByChildren(root) : DescendantsByScan(root);

    // Follows each thread's children file from root down: a read per thread of the tree instead of
    // one per process on the machine.
    private static List<ProcStat> DescendantsByChildren(int root)
    {
        var result = new List<ProcStat>();
        var seen = new HashSet<int> { root };
        var pending = new Queue<int>();
        pending.Enqueue(root);
        Span<byte> text = stackalloc byte[4096];
        Span<long> children = stackalloc long[512];
        while (pending.TryDequeue(out int pid))
        {
            string task = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task/";
            foreach (int tid in CpuAffinity.Threads(pid))
            {
                int length = ProcFs.Read(task + tid.ToString(CultureInfo.InvariantCulture) + "/children", text);
                int count = length > 0 ? ProcFs.Numbers(text[..length], children) : 0;
                foreach (long child in children[..count])
                {
                    if (seen.Add((int)child) && TryRead((int)child, out ProcStat stat))
                    {
                        result.Add(stat);
                        pending.Enqueue(stat.Pid);
                    }
                }
            }
        }
        return result;
    }

    internal static List<ProcStat> DescendantsByScan(int root)
    {
        var all = new List<ProcStat>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != root && TryRead(pid, out ProcStat stat))
                {
                    all.Add(stat);
                }
            }
        }
        catch (IOException)
        {
        }
        var result = new List<ProcStat>();
        var parents = new HashSet<int> { root };
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (ProcStat stat in all)
            {
                if (!parents.Contains(stat.Pid) && parents.Contains(stat.ParentPid))
                {
                    parents.Add(stat.Pid);
                    result.Add(stat);
                    grew = true;
                }
            }
        }
        return result;
    }
}
