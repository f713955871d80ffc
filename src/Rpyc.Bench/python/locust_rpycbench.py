"""rpycbench's Locust users: the suite's operations against one target, from many machines.

Started by `rpycbench locust` (master and workers), which sets the environment:
  RPYCBENCH_PROTOCOL   rpyc | http
  RPYCBENCH_HOST/PORT  the target's server
  RPYCBENCH_OPERATION  ping | echo, or a decision scenario: record, list, chain, callback (both
                       protocols), record_by_value, list_by_value, chain_by_value (RPyC)
  RPYCBENCH_SIZE       echo's payload bytes
  RPYCBENCH_OUTPUT     (master) where the merged result is written as JSON at exit

Each user validates every reply (ping answers "pong", echo the very bytes sent) and records its
time twice: into Locust's own statistics (its UI, CSV and failure counts), and in microseconds
into a mergeable histogram. Locust's own percentiles are rounded to whole milliseconds, which says
nothing when a call takes 50 us.

The histogram rides in Locust's worker report (the `report_to_master` / `worker_report` events),
the same message that carries Locust's own statistics, rather than in a separate custom message:
a worker's last report is flushed when it quits, and a custom message sent then can race the
master's exit. Riding together, the merged counts always equal Locust's own.
"""
import json
import math
import os
import sys
import time

from locust import User, constant, events, task
import locust.runners
from locust.runners import MasterRunner

# Debian's python3-locust 2.12.1 ships an empty version string (its _version.py is generated
# empty), and a worker that says "" is refused as "an old (pre 2.0) worker": master and workers
# never meet. Both sides load this file before they connect, so give them the same version here.
if not locust.runners.__version__:
    locust.runners.__version__ = "2.12.1"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

PROTOCOL = os.environ.get("RPYCBENCH_PROTOCOL", "rpyc")
HOST = os.environ.get("RPYCBENCH_HOST", "127.0.0.1")
PORT = int(os.environ.get("RPYCBENCH_PORT", "18812"))
OPERATION = os.environ.get("RPYCBENCH_OPERATION", "ping")
SIZE = int(os.environ.get("RPYCBENCH_SIZE", "1024"))
OUTPUT = os.environ.get("RPYCBENCH_OUTPUT")

# Log buckets 1 % wide from 1 us: a percentile is exact to within 0.5 % (HdrHistogram's 2
# significant digits); count, sum, sum of squares, min and max are exact. Sums merge exactly.
_GROWTH = math.log(1.01)


class Histogram:
    def __init__(self):
        self.buckets = {}
        self.count = 0
        self.failures = 0
        self.validated = 0
        self.sum = 0.0
        self.sum_sq = 0.0
        self.min = None
        self.max = None

    def record(self, us):
        index = 0 if us < 1 else int(math.log(us) / _GROWTH) + 1
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        self.validated += 1
        self.sum += us
        self.sum_sq += us * us
        self.min = us if self.min is None else min(self.min, us)
        self.max = us if self.max is None else max(self.max, us)

    def to_dict(self):
        return {
            "buckets": {str(k): v for k, v in self.buckets.items()},
            "count": self.count, "failures": self.failures, "validated": self.validated,
            "sum": self.sum, "sum_sq": self.sum_sq, "min": self.min, "max": self.max,
        }

    def add(self, d):
        for k, v in d["buckets"].items():
            self.buckets[int(k)] = self.buckets.get(int(k), 0) + v
        self.count += d["count"]
        self.failures += d["failures"]
        self.validated += d["validated"]
        self.sum += d["sum"]
        self.sum_sq += d["sum_sq"]
        for name, pick in (("min", min), ("max", max)):
            if d[name] is not None:
                mine = getattr(self, name)
                setattr(self, name, d[name] if mine is None else pick(mine, d[name]))

    def percentile(self, q):
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                if index == 0:
                    return self.min
                # The bucket's geometric middle, clamped into the exact extremes.
                value = math.exp((index - 0.5) * _GROWTH)
                return min(max(value, self.min), self.max)
        return self.max

    def stats(self):
        n = self.count
        mean = self.sum / n if n else None
        stdev = math.sqrt(max(0.0, (self.sum_sq - n * mean * mean) / (n - 1))) if n > 1 else 0.0
        out = {"count": n, "failures": self.failures, "validated": self.validated,
               "mean_us": mean, "stdev_us": stdev, "min_us": self.min, "max_us": self.max}
        for q, name in ((50, "p50_us"), (90, "p90_us"), (95, "p95_us"), (99, "p99_us"), (99.9, "p999_us")):
            out[name] = self.percentile(q)
        return out


# A worker's samples since its last report (sent and cleared each report), and on the master the
# merged total and each worker's.
_pending = Histogram()
_total = Histogram()
_by_worker = {}
_started = [None]


def _payload(n):
    # The suite's payload (bench_payload.py beside this file): incompressible and checkable.
    from bench_payload import payload
    return payload(n)


class _Client:
    """One connection to the target, doing one operation and checking its reply."""

    def __init__(self):
        self.data = _payload(SIZE) if OPERATION == "echo" else None
        if PROTOCOL == "rpyc":
            import rpyc

            from bench_payload import uncompressed_wire

            uncompressed_wire()
            self.conn = rpyc.connect(HOST, PORT, config={"sync_request_timeout": 30})
            self.root = self.conn.root
        else:
            import http.client
            self.http = http.client.HTTPConnection(HOST, PORT, timeout=30)

    def call(self):
        if OPERATION in _SCENARIOS:
            return _SCENARIOS[OPERATION](self)
        if PROTOCOL == "rpyc":
            if OPERATION == "ping":
                reply = self.root.ping()
                if reply != "pong":
                    raise ValueError(f"ping answered {reply!r}")
                return len(reply)
            reply = self.root.echo(self.data)
            if reply != self.data:
                raise ValueError("echo answered other bytes")
            return len(reply)
        if OPERATION == "ping":
            self.http.request("GET", "/ping")
        else:
            self.http.request("POST", "/echo", body=self.data, headers={"Content-Type": "application/octet-stream"})
        response = self.http.getresponse()
        body = response.read()
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        if body != (b"pong" if OPERATION == "ping" else self.data):
            raise ValueError("the reply's body is not the expected one")
        return len(body)

    def get_json(self, path):
        self.http.request("GET", path)
        response = self.http.getresponse()
        body = response.read()
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        return json.loads(body), len(body)

    def close(self):
        if PROTOCOL == "rpyc":
            self.conn.close()
        else:
            self.http.close()


# The decision scenarios of the suite (Rpyc.Bench's DecisionScenario), the way each protocol is
# used: RPyC netref style (a round trip per getattr or item) or by value, REST in one request.
_FIELDS = "abcdefghij"
_LIST_ITEMS = 100
_CALLBACK_ITEMS = 10


def _expect(value, expected):
    if value != expected:
        raise ValueError(f"answered {value!r}, expected {expected!r}")
    return 1


def _record(c):
    if PROTOCOL == "rpyc":
        record = c.root.get_record()
        return _expect([getattr(record, name) for name in _FIELDS], list(range(10)))
    body, length = c.get_json("/record")
    _expect([body[name] for name in _FIELDS], list(range(10)))
    return length


def _list(c):
    if PROTOCOL == "rpyc":
        return _expect([x for x in c.root.get_list(_LIST_ITEMS)], list(range(_LIST_ITEMS)))
    body, length = c.get_json(f"/list?n={_LIST_ITEMS}")
    _expect(body, list(range(_LIST_ITEMS)))
    return length


def _chain(c):
    if PROTOCOL == "rpyc":
        return _expect(c.root.service.child.method(20), 41)
    c.http.request("GET", "/chain?x=20")
    response = c.http.getresponse()
    body = response.read()
    return _expect((response.status, body), (200, b"41"))


def _callback(c):
    if PROTOCOL == "rpyc":
        return _expect(tuple(c.root.map_callback(lambda i: 3 * i, _CALLBACK_ITEMS)), tuple(3 * i for i in range(_CALLBACK_ITEMS)))
    body, length = c.get_json(f"/map?n={_CALLBACK_ITEMS}")
    _expect(body, [3 * i for i in range(_CALLBACK_ITEMS)])
    return length


_SCENARIOS = {
    "record": _record,
    "list": _list,
    "chain": _chain,
    "callback": _callback,
    "record_by_value": lambda c: _expect(tuple(c.root.get_record_tuple()), tuple(range(10))),
    "list_by_value": lambda c: _expect(tuple(c.root.get_list_tuple(_LIST_ITEMS)), tuple(range(_LIST_ITEMS))),
    "chain_by_value": lambda c: _expect(c.root.chain_method(20), 41),
}


class BenchUser(User):
    """A user of the target, calling its operation back to back (no think time)."""

    wait_time = constant(0)

    def on_start(self):
        self.client = _Client()

    def on_stop(self):
        self.client.close()

    @task
    def operation(self):
        start = time.perf_counter()
        error = None
        length = 0
        try:
            length = self.client.call()
        except Exception as ex:  # noqa: BLE001 - every failure is counted and reported
            error = ex
        elapsed = time.perf_counter() - start
        if error is None:
            _pending.record(elapsed * 1e6)
        else:
            _pending.failures += 1
        events.request.fire(request_type=PROTOCOL, name=OPERATION, response_time=elapsed * 1000,
                            response_length=length, exception=error, context={})


@events.report_to_master.add_listener
def _on_report_to_master(client_id, data, **_kwargs):
    global _pending
    data["rpycbench"] = _pending.to_dict()
    _pending = Histogram()


@events.worker_report.add_listener
def _on_worker_report(client_id, data, **_kwargs):
    part = data.get("rpycbench")
    if part is None:
        return
    _total.add(part)
    _by_worker.setdefault(client_id, Histogram()).add(part)


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs):
    if _started[0] is None:
        _started[0] = time.monotonic()


@events.quitting.add_listener
def _on_quitting(environment, **_kwargs):
    if not isinstance(environment.runner, MasterRunner) or not OUTPUT:
        return
    total = environment.stats.total
    # Locust's own window (first to last request), as its requests per second use.
    if total.num_requests > 0 and total.last_request_timestamp:
        seconds = max(0.0, total.last_request_timestamp - total.start_time)
    else:
        seconds = time.monotonic() - _started[0] if _started[0] is not None else 0.0
    result = {
        "protocol": PROTOCOL, "operation": OPERATION, "size": SIZE if OPERATION == "echo" else 0,
        "seconds": seconds,
        "users": environment.parsed_options.num_users if environment.parsed_options else None,
        "workers": {cid: h.stats() for cid, h in sorted(_by_worker.items())},
        "merged": _total.stats(),
        "locust": {"requests": total.num_requests, "failures": total.num_failures,
                   "requests_per_second": total.num_requests / seconds if seconds > 0 else 0},
    }
    with open(OUTPUT, "w", encoding="utf-8") as f:
        json.dump(result, f)
