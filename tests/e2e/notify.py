"""End to end: feedmux talks to systemd's notify socket (issue 8).

The test plays systemd: it binds an AF_UNIX datagram socket of its own,
starts `feedmux -c CONF` with NOTIFY_SOCKET naming it and
WATCHDOG_USEC=1000000 (WATCHDOG_PID unset, as sd_watchdog_enabled allows),
reads every datagram, and asserts, in order:

- READY=1 once the listener is bound: GET /healthz and GET /feed.atom
  answered 200 right after it arrives;
- STATUS=polling 3 feeds, N failing; after the first polls (one of the
  three feeds answers HTTP 500) a STATUS line reports "1 failing": the
  status follows progress, it is not only written at start-up;
- WATCHDOG=1 from the event loop at half the watchdog interval: 4 to 8
  pings in a 3 s window, no gap of 1 s (the interval itself) or more;
- SIGHUP: one datagram with RELOADING=1 and MONOTONIC_USEC=<CLOCK_MONOTONIC
  in microseconds, between the signal and the datagram's arrival>, then
  READY=1;
- SIGHUP with a broken file: RELOADING=1 (with MONOTONIC_USEC), a STATUS
  naming the failure as FILE:LINE, then READY=1 (it keeps running);
  the watchdog keeps pinging afterwards;
- SIGTERM: STOPPING=1, nothing after it claims READY, exit 0 within 10 s.

A second, short run without WATCHDOG_USEC sends READY=1 but no WATCHDOG=1.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

STATUS_RE = re.compile(r"^polling ([0-9][0-9,]*) feeds?, ([0-9][0-9,]*) failing$")


def sock_dir(d):
    """A directory for the socket: sun_path holds at most 107 bytes."""
    if len(os.path.join(d, "notify.sock").encode()) < 100:
        return d
    short = tempfile.mkdtemp(prefix="fmx-notify-")
    lib._cleanups.append(lambda: shutil.rmtree(short, ignore_errors=True))
    return short


class Notifications:
    """Every datagram on the socket, with its CLOCK_MONOTONIC arrival time."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []  # (arrival, {key: value}, raw text)
        self.cond = threading.Condition()
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        lib._cleanups.append(self.close)

    def run(self):
        while not self.halt.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.clock_gettime(time.CLOCK_MONOTONIC)
            text = data.decode("utf-8", "replace")
            fields = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.cond:
                self.msgs.append((now, fields, text))
                self.cond.notify_all()

    def close(self):
        self.halt.set()
        self.thread.join(2)
        self.sock.close()

    def wait_for(self, pred, start, timeout, what, proc, output, soft=False):
        """The index of the first message at or after start that pred
        accepts; fail after timeout seconds (soft: return None instead)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.msgs)):
                    if pred(self.msgs[i][1]):
                        return i
                if proc.poll() is not None:
                    lib.fail("feedmux exited with %d while waiting for %s\nmessages:\n%s\n%s"
                             % (proc.returncode, what, self.dump(start), output()))
                left = deadline - time.monotonic()
                if left <= 0 and soft:
                    return None
                if left <= 0:
                    lib.fail("no %s within %g s; messages since:\n%s\n%s"
                             % (what, timeout, self.dump(start), output()))
                self.cond.wait(min(left, 0.2))

    def snapshot(self):
        with self.cond:
            return list(self.msgs)

    def dump(self, start=0):
        with self.cond:
            return "\n".join("  %.3f %r" % (t, raw) for t, _, raw in self.msgs[start:]) or "  (none)"


def start(conf, d, env_extra, tag):
    env = lib.child_env()
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
              "LISTEN_FDNAMES", "JOURNAL_STREAM"):
        env.pop(k, None)
    env.update(env_extra)
    err_path = os.path.join(d, "feedmux-%s.stderr" % tag)
    err = open(err_path, "w")
    proc = subprocess.Popen([lib.feedmux_binary(), "-c", conf], stdin=subprocess.DEVNULL,
                            stdout=err, stderr=err, env=env)

    def kill():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    lib._cleanups.append(kill)
    return proc, (lambda: "feedmux output:\n" + lib.read_text(err_path))


def is_ready(m):
    return m.get("READY") == "1"


def main():
    lib.feedmux_binary()
    server = lib.FixtureServer(lifetime=120)
    d = lib.make_tempdir("notify")
    port = lib.free_port()
    base = "http://127.0.0.1:%d" % port
    feeds = lib.fixture_feeds(server)[:2] + [("broken", server.url("status/500/broken.rss"))]
    conf = lib.write_config(d, feeds, _port=port, interval="30s", min_interval="10s")
    sockpath = os.path.join(sock_dir(d), "notify.sock")
    n = Notifications(sockpath)
    proc, output = start(conf, d, {"NOTIFY_SOCKET": sockpath, "WATCHDOG_USEC": "1000000"}, "main")
    lib.note("feedmux -c %s with NOTIFY_SOCKET=%s WATCHDOG_USEC=1000000" % (conf, sockpath))

    # READY=1, and the listener is up by then.
    i_ready = n.wait_for(is_ready, 0, 20, "READY=1", proc, output)
    for path in ("/healthz", "/feed.atom"):
        try:
            r = lib.fetch(base + path, timeout=5)
        except OSError as e:
            lib.fail("GET %s right after READY=1: no HTTP answer (%s): READY came before the "
                     "listener was bound\n%s" % (path, e, output()))
        lib.check(r.status == 200, "GET %s right after READY=1: HTTP %d, want 200" % (path, r.status))
    lib.note("READY=1 after %d message(s); GET /healthz and /feed.atom answer 200 at once" % i_ready)

    # STATUS= with the feed count, then one that counts the failing feed.
    def status_of(m):
        s = m.get("STATUS")
        mm = STATUS_RE.match(s) if s is not None else None
        return (int(mm.group(1).replace(",", "")), int(mm.group(2).replace(",", ""))) if mm else None
    i = n.wait_for(lambda m: status_of(m) is not None, 0, 10, "STATUS=polling N feeds, M failing", proc, output)
    lib.check(status_of(n.msgs[i][1])[0] == 3, "STATUS=%r: want 3 feeds" % n.msgs[i][1]["STATUS"])
    lib.note("first STATUS: %r" % n.msgs[i][1]["STATUS"])
    # The first polls are spread over interval/10 = 3 s; the 500 arrives
    # soon after. Checked before any reload (a reload reports the status
    # anew); a miss is reported at the end, after the other checks.
    problems = []
    k = n.wait_for(lambda m: status_of(m) == (3, 1), i, 10, "", proc, output, soft=True)
    if k is None:
        problems.append("no STATUS=polling 3 feeds, 1 failing within 10 s of start-up, although feed "
                        "'broken' answered HTTP 500 (the log says so): STATUS must follow progress, "
                        "not only report the start; STATUS lines: %s"
                        % [m["STATUS"] for _, m, _ in n.snapshot() if "STATUS" in m])
        lib.note("PROBLEM: " + problems[-1])
    else:
        lib.note("STATUS follows progress: %r" % n.msgs[k][1]["STATUS"])

    # WATCHDOG=1 at half of WATCHDOG_USEC: about 2 a second.
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    time.sleep(3.0)
    t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
    pings = [t for t, m, _ in n.snapshot() if m.get("WATCHDOG") == "1"]
    window = [t for t in pings if t0 <= t < t1]
    lib.check(4 <= len(window) <= 8, "%d WATCHDOG=1 in %.2f s with WATCHDOG_USEC=1000000, want 4 to 8 "
              "(one every 0.5 s)\n%s" % (len(window), t1 - t0, n.dump()))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    lib.check(pings and max(gaps or [0]) < 1.0, "a gap of %.2f s between WATCHDOG=1 pings: systemd would "
              "kill the service" % max(gaps or [0]))
    lib.note("%d WATCHDOG=1 in %.2f s (largest gap so far %.2f s)" % (len(window), t1 - t0, max(gaps or [0])))

    # SIGHUP: RELOADING=1 with MONOTONIC_USEC in one datagram, then READY=1.
    start_at = len(n.snapshot())
    t_sig = time.clock_gettime(time.CLOCK_MONOTONIC)
    proc.send_signal(signal.SIGHUP)
    i = n.wait_for(lambda m: m.get("RELOADING") == "1", start_at, 10, "RELOADING=1 after SIGHUP", proc, output)
    arrival, m, raw = n.msgs[i]
    usec = m.get("MONOTONIC_USEC")
    lib.check(usec is not None and usec.isdigit(), "RELOADING=1 without MONOTONIC_USEC=<number> in the same "
              "datagram: %r" % raw)
    mono = int(usec) / 1e6
    lib.check(t_sig - 0.01 <= mono <= arrival + 0.01,
              "MONOTONIC_USEC=%s is %.3f s; the signal was sent at %.3f and the datagram arrived at %.3f "
              "(CLOCK_MONOTONIC)" % (usec, mono, t_sig, arrival))
    j = n.wait_for(is_ready, i + 1, 10, "READY=1 after RELOADING=1", proc, output)
    lib.note("SIGHUP: %r, then READY=1 %.3f s later" % (raw, n.msgs[j][0] - arrival))
    lib.check(proc.poll() is None, "feedmux exited after SIGHUP\n%s" % output())
    r = lib.fetch(base + "/healthz")
    lib.check(r.status == 200, "GET /healthz after the reload: HTTP %d" % r.status)

    # SIGHUP with a broken file: it says why (FILE:LINE) and stays ready.
    with open(conf, encoding="utf-8") as f:
        good = f.read()
    bad_line = good.count("\n") + 1
    with open(conf, "a", encoding="utf-8") as f:
        f.write("no_such_key = 1\n")
    start_at = len(n.snapshot())
    t_sig = time.clock_gettime(time.CLOCK_MONOTONIC)
    proc.send_signal(signal.SIGHUP)
    i = n.wait_for(lambda m: m.get("RELOADING") == "1", start_at, 10, "RELOADING=1 after a SIGHUP with a "
                   "broken file", proc, output)
    usec = n.msgs[i][1].get("MONOTONIC_USEC")
    lib.check(usec is not None and usec.isdigit() and t_sig - 0.01 <= int(usec) / 1e6 <= n.msgs[i][0] + 0.01,
              "broken reload: RELOADING=1 datagram %r lacks a current MONOTONIC_USEC" % n.msgs[i][2])
    where = "feedmux.conf:%d" % bad_line
    k = n.wait_for(lambda m: "STATUS" in m and where in m["STATUS"], i, 10,
                   "STATUS= naming the broken line (%s) after a failed reload" % where, proc, output)
    lib.check("fail" in n.msgs[k][1]["STATUS"], "STATUS=%r does not say the reload failed" % n.msgs[k][1]["STATUS"])
    j = n.wait_for(is_ready, i + 1, 10, "READY=1 after the failed reload", proc, output)
    lib.note("broken file: STATUS=%r, READY=1" % n.msgs[k][1]["STATUS"])
    with open(conf, "w", encoding="utf-8") as f:
        f.write(good)
    # The loop still runs: the watchdog keeps pinging.
    n.wait_for(lambda m: m.get("WATCHDOG") == "1", j + 1, 2, "WATCHDOG=1 after the failed reload", proc, output)

    # SIGTERM: STOPPING=1, exit 0.
    start_at = len(n.snapshot())
    proc.send_signal(signal.SIGTERM)
    i = n.wait_for(lambda m: m.get("STOPPING") == "1", start_at, 10, "STOPPING=1 after SIGTERM", proc, output)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        lib.fail("feedmux did not exit within 10 s of SIGTERM\n%s" % output())
    lib.check(rc == 0, "feedmux exited with %d after SIGTERM, want 0\n%s" % (rc, output()))
    time.sleep(0.3)  # datagrams sent just before exit
    after = [raw for _, m, raw in n.snapshot()[i + 1:] if is_ready(m) or m.get("RELOADING") == "1"]
    lib.check(not after, "after STOPPING=1 feedmux still sent %s" % after)
    lib.note("SIGTERM: STOPPING=1, exit 0")

    # Without WATCHDOG_USEC there is no watchdog to ping.
    d2 = lib.make_tempdir("nowatchdog")
    conf2 = lib.write_config(d2, [], interval="30s", min_interval="10s")
    sockpath2 = os.path.join(sock_dir(d2), "notify.sock")
    n2 = Notifications(sockpath2)
    proc2, output2 = start(conf2, d2, {"NOTIFY_SOCKET": sockpath2}, "nowatchdog")
    n2.wait_for(is_ready, 0, 20, "READY=1 (run without WATCHDOG_USEC)", proc2, output2)
    time.sleep(1.5)
    pings = [raw for _, m, raw in n2.snapshot() if m.get("WATCHDOG") == "1"]
    lib.check(not pings, "without WATCHDOG_USEC feedmux sent %d WATCHDOG=1" % len(pings))
    proc2.send_signal(signal.SIGTERM)
    try:
        rc = proc2.wait(10)
    except subprocess.TimeoutExpired:
        lib.fail("feedmux (no watchdog) did not exit within 10 s of SIGTERM\n%s" % output2())
    lib.check(rc == 0, "feedmux (no watchdog) exited with %d after SIGTERM\n%s" % (rc, output2()))
    lib.note("without WATCHDOG_USEC: READY=1 and no WATCHDOG=1")

    if problems:
        lib.fail("\n".join(problems) + "\n" + output())


lib.run_test(main)
