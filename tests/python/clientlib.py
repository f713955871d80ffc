"""Shared helpers of the client_*.py scripts: stock rpyc clients of the .NET servers.

Each script takes the server port as its first argument, asserts every result, prints one JSON
line with what it checked, and exits non-zero (with a traceback) on the first failure.
"""
import json
import sys
import time

import rpyc


def connect(port=None):
    port = int(sys.argv[1]) if port is None else port
    return rpyc.connect("127.0.0.1", port, config={"sync_request_timeout": 30})


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = []

    def equal(self, label, got, expected):
        if got != expected or type(got) is not type(expected):
            raise AssertionError(f"{label}: got {got!r} ({type(got).__name__}), expected {expected!r} ({type(expected).__name__})")
        self.passed.append(label)

    def true(self, label, condition, detail=""):
        if not condition:
            raise AssertionError(f"{label}: failed {detail}")
        self.passed.append(label)

    def raises(self, label, exc_type, fn, message=None):
        try:
            value = fn()
        except exc_type as e:
            if message is not None and (not e.args or e.args[0] != message):
                raise AssertionError(f"{label}: {exc_type.__name__} with args {e.args!r}, expected first arg {message!r}")
            self.passed.append(label)
            return e
        except Exception as e:  # noqa: BLE001 - report the wrong type precisely
            raise AssertionError(f"{label}: raised {type(e).__module__}.{type(e).__name__}: {e!r}, expected {exc_type.__name__}") from e
        raise AssertionError(f"{label}: returned {value!r}, expected {exc_type.__name__}")

    def poll(self, label, fn, expected, attempts=50, delay=0.02):
        got = None
        for _ in range(attempts):
            got = fn()
            if got == expected:
                self.passed.append(label)
                return got
            time.sleep(delay)
        raise AssertionError(f"{label}: still {got!r} after {attempts} polls, expected {expected!r}")

    def done(self, **extra):
        print(json.dumps({"script": self.name, "ok": True, "checks": len(self.passed), "passed": self.passed, **extra}))
