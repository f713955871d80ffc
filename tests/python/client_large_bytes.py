"""Large bytes arguments, which the .NET server lends from its pool: every parameter type sees them whole."""
import os

from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("large_bytes")
for size in (100 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 7):
    data = os.urandom(size)
    t.equal(f"echo {size}", root.echo(data), data)
    t.equal(f"upload {size} (byte[])", root.upload(data), size)
    t.equal(f"memory_sum {size} (ReadOnlyMemory<byte>)", root.memory_sum(data), sum(data))
    t.equal(f"echo nested {size}", root.echo((data, 1)), (data, 1))
    # Several in a row: a lease given back to the pool must not corrupt the next argument.
    t.equal(f"memory_sum again {size}", root.memory_sum(data[::-1]), sum(data))
c.close()
t.done()
