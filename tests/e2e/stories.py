"""Topics and stories end to end (issue 6).

The demo's five publishers (feeds/demo/, served by the fixture HTTP server
on 127.0.0.1) tell several of the same stories in different words. The
running daemon must publish each such story once, its first report leading
with rel="related" links to the others, and the topic feeds must hold the
entries their match terms pick, each entry carrying the topic's category.
Every document is read back: Atom with xmllint against the RFC 4287 schema
and python3-feedparser, JSON Feed with json, OPML with the XML parser.
"""
import json
import os
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

DEMO = os.path.join(lib.SRCDIR, os.pardir, "feeds", "demo")
FEEDS = [("worlddesk", "worlddesk.xml"), ("continental-courier", "continental-courier.xml"),
         ("baltic-monitor", "baltic-monitor.rdf"), ("harbour-ledger", "harbour-ledger.atom"),
         ("pacific-brief", "pacific-brief.atom")]
TOPICS = """
[topic ukraine]
title = Ukraine
match = Ukraine, Kyiv, Zelensky

[topic asia-pacific]
title = Asia-Pacific
match = China, Taiwan, Australia, Philippines, South Korea, North Korea, Indo-Pacific
"""

# The same news told by two publishers. Either report may lead: the lead
# is the report feedmux saw first (it keeps the entry's id stable as more
# reports join), and the five feeds are polled at once.
STORIES = [
    ("Australia and Philippines Challenge China Over Military Expansion",
     "Australia Urges China for Clarity Over Military Expansion Amid Regional Tensions"),
    ("Resilience Amidst Occupation: Stories of Silent Defiance in Ukraine",
     "Resilience Amidst Occupation: Everyday Defiance in Occupied Ukraine"),
]
IN_UKRAINE = ["Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict",
              "Ukraine Claims Historic Drone Attack Destroys 40 Russian Warplanes"]
NOT_IN_UKRAINE = ["Hamas Responds to U.S. Proposal for Extended Cease-Fire in Gaza",
                  "EU Voices Strong Disapproval Over US Tariff Doubling on Steel"]
IN_ASIA = ["South Korea's Upcoming Election Poised to Shift Diplomatic Landscape",
           "North Korea Reaps Military Gains Amidst Russia-Ukraine Conflict"]
NOT_IN_ASIA = ["Tragic Bridge Collapses in Western Russia Amid Rising Tensions"]


def norm(s):
    return s.replace("\u2019", "'")


def get(base, path, what):
    r = lib.fetch(base + path)
    lib.check(r.status == 200, "GET %s: status %d, want 200" % (path, r.status))
    return r.body


def atom(directory, base, path):
    body = get(base, path, path)
    f = os.path.join(directory, path.strip("/").replace("/", "_"))
    with open(f, "wb") as out:
        out.write(body)
    lib.validate_atom(f)
    return lib.parse_feed(body, path)


def main():
    d = lib.make_tempdir("stories")
    server = lib.FixtureServer(root=os.path.abspath(DEMO))
    port = lib.free_port()
    conf = lib.write_config(d, [(n, server.url(f)) for n, f in FEEDS], _port=port, interval="30s",
                            min_interval="10s")
    with open(conf, "a", encoding="utf-8") as f:
        f.write(TOPICS)
    daemon = lib.Daemon(["-c", conf], d)
    base = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 40
    merged = None
    while time.monotonic() < deadline:
        if not daemon.alive():
            lib.fail("feedmux exited early:\n%s" % daemon.output())
        try:
            r = lib.fetch(base + "/status")
            lines = r.body.decode().splitlines()[1:] if r.status == 200 else []
            if len(lines) == len(FEEDS) and all("\tok\t" in l for l in lines):
                time.sleep(1.5)  # the render debounce
                merged = atom(d, base, "/feed.atom")
                break
        except OSError:
            pass
        time.sleep(0.3)
    lib.check(merged is not None, "the five feeds were not all polled within 40 s:\n%s" % daemon.output())

    titles = [norm(e.title) for e in merged.entries]
    lib.check(len(titles) == len(set(titles)), "an entry is published twice: %s" % titles)
    for a, b in STORIES:
        lib.check((a in titles) != (b in titles),
                  "the story %r / %r should be exactly one entry; entries:\n  %s" % (a, b, "\n  ".join(titles)))
        lead, other = (a, b) if a in titles else (b, a)
        e = merged.entries[titles.index(lead)]
        related = [norm(l.get("title", "")) for l in e.links if l.get("rel") == "related"]
        lib.check(any(r.endswith(": " + other) for r in related),
                  "entry %r has no related link to %r (related: %s)" % (lead, other, related))
        lib.check(e.get("contributors"), "entry %r names no other publisher" % lead)
        pub = lib.entry_times(e)
        lib.check(pub[1] is not None and pub[0] is not None and pub[1] >= pub[0],
                  "story %r: updated should not precede published" % lead)

    topics = {}
    for name in ("ukraine", "asia-pacific"):
        feed = atom(d, base, "/topics/%s.atom" % name)
        topics[name] = [norm(e.title) for e in feed.entries]
        for e in feed.entries:
            terms = [t.get("term") for t in e.get("tags", [])]
            lib.check(name in terms, "/topics/%s.atom: entry %r lacks category %r (has %s)"
                      % (name, e.title, name, terms))
        lib.check(set(topics[name]) <= set(titles),
                  "/topics/%s.atom has entries the merged feed lacks: %s" % (name, set(topics[name]) - set(titles)))
    for t in IN_UKRAINE:
        lib.check(t in topics["ukraine"], "/topics/ukraine.atom lacks %r" % t)
    for t in NOT_IN_UKRAINE:
        lib.check(t not in topics["ukraine"], "/topics/ukraine.atom wrongly holds %r" % t)
    for t in IN_ASIA:
        lib.check(t in topics["asia-pacific"], "/topics/asia-pacific.atom lacks %r" % t)
    for t in NOT_IN_ASIA:
        lib.check(t not in topics["asia-pacific"], "/topics/asia-pacific.atom wrongly holds %r" % t)

    jf = json.loads(get(base, "/feed.json", "/feed.json"))
    lib.check(jf.get("version") == "https://jsonfeed.org/version/1.1", "/feed.json version %r" % jf.get("version"))
    lib.check(len(jf["items"]) == len(titles), "/feed.json has %d items, /feed.atom %d"
              % (len(jf["items"]), len(titles)))
    opml = ET.fromstring(get(base, "/feeds.opml", "/feeds.opml"))
    urls = sorted(o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl"))
    lib.check(urls == sorted(server.url(f) for _, f in FEEDS), "/feeds.opml lists %s" % urls)

    page = get(base, "/", "/").decode()
    lib.check(page.count("<svg") == len(FEEDS) + 2,
              "the status page should have one items-per-day sparkline per feed and topic (%d), has %d"
              % (len(FEEDS) + 2, page.count("<svg")))
    for n, _ in FEEDS:
        lib.check("<td>%s</td>" % n in page, "the status page does not list feed %s" % n)
    lib.check(daemon.stop() == 0, "feedmux did not exit 0 on SIGTERM:\n%s" % daemon.output())
    # max_per_feed: one busy source cannot fill the merged feed.
    d2 = lib.make_tempdir("perfeed")
    conf2 = lib.write_config(d2, [(n, server.url(f)) for n, f in FEEDS], max_per_feed="2")
    r = lib.run_feedmux(["--once", "-c", conf2])
    lib.check(r.returncode == 0, "max_per_feed run exited %d:\n%s" % (r.returncode, r.stderr))
    capped = lib.parse_feed(os.path.join(d2, "public", "feed.atom"), "max_per_feed=2 feed.atom")
    per_source = {}
    for e in capped.entries:
        src = (e.get("source") or {}).get("title", "?")
        per_source[src] = per_source.get(src, 0) + 1
    lib.check(per_source and max(per_source.values()) <= 2,
              "max_per_feed = 2: entries per source %s" % per_source)
    lib.check(len(per_source) == len(FEEDS), "max_per_feed = 2: every source should still appear: %s" % per_source)

    lib.note("%d entries, %d stories grouped, topics ukraine=%d asia-pacific=%d"
             % (len(titles), len(STORIES), len(topics["ukraine"]), len(topics["asia-pacific"])))
    related_cap()


RELATED_MAX = 20  # the entry's cap (PUBLISH_RELATED_MAX in src/publish.c)
PUBLISHERS = 30


def related_cap():
    """One story told by 30 publishers: one entry in /feed.atom, linking to
    20 of the 29 other reports (the first seen: the lead's feed is polled
    with the others, so only the count and the titles are asserted)."""
    d = lib.make_tempdir("related")
    root = os.path.join(d, "feeds")
    os.mkdir(root)
    feeds = []
    for i in range(PUBLISHERS):
        name = "pub%02d" % i
        with open(os.path.join(root, name + ".xml"), "w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                    "<title>Publisher %d</title><link>https://%s.example/</link>"
                    "<item><title>Harbour bridge reopens after storm repairs in Eastport</title>"
                    "<link>https://%s.example/news/bridge</link><guid>https://%s.example/news/bridge</guid>"
                    "<pubDate>Mon, 07 Dec 2026 10:%02d:00 +0000</pubDate>"
                    "<description>Report %d.</description></item></channel></rss>\n"
                    % (i, name, name, name, i, i))
        feeds.append(name)
    server = lib.FixtureServer(root=root)
    conf = lib.write_config(d, [(n, server.url(n + ".xml")) for n in feeds])
    r = lib.run_feedmux(["--once", "-c", conf])
    lib.check(r.returncode == 0, "related: feedmux --once exited %d:\n%s" % (r.returncode, r.stderr))
    path = os.path.join(d, "public", "feed.atom")
    lib.validate_atom(path)
    parsed = lib.parse_feed(path, "related: feed.atom")
    lib.check(len(parsed.entries) == 1, "related: %d entries for one story told %d times, want 1: %s"
              % (len(parsed.entries), PUBLISHERS, [e.get("link") for e in parsed.entries]))
    related = [l for l in parsed.entries[0].links if l.get("rel") == "related"]
    lib.check(len(related) == RELATED_MAX, "related: the story's entry links to %d other reports, want %d"
              % (len(related), RELATED_MAX))
    hrefs = {l.get("href") for l in related}
    lib.check(len(hrefs) == RELATED_MAX and parsed.entries[0].get("link") not in hrefs,
              "related: the links repeat or include the lead's own: %s" % sorted(hrefs))
    lib.note("related: one entry for %d reports, %d related links" % (PUBLISHERS, len(related)))


lib.run_test(main)
