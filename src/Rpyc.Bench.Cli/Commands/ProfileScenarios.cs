using Rpyc.Bench;

namespace Rpyc.Bench.Cli.Commands;

/// <summary>A scripted scenario of <c>rpycbench profile scenario</c>.</summary>
/// <param name="Name">The name on the command line.</param>
/// <param name="Description">One line for the help text and the report header.</param>
/// <param name="Build">
/// Makes the scenario for a number of iterations; <c>section</c> opens a named telemetry section
/// (only <c>mixed</c> uses it, to count each part apart).
/// </param>
internal sealed record ProfileScenario(string Name, string Description, Func<int, Func<string, IDisposable>, Action<dynamic>> Build);

/// <summary>
/// The scenarios, each a short <see cref="Action{T}"/> on the root of a server that serves the
/// benchmark service (the .NET <see cref="BenchService"/> or Python's <c>rpyc_server.py</c>).
/// Every reply is checked: a wrong one fails the scenario (and the run, exit 1).
/// </summary>
internal static class ProfileScenarios
{
    /// <summary>Payload sizes of <c>transfer</c>: 1 KiB, 100 KiB and 1 MiB.</summary>
    public static readonly int[] TransferSizes = [1024, 100 * 1024, 1024 * 1024];

    /// <summary><c>chunks</c> downloads 1 MiB as a tuple of 64 KiB bytes objects.</summary>
    public const int ChunksTotal = 1024 * 1024;

    /// <summary>The chunk size of <c>chunks</c>.</summary>
    public const int ChunkSize = 64 * 1024;

    public static IReadOnlyList<ProfileScenario> All { get; } =
    [
        new("ping", "N calls of root.ping(): one CALLATTR round trip each.", (n, _) => root => Ping(root, n)),
        new("attribute-style", "N times 'var m = root.ping; m()' as Python code does it: GETATTR + CALL round trips and a DEL per call.", (n, _) => root => AttributeStyle(root, n)),
        new("transfer", "N uploads and N downloads of 1 KiB, 100 KiB and 1 MiB each.", (n, _) => root => Transfer(root, n)),
        new("chunks", "N calls of download_chunks(1 MiB, 64 KiB), which returns a tuple of 16 bytes objects by value.", (n, _) => root => Chunks(root, n)),
        new("mixed", "All of the above in turn, each in its own section of the report.", (n, section) => root => Mixed(root, n, section)),
    ];

    public static string Names => string.Join(", ", All.Select(s => s.Name));

    public static ProfileScenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    // root.ping() is a method call on the root proxy: the client sends CALLATTR(root, "ping").
    private static void Ping(dynamic root, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            object? reply = root.ping();
            Expect(reply is "pong", $"ping() returned {reply ?? "None"}, not 'pong'");
        }
    }

    // What 'm = conn.root.ping; m()' does in Python: GETATTR returns a proxy of the bound method
    // (a netref), CALL invokes it, and the proxy is released (DEL, one-way) as soon as it goes
    // out of scope, as CPython's reference counting does. Two round trips instead of one.
    private static void AttributeStyle(dynamic root, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            dynamic method = root.ping;
            object? reply = method();
            (method as IDisposable)?.Dispose();
            Expect(reply is "pong", $"ping() returned {reply ?? "None"}, not 'pong'");
        }
    }

    // upload(data) → len(data) and download(n) → payload(n), per size.
    private static void Transfer(dynamic root, int iterations)
    {
        foreach (int size in TransferSizes)
        {
            byte[] data = Payload.Create(size);
            for (int i = 0; i < iterations; i++)
            {
                object? length = root.upload(data);
                Expect(length is int or long && Convert.ToInt64(length, System.Globalization.CultureInfo.InvariantCulture) == size, $"upload({size} bytes) returned {length ?? "None"}");
                object? reply = root.download(size);
                Expect(reply is byte[] bytes && bytes.Length == size && Payload.Matches(bytes), $"download({size}) returned a wrong payload");
            }
        }
    }

    // download_chunks(n, chunk_size) → a tuple of bytes that concatenate to payload(n); a tuple
    // of plain values comes back by value, in the one reply.
    private static void Chunks(dynamic root, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            object? reply = root.download_chunks(ChunksTotal, ChunkSize);
            Expect(reply is PyTuple, $"download_chunks returned {reply?.GetType().Name ?? "None"}, not a tuple");
            byte[] joined = [.. ((PyTuple)reply!).SelectMany(c => c as byte[] ?? [])];
            Expect(((PyTuple)reply!).Count == ChunksTotal / ChunkSize && joined.Length == ChunksTotal && Payload.Matches(joined), "download_chunks returned wrong chunks");
        }
    }

    private static void Mixed(dynamic root, int iterations, Func<string, IDisposable> section)
    {
        foreach (ProfileScenario part in All.Where(s => s.Name != "mixed"))
        {
            using (section(part.Name))
            {
                part.Build(iterations, section)(root);
            }
        }
    }

    private static void Expect(bool ok, string message)
    {
        if (!ok)
        {
            throw new InvalidReplyException(message);
        }
    }
}
