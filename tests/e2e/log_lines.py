"""End to end: feedmux's log lines, for journald and for a terminal (issue 8).

(Not named logging.py: this directory is sys.path[0] of every e2e script,
and a logging.py here would shadow the standard library's module.)

Feeds (fixture server on 127.0.0.1): wire-alpha (an RSS feed), wire-bravo
(HTTP 500), wire-charlie (a 301 to an Atom feed). Each run starts the daemon,
waits until the three feeds were polled, sends SIGHUP with the file
unchanged, then SIGHUP with an unknown key in it, then SIGTERM.

- JOURNAL_STREAM=8:12345 and -v: every stderr line starts with <N>, N 0-7
  (sd-daemon(3) priority prefixes); debug lines are there as <7> (e.g.
  "feed wire-alpha: polling ..."); the HTTP 500 is a <4> warning or worse;
  the broken file's FILE:LINE error is <3> or worse;
- JOURNAL_STREAM set, no -v: still <N> on every line, and no <7> line;
- no JOURNAL_STREAM, -v: every line starts with an ISO 8601 UTC timestamp
  (YYYY-MM-DDTHH:MM:SSZ, within a minute of now), no line with <N>; debug
  lines are there;
- in every run, every line about a feed (one that mentions its name or its
  url) names it as "feed NAME:", so `grep 'feed NAME:'` finds all of them;
- JOURNAL_STREAM set and a broken file at start-up: feedmux exits 1 and
  its FILE:LINE error lines carry <3> (or a more severe) prefix too, so
  `journalctl -p err` shows why the service did not start.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

PRIO_RE = re.compile(r"^<([0-7])>")
TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ")
NAMES = ("wire-alpha", "wire-bravo", "wire-charlie")

problems = []


def problem(msg):
    problems.append(msg)
    lib.note("PROBLEM: " + msg)


def env_for(journal):
    env = lib.child_env()
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
              "LISTEN_FDNAMES", "JOURNAL_STREAM"):
        env.pop(k, None)
    if journal:
        env["JOURNAL_STREAM"] = "8:12345"
    return env


def feeds_for(server):
    return [("wire-alpha", server.url("worlddesk.rss")),
            ("wire-bravo", server.url("status/500/bravo.rss")),
            ("wire-charlie", server.url("redirect/301/harbour.atom"))]


def one_run(server, tag, journal, verbose):
    """Run the daemon through polls, two reloads and a stop; its stderr lines."""
    d = lib.make_tempdir(tag)
    port = lib.free_port()
    conf = lib.write_config(d, feeds_for(server), _port=port, interval="30s", min_interval="10s")
    err_path = os.path.join(d, "feedmux.stderr")
    err = open(err_path, "w")
    args = [lib.feedmux_binary(), "-c", conf] + (["-v"] if verbose else [])
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env_for(journal))

    def kill():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    lib._cleanups.append(kill)

    def output():
        return "feedmux stderr (%s):\n%s" % (tag, lib.read_text(err_path))

    # Wait until every feed was polled once (none "pending" in /status).
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            lib.fail("%s: feedmux exited with %d\n%s" % (tag, proc.returncode, output()))
        try:
            r = lib.fetch("http://127.0.0.1:%d/status" % port)
            rows = [ln.split("\t") for ln in r.body.decode("utf-8", "replace").splitlines()[1:] if "\t" in ln]
            if r.status == 200 and len(rows) == 3 and all(row[1] != "pending" for row in rows):
                break
        except OSError:
            pass
        lib.check(time.monotonic() < deadline, "%s: the feeds were not all polled within 20 s\n%s"
                  % (tag, output()))
        time.sleep(0.2)
    time.sleep(0.7)  # the render debounce, so its lines are in too

    proc.send_signal(signal.SIGHUP)
    wait_log(proc, err_path, "reload: ", 1, tag, output)
    with open(conf, encoding="utf-8") as f:
        good = f.read()
    bad_line = good.count("\n") + 1
    with open(conf, "a", encoding="utf-8") as f:
        f.write("no_such_key = 1\n")
    proc.send_signal(signal.SIGHUP)
    wait_log(proc, err_path, "feedmux.conf:%d: " % bad_line, 1, tag, output)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(good)

    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        lib.fail("%s: feedmux did not exit within 10 s of SIGTERM\n%s" % (tag, output()))
    lib.check(rc == 0, "%s: exit %d after SIGTERM, want 0\n%s" % (tag, rc, output()))
    err.close()
    lines = lib.read_text(err_path).splitlines()
    lib.check(lines, "%s: feedmux wrote nothing to stderr" % tag)
    lib.note("%s: %d stderr lines" % (tag, len(lines)))
    return lines, bad_line, output


def wait_log(proc, path, text, count, tag, output):
    deadline = time.monotonic() + 10
    while lib.read_text(path).count(text) < count:
        lib.check(proc.poll() is None, "%s: feedmux exited (%s) while waiting for %r in its log\n%s"
                  % (tag, proc.returncode, text, output()))
        lib.check(time.monotonic() < deadline, "%s: no %r in the log within 10 s\n%s" % (tag, text, output()))
        time.sleep(0.1)


def check_feed_lines(lines, server, tag):
    """Every line that mentions a feed's name or url says "feed NAME:"."""
    urls = dict(feeds_for(server))
    bad = []
    for ln in lines:
        for name in NAMES:
            about = name in ln or urls[name] in ln
            if about and ("feed %s:" % name) not in ln:
                bad.append(ln)
    if bad:
        problem("%s: lines about a feed that do not name it as \"feed NAME:\":\n  %s"
                % (tag, "\n  ".join(bad)))
    for name in NAMES:
        lib.check(any(("feed %s:" % name) in ln for ln in lines), "%s: no line names feed %s" % (tag, name))


def prio(line):
    m = PRIO_RE.match(line)
    return int(m.group(1)) if m else None


def main():
    lib.feedmux_binary()
    server = lib.FixtureServer(lifetime=150)

    # journald, -v
    lines, bad_line, output = one_run(server, "journal-v", journal=True, verbose=True)
    unprefixed = [ln for ln in lines if prio(ln) is None]
    lib.check(not unprefixed, "JOURNAL_STREAM set: lines without a <N> prefix:\n  %s\n%s"
              % ("\n  ".join(unprefixed), output()))
    debug = [ln for ln in lines if prio(ln) == 7]
    lib.check(debug, "JOURNAL_STREAM set, -v: no <7> debug line\n%s" % output())
    lib.check(any(ln.startswith("<7>feed wire-alpha: ") for ln in debug),
              "JOURNAL_STREAM set, -v: no <7> line about polling feed wire-alpha\n%s" % output())
    http500 = [ln for ln in lines if "feed wire-bravo:" in ln and "HTTP 500" in ln]
    lib.check(http500 and all(prio(ln) <= 4 for ln in http500),
              "JOURNAL_STREAM set: the HTTP 500 of wire-bravo is not logged as <4> or more severe: %s\n%s"
              % (http500, output()))
    conf_err = [ln for ln in lines if "feedmux.conf:%d: " % bad_line in ln]
    lib.check(conf_err and all(prio(ln) <= 3 for ln in conf_err),
              "JOURNAL_STREAM set: the broken file's error is not <3> or more severe: %s\n%s" % (conf_err, output()))
    check_feed_lines(lines, server, "journal-v")
    lib.note("journal-v: every line has <N>; %d <7> debug lines; the 500 is %s, the file error %s"
             % (len(debug), http500[0][:3], conf_err[0][:3]))

    # journald, no -v
    lines, _, output = one_run(server, "journal", journal=True, verbose=False)
    unprefixed = [ln for ln in lines if prio(ln) is None]
    lib.check(not unprefixed, "JOURNAL_STREAM set (no -v): lines without a <N> prefix:\n  %s\n%s"
              % ("\n  ".join(unprefixed), output()))
    debug = [ln for ln in lines if prio(ln) == 7]
    lib.check(not debug, "JOURNAL_STREAM set, no -v: debug lines:\n  %s" % "\n  ".join(debug))
    lib.check(any(prio(ln) in (5, 6) for ln in lines), "JOURNAL_STREAM set: no <5> or <6> line\n%s" % output())
    check_feed_lines(lines, server, "journal")
    lib.note("journal: every line has <N>, none is <7>")

    # a terminal, -v
    t0 = time.time()
    lines, _, output = one_run(server, "plain-v", journal=False, verbose=True)
    t1 = time.time()
    bad = []
    for ln in lines:
        m = TS_RE.match(ln)
        if not m:
            bad.append(ln)
            continue
        ts = lib.epoch(m.group(1))
        if not (t0 - 60 <= ts <= t1 + 60):
            bad.append(ln)
    lib.check(not bad, "no JOURNAL_STREAM: lines without a current ISO 8601 UTC timestamp:\n  %s\n%s"
              % ("\n  ".join(bad), output()))
    lib.check(not [ln for ln in lines if PRIO_RE.match(ln)], "no JOURNAL_STREAM: <N> prefixes:\n%s" % output())
    lib.check(any("debug" in ln and "feed wire-alpha: polling" in ln for ln in lines),
              "no JOURNAL_STREAM, -v: no debug line about polling feed wire-alpha\n%s" % output())
    check_feed_lines(lines, server, "plain-v")
    lib.note("plain-v: every line starts with a timestamp; debug lines are there")

    # journald, and the file is broken at start-up.
    d = lib.make_tempdir("startup")
    conf = lib.write_config(d, feeds_for(server), interval="30s", min_interval="10s")
    with open(conf, encoding="utf-8") as f:
        bad_line = f.read().count("\n") + 1
    with open(conf, "a", encoding="utf-8") as f:
        f.write("no_such_key = 1\n")
    p = subprocess.run([lib.feedmux_binary(), "-c", conf], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, errors="replace", timeout=30, env=env_for(True))
    lib.check(p.returncode == 1, "a broken file at start-up: exit %d, want 1\n%s" % (p.returncode, p.stderr))
    lines = p.stderr.splitlines()
    lib.check(any("feedmux.conf:%d: " % bad_line in ln for ln in lines),
              "a broken file at start-up: no feedmux.conf:%d: error on stderr:\n%s" % (bad_line, p.stderr))
    wrong = [ln for ln in lines if prio(ln) is None or prio(ln) > 3]
    if wrong:
        problem("JOURNAL_STREAM set, broken file at start-up (`feedmux -c FILE` exits 1): lines without a "
                "<0>..<3> prefix, which journald records at the default priority (info):\n  %s"
                % "\n  ".join(wrong))
    else:
        lib.note("startup: the file's errors are <3> lines")

    if problems:
        lib.fail("\n".join(problems))


lib.run_test(main)
