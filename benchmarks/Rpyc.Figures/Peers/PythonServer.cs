using System.Diagnostics;

namespace Rpyc.Figures.Peers;

/// <summary>tests/python/demo_server.py (a stock rpyc ThreadedServer or ForkingServer) on 127.0.0.1 and an ephemeral port.</summary>
internal static class PythonServer
{
    public static ServerProcess Start(string python, string repoRoot, TimeSpan timeout, bool forking = false)
    {
        string script = Path.Combine(repoRoot, "tests", "python", "demo_server.py");
        var info = new ProcessStartInfo(python);
        info.ArgumentList.Add("-u");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("--host");
        info.ArgumentList.Add("127.0.0.1");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        if (forking)
        {
            info.ArgumentList.Add("--forking");
        }
        return ServerProcess.Start($"demo_server.py{(forking ? " --forking" : "")}", info, timeout, stopsOnStdinClose: false);
    }
}
