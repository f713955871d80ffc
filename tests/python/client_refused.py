"""A stock rpyc client of a .NET server at its MaxConnections: told why, as ConnectionRefusedError."""
import sys

from clientlib import Checks, connect

limit = sys.argv[2]
t = Checks("refused")
c = connect()
# The first request (GETROOT) is answered with the refusal; then the server closes.
e = t.raises("root raises ConnectionRefusedError", ConnectionRefusedError, lambda: c.root)
t.true("the reason names the limit", f"MaxConnections ({limit})" in str(e.args[0]), repr(e.args))
c.close()
t.done(message=str(e.args[0]))
