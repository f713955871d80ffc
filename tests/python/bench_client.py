"""The Python side of the benchmark figures (benchmarks/Rpyc.Figures): rpyc's own client
against tests/python/demo_server.py, so the .NET figures have a reference taken the same way.

Run with Debian's interpreter:
    /usr/bin/python3 bench_client.py --port N [--calls 20000] [--warmup 1000] [--echoes 20]
    /usr/bin/python3 bench_client.py --versions
Prints one JSON object on stdout. Latencies are per call, timed with time.perf_counter_ns;
percentiles are nearest-rank on the sorted samples (the same rule as the .NET side).
"""
import argparse
import json
import math
import platform
import random
import sys
import time

import rpyc

HOST = "127.0.0.1"
ONE_MIB = 1024 * 1024


def nearest_rank(sorted_samples, percent):
    rank = math.ceil(percent / 100.0 * len(sorted_samples))
    return sorted_samples[min(max(rank, 1), len(sorted_samples)) - 1]


def summarize(samples_ns, failures):
    s = sorted(samples_ns)
    n = len(s)
    mean = sum(s) / n
    var = sum((x - mean) ** 2 for x in s) / (n - 1) if n > 1 else 0.0
    us = 1000.0
    return {
        "n": n,
        "failures": failures,
        "min_us": s[0] / us,
        "mean_us": mean / us,
        "stddev_us": math.sqrt(var) / us,
        "p50_us": nearest_rank(s, 50) / us,
        "p90_us": nearest_rank(s, 90) / us,
        "p99_us": nearest_rank(s, 99) / us,
        "max_us": s[-1] / us,
    }


def measure(call, is_valid, warmup, count):
    failures = 0
    for _ in range(warmup):
        if not is_valid(call()):
            failures += 1
    clock = time.perf_counter_ns
    samples = [0] * count
    for i in range(count):
        t0 = clock()
        result = call()
        t1 = clock()
        samples[i] = t1 - t0
        if not is_valid(result):
            failures += 1
    return summarize(samples, failures)


def is_pong(result):
    return result == "pong"


def bench_cached(port, calls, warmup):
    # One CALL round trip per call: the bound-method proxy is fetched (GETATTR) once, up front,
    # which is what the .NET client's CALLATTR does in a single message.
    conn = rpyc.connect(HOST, port)
    try:
        m = conn.root.ping
        return measure(m, is_pong, warmup, calls)
    finally:
        conn.close()


def bench_uncached(port, calls, warmup):
    # c.root.ping(): GETATTR, then CALL, then the temporary proxy's DEL (sent without waiting).
    conn = rpyc.connect(HOST, port)
    try:
        root = conn.root
        return measure(lambda: root.ping(), is_pong, warmup, calls)
    finally:
        conn.close()


def bench_echo(port, count, warmup):
    payload = random.Random(42).randbytes(ONE_MIB)
    conn = rpyc.connect(HOST, port)
    try:
        echo = conn.root.echo
        result = measure(lambda: echo(payload), lambda back: back == payload, warmup, count)
    finally:
        conn.close()
    result["payload_bytes"] = len(payload)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--echoes", type=int, default=20)
    parser.add_argument("--echo-warmup", type=int, default=3)
    parser.add_argument("--versions", action="store_true", help="print the interpreter and rpyc versions and exit")
    args = parser.parse_args()
    versions = {"python": platform.python_version(), "rpyc": rpyc.__version__}
    if args.versions:
        print(json.dumps(versions))
        return 0
    if args.port is None:
        parser.error("--port is required")
    out = dict(versions)
    out["cached"] = bench_cached(args.port, args.calls, args.warmup)
    out["uncached"] = bench_uncached(args.port, args.calls, args.warmup)
    out["echo"] = bench_echo(args.port, args.echoes, args.echo_warmup)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
