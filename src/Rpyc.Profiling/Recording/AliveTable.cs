using System.Collections.Concurrent;

namespace Rpyc.Telemetry;

/// <summary>
/// The proxies (or exports) alive, by connection and id_pack. One id can have two entries: a proxy
/// collected but not yet finalized is released after the proxy made for the same object again
/// (and a Dispose reports its release after another thread made the next one). Its release, the
/// older event, takes the older entry; requests go through the newest.
/// </summary>
internal sealed class AliveTable
{
    private readonly ConcurrentDictionary<RpycTelemetry.NetrefKey, NetrefInfo[]> _entries = new();

    public IEnumerable<NetrefInfo> Values => _entries.Values.SelectMany(static infos => infos);

    public void Add(RpycTelemetry.NetrefKey key, NetrefInfo info) =>
        _entries.AddOrUpdate(key, static (_, info) => [info], static (_, infos, info) => [.. infos, info], info);

    public NetrefInfo? Newest(RpycTelemetry.NetrefKey key) => _entries.TryGetValue(key, out NetrefInfo[]? infos) ? infos[^1] : null;

    public NetrefInfo? RemoveOldest(RpycTelemetry.NetrefKey key)
    {
        while (_entries.TryGetValue(key, out NetrefInfo[]? infos))
        {
            bool removed = infos.Length == 1
                ? _entries.TryRemove(new KeyValuePair<RpycTelemetry.NetrefKey, NetrefInfo[]>(key, infos))
                : _entries.TryUpdate(key, infos[1..], infos);
            if (removed)
            {
                return infos[0];
            }
        }
        return null;
    }

    // Every entry of a closed connection.
    public IEnumerable<NetrefInfo> RemoveConnection(int connectionId)
    {
        foreach (RpycTelemetry.NetrefKey key in _entries.Keys)
        {
            if (key.ConnectionId == connectionId && _entries.TryRemove(key, out NetrefInfo[]? infos))
            {
                foreach (NetrefInfo info in infos)
                {
                    yield return info;
                }
            }
        }
    }
}
