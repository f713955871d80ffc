"""conn.ping(), conn.close() and what a closed connection does."""
from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("ping_close")

c.ping()
t.passed.append("conn.ping()")
c.ping(data="custom ping payload", timeout=5)
t.passed.append("conn.ping(data)")
t.equal("root call", root.ping(), "pong")
c.close()
t.true("closed flag", c.closed)
try:
    root.ping()
except Exception as e:  # noqa: BLE001 - any error is right, a result is not
    t.passed.append(f"call after close raises {type(e).__name__}")
else:
    raise AssertionError("call after close returned")

# A second connection works after the first closed.
c2 = connect()
t.equal("second connection", c2.root.ping(), "pong")
c2.close()
t.done()
