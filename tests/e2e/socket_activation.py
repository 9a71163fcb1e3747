"""End to end: socket activation, as systemd's feedmux.socket does it (issue 8).

The test creates a listening TCP socket on 127.0.0.1:<kernel's choice> and
hands it to feedmux as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to the
child's own pid (a tiny sh wrapper exports LISTEN_PID=$$ and execs
feedmux, so the pid is the daemon's). The config's `listen` names another,
free port. Then:

- GET /feed.atom through the passed socket answers 200 with the 13 fixture
  entries (once each, newest first) after the first polls: valid Atom
  (RFC 4287 schema) that feedparser reads without bozo; /healthz and
  /status answer too, several requests at once (the socket is served by the
  event loop, not blocking it);
- nothing listens on the configured `listen` port (connection refused);
- fd 3 is O_NONBLOCK in feedmux (/proc/PID/fdinfo/3, where there is one);
- SIGTERM: exit 0 within 10 s.

A second run passes the socket with a LISTEN_PID that is not feedmux's:
sd_listen_fds must ignore it, so feedmux binds `listen` as usual.
"""

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 30.0
WRAPPER = 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"'


def start(conf, d, sock, tag, listen_pid=None):
    """feedmux -c conf with sock as fd 3, LISTEN_FDS=1 and LISTEN_PID (its own
    pid, or listen_pid when given)."""
    env = lib.child_env()
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
              "LISTEN_FDNAMES", "JOURNAL_STREAM"):
        env.pop(k, None)
    env["LISTEN_FDS"] = "1"
    fd = sock.fileno()

    def to_fd3():
        # In the child, before exec: the socket becomes fd 3, inheritable.
        if fd != 3:
            os.dup2(fd, 3)  # os.dup2 makes the new fd inheritable
        else:
            os.set_inheritable(3, True)

    if listen_pid is None:
        cmd = ["/bin/sh", "-c", WRAPPER, lib.feedmux_binary(), "-c", conf]
    else:
        env["LISTEN_PID"] = str(listen_pid)
        cmd = [lib.feedmux_binary(), "-c", conf]
    err_path = os.path.join(d, "feedmux-%s.stderr" % tag)
    err = open(err_path, "w")
    # close_fds=False: Popen would close fd 3 after preexec_fn otherwise.
    # Python opens its own descriptors non-inheritable, so nothing else leaks.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env,
                            close_fds=False, preexec_fn=to_fd3)

    def kill():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    lib._cleanups.append(kill)
    return proc, (lambda: "feedmux output:\n" + lib.read_text(err_path))


def listening(port):
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except ConnectionRefusedError:
            return False
        except OSError as e:
            if e.errno == errno.ECONNREFUSED:
                return False
            raise


def stop(proc, output, what):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        lib.fail("%s: feedmux did not exit within 10 s of SIGTERM\n%s" % (what, output()))
    lib.check(rc == 0, "%s: feedmux exited with %d after SIGTERM, want 0\n%s" % (what, rc, output()))


def main():
    lib.feedmux_binary()
    server = lib.FixtureServer(lifetime=120)
    d = lib.make_tempdir("socket")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    passed_port = sock.getsockname()[1]
    listen_port = lib.free_port()
    while listen_port == passed_port:
        listen_port = lib.free_port()
    conf = lib.write_config(d, lib.fixture_feeds(server), _port=listen_port,
                            interval="30s", min_interval="10s")
    base = "http://127.0.0.1:%d" % passed_port
    lib.note("socket on 127.0.0.1:%d passed as fd 3; listen = 127.0.0.1:%d" % (passed_port, listen_port))
    proc, output = start(conf, d, sock, "activated")
    sock.close()  # only the daemon holds it now: answers can come from nobody else

    want = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    deadline = time.monotonic() + WAIT
    last = "no answer yet"
    resp = None
    while resp is None:
        if proc.poll() is not None:
            lib.fail("feedmux exited with %d while starting\n%s" % (proc.returncode, output()))
        try:
            r = lib.fetch(base + "/feed.atom")
            last = "HTTP %d, %d bytes" % (r.status, len(r.body))
            if r.status == 200:
                titles = {e.get("title") for e in lib.feedparser.parse(r.body).entries}
                last += ", %d of %d expected titles" % (len(titles & want), len(want))
                if want <= titles:
                    resp = r
        except OSError as e:
            last = "no HTTP answer: %s" % e
        if resp is None:
            if time.monotonic() > deadline:
                lib.fail("GET /feed.atom through the passed socket did not show the fixture entries "
                         "within %d s (last: %s)\n%s" % (WAIT, last, output()))
            time.sleep(0.25)
    lib.note("GET /feed.atom through the passed socket: %s" % last)
    ctype = resp.headers.get("Content-Type", "")
    lib.check(ctype.split(";")[0].strip().lower() == "application/atom+xml",
              "GET /feed.atom: Content-Type %r, want application/atom+xml" % ctype)
    body_path = os.path.join(d, "served-feed.atom")
    with open(body_path, "wb") as f:
        f.write(resp.body)
    lib.validate_atom(body_path)
    lib.check_entries(lib.parse_feed(resp.body, "GET /feed.atom"), lib.FIXTURE_ENTRIES,
                      "GET /feed.atom (socket activation)")

    # Several requests at once, all answered.
    results = []
    lock = threading.Lock()

    def get(path):
        try:
            st = lib.fetch(base + path, timeout=10).status
        except OSError as e:
            st = str(e)
        with lock:
            results.append((path, st))
    threads = [threading.Thread(target=get, args=(p,)) for p in ("/feed.atom", "/healthz", "/status") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    bad = [(p, st) for p, st in results if st != 200]
    lib.check(len(results) == len(threads) and not bad,
              "concurrent GETs through the passed socket: %d of %d answered, not 200: %s"
              % (len(results), len(threads), bad))
    lib.note("%d concurrent GETs through the passed socket: all 200" % len(threads))

    lib.check(not listening(listen_port), "something listens on the configured listen port %d: with a "
              "socket from systemd feedmux must not bind `listen`\n%s" % (listen_port, output()))
    lib.note("nothing listens on the configured listen port %d" % listen_port)
    fdinfo = "/proc/%d/fdinfo/3" % proc.pid
    if os.path.exists(fdinfo):
        flags = [ln.split()[1] for ln in lib.read_text(fdinfo).splitlines() if ln.startswith("flags:")]
        lib.check(flags and int(flags[0], 8) & os.O_NONBLOCK, "fd 3 of feedmux (the passed socket) is not "
                  "O_NONBLOCK: %s" % lib.read_text(fdinfo))
        lib.note("fd 3 in feedmux is O_NONBLOCK (flags %s)" % flags[0])
    stop(proc, output, "socket activation")
    lib.check(not listening(passed_port), "the passed socket still accepts connections after feedmux exited")
    lib.note("SIGTERM: exit 0")

    # LISTEN_PID of another process: not ours, so feedmux binds `listen`.
    d2 = lib.make_tempdir("notours")
    sock2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock2.bind(("127.0.0.1", 0))
    sock2.listen(4)
    port2 = lib.free_port()
    conf2 = lib.write_config(d2, [], _port=port2, interval="30s", min_interval="10s")
    proc2, output2 = start(conf2, d2, sock2, "notours", listen_pid=1)
    sock2.close()
    deadline = time.monotonic() + 15
    while True:
        if proc2.poll() is not None:
            lib.fail("feedmux (LISTEN_PID=1) exited with %d\n%s" % (proc2.returncode, output2()))
        try:
            r = lib.fetch("http://127.0.0.1:%d/healthz" % port2)
            if r.status == 200:
                break
        except OSError:
            pass
        lib.check(time.monotonic() < deadline, "with LISTEN_PID=1 (not feedmux's pid) feedmux did not serve "
                  "on its configured listen port %d within 15 s\n%s" % (port2, output2()))
        time.sleep(0.2)
    lib.note("LISTEN_PID of another process: the passed socket is ignored, listen = 127.0.0.1:%d is served"
             % port2)
    stop(proc2, output2, "LISTEN_PID=1")


lib.run_test(main)
