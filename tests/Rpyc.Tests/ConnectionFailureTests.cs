namespace Rpyc.Tests;

/// <summary>
/// Whatever goes wrong while serving one connection, OutOfMemoryException included, ends that
/// connection (or, from a handler, reaches the peer as MemoryError) and never escapes into the
/// thread that serves it, which for a server would end the process.
/// </summary>
public class ConnectionFailureTests
{
    private sealed class FailingTransport(Exception error) : Transport.Transport
    {
        public override string PeerName => "failing";

        public override int Receive(Span<byte> buffer, TimeSpan timeout) => throw error;

        public override void Send(ReadOnlySpan<byte> data)
        {
        }

        public override void Dispose()
        {
        }
    }

    public sealed class HungryService : RpycService
    {
        public bool FailOnDisconnect { get; init; }

        [Exposed]
        public static string Ping() => "pong";

        [Exposed]
        public static byte[] Allocate(long bytes) => bytes > 0 ? throw new OutOfMemoryException($"Cannot allocate {bytes} bytes.") : [];

        public override void OnDisconnect(RpycConnection connection)
        {
            if (FailOnDisconnect)
            {
                throw new OutOfMemoryException("on_disconnect ran out of memory.");
            }
        }
    }

    [Theory]
    [InlineData(typeof(OutOfMemoryException))]
    [InlineData(typeof(InvalidOperationException))]
    public void ServeAll_ReadThrows_ConnectionClosedWithCauseAndServeAllReturns(Type errorType)
    {
        var error = (Exception)Activator.CreateInstance(errorType, "simulated")!;
        var server = new RpycConnection(new FailingTransport(error), RpycConnectOptions.Default, new HungryService(), version: null);
        Exception? reason = null;
        server.Closed += (_, r) => reason = r;

        server.ServeAll();

        Assert.True(server.IsClosed);
        RpycConnectionException closed = Assert.IsType<RpycConnectionException>(reason);
        Assert.Same(error, closed.InnerException);
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Call_HandlerThrowsOutOfMemory_PeerGetsMemoryErrorAndConnectionStaysUsable(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new HungryService(), version);

        var ex = Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.CallMethod("allocate", 1L << 40));

        Assert.Equal("builtins.MemoryError", ex.RemoteTypeName);
        Assert.Equal("pong", pair.Client.RootNetref.CallMethod("ping"));
        Assert.False(pair.Server.IsClosed);
    }

    [Fact]
    public void Close_OnDisconnectAndClosedHandlerThrow_TeardownCompletes()
    {
        using var pair = new ConnectionPair(new HungryService { FailOnDisconnect = true }, RpycProtocolVersion.V5);
        Assert.Equal("pong", pair.Client.RootNetref.CallMethod("ping"));
        pair.Server.Closed += (_, _) => throw new OutOfMemoryException("a Closed handler ran out of memory.");
        var lines = new List<string>();
        Action<string>? previous = RpycLog.Sink;
        RpycLog.Sink = line =>
        {
            lock (lines)
            {
                lines.Add(line);
            }
        };
        try
        {
            pair.Server.Close();
        }
        finally
        {
            RpycLog.Sink = previous;
        }

        Assert.True(pair.Server.IsClosed);
        lock (lines)
        {
            Assert.Contains(lines, l => l.Contains("on_disconnect", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("Closed handler", StringComparison.Ordinal));
        }
    }
}
