"""End to end: SIGHUP reloads the edited file without loss (issue 8).

Feeds (fixture server on 127.0.0.1, a copy of tests/fixture/feeds plus one
generated feed): A = worlddesk.rss, B = baltic.rdf, C = harbour.atom,
A2 = moved.rss (two items nobody else carries). Topic `watch` matches
"Ukraine". interval = 10s, so feeds are polled again every ~10 s.

1. Start with A, B and topic watch; wait until /feed.atom holds A's and B's
   entries and /topics/watch.atom the Ukraine ones.
2. Edit: remove B, add C, change A's url to A2, change watch's match to
   "Gaza"; SIGHUP. Then:
   - the log has "reload: 1 feed(s) added, 1 removed, 1 changed";
   - C's entries appear in /feed.atom; A2's entries appear (A polls its new
     url; the fixture log shows it), A's stored entries stay;
   - the entries only B carried leave /feed.atom (an entry B and C both
     carry stays);
   - /topics/watch.atom re-matches the stored items: the Gaza ones in,
     the Ukraine ones out, including the item B and C both carry (stored
     from B, published again through C);
   - /status lists exactly A and C; /feeds.opml lists A2's and C's urls.
3. Edit: watch matches "Taiwan", and feed A lists `topics = watch`; SIGHUP.
   The log says "reload: 0 feed(s) added, 0 removed, 1 changed" (a feed's
   topics are part of it), and watch.atom holds every item of A plus the
   Taiwan one of C, re-matched from the store (no new items come in).
4. Break the file: an unknown key, a feed without url, and (otherwise
   valid) C removed and a feed D added; SIGHUP. Then:
   - the log has each error as FILE:LINE: message;
   - /status says "last reload failed: ..." and still lists A and C;
   - /feed.atom serves the same entries as before the broken reload;
   - the old config keeps polling: the fixture log shows A2 and C fetched
     after the SIGHUP, D never;
5. SIGTERM: exit 0 within 10 s.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

A_TITLES = {"Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict",
            "Nato on High Alert as German Defence Chief Predicts Potential Russian Attack",
            "Poland\u2019s Presidential Vote Teetering on a Knife-Edge: Trzaskowski vs. Nawrocki",
            "At least 15 dead as Israeli shelling strikes Rafah aid distribution point",
            "Hamas Responds to U.S. Proposal for Extended Cease-Fire in Gaza"}
DRONE = "Ukraine Claims Historic Drone Attack Destroys 40 Russian Warplanes"
B_ONLY = {"Ukraine Reports Deadly Russian Strike on Military Base",
          "Tragic Bridge Collapses in Western Russia Amid Rising Tensions",
          "EU Voices Strong Disapproval Over US Tariff Doubling on Steel",
          "North Korea Reaps Military Gains Amidst Russia-Ukraine Conflict"}
B_TITLES = B_ONLY | {DRONE}
C_TITLES = {"Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict",
            DRONE,
            "Australia and Philippines Challenge China Over Military Expansion",
            "South Korea's Upcoming Election Poised to Shift Diplomatic Landscape",
            "Hegseth Urges Stronger Defense Against China's 'Imminent' Threat to Taiwan"}
A2_TITLES = {"Tidal survey of the northern estuary published",
             "Lighthouse keepers restore the old fog signal"}
ZELENSKY = "Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict"
GAZA = {"At least 15 dead as Israeli shelling strikes Rafah aid distribution point",
        "Hamas Responds to U.S. Proposal for Extended Cease-Fire in Gaza"}
TAIWAN = "Hegseth Urges Stronger Defense Against China's 'Imminent' Threat to Taiwan"

MOVED_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Coast Notes</title>
    <link>https://coast.feedmux.invalid/</link>
    <description>feedmux reload test: where feed A moves to</description>
    <item>
      <title>Tidal survey of the northern estuary published</title>
      <link>https://coast.feedmux.invalid/2025/06/03/tidal-survey</link>
      <guid>https://coast.feedmux.invalid/2025/06/03/tidal-survey</guid>
      <pubDate>Tue, 03 Jun 2025 08:00:00 GMT</pubDate>
      <description>Charts of the estuary are updated for the first time in a decade.</description>
    </item>
    <item>
      <title>Lighthouse keepers restore the old fog signal</title>
      <link>https://coast.feedmux.invalid/2025/06/02/fog-signal</link>
      <guid>https://coast.feedmux.invalid/2025/06/02/fog-signal</guid>
      <pubDate>Mon, 02 Jun 2025 18:30:00 GMT</pubDate>
      <description>Volunteers spent a year on the restoration.</description>
    </item>
  </channel>
</rss>
"""


def norm(s):
    return s.replace("&#39;", "'")


class Conf:
    """feedmux.conf written line by line, remembering where things are."""

    def __init__(self, path, directory, port):
        self.path = path
        self.glob = [
            ("title", "feedmux reload e2e"),
            ("base_url", "http://127.0.0.1:%d/" % port),
            ("listen", "127.0.0.1:%d" % port),
            ("state", os.path.join(directory, "state.db")),
            ("output_dir", os.path.join(directory, "public")),
            ("interval", "10s"),
            ("min_interval", "5s"),
            ("max_entries", "200"),
            ("max_age", "3000d"),
            ("keep", "3000d"),
        ]

    def write(self, feeds, topics, bogus_key=False):
        """feeds: [(name, url or None, {key: value})]; topics: [(name, match)].
        Returns {"bogus": line, "feed NAME": line of its header}."""
        lines = ["# written by tests/e2e/reload.py", "[feedmux]"]
        where = {}
        for k, v in self.glob:
            lines.append("%s = %s" % (k, v))
        if bogus_key:
            lines.append("bogus_key = 1")
            where["bogus"] = len(lines)
        for name, match in topics:
            lines += ["", "[topic %s]" % name]
            where["topic " + name] = len(lines)
            lines += ["title = %s" % name.capitalize(), "match = %s" % match]
        for name, url, extra in feeds:
            lines += ["", "[feed %s]" % name]
            where["feed " + name] = len(lines)
            if url is not None:
                lines.append("url = %s" % url)
            for k, v in extra.items():
                lines.append("%s = %s" % (k, v))
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.path)
        return where


class Run:
    def __init__(self, conf, d):
        self.err_path = os.path.join(d, "feedmux.stderr")
        self.err = open(self.err_path, "w")
        env = lib.child_env()
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                  "LISTEN_FDNAMES", "JOURNAL_STREAM"):
            env.pop(k, None)
        self.proc = subprocess.Popen([lib.feedmux_binary(), "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=self.err, stderr=self.err, env=env)
        lib._cleanups.append(self.kill)

    def log(self):
        return lib.read_text(self.err_path)

    def output(self):
        return "feedmux output:\n" + self.log()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


class Detail(Exception):
    """What a probe saw, for the failure message."""


def wait_until(run, what, timeout, probe):
    """Call probe() until it returns a true value (returned); fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if run.proc.poll() is not None:
            lib.fail("feedmux exited with %d while waiting for %s\n%s" % (run.proc.returncode, what, run.output()))
        try:
            got = probe()
            if got:
                return got
            last = "not yet"
        except OSError as e:
            last = "no HTTP answer: %s" % e
        except Detail as e:
            last = str(e)
        if time.monotonic() > deadline:
            lib.fail("%s: not within %g s (last: %s)\n%s" % (what, timeout, last, run.output()))
        time.sleep(0.25)


def titles_of(base, path):
    r = lib.fetch(base + path)
    if r.status != 200:
        raise Detail("GET %s: HTTP %d" % (path, r.status))
    d = lib.feedparser.parse(r.body)
    return {norm(e.get("title", "")) for e in d.entries}, r


def status_feeds(base):
    r = lib.fetch(base + "/status")
    if r.status != 200:
        raise Detail("GET /status: HTTP %d" % r.status)
    text = r.body.decode("utf-8", "replace")
    names = [ln.split("\t")[0] for ln in text.splitlines()[1:] if "\t" in ln]
    return names, text


def polled_after(server, name, t):
    """Requests of the fixture log for /name, started after t."""
    return [q for q in server.requests() if q["path"].split("?")[0] == "/" + name and q["time"] > t]


def expect_titles(run, base, path, want_in, want_out, what, timeout=15):
    def probe():
        got, _ = titles_of(base, path)
        missing = sorted(want_in - got)
        present = sorted(want_out & got)
        if missing or present:
            raise Detail("%s lacks %s; still holds %s" % (path, missing, present))
        return got
    return wait_until(run, what, timeout, probe)


def main():
    lib.feedmux_binary()
    root = lib.make_tempdir("feeds")
    for f in os.listdir(lib.FIXTURE_FEEDS):
        shutil.copy(os.path.join(lib.FIXTURE_FEEDS, f), os.path.join(root, f))
    with open(os.path.join(root, "moved.rss"), "w", encoding="utf-8") as f:
        f.write(MOVED_RSS)
    with open(os.path.join(root, "d.rss"), "w", encoding="utf-8") as f:
        f.write(MOVED_RSS.replace("coast.feedmux.invalid", "d.feedmux.invalid"))
    server = lib.FixtureServer(root=root, lifetime=150)
    A, B, C = server.url("worlddesk.rss"), server.url("baltic.rdf"), server.url("harbour.atom")
    A2, D = server.url("moved.rss"), server.url("d.rss")

    d = lib.make_tempdir("reload")
    port = lib.free_port()
    base = "http://127.0.0.1:%d" % port
    path = os.path.join(d, "feedmux.conf")
    conf = Conf(path, d, port)
    conf.write([("a", A, {}), ("b", B, {})], [("watch", "Ukraine")])
    run = Run(path, d)
    problems = []

    # 1. A and B polled and published; the topic holds the Ukraine items.
    expect_titles(run, base, "/feed.atom", A_TITLES | B_TITLES, set(), "A's and B's entries in /feed.atom", 20)
    watch = expect_titles(run, base, "/topics/watch.atom", {ZELENSKY, DRONE}, GAZA,
                          "the Ukraine items in /topics/watch.atom", 10)
    lib.note("start: /feed.atom holds A's and B's %d entries; watch.atom %d" % (len(A_TITLES | B_TITLES),
                                                                                 len(watch)))

    # 2. Remove B, add C, move A, change the topic's terms.
    conf.write([("a", A2, {}), ("c", C, {})], [("watch", "Gaza")])
    t_hup = time.time()
    run.proc.send_signal(signal.SIGHUP)
    summary = "reload: 1 feed(s) added, 1 removed, 1 changed"
    wait_until(run, "the log line %r" % summary, 10, lambda: summary in run.log())
    lib.note("log: %s" % summary)
    expect_titles(run, base, "/feed.atom", A_TITLES | C_TITLES | {DRONE}, B_ONLY,
                  "C's entries in /feed.atom and B's gone (%s carried by C too stays)" % DRONE, 15)
    lib.note("C's entries are in /feed.atom, B's only entries left it, A's stored ones stayed")
    expect_titles(run, base, "/topics/watch.atom", GAZA, {ZELENSKY},
                  "/topics/watch.atom re-matched to 'Gaza'", 10)
    lib.note("watch.atom re-matched the stored items: the Gaza ones in, the Ukraine ones out")
    # The drone item was B's; C carries it too (a duplicate), so it stays
    # published, and must be matched against the new terms like any other.
    got, _ = titles_of(base, "/topics/watch.atom")
    if DRONE in got:
        problems.append("/topics/watch.atom still holds %r after its match became 'Gaza': the item was "
                        "stored from removed feed b and is published again because new feed c carries "
                        "it (a duplicate), but it kept the topics decided under the old terms" % DRONE)
        lib.note("PROBLEM: " + problems[-1])
    # A polls its new url at its next turn (~10 s): the moved feed's items.
    expect_titles(run, base, "/feed.atom", A2_TITLES | A_TITLES | C_TITLES, B_ONLY,
                  "feed a's items from its new url in /feed.atom", 20)
    lib.check(polled_after(server, "moved.rss", t_hup), "the fixture log has no request of A's new url")
    lib.note("feed a polled its new url; its items appear")
    names, text = status_feeds(base)
    lib.check(sorted(names) == ["a", "c"], "/status lists feeds %s after the reload, want a and c:\n%s"
              % (names, text))
    r = lib.fetch(base + "/feeds.opml")
    lib.check(r.status == 200, "GET /feeds.opml: HTTP %d" % r.status)
    urls = sorted(o.get("xmlUrl") for o in ET.fromstring(r.body).iter("outline") if o.get("xmlUrl"))
    lib.check(urls == sorted([A2, C]), "/feeds.opml lists %s after the reload, want %s" % (urls, sorted([A2, C])))
    lib.note("/status lists a and c; /feeds.opml their urls")

    # 3. Only topics: the term, and feed a joins the topic by its `topics`.
    conf.write([("a", A2, {"topics": "watch"}), ("c", C, {})], [("watch", "Taiwan")])
    n_before = run.log().count("reload: ")
    run.proc.send_signal(signal.SIGHUP)
    wait_until(run, "a reload summary line", 10, lambda: run.log().count("reload: ") > n_before)
    lines = [ln[ln.index("reload: "):] for ln in run.log().splitlines() if "reload: " in ln]
    want = "reload: 0 feed(s) added, 0 removed, 1 changed"
    if not lines or lines[-1] != want:
        problems.append("after giving feed a `topics = watch` (and nothing else about feeds) the reload "
                        "summary is %r, want %r: a feed's topics are part of it"
                        % (lines[-1] if lines else None, want))
        lib.note("PROBLEM: " + problems[-1])
    want_watch = A_TITLES | A2_TITLES | {TAIWAN}
    got = expect_titles(run, base, "/topics/watch.atom", want_watch,
                        {"Australia and Philippines Challenge China Over Military Expansion", DRONE},
                        "/topics/watch.atom with every item of feed a and the Taiwan one", 10)
    lib.check(got == want_watch, "/topics/watch.atom holds %s, want exactly %s" % (sorted(got), sorted(want_watch)))
    lib.note("watch.atom: feed a's %d items by its `topics`, plus %r by the new term"
             % (len(A_TITLES | A2_TITLES), TAIWAN))

    # 4. A broken file: nothing of it applies, the old config keeps running.
    before, _ = titles_of(base, "/feed.atom")
    where = conf.write([("a", A2, {"topics": "watch"}), ("nourl", None, {"title": "No url"}), ("d", D, {})],
                       [("watch", "Taiwan")], bogus_key=True)
    t_break = time.time()
    run.proc.send_signal(signal.SIGHUP)
    errs = [re.compile(r"%s:%d: .*bogus_key" % (re.escape(path), where["bogus"])),
            re.compile(r"%s:%d: .*nourl.*no url" % (re.escape(path), where["feed nourl"]))]
    wait_until(run, "the errors of the broken file as FILE:LINE: message (%s:%d and :%d)"
               % (path, where["bogus"], where["feed nourl"]), 10,
               lambda: all(e.search(run.log()) for e in errs))
    lib.note("log names both errors with file and line")
    _, text = wait_until(run, "/status saying 'last reload failed'", 10,
                         lambda: (lambda n_t: n_t if "last reload failed" in n_t[1] else None)(status_feeds(base)))
    names, _ = status_feeds(base)
    lib.check(sorted(names) == ["a", "c"], "/status lists feeds %s after the failed reload, want the old "
              "a and c:\n%s" % (names, text))
    lib.check(re.search(r"last reload failed: .*feedmux\.conf:\d+: ", text),
                        "/status does not give the failure's file and line:\n%s" % text)
    lib.note("/status: %s" % [ln for ln in text.splitlines() if "last reload failed" in ln][0])
    after, _ = titles_of(base, "/feed.atom")
    lib.check(after == before, "/feed.atom changed with the broken file:\n  lost %s\n  gained %s"
              % (sorted(before - after), sorted(after - before)))

    def polled_again():
        a2 = polled_after(server, "moved.rss", t_break)
        c = polled_after(server, "harbour.atom", t_break)
        if not (a2 and c):
            raise Detail("requests since the broken reload: moved.rss %d, harbour.atom %d"
                                   % (len(a2), len(c)))
        return True
    wait_until(run, "polls of feeds a and c (the old config) after the broken reload", 20, polled_again)
    lib.check(not polled_after(server, "d.rss", t_break - 1),
              "feed d of the broken file was polled: a broken file must not apply in part")
    after, _ = titles_of(base, "/feed.atom")
    lib.check(after == before, "/feed.atom changed after polls on the old config:\n  lost %s\n  gained %s"
              % (sorted(before - after), sorted(after - before)))
    lib.note("the old config keeps polling a and c (not d); /feed.atom still serves the same %d entries"
             % len(after))

    # 5. Stop.
    run.proc.send_signal(signal.SIGTERM)
    try:
        rc = run.proc.wait(10)
    except subprocess.TimeoutExpired:
        lib.fail("feedmux did not exit within 10 s of SIGTERM\n%s" % run.output())
    lib.check(rc == 0, "feedmux exited with %d after SIGTERM, want 0\n%s" % (rc, run.output()))
    lib.note("SIGTERM: exit 0")
    if problems:
        lib.fail("\n".join(problems) + "\n" + run.output())


lib.run_test(main)
