using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

// The relay schedules a chunk from when the kernel got it, not from when its reader woke up.
// Real sockets on 127.0.0.1.
public class ArrivalStampedReceiveTests
{
    [Fact]
    public void Receive_BytesThatWaited_ReportsWhenTheyArrivedNotWhenTheyWereRead()
    {
        (Socket sender, Socket receiver) = LoopbackPair.Connect();
        using (sender)
        using (receiver)
        {
            Assert.True(ArrivalStampedReceive.Enable(receiver));
            // The kernel turns receive stamping on for the whole stack a moment after the first socket
            // asks (a deferred static key), so the first segments of a fresh process may come unstamped
            // and read as "now", the relay's fallback: try a few exchanges, expect a stamped one soon.
            double waited = 0;
            for (int attempt = 0; attempt < 20 && waited < 0.030; attempt++)
            {
                long beforeSend = PreciseTimer.Now;
                sender.Send(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
                Thread.Sleep(40);
                byte[] buffer = new byte[64];
                int read = ArrivalStampedReceive.Receive(receiver, stamped: true, buffer, buffer.Length, out long arrival);
                long afterRead = PreciseTimer.Now;

                Assert.Equal(8, read);
                Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, buffer[..8]);
                Assert.True(arrival >= beforeSend - (PreciseTimer.TicksPerSecond / 1000), "the arrival is before the send");
                Assert.True(arrival <= afterRead, "the arrival is after the read");
                waited = (afterRead - arrival) / (double)PreciseTimer.TicksPerSecond;
            }
            Assert.InRange(waited, 0.030, 5.0);
        }
    }

    [Fact]
    public void Receive_PeerClosed_ReturnsZero()
    {
        (Socket sender, Socket receiver) = LoopbackPair.Connect();
        using (receiver)
        {
            ArrivalStampedReceive.Enable(receiver);
            sender.Shutdown(SocketShutdown.Send);
            sender.Dispose();
            byte[] buffer = new byte[16];
            Assert.Equal(0, ArrivalStampedReceive.Receive(receiver, stamped: true, buffer, buffer.Length, out _));
        }
    }

    [Fact]
    public async Task Receive_BlockedReaderOfAShutDownSocket_Wakes()
    {
        (Socket sender, Socket receiver) = LoopbackPair.Connect();
        using (sender)
        using (receiver)
        {
            ArrivalStampedReceive.Enable(receiver);
            var reader = Task.Run(() => ArrivalStampedReceive.Receive(receiver, stamped: true, new byte[16], 16, out _));
            await Task.Delay(50);
            Assert.False(reader.IsCompleted);
            // What RelayConnection.Abort does before it closes the sockets.
            receiver.Shutdown(SocketShutdown.Receive);
            Assert.Equal(0, await reader.WaitAsync(TimeSpan.FromSeconds(5)));
        }
    }
}
