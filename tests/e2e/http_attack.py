"""The HTTP side under attack (issue 10): bounded clients on 127.0.0.1.

1. Slow headers: 200 connections each dripping one header byte every
   second are cut at http_request_timeout, while a normal client still
   gets /feed.atom promptly throughout.
2. Connection cap: with http_max_connections = 20, idle connections beyond
   the cap wait in the backlog; /metrics never shows more than 20 open, and
   a waiting client is served once the idle ones are cut.
3. File descriptors: with `ulimit -n` lowered, a flood of idle connections
   exhausts the daemon's descriptors; it pauses accepting instead of
   spinning (its CPU time stays low) and serves again once they go.
"""
import os
import resource
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get_feed(port, timeout=5):
    t0 = time.monotonic()
    r = lib.fetch("http://127.0.0.1:%d/feed.atom" % port, timeout=timeout)
    return r.status, time.monotonic() - t0


def start(tag, server, extra, limit_fds=None):
    d = lib.make_tempdir(tag)
    port = lib.free_port()
    conf = lib.write_config(d, lib.fixture_feeds(server), _port=port, interval="30s", min_interval="10s",
                            **extra)
    pre = None
    if limit_fds:
        def pre():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit_fds, limit_fds))
    daemon = lib.Daemon(["-c", conf], d)
    if pre:
        # Restart it with the lowered limit (lib.Daemon has no preexec hook).
        daemon.kill()
        import subprocess
        daemon.out = open(daemon.out_path, "w")
        daemon.err = open(daemon.err_path, "w")
        daemon.proc = subprocess.Popen(daemon.cmd, stdin=subprocess.DEVNULL, stdout=daemon.out,
                                       stderr=daemon.err, env=lib.child_env(), preexec_fn=pre)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            r = lib.fetch("http://127.0.0.1:%d/feed.atom" % port)
            if r.status == 200 and r.body.count(b"<entry>") >= 13:
                return daemon, port
        except OSError:
            pass
        if not daemon.alive():
            lib.fail("%s: feedmux exited:\n%s" % (tag, daemon.output()))
        time.sleep(0.2)
    lib.fail("%s: /feed.atom never had the fixture entries:\n%s" % (tag, daemon.output()))


def slow_headers(server):
    daemon, port = start("slow", server, {"http_request_timeout": "3s"})
    socks = []
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    request = b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64
    t0 = time.monotonic()
    sent = 0
    closed = set()
    worst = 0.0
    # Drip one byte a second per connection, for at most 8 s.
    while time.monotonic() - t0 < 8 and len(closed) < len(socks):
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(request[sent:sent + 1])
            except OSError:
                closed.add(i)
        sent += 1
        r, _, _ = select.select([s for i, s in enumerate(socks) if i not in closed], [], [], 0)
        for s in r:
            try:
                if s.recv(4096) == b"":
                    closed.add(socks.index(s))
            except OSError:
                closed.add(socks.index(s))
        status, took = get_feed(port)
        lib.check(status == 200, "slow headers: a normal client got %d during the attack" % status)
        worst = max(worst, took)
        time.sleep(1)
    elapsed = time.monotonic() - t0
    for s in socks:
        s.close()
    lib.check(len(closed) == len(socks),
              "slow headers: %d of %d dripping connections were still open after %.0f s "
              "(http_request_timeout = 3s)" % (len(socks) - len(closed), len(socks), elapsed))
    lib.check(worst < 1.0, "slow headers: a normal client waited %.2f s for /feed.atom" % worst)
    m = lib.fetch("http://127.0.0.1:%d/metrics" % port).body.decode()
    cut = [l for l in m.splitlines() if l.startswith("feedmux_http_connections_cut_total ")]
    lib.check(cut and int(cut[0].split()[1]) >= 150, "slow headers: /metrics counts %s cut connections" % cut)
    lib.check(daemon.stop() == 0, "slow headers: feedmux did not exit 0:\n%s" % daemon.output())
    lib.note("slow headers: 200 dripping connections cut within %.0f s; a normal GET took at most %.3f s"
             % (elapsed, worst))


def connection_cap(server):
    daemon, port = start("cap", server, {"http_max_connections": "20", "http_request_timeout": "3s"})
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(30)]
    time.sleep(1.5)
    # The metrics request itself needs a slot: ask with the cap full, it waits.
    t0 = time.monotonic()
    r = lib.fetch("http://127.0.0.1:%d/metrics" % port, timeout=15)
    waited = time.monotonic() - t0
    lib.check(r.status == 200, "cap: /metrics answered %d" % r.status)
    opened = [l for l in r.body.decode().splitlines() if l.startswith("feedmux_http_connections ")]
    lib.check(opened and int(opened[0].split()[1]) <= 20,
              "cap: %s connections open, http_max_connections = 20" % opened)
    lib.check(waited >= 1.0, "cap: a 31st client was served at once (%.2f s); it should wait for a slot" % waited)
    for s in idle:
        s.close()
    lib.check(daemon.stop() == 0, "cap: feedmux did not exit 0:\n%s" % daemon.output())
    lib.note("cap: at most 20 open; the next client waited %.1f s for a slot" % waited)


def fd_starvation(server):
    daemon, port = start("fds", server, {"http_max_connections": "10000", "http_request_timeout": "30s",
                                         "http_keepalive_timeout": "60s"}, limit_fds=64)
    flood = []
    try:
        for _ in range(150):
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        pass
    time.sleep(1)
    before = cpu_seconds(daemon.proc.pid)
    time.sleep(3)
    spent = cpu_seconds(daemon.proc.pid) - before
    lib.check(spent < 0.6, "fds: feedmux used %.2f s of CPU in 3 s with its descriptors exhausted "
              "(it should pause accepting, not spin)" % spent)
    for s in flood:
        s.close()
    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        try:
            status, _ = get_feed(port, timeout=3)
            if status == 200:
                break
        except OSError:
            pass
        time.sleep(0.3)
    lib.check(status == 200, "fds: feedmux did not serve again after the flood went (last: %s)" % status)
    log = lib.read_text(daemon.err_path)
    lib.check("not accepting for a second" in log, "fds: no log line about pausing accept:\n%s" % log[-2000:])
    lib.check(daemon.stop() == 0, "fds: feedmux did not exit 0:\n%s" % daemon.output())
    lib.note("fds: %d idle connections against ulimit -n 64: %.2f s CPU in 3 s, serving again after"
             % (len(flood), spent))


def main():
    server = lib.FixtureServer()
    slow_headers(server)
    connection_cap(server)
    fd_starvation(server)


lib.run_test(main)
