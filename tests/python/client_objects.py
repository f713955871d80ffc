"""Remote objects, attributes, access refusals, lists and dicts by reference, kwargs."""
from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("objects")

t.equal("ping", root.ping(), "pong")
t.equal("get_service_name", root.get_service_name(), "INTEROP")
obj = root.get_object("zz")
t.equal("method", obj.method(21), "zz:42")
t.equal("get_name", obj.get_name(), "zz")
t.equal("exposed property", obj.label, "thing-zz")
t.equal("exposed_ prefix alias", obj.exposed_method(1), "zz:2")
t.equal("str", str(obj), "<Thing zz>")
t.equal("repr", repr(obj), "<Thing zz>")
t.raises("non-exposed public attribute", AttributeError, lambda: obj.secret)
t.raises("non-exposed PascalCase attribute", AttributeError, lambda: obj.Secret)
t.true("hasattr(secret) is False", hasattr(obj, "secret") is False)
t.true("hasattr(method) is True", hasattr(obj, "method") is True)
t.true("getattr default", getattr(obj, "secret", "dflt") == "dflt")
t.raises("private attribute", AttributeError, lambda: obj._name)
t.raises("non-exposed service method", AttributeError, lambda: root.not_exposed)
t.raises("private service field", AttributeError, lambda: root._connection)


def set_label():
    obj.label = "changed"


t.raises("setattr refused", AttributeError, set_label)
t.equal("label unchanged", obj.label, "thing-zz")
other = root.get_object("other")
t.equal("two objects independent", (obj.method(1), other.method(1)), ("zz:2", "other:2"))

lst = root.get_list()
t.equal("len(list)", len(lst), 3)
t.equal("list(iter)", list(lst), [1, "two", b"3"])
t.equal("for loop", [x for x in lst], [1, "two", b"3"])
t.equal("index 0", lst[0], 1)
t.equal("index 1", lst[1], "two")
t.equal("index -1", lst[-1], b"3")
t.raises("index out of range", IndexError, lambda: lst[5])
t.true("contains", "two" in lst and "zz" not in lst)
t.true("bool", bool(lst))

d = root.get_dict()
t.equal("dict['a']", d["a"], 1)
t.equal("dict['b']", d["b"], 2)
t.equal("len(dict)", len(d), 2)
t.true("'a' in dict", "a" in d and "zz" not in d)
t.raises("dict missing key", KeyError, lambda: d["zz"])

t.equal("kw positional", root.kw(1, 5, 6), (1, 5, 6))
t.equal("kw defaults", root.kw(1), (1, 2, 3))
t.equal("kw c only", root.kw(1, c=9), (1, 2, 9))
t.equal("kw all named", root.kw(c=3, b=2, a=1), (1, 2, 3))
t.equal("echo by keyword", root.echo(data=b"kw"), b"kw")
t.raises("unknown keyword", TypeError, lambda: root.kw(1, d=4))
t.raises("missing argument", TypeError, lambda: root.kw())
t.raises("wrong type", TypeError, lambda: root.add("x", 1))
t.equal("async method awaited", root.slow_add(40, 2), 42)
t.equal("sleep", root.sleep(0.01), 0.01)

c.close()
t.done()
