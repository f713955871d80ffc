"""The attack table of issue 14, redone: every attack against `rpycbench serve rpyc_threaded` and
`rpycbench serve rpyc_forking`, each server started afresh under DOTNET_GCHeapHardLimit (768 MiB),
with the server process tree's peak RSS (summed over the forking workers) and CPU seconds, whether a
fresh client's ping was answered during and after the attack and in how long, and whether the server
survived. Prints a Markdown table. A figure-taking tool, not a test: every attack has a time limit
and every process it starts is stopped.

Run through scripts/attack-table.sh, with Debian's /usr/bin/python3 (python3-rpyc 5.3 builds the
frames and is the client of the download() attack).
"""

import argparse
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import rpyc
from rpyc.core import brine, consts

MIB = 1024 * 1024
HEAP_LIMIT = "0x30000000"  # 768 MiB, what .NET takes inside a 1 GiB container
PROBE_TIMEOUT = 5.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- frames (rpyc/core/channel.py)

def frame(payload, compressed=False):
    return struct.pack("!LB", len(payload), 1 if compressed else 0) + payload + b"\n"


def request(seq, handler, args):
    # protocol.py _send_request: the args tuple goes boxed, (LABEL_VALUE, args).
    return brine.dump((consts.MSG_REQUEST, seq, (handler, (consts.LABEL_VALUE, args))))


def ping_frame(seq=1, data="abcdefghijklmnopqrstuvwxyz" * 20):
    return frame(request(seq, consts.HANDLE_PING, (data,)))


def big_int_ping_frame(digits):
    # brine sends ints as decimal text (TAG_INT_L4 + I4 length + digits); the text is made here
    # directly, since Python's own int -> str is quadratic and limited to 4300 digits.
    sentinel = b"\xaa" * 16
    payload = request(1, consts.HANDLE_PING, (sentinel,))
    text = b"1" + b"0" * (digits - 1)
    encoded = brine.TAG_INT_L4 + struct.pack("<I", len(text)) + text
    return frame(payload.replace(brine.dump(sentinel), encoded, 1))


def zlib_bomb_frame():
    # 128 MiB of zeros in about 130 KB, announced as a compressed frame.
    z = zlib.compressobj(9)
    chunk = bytes(MIB)
    body = b"".join(z.compress(chunk) for _ in range(128)) + z.flush()
    return frame(body, compressed=True)


def recv_frame(sock, deadline):
    def read(n):
        buf = b""
        while len(buf) < n:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed by the server")
            buf += chunk
        return buf
    length, compressed = struct.unpack("!LB", read(5))
    body = read(length + 1)[:-1]
    return zlib.decompress(body) if compressed else body


# ---------------------------------------------------------------- measurements

def probe(port, timeout=PROBE_TIMEOUT):
    """A fresh client's ping: 'answered in X ms' or why not."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = "abcdefghijklmnopqrstuvwxyz" * 20
            s.sendall(ping_frame(1, data))
            while True:
                msg, seq, args = brine.load(recv_frame(s, deadline))
                if msg == consts.MSG_REPLY and seq == 1:
                    if args != (consts.LABEL_VALUE, data):
                        return "wrong echo"
                    return "%.0f ms" % ((time.monotonic() - start) * 1000)
                if msg == consts.MSG_EXCEPTION:
                    return "exception reply"
    except socket.timeout:
        return "no reply in %.0f s" % timeout
    except (ConnectionError, OSError) as e:
        return "failed: %s" % (e.strerror or e)


def tree(root):
    """The pids of root and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def rss_and_cpu(root):
    """RSS of the tree (bytes), CPU seconds of the tree (reaped children included through the root's cutime)."""
    rss, ticks = 0, 0
    for pid in tree(root):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%d/statm" % pid) as f:
                rss += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
        # fields[0] is the state (field 3); utime is field 14, stime 15, cutime 16, cstime 17
        ticks += int(fields[11]) + int(fields[12])
        if pid == root:
            ticks += int(fields[13]) + int(fields[14])
    return rss, ticks / CLK_TCK


class Sampler:
    """Samples the tree's RSS every 50 ms from start to stop and keeps the peak."""

    def __init__(self, root):
        self.root = root
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss, _ = rss_and_cpu(self.root)
            self.peak = max(self.peak, rss)
            self._stop.wait(0.05)

    def __enter__(self):
        _, self.cpu0 = rss_and_cpu(self.root)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        rss, cpu1 = rss_and_cpu(self.root)
        self.peak = max(self.peak, rss)
        self.cpu = cpu1 - self.cpu0


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, cli, target, port=0):
        env = dict(os.environ, DOTNET_GCHeapHardLimit=HEAP_LIMIT)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["dotnet", cli, "serve", target, "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env, start_new_session=True)
        self.port = None
        line = self._readline(60)
        if line is None or not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("%s did not start: %s" % (target, self.err()))
        self.port = int(line.split()[1])
        # A first client warms the JIT, so the first attack's ping is not the JIT's.
        probe(self.port, 30)

    def _readline(self, timeout):
        result = []
        t = threading.Thread(target=lambda: result.append(self.proc.stdout.readline().decode()), daemon=True)
        t.start()
        t.join(timeout)
        return result[0].strip() if result else None

    def alive(self):
        return self.proc.poll() is None

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Anything of the session left (a worker whose parent died): gone.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def connect_many(port, count, timeout=5.0):
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            break
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def wait_closed(socks, seconds):
    """Waits until the server closed every socket (or the time is up); returns how many it closed."""
    deadline = time.monotonic() + seconds
    closed = 0
    for s in socks:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            while s.recv(65536):
                pass
            closed += 1
        except socket.timeout:
            break
        except OSError:
            closed += 1
    return closed


# ---------------------------------------------------------------- attacks: each returns (during, note)

def attack_headers(port):
    socks = connect_many(port, 12)
    for s in socks:
        s.sendall(struct.pack("!LB", 60 * MIB, 0) + bytes(1000))
    time.sleep(1)
    during = probe(port)
    time.sleep(2)
    close_all(socks)
    return during, "%d connections held 3 s" % len(socks)


def attack_bombs(n):
    def run(port):
        bomb = zlib_bomb_frame()
        socks = connect_many(port, n)
        threads = [threading.Thread(target=s.sendall, args=(bomb,)) for s in socks]
        for t in threads:
            t.start()
        during = probe(port)
        t0 = time.monotonic()
        for t in threads:
            t.join(10)
        closed = wait_closed(socks, 20)
        close_all(socks)
        return during, "%d of %d bomb connections closed by the server, within %.1f s" % (closed, len(socks), time.monotonic() - t0)
    return run


def attack_payload(make_frame, what):
    def run(port):
        data = make_frame()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            t0 = time.monotonic()
            s.sendall(data)
            time.sleep(0.5)
            during = probe(port)
            try:
                msg = brine.load(recv_frame(s, t0 + 30))[0]
                outcome = {consts.MSG_REPLY: "echoed", consts.MSG_EXCEPTION: "exception reply",
                           consts.MSG_REQUEST: "refused (the server sent CLOSE and hung up)"}.get(msg, "message %s" % msg)
            except socket.timeout:
                outcome = "no answer in 30 s"
            except (ConnectionError, OSError):
                outcome = "connection closed"
            return during, "%s (%d KiB): %s after %.1f s" % (what, len(data) // 1024, outcome, time.monotonic() - t0)
    return run


def frozenset_frame():
    return frame(request(1, consts.HANDLE_PING, (frozenset(float(i) + 0.5 for i in range(100_000)),)))


def attack_idle(count, hold):
    def run(port):
        socks = connect_many(port, count, timeout=2.0)
        time.sleep(1)
        during = probe(port)
        time.sleep(max(0, hold - 1))
        # How many the server has closed by now (handshake timeout, eviction): those readable at EOF.
        # poll, not select: the descriptors go past FD_SETSIZE.
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN)
        ready = len(poller.poll(0))
        close_all(socks)
        return during, "%d connected, %d closed by the server within %d s" % (len(socks), ready, hold)
    return run


def attack_downloads(port):
    conns, errors = [], []
    try:
        for i in range(12):
            try:
                c = rpyc.connect("127.0.0.1", port, config={"sync_request_timeout": 10})
                conns.append(c)
                download = c.root.download
                rpyc.async_(download)(64 * MIB - i)   # sent, and its reply never read
            except Exception as e:  # a refused or slow connection is part of the figure
                errors.append("%s: %s" % (type(e).__name__, e))
        time.sleep(2)
        during = probe(port)
        time.sleep(2)
        note = "%d of 12 download() calls sent, replies of ~64 MiB never read" % (12 - len(errors))
        return during, note + ("; first error %s" % errors[0][:80] if errors else "")
    finally:
        for c in conns:
            try:
                c._channel.stream.sock.close()
            except OSError:
                pass


def attack_second_serve(cli, target):
    def run(port):
        env = dict(os.environ, DOTNET_GCHeapHardLimit=HEAP_LIMIT)
        t0 = time.monotonic()
        code, err = run_bounded(["dotnet", cli, "serve", target, "--host", "127.0.0.1", "--port", str(port)], 60, env)
        lines = err.strip().splitlines()
        note = ("second serve exited %d after %.1f s: %s" % (code, time.monotonic() - t0, (lines[0] if lines else "")[:110])
                if code is not None else "second serve still running after 60 s (killed)")
        return probe(port), note
    return run


# ---------------------------------------------------------------- rpycbench rows

def stalled_server():
    """Accepts and never replies: the fault of the first rpycbench row."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(128)
    held = []
    stop = threading.Event()

    def loop():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                break
    threading.Thread(target=loop, daemon=True).start()

    def close():
        stop.set()
        lsock.close()
        close_all(held)
    return lsock.getsockname()[1], close


def run_bounded(cmd, timeout, env=None):
    """Runs cmd in its own session; past the timeout the whole session is killed. Returns (code, stderr) or (None, stderr)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True, env=env)
    try:
        _, err = p.communicate(timeout=timeout)
        return p.returncode, err.decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        return None, err.decode(errors="replace")


def rpycbench_rows(cli):
    rows = []
    port, close = stalled_server()
    out = tempfile.mkdtemp(prefix="attack-table-")
    try:
        t0 = time.monotonic()
        code, _ = run_bounded(["dotnet", cli, "--endpoint", "rpyc_threaded=127.0.0.1:%d" % port, "--targets", "rpyc_threaded",
                               "--max-phase-seconds", "2", "-q", "-o", os.path.join(out, "stalled.json")], 240)
        note = ("exit %d after %.0f s with --max-phase-seconds 2" % (code, time.monotonic() - t0) if code is not None
                else "still running after 240 s (killed)")
        rows.append(("rpycbench against a server that accepts and never replies", note))
    finally:
        close()
    before = set(f for f in os.listdir(tempfile.gettempdir()) if f.startswith("rpyc-fork-"))
    report = os.path.join(out, "sigterm.json")
    p = subprocess.Popen(["dotnet", cli, "--targets", "rpyc_forking", "-q", "-o", report],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(8)
    p.send_signal(signal.SIGTERM)
    try:
        code = p.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        code = p.wait(10)
    after = set(f for f in os.listdir(tempfile.gettempdir()) if f.startswith("rpyc-fork-"))
    rows.append(("SIGTERM to rpycbench 8 s into a rpyc_forking run",
                 "exit %d, partial report %s, %d rpyc-fork-* file(s) left" % (
                     code, "written" if os.path.exists(report) else "missing", len(after - before))))
    return rows


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="rpycbench.dll")
    ap.add_argument("--targets", default="rpyc_threaded,rpyc_forking")
    ap.add_argument("--only", help="comma-separated attack keys")
    ap.add_argument("--skip-rpycbench", action="store_true")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

    attacks = [
        ("headers", "12 connections each sending a 5-byte header announcing 60 MiB", attack_headers, None),
        ("bomb5", "zlib bombs (130 KB -> 128 MiB) x5 at once", attack_bombs(5), None),
        ("bomb10", "zlib bombs (130 KB -> 128 MiB) x10 at once", attack_bombs(10), None),
        ("frozenset", "a frozenset of 100k floats to HANDLE_PING", attack_payload(frozenset_frame, "frozenset"), None),
        ("bigint", "an int of 10^6 digits to HANDLE_PING", attack_payload(lambda: big_int_ping_frame(10 ** 6), "int"), None),
        ("idle2000", "2,000 idle connections (held 15 s)", attack_idle(2000, 15), None),
        ("idle150", "150 idle sockets (held 15 s)", attack_idle(150, 15), "rpyc_forking"),
        ("download", "download() x12, replies never read", attack_downloads, None),
        ("busyport", "a second serve on the busy port", None, None),
    ]
    only = set(args.only.split(",")) if args.only else None
    rows = []
    for target in args.targets.split(","):
        for key, title, run, only_target in attacks:
            if (only and key not in only) or (only_target and only_target != target):
                continue
            if run is None:
                run = attack_second_serve(args.cli, target)
            print("%s: %s ..." % (target, title), file=sys.stderr, flush=True)
            server = Server(args.cli, target)
            try:
                rss0, _ = rss_and_cpu(server.proc.pid)
                with Sampler(server.proc.pid) as sample:
                    t0 = time.monotonic()
                    try:
                        during, note = run(server.port)
                    except Exception as e:  # the attack itself failed: say so in the row
                        during, note = "-", "attack failed: %s: %s" % (type(e).__name__, e)
                    time.sleep(0.5)
                    after = probe(server.port) if server.alive() else "server gone"
                    elapsed = time.monotonic() - t0
                survived = "yes" if server.alive() else "**no** (exit %s)" % server.proc.returncode
                rows.append((target, title, survived, rss0 / MIB, sample.peak / MIB, sample.cpu, during, after, "%s; %.0f s" % (note, elapsed)))
            finally:
                server.stop()
    print()
    print("Every server started afresh per attack by `rpycbench serve <target>` under DOTNET_GCHeapHardLimit=%s (768 MiB); "
          "RSS and CPU are the server's process tree (forking workers summed); a ping is a fresh client's HANDLE_PING "
          "(timeout %.0f s), 'during' while the attack holds, 'after' once it ended." % (HEAP_LIMIT, PROBE_TIMEOUT))
    print()
    print("| server | attack | survived | RSS before (MiB) | peak RSS (MiB) | CPU (s) | ping during | ping after | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %.0f | %.0f | %.1f | %s | %s | %s |" % r)
    if not args.skip_rpycbench:
        print()
        print("| rpycbench under faults | result |")
        print("|---|---|")
        for title, note in rpycbench_rows(args.cli):
            print("| %s | %s |" % (title, note))


if __name__ == "__main__":
    main()
