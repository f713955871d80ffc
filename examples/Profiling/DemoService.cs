namespace Rpyc.Examples.Profiling;

/// <summary>The service the examples profile (the original's BenchmarkService, plus what the advanced examples need).</summary>
public sealed class DemoService : RpycService
{
    [Exposed] public string Ping() => "pong";

    [Exposed] public byte[] Echo(byte[] data) => data;

    [Exposed] public long Upload(byte[] data) => data.Length;

    [Exposed] public byte[] Download(long size) => new byte[size];

    [Exposed] public long Compute(long n)
    {
        long sum = 0;
        for (long i = 0; i < n; i++)
        {
            sum += i * i;
        }
        return sum;
    }

    [Exposed] public PyTuple BatchCompute(long[] items) => PyTuple.From(items.Select(n => (object?)Compute(n)));

    [Exposed] public double Sleep(double seconds)
    {
        // Simulated slow work on the server.
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        return seconds;
    }

    [Exposed] public long CallBack(Func<long, long> fn, long x) => fn(x) + 1;

    [Exposed] public RemoteObject GetObject() => new();

    [Exposed] public List<object> GetItems(long n) => [.. Enumerable.Range(0, (int)n).Select(i => (object)(long)i)];

    [Exposed] public PyTuple GetItemsByValue(long n) => PyTuple.From(Enumerable.Range(0, (int)n).Select(i => (object?)(long)i));

    [Exposed] public Settings Config { get; } = new();
}

/// <summary>An object passed by reference: each method call is a round trip.</summary>
public sealed class RemoteObject
{
    [Exposed] public string MethodA() => "result_a";

    [Exposed] public string MethodB() => MethodA();
}

/// <summary>Nested configuration reached by attribute: <c>root.config.database.pool.size</c>.</summary>
public sealed class Settings
{
    [Exposed] public DatabaseSettings Database { get; } = new();
}

/// <summary>A level of <see cref="Settings"/>.</summary>
public sealed class DatabaseSettings
{
    [Exposed] public PoolSettings Pool { get; } = new();
}

/// <summary>A level of <see cref="Settings"/>.</summary>
public sealed class PoolSettings
{
    [Exposed] public long Size { get; } = 16;
}
