#!/usr/bin/python3
"""Soak benchmark (issue 10): does feedmux stay flat over a long run?

    make soak                                  # 20 minutes, 5,000 feeds
    SOAK_MINUTES=3 make soak                   # a quick validation run
    FEEDMUX=src/feedmux python3 tests/bench/soak.py --minutes 3

feedmux runs as the daemon (-c CONF, listening on a free port on
127.0.0.1) for SOAK_MINUTES against SOAK_FEEDS generated feeds that keep
changing, while an HTTP client asks it for its documents throughout. Its
resident memory (VmRSS, with RssAnon beside it) and its open file
descriptors are sampled every SOAK_SAMPLE seconds from /proc; the figures
at start (the first sample after every feed was polled once: the first
full cycle), middle and end, and the maxima, make the report. Verdict
"flat" when end RSS <= start RSS x 1.2 + 8 MB and end fds <= start fds + 10.

The world it runs in, all on 127.0.0.1 and all stopping by itself:

- a corpus of small feeds written by this script into the work dir (RSS
  2.0, Atom 1.0 and RSS 1.0, 8 items each at first, at most 12: about
  4-7 kB a feed, some articles shared by several feeds and some stories
  told twice in other words, so deduplication and story grouping work);
  tests/bench/gen_corpus.py is not used: its feeds are ~80 kB each, carry
  an RSS <ttl> of 30 minutes (which would move the polls), and its
  --mutate only grows them;
- a fraction of the feed URLs (SOAK_BROKEN, default 0.5 %) names files that
  do not exist: 404s, so failure back-off is part of the run;
- nginx with tests/bench/nginx.conf.in (ETag, gzip, keep-alive), as
  `make bench` runs it, or, without nginx or with SOAK_SERVER=fixture,
  tests/fixture/server.py with its /304/gzip/ modifiers;
- a changer thread that every SOAK_CHANGE_EVERY seconds prepends 1-3 new
  items to SOAK_CHANGE % of the feeds (dropping the oldest beyond 12, so
  the corpus does not grow) and gives each changed file a new mtime;
- a client thread making about SOAK_RPS requests a second: /feed.atom,
  /feed.json, /topics/NAME.atom and .json, /metrics, /status, /, /feeds.opml,
  /healthz, a 404; plain, gzip, If-None-Match (304), HEAD; fresh and
  kept-alive connections.

Environment (each also an option, see --help):
  FEEDMUX            the binary (default: src/feedmux next to this tree)
  SOAK_MINUTES       run length in minutes (20)
  SOAK_FEEDS         number of feeds (5000)
  SOAK_INTERVAL      feedmux interval (2m); SOAK_MIN_INTERVAL (1m)
  SOAK_CHANGE        percent of feeds changed per round (5)
  SOAK_CHANGE_EVERY  seconds between rounds (30)
  SOAK_RPS           client requests per second (4)
  SOAK_SAMPLE        seconds between samples (10)
  SOAK_BROKEN        percent of feed URLs that answer 404 (0.5)
  SOAK_SERVER        nginx or fixture (nginx when /usr/sbin/nginx exists)
  SOAK_DIR           work dir (default $TMPDIR/feedmux-soak)
  SOAK_SEED          corpus seed (1)

Results: SOAK_DIR/results/STAMP.md (the table), STAMP.tsv (every sample),
latest.md and latest.tsv; feedmux's log is feedmux.log in the work folder under SOAK_DIR.
Exit status 0 when the verdict is flat and feedmux exited 0 on SIGTERM,
1 otherwise, 2 when the run could not be set up.

Python 3 standard library only.
"""

import argparse
import collections
import datetime
import email.utils
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
FIXTURE_SERVER = os.path.join(TESTS, "fixture", "server.py")
NGINX_CONF_IN = os.path.join(HERE, "nginx.conf.in")
MB = 1024 * 1024
CAP = 12          # items per feed, at most
START_ITEMS = 8   # items per feed at first
TOPICS = {
    "ukraine": "Ukraine, Kyiv",
    "climate": "flood, floods, wildfire, drought, heatwave",
    "markets": "shares, investors, trade deal, tariffs",
}

STOP = threading.Event()


def say(msg):
    sys.stderr.write("soak: %s\n" % msg)
    sys.stderr.flush()


def env_default(name, default, kind=str):
    v = os.environ.get(name)
    return kind(v) if v not in (None, "") else default


# ---- the corpus --------------------------------------------------------------

PLACES = ["Ukraine", "Kyiv", "Brazil", "Kenya", "Japan", "Canada", "Chile", "Norway",
          "Vietnam", "Morocco", "Peru", "Poland", "Ghana", "Nepal", "Portugal", "Iceland",
          "Varmere", "Kelford", "Morvik", "Talstad", "Brengrad", "Oshold", "Lunmont",
          "Drabury", "Fendale", "Galport", "Halheim", "Irpolis", "Jaswick", "Korton"]
PEOPLE = ["Anna Kessa", "Boris Dorin", "Chen Alvsson", "Dara Brunova", "Elif Cortelli",
          "Farid Dahlez", "Greta Ekberg", "Hugo Falov", "Ines Gorard", "Jonas Haski",
          "Kemi Ibani", "Lior Jorstrom", "Maya Kalic", "Nikos Lindberg", "Olga Mendez"]
ORGS = ["the port authority", "the rail operator", "the central bank", "the health ministry",
        "the teachers' union", "the electricity board", "the water utility", "the airline"]
CATS = ["World", "Politics", "Business", "Climate", "Science", "Health", "Sport",
        "Technology", "Culture", "Europe", "Markets", "Société"]
EVENTS = [
    ["Floods sweep through {L}, forcing {N} from their homes",
     "{N} evacuated as flooding hits {L}",
     "Rising rivers swamp {L}; {N} people moved to shelters"],
    ["{P} wins {L} election by a narrow margin",
     "{L} votes: {P} claims victory",
     "Narrow win for {P} in {L} poll"],
    ["Workers at {O} in {L} walk out over pay",
     "Strike at {O} brings {L} to a standstill",
     "Pay dispute: {O} staff in {L} down tools"],
    ["Wildfire near {L} grows to {N} hectares",
     "{L} wildfire forces evacuations; {N} hectares burnt",
     "Out-of-control fire near {L} scorches {N} hectares"],
    ["Shares in {L} rise as investors cheer trade deal",
     "{L} investors welcome trade deal; shares up",
     "Trade deal lifts {L} shares, {P} says"],
    ["Drought in {L}: {P} orders water limits for {N} households",
     "{N} households in {L} face water limits as drought bites",
     "{P} limits water use in drought-hit {L}"],
    ["{P} to visit Kyiv as talks on {L} resume",
     "Talks on {L} resume; {P} heads to Kyiv",
     "Kyiv visit by {P} as {L} talks restart"],
]
WORDS = ("the a of to in and for on with as by at from that said officials government "
         "minister report new year people week city region local national plan after "
         "before since while during over under between against about more than many "
         "several would could should may also only still announced confirmed expected "
         "according statement spokesperson added told reporters data figures showed "
         "rose fell sharply percent million budget cost prices market companies workers "
         "union talks agreement vote parliament council court ruling appeal law rules "
         "residents families children schools hospitals roads bridge railway airport "
         "border coast river valley storm rain heat fire water power energy grid "
         "emergency services police volunteers aid funding investment growth jobs "
         "research study scientists university results trial season league final").split()


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(s):
    return esc(s).replace('"', "&quot;")


def rfc822(ts):
    return email.utils.formatdate(ts, usegmt=True)


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Corpus:
    """N small feeds, kept in memory as item lists and rendered to files."""

    def __init__(self, root, n, seed, broken_pct):
        self.root = root
        self.fdir = os.path.join(root, "feeds")
        self.n = n
        self.rng = random.Random(seed)
        self.next_aid = 1
        self.recent = collections.deque(maxlen=400)  # articles others may repeat
        self.items = [[] for _ in range(n)]
        nbroken = int(round(n * broken_pct / 100.0))
        self.broken = set(self.rng.sample(range(n), nbroken)) if nbroken else set()
        self.lock = threading.Lock()
        self.changes = 0        # files rewritten after the first write
        self.new_items = 0

    @staticmethod
    def fmt(i):
        r = i % 10
        return "rss2" if r < 6 else ("atom" if r < 9 else "rss1")

    def path(self, i):
        return os.path.join(self.fdir, "%05d.xml" % i)

    def rel(self, i):
        # a broken feed's URL names a file that is never written: 404
        return "feeds/%05d%s.xml" % (i, "-gone" if i in self.broken else "")

    def article(self, i, ts):
        r = self.rng
        if self.recent and r.random() < 0.12:
            a = dict(r.choice(self.recent))        # the same article in another feed
            a["ts"] = ts
            return a
        aid = self.next_aid
        self.next_aid += 1
        slots = {"L": r.choice(PLACES), "P": r.choice(PEOPLE), "O": r.choice(ORGS),
                 "N": str(r.randint(2, 900) * 10)}
        ev = r.randrange(len(EVENTS))
        if r.random() < 0.5:
            title = r.choice(EVENTS[ev]).format(**slots)
        else:
            title = "%s %s %s" % (r.choice(PLACES), " ".join(r.sample(WORDS, r.randint(4, 8))),
                                  r.choice(PEOPLE).split()[1])
            title = title[0].upper() + title[1:]
        sentences = []
        for _ in range(r.randint(2, 4)):
            sentences.append(" ".join(r.sample(WORDS, r.randint(8, 16))).capitalize() + ".")
        body = "<p>%s</p><p>%s <a href=\"https://pub%d.soak.invalid/more/%d\">More</a>.</p>" % (
            " ".join(sentences[:-1]), sentences[-1], i % 97, aid)
        a = {"guid": "tag:soak.feedmux.invalid,2025:a%d" % aid,
             "link": "https://pub%d.soak.invalid/%d/%s" % (
                 i % 97, aid, re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]),
             "title": title, "body": body, "cat": r.choice(CATS), "ts": ts}
        self.recent.append(a)
        return a

    def render(self, i):
        items = self.items[i]
        fmt = self.fmt(i)
        host = "pub%05d.soak.invalid" % i
        newest = items[0]["ts"] if items else time.time()
        out = []
        if fmt == "rss2":
            out.append('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
                       "<title>Soak publisher %05d</title>\n<link>https://%s/</link>\n"
                       "<description>Made-up news %05d</description>\n<lastBuildDate>%s</lastBuildDate>\n"
                       % (i, host, i, rfc822(newest)))
            for a in items:
                out.append("<item>\n<title>%s</title>\n<link>%s</link>\n<guid isPermaLink=\"false\">%s</guid>\n"
                           "<pubDate>%s</pubDate>\n<category>%s</category>\n<description>%s</description>\n"
                           "</item>\n" % (esc(a["title"]), esc(a["link"]), esc(a["guid"]), rfc822(a["ts"]),
                                          esc(a["cat"]), esc(a["body"])))
            out.append("</channel>\n</rss>\n")
        elif fmt == "atom":
            out.append('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
                       "<title>Soak publisher %05d</title>\n<id>tag:%s,2025:feed</id>\n"
                       '<link rel="alternate" href="https://%s/"/>\n<updated>%s</updated>\n'
                       "<author><name>Desk %05d</name></author>\n" % (i, host, host, rfc3339(newest), i))
            for a in items:
                out.append("<entry>\n<title>%s</title>\n<id>%s</id>\n<link href=\"%s\"/>\n"
                           "<published>%s</published>\n<updated>%s</updated>\n<category term=\"%s\"/>\n"
                           "<summary type=\"html\">%s</summary>\n</entry>\n"
                           % (esc(a["title"]), esc(a["guid"]), esc_attr(a["link"]), rfc3339(a["ts"]),
                              rfc3339(a["ts"]), esc_attr(a["cat"]), esc(a["body"])))
            out.append("</feed>\n")
        else:
            out.append('<?xml version="1.0" encoding="UTF-8"?>\n'
                       '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                       'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
                       '<channel rdf:about="https://%s/">\n<title>Soak publisher %05d</title>\n'
                       "<link>https://%s/</link>\n<description>Made-up news %05d</description>\n"
                       "<items>\n<rdf:Seq>\n%s</rdf:Seq>\n</items>\n</channel>\n"
                       % (host, i, host, i,
                          "".join('<rdf:li rdf:resource="%s"/>\n' % esc_attr(a["link"]) for a in items)))
            for a in items:
                out.append('<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n<dc:date>%s</dc:date>\n'
                           "<dc:subject>%s</dc:subject>\n<description>%s</description>\n</item>\n"
                           % (esc_attr(a["link"]), esc(a["title"]), esc(a["link"]), rfc3339(a["ts"]),
                              esc(a["cat"]), esc(a["body"])))
            out.append("</rdf:RDF>\n")
        return "".join(out).encode("utf-8")

    def write(self, i):
        path = self.path(i)
        old = None
        try:
            old = os.stat(path).st_mtime
        except OSError:
            pass
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(self.render(i))
        os.replace(tmp, path)
        if old is not None:
            # a new mtime, so nginx's ETag (mtime-size) changes within a second too
            t = max(int(time.time()), int(old) + 1)
            os.utime(path, (t, t))

    def generate(self):
        os.makedirs(self.fdir, exist_ok=True)
        for name in os.listdir(self.fdir):
            os.remove(os.path.join(self.fdir, name))
        now = time.time()
        for i in range(self.n):
            ts = sorted((now - self.rng.randint(600, 3 * 86400) for _ in range(START_ITEMS)), reverse=True)
            self.items[i] = [self.article(i, t) for t in ts]
            if i not in self.broken:
                self.write(i)
        return sum(os.path.getsize(self.path(i)) for i in range(self.n) if i not in self.broken)

    def change(self, pct):
        """Prepend 1-3 new items to pct % of the (working) feeds."""
        with self.lock:
            pool = [i for i in range(self.n) if i not in self.broken]
            k = max(1, int(round(len(pool) * pct / 100.0)))
            now = time.time()
            added = 0
            for i in self.rng.sample(pool, k):
                new = [self.article(i, now - self.rng.randint(0, 300) - j) for j in range(self.rng.randint(1, 3))]
                new.sort(key=lambda a: -a["ts"])
                self.items[i] = (new + self.items[i])[:CAP]
                self.write(i)
                added += len(new)
            self.changes += k
            self.new_items += added
            return k, added

    def disk_bytes(self):
        total = 0
        for name in os.listdir(self.fdir):
            try:
                total += os.path.getsize(os.path.join(self.fdir, name))
            except OSError:
                pass
        return total


# ---- processes ---------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env():
    env = dict(os.environ)
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def wait_http(port, path, seconds, alive=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status in (200, 304):
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


class Nginx:
    def __init__(self, work, root, port):
        self.work = work
        self.pid = None
        os.makedirs(os.path.join(work, "nginx-tmp"), exist_ok=True)
        with open(NGINX_CONF_IN, encoding="utf-8") as f:
            conf = f.read()
        user = "user root root;" if os.getuid() == 0 else ""
        conf = (conf.replace("@WORK@", work).replace("@ROOT@", root).replace("@PORT@", str(port))
                .replace("@USER@", user))
        self.conf = os.path.join(work, "nginx.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf)
        self.access_log = os.path.join(work, "nginx-access.log")
        open(self.access_log, "w").close()
        args = [NGINX, "-c", self.conf, "-p", work, "-e", os.path.join(work, "nginx-error.log")]
        subprocess.run(args + ["-t", "-q"], check=True)
        subprocess.run(args, check=True)
        pidfile = os.path.join(work, "nginx.pid")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.exists(pidfile):
            time.sleep(0.05)
        with open(pidfile) as f:
            self.pid = int(f.read().strip())

    def statuses(self):
        counts = collections.Counter()
        try:
            with open(self.access_log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.split(" ", 2)
                    if len(parts) > 1:
                        counts[parts[1]] += 1
        except OSError:
            pass
        return counts

    def stop(self):
        if self.pid is None:
            return
        stop_pid(self.pid, signal.SIGQUIT)
        self.pid = None


def stop_pid(pid, sig=signal.SIGTERM, timeout=10):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Fixture:
    def __init__(self, work, root, lifetime):
        self.port_file = os.path.join(work, "fixture.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.err = open(os.path.join(work, "fixture.stderr"), "w")
        self.proc = subprocess.Popen([sys.executable, FIXTURE_SERVER, "--root", root, "--port-file",
                                      self.port_file, "--lifetime", str(int(lifetime))],
                                     stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err,
                                     env=child_env())
        deadline = time.monotonic() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fixture server did not start (see fixture.stderr)")
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def statuses(self):
        return collections.Counter()

    def stop(self):
        if self.proc.poll() is None:
            stop_pid(self.proc.pid)
            self.proc.wait()
        self.err.close()


# ---- /proc and /metrics ---------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    s = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "VmSize"):
                s[k] = int(v.split()[0])  # kB
            elif k == "Threads":
                s[k] = int(v)
    s["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    s["cpu"] = (int(fields[11]) + int(fields[12])) / CLK
    return s


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def parse_metrics(text):
    m = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        g = METRIC_LINE.match(line)
        if g:
            try:
                m[g.group(1) + (g.group(2) or "")] = float(g.group(3))
            except ValueError:
                pass
    return m


def msum(m, prefix):
    return sum(v for k, v in m.items() if k == prefix or k.startswith(prefix + "{"))


def get(port, path, headers=None, method="GET", timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body
    finally:
        c.close()


# ---- the client ---------------------------------------------------------------

class Client(threading.Thread):
    """About rps requests a second until STOP; counts statuses and errors."""

    def __init__(self, port, rps, seed):
        super().__init__(daemon=True)
        self.port = port
        self.period = 1.0 / rps
        self.rng = random.Random(seed)
        self.etags = {}
        self.status = collections.Counter()
        self.by_kind = collections.Counter()
        self.errors = collections.Counter()
        self.bad = []                 # first few surprises, for the report
        self.bytes = 0
        self.lat_max = 0.0
        self.lat_sum = 0.0
        self.n = 0
        self.paths = {}               # path -> [requests, latency sum, latency max, bytes]
        self.keep = None              # a kept-alive connection, reused for a while
        self.keep_uses = 0

    def plan(self):
        r = self.rng
        docs = ["/feed.atom", "/feed.json"] + ["/topics/%s.atom" % t for t in TOPICS] + \
               ["/topics/%s.json" % t for t in TOPICS]
        x = r.random()
        if x < 0.55:
            path = r.choice(docs)
            mode = r.choice(["plain", "gzip", "inm", "inm-gzip", "head"])
        elif x < 0.70:
            path, mode = "/metrics", r.choice(["plain", "gzip"])
        elif x < 0.78:
            path, mode = "/status", "plain"
        elif x < 0.82:
            path, mode = "/", r.choice(["plain", "gzip"])
        elif x < 0.88:
            path, mode = "/feeds.opml", r.choice(["plain", "inm"])
        elif x < 0.94:
            path, mode = "/healthz", "plain"
        else:
            path, mode = "/nope-%d" % r.randrange(1000), "plain"
        return path, mode

    def one(self):
        path, mode = self.plan()
        headers = {}
        if "gzip" in mode:
            headers["Accept-Encoding"] = "gzip"
        if mode.startswith("inm") and (path, "gzip" in mode) in self.etags:
            headers["If-None-Match"] = self.etags[(path, "gzip" in mode)]
        method = "HEAD" if mode == "head" else "GET"
        reuse = self.rng.random() < 0.5
        t0 = time.monotonic()
        try:
            if reuse:
                if self.keep is None or self.keep_uses >= 50:
                    if self.keep is not None:
                        self.keep.close()
                    self.keep = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    self.keep_uses = 0
                self.keep_uses += 1
                self.keep.request(method, path, headers=headers)
                r = self.keep.getresponse()
                body = r.read()
                status, rh = r.status, dict((k.lower(), v) for k, v in r.getheaders())
                if (rh.get("connection") or "").lower() == "close":
                    self.keep.close()
                    self.keep = None
            else:
                status, rh, body = get(self.port, path, headers, method)
        except (OSError, http.client.HTTPException) as e:
            if self.keep is not None:
                self.keep.close()
                self.keep = None
            self.errors[type(e).__name__] += 1
            if len(self.bad) < 10:
                self.bad.append("%s %s (%s): %s" % (method, path, mode, e))
            return
        dt = time.monotonic() - t0
        self.n += 1
        self.lat_sum += dt
        self.lat_max = max(self.lat_max, dt)
        self.bytes += len(body)
        key = "/nope-N" if path.startswith("/nope") else path
        p = self.paths.setdefault(key, [0, 0.0, 0.0, 0])
        p[0] += 1
        p[1] += dt
        p[2] = max(p[2], dt)
        p[3] += len(body)
        self.status[status] += 1
        self.by_kind[mode] += 1
        want = 404 if path.startswith("/nope") else None
        ok = status == want if want else status in (200, 304)
        if status == 304 and not mode.startswith("inm"):
            ok = False
        if ok and status == 200 and rh.get("content-encoding") == "gzip" and method == "GET":
            try:
                gzip.decompress(body)
            except (OSError, EOFError) as e:
                ok = False
                status = "bad gzip: %s" % e
        if ok and status == 200 and "etag" in rh:
            self.etags[(path, "gzip" in mode)] = rh["etag"]
        if not ok:
            self.errors["status"] += 1
            if len(self.bad) < 10:
                self.bad.append("%s %s (%s): %s" % (method, path, mode, status))

    def run(self):
        nxt = time.monotonic()
        while not STOP.is_set():
            self.one()
            nxt += self.period
            STOP.wait(max(0.0, nxt - time.monotonic()))
        if self.keep is not None:
            self.keep.close()


class Changer(threading.Thread):
    def __init__(self, corpus, pct, every):
        super().__init__(daemon=True)
        self.corpus, self.pct, self.every = corpus, pct, every
        self.rounds = 0

    def run(self):
        while not STOP.wait(self.every):
            self.corpus.change(self.pct)
            self.rounds += 1


# ---- the run -----------------------------------------------------------------

def write_config(path, work, port, fport, corpus, interval, min_interval, fixture):
    prefix = "304/gzip/" if fixture else ""
    lines = ["# written by tests/bench/soak.py", "[feedmux]",
             "title = feedmux soak",
             "base_url = http://127.0.0.1:%d/" % port,
             "listen = 127.0.0.1:%d" % port,
             "state = %s" % os.path.join(work, "state", "state.db"),
             "output_dir = %s" % os.path.join(work, "public"),
             "interval = %s" % interval,
             "min_interval = %s" % min_interval,
             "max_entries = 200",
             "concurrency = 64",
             "allow_private_networks = yes"]
    for name, match in TOPICS.items():
        lines += ["", "[topic %s]" % name, "title = %s" % name.capitalize(), "match = %s" % match]
    for i in range(corpus.n):
        lines += ["", "[feed f%05d]" % i, "url = http://127.0.0.1:%d/%s%s" % (fport, prefix, corpus.rel(i))]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def parse_duration(s):
    m = re.fullmatch(r"(\d+)([smhd]?)", s.strip())
    if not m:
        raise ValueError("not a duration: %r" % s)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def fmt_mb(kb):
    return "%.1f" % (kb / 1024.0)


def main():
    ap = argparse.ArgumentParser(description="feedmux soak benchmark (tests/bench/README-soak.md)")
    ap.add_argument("--minutes", type=float, default=env_default("SOAK_MINUTES", 20.0, float))
    ap.add_argument("--feeds", type=int, default=env_default("SOAK_FEEDS", 5000, int))
    ap.add_argument("--interval", default=env_default("SOAK_INTERVAL", "2m"))
    ap.add_argument("--min-interval", default=env_default("SOAK_MIN_INTERVAL", "1m"))
    ap.add_argument("--change", type=float, default=env_default("SOAK_CHANGE", 5.0, float),
                    help="percent of feeds changed per round")
    ap.add_argument("--change-every", type=float, default=env_default("SOAK_CHANGE_EVERY", 30.0, float))
    ap.add_argument("--rps", type=float, default=env_default("SOAK_RPS", 4.0, float))
    ap.add_argument("--sample", type=float, default=env_default("SOAK_SAMPLE", 10.0, float))
    ap.add_argument("--broken", type=float, default=env_default("SOAK_BROKEN", 0.5, float))
    ap.add_argument("--server", choices=["nginx", "fixture"],
                    default=env_default("SOAK_SERVER", "nginx" if os.access(NGINX, os.X_OK) else "fixture"))
    ap.add_argument("--dir", default=env_default("SOAK_DIR", os.path.join(
        os.environ.get("TMPDIR") or "/tmp", "feedmux-soak")))
    ap.add_argument("--seed", type=int, default=env_default("SOAK_SEED", 1, int))
    args = ap.parse_args()

    feedmux = os.environ.get("FEEDMUX") or os.path.join(TOP, "src", "feedmux")
    if not os.access(feedmux, os.X_OK):
        say("no feedmux binary at %s (make src/feedmux, or set FEEDMUX)" % feedmux)
        return 2
    feedmux = os.path.abspath(feedmux)
    if args.minutes <= 0 or args.minutes > 24 * 60 or args.feeds < 1 or args.rps <= 0 or args.sample < 1:
        say("out-of-range settings (minutes 0-1440, feeds >= 1, rps > 0, sample >= 1 s)")
        return 2
    if args.server == "nginx" and not os.access(NGINX, os.X_OK):
        say("%s not found (sh tests/bench/deps.sh, or SOAK_SERVER=fixture)" % NGINX)
        return 2
    interval = parse_duration(args.interval)
    duration = args.minutes * 60.0

    base = os.path.abspath(args.dir)
    work = os.path.join(base, "work")
    results = os.path.join(base, "results")
    for d in (work, results):
        os.makedirs(d, exist_ok=True)
    for sub in ("state", "public"):
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
        os.makedirs(os.path.join(work, sub))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    started_utc = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    corpus = Corpus(os.path.join(base, "corpus"), args.feeds, args.seed, args.broken)
    t = time.monotonic()
    nbytes = corpus.generate()
    say("corpus: %d feeds (%d answer 404), %.1f MB, written in %.1f s"
        % (args.feeds, len(corpus.broken), nbytes / 1e6, time.monotonic() - t))

    server = daemon = None
    log = None
    rc = 1
    try:
        if args.server == "nginx":
            fport = free_port()
            server = Nginx(work, corpus.root, fport)
        else:
            server = Fixture(work, corpus.root, duration + 600)
            fport = server.port
        say("%s on 127.0.0.1:%d" % (args.server, fport))
        port = free_port()
        conf = os.path.join(work, "feedmux.conf")
        write_config(conf, work, port, fport, corpus, args.interval, args.min_interval,
                     args.server == "fixture")
        log = open(os.path.join(work, "feedmux.log"), "w")
        version = subprocess.run([feedmux, "-V"], capture_output=True, text=True).stdout.strip()
        daemon = subprocess.Popen([feedmux, "-c", conf], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, env=child_env())
        t0 = time.monotonic()
        end_at = t0 + duration
        if not wait_http(port, "/healthz", 120, lambda: daemon.poll() is None):
            say("feedmux does not answer on 127.0.0.1:%d (see %s)" % (port, log.name))
            return 2
        say("feedmux %s pid %d on 127.0.0.1:%d for %.1f min (interval %s, min_interval %s)"
            % (version, daemon.pid, port, args.minutes, args.interval, args.min_interval))

        client = Client(port, args.rps, args.seed)
        changer = Changer(corpus, args.change, args.change_every)
        client.start()
        changer.start()

        samples = []
        first_cycle_at = None
        pending = None
        metrics = {}
        next_sample = time.monotonic()
        while True:
            now = time.monotonic()
            if daemon.poll() is not None:
                say("feedmux exited with %s during the run" % daemon.returncode)
                break
            if now >= end_at:
                break
            try:
                s = proc_sample(daemon.pid)
            except OSError:
                continue
            s["t"] = now - t0
            try:
                _, _, body = get(port, "/metrics")
                metrics = parse_metrics(body.decode("utf-8", "replace"))
            except (OSError, http.client.HTTPException):
                pass
            s["polls"] = msum(metrics, "feedmux_fetches_total")
            s["served"] = msum(metrics, "feedmux_http_requests_total")
            s["conns"] = metrics.get("feedmux_http_connections", -1)
            s["items"] = msum(metrics, "feedmux_items_total")
            s["running"] = metrics.get('feedmux_transfers{state="running"}', -1)
            if first_cycle_at is None:
                try:
                    st, _, body = get(port, "/status")
                    lines = body.decode("utf-8", "replace").splitlines()[1:]
                    pending = sum(1 for l in lines if l.split("\t")[1:2] == ["pending"])
                    if st == 200 and lines and pending == 0:
                        first_cycle_at = s["t"]
                        say("first cycle done at %.0f s: every feed polled once" % s["t"])
                except (OSError, http.client.HTTPException, IndexError):
                    pass
            s["cycle"] = first_cycle_at is not None
            try:
                db = os.path.join(work, "state", "state.db")
                s["db"] = sum(os.path.getsize(db + x) for x in ("", "-wal") if os.path.exists(db + x))
            except OSError:
                s["db"] = 0
            samples.append(s)
            if len(samples) % 6 == 1:
                say("t=%4.0fs rss %s MB (anon %s) fds %d polls %d served %d%s"
                    % (s["t"], fmt_mb(s["VmRSS"]), fmt_mb(s.get("RssAnon", 0)), s["fds"], s["polls"],
                       s["served"], "" if first_cycle_at is not None else ", %s pending" % pending))
            next_sample += args.sample
            STOP.wait(max(0.0, min(next_sample, end_at) - time.monotonic()))

        STOP.set()
        client.join(40)
        changer.join(40)
        final_metrics = metrics
        try:
            _, _, body = get(port, "/metrics")
            final_metrics = parse_metrics(body.decode("utf-8", "replace"))
        except (OSError, http.client.HTTPException):
            pass
        alive = daemon.poll() is None
        exit_status = None
        if alive:
            daemon.send_signal(signal.SIGTERM)
            try:
                exit_status = daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
                exit_status = "killed after 60 s"
        else:
            exit_status = daemon.returncode
        elapsed = time.monotonic() - t0
        rc = report(args, stamp, started_utc, version, results, work, samples, first_cycle_at, client,
                    changer, corpus, final_metrics, server.statuses(), exit_status, alive, elapsed, interval)
    finally:
        STOP.set()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if server is not None:
            server.stop()
        if log is not None:
            log.close()
    return rc


def pick(samples, t):
    return min(samples, key=lambda s: abs(s["t"] - t))


def report(args, stamp, started_utc, version, results, work, samples, first_cycle_at, client, changer,
           corpus, m, upstream, exit_status, alive, elapsed, interval):
    out = []
    w = out.append
    cmd = "SOAK_MINUTES=%g make soak" % args.minutes if args.feeds == 5000 else \
        "SOAK_MINUTES=%g SOAK_FEEDS=%d make soak" % (args.minutes, args.feeds)
    w("# feedmux soak, %s" % started_utc)
    w("")
    w("- command: `%s` (tests/bench/soak.py; server %s, interval %s, min_interval %s, "
      "%g %% of feeds changed every %g s, client ~%g req/s, a sample every %g s)"
      % (cmd, args.server, args.interval, args.min_interval, args.change, args.change_every, args.rps,
         args.sample))
    w("- feedmux: %s; machine: %s, %d cpus, kernel %s" % (
        version, cpu_model(), os.cpu_count() or 0, os.uname().release))
    w("- ran %.1f min; %d feeds (%d answer 404), at most %d items each; corpus %.1f MB at the end"
      % (elapsed / 60.0, corpus.n, len(corpus.broken), CAP, corpus.disk_bytes() / 1e6))
    if not samples:
        w("")
        w("No samples: feedmux stopped before the first one.")
        verdict = "broken"
    else:
        after = [s for s in samples if s["cycle"]]
        if not after:
            w("- the first cycle never completed (feeds still pending at the end); start = first sample")
            after = samples
        start, end = after[0], after[-1]
        middle = pick(after, (start["t"] + end["t"]) / 2.0)
        rss_limit = start["VmRSS"] * 1.2 + 8 * 1024
        fd_limit = start["fds"] + 10
        flat = end["VmRSS"] <= rss_limit and end["fds"] <= fd_limit
        enough = end["t"] - start["t"] >= 2 * interval
        verdict = "flat" if flat else "GROWING"
        w("")
        w("| point | t (s) | VmRSS MB | RssAnon MB | fds | threads | HTTP conns | polls | served | "
          "state.db+wal MB | CPU s |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

        def row(name, s):
            w("| %s | %.0f | %s | %s | %d | %d | %d | %d | %d | %.1f | %.1f |" % (
                name, s["t"], fmt_mb(s["VmRSS"]), fmt_mb(s.get("RssAnon", 0)), s["fds"], s.get("Threads", 0),
                s["conns"], s["polls"], s["served"], s["db"] / 1e6, s["cpu"]))
        row("start (first cycle done)", start)
        row("middle", middle)
        row("end", end)
        mr = max(after, key=lambda s: s["VmRSS"])
        mf = max(after, key=lambda s: s["fds"])
        w("| max after start (RSS at t=%.0f, fds at t=%.0f) | | %s | %s | %d | | | | | | |" % (
            mr["t"], mf["t"], fmt_mb(mr["VmRSS"]), fmt_mb(max(s.get("RssAnon", 0) for s in after)),
            mf["fds"]))
        w("| max over the run (VmHWM %s MB) | | %s | | %d | | | | | | |" % (
            fmt_mb(samples[-1].get("VmHWM", 0)), fmt_mb(max(s["VmRSS"] for s in samples)),
            max(s["fds"] for s in samples)))
        w("")
        w("Verdict: **%s** (end RSS %s MB vs limit %s MB = start x 1.2 + 8 MB; end fds %d vs limit %d = "
          "start + 10)%s." % (verdict, fmt_mb(end["VmRSS"]), fmt_mb(rss_limit), end["fds"], fd_limit,
                              "" if enough else "; note: less than two polling intervals after the start, "
                              "too short to conclude"))
        tail = [s for s in after if s["t"] >= middle["t"]]
        if len(tail) >= 2:
            dt = (tail[-1]["t"] - tail[0]["t"]) / 60.0 or 1.0
            w("RSS slope over the second half: %+.2f MB/min (anon %+.2f MB/min)." % (
                (tail[-1]["VmRSS"] - tail[0]["VmRSS"]) / 1024.0 / dt,
                (tail[-1].get("RssAnon", 0) - tail[0].get("RssAnon", 0)) / 1024.0 / dt))
        if first_cycle_at is not None:
            w("First cycle (every feed polled once) done at t=%.0f s." % first_cycle_at)
    fetch = {k.split('"')[1]: int(v) for k, v in m.items() if k.startswith("feedmux_fetches_total{")}
    codes = {k.split('"')[1]: int(v) for k, v in m.items() if k.startswith("feedmux_http_requests_total{") and v}
    items = {k.split('"')[1]: int(v) for k, v in m.items() if k.startswith("feedmux_items_total{")}
    w("")
    w("- polls (feedmux_fetches_total): %d: %s" % (sum(fetch.values()), ", ".join(
        "%s %d" % kv for kv in sorted(fetch.items()))))
    if upstream:
        w("- upstream server saw: %s" % ", ".join("%s %d" % kv for kv in sorted(upstream.items())))
    w("- items (feedmux_items_total): %s; stories %d; renders %d (failures %d)" % (
        ", ".join("%s %d" % kv for kv in sorted(items.items())), m.get("feedmux_stories_total", 0),
        m.get("feedmux_renders_total", 0), m.get("feedmux_render_failures_total", 0)))
    w("- requests served (feedmux_http_requests_total): %d: %s" % (
        sum(codes.values()), ", ".join("%s %d" % kv for kv in sorted(codes.items()))))
    w("- client: %d requests (%s), %.1f MB, latency avg %.1f ms max %.0f ms; errors: %s" % (
        client.n, ", ".join("%s %d" % (k, v) for k, v in sorted(client.status.items(), key=str)),
        client.bytes / 1e6, 1000.0 * client.lat_sum / max(client.n, 1), 1000.0 * client.lat_max,
        ", ".join("%s %d" % kv for kv in sorted(client.errors.items())) or "none"))
    for b in client.bad:
        w("  - %s" % b)
    w("")
    w("| client path | requests | avg ms | max ms | avg kB |")
    w("|---|---:|---:|---:|---:|")
    for path, (n, lsum, lmax, nb) in sorted(client.paths.items()):
        w("| %s | %d | %.1f | %.0f | %.1f |" % (path, n, 1000.0 * lsum / n, 1000.0 * lmax, nb / 1024.0 / n))
    w("")
    w("- changes: %d rounds, %d feed files rewritten, %d new items" % (
        changer.rounds, corpus.changes, corpus.new_items))
    logp = os.path.join(work, "feedmux.log")
    levels = collections.Counter()
    try:
        with open(logp, encoding="utf-8", errors="replace") as f:
            for line in f:
                g = re.search(r"feedmux\[(\w+)\]", line)
                if g:
                    levels[g.group(1)] += 1
    except OSError:
        pass
    w("- feedmux log lines by level: %s" % (", ".join("%s %d" % kv for kv in sorted(levels.items())) or "none"))
    w("- feedmux %s; exit status on SIGTERM: %s" % ("alive at the end" if alive else "DIED during the run",
                                                    exit_status))
    text = "\n".join(out) + "\n"

    md = os.path.join(results, stamp + ".md")
    tsv = os.path.join(results, stamp + ".tsv")
    with open(md, "w", encoding="utf-8") as f:
        f.write(text)
    keys = ["t", "VmRSS", "RssAnon", "RssFile", "VmHWM", "fds", "Threads", "conns", "running", "cpu",
            "polls", "served", "items", "db", "cycle"]
    with open(tsv, "w", encoding="utf-8") as f:
        f.write("\t".join(keys) + "\n")
        for s in samples:
            f.write("\t".join(str(round(s.get(k, 0), 2)) if isinstance(s.get(k, 0), float) else str(s.get(k, 0))
                              for k in keys) + "\n")
    for name, target in (("latest.md", md), ("latest.tsv", tsv)):
        link = os.path.join(results, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.basename(target), link)
    sys.stdout.write(text)
    sys.stdout.flush()
    say("report: %s; samples: %s" % (md, tsv))
    ok = verdict == "flat" and alive and exit_status == 0
    return 0 if ok else 1


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    def _term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _term)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        STOP.set()
        say("interrupted")
        sys.exit(130)
