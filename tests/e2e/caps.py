"""End to end: 1,000 feeds, the transfer caps, and an all-304 second cycle.

Three fixture servers, on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (all of
127/8 is loopback on Linux), serve one small feed under 1,000 distinct URLs
(?n=N): 600 on the first host, 200 on each of the others, so the per-host
cap binds on the first host once the others are done, and the global cap
binds while all three have work (3 x per_host > concurrency). A third of
the URLs answer after /delay/ so transfers overlap; the validators rotate
over /304/ (ETag and Last-Modified), /etag/ and /lastmod/.

`feedmux --once -v` runs with concurrency = 20 and per_host = 8:
- run 1: exit 0, "1000 feed(s) polled, 0 failed"; every URL asked exactly
  once and answered 200; the feed is published; connections are reused
  (at least 10 % of the requests arrive on a kept-alive connection).
- the caps: each request's [start, last write] interval, from the fixture
  logs (the fixture notes when the last write of a response began, which is
  before the client can have read it, so the sweep never over-counts), never
  overlaps more than `concurrency` others overall nor more than `per_host`
  on one host (by Host header); and the peaks show both caps were actually
  reached or nearly so (the test would prove nothing otherwise).
- run 2, same config and state: every URL asked exactly once, with exactly
  the validators its server sent (If-None-Match and/or If-Modified-Since)
  and answered 304; feedmux logs "feed NAME: not modified" once for each of
  the 1,000 feeds and no "new or updated item(s)" line at all (no parse),
  the summary says 0 failed and 0.0 MB; the caps hold again; the published
  feed is unchanged.
The whole test is bounded (under 60 s on a normal machine).
"""

import email.utils
import hashlib
import os
import re
import shutil
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

# 127.0.0.2 and .3 are not in lib's no_proxy: never let a proxy see them.
for _k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_k, None)

NFEEDS = 1000
CONCURRENCY = 20
PER_HOST = 8
HOSTS = [("127.0.0.1", 600), ("127.0.0.2", 200), ("127.0.0.3", 200)]
DELAY = "0.15"
KINDS = ("304", "etag", "lastmod")
FEED_FILE = "worlddesk.rss"
BUDGET = 60

FAILURES = []


def expect(what, cond, expected, seen):
    if not cond:
        msg = "%s: expected %s; saw %s" % (what, expected, seen)
        FAILURES.append(msg)
        sys.stderr.write("FAIL %s\n" % msg)
        sys.stderr.flush()
    return cond


class Feed:
    def __init__(self, n, server):
        self.n = n
        self.name = "f%04d" % n
        self.server = server
        self.kind = KINDS[n % 3]
        self.delayed = n % 3 == 1 or n % 7 == 0
        path = ("delay/%s/" % DELAY if self.delayed else "") + "%s/%s?n=%d" % (self.kind, FEED_FILE, n)
        self.url = server.url(path)
        self.path = "/" + path
        self.host = server.host


def peaks(reqs):
    """Most intervals [time, last_write] open at once: overall, per host."""
    events = []
    for q in reqs:
        if q.get("last_write") is None:
            continue
        host = (q["headers"].get("Host") or "?").rsplit(":", 1)[0].lower()
        events.append((q["time"], 1, host))
        events.append((max(q["last_write"], q["time"]), -1, host))
    events.sort(key=lambda e: (e[0], e[1]))  # at a tie, an end comes first
    cur, best, cur_h, best_h = 0, 0, {}, {}
    for _, delta, host in events:
        cur += delta
        cur_h[host] = cur_h.get(host, 0) + delta
        best = max(best, cur)
        best_h[host] = max(best_h.get(host, 0), cur_h[host])
    return best, best_h


def check_caps(tag, reqs):
    best, best_h = peaks(reqs)
    lib.note("%s: at most %d transfers at once; per host %s" % (tag, best, best_h))
    expect(tag, best <= CONCURRENCY, "never more than concurrency = %d transfers at once"
           % CONCURRENCY, best)
    for h, n in sorted(best_h.items()):
        expect(tag, n <= PER_HOST, "never more than per_host = %d transfers on %s" % (PER_HOST, h), n)
    # Meaningful only if the caps were pressed: the global peak must exceed
    # what one host may have, and the big host must fill (nearly) its cap.
    expect(tag, best > PER_HOST, "more than per_host transfers at once overall (else the global "
           "cap was never tested)", best)
    expect(tag, best_h.get(HOSTS[0][0], 0) >= PER_HOST - 2,
           "the busy host near its per_host cap (else that cap was never tested)", best_h)
    return best, best_h


def by_feed(feeds, reqs, tag):
    """{feed: [requests]} by ?n= and host; complain about strays."""
    index = {(f.host, f.n): f for f in feeds}
    out = {f: [] for f in feeds}
    stray = []
    for q in reqs:
        u = urllib.parse.urlsplit(q["path"])
        n = urllib.parse.parse_qs(u.query).get("n", [None])[0]
        host = (q["headers"].get("Host") or "").rsplit(":", 1)[0]
        f = index.get((host, int(n))) if n and n.isdigit() else None
        if f is None or q["path"] != f.path:
            stray.append(q["path"])
        else:
            out[f].append(q)
    expect(tag, not stray, "only the configured URLs asked", stray[:10])
    return out


TOTALS = re.compile(r"^feedmux: (\d+) feed\(s\) polled, (\d+) failed, ([\d.]+) MB in ([\d.]+) s$",
                    re.M)


def check_totals(tag, r, want_mb=None):
    expect(tag, r.returncode == 0, "exit status 0", "%d; stderr tail:\n%s"
           % (r.returncode, "\n".join(r.stderr.splitlines()[-15:])))
    m = TOTALS.findall(r.stderr)
    if expect(tag, len(m) == 1, "one summary line", m):
        polled, failed, mb, _ = m[0]
        expect(tag, int(polled) == NFEEDS and int(failed) == 0,
               "%d feed(s) polled, 0 failed" % NFEEDS, "%s polled, %s failed" % (polled, failed))
        if want_mb is not None:
            expect(tag, mb == want_mb, "%s MB fetched" % want_mb, mb)
    bad = [ln for ln in r.stderr.splitlines() if re.match(r"^feed \S+: ", ln)]
    expect(tag, not bad, "no per-feed error lines", bad[:10])


def entries(path):
    if not os.path.isfile(path):
        return None
    d = lib.feedparser.parse(path)
    return [(e.get("id"), e.get("title"), e.get("updated")) for e in d.entries]


def main():
    t0 = time.monotonic()
    lib.feedmux_binary()
    root = lib.make_tempdir("root")
    shutil.copyfile(os.path.join(lib.FIXTURE_FEEDS, FEED_FILE), os.path.join(root, FEED_FILE))
    with open(os.path.join(root, FEED_FILE), "rb") as f:
        raw = f.read()
    etag = '"%s"' % hashlib.sha1(raw).hexdigest()[:20]
    lastmod = email.utils.formatdate(int(os.stat(os.path.join(root, FEED_FILE)).st_mtime), usegmt=True)

    servers = [lib.FixtureServer(root=root, lifetime=BUDGET + 30, host=h) for h, _ in HOSTS]
    feeds = []
    for (h, count), srv in zip(HOSTS, servers):
        for _ in range(count):
            feeds.append(Feed(len(feeds) + 1, srv))
    assert len(feeds) == NFEEDS
    # Interleave the hosts in the config, as a real subscription list would.
    feeds.sort(key=lambda f: (f.n * 7919) % NFEEDS)

    d = lib.make_tempdir("once")
    conf = lib.write_config(d, [(f.name, f.url) for f in feeds], stories="no",
                            concurrency=str(CONCURRENCY), per_host=str(PER_HOST),
                            timeout="30s", connect_timeout="10s")
    out = os.path.join(d, "public", "feed.atom")

    seen = [0] * len(servers)

    def new_requests():
        """Requests logged since the last call, from every server."""
        out = []
        for i, srv in enumerate(servers):
            qs = srv.requests()
            out += qs[seen[i]:]
            seen[i] = len(qs)
        return out

    lib.note("run 1: feedmux --once -v -c %s (%d feeds on %s)"
             % (conf, NFEEDS, ", ".join("%s: %d" % hc for hc in HOSTS)))
    t = time.monotonic()
    r1 = lib.run_feedmux(["--once", "-v", "-c", conf], timeout=BUDGET)
    lib.note("run 1: exit %d in %.1f s" % (r1.returncode, time.monotonic() - t))
    with open(os.path.join(d, "run1.stderr"), "w") as f:
        f.write(r1.stderr)
    reqs1 = new_requests()
    check_totals("run 1", r1)
    got = by_feed(feeds, reqs1, "run 1")
    wrong = [(f.name, [(q["status"], q["end"]) for q in qs]) for f, qs in got.items()
             if [(q["status"], q["end"]) for q in qs] != [(200, "complete")]]
    expect("run 1", not wrong, "every feed asked once, answered 200 in full", wrong[:10])
    polling = re.findall(r"feedmux\[debug\]: feed (\S+): polling ", r1.stderr)
    expect("run 1", len(polling) == NFEEDS and len(set(polling)) == NFEEDS,
           "one 'polling' debug line per feed", "%d lines, %d feeds" % (len(polling), len(set(polling))))
    check_caps("run 1", reqs1)
    reused = sum(1 for q in reqs1 if q["conn_request"] > 1)
    lib.note("run 1: %d of %d requests on a reused connection" % (reused, len(reqs1)))
    expect("run 1", reused >= NFEEDS // 10, "connections reused (at least %d requests on a "
           "kept-alive connection)" % (NFEEDS // 10), reused)
    before = entries(out)
    want_titles = {"Zelensky Alleges 155 Chinese Nationals Fighting Alongside Russia in Ukraine Conflict",
                   "Hamas Responds to U.S. Proposal for Extended Cease-Fire in Gaza"}
    expect("run 1", before is not None and want_titles <= {e[1] for e in before},
           "the feed published", before and [e[1] for e in before])

    lib.note("run 2: the same config and state")
    t = time.monotonic()
    r2 = lib.run_feedmux(["--once", "-v", "-c", conf], timeout=BUDGET)
    lib.note("run 2: exit %d in %.1f s" % (r2.returncode, time.monotonic() - t))
    with open(os.path.join(d, "run2.stderr"), "w") as f:
        f.write(r2.stderr)
    reqs2 = new_requests()
    check_totals("run 2", r2, want_mb="0.0")
    got = by_feed(feeds, reqs2, "run 2")
    bad = []
    for f, qs in got.items():
        want = {}
        if f.kind in ("304", "etag"):
            want["If-None-Match"] = etag
        if f.kind in ("304", "lastmod"):
            want["If-Modified-Since"] = lastmod
        seen = [({k: v for k, v in q["headers"].items() if k in ("If-None-Match", "If-Modified-Since")},
                 q["status"], q["bytes"]) for q in qs]
        if seen != [(want, 304, 0)]:
            bad.append((f.name, f.kind, seen))
    expect("run 2", not bad, "every feed asked once, with its validators, answered 304",
           "%d wrong, e.g. %s" % (len(bad), bad[:5]))
    n304 = sum(1 for qs in got.values() for q in qs if q["status"] == 304)
    lib.note("run 2: %d of %d feeds answered 304" % (n304, NFEEDS))
    nm = re.findall(r"feedmux\[debug\]: feed (\S+): not modified$", r2.stderr, re.M)
    expect("run 2", len(nm) == NFEEDS and set(nm) == {f.name for f in feeds},
           "one 'feed NAME: not modified' line per feed", "%d lines, %d feeds" % (len(nm), len(set(nm))))
    parsed = re.findall(r"feed \S+: \d+ new or updated item", r2.stderr)
    expect("run 2", not parsed, "no items offered to the store (no parse)", parsed[:5])
    check_caps("run 2", reqs2)
    expect("run 2", entries(out) == before, "the published feed unchanged", "it changed")

    wall = time.monotonic() - t0
    lib.note("%.1f s in all" % wall)
    expect("test", wall < BUDGET, "the whole test within %d s" % BUDGET, "%.1f s" % wall)
    if FAILURES:
        lib.fail("%d check(s) failed:\n  %s\n(feedmux's stderr: run1.stderr, run2.stderr in %s)"
                 % (len(FAILURES), "\n  ".join(FAILURES), d))


lib.run_test(main)
