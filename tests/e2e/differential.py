"""Differential: feedmux's parser against python3-feedparser, every corpus file.

Every feed file under tests/data/corpus/ is read by tests/tools/parsedump
(the real streaming parser, pushed in 4 KiB chunks) and by feedparser, with
the same HTTP headers (feedparser's test files name theirs in a "Header:"
comment: the charset and Content-Location are passed to both). Item by
item, in document order, four fields are compared:

- title: white space collapsed; feedmux's titles are plain text.
- link: both normalized as URLs (scheme and host lower-case, an empty path
  is "/", a default port dropped), because libcurl's URL parser writes
  "http://example.org" as "http://example.org/".
- published: to the second, UTC; feedparser's published, else its updated
  (feedmux's published falls back to the update date the same way).
- id: white space trimmed.

The agreement is printed per field and overall (an item agrees when all
four do), then every disagreement grouped by its reason. Disagreements
listed in tests/data/differential-allow.tsv (file, field, reason: where
feedmux is right, and why) are accepted; any other one fails the test.
Run by make check (TESTS_SRCDIR, TESTS_BUILDDIR), or by hand with -v to
list the allowed disagreements too.
"""

import calendar
import html
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True

FIELDS = ("title", "link", "published", "id")
SKIP = 77


def headers_of(raw):
    """The HTTP headers a feedparser test file names in its first comment."""
    head = raw[:4096].decode("latin-1")
    found = {}
    for m in re.finditer(r"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", head, re.M):
        found[m.group(1).lower()] = m.group(2)
    return found


def charset_of(headers):
    """The charset parameter of a Content-Type header, or None."""
    ctype = headers.get("content-type")
    if ctype is None:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", ctype, re.I)
    return m.group(1) if m else None


def run_parsedump(tool, path, headers):
    """Items and outcome of feedmux's parser, as parsedump prints them."""
    args = [tool]
    charset = charset_of(headers)
    if charset:
        args += ["-c", charset]
    args.append(path)
    if headers.get("content-location"):
        args.append(headers["content-location"])
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("parsedump failed on %s: %s" % (path, r.stderr.decode(errors="replace")))
    items, result = [], None
    for line in r.stdout.decode("utf-8").splitlines():
        o = json.loads(line)
        if o["type"] == "item":
            items.append(o)
        elif o["type"] == "result":
            result = o
    return items, result


def run_feedparser(feedparser, raw, headers):
    """feedparser's entries for the same bytes and headers."""
    hdrs = {k: v for k, v in headers.items()}
    d = feedparser.parse(raw, response_headers=hdrs)
    return d


def norm_text(s):
    """Collapse white space; None and "" are the same."""
    if s is None:
        return ""
    return " ".join(s.split())


def norm_url(s):
    """A URL in one spelling: lower-case scheme and host, "/" for an empty
    path, no default port."""
    s = (s or "").strip()
    if not s:
        return ""
    try:
        u = urllib.parse.urlsplit(s)
    except ValueError:
        return s
    if not u.scheme or not u.netloc:
        return s
    host = u.hostname or ""
    try:
        port = u.port
    except ValueError:
        return s
    if (u.scheme.lower(), port) in (("http", 80), ("https", 443)):
        port = None
    netloc = host.lower()
    if ":" in netloc and not netloc.startswith("["):
        netloc = "[" + netloc + "]"
    if u.username is not None:
        cred = u.username + (":" + u.password if u.password is not None else "")
        netloc = cred + "@" + netloc
    if port is not None:
        netloc += ":%d" % port
    path = u.path or "/"
    return urllib.parse.urlunsplit((u.scheme.lower(), netloc, path, u.query, u.fragment))


def fp_time(entry):
    """feedparser's date of an entry, seconds UTC, or None."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return calendar.timegm(t)
    return None


def fm_time(value):
    """parsedump's RFC 3339 UTC date as seconds, or None."""
    if not value:
        return None
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$", value)
    if not m:
        return None
    return calendar.timegm(tuple(int(x) for x in m.groups()) + (0, 0, 0))


def strip_tags(s):
    """Text of an HTML fragment, roughly (to name a reason, not to compare)."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", s or "")).split())


def compare_field(field, fm, fp):
    """(agree, feedmux value, feedparser value, reason) for one field."""
    if field == "title":
        a, b = norm_text(fm.get("title")), norm_text(fp.get("title"))
        if a == b:
            return True, a, b, None
        if strip_tags(b) == a or strip_tags(b).replace(" ", "") == a.replace(" ", ""):
            return False, a, b, "feedparser keeps HTML in titles"
        if html.unescape(b) == a or html.unescape(a) == b:
            return False, a, b, "entity decoding"
        if not a:
            return False, a, b, "feedmux has no title"
        if not b:
            return False, a, b, "feedparser has no title"
        return False, a, b, "title text differs"
    if field == "link":
        a, b = norm_url(fm.get("link")), norm_url(fp.get("link"))
        if a == b:
            return True, a, b, None
        if not a:
            return False, a, b, "feedmux has no link"
        if not b:
            return False, a, b, "feedparser has no link"
        if urllib.parse.unquote(a) == urllib.parse.unquote(b):
            return False, a, b, "percent-encoding differs"
        if not urllib.parse.urlsplit(b).scheme:
            return False, a, b, "feedparser leaves the link relative"
        return False, a, b, "links differ"
    if field == "published":
        a, b = fm_time(fm.get("published")), fp_time(fp)
        sa = fm.get("published") or ""
        sb = "" if b is None else "%04d-%02d-%02dT%02d:%02d:%02dZ" % tuple(
            __import__("time").gmtime(b)[:6])
        if a == b:
            return True, sa, sb, None
        if a is None:
            return False, sa, sb, "feedmux has no date"
        if b is None:
            return False, sa, sb, "feedparser has no date"
        if abs(a - b) % 3600 == 0 or abs(a - b) % 1800 == 0:
            return False, sa, sb, "dates differ by whole hours (zone)"
        return False, sa, sb, "dates differ"
    a, b = (fm.get("id") or "").strip(), (fp.get("id") or "").strip()
    if a == b:
        return True, a, b, None
    if not a:
        return False, a, b, "feedmux has no id"
    if not b:
        return False, a, b, "feedparser has no id"
    return False, a, b, "ids differ"


def load_allow(path):
    """(file, field) -> reason from the reviewed allowlist."""
    allow = {}
    if not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 3 or cols[1] not in FIELDS + ("items",):
                raise SystemExit("%s:%d: want file<TAB>field<TAB>reason" % (path, n))
            allow[(cols[0], cols[1])] = cols[2]
    return allow


def corpus_files(root):
    """Every feed file under root, relative, sorted."""
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            if n == "expected.tsv" or n.endswith(".md"):
                continue
            out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def main():
    verbose = "-v" in sys.argv[1:]
    srcdir = os.environ.get("TESTS_SRCDIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    builddir = os.environ.get("TESTS_BUILDDIR") or srcdir
    tool = os.path.join(builddir, "tools", "parsedump")
    if not os.access(tool, os.X_OK):
        print("SKIP: no %s (make check builds it)" % tool)
        return SKIP
    try:
        import feedparser
    except ImportError:
        print("SKIP: python3-feedparser is not installed (tests/deps.sh installs it)")
        return SKIP
    root = os.path.join(srcdir, "data", "corpus")
    allow = load_allow(os.path.join(srcdir, "data", "differential-allow.tsv"))
    used = set()
    agree = {f: 0 for f in FIELDS}
    compared = 0
    items_agree = 0
    groups = {}
    bad = []
    files = corpus_files(root)
    failed_files = set()
    for rel in files:
        path = os.path.join(root, rel)
        with open(path, "rb") as f:
            raw = f.read()
        headers = headers_of(raw)
        fm_items, _ = run_parsedump(tool, path, headers)
        d = run_feedparser(feedparser, raw, headers)
        fp_items = d.entries
        if len(fm_items) != len(fp_items):
            rec = (rel, "items", "-", str(len(fm_items)), str(len(fp_items)),
                   "item counts differ")
            groups.setdefault(("items", rec[5]), []).append(rec)
            if (rel, "items") in allow:
                used.add((rel, "items"))
            else:
                bad.append(rec)
                failed_files.add(rel)
        for i in range(min(len(fm_items), len(fp_items))):
            compared += 1
            all_ok = True
            for field in FIELDS:
                ok, a, b, reason = compare_field(field, fm_items[i], fp_items[i])
                if ok:
                    agree[field] += 1
                    continue
                all_ok = False
                rec = (rel, field, str(i), a, b, reason)
                groups.setdefault((field, reason), []).append(rec)
                if (rel, field) in allow:
                    used.add((rel, field))
                else:
                    bad.append(rec)
                    failed_files.add(rel)
            if all_ok:
                items_agree += 1

    print("differential: %d corpus files, %d items compared (feedmux vs feedparser %s)"
          % (len(files), compared, feedparser.__version__))
    for field in FIELDS:
        print("  %-10s %5d / %d agree (%.1f%%)" % (field, agree[field], compared,
                                                 100.0 * agree[field] / max(compared, 1)))
    print("  %-10s %5d / %d items agree on all four (%.1f%%)" % ("overall", items_agree, compared,
                                                              100.0 * items_agree / max(compared, 1)))
    ndis = sum(len(v) for v in groups.values())
    print("disagreements: %d (%d allowed, %d not allowed)" % (ndis, ndis - len(bad), len(bad)))
    for (field, reason), recs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print("\n[%s] %s: %d" % (field, reason, len(recs)))
        for rel, fld, i, a, b, _ in recs:
            allowed = (rel, fld) in allow
            if allowed and not verbose:
                continue
            print("  %s %s item %s\n    feedmux:    %r\n    feedparser: %r%s"
                  % ("ALLOWED" if allowed else "FAIL   ", rel, i, a[:160], b[:160],
                     "\n    why: " + allow[(rel, fld)] if allowed else ""))
        hidden = sum(1 for r in recs if (r[0], r[1]) in allow)
        if hidden and not verbose:
            print("  (%d allowed, listed in data/differential-allow.tsv; -v shows them)" % hidden)
    stale = sorted(set(allow) - used)
    if stale:
        print("\nallowlist rows that no longer match a disagreement (remove them):")
        for rel, field in stale:
            print("  %s\t%s" % (rel, field))
    print("\ndifferential: %d passed, %d failed" % (len(files) - len(failed_files), len(failed_files)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
