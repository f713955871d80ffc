"""The Python peer for interop tests and benchmarks: a stock rpyc ThreadedServer (or
ForkingServer) serving the demo service of the wire notes plus the benchmark operations.

Run with Debian's interpreter: /usr/bin/python3 demo_server.py --port 0 [--forking]
Prints "PORT <n>" on stdout once it listens.
"""
import argparse
import sys
import time

import rpyc
from rpyc.utils.server import ForkingServer, ThreadedServer


class Thing:
    def __init__(self, name):
        self.name = name
        self.secret = "hidden"
        self.exposed_label = "thing-" + name

    def exposed_method(self, x):
        return f"{self.name}:{2 * x}"

    def exposed_get_name(self):
        return self.name


class DemoService(rpyc.Service):
    def on_connect(self, conn):
        self._conn = conn

    def exposed_ping(self):
        return "pong"

    def exposed_echo(self, data):
        return data

    def exposed_upload(self, data):
        return len(data)

    def exposed_download(self, n):
        return bytes((i * 7) & 0xFF for i in range(n))

    def exposed_download_fast(self, n):
        # Incompressible-enough bytes without a Python loop per byte (benchmarks).
        block = bytes(range(256))
        return (block * (n // 256 + 1))[:n]

    def exposed_compute(self, n):
        return sum(i * i for i in range(n))

    def exposed_sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def exposed_get_object(self, name="obj"):
        return Thing(name)

    def exposed_fail(self, msg):
        raise ValueError(msg)

    def exposed_get_list(self):
        return [1, "two", b"3"]

    def exposed_get_dict(self):
        return {"a": 1, "b": 2}

    def exposed_call_me(self, fn, x):
        return fn(x)

    def exposed_call_kw(self, fn, **kwargs):
        return fn(**kwargs)

    def exposed_add(self, a, b):
        return a + b

    def exposed_kw(self, a, b=2, *, c=3):
        return (a, b, c)

    def exposed_type_name(self, value):
        return type(value).__name__

    def exposed_local_object_count(self):
        # How many objects this connection holds for the peer (released netrefs are gone).
        return len(self._conn._local_objects._dict)

    def exposed_collect(self):
        import gc
        gc.collect()
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--forking", action="store_true")
    args = parser.parse_args()
    server_type = ForkingServer if args.forking else ThreadedServer
    server = server_type(DemoService, hostname=args.host, port=args.port, reuse_addr=True,
                         protocol_config={"allow_public_attrs": False})
    # rpyc binds in the constructor but listens only in start(): a client told the port before
    # that is refused (seen in CI: "Connection refused" on a fixture's first connect). Listen first;
    # start() skips listening again (Server.active).
    server._listen()
    print(f"PORT {server.port}", flush=True)
    server.start()


if __name__ == "__main__":
    sys.exit(main())
