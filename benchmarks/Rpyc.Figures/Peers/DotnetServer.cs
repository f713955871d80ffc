using System.Diagnostics;

namespace Rpyc.Figures.Peers;

/// <summary>
/// This executable in its hidden <c>--serve-threaded</c> / <c>--serve-forking</c> mode: a .NET server
/// in a process of its own (see <c>Hosting/ServeMode.cs</c>). It stops when its stdin closes.
/// </summary>
internal static class DotnetServer
{
    public static ServerProcess Start(bool forking, TimeSpan timeout)
    {
        string self = Environment.ProcessPath ?? throw new FiguresException("Cannot tell which executable this process runs.");
        var info = new ProcessStartInfo(self);
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.Ordinal))
        {
            // Started as 'dotnet Rpyc.Figures.dll': start the child the same way.
            info.ArgumentList.Add(typeof(DotnetServer).Assembly.Location);
        }
        info.ArgumentList.Add(forking ? "--serve-forking" : "--serve-threaded");
        return ServerProcess.Start($".NET {(forking ? "ForkingServer" : "ThreadedServer")} host", info, timeout, stopsOnStdinClose: true);
    }
}
