"""End to end: feedmux as a foreground daemon serving HTTP.

Starts `feedmux -c CONF` with listen = 127.0.0.1:<free port> and the three
fixture feeds, then:
- within 30 s GET /feed.atom answers 200 with the 13 expected entries
  (exactly those, once each, newest first);
- its Content-Type is application/atom+xml and the body is valid Atom
  (RFC 4287 RELAX NG schema) that feedparser reads without bozo;
- GET /nope answers 404;
- SIGTERM makes it exit with status 0 within 10 s.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 30.0


def main():
    lib.feedmux_binary()  # fail early, before starting anything
    server = lib.FixtureServer(lifetime=120)
    d = lib.make_tempdir("daemon")
    port = lib.free_port()
    # First polls are spread over interval/10 (at most 60 s): a short
    # interval keeps that spread within a few seconds.
    conf = lib.write_config(d, lib.fixture_feeds(server), _port=port,
                            interval="30s", min_interval="10s")
    base = "http://127.0.0.1:%d" % port
    lib.note("feedmux -c %s, serving %s" % (conf, base))
    daemon = lib.Daemon(["-c", conf], d)

    # Poll until the merged feed holds every expected title (bounded).
    want = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    deadline = time.monotonic() + WAIT
    last = "no answer yet"
    resp = None
    while True:
        if not daemon.alive():
            lib.fail("feedmux exited with %d while starting\n%s"
                     % (daemon.proc.returncode, daemon.output()))
        try:
            r = lib.fetch(base + "/feed.atom")
            last = "HTTP %d, %d bytes" % (r.status, len(r.body))
            if r.status == 200:
                titles = {e.get("title") for e in lib.feedparser.parse(r.body).entries}
                last += ", %d of %d expected titles" % (len(titles & want), len(want))
                if want <= titles:
                    resp = r
                    break
        except OSError as e:
            last = "no HTTP answer: %s" % e
        if time.monotonic() > deadline:
            lib.fail("GET %s/feed.atom did not show the fixture entries within %d s "
                     "(last: %s)\n%s" % (base, WAIT, last, daemon.output()))
        time.sleep(0.25)
    lib.note("GET /feed.atom: %s" % last)

    ctype = resp.headers.get("Content-Type", "")
    lib.check(ctype.split(";")[0].strip().lower() == "application/atom+xml",
              "GET /feed.atom: Content-Type %r, want application/atom+xml" % ctype)
    body_path = os.path.join(d, "served-feed.atom")
    with open(body_path, "wb") as f:
        f.write(resp.body)
    lib.validate_atom(body_path)
    parsed = lib.parse_feed(resp.body, "GET /feed.atom")
    lib.check_entries(parsed, lib.FIXTURE_ENTRIES, "GET /feed.atom")

    try:
        r = lib.fetch(base + "/nope")
    except OSError as e:
        lib.fail("GET /nope: no HTTP answer: %s" % e)
    lib.check(r.status == 404, "GET /nope: HTTP %d, want 404" % r.status)

    lib.check(daemon.alive(), "feedmux exited (%s) before SIGTERM\n%s"
              % (daemon.proc.returncode, daemon.output()))
    t0 = time.monotonic()
    rc = daemon.stop(signal.SIGTERM, timeout=10)
    if rc is None:
        lib.fail("feedmux did not exit within 10 s of SIGTERM\n%s" % daemon.output())
    lib.check(rc == 0, "feedmux exited with %d after SIGTERM, want 0\n%s" % (rc, daemon.output()))
    lib.note("SIGTERM: exit 0 after %.2f s" % (time.monotonic() - t0))


lib.run_test(main)
