"""Connect-plus-first-call figures for benchmarks/Rpyc.Figures (--servers): rpyc's own client
opens a new connection, calls c.root.ping() and checks the reply, then closes the connection.

Run with Debian's interpreter:
    /usr/bin/python3 bench_connect.py --port N [--port M ...] [--count 50] [--gap-ms 100] [--warmup 3]
Prints one JSON object on stdout. Each sample is rpyc.connect + c.root.ping(), timed with
time.perf_counter_ns; close() and the pause after each connection are not counted. With several
ports the connections alternate between them, one at a time, so a change in the machine's load
touches every server alike. Percentiles are nearest-rank on the sorted samples (the same rule as
the .NET side).
"""
import argparse
import json
import platform
import sys
import time

import rpyc

from bench_client import HOST, summarize


def connect_and_ping(port):
    """One sample: (nanoseconds to the first validated reply, ok). The connection is closed after."""
    conn = None
    t0 = time.perf_counter_ns()
    try:
        conn = rpyc.connect(HOST, port)
        ok = conn.root.ping() == "pong"
    except Exception:  # noqa: BLE001 - a refused or broken connection is a failed sample
        ok = False
    t1 = time.perf_counter_ns()
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass
    return t1 - t0, ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, action="append", required=True,
                        help="a server port; repeat to alternate between servers")
    parser.add_argument("--count", type=int, default=50, help="measured connections per port")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured connections per port first")
    parser.add_argument("--gap-ms", type=float, default=100.0,
                        help="pause after each connection closes, not counted (0: back to back)")
    args = parser.parse_args()
    gap = args.gap_ms / 1000.0
    samples = {port: [] for port in args.port}
    failures = {port: 0 for port in args.port}
    for i in range(args.warmup + args.count):
        for port in args.port:
            elapsed, ok = connect_and_ping(port)
            if i >= args.warmup:
                samples[port].append(elapsed)
            failures[port] += 0 if ok else 1
            if gap > 0:
                time.sleep(gap)
    out = {"python": platform.python_version(), "rpyc": rpyc.__version__, "gap_ms": args.gap_ms,
           "results": [{"port": port, "connect": summarize(samples[port], failures[port])} for port in args.port]}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
