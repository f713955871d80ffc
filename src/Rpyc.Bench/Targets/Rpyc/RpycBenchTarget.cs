using System.Numerics;

namespace Rpyc.Bench;

/// <summary>An RPyC server with the benchmark service (the .NET one or Python's).</summary>
/// <param name="name">The report key.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
/// <param name="options">Connection options, or <c>null</c> for the defaults.</param>
public sealed class RpycBenchTarget(string name, string host, int port, RpycConnectOptions? options = null)
    : BenchTarget(name, "rpyc", host, port)
{
    /// <summary>
    /// Attach an <see cref="RpycTelemetry"/> with the default options to each connection before its
    /// first request, as <see cref="RpycProfiler.CreateProfiledConnection"/> does; the client's
    /// <see cref="RpycBenchClient.Telemetry"/> holds it. Default <c>false</c>.
    /// </summary>
    public bool Profiled { get; init; }

    /// <summary>
    /// While a client is open, listen to the <c>Rpyc</c> ActivitySource and Meter as an
    /// OpenTelemetry SDK does (every activity sampled, every measurement read), with no recorder
    /// attached: the cost of OpenTelemetry alone. Default <c>false</c>.
    /// </summary>
    public bool InstrumentationListened { get; init; }

    /// <inheritdoc />
    public override BenchClient Connect()
    {
        if (InstrumentationListened)
        {
            IDisposable listening = InstrumentationListening.Start();
            try
            {
                return new RpycBenchClient(RpycConnection.Connect(Host, Port, options)) { Listening = listening };
            }
            catch
            {
                listening.Dispose();
                throw;
            }
        }
        if (!Profiled)
        {
            return new RpycBenchClient(RpycConnection.Connect(Host, Port, options));
        }
        var telemetry = new RpycTelemetry();
        return new RpycBenchClient(RpycProfiler.CreateProfiledConnection(Host, Port, telemetry, options)) { Telemetry = telemetry };
    }
}

/// <summary>
/// Calls the benchmark service through <see cref="Netref.CallMethod(string, object?[])"/>: one
/// <c>HANDLE_CALLATTR</c> round trip per call, counted exactly by <see cref="RpycConnection.Counters"/>.
/// </summary>
public sealed class RpycBenchClient : BenchClient
{
    private Netref? _root;

    /// <summary>Wraps an open connection.</summary>
    /// <param name="connection">The connection; the client owns it.</param>
    public RpycBenchClient(RpycConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;
    }

    /// <summary>
    /// The <see cref="RpycConnectOptions.PooledBytesThreshold"/> the suite's clients use: replies of
    /// 4 KiB and more arrive lent from the pool, are checked and given back, as an application
    /// that cares about transfers would do. Not only large ones: a new array per 10 KiB reply is a
    /// gen-0 collection every ~200 transfers, and those made a 10 KiB download's p99 4-5x its p50
    /// (the raw TCP floor's: 2.4-2.9x); the server lends requests from the same size
    /// (RpycConnection.RequestLendThreshold).
    /// </summary>
    public const int PooledBytesThreshold = 4 * 1024;

    /// <summary>The underlying connection.</summary>
    public RpycConnection Connection { get; }

    /// <summary>The telemetry recording the connection's calls (a profiled target's clients), or <c>null</c>.</summary>
    public RpycTelemetry? Telemetry { get; init; }

    // The instrumentation listeners this client keeps on (InstrumentationListened), or null.
    internal IDisposable? Listening { get; init; }

    // The first call also fetches the root (HANDLE_GETROOT), as Python's conn.root does.
    private Netref Root => _root ??= Connection.RootNetref;

    /// <inheritdoc />
    public override long RoundTrips => Connection.Counters.SyncRequests;

    /// <inheritdoc />
    /// <remarks>One: a closed RPyC connection is an error, never reopened.</remarks>
    public override long? ConnectionsOpened => 1;

    /// <inheritdoc />
    public override void Ping()
    {
        object? reply = Root.CallMethod("ping");
        if (reply is not "pong")
        {
            Invalid($"ping returned {Describe(reply)}, expected 'pong'.");
        }
    }

    /// <inheritdoc />
    public override void Echo(byte[] data)
    {
        object? reply = Root.CallMethod("echo", data);
        using Lease lease = new(reply);
        if (!lease.IsBytes || !lease.Span.SequenceEqual(data))
        {
            Invalid($"echo of {data.Length} bytes returned {Describe(reply)}.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        object? reply = Root.CallMethod("upload", data);
        if (reply is not long n || n != data.Length)
        {
            Invalid($"upload of {data.Length} bytes returned {Describe(reply)}.");
        }
    }

    /// <inheritdoc />
    public override void Download(int length)
    {
        object? reply = Root.CallMethod("download", length);
        using Lease lease = new(reply);
        if (!lease.IsBytes || lease.Span.Length != length || !Payload.Matches(lease.Span))
        {
            Invalid($"download({length}) returned {Describe(reply)}, not payload({length}).");
        }
    }

    /// <inheritdoc />
    public override void Compute(int n)
    {
        object? reply = Root.CallMethod("compute", n);
        BigInteger? value = reply switch
        {
            long l => l,
            BigInteger b => b,
            _ => null,
        };
        if (value != ExpectedCompute(n))
        {
            Invalid($"compute({n}) returned {Describe(reply)}.");
        }
    }

    /// <inheritdoc />
    public override void Sleep(double seconds)
    {
        object? reply = Root.CallMethod("sleep", seconds);
        if (reply is not double d || Math.Abs(d - seconds) > 1e-9)
        {
            Invalid($"sleep({seconds}) returned {Describe(reply)}.");
        }
    }

    /// <summary><c>upload_chunks(tuple_of_bytes) → total length</c>.</summary>
    /// <param name="chunks">The chunks, sent as one tuple.</param>
    public void UploadChunks(IReadOnlyList<byte[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        object? reply = Root.CallMethod("upload_chunks", PyTuple.From(chunks));
        long expected = chunks.Sum(c => (long)c.Length);
        if (reply is not long n || n != expected)
        {
            Invalid($"upload_chunks of {expected} bytes returned {Describe(reply)}.");
        }
    }

    /// <summary><c>download_chunks(n, chunk_size) → tuple of bytes</c> making up payload(n).</summary>
    /// <param name="length">Total bytes.</param>
    /// <param name="chunkSize">Bytes per chunk.</param>
    public void DownloadChunks(int length, int chunkSize)
    {
        object? reply = Root.CallMethod("download_chunks", length, chunkSize);
        if (reply is not PyTuple tuple)
        {
            Invalid($"download_chunks returned {Describe(reply)}.");
            return;
        }
        ReadOnlySpan<byte> expected = Payload.Get(length).Span;
        int offset = 0;
        foreach (object? item in tuple)
        {
            using Lease lease = new(item);
            ReadOnlySpan<byte> chunk = lease.Span;
            if (!lease.IsBytes || chunk.Length > chunkSize || offset + chunk.Length > length || !chunk.SequenceEqual(expected.Slice(offset, chunk.Length)))
            {
                Invalid($"download_chunks({length}, {chunkSize}) returned a wrong chunk at offset {offset}.");
                return;
            }
            offset += chunk.Length;
        }
        if (offset != length)
        {
            Invalid($"download_chunks({length}, {chunkSize}) returned {offset} bytes.");
        }
    }

    // A bytes reply, lent (disposed with this) or not.
    private readonly ref struct Lease(object? reply)
    {
        public bool IsBytes => reply is byte[] or PooledBytes { IsDisposed: false };

        public ReadOnlySpan<byte> Span => reply switch
        {
            byte[] bytes => bytes,
            PooledBytes { IsDisposed: false } pooled => pooled.Span,
            _ => default,
        };

        public void Dispose() => (reply as PooledBytes)?.Dispose();
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        byte[] b => $"{b.Length} bytes",
        PooledBytes p => $"{p.Length} bytes (pooled)",
        string s when s.Length > 40 => $"'{s[..40]}…'",
        string s => $"'{s}'",
        _ => $"{value} ({value.GetType().Name})",
    };

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Connection.Dispose();
            Listening?.Dispose();
        }
    }
}
