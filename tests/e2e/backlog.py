"""End to end: fetching faster than the workers parse.

48 RSS feeds of 60 items each, every item with an 8 KB HTML description
(about 23 MB in all), served by the fixture server on 127.0.0.1 to
`feedmux --once -v` with 64 transfers allowed at once. Fetching over
loopback outruns parsing, so the workers' queue fills and transfers pause
(the rest of their bodies wait in the kernel) and resume as it drains.

Asserted: exit 0; the debug log says transfers paused and resumed; every
one of the 2,880 items is in the state database, under its own feed, and
the merged feed is valid Atom. A pause that lost or repeated the chunk
curl hands over again on resume would break the XML (a failed feed) or
lose items.
"""

import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

NFEEDS = 48
NITEMS = 60
PARA = ("<p>Harbour authorities in the <b>northern district</b> said on Tuesday that "
        "the new quay would open in spring, after two years of delays caused by "
        "storms, a shortage of steel and a dispute over the dredging contract. "
        "<a href=\"https://example.org/quay\">Details</a> follow.</p>")


def write_feeds(root):
    for f in range(NFEEDS):
        items = []
        for i in range(NITEMS):
            body = "".join("%s<p>Feed %d, item %d, paragraph %d.</p>" % (PARA, f, i, k) for k in range(28))
            items.append(
                "<item><title>Quay report %d from desk %d</title>"
                "<link>https://news%d.example.org/quay/%d</link>"
                "<guid isPermaLink=\"false\">backlog-%d-%d</guid>"
                "<pubDate>Tue, 10 Jun 2025 %02d:%02d:00 +0000</pubDate>"
                "<description><![CDATA[%s]]></description></item>\n"
                % (i, f, f, i, f, i, i % 24, f % 60, body))
        text = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
                "<title>Desk %d</title><link>https://news%d.example.org/</link>"
                "<description>desk %d</description>\n%s</channel></rss>\n" % (f, f, f, "".join(items)))
        with open(os.path.join(root, "desk%02d.rss" % f), "w", encoding="utf-8") as out:
            out.write(text)


def main():
    lib.feedmux_binary()
    root = lib.make_tempdir("backlog-feeds")
    write_feeds(root)
    total = sum(os.path.getsize(os.path.join(root, n)) for n in os.listdir(root))
    server = lib.FixtureServer(root=root, lifetime=300)
    feeds = [("desk%02d" % f, server.url("desk%02d.rss" % f)) for f in range(NFEEDS)]
    d = lib.make_tempdir("backlog")
    conf = lib.write_config(d, feeds, concurrency="64", per_host="64", max_entries="100")
    lib.note("backlog: %d feeds, %.1f MB; feedmux --once -v -c %s" % (NFEEDS, total / 1e6, conf))
    r = lib.run_feedmux(["--once", "-v", "-c", conf], timeout=240)
    lib.check(r.returncode == 0, "backlog: feedmux --once exited %d, want 0\nstderr (tail):\n%s"
              % (r.returncode, "\n".join(r.stderr.splitlines()[-30:])))
    paused = [ln for ln in r.stderr.splitlines() if "transfers pause" in ln]
    resumed = [ln for ln in r.stderr.splitlines() if "paused transfer(s) resume" in ln]
    lib.check(paused, "backlog: no 'transfers pause' debug line: the workers' queue never filled, "
              "so the pause path was not exercised (%.1f MB fetched)" % (total / 1e6))
    lib.check(resumed, "backlog: transfers paused (%d times) but no 'resume' debug line" % len(paused))
    db = sqlite3.connect(os.path.join(d, "state.db"))
    try:
        n = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        per_feed = dict(db.execute("SELECT feed, COUNT(*) FROM items GROUP BY feed").fetchall())
    finally:
        db.close()
    short = sorted((f, per_feed.get(f, 0)) for f, _ in feeds if per_feed.get(f, 0) != NITEMS)
    lib.check(n == NFEEDS * NITEMS and not short,
              "backlog: %d items stored, want %d; feeds with another count (feed, items): %s"
              % (n, NFEEDS * NITEMS, short[:10]))
    out = os.path.join(d, "public", "feed.atom")
    lib.validate_atom(out)
    lib.note("backlog: %d pauses, %d resumes, all %d items stored" % (len(paused), len(resumed), n))


lib.run_test(main)
