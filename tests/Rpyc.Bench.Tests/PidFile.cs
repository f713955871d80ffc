using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Bench.Tests;

// A process a test's shell script left running (`sleep 600 & echo $! > FILE`, to hold a pipe open),
// found by the pid it wrote: stopped, and the file removed.
internal static class PidFile
{
    public static void KillAndDelete(string pidFile, TimeSpan timeout)
    {
        if (int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            using Process leftover = Process.GetProcessById(pid);
            leftover.Kill();
            leftover.WaitForExit(timeout);
        }
        File.Delete(pidFile);
    }
}
