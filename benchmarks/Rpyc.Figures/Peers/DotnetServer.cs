using System.Diagnostics;

namespace Rpyc.Figures.Peers;

/// <summary>
/// This executable in its hidden <c>--serve-threaded</c> / <c>--serve-forking</c> mode: a .NET server
/// in a process of its own (see <c>Hosting/ServeMode.cs</c>). It stops when its stdin closes.
/// </summary>
internal static class DotnetServer
{
    /// <param name="forking">A ForkingServer instead of a ThreadedServer.</param>
    /// <param name="timeout">How long it may take to listen.</param>
    /// <param name="spinMicros">The server connections' ReceiveSpin in microseconds (0: none, the default).</param>
    public static ServerProcess Start(bool forking, TimeSpan timeout, int spinMicros = 0)
    {
        string self = Environment.ProcessPath ?? throw new FiguresException("Cannot tell which executable this process runs.");
        var info = new ProcessStartInfo(self);
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.Ordinal))
        {
            // Started as 'dotnet Rpyc.Figures.dll': start the child the same way.
            info.ArgumentList.Add(typeof(DotnetServer).Assembly.Location);
        }
        info.ArgumentList.Add(forking ? "--serve-forking" : "--serve-threaded");
        info.ArgumentList.Add("--spin-us");
        info.ArgumentList.Add(spinMicros.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string spin = spinMicros > 0 ? $", {spinMicros} us receive spin" : "";
        return ServerProcess.Start($".NET {(forking ? "ForkingServer" : "ThreadedServer")} host{spin}", info, timeout, stopsOnStdinClose: true);
    }
}
