"""A Python rpyc client with known operations, profiled through `rpycbench profile proxy`.

Run with Debian's interpreter: /usr/bin/python3 profile_client.py PORT
Prints "DONE" once every operation completed and the connection is closed.
"""
import gc
import sys

import rpyc


def main():
    port = int(sys.argv[1])
    conn = rpyc.connect("127.0.0.1", port, config={"sync_request_timeout": 30})
    root = conn.root
    assert root.ping() == "pong"
    assert root.add(3, 4) == 7
    assert len(root.download(5000)) == 5000
    items = [x for x in root.get_list()]
    assert len(items) == 3
    thing = root.get_object("x")
    assert thing.label == "thing-x"
    assert thing.label == "thing-x"
    assert thing.label == "thing-x"
    assert thing.method(2) == "x:4"
    try:
        root.fail("boom")
        raise AssertionError("fail did not raise")
    except ValueError:
        pass
    assert root.call_me(lambda v: v * 3, 7) == 21
    kept = root.get_object("kept")
    del thing
    gc.collect()
    assert root.collect() is True
    conn.close()
    print("DONE", kept is not None, flush=True)


if __name__ == "__main__":
    main()
