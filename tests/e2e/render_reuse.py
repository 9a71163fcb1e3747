"""End to end: a cycle in which nothing that shows has changed adopts
output_dir's documents without rendering them, and everything that does
show makes the next cycle render again (publish.c, "Render reuse").

The test changes an item's summary in state.db with sqlite3, behind
feedmux's back: the store's generation does not move, so a cycle that
adopts the files keeps the old summary, and a cycle that renders shows
the new one. That tells the two apart without timing anything.

1. --once on a copy of the fixture feeds: the documents are written and
   the render is recorded in the state's meta table, valid until the
   oldest entry shown leaves the max_age window (its date + max_age).
2. Summary changed behind feedmux's back, feeds unchanged: --once leaves
   every file as it was, bytes and times (it was not rendered).
3. The configuration changes (one comment line): --once renders; the new
   summary shows.
4. Changed behind its back again, then a document's file is touched: the
   files are not what was recorded, so --once renders.
5. Changed again, then the record's end time is put in the past: --once
   renders (an entry would have left the window).
6. A feed gains an item on the server: the store's generation moves and
   --once publishes the new entry, valid Atom.
7. The daemon starting on that state serves the files' bytes: /feed.atom
   is public/feed.atom, its gzip is feed.atom.gz, and Last-Modified is
   the file's time; /metrics counts the reuse.
"""

import calendar
import email.utils
import gzip
import os
import shutil
import sqlite3
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

MAX_AGE_DAYS = 3000
NEW_ITEM = """    <item>
      <title>Render Reuse Fixture: A Late Item Joins the Wire</title>
      <link>https://worlddesk.feedmux.invalid/2025/06/03/late-item</link>
      <guid>https://worlddesk.feedmux.invalid/2025/06/03/late-item</guid>
      <pubDate>Tue, 03 Jun 2025 08:00:00 GMT</pubDate>
      <description>An item added between two cycles.</description>
    </item>
"""


def once(conf, what):
    r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
    lib.check(r.returncode == 0, "%s: feedmux --once exited %d\nstderr:\n%s" % (what, r.returncode, r.stderr))
    return r


def db_exec(state, sql, args=()):
    con = sqlite3.connect(state, timeout=10)
    try:
        cur = con.execute(sql, args)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def mark(state, tag):
    """Append a marker to the newest item's summary behind feedmux's back
    (the summary takes no part in finding items, so the next offer of it
    is still a duplicate); returns the marker."""
    rows = db_exec(state, "SELECT id FROM items ORDER BY published DESC, id LIMIT 1")
    lib.check(rows, "state.db holds no items")
    marker = "render-reuse-marker-%s" % tag
    db_exec(state, "UPDATE items SET summary = coalesce(summary, '') || ? WHERE id = ?", (" " + marker, rows[0][0]))
    return marker


def record(state):
    rows = db_exec(state, "SELECT value FROM meta WHERE key = 'render'")
    return rows[0][0] if rows else None


def shows(public, text):
    with open(os.path.join(public, "feed.atom"), encoding="utf-8") as f:
        return text in f.read()


def unchanged(before, public, what):
    after = lib.outputs(public)
    lib.check(sorted(after) == sorted(before), "%s: files %s, before %s" % (what, sorted(after), sorted(before)))
    for name in sorted(before):
        lib.check(after[name] == before[name],
                  "%s: %s was rendered or written again although nothing that shows changed" % (what, name))


def main():
    lib.feedmux_binary()
    d = lib.make_tempdir("reuse")
    root = os.path.join(d, "feeds")
    os.mkdir(root)
    for _, f in lib.FIXTURE_FEED_FILES:
        shutil.copyfile(os.path.join(lib.FIXTURE_FEEDS, f), os.path.join(root, f))
    server = lib.FixtureServer(root=root, lifetime=300)
    conf = lib.write_config(d, lib.fixture_feeds(server), max_age="%dd" % MAX_AGE_DAYS)
    state = os.path.join(d, "state.db")
    public = os.path.join(d, "public")

    # 1. The first cycle renders and records it.
    once(conf, "first")
    lib.validate_atom(os.path.join(public, "feed.atom"))
    lib.check_entries(lib.parse_feed(os.path.join(public, "feed.atom"), "first: feed.atom"),
                      lib.FIXTURE_ENTRIES, "first")
    rec = record(state)
    lib.check(rec is not None, "first: no 'render' record in state.db's meta table after a whole render")
    oldest = min(calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%SZ")) for date, _, _ in lib.FIXTURE_ENTRIES)
    want_until = oldest + MAX_AGE_DAYS * 86400
    until = int(rec.split(" ", 1)[0])
    lib.check(until == want_until,
              "first: the record is valid until %d, want %d (the oldest entry shown, %d, + max_age)"
              % (until, want_until, oldest))
    lib.check(" /feed.atom " in rec and " /feeds.opml.gz " in rec,
              "first: the record does not name the documents: %r" % rec)
    lib.note("first: rendered; record valid until %s" % time.strftime("%Y-%m-%d", time.gmtime(until)))

    # 2. Nothing that shows changed: the files are adopted as they are.
    marker = mark(state, "2")
    before = lib.outputs(public)
    time.sleep(1.1)  # a rewrite would show in any file system's times
    once(conf, "unchanged")
    unchanged(before, public, "unchanged")
    lib.check(not shows(public, marker), "unchanged: feed.atom shows %r: it was rendered again" % marker)
    lib.check(record(state) == rec, "unchanged: the record changed although nothing was rendered")
    lib.note("unchanged: every file kept, not rendered")

    # 3. The configuration changed: rendered.
    with open(conf, "a", encoding="utf-8") as f:
        f.write("# edited by render_reuse.py\n")
    once(conf, "config edited")
    lib.check(shows(public, marker), "config edited: feed.atom does not show %r: the render was reused "
              "although the configuration changed" % marker)
    lib.note("config edited: rendered")

    # 4. A file not as recorded: rendered.
    marker = mark(state, "4")
    now = time.time()
    os.utime(os.path.join(public, "feed.json"), (now - 60, now - 60))
    once(conf, "file touched")
    lib.check(shows(public, marker), "file touched: feed.atom does not show %r: the render was reused "
              "although feed.json is not the file recorded" % marker)
    lib.note("file touched: rendered")

    # 5. The record's end passed: rendered.
    marker = mark(state, "5")
    rec = record(state)
    db_exec(state, "UPDATE meta SET value = ? WHERE key = 'render'", ("%d %s" % (now - 1, rec.split(" ", 1)[1]),))
    once(conf, "window moved")
    lib.check(shows(public, marker), "window moved: feed.atom does not show %r: the render was reused "
              "after its entries' max_age window had moved" % marker)
    lib.note("window moved: rendered")

    # 6. A feed changed: the generation moved, the new entry shows.
    path = os.path.join(root, "worlddesk.rss")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    at = text.index("    <item>")
    time.sleep(1.1)  # a new Last-Modified for the fixture server
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:at] + NEW_ITEM + text[at:])
    gen_before = db_exec(state, "SELECT value FROM meta WHERE key = 'generation'")
    once(conf, "feed changed")
    gen_after = db_exec(state, "SELECT value FROM meta WHERE key = 'generation'")
    lib.check(gen_after and gen_after != gen_before,
              "feed changed: the generation is %r, before %r" % (gen_after, gen_before))
    lib.validate_atom(os.path.join(public, "feed.atom"))
    lib.check(shows(public, "A Late Item Joins the Wire"),
              "feed changed: feed.atom does not show the item the feed gained")
    lib.note("feed changed: generation %s -> %s, new entry published" % (gen_before[0][0], gen_after[0][0]))

    # 7. A daemon starting on that state serves the adopted files.
    port = lib.free_port()
    os.mkdir(os.path.join(d, "daemon"))
    conf7 = lib.write_config(os.path.join(d, "daemon"), lib.fixture_feeds(server), _port=port,
                             max_age="%dd" % MAX_AGE_DAYS, state=state, output_dir=public)
    # The same configuration, as far as the documents go, is not the same
    # file: this daemon renders. Run --once on it first, then start it.
    once(conf7, "daemon config")
    files = lib.outputs(public)
    daemon = lib.Daemon(["-c", conf7], os.path.join(d, "daemon"))
    deadline = time.monotonic() + 15
    resp = None
    while time.monotonic() < deadline:
        try:
            resp = lib.fetch("http://127.0.0.1:%d/feed.atom" % port)
            break
        except OSError:
            if not daemon.alive():
                lib.fail("daemon exited early:\n%s" % daemon.output())
            time.sleep(0.1)
    lib.check(resp is not None and resp.status == 200, "daemon: no 200 for /feed.atom within 15 s\n%s"
              % daemon.output())
    lib.check(resp.body == files["feed.atom"][0], "daemon: /feed.atom is not public/feed.atom's bytes")
    lastmod = email.utils.parsedate_to_datetime(resp.headers["Last-Modified"]).timestamp()
    lib.check(int(lastmod) == files["feed.atom"][1] // 10**9,
              "daemon: Last-Modified %s is not feed.atom's time" % resp.headers["Last-Modified"])
    gz = lib.fetch("http://127.0.0.1:%d/feed.atom" % port, headers={"Accept-Encoding": "gzip"})
    lib.check(gz.body == files["feed.atom.gz"][0], "daemon: the gzip answer is not public/feed.atom.gz")
    lib.check(gzip.decompress(gz.body) == files["feed.atom"][0], "daemon: the gzip answer does not inflate "
              "to feed.atom")
    m = lib.fetch("http://127.0.0.1:%d/metrics" % port)
    lib.check(m.status == 200 and b"\nfeedmux_render_reuses_total 1\n" in m.body,
              "daemon: /metrics does not count the start's reuse:\n%s"
              % m.body.decode(errors="replace")[:3000])
    status = daemon.stop()
    lib.check(status == 0, "daemon: exit status %r after SIGTERM\n%s" % (status, daemon.output()))
    lib.check(lib.outputs(public) == files, "daemon: a start and stop with nothing new changed output_dir")
    lib.note("daemon: served output_dir's bytes and times")


if __name__ == "__main__":
    lib.run_test(main)
