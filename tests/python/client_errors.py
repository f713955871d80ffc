"""Exceptions both ways and callbacks from the .NET service into Python."""
from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("errors")

e = t.raises("ArgumentException -> ValueError", ValueError, lambda: root.fail("boom"), message="boom")
t.true("remote traceback attached", "Remote Traceback" in str(e), str(e)[:200])
t.equal("connection usable after error", root.ping(), "pong")
e = t.raises("non-ASCII message", ValueError, lambda: root.fail("échec ✗"), message="échec ✗")

t.equal("lambda callback", root.call_me(lambda x: x * 3, 14), 42)
t.equal("dynamic callback", root.call_dynamic(lambda x: x + 1, 41), 42)
calls = []


def recording(x):
    calls.append(x)
    return x - 1


t.equal("named function callback", root.call_me(recording, 43), 42)
t.equal("callback ran once in Python", calls, [43])


def raising(x):
    raise ValueError(f"from python {x}")


e = t.raises("callback error propagates back", ValueError, lambda: root.call_me(raising, 7), message="from python 7")
t.equal(".NET sees the callback's ValueError", root.call_and_catch(raising, 8), "builtins.ValueError: from python 8")
t.equal("callback KeyError seen by .NET", root.call_and_catch(lambda x: {}[x], 5), "builtins.KeyError: 5")
t.equal("callback returning normally", root.call_and_catch(lambda x: x * 2, 21), "returned 42")
t.raises("callback returning a str where long is expected", TypeError, lambda: root.call_me(lambda x: "nope", 1))
t.equal("connection usable after callback errors", root.ping(), "pong")

c.close()
t.done()
