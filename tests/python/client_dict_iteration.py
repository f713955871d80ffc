"""Iterating a dictionary the .NET service returns by reference, as Python code iterates a dict."""
from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("dict_iteration")

d = root.get_dict()
t.true("'a' in d (keys)", "a" in d)
keys = list(d)
t.true("list(d) gives the keys, as for a Python dict", all(isinstance(k, str) for k in keys) and sorted(keys) == ["a", "b"],
       f"got {[str(k) for k in keys]!r} of types {[type(k).__name__ for k in keys]!r}")
t.equal("for k in d: d[k]", sorted((k, d[k]) for k in d), [("a", 1), ("b", 2)])

c.close()
t.done()
