"""HTTP serving end to end (issue 7): feedmux behaves like a careful static
server, checked with curl and with raw sockets.

The daemon polls the three fixture feeds, a hostile feed (markup and script
in its channel title, item title and description) and a feed whose URL
answers 404 with `<script>` in its query (so the error text shown on the
status page carries markup). The configuration's title and its topic's
title carry markup too. It listens on 127.0.0.1:PORT and, when ::1 can be
bound, on [::1]:PORT6. Once /feed.atom holds every entry:

- GET: 200, `Content-Type: application/atom+xml; charset=utf-8`, a strong
  ETag, an IMF-fixdate Last-Modified, `Vary: Accept-Encoding`,
  `Cache-Control: public, max-age=30` (the interval, at most 300 s);
- conditional requests (curl): If-None-Match with the ETag, its weak form,
  `*` or a list naming it -> 304 without a body, still carrying ETag;
  If-Modified-Since = Last-Modified -> 304; an older date, a wrong ETag
  (even with a matching If-Modified-Since) or a malformed date -> 200;
- gzip (curl): `Accept-Encoding: gzip` -> Content-Encoding gzip whose
  gunzipped bytes equal the plain body; `curl --compressed` the same;
  without it, `identity` or `gzip;q=0` -> the plain body;
- HEAD (curl -I and a raw socket): the GET headers, Content-Length equal to
  the GET body's length (the gzip length with gzip), and no body: the next
  response on the same connection starts right after the headers;
- POST, PUT, DELETE, PATCH, OPTIONS, TRACE (curl -X, no body) and a POST
  with a small form body (curl -d) -> 405 with `Allow: GET, HEAD`; a 1 MiB
  POST body -> 4xx or a closed connection;
- /nope, /topics/nope.atom, /topics/nope.json, /feed.atom/, /feed.atom.gz
  -> 404;
- path traversal (raw request lines and curl --path-as-is), e.g.
  `/../etc/passwd`, `/%2e%2e/%2e%2e/etc/passwd`, `//etc/passwd`,
  `/feed.atom/../../../etc/passwd`, `/..%2f..%2fstate.db` -> 404 or 400,
  never a file's contents;
- a 64 KiB request header, 64 KiB request target and 1,000 headers -> 4xx
  or the connection closed, and the daemon serves the next request;
- /feed.json (application/feed+json, JSON Feed 1.1 with as many items as
  the Atom feed), /feeds.opml (text/x-opml or application/xml, OPML 2.0
  listing every subscription), /topics/ukraine.atom (valid Atom, only
  entries of the merged feed, each with the topic's category), all with
  ETag/304 and gzip;
- every Atom document validates against the RFC 4287 schema and
  feedparser reads it with bozo = 0; no served document carries a script
  element, an on* handler or a javascript: URL in any HTML it holds;
- / (text/html; charset=utf-8) names every feed and shows the titles and
  error text with their markup escaped (no `<script` anywhere); /status is
  text/plain; /healthz answers `ok`;
- over [::1]:PORT6 the same document and ETag are served;
- output_dir holds exactly feed.atom, feed.json, feeds.opml,
  topics/ukraine.atom, topics/ukraine.json and a .gz twin of each (no
  temporary files left), each twin gunzips to its file, and the served
  bytes equal the files' bytes;
- SIGTERM: exit 0.

Several checks are gathered before failing, so one run reports every
broken behaviour. (The file is not named http.py: tests/e2e is first on
sys.path for these scripts, and a module named http there would hide the
standard library's http package that urllib uses.)
"""

import email.utils
import gzip
import html.parser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 40.0
TOPIC = "ukraine"
HOSTILE_TITLE = "<script>alert(1)</script> & co"
HOSTILE_TOPIC = "<script>alert(2)</script> Ukraine"
HOSTILE_QUERY = "<script>alert(5)</script>"
EVIL_LINK = "https://evil.feedmux.invalid/2025/06/01/evil"
EVIL_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>&lt;script&gt;alert(1)&lt;/script&gt; Evil Gazette</title>
<link>https://evil.feedmux.invalid/</link>
<description>hostile</description>
<item>
<title>Evil &lt;script&gt;alert(3)&lt;/script&gt; headline</title>
<link>%s</link>
<guid>%s</guid>
<pubDate>Sun, 01 Jun 2025 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Body&lt;script&gt;alert(4)&lt;/script&gt;&lt;img src="x.png" onerror="alert(6)"&gt;\
&lt;a href="javascript:alert(7)"&gt;link&lt;/a&gt;&lt;/p&gt;</description>
</item>
</channel></rss>
""" % (EVIL_LINK, EVIL_LINK)
DOCS = ["/feed.atom", "/feed.json", "/feeds.opml", "/topics/%s.atom" % TOPIC, "/topics/%s.json" % TOPIC]
TRAVERSALS = ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/topics/../../etc/passwd", "//etc/passwd",
              "/feed.atom/../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
              "/....//....//etc/passwd", "/topics/..%2f..%2fstate.db", "/../state.db", "/../public/feed.atom",
              "/public/feed.atom", "/feed.atom%00.txt", "/etc/passwd", "/proc/self/environ"]

problems = []


def expect(cond, msg):
    """Record a failed expectation; the test fails at the end with all."""
    if not cond:
        problems.append(msg)
        lib.note("PROBLEM: " + msg)
    return cond


# ---- curl -----------------------------------------------------------------

class Curl:
    """curl(1) with its headers and body in files of the test's directory."""

    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    def __call__(self, url, *args, timeout=10):
        """Run curl; returns (status, headers, body). status is 0 when curl
        got no HTTP answer; headers maps lower-case names to the last value
        of the last response."""
        self.n += 1
        hdr = os.path.join(self.dir, "curl-%03d.headers" % self.n)
        body = os.path.join(self.dir, "curl-%03d.body" % self.n)
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "-D", hdr, "-o", body,
               "-w", "%{http_code}"] + list(args) + [url]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=timeout + 5, env=lib.child_env())
        except subprocess.TimeoutExpired:
            return 0, {}, b""
        status = int(p.stdout.strip() or 0) if p.stdout.strip().isdigit() else 0
        headers = {}
        if os.path.exists(hdr):
            blocks = [b for b in lib.read_text(hdr).replace("\r\n", "\n").split("\n\n") if b.strip()]
            if blocks:
                for line in blocks[-1].split("\n")[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
        data = b""
        if os.path.exists(body):
            with open(body, "rb") as f:
                data = f.read()
        return status, headers, data


# ---- raw sockets ----------------------------------------------------------

def raw(host, port, data, timeout=5.0):
    """Send data on a fresh connection and read until the peer closes (or
    timeout). Returns the bytes received; a reset counts as the end."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    out = b""
    try:
        s.connect((host, port))
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may close before reading everything
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not b:
                break
            out += b
    finally:
        s.close()
    return out


def parse_head(data):
    """(status, headers, rest) of the response at the start of data;
    headers maps lower-case names to values. status 0 when there is none."""
    end = data.find(b"\r\n\r\n")
    if not data.startswith(b"HTTP/1.") or end < 0:
        return 0, {}, data
    lines = data[:end].decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        return 0, {}, data
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers, data[end + 4:]


def exchange(host, port, method, path, headers=()):
    """One request, then `GET /healthz` on the same connection: checks that
    the first response is framed right. Returns (status, headers, body,
    extra): body is what the framing says belongs to the response, extra
    the bytes that came after it and before the healthz answer (b"" when
    the framing is right; None when no healthz answer came at all)."""
    req = "%s %s HTTP/1.1\r\nHost: feedmux.test\r\n" % (method, path)
    for k, v in headers:
        req += "%s: %s\r\n" % (k, v)
    req += "\r\nGET /healthz HTTP/1.1\r\nHost: feedmux.test\r\nConnection: close\r\n\r\n"
    data = raw(host, port, req.encode("latin-1"))
    status, hdrs, rest = parse_head(data)
    if status == 0:
        return 0, {}, b"", None
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        n = 0
    elif "content-length" in hdrs:
        n = int(hdrs["content-length"])
    else:
        n = len(rest)  # not framed: everything up to the close is body
    body, after = rest[:n], rest[n:]
    nxt = after.find(b"HTTP/1.1 200")
    if nxt < 0 or not after.rstrip().endswith(b"ok"):
        return status, hdrs, body, None
    return status, hdrs, body, after[:nxt]


def framing(extra):
    """Words for exchange()'s extra."""
    if extra is None:
        return "no second response on the connection"
    if extra:
        return "%d stray byte(s) before the next response: %r" % (len(extra), extra[:50])
    return "framed right"


# ---- documents ------------------------------------------------------------

def gunzip(data, what):
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as e:
        expect(False, "%s: not gzip: %s" % (what, e))
        return None


class TextOf(html.parser.HTMLParser):
    """The text and the start tags of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def html_is_harmless(fragment, what):
    """No script or style element, no on* attribute, no javascript: URL."""
    p = TextOf()
    p.feed(fragment)
    p.close()
    for tag, attrs in p.tags:
        expect(tag not in ("script", "iframe", "object", "embed"), "%s: HTML holds a <%s> element: %r"
               % (what, tag, fragment))
        for k, v in attrs:
            expect(not k.lower().startswith("on"), "%s: HTML keeps the handler %s=%r" % (what, k, v))
            expect(not (v or "").strip().lower().startswith(("javascript:", "vbscript:", "data:text/html")),
                   "%s: HTML keeps the URL %s=%r" % (what, k, v))


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_is_harmless(body, what):
    """Every html text construct of an Atom document is harmless HTML, and
    no element of any namespace is a script."""
    root = ET.fromstring(body)
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        expect(local.lower() != "script", "%s: the document has a <%s> element" % (what, el.tag))
        if el.get("type") == "html":
            html_is_harmless(el.text or "", "%s <%s type=html>" % (what, local))
    return root


def check_document(curl, base, path, want_type, plain):
    """Validators, 304s, gzip and HEAD of one prepared document, with curl
    and raw sockets. plain is its body from a first GET."""
    url = base + path
    st, h, body = curl(url)
    expect(st == 200, "GET %s: %d, want 200" % (path, st))
    ctype = h.get("content-type", "")
    expect(want_type(ctype), "GET %s: Content-Type %r" % (path, ctype))
    etag = h.get("etag", "")
    lm = h.get("last-modified", "")
    expect(re.fullmatch(r'"[!#-~]+"', etag) is not None, "GET %s: ETag %r is not a strong entity tag" % (path, etag))
    expect(re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"\d{4} \d\d:\d\d:\d\d GMT", lm) is not None,
           "GET %s: Last-Modified %r is not an IMF-fixdate" % (path, lm))
    expect("accept-encoding" in h.get("vary", "").lower(),
           "GET %s: Vary %r lacks Accept-Encoding" % (path, h.get("vary")))
    expect(h.get("cache-control", "").replace(" ", "") == "public,max-age=30",
           "GET %s: Cache-Control %r, want 'public, max-age=30' (the 30 s interval)" % (path, h.get("cache-control")))
    expect("content-encoding" not in h, "GET %s without Accept-Encoding: Content-Encoding %r"
           % (path, h.get("content-encoding")))
    expect(body == plain, "GET %s: the body changed between two GETs" % path)
    expect(h.get("content-length") == str(len(body)), "GET %s: Content-Length %r for %d bytes"
           % (path, h.get("content-length"), len(body)))
    if not etag or not lm:
        return

    # 304 for both kinds of validator.
    for hdrs, why in ((["-H", "If-None-Match: " + etag], "If-None-Match: the ETag"),
                      (["-H", "If-None-Match: W/" + etag], "If-None-Match: the weak ETag"),
                      (["-H", "If-None-Match: *"], "If-None-Match: *"),
                      (["-H", 'If-None-Match: "nope", %s' % etag], "If-None-Match: a list naming the ETag"),
                      (["-H", "If-Modified-Since: " + lm], "If-Modified-Since: Last-Modified")):
        st, h, b = curl(url, *hdrs)
        expect(st == 304, "GET %s with %s: %d, want 304" % (path, why, st))
        expect(b == b"", "GET %s with %s: a %d-byte body on a 304" % (path, why, len(b)))
        if st == 304:
            expect(h.get("etag") == etag, "GET %s with %s: 304 carries ETag %r, want %r"
                   % (path, why, h.get("etag"), etag))
    old = email.utils.formatdate(email.utils.parsedate_to_datetime(lm).timestamp() - 86400, usegmt=True)
    for hdrs, why in ((["-H", "If-Modified-Since: " + old], "If-Modified-Since a day before Last-Modified"),
                      (["-H", 'If-None-Match: "0000"'], "a wrong ETag"),
                      (["-H", 'If-None-Match: "0000"', "-H", "If-Modified-Since: " + lm],
                       "a wrong ETag and If-Modified-Since = Last-Modified (If-None-Match decides)"),
                      (["-H", "If-Modified-Since: not a date"], "a malformed If-Modified-Since")):
        st, h, b = curl(url, *hdrs)
        expect(st == 200 and b == plain, "GET %s with %s: %d and %d bytes, want 200 and the document"
               % (path, why, st, len(b)))
    # The 304 is framed right: nothing follows it on a kept-alive connection.
    st, h, b, extra = exchange(HOST4, PORT4, "GET", path, [("If-None-Match", etag)])
    expect(st == 304 and extra == b"", "GET %s with If-None-Match (raw socket): %d, %s"
           % (path, st, framing(extra)))

    # gzip on and off.
    st, h, gz = curl(url, "-H", "Accept-Encoding: gzip")
    expect(st == 200 and h.get("content-encoding") == "gzip",
           "GET %s with Accept-Encoding: gzip: %d, Content-Encoding %r" % (path, st, h.get("content-encoding")))
    expect("accept-encoding" in h.get("vary", "").lower(), "GET %s gzipped: Vary %r" % (path, h.get("vary")))
    expect(h.get("etag") == etag, "GET %s gzipped: ETag %r, want %r" % (path, h.get("etag"), etag))
    if h.get("content-encoding") == "gzip":
        expect(gunzip(gz, "GET %s gzipped" % path) == plain, "GET %s: the gunzipped body differs from the plain one"
               % path)
    st, h, b = curl(url, "--compressed")
    expect(st == 200 and b == plain, "curl --compressed %s: %d, %d bytes decoded, want the %d plain bytes"
           % (path, st, len(b), len(plain)))
    for ae in ("identity", "gzip;q=0", "br"):
        st, h, b = curl(url, "-H", "Accept-Encoding: " + ae)
        expect(st == 200 and "content-encoding" not in h and b == plain,
               "GET %s with Accept-Encoding: %s: %d, Content-Encoding %r, %d bytes, want the plain document"
               % (path, ae, st, h.get("content-encoding"), len(b)))

    # HEAD: the same headers, the length of the GET body, no body.
    st, h, _ = curl(url, "-I")
    expect(st == 200, "curl -I %s: %d" % (path, st))
    for k in ("content-type", "etag", "last-modified", "cache-control", "vary"):
        expect(h.get(k) == {"content-type": ctype, "etag": etag, "last-modified": lm,
                            "cache-control": "public, max-age=30", "vary": "Accept-Encoding"}[k],
               "curl -I %s: %s %r differs from GET's" % (path, k, h.get(k)))
    expect(h.get("content-length") == str(len(plain)), "curl -I %s: Content-Length %r, want %d (GET's length)"
           % (path, h.get("content-length"), len(plain)))
    st, h, b, extra = exchange(HOST4, PORT4, "HEAD", path)
    expect(st == 200 and extra == b"", "HEAD %s (raw socket): %d, want no body: %s" % (path, st, framing(extra)))
    st, h, b, extra = exchange(HOST4, PORT4, "HEAD", path, [("Accept-Encoding", "gzip")])
    expect(st == 200 and extra == b"" and h.get("content-encoding") == "gzip" and
           h.get("content-length") == str(len(gz)),
           "HEAD %s with gzip (raw socket): %d, Content-Encoding %r, Content-Length %r (want %d), %s"
           % (path, st, h.get("content-encoding"), h.get("content-length"), len(gz), framing(extra)))
    # GET framed right on a kept-alive connection.
    st, h, b, extra = exchange(HOST4, PORT4, "GET", path)
    expect(st == 200 and b == plain and extra == b"", "GET %s (raw socket, kept alive): %d, body equal %s, %s"
           % (path, st, b == plain, framing(extra)))


def wait_ready(daemon, base, want_titles):
    """Until /feed.atom has every wanted title and the hostile entry, the
    failing feed has failed, and output_dir agrees with what is served."""
    deadline = time.monotonic() + WAIT
    last = "no answer"
    while time.monotonic() < deadline:
        if not daemon.alive():
            lib.fail("feedmux exited with %s\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            st = lib.fetch(base + "/status")
            lines = st.body.decode("utf-8", "replace").splitlines()[1:]
            states = dict((l.split("\t") + ["", ""])[:2] for l in lines)
            r = lib.fetch(base + "/feed.atom")
            last = "status %s, /feed.atom %d" % (states, r.status)
            if r.status == 200 and states.get("broken") == "failing":
                d = lib.feedparser.parse(r.body)
                titles = {e.get("title") for e in d.entries}
                links = {e.get("link") for e in d.entries}
                last += ", %d of %d titles" % (len(titles & want_titles), len(want_titles))
                if want_titles <= titles and EVIL_LINK in links:
                    time.sleep(1.5)  # the render debounce, then files and served bytes must agree
                    again = lib.fetch(base + "/feed.atom")
                    if again.body == r.body:
                        return r
        except OSError as e:
            last = "no HTTP answer: %s" % e
        time.sleep(0.3)
    lib.fail("the feeds were not all polled and published within %d s (last: %s)\n%s"
             % (WAIT, last, daemon.output()))


def v6_port():
    """A free port on ::1, or None when ::1 cannot be bound."""
    if not socket.has_ipv6:
        return None
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


HOST4, PORT4 = "127.0.0.1", 0


def main():
    global PORT4
    lib.feedmux_binary()
    if shutil.which("curl") is None:
        lib.skip("curl is not installed (Debian: apt-get install curl; tests/deps.sh installs it)")

    root = lib.make_tempdir("root")
    for _, f in lib.FIXTURE_FEED_FILES:
        shutil.copy(os.path.join(lib.FIXTURE_FEEDS, f), root)
    with open(os.path.join(root, "evil.rss"), "w", encoding="utf-8") as f:
        f.write(EVIL_RSS)
    server = lib.FixtureServer(root=root, lifetime=150)
    d = lib.make_tempdir("http")
    PORT4 = lib.free_port()
    port6 = v6_port()
    listen = "127.0.0.1:%d" % PORT4 + (", [::1]:%d" % port6 if port6 else "")
    if port6 is None:
        lib.note("::1 cannot be bound here: IPv6 checks skipped")
    feeds = lib.fixture_feeds(server) + [("evil", server.url("evil.rss")),
                                         ("broken", server.url("status/404/gone.rss?q=" + HOSTILE_QUERY))]
    conf = lib.write_config(d, feeds, _port=PORT4, listen=listen, interval="30s", min_interval="10s",
                            title=HOSTILE_TITLE)
    with open(conf, "a", encoding="utf-8") as f:
        f.write("\n[topic %s]\ntitle = %s\nmatch = Ukraine, Kyiv, Zelensky\n" % (TOPIC, HOSTILE_TOPIC))
    base = "http://127.0.0.1:%d" % PORT4
    lib.note("feedmux -c %s, listen %s" % (conf, listen))
    daemon = lib.Daemon(["-c", conf], d)
    curl = Curl(d)

    atom_resp = wait_ready(daemon, base, {t for _, t, _ in lib.FIXTURE_ENTRIES})

    # The documents themselves.
    served = {}
    for path in DOCS:
        r = lib.fetch(base + path)
        expect(r.status == 200, "GET %s: %d, want 200" % (path, r.status))
        served[path] = r.body
    merged = served["/feed.atom"]
    expect(merged == atom_resp.body, "/feed.atom changed while the test ran")
    for path in ("/feed.atom", "/topics/%s.atom" % TOPIC):
        f = os.path.join(d, "served-" + path.strip("/").replace("/", "_"))
        with open(f, "wb") as out:
            out.write(served[path])
        lib.validate_atom(f)
        lib.parse_feed(served[path], "GET " + path)
        atom_is_harmless(served[path], "GET " + path)
    parsed = lib.parse_feed(merged, "GET /feed.atom")
    merged_ids = [e.id for e in parsed.entries]
    topic = lib.parse_feed(served["/topics/%s.atom" % TOPIC], "GET /topics/%s.atom" % TOPIC)
    expect(topic.entries, "/topics/%s.atom has no entries" % TOPIC)
    for e in topic.entries:
        expect(e.id in merged_ids, "/topics/%s.atom: entry %r is not in /feed.atom" % (TOPIC, e.title))
        expect(TOPIC in [t.get("term") for t in e.get("tags", [])],
               "/topics/%s.atom: entry %r lacks category %r" % (TOPIC, e.title, TOPIC))
    evil = [e for e in parsed.entries if e.get("link") == EVIL_LINK]
    expect(len(evil) == 1, "/feed.atom: the hostile feed's entry is missing")
    for path in ("/feed.json", "/topics/%s.json" % TOPIC):
        try:
            jf = json.loads(served[path])
        except ValueError as e:
            expect(False, "GET %s: not JSON: %s" % (path, e))
            continue
        expect(jf.get("version") == "https://jsonfeed.org/version/1.1",
               "GET %s: version %r" % (path, jf.get("version")))
        for it in jf.get("items", []):
            for k in ("content_html", "summary_html"):
                if k in it:
                    html_is_harmless(it[k], "GET %s item %r %s" % (path, it.get("id"), k))
        if path == "/feed.json":
            expect(len(jf.get("items", [])) == len(parsed.entries), "/feed.json has %d items, /feed.atom %d"
                   % (len(jf.get("items", [])), len(parsed.entries)))
    opml = ET.fromstring(served["/feeds.opml"])
    expect(opml.tag == "opml" and opml.get("version") == "2.0", "/feeds.opml: root %r version %r"
           % (opml.tag, opml.get("version")))
    urls = sorted(o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl"))
    expect(urls == sorted(u for _, u in feeds), "/feeds.opml lists %s, want %s" % (urls, sorted(u for _, u in feeds)))

    # Validators, 304, gzip, HEAD of each document.
    atom_type = lambda t: t == "application/atom+xml; charset=utf-8"  # noqa: E731
    json_type = lambda t: t.split(";")[0].strip() == "application/feed+json"  # noqa: E731
    opml_type = lambda t: t.split(";")[0].strip() in ("text/x-opml", "application/xml", "text/xml")  # noqa: E731
    for path in DOCS:
        want = atom_type if path.endswith(".atom") else json_type if path.endswith(".json") else opml_type
        check_document(curl, base, path, want, served[path])

    # Methods other than GET and HEAD.
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        st, h, _ = curl(base + "/feed.atom", "-X", m)
        expect(st == 405 and h.get("allow", "").replace(" ", "") == "GET,HEAD",
               "curl -X %s /feed.atom: %d, Allow %r, want 405 with 'Allow: GET, HEAD'" % (m, st, h.get("allow")))
    st, h, _ = curl(base + "/feed.atom", "-d", "a=1")
    expect(st == 405 and h.get("allow", "").replace(" ", "") == "GET,HEAD",
           "curl -d a=1 (POST with a 3-byte form body) /feed.atom: %d, Allow %r, want 405 with 'Allow: GET, HEAD'"
           % (st, h.get("allow")))
    big_body = os.path.join(d, "big-body")
    with open(big_body, "wb") as f:
        f.write(b"x" * (1 << 20))
    st, h, _ = curl(base + "/feed.atom", "--data-binary", "@" + big_body)
    expect(st == 0 or 400 <= st < 500, "POST of 1 MiB to /feed.atom: %d, want 4xx or the connection closed" % st)

    # Unknown paths.
    for path in ("/nope", "/topics/nope.atom", "/topics/nope.json", "/feed.atom/", "/feed.atom.gz", "/topics/",
                 "/topics/%s" % TOPIC, "/FEED.ATOM"):
        st, _, _ = curl(base + path, "--path-as-is")
        expect(st == 404, "GET %s: %d, want 404" % (path, st))

    # Path traversal: exact request lines, and curl --path-as-is.
    with open("/etc/passwd", "rb") as f:
        passwd = f.read()
    for path in TRAVERSALS:
        data = raw(HOST4, PORT4, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, h, rest = parse_head(data)
        expect(st in (400, 404), "GET %s (raw): status %d, want 404 or 400" % (path, st))
        expect(b"root:" not in rest and passwd[:64] not in rest and b"SQLite format" not in rest and
               b"<feed" not in rest, "GET %s (raw): the body looks like a file: %r" % (path, rest[:80]))
        st, h, b = curl(base + path, "--path-as-is")
        expect(st in (400, 404) and b"root:" not in b and b"SQLite format" not in b,
               "curl --path-as-is %s: %d, body %r" % (path, st, b[:80]))

    # Oversized requests, then the daemon still answers.
    big = b"a" * 65536
    for what, req in (("a 64 KiB header", b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n"),
                      ("a 64 KiB request target", b"GET /" + big + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
                      ("1,000 headers", b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n" +
                       b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(1000)) + b"\r\n")):
        st, h, _ = parse_head(raw(HOST4, PORT4, req))
        expect(st == 0 or 400 <= st < 500, "%s: status %d, want 4xx or the connection closed" % (what, st))
        r = lib.fetch(base + "/healthz")
        expect(r.status == 200 and r.body == b"ok\n", "after %s: /healthz %d %r" % (what, r.status, r.body))
    st, _, _ = curl(base + "/feed.atom", "-H", "X-Big: " + "a" * 65536)
    expect(st == 0 or 400 <= st < 500, "curl with a 64 KiB header: %d, want 4xx or closed" % st)
    st, _, b = curl(base + "/feed.atom")
    expect(st == 200 and b == merged, "after the oversized requests GET /feed.atom: %d" % st)

    # The pages.
    st, h, page = curl(base + "/")
    expect(st == 200 and h.get("content-type") == "text/html; charset=utf-8",
           "GET /: %d, Content-Type %r" % (st, h.get("content-type")))
    text = page.decode("utf-8", "replace")
    expect("<script" not in text.lower(), "GET /: the page holds an unescaped <script: %s"
           % text[max(0, text.lower().find("<script") - 80):text.lower().find("<script") + 80])
    p = TextOf()
    p.feed(text)
    p.close()
    shown = "".join(p.text)
    for name, _ in feeds:
        expect(name in [t for t in p.text], "GET /: feed %r not shown in a cell of its own" % name)
    for s in (HOSTILE_TITLE, HOSTILE_TOPIC, HOSTILE_QUERY):
        expect(s in shown, "GET /: %r is not shown (escaped) on the page" % s)
    expect(("a", [("href", "topics/%s.atom" % TOPIC)]) in p.tags, "GET /: no link to topics/%s.atom" % TOPIC)
    st, h, b = curl(base + "/status")
    expect(st == 200 and h.get("content-type", "").startswith("text/plain"),
           "GET /status: %d, Content-Type %r" % (st, h.get("content-type")))
    st, h, b = curl(base + "/healthz")
    expect(st == 200 and b == b"ok\n", "GET /healthz: %d %r" % (st, b))
    st, h, b, extra = exchange(HOST4, PORT4, "HEAD", "/")
    expect(st == 200 and extra == b"", "HEAD / (raw socket): %d, want no body: %s" % (st, framing(extra)))

    # IPv6.
    if port6:
        st, h, b = curl("http://[::1]:%d/feed.atom" % port6, "-g")
        expect(st == 200 and b == merged, "GET http://[::1]:%d/feed.atom: %d, same body %s"
               % (port6, st, b == merged))
        st4, h4, _ = curl(base + "/feed.atom")
        expect(h.get("etag") == h4.get("etag"), "ETag over IPv6 %r differs from IPv4 %r"
               % (h.get("etag"), h4.get("etag")))
        st, h, b = curl("http://[::1]:%d/feed.atom" % port6, "-g", "-H", "If-None-Match: %s" % h4.get("etag"))
        expect(st == 304, "GET over IPv6 with If-None-Match: %d, want 304" % st)
        st, h, b, extra = exchange("::1", port6, "GET", "/feed.atom")
        expect(st == 200 and b == merged and extra == b"", "GET /feed.atom over IPv6 (raw socket): %d, %s"
               % (st, framing(extra)))

    # output_dir: exactly the documents and their twins, equal to what is served.
    pub = os.path.join(d, "public")
    want_files = sorted([p.lstrip("/") for p in DOCS] + [p.lstrip("/") + ".gz" for p in DOCS])
    have = sorted(os.path.relpath(os.path.join(dp, f), pub) for dp, _, fs in os.walk(pub) for f in fs)
    expect(have == want_files, "output_dir holds %s, want %s" % (have, want_files))
    for path in DOCS:
        f = os.path.join(pub, path.lstrip("/"))
        if not os.path.exists(f):
            continue
        with open(f, "rb") as fh:
            disk = fh.read()
        r = lib.fetch(base + path)
        expect(disk == r.body, "output_dir %s (%d bytes) differs from GET %s (%d bytes)"
               % (path.lstrip("/"), len(disk), path, len(r.body)))
        if os.path.exists(f + ".gz"):
            with open(f + ".gz", "rb") as fh:
                expect(gunzip(fh.read(), f + ".gz") == disk, "%s.gz does not gunzip to %s"
                       % (path.lstrip("/"), path.lstrip("/")))

    expect(daemon.alive(), "feedmux died during the test:\n%s" % daemon.output())
    rc = daemon.stop(signal.SIGTERM, timeout=10)
    expect(rc == 0, "feedmux exited with %s on SIGTERM, want 0" % rc)
    if problems:
        lib.fail("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)))
    lib.note("all HTTP checks passed (%d curl runs, IPv6 %s)" % (curl.n, "checked" if port6 else "skipped"))


lib.run_test(main)
