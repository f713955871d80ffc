"""rpycbench's Python RPyC peer: a stock rpyc ThreadedServer or ForkingServer with the benchmark
service (the same operations and answers as Rpyc.Bench's BenchService).

Run with Debian's interpreter: /usr/bin/python3 rpyc_server.py --host 127.0.0.1 --port 0 [--forking]
Prints "PORT <n>" on stdout once it listens. Exits when stdin closes (its parent is gone).
"""
import argparse
import os
import sys
import threading
import time

import rpyc
from rpyc.utils.server import ForkingServer, ThreadedServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_payload import BinarySink, uncompressed_wire, binary_chunk, binary_chunks, compute, payload, sha256_of_chunks  # noqa: E402

# Chunked binary uploads of every connection (a ForkingServer child has its own).
BINARY_SINK = BinarySink()


RECORD_FIELDS = "abcdefghij"


class Record:
    """The decision scenarios' record, passed by reference: each field read is a getattr round trip."""

    def __init__(self):
        for value, name in enumerate(RECORD_FIELDS):
            setattr(self, "exposed_" + name, value)


class ChainChild:
    def exposed_method(self, x):
        return 2 * x + 1


class Chain:
    exposed_child = ChainChild()


class BenchService(rpyc.Service):
    exposed_service = Chain()

    def exposed_get_record(self):
        return Record()

    def exposed_get_record_tuple(self):
        return tuple(range(len(RECORD_FIELDS)))

    def exposed_get_list(self, n):
        return list(range(n))

    def exposed_get_list_tuple(self, n):
        return tuple(range(n))

    def exposed_chain_method(self, x):
        return 2 * x + 1

    def exposed_map_callback(self, fn, n):
        return tuple(fn(i) for i in range(n))

    def exposed_ping(self):
        return "pong"

    def exposed_echo(self, data):
        return data

    def exposed_upload(self, data):
        return len(data)

    def exposed_download(self, n):
        return payload(n)

    def exposed_compute(self, n):
        return compute(n)

    def exposed_sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def exposed_upload_chunks(self, chunks):
        return sum(len(c) for c in chunks)

    def exposed_download_chunks(self, n, chunk_size):
        data = payload(n)
        return tuple(data[i:i + chunk_size] for i in range(0, n, chunk_size))

    # Binary transfers (rpycbench --test-binary-transfer): the receiver checks SHA-256.
    def exposed_binary_upload(self, data):
        return sha256_of_chunks([data])

    def exposed_binary_download(self, offset, n):
        return binary_chunk(offset, n)

    def exposed_binary_append(self, upload_id, data):
        return BINARY_SINK.append(upload_id, data)

    def exposed_binary_finish(self, upload_id):
        return BINARY_SINK.finish(upload_id)

    def exposed_binary_upload_iter(self, chunks):
        return sha256_of_chunks(chunks)

    def exposed_binary_download_iter(self, size, chunk_size):
        return binary_chunks(size, chunk_size)


def watch_stdin():
    try:
        sys.stdin.read()
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--forking", action="store_true")
    parser.add_argument("--watch-stdin", action="store_true")
    parser.add_argument("--compress", action="store_true", help="keep rpyc's default zlib compression of frames over 3000 bytes")
    args = parser.parse_args()
    if not args.compress:
        uncompressed_wire()
    server_type = ForkingServer if args.forking else ThreadedServer
    server = server_type(BenchService, hostname=args.host, port=args.port, reuse_addr=True)
    if args.watch_stdin:
        threading.Thread(target=watch_stdin, daemon=True).start()
    # rpyc binds in the constructor but listens only in start(): a client told the port before
    # that is refused (seen in CI: "Connection refused" on a fixture's first connect). Listen first;
    # start() skips listening again (Server.active).
    server._listen()
    print(f"PORT {server.port}", flush=True)
    server.start()


if __name__ == "__main__":
    sys.exit(main())
