"""Two simultaneous connections report the pid of the process serving each."""
from clientlib import Checks, connect

a = connect()
b = connect()
t = Checks("pid")
pid_a = a.root.pid()
pid_b = b.root.pid()
t.true("pids are ints", isinstance(pid_a, int) and isinstance(pid_b, int))
t.equal("same pid on the same connection", a.root.pid(), pid_a)
a.close()
b.close()
t.done(pids=[pid_a, pid_b])
