"""Every brine value type through the .NET server's echo, type_name and add."""
import math
import random

from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("values")

t.equal("None", root.echo(None), None)
t.equal("True", root.echo(True), True)
t.equal("False", root.echo(False), False)
for n in (0, 1, -1, -48, -49, 159, 160, 255, 256, 2**31, -2**31 - 1, 2**63 - 1, -2**63, 2**63, 2**64 + 1, 2**100, -2**70):
    t.equal(f"int {n}", root.echo(n), n)
t.equal("add 2**100 + 1", root.add(2**100, 1), 2**100 + 1)
t.equal("add -2**70 + 2**70", root.add(-2**70, 2**70), 0)
t.equal("add small", root.add(40, 2), 42)
for f in (0.0, 1.5, 0.1, -2.5e-300, 5e-324, 1.7976931348623157e308):
    t.equal(f"float {f!r}", root.echo(f), f)
neg_zero = root.echo(-0.0)
t.true("float -0.0 keeps its sign", neg_zero == 0.0 and math.copysign(1.0, neg_zero) == -1.0, repr(neg_zero))
t.true("float nan", math.isnan(root.echo(float("nan"))))
t.equal("float inf", root.echo(float("inf")), float("inf"))
t.equal("float -inf", root.echo(float("-inf")), float("-inf"))
t.equal("complex", root.echo(1.5 - 2j), 1.5 - 2j)
t.equal("complex zero imag", root.echo(complex(3, 0)), complex(3, 0))
rng = random.Random(1234)
for size in (0, 1024, 5000, 64 * 1024, 4 * 1024 * 1024):
    data = rng.randbytes(size)
    t.equal(f"bytes {size}", root.echo(data), data)
    t.equal(f"upload {size}", root.upload(data), size)
for n in (0, 16, 5000, 100000):
    t.equal(f"download {n}", root.download(n), bytes((i * 7) & 0xFF for i in range(n)))
for s in ("", "ascii", "héllo wörld", "日本語テキスト", "emoji 🎉✓", "nul\x00inside", "x" * 10000):
    t.equal(f"str {s[:12]!r}", root.echo(s), s)
nested = (1, (2, (3, ("x", None))), (), (True, b"b", 2.5), ((((),),),))
t.equal("nested tuple", root.echo(nested), nested)
t.equal("empty tuple", root.echo(()), ())
t.equal("one-tuple", root.echo((1,)), (1,))
t.equal("long tuple", root.echo(tuple(range(300))), tuple(range(300)))
fs = frozenset({1, "a", b"b", (1, 2), None})
t.equal("frozenset", root.echo(fs), fs)
t.equal("empty frozenset", root.echo(frozenset()), frozenset())
t.equal("tuple of everything", root.echo((None, True, 2**100, -0.5, 1j, b"", "s", fs)), (None, True, 2**100, -0.5, 1j, b"", "s", fs))

# What the .NET side received, by .NET type.
for value, name in ((None, "NoneType"), (True, "Boolean"), (1, "Int64"), (2**100, "BigInteger"), (1.0, "Double"),
                    (1j, "Complex"), (b"x", "Byte[]"), ("x", "String"), ((1,), "PyTuple"), (frozenset({1}), "PyFrozenSet"),
                    ([1, 2], "Netref")):
    t.equal(f"type_name {value!r}", root.type_name(value), name)

# A Python object the .NET side echoes comes back as the very same object (LOCAL_REF).
mine = [1, 2, 3]
t.true("own list comes back as itself", root.echo(mine) is mine)

c.close()
t.done()
