using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Rpyc.Figures.Peers;

/// <summary>
/// The Python processes this command started. Each is killed when its scenario ends, and any still
/// running when this process is stopped (Ctrl+C, SIGTERM) are killed on the way out.
/// </summary>
internal static class ChildProcesses
{
    private static readonly List<Process> s_live = [];
    // Held so the registrations live as long as the process; a collected registration unregisters.
    private static readonly List<PosixSignalRegistration> s_signals = [];

    public static void Track(Process process)
    {
        lock (s_live)
        {
            if (s_signals.Count == 0)
            {
                // SIGTERM does not raise ProcessExit on its own: hook the signals, kill the children,
                // then let the default handling stop this process.
                foreach (PosixSignal signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
                {
                    s_signals.Add(PosixSignalRegistration.Create(signal, _ => KillAll()));
                }
                AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
            }
            s_live.Add(process);
        }
    }

    public static void Kill(Process process)
    {
        lock (s_live)
        {
            s_live.Remove(process);
        }
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.WaitForExit(5_000);
        }
        catch (InvalidOperationException)
        {
            // Already disposed or reaped.
        }
    }

    private static void KillAll()
    {
        Process[] live;
        lock (s_live)
        {
            live = [.. s_live];
        }
        foreach (Process process in live)
        {
            Kill(process);
        }
    }
}
