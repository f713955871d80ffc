"""The benchmark payload shared by every rpycbench server and client.

payload(n) = first n bytes of concat(SHA256(b"rpycbench" + i.to_bytes(8, "big")) for i = 0, 1, ...)
Incompressible, and checkable by the receiver. Must match Rpyc.Bench's Payload class byte for byte.
"""
import hashlib
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
