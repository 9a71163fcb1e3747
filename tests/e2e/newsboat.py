"""A real feed reader subscribes to the running daemon (issue 7): newsboat.

feedmux polls the three fixture feeds with two topics configured. Then
newsboat (Debian package), with its cache, configuration, URL list, HOME
and XDG directories all in the test's temp dir, reads the daemon's
documents the way a subscriber does:

- per document (/feed.atom, /topics/ukraine.atom, /topics/asia-pacific.atom),
  on a cache of its own: `newsboat -x reload print-unread` prints
  "N unread articles" with N the number of entries feedmux published, and
  newsboat's cache (rss_item) holds exactly those entries: the same ids
  (guid), titles, links and dates as feedparser reads from the same bytes,
  and the feed title feedparser reads (rss_feed);
- all documents on one cache: print-unread counts every distinct entry
  once (an entry of a topic feed is the same entry, same id, as in the
  merged feed), and `newsboat -e` exports the subscriptions with feedmux's
  titles;
- newsboat keeps the ETag feedmux sent for each document, and a second
  reload leaves the same entries unread;
- newsboat logged no error (its error-log and its debug log at level 3
  stay free of errors).

Exit 77 when newsboat is not installed (tests/deps.sh installs it).
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 40.0
TOPICS = """
[topic ukraine]
title = Ukraine
match = Ukraine, Kyiv, Zelensky

[topic asia-pacific]
title = Asia-Pacific
match = China, Taiwan, Australia, Philippines, South Korea, North Korea
"""
DOCS = ["/feed.atom", "/topics/ukraine.atom", "/topics/asia-pacific.atom"]


class Newsboat:
    """newsboat with everything it writes under one directory."""

    def __init__(self, directory, urls):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.cache = os.path.join(directory, "cache.db")
        self.config = os.path.join(directory, "config")
        self.urls = os.path.join(directory, "urls")
        self.error_log = os.path.join(directory, "error.log")
        self.debug_log = os.path.join(directory, "debug.log")
        with open(self.urls, "w", encoding="utf-8") as f:
            f.write("".join(u + "\n" for u in urls))
        with open(self.config, "w", encoding="utf-8") as f:
            f.write('reload-threads 1\ndownload-timeout 10\nerror-log "%s"\n' % self.error_log)
        self.env = dict(lib.child_env(), HOME=directory, LANG="C.UTF-8", LC_ALL="C.UTF-8",
                        XDG_CONFIG_HOME=os.path.join(directory, "xdg-config"),
                        XDG_DATA_HOME=os.path.join(directory, "xdg-data"),
                        XDG_CACHE_HOME=os.path.join(directory, "xdg-cache"),
                        XDG_STATE_HOME=os.path.join(directory, "xdg-state"))
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            self.env.pop(k, None)

    def run(self, *args, timeout=30):
        cmd = ["newsboat", "-c", self.cache, "-C", self.config, "-u", self.urls,
               "-l", "3", "-d", self.debug_log] + list(args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            lib.fail("`%s` did not finish within %d s" % (" ".join(cmd), timeout))
        lib.check(p.returncode == 0, "`%s` exited %d\nstdout:\n%s\nstderr:\n%s"
                  % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        self.check_no_errors(" ".join(args))
        return p.stdout

    def unread(self):
        """`newsboat -x reload print-unread`: the number it prints."""
        out = self.run("-x", "reload", "print-unread")
        m = re.fullmatch(r"(\d+) unread articles?\n?", out)
        lib.check(m is not None, "newsboat print-unread printed %r" % out)
        return int(m.group(1))

    def check_no_errors(self, what):
        for path in (self.error_log, self.debug_log):
            text = lib.read_text(path) if os.path.exists(path) else ""
            lib.check("ERROR" not in text.upper(), "newsboat %s logged errors in %s:\n%s" % (what, path, text))

    def items(self, feedurl):
        """newsboat's view of one feed: {guid: (title, url, pubDate)}."""
        with sqlite3.connect(self.cache) as db:
            rows = db.execute("SELECT guid, title, url, pubDate FROM rss_item WHERE feedurl = ? AND deleted = 0",
                              (feedurl,)).fetchall()
        got = {}
        for guid, title, url, pub in rows:
            lib.check(guid not in got, "newsboat holds %r twice for %s" % (guid, feedurl))
            got[guid] = (title, url, pub)
        return got

    def feed(self, feedurl):
        """(title, etag) newsboat keeps for a subscription."""
        with sqlite3.connect(self.cache) as db:
            cols = [r[1] for r in db.execute("PRAGMA table_info(rss_feed)")]
            etag = "etag" if "etag" in cols else "''"
            row = db.execute("SELECT title, %s FROM rss_feed WHERE rssurl = ?" % etag, (feedurl,)).fetchone()
        lib.check(row is not None, "newsboat has no rss_feed row for %s" % feedurl)
        return row


def expected(body, what):
    """feedparser's view of a served document: {id: (title, link, dates)}."""
    d = lib.parse_feed(body, what)
    want = {}
    for e in d.entries:
        lib.check(e.id not in want, "%s: id %r twice" % (what, e.id))
        want[e.id] = (e.title, e.link, set(t for t in lib.entry_times(e) if t))
    return d.feed.title, want


def compare(got, want, what):
    """newsboat's items equal feedparser's entries."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    lib.check(not missing and not extra, "%s: newsboat and feedparser disagree on the entries\n"
              "  only in feedmux's document: %s\n  only in newsboat: %s" % (what, missing, extra))
    for guid, (title, link, dates) in want.items():
        ntitle, nurl, npub = got[guid]
        lib.check(ntitle == title, "%s: entry %s titled %r by newsboat, %r in the document"
                  % (what, guid, ntitle, title))
        lib.check(nurl == link, "%s: entry %s links to %r in newsboat, %r in the document" % (what, guid, nurl, link))
        lib.check(npub in dates, "%s: entry %s dated %s by newsboat, want one of %s"
                  % (what, guid, lib.iso(npub), [lib.iso(t) for t in dates]))


def not_modified(base):
    r = lib.fetch(base + "/metrics")
    m = re.search(r'^feedmux_http_requests_total\{code="304"\} (\d+)$', r.body.decode(), re.M)
    lib.check(r.status == 200 and m is not None, "GET /metrics: no 304 counter")
    return int(m.group(1))


def main():
    lib.feedmux_binary()
    if shutil.which("newsboat") is None:
        lib.skip("newsboat is not installed (Debian: apt-get install newsboat; tests/deps.sh installs it)")
    server = lib.FixtureServer(lifetime=120)
    d = lib.make_tempdir("newsboat")
    port = lib.free_port()
    conf = lib.write_config(d, lib.fixture_feeds(server), _port=port, interval="30s", min_interval="10s")
    with open(conf, "a", encoding="utf-8") as f:
        f.write(TOPICS)
    base = "http://127.0.0.1:%d" % port
    daemon = lib.Daemon(["-c", conf], d)

    # Every feed polled and the outputs rendered and settled.
    want_titles = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    deadline = time.monotonic() + WAIT
    docs, last = None, "no answer"
    while time.monotonic() < deadline and docs is None:
        if not daemon.alive():
            lib.fail("feedmux exited with %s\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            r = lib.fetch(base + "/feed.atom")
            last = "HTTP %d" % r.status
            if r.status == 200 and want_titles <= {e.get("title") for e in lib.feedparser.parse(r.body).entries}:
                time.sleep(1.5)  # the render debounce: the topic feeds settle with the merged one
                first = {p: lib.fetch(base + p) for p in DOCS}
                time.sleep(0.5)
                again = {p: lib.fetch(base + p) for p in DOCS}
                if all(first[p].status == 200 and first[p].body == again[p].body for p in DOCS):
                    docs = again
        except OSError as e:
            last = "no HTTP answer: %s" % e
        if docs is None:
            time.sleep(0.3)
    lib.check(docs is not None, "feedmux did not publish the fixture entries within %d s (last: %s)\n%s"
              % (WAIT, last, daemon.output()))

    views = {}
    for p in DOCS:
        title, want = expected(docs[p].body, "GET " + p)
        lib.check(want, "GET %s has no entries" % p)
        views[p] = (title, want)

    # One subscription per cache: newsboat's items are feedmux's entries.
    for i, p in enumerate(DOCS):
        url = base + p
        nb = Newsboat(os.path.join(d, "nb-%d" % i), [url])
        n = nb.unread()
        title, want = views[p]
        lib.check(n == len(want), "newsboat on %s: %d unread, feedmux published %d entries" % (p, n, len(want)))
        compare(nb.items(url), want, "newsboat on " + p)
        ntitle, etag = nb.feed(url)
        lib.check(ntitle == title, "newsboat calls %s %r, the document says %r" % (p, ntitle, title))
        lib.note("%s: newsboat reads the %d entries feedmux published" % (p, n))

    # All subscriptions on one cache, as a reader would have them.
    nb = Newsboat(os.path.join(d, "nb-all"), [base + p for p in DOCS])
    n = nb.unread()
    ids = set()
    for p in DOCS:
        ids |= set(views[p][1])
    lib.check(ids == set(views["/feed.atom"][1]), "the topic feeds hold entries the merged feed lacks: %s"
              % (ids - set(views["/feed.atom"][1])))
    lib.check(n == len(ids), "newsboat with every document: %d unread, want %d distinct entries" % (n, len(ids)))
    with sqlite3.connect(nb.cache) as db:
        stored = {r[0]: r[1] for r in db.execute("SELECT guid, title FROM rss_item WHERE deleted = 0")}
    merged = views["/feed.atom"][1]
    lib.check(stored == {g: merged[g][0] for g in merged}, "newsboat with every document holds %s" % stored)
    opml = ET.fromstring(nb.run("-e"))
    exported = {o.get("xmlUrl"): o.get("title") for o in opml.iter("outline") if o.get("xmlUrl")}
    lib.check(exported == {base + p: views[p][0] for p in DOCS},
              "newsboat -e exported %s, want %s" % (exported, {base + p: views[p][0] for p in DOCS}))

    # A second reload changes nothing, and newsboat then holds the ETag
    # feedmux sent for each document (newsboat 2.21 records validators from
    # the second reload on and sends no conditional headers from -x reload;
    # should a newsboat send them, feedmux answers 304).
    before = not_modified(base)
    n2 = nb.unread()
    lib.check(n2 == n, "newsboat's second reload: %d unread, the first %d" % (n2, n))
    etags = {p: docs[p].headers.get("ETag") for p in DOCS}
    kept = {p: nb.feed(base + p)[1] for p in DOCS}
    lib.check(kept == etags, "newsboat kept the ETags %s, feedmux sent %s" % (kept, etags))
    lib.note("second reload: %d unread, %d answered 304" % (n2, not_modified(base) - before))
    for p in DOCS:
        r = lib.fetch(base + p)
        lib.check(r.body == docs[p].body, "%s changed while newsboat read it" % p)

    lib.check(daemon.stop(signal.SIGTERM) == 0, "feedmux did not exit 0 on SIGTERM:\n%s" % daemon.output())
    lib.note("newsboat: %d distinct entries over %d subscriptions" % (n, len(DOCS)))


lib.run_test(main)
