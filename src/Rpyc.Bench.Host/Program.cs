using System.Globalization;
using Rpyc;
using Rpyc.Bench;

// rpycbench-host [serve] TARGET [--host H] [--port P] [--receive-spin-us US] [--watch-stdin]
// The server process the suite's ServerHost starts (found beside the application, as ForkingServer
// finds rpyc-worker.dll): serves one target, prints "PORT <n>" once it answers, and exits when its
// standard input closes, on SIGTERM or on Ctrl-C. Exit codes: 0 stopped, 1 failed to start, 2 bad usage.
// The optional verb keeps its command line that of 'rpycbench serve TARGET …', which it replaces as the suite's child.
const string Usage = "usage: rpycbench-host [serve] TARGET [--host 127.0.0.1] [--port 0] [--receive-spin-us 50] [--watch-stdin]";

string? target = null;
string host = "127.0.0.1";
int port = 0;
double spinUs = 50; // serve's default (SuiteOptions.DefaultReceiveSpin); the suite always passes its own
bool watchStdin = false;
for (int i = args is ["serve", ..] ? 1 : 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--host" when i + 1 < args.Length:
            host = args[++i];
            break;
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535:
            i++;
            break;
        case "--receive-spin-us" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out spinUs)
            && spinUs <= RpycConnectOptions.MaxReceiveSpin.TotalMicroseconds:
            i++;
            break;
        case "--watch-stdin":
            watchStdin = true;
            break;
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        case string arg when !arg.StartsWith('-') && target is null:
            target = arg;
            break;
        default:
            return BadUsage(i + 1 < args.Length && args[i].StartsWith('-') ? $"Bad value for {args[i]}: '{args[i + 1]}'." : $"Unexpected argument '{args[i]}'.");
    }
}
if (target is null)
{
    return BadUsage("No target given.");
}
if (!TargetCatalog.IsKnown(target))
{
    return BadUsage($"Unknown target '{target}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.");
}
return LocalServer.Serve(target, host, port, TimeSpan.FromMicroseconds(spinUs), watchStdin, Console.Out, Console.Error);

static int BadUsage(string message)
{
    Console.Error.WriteLine($"rpycbench-host: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
