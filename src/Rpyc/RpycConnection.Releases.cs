using Rpyc.Netrefs;
using Rpyc.Protocol;

namespace Rpyc;

public sealed partial class RpycConnection
{
    /// <summary>Sends <c>DEL(obj, count)</c> for a disposed proxy without waiting for the answer.</summary>
    internal void ReleaseNow(Netref netref)
    {
        if (IsClosed)
        {
            return;
        }
        try
        {
            lock (_sendLock)
            {
                if (IsClosed)
                {
                    return;
                }
                WriteRelease(netref.IdPack, netref.RefCount);
            }
        }
        catch (RpycConnectionException)
        {
            // The peer is gone and has dropped its table with the connection.
        }
    }

    // Called with _sendLock held: releases queued by finalizers go out before the next message.
    private void FlushReleases()
    {
        while (Netrefs.TryDequeueRelease(out (IdPack Id, long Count) release))
        {
            WriteRelease(release.Id, release.Count);
        }
    }

    // DEL is boxed as (LABEL_TUPLE, ((LABEL_LOCAL_REF, id), (LABEL_VALUE, count))), as Python sends it.
    private void WriteRelease(IdPack id, long count)
    {
        long seq = Interlocked.Increment(ref _nextSeq);
        var boxed = new PyTuple(BoxLabel.Tuple, new PyTuple(new PyTuple(BoxLabel.LocalRef, id.ToTuple()), new PyTuple(BoxLabel.Value, count)));
        SendOneWay(HandlerId.Del, id.NamePack, null, () => WriteFrame(MessageKind.Request, seq, new PyTuple((long)HandlerId.Del, boxed)));
    }

    /// <summary>Sends the releases queued by collected proxies now, instead of with the next request.</summary>
    public void FlushPendingReleases()
    {
        if (!Netrefs.HasQueuedReleases || IsClosed)
        {
            return;
        }
        try
        {
            lock (_sendLock)
            {
                // Again under the lock: a teardown since the check above returned the send buffers.
                if (!IsClosed)
                {
                    FlushReleases();
                }
            }
        }
        catch (RpycConnectionException)
        {
        }
    }
}
