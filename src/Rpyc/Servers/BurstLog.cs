using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Servers;

// One log line per burst of the same event (a refused or timed-out connection), however many there
// are: the first is logged at once, the rest are counted and summed up once per window, so a flood of
// peers cannot flood the log too. Dispose logs what is still counted.
internal sealed class BurstLog : IDisposable
{
    private readonly string _prefix;
    private readonly string _verb;
    private readonly Func<string> _reason;
    private readonly TimeSpan _window;
    private readonly object _gate = new();
    private readonly Timer _timer;
    private bool _inBurst;
    private bool _disposed;
    private int _counted;
    private long _since;

    // Lines read "<prefix><verb> a connection: <reason>; ..." then "<prefix><verb> N connection(s) in
    // the last X s: <reason>."; the reason is computed when a line is written, so it names current figures.
    public BurstLog(string prefix, string verb, Func<string> reason, TimeSpan window)
    {
        _prefix = prefix;
        _verb = verb;
        _reason = reason;
        _window = window;
        _timer = new Timer(_ => Flush(rearm: true));
    }

    public static TimeSpan DefaultWindow { get; } = TimeSpan.FromSeconds(5);

    public void Record()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            if (_inBurst)
            {
                _counted++;
                return;
            }
            _inBurst = true;
            _since = Stopwatch.GetTimestamp();
            _timer.Change(_window, Timeout.InfiniteTimeSpan);
        }
        RpycLog.Warn($"{_prefix}{_verb} a connection: {_reason()}; further ones are summed up every {Seconds(_window)} s.");
    }

    private void Flush(bool rearm)
    {
        int count;
        TimeSpan span;
        lock (_gate)
        {
            if (!_inBurst)
            {
                return;
            }
            count = _counted;
            span = Stopwatch.GetElapsedTime(_since);
            _counted = 0;
            _since = Stopwatch.GetTimestamp();
            // A window without events ends the burst: the next event is logged at once again.
            _inBurst = count > 0 && rearm;
            if (_inBurst && !_disposed)
            {
                _timer.Change(_window, Timeout.InfiniteTimeSpan);
            }
        }
        if (count > 0)
        {
            RpycLog.Warn($"{_prefix}{_verb} {count.ToString(CultureInfo.InvariantCulture)} connection(s) in the last {Seconds(span)} s: {_reason()}.");
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _timer.Dispose();
        }
        Flush(rearm: false);
    }
}
