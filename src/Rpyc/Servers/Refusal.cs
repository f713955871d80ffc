using System.Buffers;
using System.Net.Sockets;
using Rpyc.Brine;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.Servers;

// A connection refused at a limit gets the reason, not a reset. Disposed with its first request
// unread, the socket's close(2) sent RST, and the client saw "connection reset by peer" with no word
// of the limit. Now the first request is answered with an exception reply (ConnectionRefusedError,
// which a Python client raises as such and a .NET one as RpycRemoteException), then the server
// sends FIN and reads until the client closes too, so nothing unread is left to reset.
//
// The socket is never handed on, so its async calls (which leave it non-blocking) cost nothing, and
// no thread waits for a slow client. Each refusal is bounded in time, and at most MaxInFlight run in
// the process: past that a refused socket is closed at once, reset and all, as before. Each server
// has its own instance, which its Stop disposes: the refusals in progress end then (their sockets
// closed), instead of outliving the server by up to the bound with its port's connections open.
internal sealed class Refusal : IDisposable
{
    private const int MaxInFlight = 64;
    // A first request is a few dozen bytes; a client that sends more is not answered.
    private const int MaxFrame = 64 * 1024;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(2);
    // Cancelled refusals close their sockets at once; Stop waits at most this for them.
    private static readonly TimeSpan s_stopWait = TimeSpan.FromSeconds(1);
    private static readonly ChannelLimits s_limits = ChannelLimits.Default with { MaxFrameLength = MaxFrame, MaxDecompressedLength = MaxFrame };
    private static int s_inFlight;
    // Never disposed: a refusal that starts after Stop links to it and ends at once.
    private readonly CancellationTokenSource _stopping = new();
    private int _inFlight;

    /// <summary>This server's refusals not yet ended (tests).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Answers <paramref name="client"/>'s first request with <paramref name="reason"/> and closes it; returns at once.</summary>
    public void Refuse(Socket client, string reason)
    {
        // Counted before the check, so that a Dispose that runs between the two waits for this one.
        Interlocked.Increment(ref _inFlight);
        if (Interlocked.Increment(ref s_inFlight) > MaxInFlight || _stopping.IsCancellationRequested)
        {
            Interlocked.Decrement(ref s_inFlight);
            client.Dispose();
            Interlocked.Decrement(ref _inFlight);
            return;
        }
        _ = RefuseAsync(client, reason);
    }

    /// <summary>Ends the refusals in progress, closing their sockets, and waits for them (at most 1 s).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        SpinWait.SpinUntil(() => InFlight == 0, s_stopWait);
    }

    private async Task RefuseAsync(Socket client, string reason)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxFrame);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            deadline.CancelAfter(s_bound);
            byte[]? reply = await ReadFirstRequestAsync(client, buffer, reason, deadline.Token).ConfigureAwait(false);
            if (reply is not null)
            {
                await client.SendAsync(reply, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            }
            client.Shutdown(SocketShutdown.Send);
            while (await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception)
        {
            // A peer that resets, stays silent past the bound or sends garbage is simply closed, as
            // is every refusal when the server stops; nothing may escape a task that nobody awaits.
        }
        finally
        {
            client.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Decrement(ref s_inFlight);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    // The exception reply to the first frame, or null when it is no request (or too large to read).
    private static async Task<byte[]?> ReadFirstRequestAsync(Socket client, byte[] buffer, string reason, CancellationToken cancellationToken)
    {
        int received = 0;
        while (received < MaxFrame)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(received, MaxFrame - received), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }
            received += n;
            var data = new ReadOnlySequence<byte>(buffer, 0, received);
            if (FrameReader.TryReadFrame(ref data, s_limits, out ReadOnlySequence<byte> payload))
            {
                return ExceptionReply(payload, reason);
            }
        }
        return null;
    }

    // protocol.py _send(MSG_EXCEPTION, seq, vinegar.dump(...)) in the envelope the client speaks.
    private static byte[]? ExceptionReply(ReadOnlySequence<byte> payload, string reason)
    {
        if (Envelope.Detect(payload) is not RpycProtocolVersion version)
        {
            return null;
        }
        Message request = Envelope.Read(payload, version, BrineLimits.DefaultMaxDepth);
        if (request.Kind != MessageKind.Request)
        {
            return null;
        }
        var refused = new RpycRemoteException("builtins.ConnectionRefusedError", new PyTuple(reason));
        var output = new ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Exception, request.Seq, Vinegar.Dump(refused, includeTraceback: false));
        return FrameWriter.Encode(output.WrittenSpan);
    }
}
