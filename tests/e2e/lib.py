"""Helpers for feedmux's end-to-end tests (python3 stdlib + feedparser).

The scripts next to this file are run by automake from the build tree as
`python3 tests/e2e/NAME.py`, with this environment:

  FEEDMUX          the feedmux binary under test
  TESTS_SRCDIR     absolute path of tests/ in the source tree
  TESTS_BUILDDIR   absolute path of tests/ in the build tree (temp dirs go here)
  XMLLINT          xmllint to validate with (default: xmllint on PATH)

Exit status follows automake: 0 pass, 1 fail, 77 skip. A test's temp dir
is removed when it passes and kept (and named) when it fails.
"""

import atexit
import calendar
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

NAME = os.path.basename(sys.argv[0]) or "e2e"

_tempdirs = []
_cleanups = []
_failed = False


def note(msg):
    """Progress for the .log file automake keeps."""
    print("%s: %s" % (NAME, msg), flush=True)


def fail(msg):
    """Print what went wrong, keep the temp dirs for inspection, exit 1."""
    global _failed
    _failed = True
    sys.stdout.flush()
    sys.stderr.write("FAIL %s: %s\n" % (NAME, msg))
    for d in _tempdirs:
        sys.stderr.write("  (kept %s)\n" % d)
    sys.stderr.flush()
    sys.exit(1)


def skip(msg):
    sys.stdout.flush()
    sys.stderr.write("SKIP %s: %s\n" % (NAME, msg))
    sys.exit(77)


def check(cond, msg):
    if not cond:
        fail(msg)


try:
    import feedparser
except ImportError:
    skip("python module feedparser is not importable by %s "
         "(Debian: apt-get install python3-feedparser)" % sys.executable)


SRCDIR = os.environ.get("TESTS_SRCDIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDDIR = os.environ.get("TESTS_BUILDDIR") or tempfile.gettempdir()
XMLLINT = os.environ.get("XMLLINT") or "xmllint"
ATOM_RNG = os.path.join(SRCDIR, "data", "atom.rng")
FIXTURE_DIR = os.path.join(SRCDIR, "fixture")
FIXTURE_FEEDS = os.path.join(FIXTURE_DIR, "feeds")
FIXTURE_SERVER = os.path.join(FIXTURE_DIR, "server.py")


def feedmux_binary():
    path = os.environ.get("FEEDMUX")
    if not path:
        fail("FEEDMUX is not set (it names the feedmux binary under test)")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        fail("FEEDMUX=%s is not an executable file" % path)
    return path


def child_env():
    """The environment for children: never send fixture traffic to a proxy."""
    env = dict(os.environ)
    for k in ("no_proxy", "NO_PROXY"):
        env[k] = "127.0.0.1,localhost"
    return env


def run_test(fn):
    """Run fn(); an unexpected exception is a failure with its traceback."""
    try:
        fn()
    except SystemExit:
        raise
    except BaseException:
        fail("unexpected exception:\n" + traceback.format_exc())
    sys.exit(0)


@atexit.register
def _cleanup():
    for f in reversed(_cleanups):
        try:
            f()
        except Exception:  # best effort at exit
            pass
    if not _failed:
        for d in _tempdirs:
            shutil.rmtree(d, ignore_errors=True)


# ---- files and ports ------------------------------------------------------

def outputs(public):
    """Every file under public: path -> (bytes, mtime in ns)."""
    found = {}
    for root, _, files in os.walk(public):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fp:
                found[os.path.relpath(p, public)] = (fp.read(), os.stat(p).st_mtime_ns)
    return found


def make_tempdir(tag):
    """A fresh directory for one test (or one run within a test)."""
    os.makedirs(BUILDDIR, exist_ok=True)
    d = tempfile.mkdtemp(prefix="e2e-%s-%s-" % (os.path.splitext(NAME)[0], tag), dir=BUILDDIR)
    _tempdirs.append(d)
    return d


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# ---- the fixture server ---------------------------------------------------

class FixtureServer:
    """tests/fixture/server.py in a subprocess; see its docstring for paths."""

    def __init__(self, root=FIXTURE_FEEDS, lifetime=120, host=None):
        """host: the loopback address to bind (default the server's own,
        127.0.0.1); any 127.x.y.z works on Linux, so several servers give
        a test several distinct hosts."""
        self.dir = make_tempdir("fixture")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.stderr_path = os.path.join(self.dir, "server.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.host = host or "127.0.0.1"
        self.proc = subprocess.Popen(
            [sys.executable, FIXTURE_SERVER, "--root", root, "--port-file", self.port_file,
             "--log", self.log, "--lifetime", str(lifetime)] +
            (["--host", host] if host else []),
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr, env=child_env())
        _cleanups.append(self.stop)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                fail("fixture server exited with %s before listening:\n%s"
                     % (self.proc.returncode, read_text(self.stderr_path)))
            if time.monotonic() > deadline:
                fail("fixture server wrote no port file within 15 s")
            time.sleep(0.05)
        self.port = int(read_text(self.port_file).strip())
        self.base = "http://%s:%d" % (self.host, self.port)

    def url(self, path):
        return self.base + "/" + path.lstrip("/")

    def requests(self):
        """The request log: a list of dicts (see server.py), read once the
        server has no request in flight (or after its 10 s bound)."""
        import json
        try:
            fetch(self.url("_fixture/idle"), timeout=15)
        except OSError:
            pass
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


# ---- configuration and running feedmux ------------------------------------

def write_config(directory, feeds, **settings):
    """Write DIR/feedmux.conf. feeds: [(name, url), ...]. settings override
    the [feedmux] keys below; a value of None leaves a key out."""
    port = settings.pop("_port", None) or free_port()
    base = {
        "title": "feedmux e2e",
        "base_url": "http://127.0.0.1:%d/" % port,
        "listen": "127.0.0.1:%d" % port,
        "state": os.path.join(directory, "state.db"),
        "output_dir": os.path.join(directory, "public"),
        "interval": "30m",
        "max_entries": "200",
        # The fixture's articles are from June 2025: keep them publishable
        # and stored (both keys accept at most 3650d).
        "max_age": "3000d",
        "keep": "3000d",
    }
    base.update(settings)
    lines = ["# written by tests/e2e/lib.py", "[feedmux]"]
    for k, v in base.items():
        if v is not None:
            lines.append("%s = %s" % (k, v))
    for name, url in feeds:
        lines += ["", "[feed %s]" % name, "url = %s" % url]
    path = os.path.join(directory, "feedmux.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_feedmux(args, timeout=60):
    """Run feedmux to completion; returns CompletedProcess (text output)."""
    cmd = [feedmux_binary()] + list(args)
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout, env=child_env())
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        fail("`%s` did not finish within %d s\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(cmd), timeout, out, err))


class Daemon:
    """feedmux running in the foreground; output goes to files in directory."""

    def __init__(self, args, directory):
        self.cmd = [feedmux_binary()] + list(args)
        self.out_path = os.path.join(directory, "feedmux.stdout")
        self.err_path = os.path.join(directory, "feedmux.stderr")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, env=child_env())
        _cleanups.append(self.kill)

    def output(self):
        return "stdout:\n%s\nstderr:\n%s" % (read_text(self.out_path), read_text(self.err_path))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Send sig; return the exit status, or None if it did not exit."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


# ---- HTTP -----------------------------------------------------------------

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def fetch(url, headers=None, method="GET", timeout=5):
    """GET (or HEAD) url without a proxy. Returns a Response for any HTTP
    status; raises OSError when there is no HTTP answer at all."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _opener.open(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())
    except urllib.error.URLError as e:
        raise OSError(str(e.reason)) from None


# ---- checking Atom --------------------------------------------------------

def validate_atom(path):
    """xmllint --relaxng tests/data/atom.rng; fail with its output."""
    try:
        p = subprocess.run([XMLLINT, "--noout", "--relaxng", ATOM_RNG, path],
                           capture_output=True, text=True, errors="replace", timeout=60)
    except FileNotFoundError:
        fail("%s not found (set XMLLINT or install libxml2-utils)" % XMLLINT)
    if p.returncode != 0:
        fail("%s is not valid Atom (RFC 4287 schema %s):\n%s%s"
             % (path, ATOM_RNG, p.stdout, p.stderr))


def parse_feed(path_or_bytes, what):
    """feedparser, insisting on bozo == 0."""
    d = feedparser.parse(path_or_bytes)
    if d.bozo:
        fail("feedparser finds %s malformed (bozo): %r" % (what, d.get("bozo_exception")))
    if d.get("version") != "atom10":
        fail("feedparser reads %s as %r, not Atom 1.0" % (what, d.get("version")))
    return d


def canonical_link(url):
    """Scheme-blind, tracking-free form of a link, as dedup should see it."""
    u = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
             if not k.lower().startswith("utm_")]
    return "%s%s%s" % (u.netloc.lower(), u.path.rstrip("/"),
                       ("?" + urllib.parse.urlencode(query)) if query else "")


def entry_times(e):
    """The entry's published and updated times as epoch seconds (or None)."""
    out = []
    for key in ("published_parsed", "updated_parsed"):
        t = e.get(key)
        out.append(calendar.timegm(t) if t else None)
    return out


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def epoch(iso_text):
    return calendar.timegm(time.strptime(iso_text, "%Y-%m-%dT%H:%M:%SZ"))


# ---- the fixture feeds: what a merged feed of them must hold --------------

# (date, title, links any one of which may be published), newest first.
# worlddesk.rss (RSS 2.0), baltic.rdf (RSS 1.0), harbour.atom (Atom 1.0):
# 15 items, 13 articles. The Zelensky story is in worlddesk and harbour with
# the same guid/id but different links; the drone story is in baltic
# (https, clean) and harbour (http, ?utm_source=harbourledger).
FIXTURE_FEED_FILES = [("worlddesk", "worlddesk.rss"), ("baltic", "baltic.rdf"),
                      ("harbour", "harbour.atom")]
WD = "https://worlddesk.feedmux.invalid/"
BM = "https://baltic-monitor.feedmux.invalid/"
HL = "https://harbourledger.feedmux.invalid/"
FIXTURE_ENTRIES = [
    ("2025-06-02T01:43:21Z",
     "Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict",
     [WD + "2025/06/02/zelensky-chinese-nationals", HL + "world/zelensky-155-chinese-nationals"]),
    ("2025-06-01T21:58:45Z",
     "Nato on High Alert as German Defence Chief Predicts Potential Russian Attack",
     [WD + "2025/06/01/nato-high-alert-german-defence-chief"]),
    ("2025-06-01T21:24:09Z",
     "Australia and Philippines Challenge China Over Military Expansion",
     [HL + "pacific/australia-philippines-china"]),
    ("2025-06-01T21:22:16Z",
     "Poland\u2019s Presidential Vote Teetering on a Knife-Edge: Trzaskowski vs. Nawrocki",
     [WD + "2025/06/01/poland-presidential-vote"]),
    ("2025-06-01T13:02:02Z",
     "Ukraine Claims Historic Drone Attack Destroys 40 Russian Warplanes",
     [BM + "2025/06/01/drone-attack-40-warplanes",
      "http://baltic-monitor.feedmux.invalid/2025/06/01/drone-attack-40-warplanes?utm_source=harbourledger"]),
    ("2025-06-01T12:29:21Z",
     "Ukraine Reports Deadly Russian Strike on Military Base",
     [BM + "2025/06/01/strike-on-military-base"]),
    ("2025-06-01T06:34:33Z",
     "Tragic Bridge Collapses in Western Russia Amid Rising Tensions",
     [BM + "2025/06/01/bridge-collapses"]),
    ("2025-06-01T05:31:00Z",
     "At least 15 dead as Israeli shelling strikes Rafah aid distribution point",
     [WD + "2025/06/01/rafah-aid-point"]),
    ("2025-06-01T04:26:59Z",
     "EU Voices Strong Disapproval Over US Tariff Doubling on Steel",
     [BM + "2025/06/01/eu-steel-tariffs"]),
    ("2025-06-01T04:18:42Z",
     "South Korea's Upcoming Election Poised to Shift Diplomatic Landscape",
     [HL + "pacific/south-korea-election"]),
    ("2025-06-01T00:23:44Z",
     "Hegseth Urges Stronger Defense Against China's 'Imminent' Threat to Taiwan",
     [HL + "pacific/hegseth-taiwan"]),
    ("2025-05-31T15:46:26Z",
     "Hamas Responds to U.S. Proposal for Extended Cease-Fire in Gaza",
     [WD + "2025/05/31/hamas-ceasefire-response"]),
    ("2025-05-31T09:20:08Z",
     "North Korea Reaps Military Gains Amidst Russia-Ukraine Conflict",
     [BM + "2025/05/31/north-korea-military-gains"]),
]


def fixture_feeds(server):
    """[(name, url)] for the three fixture feeds on server."""
    return [(name, server.url(f)) for name, f in FIXTURE_FEED_FILES]


def check_entries(d, expected, what):
    """The merged feed d holds exactly expected (a prefix of FIXTURE_ENTRIES
    or all of it), once each, newest first, with the right links and dates."""
    got = [e.get("title", "") for e in d.entries]
    want = [t for _, t, _ in expected]
    missing = [t for t in want if t not in got]
    extra = [t for t in got if t not in want]
    dups = sorted({t for t in got if got.count(t) > 1})
    if missing or extra or dups or len(got) != len(want):
        fail("%s: wrong entries (%d, want %d)\n  missing: %s\n  unexpected: %s\n  duplicated: %s"
             % (what, len(got), len(want), missing, extra, dups))
    if got != want:
        fail("%s: entries not newest first; got order:\n  %s" % (what, "\n  ".join(got)))

    by_title = {t: (date, links) for date, t, links in expected}
    ids, canon = set(), set()
    for e in d.entries:
        date, links = by_title[e.title]
        link = e.get("link")
        if link not in links:
            fail("%s: entry %r links to %r, want one of %s" % (what, e.title, link, links))
        c = canonical_link(link)
        if c in canon:
            fail("%s: two entries share the link %s" % (what, c))
        canon.add(c)
        eid = e.get("id")
        if not eid or eid in ids:
            fail("%s: entry %r has a missing or repeated id %r" % (what, e.title, eid))
        ids.add(eid)
        published, updated = entry_times(e)
        if epoch(date) not in (published, updated):
            fail("%s: entry %r dated published=%s updated=%s, want %s"
                 % (what, e.title, published and iso(published), updated and iso(updated), date))
    # Newest first by the dates themselves, too.
    stamps = [entry_times(e)[0] or entry_times(e)[1] for e in d.entries]
    if any(a < b for a, b in zip(stamps, stamps[1:])):
        fail("%s: entry dates not in descending order: %s" % (what, [iso(s) for s in stamps]))
