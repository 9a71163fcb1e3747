"""feedmux under valgrind memcheck (issue 10): no leak, no invalid access.

Every run is
    valgrind --leak-check=full --errors-for-leak-kinds=definite
             --error-exitcode=99 --track-fds=no [--suppressions=valgrind.supp]
and must end with valgrind's exit status not 99 (the run's own status as
below) and a log without "definitely lost" (other than 0 bytes in the
summary), "Invalid read", "Invalid write", "Invalid free", uninitialised
values or any other memcheck error ("ERROR SUMMARY: 0 errors").

1. --once against the fixture feeds (tests/fixture/feeds, served by
   tests/fixture/server.py), two of them through the /304/gzip/ and /etag/
   modifiers: exit 0 and /feed.atom written. 2. --once again on the same
   state: the conditional requests come back 304, exit 0. 3. --once with a
   feed that answers 404 and one cut short (/truncate/) next to a good one:
   exit 1 (feeds failed), never 99.
4. The daemon (interval 10s, a topic, one feed answering 500): once
   /feed.atom serves the fixture entries, GET /feed.atom plain, gzip and
   with If-None-Match (304), HEAD, /feed.json, /topics/ukraine.atom,
   /feeds.opml, /, /status, /metrics, /healthz, a 404 and a POST (405);
   a served feed changes and is polled again; SIGHUP with an edited file
   (a feed removed, one added, the topic's terms changed: the log says
   "reload: 1 feed(s) added, 1 removed"), then SIGHUP with a broken file
   (rejected, /status says so), more GETs; SIGTERM: exit 0 within 90 s.

It skips (77) when valgrind is not installed or when FEEDMUX is built with
AddressSanitizer (valgrind and ASan cannot share a process): CI's make
check uses a sanitized build, and tests/check.sh runs this test again in a
plain build (build-plain/). Takes about a minute.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

SUPP = os.path.join(lib.SRCDIR, "e2e", "valgrind.supp")
WAIT = 60.0  # valgrind makes feedmux ~20-50 times slower


def valgrind_cmd(log):
    cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99",
           "--track-fds=no", "--num-callers=30", "--log-file=" + log]
    if os.path.exists(SUPP):
        cmd.append("--suppressions=" + SUPP)
    return cmd + [lib.feedmux_binary()]


def asan_build(path):
    """Whether path is built with AddressSanitizer."""
    try:
        p = subprocess.run(["nm", "-D", path], capture_output=True, text=True, errors="replace", timeout=60)
        if "__asan_init" in p.stdout:
            return True
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        p = subprocess.run(["ldd", path], capture_output=True, text=True, errors="replace", timeout=60)
        if re.search(r"\blibasan\b", p.stdout):
            return True
    except (OSError, subprocess.TimeoutExpired):
        pass
    return False


def check_log(log, what):
    """memcheck's log: no error of any kind, nothing definitely lost."""
    text = lib.read_text(log)
    problems = []
    for pat, name in ((r"are definitely lost in loss record", "a definite leak"),
                      (r"definitely lost: [1-9][\d,]* bytes", "definitely lost bytes"),
                      (r"Invalid (read|write|free)", "an invalid access"),
                      (r"Conditional jump or move depends on uninitialised", "use of uninitialised memory"),
                      (r"Use of uninitialised value", "use of uninitialised memory"),
                      (r"Syscall param .* (uninitialised|unaddressable)", "a bad syscall parameter"),
                      (r"Mismatched free", "a mismatched free"),
                      (r"Source and destination overlap", "overlapping memcpy"),
                      (r"Process terminating with default action", "a fatal signal")):
        if re.search(pat, text):
            problems.append(name)
    m = re.search(r"ERROR SUMMARY: ([\d,]+) errors", text)
    if not m:
        problems.append("no ERROR SUMMARY (valgrind did not finish?)")
    elif m.group(1) != "0":
        problems.append("ERROR SUMMARY: %s errors" % m.group(1))
    if problems:
        lib.fail("%s: valgrind reports %s; log %s:\n%s" % (what, ", ".join(problems), log, excerpt(text)))
    heap = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes", text)
    return heap.group(0) if heap else "?"


def excerpt(text, limit=12000):
    """The error blocks of a memcheck log (the first limit characters)."""
    lines = [l for l in text.splitlines() if not re.match(r"==\d+== (Copyright|Using Valgrind|Command:|Parent PID)", l)]
    body = "\n".join(lines)
    return body if len(body) <= limit else body[:limit] + "\n[...]"


def once(d, conf, tag, want_rc):
    log = os.path.join(d, "valgrind-%s.log" % tag)
    cmd = valgrind_cmd(log) + ["--once", "-c", conf]
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                           timeout=180, env=lib.child_env())
    except subprocess.TimeoutExpired:
        lib.fail("--once (%s) under valgrind did not finish within 180 s" % tag)
    lib.check(p.returncode != 99, "--once (%s): valgrind found errors (exit 99); log %s:\n%s\nstderr:\n%s"
              % (tag, log, excerpt(lib.read_text(log)), p.stderr))
    lib.check(p.returncode == want_rc, "--once (%s) under valgrind: exit %d, want %d\nstderr:\n%s"
              % (tag, p.returncode, want_rc, p.stderr))
    heap = check_log(log, "--once (%s)" % tag)
    lib.note("--once (%s): exit %d in %.1f s, clean; %s" % (tag, p.returncode, time.monotonic() - t, heap))
    return p


class VgDaemon:
    """feedmux -c CONF in the foreground under valgrind."""

    def __init__(self, d, conf):
        self.log = os.path.join(d, "valgrind-daemon.log")
        self.out_path = os.path.join(d, "feedmux.stdout")
        self.err_path = os.path.join(d, "feedmux.stderr")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(valgrind_cmd(self.log) + ["-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err, env=lib.child_env())
        lib._cleanups.append(self.kill)

    def output(self):
        return "stdout:\n%s\nstderr:\n%s" % (lib.read_text(self.out_path), lib.read_text(self.err_path))

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


def wait_for(what, cond, daemon, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon is not None and not daemon.alive():
            lib.fail("feedmux exited under valgrind while waiting for %s (status %s):\n%s\nvalgrind:\n%s"
                     % (what, daemon.proc.returncode, daemon.output(), excerpt(lib.read_text(daemon.log))))
        try:
            v = cond()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.3)
    lib.fail("timed out after %.0f s waiting for %s%s" % (timeout, what,
                                                       "\n" + daemon.output() if daemon else ""))


def titles(body):
    return set(re.findall(r"<title[^>]*>([^<]*)</title>", body.decode("utf-8", "replace")))


def status_lines(base):
    r = lib.fetch(base + "/status", timeout=15)
    return r.body.decode("utf-8", "replace").splitlines() if r.status == 200 else []


def main():
    if shutil.which("valgrind") is None:
        lib.skip("valgrind is not installed (Debian: apt-get install valgrind; tests/deps.sh does)")
    fm = lib.feedmux_binary()
    if asan_build(fm):
        lib.skip("%s is built with AddressSanitizer, which cannot run under valgrind; tests/check.sh "
                 "runs this test in a plain build (build-plain/)" % fm)

    # The fixture feeds in a copy the daemon part can change.
    feeds = lib.make_tempdir("feeds")
    for _, f in lib.FIXTURE_FEED_FILES:
        shutil.copy(os.path.join(lib.FIXTURE_FEEDS, f), feeds)
    server = lib.FixtureServer(root=feeds, lifetime=600)
    good = [("worlddesk", server.url("304/gzip/worlddesk.rss")), ("baltic", server.url("etag/baltic.rdf")),
            ("harbour", server.url("harbour.atom"))]

    # 1-3: --once.
    d = lib.make_tempdir("once")
    conf = lib.write_config(d, good, listen="")
    once(d, conf, "cold", 0)
    atom = os.path.join(d, "public", "feed.atom")
    lib.check(os.path.exists(atom), "--once wrote no %s" % atom)
    got = titles(open(atom, "rb").read())
    want = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    lib.check(want <= got, "--once: feed.atom lacks %s" % sorted(want - got))
    once(d, conf, "conditional", 0)
    d3 = lib.make_tempdir("once-faults")
    conf3 = lib.write_config(d3, [good[0], ("missing", server.url("status/404/missing")),
                                  ("cut", server.url("truncate/harbour.atom"))], listen="")
    p = once(d3, conf3, "faults", 1)
    lib.check("missing" in p.stderr and "cut" in p.stderr,
              "--once (faults): stderr does not name the failed feeds:\n%s" % p.stderr)

    # 4: the daemon.
    d = lib.make_tempdir("daemon")
    port = lib.free_port()
    base = "http://127.0.0.1:%d" % port
    feeds4 = good + [("broken", server.url("status/500/broken"))]
    topic = "\n[topic ukraine]\ntitle = Ukraine\nmatch = Ukraine, Kyiv\n"
    conf = lib.write_config(d, feeds4, _port=port, interval="10s", min_interval="5s")
    with open(conf, "a", encoding="utf-8") as f:
        f.write(topic)
    t0 = time.monotonic()
    daemon = VgDaemon(d, conf)

    def ready():
        lines = status_lines(base)[1:]
        states = {l.split("\t")[0]: l.split("\t")[1] for l in lines if "\t" in l}
        if len(states) != 4 or any(states[n] != "ok" for n, _ in good) or states["broken"] != "failing":
            return None
        r = lib.fetch(base + "/feed.atom", timeout=15)
        return r if r.status == 200 and want <= titles(r.body) else None

    r = wait_for("the first polls (every good feed ok, /feed.atom with the fixture entries)", ready, daemon)
    lib.note("daemon: serving the fixture entries %.1f s after the start" % (time.monotonic() - t0))
    etag = r.headers.get("ETag")
    lib.check(etag, "/feed.atom has no ETag")

    def expect(path, want_status, **kw):
        resp = lib.fetch(base + path, timeout=15, **kw)
        lib.check(resp.status == want_status, "%s %s: status %d, want %d" % (kw.get("method", "GET"), path,
                                                                            resp.status, want_status))
        return resp

    def requests():
        g = expect("/feed.atom", 200, headers={"Accept-Encoding": "gzip"})
        lib.check(g.headers.get("Content-Encoding") == "gzip", "/feed.atom with gzip is not gzipped")
        cur = expect("/feed.atom", 200)
        expect("/feed.atom", 304, headers={"If-None-Match": cur.headers.get("ETag")})
        expect("/feed.atom", 200, method="HEAD")
        expect("/feed.json", 200, headers={"Accept-Encoding": "gzip"})
        expect("/topics/ukraine.atom", 200)
        expect("/topics/ukraine.json", 200)
        expect("/feeds.opml", 200)
        expect("/", 200)
        expect("/status", 200)
        expect("/metrics", 200, headers={"Accept-Encoding": "gzip"})
        expect("/healthz", 200)
        expect("/no-such-document", 404)
        expect("/feed.atom", 405, method="POST")

    requests()

    # A feed changes: the next poll (interval 10 s) stores and publishes it.
    path = os.path.join(feeds, "harbour.atom")
    text = lib.read_text(path)
    new_entry = ("<entry><title>Valgrind soak entry about Kyiv</title>"
                 "<id>tag:harbourledger.feedmux.invalid,2025:valgrind</id>"
                 "<link href=\"https://harbourledger.feedmux.invalid/valgrind\"/>"
                 "<updated>2025-06-02T06:00:00Z</updated><summary>A new item.</summary></entry>\n")
    pos = text.index("<entry")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text[:pos] + new_entry + text[pos:])
    os.replace(path + ".tmp", path)
    wait_for("the changed feed's new entry in /feed.atom",
             lambda: "Valgrind soak entry about Kyiv" in titles(lib.fetch(base + "/feed.atom", timeout=15).body),
             daemon)

    # SIGHUP with an edited file: baltic out, a new feed in, other topic terms.
    conf_text = lib.read_text(conf)
    conf_text = re.sub(r"\n\[feed baltic\]\nurl = [^\n]*\n", "\n", conf_text)
    conf_text = conf_text.replace("match = Ukraine, Kyiv", "match = Gaza, Taiwan")
    conf_text += "\n[feed baltic2]\nurl = %s\n" % server.url("304/baltic.rdf?copy=2")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(conf_text)
    daemon.signal(signal.SIGHUP)
    wait_for("the reload line in the log",
             lambda: "reload: 1 feed(s) added, 1 removed" in lib.read_text(daemon.err_path), daemon)
    wait_for("baltic2 polled after the reload",
             lambda: any(l.startswith("baltic2\tok\t") for l in status_lines(base)), daemon)
    requests()

    # SIGHUP with a broken file: rejected, the running configuration stays.
    with open(conf, "a", encoding="utf-8") as f:
        f.write("\n[feed nourl]\ntitle = no url here\n\n[feedmux]\nbogus_key = 1\n")
    daemon.signal(signal.SIGHUP)
    wait_for("the failed reload in /status",
             lambda: any("reload failed" in l for l in status_lines(base)), daemon)
    requests()
    expect("/feed.atom", 304, headers={"If-None-Match": lib.fetch(base + "/feed.atom").headers.get("ETag")})

    daemon.signal(signal.SIGTERM)
    try:
        rc = daemon.proc.wait(90)
    except subprocess.TimeoutExpired:
        lib.fail("feedmux under valgrind did not exit within 90 s of SIGTERM:\n%s" % daemon.output())
    lib.check(rc != 99, "daemon: valgrind found errors (exit 99); log %s:\n%s"
              % (daemon.log, excerpt(lib.read_text(daemon.log))))
    lib.check(rc == 0, "daemon under valgrind exited %d on SIGTERM, want 0:\n%s" % (rc, daemon.output()))
    heap = check_log(daemon.log, "daemon")
    lib.note("daemon: exit 0 after %.1f s, clean; %s" % (time.monotonic() - t0, heap))


if __name__ == "__main__":
    lib.run_test(main)
