"""Netrefs released on the .NET side after the Python client drops them."""
import gc

from clientlib import Checks, connect

c = connect()
root = c.root
t = Checks("netrefs")

gc.collect()
baseline = root.local_object_count()
t.true("baseline counts the root", baseline >= 1, str(baseline))
objs = [root.get_object(str(i)) for i in range(10)]
lst = root.get_list()
it = iter(lst)
t.equal("iterator works", next(it), 1)
held = root.local_object_count()
t.true("server holds the objects", held >= baseline + 12, f"held={held} baseline={baseline}")
t.equal("objects usable", [o.method(1) for o in objs], [f"{i}:2" for i in range(10)])
del objs, lst, it
gc.collect()
t.poll("released after del + gc", root.local_object_count, baseline)

# The same .NET object boxed twice is one proxy with refcount 2: one DEL (count 2) releases it.
o = root.get_object("s")
o2 = root.echo(o)
t.true("echoed proxy is the same proxy", o2 is o)
t.equal("one more object held", root.local_object_count(), baseline + 1)
del o, o2
gc.collect()
t.poll("released again", root.local_object_count, baseline)

c.close()
t.done(baseline=baseline, held=held)
