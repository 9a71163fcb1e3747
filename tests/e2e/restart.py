"""End to end: a restart changes nothing (issue 5).

The three fixture feeds are served through the fixture's /delay/2/304/
mode: ETag and Last-Modified, 304 on a matching conditional request, and
every response two seconds late, so a poll cannot complete within two
seconds of a start.

1. Run 1: `feedmux -c CONF` (listen on a free port, interval 30s, two
   [topic] sections). Wait until every feed was fetched (200) and GET
   /feed.atom shows all 13 fixture articles and has stopped changing;
   keep the body and ETag of every document served (/feed.atom, and
   /feed.json and the topic feeds where the daemon serves them). SIGTERM:
   exit 0, and output_dir/feed.atom holds the served body.
2. Run 2, same config and state:
   - every document, fetched before any of run 2's polls completed
     (checked against the fixture's request log), is byte-identical to
     run 1's, with the same ETag; a reader's conditional GET of
     /feed.atom with that ETag gets 304;
   - run 2's first request for every feed carries If-None-Match and is
     answered 304;
   - after that first cycle (and the publisher's debounce), every
     document is still byte-identical with the same ETag;
   - run 2's log never says "new or updated item(s)";
   - SIGTERM: exit 0; every file in output_dir holds the same bytes as
     after run 1.
3. `feedmux --once` twice on one fresh state: exit 0 both times,
   byte-identical output_dir/feed.atom (and .gz); the second run's feed
   requests are all conditional and answered 304, and nothing is new.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 40.0
DELAY = 2  # seconds the fixture holds every feed response
NEW_LINE = "new or updated item(s)"
DOCS = ["/feed.atom", "/feed.json", "/topics/ukraine.atom", "/topics/ukraine.json",
        "/topics/asia.atom", "/topics/asia.json"]
TOPICS = """
[topic ukraine]
match = Ukraine, Kyiv, Zelensky

[topic asia]
match = China, Taiwan, Australia, Philippines, South Korea, North Korea
"""


def feeds_via(server, prefix):
    return [(name, server.url(prefix + f)) for name, f in lib.FIXTURE_FEED_FILES]


def feed_requests(server, paths, since):
    """The fixture's log entries for paths that started at or after since."""
    return [q for q in server.requests()
            if q["method"] == "GET" and q["path"] in paths and q["time"] >= since]


def titles_in(body):
    """Entry titles and related-link headlines of a served document."""
    d = lib.feedparser.parse(body)
    out = set()
    for e in d.entries:
        out.add(e.get("title", ""))
        for link in e.get("links", []):
            t = link.get("title") or ""
            out.add(t)
            if ": " in t:  # "Publisher: headline"
                out.add(t.split(": ", 1)[1])
    return out


def get(base, what, path="/feed.atom", headers=None):
    try:
        return lib.fetch(base + path, headers=headers)
    except OSError as e:
        lib.fail("%s: GET %s: no HTTP answer: %s" % (what, path, e))


def documents(base, what, paths):
    """{path: Response} for the paths answered 200."""
    out = {}
    for p in paths:
        r = get(base, what, p)
        if r.status == 200:
            out[p] = r
        else:
            lib.check(r.status == 404, "%s: GET %s: HTTP %d" % (what, p, r.status))
    return out


def same_documents(before, after, what):
    lib.check(sorted(after) == sorted(before), "%s: documents served %s, run 1 served %s"
              % (what, sorted(after), sorted(before)))
    for p in sorted(before):
        same(before[p].body, after[p].body, "%s: GET %s vs run 1's" % (what, p))
        lib.check(after[p].headers.get("ETag") == before[p].headers.get("ETag"),
                  "%s: GET %s: ETag %r, run 1 served %r"
                  % (what, p, after[p].headers.get("ETag"), before[p].headers.get("ETag")))


def snapshot(directory):
    """{relative path: bytes} of output_dir, leaving out dot (temporary) files."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for f in files:
            if not f.startswith("."):
                p = os.path.join(root, f)
                out[os.path.relpath(p, directory)] = read_bytes(p)
    return out


def wait_published(daemon, base, server, paths, since):
    """Run 1: every feed fetched, all fixture titles shown, body stable."""
    want = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    deadline = time.monotonic() + WAIT
    last, stable_since, body = "no answer yet", None, None
    while True:
        if not daemon.alive():
            lib.fail("run 1: feedmux exited with %d\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            r = lib.fetch(base + "/feed.atom")
        except OSError as e:
            r, last = None, "no HTTP answer: %s" % e
        if r is not None and r.status == 200:
            missing = want - titles_in(r.body)
            fetched = {q["path"] for q in feed_requests(server, paths, since) if q["status"] == 200}
            last = "HTTP 200, %d bytes, %d titles missing, %d of %d feeds fetched" % (
                len(r.body), len(missing), len(fetched), len(paths))
            if not missing and fetched == set(paths):
                if body != r.body:
                    body, stable_since = r.body, time.monotonic()
                elif time.monotonic() - stable_since >= 1.5:
                    return r
        if time.monotonic() > deadline:
            lib.fail("run 1: GET %s/feed.atom did not settle with the fixture entries within %d s "
                     "(last: %s)\n%s" % (base, WAIT, last, daemon.output()))
        time.sleep(0.25)


def stop(daemon, what):
    rc = daemon.stop(signal.SIGTERM, timeout=15)
    if rc is None:
        lib.fail("%s: feedmux did not exit within 15 s of SIGTERM\n%s" % (what, daemon.output()))
    lib.check(rc == 0, "%s: feedmux exited with %d after SIGTERM, want 0\n%s" % (what, rc, daemon.output()))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def same(a, b, what):
    if a != b:
        import difflib
        diff = difflib.unified_diff(a.decode("utf-8", "replace").splitlines(),
                                    b.decode("utf-8", "replace").splitlines(), "before", "after",
                                    lineterm="", n=1)
        lib.fail("%s: not byte-identical (%d vs %d bytes):\n%s"
                 % (what, len(a), len(b), "\n".join(list(diff)[:60])))


def restart(server):
    d = lib.make_tempdir("daemon")
    port = lib.free_port()
    feeds = feeds_via(server, "delay/%d/304/" % DELAY)
    paths = {"/" + u.split("/", 3)[3] for _, u in feeds}
    conf = lib.write_config(d, feeds, _port=port, interval="30s", min_interval="10s")
    with open(conf, "a", encoding="utf-8") as f:
        f.write(TOPICS)
    base = "http://127.0.0.1:%d" % port
    public = os.path.join(d, "public", "feed.atom")

    # Run 1.
    os.mkdir(os.path.join(d, "run1"))
    t1 = time.time()
    lib.note("run 1: feedmux -c %s, serving %s" % (conf, base))
    daemon = lib.Daemon(["-c", conf], os.path.join(d, "run1"))
    r1 = wait_published(daemon, base, server, paths, t1)
    etag = r1.headers.get("ETag")
    lib.check(etag, "run 1: GET /feed.atom has no ETag")
    docs1 = documents(base, "run 1", DOCS)
    same(r1.body, docs1["/feed.atom"].body, "run 1: GET /feed.atom twice")
    stop(daemon, "run 1")
    lib.check(os.path.isfile(public), "run 1: no %s" % public)
    same(r1.body, read_bytes(public), "run 1: output_dir/feed.atom vs the served body")
    lib.validate_atom(public)
    files1 = snapshot(os.path.dirname(public))
    lib.note("run 1: /feed.atom %d bytes, ETag %s, %d entries; served %s; output_dir %s"
             % (len(r1.body), etag, len(lib.feedparser.parse(r1.body).entries), sorted(docs1),
                sorted(files1)))

    # Run 2: the first answer, before any poll completed.
    os.mkdir(os.path.join(d, "run2"))
    t2 = time.time()
    daemon = lib.Daemon(["-c", conf], os.path.join(d, "run2"))
    deadline = time.monotonic() + 15
    while True:
        if not daemon.alive():
            lib.fail("run 2: feedmux exited with %d\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            lib.fetch(base + "/feed.atom")
            break
        except OSError:
            if time.monotonic() > deadline:
                lib.fail("run 2: no HTTP answer within 15 s\n%s" % daemon.output())
            time.sleep(0.05)
    docs2 = documents(base, "run 2", DOCS)
    answered = time.time()
    same_documents(docs1, docs2, "run 2, before its first poll")
    cond = get(base, "run 2", headers={"If-None-Match": etag})
    lib.check(cond.status == 304, "run 2: conditional GET with run 1's ETag: HTTP %d, want 304" % cond.status)

    # The first cycle: conditional, 304, nothing new.
    deadline = time.monotonic() + WAIT
    while True:
        reqs = feed_requests(server, paths, t2)
        if {q["path"] for q in reqs} == paths:
            break
        if not daemon.alive() or time.monotonic() > deadline:
            lib.fail("run 2: not every feed was polled within %d s (requests: %s)\n%s"
                     % (WAIT, [(q["path"], q["status"]) for q in reqs], daemon.output()))
        time.sleep(0.25)
    early = [q for q in reqs if q["time"] + q["duration"] <= answered]
    lib.check(not early, "run 2: a poll had completed before the first GET /feed.atom was answered, "
              "so it did not test the outputs rebuilt from the store: %s" % early)
    firsts = {}
    for q in sorted(reqs, key=lambda q: q["time"]):
        firsts.setdefault(q["path"], q)
    for path, q in sorted(firsts.items()):
        lib.check(q["headers"].get("If-None-Match"),
                  "run 2: first request for %s was not conditional (headers %s)" % (path, q["headers"]))
        lib.check(q["status"] == 304, "run 2: first request for %s: HTTP %s, want 304" % (path, q["status"]))
    lib.note("run 2: first cycle: %s" % ", ".join("%s %s (If-None-Match %s)" % (
        p.rsplit("/", 1)[1], q["status"], q["headers"]["If-None-Match"]) for p, q in sorted(firsts.items())))
    time.sleep(1.5)  # the publisher's debounce, had anything changed
    same_documents(docs1, documents(base, "run 2", DOCS), "run 2, after its first cycle")
    stop(daemon, "run 2")
    log2 = lib.read_text(daemon.err_path)
    news = [ln for ln in log2.splitlines() if NEW_LINE in ln]
    lib.check(not news, "run 2: items came back as new:\n%s" % "\n".join(news))
    files2 = snapshot(os.path.dirname(public))
    lib.check(sorted(files2) == sorted(files1), "run 2: output_dir holds %s, after run 1 %s"
              % (sorted(files2), sorted(files1)))
    for f in sorted(files1):
        same(files1[f], files2[f], "run 2: output_dir/%s after SIGTERM vs after run 1" % f)
    lib.note("run 2: %d documents byte-identical before and after its first cycle, same ETags, "
             "all 304, nothing new" % len(docs1))


def once_twice(server):
    d = lib.make_tempdir("once")
    feeds = feeds_via(server, "304/")
    paths = {"/" + u.split("/", 3)[3] for _, u in feeds}
    conf = lib.write_config(d, feeds)
    public = os.path.join(d, "public", "feed.atom")
    outs = []
    for run in (1, 2):
        t = time.time()
        r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
        lib.check(r.returncode == 0, "--once run %d exited %d\nstderr:\n%s" % (run, r.returncode, r.stderr))
        lib.check(os.path.isfile(public), "--once run %d left no %s" % (run, public))
        outs.append((read_bytes(public), read_bytes(public + ".gz"), r.stderr, t))
    lib.validate_atom(public)
    same(outs[0][0], outs[1][0], "--once twice: output_dir/feed.atom")
    same(outs[0][1], outs[1][1], "--once twice: output_dir/feed.atom.gz")
    news = [ln for ln in outs[1][2].splitlines() if NEW_LINE in ln]
    lib.check(not news, "--once run 2: items came back as new:\n%s" % "\n".join(news))
    reqs = feed_requests(server, paths, outs[1][3])
    lib.check({q["path"] for q in reqs} == paths, "--once run 2 did not poll every feed: %s" % reqs)
    for q in reqs:
        lib.check(q["headers"].get("If-None-Match") and q["status"] == 304,
                  "--once run 2: %s: HTTP %s with headers %s, want a conditional request answered 304"
                  % (q["path"], q["status"], q["headers"]))
    lib.note("--once twice: %d bytes, byte-identical, second run all 304" % len(outs[0][0]))


def main():
    lib.feedmux_binary()  # fail early, before starting anything
    server = lib.FixtureServer(lifetime=240)
    restart(server)
    once_twice(server)


lib.run_test(main)
