"""End to end: `feedmux --once` against the fixture server.

1. The three fixture feeds (RSS 2.0, RSS 1.0, Atom 1.0; 15 items, 13
   articles): exit 0; output_dir/feed.atom exists, is valid Atom (RFC 4287
   RELAX NG schema) and not bozo for feedparser; it holds exactly the 13
   expected titles and links, each article once (the guid twin and the
   utm_source/http twin collapsed), newest first, with their dates.
2. The same with max_entries = 3: exactly the 3 newest.
3. The same feeds plus one that answers 404: non-zero exit, a stderr line
   naming that feed and 404, and the other feeds' 13 entries published.
4. Run again on the state and output of 1: nothing changed, so every
   document in output_dir keeps its bytes and its modification time (it
   is not gzipped or written again). A .gz copy that does not inflate to
   its document is written anew.
5. The offline demo (feeds/demo.conf, copied with feeds/demo/ to a temp
   dir; its file: URLs are relative to the config): exit 0, valid Atom,
   not bozo, no article twice (the guid and tracking-link twins collapsed).
"""

import gzip
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402


def once(server, tag, feeds, **settings):
    """Run feedmux --once on a fresh config; return (result, feed.atom path)."""
    d = lib.make_tempdir(tag)
    conf = lib.write_config(d, feeds, **settings)
    lib.note("%s: feedmux --once -c %s" % (tag, conf))
    r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
    return r, os.path.join(d, "public", "feed.atom")


def rerun_unchanged(out):
    """Step 4: --once again on the same config, state and output_dir."""
    public = os.path.dirname(out)
    conf = os.path.join(os.path.dirname(public), "feedmux.conf")
    lib.check(os.path.isfile(conf), "rerun: no %s" % conf)
    before = lib.outputs(public)
    lib.check("feed.atom.gz" in before and "feed.json" in before,
              "rerun: the first run left %s" % sorted(before))
    time.sleep(1.1)  # a rewrite would show in any file system's times
    r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
    lib.check(r.returncode == 0, "rerun: feedmux --once exited %d\nstderr:\n%s" % (r.returncode, r.stderr))
    after = lib.outputs(public)
    lib.check(sorted(after) == sorted(before), "rerun: files %s, before %s" % (sorted(after), sorted(before)))
    for name in sorted(before):
        lib.check(after[name][0] == before[name][0], "rerun: %s changed although no feed did" % name)
        lib.check(after[name][1] == before[name][1],
                  "rerun: %s was written again (mtime %d, before %d) although its bytes are the same"
                  % (name, after[name][1], before[name][1]))
    # A damaged gzip copy is not adopted: both files are written anew.
    with open(os.path.join(public, "feed.atom.gz"), "wb") as f:
        f.write(gzip.compress(b"something else"))
    r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
    lib.check(r.returncode == 0, "rerun 2: feedmux --once exited %d\nstderr:\n%s" % (r.returncode, r.stderr))
    again = lib.outputs(public)
    lib.check(gzip.decompress(again["feed.atom.gz"][0]) == again["feed.atom"][0],
              "rerun 2: feed.atom.gz does not inflate to feed.atom (the damaged copy was kept)")
    lib.check(again["feed.json"][1] == before["feed.json"][1],
              "rerun 2: feed.json was written again although it and its copy were intact")
    lib.note("rerun: %d files kept with their times; a damaged .gz was replaced" % len(before))


def published(r, path, tag):
    """Validate and parse the merged feed a run left behind."""
    lib.check(os.path.isfile(path),
              "%s: no %s after feedmux --once (exit %d)\nstderr:\n%s"
              % (tag, path, r.returncode, r.stderr))
    lib.validate_atom(path)
    return lib.parse_feed(path, "%s: %s" % (tag, path))


def main():
    lib.feedmux_binary()  # fail early, before starting anything
    server = lib.FixtureServer(lifetime=300)
    feeds = lib.fixture_feeds(server)

    # 1. The clean run.
    r, out = once(server, "clean", feeds)
    lib.check(r.returncode == 0, "clean: feedmux --once exited %d, want 0\nstderr:\n%s"
              % (r.returncode, r.stderr))
    d = published(r, out, "clean")
    lib.check_entries(d, lib.FIXTURE_ENTRIES, "clean")
    asked = {q["path"] for q in server.requests() if q["method"] == "GET"}
    for name, f in lib.FIXTURE_FEED_FILES:
        lib.check("/" + f in asked, "clean: feed %s (/%s) was never requested; requests: %s"
                  % (name, f, sorted(asked)))
    lib.note("clean: %d entries, valid, no duplicates, newest first" % len(d.entries))
    clean_out = out

    # 2. max_entries caps the merged feed.
    r, out = once(server, "max3", feeds, max_entries="3")
    lib.check(r.returncode == 0, "max3: feedmux --once exited %d, want 0\nstderr:\n%s"
              % (r.returncode, r.stderr))
    d = published(r, out, "max3")
    lib.check_entries(d, lib.FIXTURE_ENTRIES[:3], "max3 (max_entries = 3)")
    lib.note("max3: the 3 newest entries")

    # 3. One feed fails with 404; the others are still published.
    bad = ("missing-feed", server.url("status/404/missing.rss"))
    r, out = once(server, "404", feeds + [bad])
    lib.check(r.returncode != 0, "404: feedmux --once exited 0 although feed %s got HTTP 404\n"
              "stderr:\n%s" % (bad[0], r.stderr))
    lines = [ln for ln in r.stderr.splitlines() if bad[0] in ln and "404" in ln]
    lib.check(lines, "404: no stderr line names feed %r and status 404\nstderr:\n%s"
              % (bad[0], r.stderr))
    d = published(r, out, "404")
    lib.check_entries(d, lib.FIXTURE_ENTRIES, "404 (other feeds)")
    lib.note("404: exit %d, %r; other feeds published" % (r.returncode, lines[0].strip()))

    # 4. Nothing changed: nothing is written again.
    rerun_unchanged(clean_out)

    # 5. The offline demo, as README's first command runs it.
    run_demo()


# The demo's 25 items are 21 distinct articles: two guid twins (World Desk
# Wire stories republished by Continental Courier) and two link twins
# (Pacific Brief's https + utm_* links). Story grouping, once on, may fold
# same-news articles further, so only bounds are asserted on the count.
DEMO_ARTICLES = 21
DEMO_LEAD = "Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict"


def run_demo():
    feeds_dir = os.path.join(os.path.dirname(lib.SRCDIR), "feeds")
    d = lib.make_tempdir("demo")
    # Copy contents only: distcheck's source tree is read-only, its modes too.
    shutil.copyfile(os.path.join(feeds_dir, "demo.conf"), os.path.join(d, "demo.conf"))
    os.mkdir(os.path.join(d, "demo"))
    for f in os.listdir(os.path.join(feeds_dir, "demo")):
        shutil.copyfile(os.path.join(feeds_dir, "demo", f), os.path.join(d, "demo", f))
    conf = os.path.join(d, "demo.conf")
    lib.note("demo: feedmux --once -c %s" % conf)
    r = lib.run_feedmux(["--once", "-c", conf], timeout=90)
    lib.check(r.returncode == 0, "demo: feedmux --once exited %d, want 0\nstderr:\n%s"
              % (r.returncode, r.stderr))
    out = os.path.join(d, "demo-public", "feed.atom")
    parsed = published(r, out, "demo")
    titles = [e.get("title", "") for e in parsed.entries]
    dups = sorted({t for t in titles if titles.count(t) > 1})
    lib.check(not dups, "demo: titles published more than once: %s" % dups)
    links = [lib.canonical_link(e.get("link", "")) for e in parsed.entries]
    dups = sorted({u for u in links if links.count(u) > 1})
    lib.check(not dups, "demo: links published more than once: %s" % dups)
    lib.check(DEMO_LEAD in titles,
              "demo: the lead story is missing; titles:\n  %s" % "\n  ".join(titles))
    lib.check(10 <= len(titles) <= DEMO_ARTICLES,
              "demo: %d entries, want 10..%d (%d distinct articles); titles:\n  %s"
              % (len(titles), DEMO_ARTICLES, DEMO_ARTICLES, "\n  ".join(titles)))
    lib.note("demo: %d entries, valid, no duplicates" % len(titles))


lib.run_test(main)
