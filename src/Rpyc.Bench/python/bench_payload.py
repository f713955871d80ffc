"""The benchmark payload shared by every rpycbench server and client.

payload(n) = first n bytes of concat(SHA256(b"rpycbench" + i.to_bytes(8, "big")) for i = 0, 1, ...)
Incompressible, and checkable by the receiver. Must match Rpyc.Bench's Payload class byte for byte.
"""
import hashlib
import sys
import threading

_lock = threading.Lock()
_cache = b""


def payload(n):
    """The first n payload bytes (a new bytes object, as a real service would build)."""
    global _cache
    if n < 0:
        raise ValueError("n must be >= 0")
    cache = _cache
    if len(cache) < n:
        with _lock:
            cache = _cache
            if len(cache) < n:
                size = max(64 * 1024, n, 2 * len(cache))
                blocks = [cache]
                for i in range(len(cache) // 32, (size + 31) // 32):
                    blocks.append(hashlib.sha256(b"rpycbench" + i.to_bytes(8, "big")).digest())
                cache = b"".join(blocks)[:size]
                _cache = cache
    return cache[:n]


def compute(n):
    return sum(i * i for i in range(n))


# Binary transfers: the byte at offset o is payload(PERIOD)[o % PERIOD]; PERIOD is a prime, so a
# chunk's bytes depend on its offset. Must match Rpyc.Bench's BinaryContent byte for byte.
BINARY_PERIOD = 1_000_003


def binary_chunk(offset, n):
    """n bytes of a binary transfer's content from offset on."""
    if offset < 0 or n < 0:
        raise ValueError("offset and n must be >= 0")
    block = payload(BINARY_PERIOD)
    start = offset % BINARY_PERIOD
    if start + n <= BINARY_PERIOD:
        return block[start:start + n]
    parts = [block[start:]]
    n -= BINARY_PERIOD - start
    while n > 0:
        parts.append(block[:min(n, BINARY_PERIOD)])
        n -= BINARY_PERIOD
    return b"".join(parts)


def binary_chunks(size, chunk_size):
    """The chunks of a binary file of size bytes, generated one at a time."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be > 0")
    for offset in range(0, size, chunk_size):
        yield binary_chunk(offset, min(chunk_size, size - offset))


class BinarySink:
    """The server side of chunked uploads: a SHA-256 per upload id, as each chunk arrives."""

    def __init__(self):
        self._lock = threading.Lock()
        self._uploads = {}

    def append(self, upload_id, data):
        with self._lock:
            entry = self._uploads.get(upload_id)
            if entry is None:
                entry = self._uploads[upload_id] = [hashlib.sha256(), 0]
        entry[0].update(data)
        entry[1] += len(data)
        return entry[1]

    def finish(self, upload_id):
        with self._lock:
            entry = self._uploads.pop(upload_id, None)
        if entry is None:
            return hashlib.sha256().hexdigest(), 0
        return entry[0].hexdigest(), entry[1]


def sha256_of_chunks(chunks):
    h = hashlib.sha256()
    total = 0
    for c in chunks:
        h.update(c)
        total += len(c)
    return h.hexdigest(), total


def uncompressed_wire():
    """Make rpyc send frames as the .NET side does: uncompressed.

    rpyc's Channel zlib-compresses every frame over 3000 bytes (level 1) by default; Rpyc (.NET)
    never compresses by default (RpycConnectOptions.CompressionThreshold). On the suite's
    incompressible payloads compression only burns CPU: a 1 MiB reply from the Python server took
    about 20 ms of zlib (44-50 MiB/s against 2,000+ upload). Both peers read either kind of frame.
    """
    from rpyc.core.channel import Channel

    Channel.COMPRESSION_THRESHOLD = sys.maxsize
