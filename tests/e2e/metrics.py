"""GET /metrics after a poll cycle (issue 7): a well-formed Prometheus text
exposition whose numbers add up.

feedmux polls the three fixture feeds and one feed that answers 404. Once
every feed has been polled once (and before any second poll):

- GET /metrics answers 200 with `Content-Type: text/plain; version=0.0.4`;
- the body passes `promtool check metrics` (read from stdin; Debian's
  prometheus package) when promtool is installed, and always the checker
  below, which follows the text format 0.0.4: lines end with a newline;
  `# HELP` and `# TYPE` at most once per family, TYPE before the family's
  samples and with a known type, HELP text with only \\\\ and \\n escapes;
  metric and label names of the allowed characters (no `__` label
  prefix), label values quoted with only \\\\, \\" and \\n escapes, no
  label twice in a sample; values that are floats (NaN, +Inf, -Inf
  allowed); an optional integer timestamp; a family's samples together;
  no series twice; and promtool's lint rules: every family has HELP and
  TYPE, counters end in _total and are not negative, other types do not
  end in _total. The checker first proves itself on good and bad samples;
- the numbers: feedmux_fetches_total{result="ok"} = 3 (the fixture feeds),
  not_modified = parse_error = network_error = 0, http_error = the
  failing feed's consecutive failures >= 1; feedmux_items_total: new = 13
  (the distinct fixture articles, as many as /feed.atom holds) and the
  outcomes add up to the 15 items the three feeds carry; feedmux_feeds = 4;
  feedmux_feeds_failing = 1 with the failure on feed="broken" only; bytes
  fetched at least the fixture files' sizes; renders >= 1 without
  failures; the 304 ratio 0;
- feedmux_http_requests_total counts every answer: between two GET
  /metrics, a GET /feed.atom, a HEAD, a 304, a 404 and a 405 move code
  "200" by 3 (the first /metrics itself, the GET and the HEAD) and "304",
  "404", "405" by 1 each, and nothing else.
"""

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 30.0

# ---- a text exposition format 0.0.4 checker ---------------------------------

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def parse_float(s):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError(s)
    return float(s)


def help_escapes_ok(text):
    """HELP text escapes only backslash and newline."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1:i + 2] not in ("\\", "n"):
                return False
            i += 2
        else:
            i += 1
    return True


def parse_labels(text, pos, where):
    """Labels from text[pos] == '{'; returns (list of (name, value), the
    index after '}')."""
    labels = []
    i = pos + 1
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(text, i)
        if not m:
            raise ValueError("%s: bad label name at %r" % (where, text[i:i + 20]))
        name = m.group(0)
        if name.startswith("__"):
            raise ValueError("%s: label name %r is reserved (starts with __)" % (where, name))
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if text[i:i + 2] != '="':
            raise ValueError("%s: label %s is not followed by =\"" % (where, name))
        i += 2
        value = []
        while True:
            if i >= len(text):
                raise ValueError("%s: label value of %s is not closed" % (where, name))
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError("%s: label value of %s has the escape \\%s" % (where, name, nxt))
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("%s: label value of %s holds a raw newline" % (where, name))
            else:
                value.append(c)
                i += 1
        if name in [n for n, _ in labels]:
            raise ValueError("%s: label %s given twice" % (where, name))
        labels.append((name, "".join(value)))
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
        elif i < len(text) and text[i] == "}":
            continue
        else:
            raise ValueError("%s: expected , or } after label %s" % (where, name))


def check_exposition(text):
    """Problems with a text exposition (a list of strings; empty when fine),
    and the samples {(name, frozenset(labels)): value}."""
    problems = []
    samples = {}
    help_of, type_of = {}, {}
    done = set()      # families whose samples are over
    current = None    # the family of the previous sample
    seen_sample = set()
    if text and not text.endswith("\n"):
        problems.append("the last line does not end with a newline")

    def family(name):
        for fam, t in type_of.items():
            for suf in SUFFIXES.get(t, ()):
                if name == fam + suf:
                    return fam
        return name

    for no, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        where = "line %d" % no
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not METRIC_NAME.fullmatch(parts[2]):
                    problems.append("%s: %s without a valid metric name: %r" % (where, parts[1], line))
                    continue
                name = parts[2]
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    if name in help_of:
                        problems.append("%s: a second HELP for %s" % (where, name))
                    if not help_escapes_ok(rest):
                        problems.append("%s: HELP of %s has an escape other than \\\\ and \\n" % (where, name))
                    help_of[name] = rest
                else:
                    if name in type_of:
                        problems.append("%s: a second TYPE for %s" % (where, name))
                    if rest.strip() not in TYPES:
                        problems.append("%s: TYPE %r of %s is not one of %s" % (where, rest, name, TYPES))
                    if name in seen_sample:
                        problems.append("%s: TYPE of %s comes after its samples" % (where, name))
                    type_of[name] = rest.strip()
            continue
        m = METRIC_NAME.match(line)
        if not m:
            problems.append("%s: no metric name: %r" % (where, line))
            continue
        name = m.group(0)
        i = m.end()
        labels = []
        try:
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i, where)
        except ValueError as e:
            problems.append(str(e))
            continue
        fields = line[i:].split()
        if not line[i:i + 1] in (" ", "\t") or len(fields) not in (1, 2):
            problems.append("%s: expected ' VALUE [TIMESTAMP]' after the name and labels: %r" % (where, line))
            continue
        try:
            value = parse_float(fields[0])
        except ValueError:
            problems.append("%s: value %r is not a float" % (where, fields[0]))
            continue
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            problems.append("%s: timestamp %r is not an integer" % (where, fields[1]))
        fam = family(name)
        seen_sample.add(fam)
        if fam != current:
            if fam in done:
                problems.append("%s: the samples of %s are not together" % (where, fam))
            if current is not None:
                done.add(current)
            current = fam
        key = (name, frozenset(labels))
        if key in samples:
            problems.append("%s: the series %s%s appears twice" % (where, name, dict(labels)))
        samples[key] = value
        if type_of.get(fam) == "counter" and (math.isnan(value) or value < 0):
            problems.append("%s: counter %s is %s" % (where, name, fields[0]))
    # promtool's lint rules.
    for fam in sorted(seen_sample):
        if fam not in help_of or not help_of[fam].strip():
            problems.append("%s has no HELP text" % fam)
        if fam not in type_of:
            problems.append("%s has no TYPE" % fam)
        elif type_of[fam] == "counter" and not fam.endswith("_total"):
            problems.append('counter %s should have the "_total" suffix' % fam)
        elif type_of[fam] != "counter" and fam.endswith("_total"):
            problems.append('non-counter %s should not have the "_total" suffix' % fam)
    return problems, samples


SELF_TEST_GOOD = """# HELP a_total A counter with \\\\ and \\n in its help.
# TYPE a_total counter
a_total{x="1",y="q\\"uote\\\\back\\nnl"} 1
a_total{x="2"} 2.5e3 1700000000000
# HELP b A gauge.
# TYPE b gauge
b NaN
b{z="-"} -Inf
# HELP h A histogram.
# TYPE h histogram
h_bucket{le="+Inf"} 3
h_sum 1.5
h_count 3
"""
SELF_TEST_BAD = [
    ("# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n", "twice"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total{x=\"1} 1\n", "not closed"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total{x=\"\\t\"} 1\n", "escape"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total one\n", "not a float"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total{1x=\"a\"} 1\n", "label name"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total{__x=\"a\"} 1\n", "reserved"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total{x=\"a\",x=\"b\"} 1\n", "given twice"),
    ("# HELP a_total x\n# TYPE a_total counter\n# HELP a_total y\na_total 1\n", "second HELP"),
    ("# HELP a_total x\na_total 1\n# TYPE a_total counter\n", "after its samples"),
    ("# HELP a_total x\n# TYPE a_total countr\na_total 1\n", "is not one of"),
    ("# HELP a x\n# TYPE a counter\na 1\n", "_total"),
    ("# HELP a_total x\n# TYPE a_total gauge\na_total 1\n", "should not have"),
    ("# TYPE a_total counter\na_total 1\n", "no HELP"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total -1\n", "is -1"),
    ("# HELP a_total x\n# TYPE a_total counter\n# HELP b x\n# TYPE b gauge\na_total 1\nb 1\na_total{x=\"1\"} 1\n",
     "not together"),
    ("# HELP 1a x\n", "valid metric name"),
    ("# HELP a_total x\\y\n# TYPE a_total counter\na_total 1\n", "has an escape"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total 1", "newline"),
    ("# HELP a_total x\n# TYPE a_total counter\na_total 1 1.5\n", "timestamp"),
]


def self_test():
    problems, samples = check_exposition(SELF_TEST_GOOD)
    lib.check(not problems, "the exposition checker rejects a good sample: %s" % problems)
    lib.check(samples[("a_total", frozenset({("x", "1"), ("y", 'q"uote\\back\nnl')}))] == 1,
              "the exposition checker misreads escaped label values: %s" % samples)
    for text, why in SELF_TEST_BAD:
        problems, _ = check_exposition(text)
        lib.check(any(why in p for p in problems), "the exposition checker misses %r in %r (found %s)"
                  % (why, text, problems))


# ---- the test ---------------------------------------------------------------

def get_metrics(base, directory, tag):
    r = lib.fetch(base + "/metrics")
    lib.check(r.status == 200, "GET /metrics: %d, want 200" % r.status)
    ctype = r.headers.get("Content-Type", "")
    params = [p.strip().replace(" ", "") for p in ctype.split(";")]
    lib.check(params[0] == "text/plain" and "version=0.0.4" in params[1:],
              "GET /metrics: Content-Type %r, want text/plain; version=0.0.4" % ctype)
    text = r.body.decode("utf-8")
    path = os.path.join(directory, "metrics-%s.txt" % tag)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    problems, samples = check_exposition(text)
    lib.check(not problems, "GET /metrics (%s) is not a valid exposition:\n  %s\n%s"
              % (tag, "\n  ".join(problems), text))
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True, timeout=30)
        lib.check(p.returncode == 0, "`promtool check metrics` < %s exited %d:\n%s%s"
                  % (path, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
    return samples


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    lib.check(key in samples, "GET /metrics has no series %s%s" % (name, labels or ""))
    return samples[key]


def main():
    lib.feedmux_binary()
    self_test()
    if shutil.which("promtool") is None:
        lib.note("promtool is not installed (Debian: prometheus): only the built-in checker runs")
    server = lib.FixtureServer(lifetime=90)
    d = lib.make_tempdir("metrics")
    port = lib.free_port()
    feeds = lib.fixture_feeds(server) + [("broken", server.url("status/404/gone.rss"))]
    conf = lib.write_config(d, feeds, _port=port, interval="30s", min_interval="10s")
    base = "http://127.0.0.1:%d" % port
    daemon = lib.Daemon(["-c", conf], d)
    t0 = time.monotonic()

    # One cycle: every feed polled once, and the outputs rendered.
    want = {t for _, t, _ in lib.FIXTURE_ENTRIES}
    states, last = {}, "no answer"
    while True:
        if not daemon.alive():
            lib.fail("feedmux exited with %s\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            r = lib.fetch(base + "/status")
            states = dict((l.split("\t") + [""])[:2] for l in r.body.decode().splitlines()[1:])
            last = "states %s" % states
            if all(states.get(n) == "ok" for n, _ in lib.fixture_feeds(server)) and states.get("broken") == "failing":
                a = lib.fetch(base + "/feed.atom")
                if a.status == 200 and want <= {e.get("title") for e in lib.feedparser.parse(a.body).entries}:
                    break
        except OSError as e:
            last = "no HTTP answer: %s" % e
        if time.monotonic() - t0 > WAIT:
            lib.fail("the feeds were not all polled within %d s (last: %s)\n%s" % (WAIT, last, daemon.output()))
        time.sleep(0.2)
    time.sleep(1.5)  # the render debounce
    lib.check(time.monotonic() - t0 < 25, "the first cycle took so long that second polls may have begun")
    atom = lib.parse_feed(lib.fetch(base + "/feed.atom").body, "GET /feed.atom")
    m = get_metrics(base, d, "cycle")

    def fetches(result):
        return value(m, "feedmux_fetches_total", result=result)

    lib.check(fetches("ok") == 3, "after one cycle fetches ok = %s, want 3 (the fixture feeds)" % fetches("ok"))
    for res in ("not_modified", "parse_error", "network_error"):
        lib.check(fetches(res) == 0, "after one cycle fetches %s = %s, want 0" % (res, fetches(res)))
    fails = value(m, "feedmux_feed_consecutive_failures", feed="broken")
    lib.check(fails >= 1 and fetches("http_error") == fails,
              "fetches http_error = %s, the 404 feed's consecutive failures = %s: want equal and >= 1"
              % (fetches("http_error"), fails))
    for n, _ in lib.fixture_feeds(server):
        lib.check(value(m, "feedmux_feed_consecutive_failures", feed=n) == 0, "feed %s counts failures" % n)
    outcomes = {o: value(m, "feedmux_items_total", outcome=o) for o in ("new", "duplicate", "update", "stale")}
    lib.check(outcomes["new"] > 0, "items new = %s, want > 0" % outcomes["new"])
    lib.check(outcomes["new"] == len(lib.FIXTURE_ENTRIES) == len(atom.entries),
              "items new = %s, want %d (the distinct fixture articles; /feed.atom has %d)"
              % (outcomes["new"], len(lib.FIXTURE_ENTRIES), len(atom.entries)))
    offered = 0
    for _, f in lib.FIXTURE_FEED_FILES:
        offered += len(lib.feedparser.parse(os.path.join(lib.FIXTURE_FEEDS, f)).entries)
    lib.check(sum(outcomes.values()) == offered, "items by outcome %s add up to %s, the feeds carry %d"
              % (outcomes, sum(outcomes.values()), offered))
    lib.check(value(m, "feedmux_feeds") == 4, "feedmux_feeds = %s, want 4" % value(m, "feedmux_feeds"))
    lib.check(value(m, "feedmux_feeds_failing") == 1, "feedmux_feeds_failing = %s, want 1"
              % value(m, "feedmux_feeds_failing"))
    size = sum(os.path.getsize(os.path.join(lib.FIXTURE_FEEDS, f)) for _, f in lib.FIXTURE_FEED_FILES)
    lib.check(value(m, "feedmux_fetch_bytes_total") >= size, "bytes fetched %s, the fixture files are %d bytes"
              % (value(m, "feedmux_fetch_bytes_total"), size))
    lib.check(value(m, "feedmux_renders_total") >= 1, "no rendering counted")
    lib.check(value(m, "feedmux_render_failures_total") == 0, "render failures counted")
    lib.check(value(m, "feedmux_render_seconds_total") > 0, "no render time counted")
    lib.check(value(m, "feedmux_fetch_not_modified_ratio") == 0, "a 304 ratio without any 304")

    # HTTP answers by status code.
    codes = ("200", "304", "400", "404", "405", "other")

    def http(samples):
        return {c: samples.get(("feedmux_http_requests_total", frozenset({("code", c)})), 0) for c in codes}

    before = http(m)
    a = lib.fetch(base + "/feed.atom")
    lib.check(a.status == 200, "GET /feed.atom: %d" % a.status)
    lib.check(lib.fetch(base + "/feed.atom", method="HEAD").status == 200, "HEAD /feed.atom is not 200")
    r = lib.fetch(base + "/feed.atom", headers={"If-None-Match": a.headers.get("ETag", "")})
    lib.check(r.status == 304, "GET /feed.atom with its ETag: %d, want 304" % r.status)
    lib.check(lib.fetch(base + "/nope").status == 404, "GET /nope is not 404")
    lib.check(lib.fetch(base + "/feed.atom", method="DELETE").status == 405, "DELETE /feed.atom is not 405")
    after = http(get_metrics(base, d, "http"))
    moved = {c: after[c] - before[c] for c in codes}
    lib.check(moved == {"200": 3, "304": 1, "400": 0, "404": 1, "405": 1, "other": 0},
              "feedmux_http_requests_total moved by %s; want 200 +3 (the first /metrics, the GET, the HEAD), "
              "304 +1, 404 +1, 405 +1" % moved)

    lib.check(daemon.stop(signal.SIGTERM) == 0, "feedmux did not exit 0 on SIGTERM:\n%s" % daemon.output())
    lib.note("/metrics: valid%s; fetches ok=3, items new=%d, HTTP counters follow the requests"
             % (" (promtool too)" if shutil.which("promtool") else "", outcomes["new"]))


lib.run_test(main)
