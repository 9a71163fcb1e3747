"""End to end: every fault mode of the fixture server in one feedmux run.

All feeds below are polled together by one `feedmux --once -v` run (then a
second run on the same state), so each mode is also checked against the
others: a healthy feed next to a gzip bomb, a hung socket and a redirect
loop must still be published. Every feed but the three fixture feeds
serves a feed generated for it (distinct titles, guids and links), so the
merged feed shows exactly which feeds were published. The config sets
max_body = 1M, timeout = 5s, connect_timeout = 2s, low_speed_limit = 100,
low_speed_time = 2s and stories = no.

Per mode (the first word is the feed's name):
  healthy-*       the three fixture feeds: published (all 13 articles).
  cond-both       /304/: ETag and Last-Modified; run 2 sends If-None-Match
                  and If-Modified-Since with exactly the values served, gets
                  304, logs "not modified" and does not parse.
  cond-etag       /etag/: run 2 sends If-None-Match only and gets 304.
  cond-lastmod    /lastmod/: run 2 sends If-Modified-Since only, gets 304.
  gzip, deflate   Accept-Encoding offered the coding, fewer bytes crossed
                  the wire than the file has, the items are published.
  br              the same, when the fixture's Python has brotli (else
                  noted as not checked).
  bomb            a gzip bomb (1 GiB inflated): stopped at max_body (the
                  error names max_body, not a timeout); feedmux's peak RSS
                  stays under 400 MiB.
  huge, huge-nolength
                  50 MiB chunked / close-delimited without Content-Length:
                  stopped at max_body, hung up early, its item not
                  published.
  slow            1 byte per second: cut by low_speed_* (the error says
                  too slow) after about 2 s, nothing published.
  rate-timeout    400 bytes per second, faster than low_speed_limit but too
                  long: cut by timeout after about 5 s.
  hang, hang-silent
                  headers then nothing / nothing at all: cut within
                  timeout (by low_speed_* or timeout), feedmux hung up.
  chain-301, chain-308
                  3 and 2 permanent redirects: published, and one log line
                  "feed NAME: moved permanently to URL; update feedmux.conf"
                  naming the final URL.
  chain-302, chain-mixed
                  302s, and a 301 followed by a 302: published, no "moved
                  permanently" line (not every hop was permanent).
  chain-5         exactly max_redirects (5) redirects: published.
  chain-6, loop   one more / a redirect cycle: error "more than 5
                  redirects", at most 6 requests, nothing published.
  redirect-file   302 to a file: URL of a real feed: refused ("only http
                  and https"), that feed's items not published.
  http-404, http-500, http-429, http-503
                  error "HTTP <code>".
  http-410        error says "Gone" and that polling stopped.
  truncated       Content-Length, half the body, close: a transfer error,
                  and none of its items published (the transfer failed, so
                  what was parsed is dropped).
  truncated-doc   half the document, delimited by the close (the transfer
                  is complete, the XML is not): exactly the items complete
                  before the cut are published, and it is logged: either a
                  parse error "(N item(s) kept)" with N those items, or (a
                  recovering parser) a log line about the feed beyond the
                  routine ones.
  big-headers     80 KB of response headers, over max_header (64k): error
                  names max_header, nothing published.
  headers-32k     32 KB of headers, within it: published.
  wrong-type, wrong-type-plain
                  a valid feed served as text/html / text/plain: published
                  (feeds are sniffed by content).
  refused         a port nobody listens on: a connect error.
Run level: exit status 1 (some feeds failed); one summary line
"feed NAME: why" per failing feed and none for the others; the counts in
the "N feed(s) polled, F failed" line; the run ends within timeout plus a
margin; every request's User-Agent names feedmux, its version and a URL;
every request's Accept-Encoding offers gzip. Run 2: the same feeds fail,
feeds without validators are fetched unconditionally, and the published
entries are unchanged.

A third phase runs feedmux as a daemon (interval 10s, min_interval 1s) on
a few of these modes and reads GET /status, the feeds' health: a healthy
feed is "ok" and due in about interval; 410 is "gone" with no next poll and
is never asked again; 429 (Retry-After: 120) and 503 (Retry-After as an
HTTP date 90 s ahead) are due when the server asked, 500 after the first
backoff step; Cache-Control: max-age=40 moves the next poll to about 40 s;
on the second cycle the 304 feed shows 304s=1 and the 301 feed is polled at
its new URL, conditionally (304: the validators of its first answer are
kept across the move), with the "moved permanently" line logged once.

Failures are collected: each prints the mode, what was expected and what
was seen, and the test goes on to check every mode before exiting 1.
"""

import email.utils
import hashlib
import os
import re
import resource
import shutil
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

TIMEOUT = 5          # timeout = 5s
LOW_SPEED_TIME = 2   # low_speed_time = 2s
MAX_REDIRECTS = 5    # the default
MAX_RSS_MIB = 400    # feedmux's peak RSS; the bomb inflates to 1 GiB
SETTINGS = {
    "stories": "no",
    "max_body": "1M",
    "timeout": "%ds" % TIMEOUT,
    "connect_timeout": "2s",
    "low_speed_limit": "100",
    "low_speed_time": "%ds" % LOW_SPEED_TIME,
}

FAILURES = []


def expect(mode, cond, expected, seen):
    """Record (and print at once) a failed check; never stops the test."""
    if not cond:
        msg = "%s: expected %s; saw %s" % (mode, expected, seen)
        FAILURES.append(msg)
        sys.stderr.write("FAIL %s\n" % msg)
        sys.stderr.flush()
    return cond


# ---- generated feeds -------------------------------------------------------

def item_title(mode, k):
    return "Fault fixture %s item %d" % (mode, k)


def gen_feed(path, mode, n, pad=0):
    """An RSS 2.0 feed of n items unique to mode (June 2025, newest first);
    pad adds that many bytes of description to each item."""
    items = []
    for k in range(1, n + 1):
        link = "https://faults.feedmux.invalid/%s/%d" % (mode, k)
        ts = 1749556800 - k * 3600  # 2025-06-10T12:00:00Z minus k hours
        items.append(
            "    <item>\n"
            "      <title>%s</title>\n"
            "      <link>%s</link>\n"
            "      <guid>%s</guid>\n"
            "      <pubDate>%s</pubDate>\n"
            "      <description>Item %d of the %s fault fixture.%s</description>\n"
            "    </item>\n"
            % (item_title(mode, k), link, link, email.utils.formatdate(ts, usegmt=True), k, mode,
               " padding" * (pad // 8)))
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0">\n  <channel>\n'
            '    <title>Fault fixture: %s</title>\n'
            '    <link>https://faults.feedmux.invalid/%s/</link>\n'
            '    <description>feedmux fetch fault fixture</description>\n'
            '%s  </channel>\n</rss>\n' % (mode, mode, "".join(items)))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return text.encode()


# ---- the modes -------------------------------------------------------------

class Mode:
    """One feed of the run. path: the fixture path (or a full URL). ok:
    whether the poll should succeed (None: either, checked by the mode's
    own code). error: a regex the summary line must match. items: how many
    items its generated file has (0: none)."""

    def __init__(self, name, path, ok, error=None, items=4, pad=0, moved=False):
        self.name, self.path, self.ok, self.error = name, path, ok, error
        self.items, self.pad, self.moved = items, pad, moved
        self.titles = [item_title(name, k) for k in range(1, items + 1)]
        self.raw = None
        self.url = None

    def __repr__(self):
        return self.name


def brotli_available():
    try:
        import brotli  # noqa: F401
        return True
    except ImportError:
        return False


def modes(refused_port):
    m = [
        Mode("cond-both", "304/cond-both.rss", True),
        Mode("cond-etag", "etag/cond-etag.rss", True),
        Mode("cond-lastmod", "lastmod/cond-lastmod.rss", True),
        Mode("gzip", "gzip/gzip.rss", True, pad=400),
        Mode("deflate", "deflate/deflate.rss", True, pad=400),
        Mode("bomb", "bomb", False, r"max_body", items=0),
        Mode("huge", "huge", False, r"max_body", items=0),
        Mode("huge-nolength", "nolength/huge", False, r"max_body", items=0),
        Mode("slow", "slow/slow.rss", False, r"(?i)too slow|low.?speed"),
        Mode("rate-timeout", "rate/400/rate-timeout.rss", False, r"(?i)timed out|timeout",
             items=12, pad=160),
        Mode("hang", "hang", False, r"(?i)too slow|timed out|timeout", items=0),
        Mode("hang-silent", "hang/silent", False, r"(?i)too slow|timed out|timeout", items=0),
        Mode("chain-301", "chain/3/chain-301.rss?code=301", True, moved=True),
        Mode("chain-308", "chain/2/chain-308.rss?code=308", True, moved=True),
        Mode("chain-302", "chain/3/chain-302.rss", True),
        Mode("chain-mixed", "redirect/301/chain/1/chain-mixed.rss", True),
        Mode("chain-5", "chain/5/chain-5.rss", True),
        Mode("chain-6", "chain/6/chain-6.rss", False, r"more than %d redirects" % MAX_REDIRECTS),
        Mode("loop", "loop/2", False, r"more than %d redirects" % MAX_REDIRECTS, items=0),
        Mode("redirect-file", "redirect-file/redirect-file.rss", False, r"only http and https"),
        Mode("http-404", "status/404/gone-missing", False, r"\bHTTP 404\b", items=0),
        Mode("http-410", "status/410/gone-for-good", False,
             r"\b410\b.*\bGone\b.*polling stopped", items=0),
        Mode("http-429", "status/429/busy", False, r"\bHTTP 429\b", items=0),
        Mode("http-503", "status/503/busy?retry-after=30", False, r"\bHTTP 503\b", items=0),
        Mode("http-500", "status/500/broken", False, r"\bHTTP 500\b", items=0),
        Mode("truncated", "truncate/truncated.rss", False,
             r"(?i)transfer closed|partial|remaining|truncat", items=6),
        # ok=None: a parse error, or a recovered parse; either way logged.
        Mode("truncated-doc", "nolength/truncate/truncated-doc.rss", None,
             r"\((\d+) item\(s\) kept\)", items=6),
        Mode("big-headers", "bigheaders/80/big-headers.rss", False, r"max_header"),
        Mode("headers-32k", "bigheaders/32/headers-32k.rss", True),
        Mode("wrong-type", "html/wrong-type.rss", True),
        Mode("wrong-type-plain", "type/text/plain/wrong-type-plain.rss", True),
        Mode("refused", "http://127.0.0.1:%d/refused.rss" % refused_port, False,
             r"(?i)connect|refused", items=0),
    ]
    if brotli_available():
        m.append(Mode("br", "br/br.rss", True, pad=400))
    return m


def file_of(mode):
    """The generated file a mode serves (its last path segment), or None."""
    if not mode.items:
        return None
    return urllib.parse.urlsplit(mode.path).path.rsplit("/", 1)[-1]


# ---- reading what feedmux did ----------------------------------------------

SUMMARY = re.compile(r"^feed (\S+): (.*)$")
TOTALS = re.compile(r"^feedmux: (\d+) feed\(s\) polled, (\d+) failed, ([\d.]+) MB in ([\d.]+) s$")


def summary_lines(stderr):
    """{feed: why} from --once's summary (lines without a log prefix)."""
    out = {}
    for ln in stderr.splitlines():
        m = SUMMARY.match(ln)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def published(path):
    """Entries of the merged feed: [(id, title, link, updated)]."""
    if not os.path.isfile(path):
        return None
    d = lib.feedparser.parse(path)
    return [(e.get("id"), e.get("title"), e.get("link"), e.get("updated")) for e in d.entries]


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def requests_for(reqs, mode):
    """The fixture requests that belong to mode: its own path, and for
    redirects every hop (they all end in the mode's file or loop)."""
    p = path_of(mode.url)
    if mode.name == "loop":
        return [q for q in reqs if q["path"].startswith("/loop/")]
    f = file_of(mode)
    if f is None:
        return [q for q in reqs if q["path"] == p]
    return [q for q in reqs if urllib.parse.urlsplit(q["path"]).path.rsplit("/", 1)[-1] == f]


# ---- run 1 -----------------------------------------------------------------

def check_run1(ms, r, wall, reqs, entries, version, maxrss):
    summ = summary_lines(r.stderr)
    fails = [m for m in ms if m.ok is False or (m.ok is None and m.name in summ)]
    titles = {t for _, t, _, _ in entries or []}

    expect("run", r.returncode == 1, "exit status 1 (some feeds failed)", r.returncode)
    tot = [TOTALS.match(ln) for ln in r.stderr.splitlines()]
    tot = [t for t in tot if t]
    if expect("run", len(tot) == 1, "one 'feedmux: N feed(s) polled, F failed' line",
              "%d such lines" % len(tot)):
        polled, failed = int(tot[0].group(1)), int(tot[0].group(2))
        expect("run", polled == len(ms) + 3, "%d feed(s) polled" % (len(ms) + 3), polled)
        expect("run", failed == len(fails), "%d failed" % len(fails), failed)
    expect("run", wall < TIMEOUT + 10, "the run to end within timeout + 10 s", "%.1f s" % wall)
    # The bomb inflates to 1 GiB: a client that held it would show it.
    expect("run", maxrss < MAX_RSS_MIB << 10, "feedmux's peak RSS under %d MiB (bomb not held)"
           % MAX_RSS_MIB, "%d MiB" % (maxrss >> 10))
    expect("run", entries is not None, "output_dir/feed.atom", "no file")

    # The healthy feeds were unaffected by their neighbours.
    for _, t, _ in lib.FIXTURE_ENTRIES:
        expect("healthy", t in titles, "fixture article %r published" % t, "missing")
    for name, f in lib.FIXTURE_FEED_FILES:
        n = "healthy-" + name
        expect(n, n not in summ, "no summary line", summ.get(n))
        got = [q for q in reqs if q["path"] == "/" + f]
        expect(n, len(got) == 1 and got[0]["status"] == 200 and got[0]["end"] == "complete",
               "one complete 200 for /%s" % f, [(q["status"], q["end"]) for q in got])

    for m in ms:
        mine = requests_for(reqs, m)
        why = summ.get(m.name)
        if m.ok:
            expect(m.name, why is None, "no summary line (the feed is fine)", why)
            missing = [t for t in m.titles if t not in titles]
            expect(m.name, not missing, "all %d items published" % len(m.titles),
                   "missing %s" % missing)
        elif m.ok is False:
            if expect(m.name, why is not None and len(why) == 1, "one summary line 'feed %s: ...'"
                      % m.name, why):
                expect(m.name, re.search(m.error, why[0]) is not None,
                       "the error to match /%s/" % m.error, repr(why[0]))
            leaked = [t for t in m.titles if t in titles]
            expect(m.name, not leaked, "none of its items published", "published %s" % leaked)
        if m.name != "refused":
            expect(m.name, len(mine) >= 1, "a request in the fixture log", "none")
        check_mode_run1(m, mine, r.stderr, summ, titles)

    # Every request names feedmux and offers gzip.
    ua_re = re.compile(r"feedmux/?\s*%s\b.*\bhttps?://\S+" % re.escape(version), re.I)
    bad_ua = sorted({q["headers"].get("User-Agent") for q in reqs
                     if not ua_re.search(q["headers"].get("User-Agent", ""))}, key=str)
    expect("User-Agent", not bad_ua, "every User-Agent to name feedmux, version %s and a URL"
           % version, bad_ua)
    bad_ae = sorted({q["headers"].get("Accept-Encoding") for q in reqs
                     if "gzip" not in (q["headers"].get("Accept-Encoding") or "").lower()}, key=str)
    expect("Accept-Encoding", not bad_ae, "every request to offer gzip", bad_ae)
    uas = sorted({q["headers"].get("User-Agent") for q in reqs}, key=str)
    aes = sorted({q["headers"].get("Accept-Encoding") for q in reqs}, key=str)
    lib.note("User-Agent %s; Accept-Encoding %s" % (uas, aes))


def moved_lines(stderr, name):
    return [ln for ln in stderr.splitlines()
            if re.search(r"\bfeed %s:? moved permanently to " % re.escape(name), ln)]


def check_mode_run1(m, mine, stderr, summ, titles):
    n = m.name
    last = mine[-1] if mine else {}
    if n.startswith("cond-"):
        expect(n, all("If-None-Match" not in q["headers"] and "If-Modified-Since" not in q["headers"]
                      for q in mine), "no validators on the first poll", [q["headers"] for q in mine])
        expect(n, [q["status"] for q in mine] == [200], "one 200", [q["status"] for q in mine])
    elif n in ("gzip", "deflate", "br"):
        if expect(n, len(mine) == 1, "one request", len(mine)):
            ae = (last["headers"].get("Accept-Encoding") or "").lower()
            expect(n, n in ae, "Accept-Encoding to offer %s" % n, repr(ae))
            expect(n, last["status"] == 200 and 0 < last["bytes"] < len(m.raw),
                   "200 with fewer bytes on the wire than the %d-byte file" % len(m.raw),
                   "status %s, %s bytes" % (last["status"], last["bytes"]))
    elif n in ("bomb", "huge", "huge-nolength"):
        if expect(n, len(mine) == 1, "one request", len(mine)):
            # The bomb's ~1 MiB on the wire may fit in the sockets' buffers
            # before feedmux reads a byte; 50 MiB cannot.
            if n.startswith("huge"):
                expect(n, last["aborted"] and last["bytes"] < 25 << 20,
                       "feedmux to hang up (request log: aborted) long before 50 MiB",
                       "end=%s after %s bytes" % (last["end"], last["bytes"]))
                expect(n, last["duration"] < TIMEOUT, "stopped before timeout (%d s)" % TIMEOUT,
                       "%.1f s" % last["duration"])
        if n.startswith("huge"):
            expect(n, "Huge feed item" not in titles, "its item not published (the body was refused)",
                   "published")
    elif n == "slow":
        if expect(n, len(mine) == 1, "one request", len(mine)):
            d = last["duration"]
            # The error text says which limit cut it; the time just agrees.
            expect(n, LOW_SPEED_TIME - 0.5 <= d < TIMEOUT + 1 and last["aborted"],
                   "cut by low_speed_time (%d s), before timeout (%d s)" % (LOW_SPEED_TIME, TIMEOUT),
                   "%.1f s, %d bytes, end=%s" % (d, last["bytes"], last["end"]))
    elif n == "rate-timeout":
        if expect(n, len(mine) == 1, "one request", len(mine)):
            d = last["duration"]
            expect(n, TIMEOUT - 0.5 <= d < TIMEOUT + 3 and last["aborted"],
                   "cut by timeout (%d s) mid-body" % TIMEOUT,
                   "%.1f s, %d of %d bytes, end=%s" % (d, last["bytes"], len(m.raw), last["end"]))
    elif n.startswith("hang"):
        if expect(n, len(mine) == 1, "one request", len(mine)):
            expect(n, last["aborted"] and last["duration"] < TIMEOUT + 2,
                   "feedmux to hang up within timeout (%d s)" % TIMEOUT,
                   "end=%s after %.1f s" % (last["end"], last["duration"]))
    elif n.startswith("chain") or n == "loop":
        ml = moved_lines(stderr, n)
        if m.moved:
            final = m.url.split("/chain/", 1)[0] + "/" + path_of(m.url).split("/", 4)[-1]
            expect(n, len(ml) == 1, "one 'moved permanently' log line", ml)
            if ml:
                expect(n, ("moved permanently to %s; update feedmux.conf" % final) in ml[0],
                       "the line to name the new URL %s and say to update feedmux.conf" % final,
                       ml[0])
        else:
            expect(n, not ml, "no 'moved permanently' line (not every hop was permanent)", ml)
        hops = {"chain-301": 4, "chain-308": 3, "chain-302": 4, "chain-mixed": 3, "chain-5": 6,
                "chain-6": MAX_REDIRECTS + 1, "loop": MAX_REDIRECTS + 1}[n]
        if n in ("chain-6", "loop"):
            expect(n, len(mine) <= hops, "at most %d requests (max_redirects)" % hops, len(mine))
        else:
            expect(n, len(mine) == hops and mine[-1]["status"] == 200,
                   "%d requests, the last a 200" % hops, [(q["path"], q["status"]) for q in mine])
    elif n == "redirect-file":
        expect(n, [q["status"] for q in mine] == [302], "one 302 and no further request",
               [(q["path"], q["status"]) for q in mine])
    elif n.startswith("http-"):
        code = int(n.split("-")[1])
        expect(n, [q["status"] for q in mine] == [code], "one request answered %d" % code,
               [q["status"] for q in mine])
    elif n == "truncated":
        expect(n, len(mine) == 1 and 0 < last["bytes"] < len(m.raw),
               "one request, part of the body sent", [(q["status"], q["bytes"]) for q in mine])
    elif n == "truncated-doc":
        # The transfer is complete, the document is cut mid-item. Either a
        # parse error that keeps the items before the cut, or a recovering
        # parse that keeps the same items; either way it must be logged
        # (a cut document is not a healthy feed) and nothing after the
        # cut, nor the half item, may be published.
        half = m.raw[:len(m.raw) // 2].decode()
        complete = half.count("</item>")
        kept = [t for t in m.titles if t in titles]
        why = summ.get(n)
        expect(n, complete >= 1, "the half document to hold a complete item (fixture sanity)",
               complete)
        expect(n, kept == m.titles[:complete],
               "exactly the %d item(s) complete before the cut published" % complete, kept)
        routine = re.compile(r": (polling |\d+ new or updated item|not modified)")
        said = [ln for ln in stderr.splitlines()
                if re.search(r"\bfeed %s:" % n, ln) and not routine.search(ln)]
        if why:
            expect(n, len(why) == 1 and re.search(r"(?i)not well-formed|truncat|premature|end of",
                                                 why[0]), "one summary line naming the parse error", why)
            mm = re.search(m.error, why[0])
            expect(n, mm and int(mm.group(1)) == complete,
                   "'(%d item(s) kept)': the items complete before the cut" % complete, why)
        else:
            expect(n, said, "a log line saying the document was cut or repaired (it was "
                   "accepted without any)", "only %s" % [ln for ln in stderr.splitlines()
                                                        if "feed %s:" % n in ln])
    elif n in ("big-headers", "headers-32k"):
        expect(n, [q["status"] for q in mine] == [200], "one request answered 200 (headers sent)",
               [q["status"] for q in mine])
    elif n.startswith("wrong-type"):
        expect(n, [q["status"] for q in mine] == [200], "one 200", [q["status"] for q in mine])


# ---- run 2: validators, 304 ------------------------------------------------

def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def check_run2(ms, r, reqs, before, after, root, failed1):
    summ = summary_lines(r.stderr)
    expect("run 2", r.returncode == 1, "exit status 1 (the same feeds fail)", r.returncode)
    want_fail = sorted(failed1)
    expect("run 2", sorted(summ) == want_fail, "the same feeds to fail", sorted(summ))
    expect("run 2", after is not None and after == before,
           "the published entries unchanged",
           "%d entries before, %s after"
           % (len(before or []), len(after) if after is not None else "no file"))
    for m in ms:
        if not m.name.startswith("cond-"):
            continue
        mine = requests_for(reqs, m)
        path = os.path.join(root, file_of(m))
        etag = '"%s"' % hashlib.sha1(m.raw).hexdigest()[:20]
        lastmod = http_date(int(os.stat(path).st_mtime))
        want = {}
        if m.name in ("cond-both", "cond-etag"):
            want["If-None-Match"] = etag
        if m.name in ("cond-both", "cond-lastmod"):
            want["If-Modified-Since"] = lastmod
        if expect(m.name, len(mine) == 1, "one request in run 2", len(mine)):
            sent = {k: v for k, v in mine[0]["headers"].items()
                    if k in ("If-None-Match", "If-Modified-Since")}
            expect(m.name, sent == want, "run 2 to send exactly %s" % want, sent)
            expect(m.name, mine[0]["status"] == 304 and mine[0]["bytes"] == 0,
                   "304 Not Modified, no body", "%s, %d bytes" % (mine[0]["status"], mine[0]["bytes"]))
        nm = [ln for ln in r.stderr.splitlines() if re.search(r"\bfeed %s: not modified$" % m.name, ln)]
        expect(m.name, len(nm) == 1, "one debug line 'feed %s: not modified'" % m.name, nm)
        parsed = [ln for ln in r.stderr.splitlines()
                  if re.search(r"\bfeed %s: \d+ new or updated" % m.name, ln)]
        expect(m.name, not parsed, "no items offered (no parse)", parsed)
    # Feeds that served no validators are fetched unconditionally.
    for m in ms:
        if m.name in ("gzip", "chain-302", "wrong-type"):
            for q in requests_for(reqs, m):
                expect(m.name, "If-None-Match" not in q["headers"]
                       and "If-Modified-Since" not in q["headers"],
                       "no validators (the server sent none)", q["headers"])


# ---- phase 3: health in the daemon ------------------------------------------

def status_rows(base):
    """GET /status -> {name: {state, status, next, failures, 304s, error}}."""
    try:
        r = lib.fetch(base + "/status")
    except OSError:
        return None
    if r.status != 200:
        return None
    rows = {}
    for ln in r.body.decode("utf-8", "replace").splitlines()[1:]:
        f = ln.split("\t")
        if len(f) < 9:
            continue
        row = {"state": f[1], "error": "\t".join(f[9:])}
        for kv in f[2:9]:
            k, _, v = kv.partition("=")
            row[k] = v
        rows[f[0]] = row
    return rows


def rfc3339(s):
    return lib.epoch(s) if s and s != "-" else None


def daemon_phase(server, root):
    gen_feed(os.path.join(root, "d-ok.rss"), "d-ok", 3)
    gen_feed(os.path.join(root, "d-cond.rss"), "d-cond", 3)
    gen_feed(os.path.join(root, "d-moved.rss"), "d-moved", 3)
    gen_feed(os.path.join(root, "d-maxage.rss"), "d-maxage", 3)
    retry_at = int(time.time()) + 90
    feeds = [
        ("d-ok", server.url("d-ok.rss")),
        ("d-cond", server.url("304/d-cond.rss")),
        ("d-moved", server.url("chain/2/304/d-moved.rss?code=301")),
        ("d-maxage", server.url("maxage/40/d-maxage.rss")),
        ("d-gone", server.url("status/410/d-gone")),
        ("d-429", server.url("status/429/d-429")),
        ("d-503", server.url("status/503/d-503?" + urllib.parse.urlencode(
            {"retry-after": http_date(retry_at)}))),
        ("d-500", server.url("status/500/d-500")),
    ]
    d = lib.make_tempdir("daemon")
    port = lib.free_port()
    conf = lib.write_config(d, feeds, _port=port, interval="10s", min_interval="1s",
                            max_interval="1h", **SETTINGS)
    base = "http://127.0.0.1:%d" % port
    n0 = len(server.requests())
    lib.note("daemon: feedmux -c %s, GET %s/status" % (conf, base))
    daemon = lib.Daemon(["-c", conf], d)

    # First cycle: every feed has a state other than pending (bounded).
    deadline = time.monotonic() + 20
    rows = None
    while time.monotonic() < deadline:
        if not daemon.alive():
            break
        rows = status_rows(base)
        if rows and len(rows) == len(feeds) and all(v["state"] != "pending" for v in rows.values()):
            break
        time.sleep(0.25)
    if not expect("daemon", daemon.alive() and rows and len(rows) == len(feeds)
                  and all(v["state"] != "pending" for v in rows.values()),
                  "every feed polled once within 20 s", "rows %s\n%s" % (rows, daemon.output())):
        daemon.stop()
        return
    reqs = server.requests()[n0:]

    def finished(path_part):
        got = [q for q in reqs if path_part in q["path"]]
        return got[0]["time"] + got[0]["duration"] if got else None

    def due(name, base_delay, what, done_at=None):
        row = rows[name]
        nxt = rfc3339(row.get("next"))
        done_at = done_at or finished(name)
        if nxt is None or done_at is None:
            expect(name, False, "a next poll %s" % what, row)
            return
        delta = nxt - done_at
        lo, hi = 0.9 * base_delay - 2, 1.1 * base_delay + 2
        expect(name, lo <= delta <= hi, "next poll in %.0f..%.0f s (%s)" % (lo, hi, what),
               "%.1f s (%s)" % (delta, row))

    for name in ("d-ok", "d-cond", "d-moved", "d-maxage"):
        expect(name, rows[name]["state"] == "ok" and rows[name]["status"] == "200"
               and rows[name]["failures"] == "0", "state ok, status 200, 0 failures", rows[name])
    due("d-ok", 10, "interval 10s")
    due("d-maxage", 40, "Cache-Control: max-age=40")
    g = rows["d-gone"]
    expect("d-gone", g["state"] == "gone" and g["status"] == "410" and g["next"] == "-"
           and "Gone" in g["error"], "state gone, status 410, no next poll, error says Gone", g)
    for name, code in (("d-429", "429"), ("d-503", "503"), ("d-500", "500")):
        expect(name, rows[name]["state"] == "failing" and rows[name]["status"] == code
               and rows[name]["failures"] == "1", "state failing, status %s, 1 failure" % code,
               rows[name])
    due("d-429", 120, "Retry-After: 120")
    done = finished("d-503")
    if done is not None:
        due("d-503", retry_at - done, "Retry-After: an HTTP date 90 s ahead", done)
    due("d-500", 10, "first backoff step, min(interval, 1m)")

    # Second cycle (about 10 s later): 304, the new URL, the gone feed left alone.
    def second_cycle(qs):
        return (len([q for q in qs if q["path"] == "/304/d-cond.rss"]) >= 2
                and len([q for q in qs if q["path"] == "/304/d-moved.rss?code=301"]) >= 2
                and len([q for q in qs if q["path"] == "/d-ok.rss"]) >= 2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and daemon.alive():
        reqs = server.requests()[n0:]
        if second_cycle(reqs):
            break
        time.sleep(0.5)
    if expect("daemon", second_cycle(reqs), "a second poll of d-ok, d-cond and d-moved within 20 s",
              sorted(q["path"] for q in reqs)):
        cond = [q for q in reqs if q["path"] == "/304/d-cond.rss"]
        expect("d-cond", cond[1]["status"] == 304 and "If-None-Match" in cond[1]["headers"],
               "the second poll conditional, answered 304", cond[1])
        rows = status_rows(base) or {}
        expect("d-cond", rows.get("d-cond", {}).get("304s") == "1"
               and rows.get("d-cond", {}).get("state") == "ok",
               "/status: state ok, 304s=1", rows.get("d-cond"))
        chain = [q["path"] for q in reqs if q["path"].startswith("/chain/2/")]
        expect("d-moved", len(chain) == 1, "the old URL asked once, later polls at the new URL",
               sorted(q["path"] for q in reqs if "d-moved" in q["path"]))
        moved = [q for q in reqs if q["path"] == "/304/d-moved.rss?code=301"]
        expect("d-moved", moved[1]["status"] == 304 and "If-None-Match" in moved[1]["headers"],
               "the first poll at the new URL conditional (the validators came from it), "
               "answered 304", moved[1])
    for name in ("d-gone", "d-429", "d-503"):
        n = len([q for q in reqs if name in q["path"]])
        expect(name, n == 1, "exactly one request (not due again yet / gone)", n)
    err = lib.read_text(daemon.err_path)
    ml = moved_lines(err, "d-moved")
    new_url = server.url("304/d-moved.rss?code=301")
    expect("d-moved", len(ml) == 1 and ("moved permanently to %s;" % new_url) in ml[0],
           "one 'moved permanently to %s' line" % new_url, ml)
    gl = [ln for ln in err.splitlines() if "feed d-gone:" in ln]
    expect("d-gone", len(gl) == 1 and "polling stopped" in gl[0],
           "one log line saying polling stopped", gl)
    rc = daemon.stop()
    expect("daemon", rc == 0, "exit status 0 on SIGTERM", "%s\n%s" % (rc, daemon.output()))


# ---- main ------------------------------------------------------------------

def main():
    t0 = time.monotonic()
    binary = lib.feedmux_binary()
    v = lib.run_feedmux(["-V"], timeout=10)
    mv = re.search(r"feedmux\s+(\S+)", v.stdout + v.stderr)
    lib.check(mv, "feedmux -V printed no version: %r" % (v.stdout + v.stderr))
    version = mv.group(1)

    root = lib.make_tempdir("root")
    for _, f in lib.FIXTURE_FEED_FILES:
        shutil.copyfile(os.path.join(lib.FIXTURE_FEEDS, f), os.path.join(root, f))
    refused_port = lib.free_port()
    ms = modes(refused_port)
    for m in ms:
        f = file_of(m)
        if f:
            m.raw = gen_feed(os.path.join(root, f), m.name, m.items, m.pad)
    server = lib.FixtureServer(root=root, lifetime=150)
    for m in ms:
        m.url = m.path if m.path.startswith("http") else server.url(m.path)
    if not brotli_available():
        lib.note("br: not checked (the fixture's Python %s has no brotli module)" % sys.executable)

    feeds = [("healthy-" + name, server.url(f)) for name, f in lib.FIXTURE_FEED_FILES]
    feeds += [(m.name, m.url) for m in ms]
    d = lib.make_tempdir("once")
    conf = lib.write_config(d, feeds, **SETTINGS)
    out = os.path.join(d, "public", "feed.atom")

    lib.note("run 1: %s --once -v -c %s (%d feeds)" % (binary, conf, len(feeds)))
    t = time.monotonic()
    r1 = lib.run_feedmux(["--once", "-v", "-c", conf], timeout=60)
    wall = time.monotonic() - t
    with open(os.path.join(d, "run1.stderr"), "w") as f:
        f.write(r1.stderr)
    reqs1 = server.requests()
    entries1 = published(out)
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB
    check_run1(ms, r1, wall, reqs1, entries1, version, maxrss)
    summ = summary_lines(r1.stderr)
    for m in ms:
        lib.note("run 1: %-16s %s" % (m.name, "; ".join(summ.get(m.name, ["ok, published"]))))
    lib.note("run 1: exit %d in %.1f s, %d entries published, peak RSS %d MiB"
             % (r1.returncode, wall, len(entries1 or []), maxrss >> 10))

    lib.note("run 2: the same config and state")
    r2 = lib.run_feedmux(["--once", "-v", "-c", conf], timeout=60)
    with open(os.path.join(d, "run2.stderr"), "w") as f:
        f.write(r2.stderr)
    reqs2 = server.requests()[len(reqs1):]
    check_run2(ms, r2, reqs2, entries1, published(out), root, summ)
    lib.note("run 2: exit %d" % r2.returncode)

    daemon_phase(server, root)

    lib.note("%d mode(s), %.1f s" % (len(ms) + 3, time.monotonic() - t0))
    if FAILURES:
        quiet = [ln for ln in r1.stderr.splitlines() if "feedmux[debug]" not in ln]
        lib.fail("%d check(s) failed:\n  %s\nrun 1 stderr without debug lines (all of it: "
                 "run1.stderr, run2.stderr in %s):\n%s"
                 % (len(FAILURES), "\n  ".join(FAILURES), d, "\n".join(quiet)))


lib.run_test(main)
