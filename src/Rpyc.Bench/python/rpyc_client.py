"""rpycbench's Python RPyC client: rpyc's own client, driven by Rpyc.Bench's PythonClientBenchTarget
over stdin/stdout, so the .NET servers and Python's can be measured by the client Python users run.

Run with Debian's interpreter: /usr/bin/python3 -u rpyc_client.py --host 127.0.0.1 --port N
Connects (rpyc.connect sends nothing yet), prints "READY", then answers one line per command:
  call OP            one call, checked                        -> "OK" | "FAIL <message>"
  run OP N           N calls, untimed (warmup)                -> "OK <failures> [<first error>]"
  time OP N S        N calls, each timed with perf_counter_ns, at most S seconds
                                                              -> JSON {"ns": [...], "failures": k, "error": ...}
  connect N GAP_MS   N times rpyc.connect + c.root.ping() + close, timed (the pause is not)
                                                              -> JSON {"ns": [...], "failures": k, "error": ...}
  roundtrips OP      one call, counting sync requests         -> "OK <per call> <setup of a first use>"
  quit (or EOF)      close and exit
OP: ping (m = c.root.ping once, then m(): one CALL), ping_uncached (c.root.ping(): GETATTR + CALL,
plus an async DEL of the bound-method proxy), echo:N, upload:N, download:N, compute:N, sleep:S.
Payloads are bench_payload.payload(n), built before the clock starts; every reply is checked.
"""
import argparse
import json
import os
import sys
import time

import rpyc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_payload import compute, payload, uncompressed_wire  # noqa: E402

uncompressed_wire()


def make_call(conn, op):
    """A function doing one call of op, and a checker of its result."""
    name, _, arg = op.partition(":")
    root = conn.root
    if name == "ping":
        m = root.ping
        return m, lambda r: r == "pong"
    if name == "ping_uncached":
        return (lambda: root.ping()), lambda r: r == "pong"
    if name == "echo":
        data = payload(int(arg))
        echo = root.echo
        return (lambda: echo(data)), lambda r: r == data
    if name == "upload":
        data = payload(int(arg))
        upload = root.upload
        return (lambda: upload(data)), lambda r: r == len(data)
    if name == "download":
        n = int(arg)
        expected = payload(n)
        download = root.download
        return (lambda: download(n)), lambda r: r == expected
    if name == "compute":
        n = int(arg)
        expected = compute(n)
        fn = root.compute
        return (lambda: fn(n)), lambda r: r == expected
    if name == "sleep":
        s = float(arg)
        fn = root.sleep
        return (lambda: fn(s)), lambda r: abs(r - s) < 1e-9
    raise ValueError("unknown operation " + repr(op))


def one(call, check):
    """(ok, error) of one call."""
    try:
        result = call()
    except Exception as e:  # noqa: BLE001 - any failure of the call is a failed request
        return False, "%s: %s" % (type(e).__name__, e)
    if check(result):
        return True, None
    return False, "wrong reply: %r" % (result if not isinstance(result, bytes) else "%d bytes" % len(result))


def timed(call, check, count, max_seconds):
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(max_seconds * 1e9)
    samples = []
    failures = 0
    error = None
    for _ in range(count):
        t0 = clock()
        if t0 > deadline:
            break
        try:
            result = call()
            ok = check(result)
        except Exception as e:  # noqa: BLE001
            ok = False
            error = error or "%s: %s" % (type(e).__name__, e)
        t1 = clock()
        if ok:
            samples.append(t1 - t0)
        else:
            failures += 1
            error = error or "wrong reply"
    return {"ns": samples, "failures": failures, "error": error, "seconds": (clock() - start) / 1e9}


def connects(host, port, count, gap_ms):
    clock = time.perf_counter_ns
    samples = []
    failures = 0
    error = None
    for _ in range(count):
        t0 = clock()
        conn = None
        try:
            conn = rpyc.connect(host, port)
            ok = conn.root.ping() == "pong"
        except Exception as e:  # noqa: BLE001
            ok = False
            error = error or "%s: %s" % (type(e).__name__, e)
        t1 = clock()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        if ok:
            samples.append(t1 - t0)
        else:
            failures += 1
        if gap_ms > 0:
            time.sleep(gap_ms / 1000.0)
    return {"ns": samples, "failures": failures, "error": error}


def counting_sync_requests(conn, action):
    """Runs action() and returns how many sync requests (round trips) it made."""
    counted = [0]
    original = conn.sync_request

    def counting(*args, **kwargs):
        counted[0] += 1
        return original(*args, **kwargs)

    conn.sync_request = counting
    try:
        action()
    finally:
        del conn.sync_request
    return counted[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        conn = rpyc.connect(args.host, args.port)
    except Exception as e:  # noqa: BLE001
        print("ERROR %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    print("READY", flush=True)
    calls = {}

    def get(op):
        if op not in calls:
            calls[op] = make_call(conn, op)
        return calls[op]

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        try:
            if cmd == "quit":
                break
            elif cmd == "call":
                ok, error = one(*get(words[1]))
                print("OK" if ok else "FAIL " + error, flush=True)
            elif cmd == "run":
                call, check = get(words[1])
                failures, first = 0, None
                for _ in range(int(words[2])):
                    ok, error = one(call, check)
                    if not ok:
                        failures += 1
                        first = first or error
                print("OK %d%s" % (failures, " " + first if first else ""), flush=True)
            elif cmd == "time":
                print(json.dumps(timed(*get(words[1]), int(words[2]), float(words[3]))), flush=True)
            elif cmd == "connect":
                print(json.dumps(connects(args.host, args.port, int(words[1]), float(words[2]))), flush=True)
            elif cmd == "roundtrips":
                # The setup of a first use (GETROOT, a bound method's GETATTR), then one call.
                setup = counting_sync_requests(conn, lambda: get(words[1]))
                per_call = counting_sync_requests(conn, lambda: one(*get(words[1])))
                print("OK %d %d" % (per_call, setup), flush=True)
            else:
                print("FAIL unknown command " + cmd, flush=True)
        except Exception as e:  # noqa: BLE001 - a bad command must not kill the driver
            print("FAIL %s: %s" % (type(e).__name__, e), flush=True)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
