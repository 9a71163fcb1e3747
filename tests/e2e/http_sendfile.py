"""Large documents go out with sendfile from memory files (http.c): the
served bytes must still be exactly the document's, however they are read.

The fixture serves one RSS feed of 60 items, each with about 3 KB of
seeded random words, so that /feed.atom and its gzip are both larger than
the 64 KiB from which feedmux sends a body with sendfile. Once /feed.atom
shows all 60 entries and has stopped changing:

- GET: the body is output_dir/feed.atom byte for byte, with a matching
  Content-Length; with `Accept-Encoding: gzip` it is feed.atom.gz byte for
  byte, and gunzips to feed.atom;
- HEAD (plain and gzip) on a raw connection: Content-Length of the body and
  no body: a GET /healthz sent behind it on the same connection is
  answered right after the headers;
- 20 pipelined GETs on one connection, alternating plain and gzip: every
  body is the right document;
- 8 clients fetching 10 times each at once: every body is feed.atom;
- a reply in flight outlives its document: a client with a 4 KiB receive
  buffer reads the headers and a few bytes, the configuration's title
  changes and SIGHUP re-renders (/feed.atom is then the new file), and the
  rest of the old reply is still the old document;
- SIGTERM: exit 0.
"""

import gzip
import os
import random
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the (maybe read-only) source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WAIT = 40.0
ITEMS = 60
SENDFILE_MIN = 64 * 1024


def make_feed(directory):
    """An RSS 2.0 feed whose items carry seeded random words."""
    rng = random.Random(9)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
             for _ in range(5000)]
    items = []
    for i in range(ITEMS):
        title = "Report %d on %s %s" % (i, rng.choice(vocab), rng.choice(vocab))
        words = " ".join(rng.choice(vocab) for _ in range(450))
        items.append(
            "<item><title>%s</title><link>http://example.org/big/%d</link>"
            "<guid>http://example.org/big/%d</guid>"
            "<pubDate>Mon, 02 Jun 2025 %02d:%02d:00 +0000</pubDate>"
            "<description>&lt;p&gt;%s&lt;/p&gt;</description></item>"
            % (title, i, i, i // 60, i % 60, words))
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            "<title>Big</title><link>http://example.org/</link><description>d</description>"
            + "".join(items) + "</channel></rss>\n")
    with open(os.path.join(directory, "big.xml"), "w", encoding="utf-8") as f:
        f.write(body)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_response(sock, buf, head_only=False):
    """One response from sock (buf: bytes already read). Returns (status
    line, headers dict, body, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            lib.fail("connection closed before a complete header block (have %r)" % buf[:200])
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            lib.fail("connection closed %d bytes into a %d-byte body" % (len(buf), n))
        buf += chunk
    return lines[0], headers, buf[:n], buf[n:]


def connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def request(path, method="GET", gz=False):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
            % (method, path, "Accept-Encoding: gzip\r\n" if gz else "")).encode()


def wait_settled(daemon, base):
    deadline = time.monotonic() + WAIT
    last, body, since = "no answer yet", None, 0.0
    while True:
        if not daemon.alive():
            lib.fail("feedmux exited with %d\n%s" % (daemon.proc.returncode, daemon.output()))
        try:
            r = lib.fetch(base + "/feed.atom")
        except OSError as e:
            r, last = None, "no HTTP answer: %s" % e
        if r is not None and r.status == 200:
            n = len(lib.feedparser.parse(r.body).entries)
            last = "HTTP 200, %d bytes, %d entries" % (len(r.body), n)
            if n >= ITEMS:
                if body != r.body:
                    body, since = r.body, time.monotonic()
                elif time.monotonic() - since >= 1.0:
                    return
        if time.monotonic() > deadline:
            lib.fail("GET /feed.atom did not settle with %d entries within %d s (last: %s)\n%s"
                     % (ITEMS, WAIT, last, daemon.output()))
        time.sleep(0.25)


def main():
    root = lib.make_tempdir("sendfile-root")
    make_feed(root)
    server = lib.FixtureServer(root=root)
    work = lib.make_tempdir("sendfile")
    port = lib.free_port()
    # A short interval: first polls are spread over a tenth of it.
    conf = lib.write_config(work, [("big", server.url("big.xml"))], _port=port, stories="no",
                            interval="30s", min_interval="10s")
    daemon = lib.Daemon(["-c", conf], work)
    base = "http://127.0.0.1:%d" % port
    wait_settled(daemon, base)

    public = os.path.join(work, "public")
    plain = read_bytes(os.path.join(public, "feed.atom"))
    packed = read_bytes(os.path.join(public, "feed.atom.gz"))
    if len(plain) < SENDFILE_MIN or len(packed) < SENDFILE_MIN:
        lib.fail("feed.atom is %d bytes and its gzip %d: both must be at least %d for this test"
                 % (len(plain), len(packed), SENDFILE_MIN))
    lib.check(gzip.decompress(packed) == plain, "output_dir: feed.atom.gz does not gunzip to feed.atom")

    # Plain and gzip GETs.
    r = lib.fetch(base + "/feed.atom")
    lib.check(r.body == plain, "GET /feed.atom: %d bytes differ from output_dir/feed.atom (%d bytes)"
              % (len(r.body), len(plain)))
    lib.check(r.headers.get("Content-Length") == str(len(plain)),
              "GET /feed.atom: Content-Length %r, body %d" % (r.headers.get("Content-Length"), len(plain)))
    r = lib.fetch(base + "/feed.atom", headers={"Accept-Encoding": "gzip"})
    lib.check(r.headers.get("Content-Encoding") == "gzip", "GET /feed.atom with gzip: no Content-Encoding gzip")
    lib.check(r.body == packed, "GET /feed.atom with gzip: %d bytes differ from feed.atom.gz (%d bytes)"
              % (len(r.body), len(packed)))

    # HEAD, then another request on the same connection.
    for gz, want in ((False, plain), (True, packed)):
        s = connect(port)
        s.sendall(request("/feed.atom", "HEAD", gz) + request("/healthz"))
        status, headers, _, rest = read_response(s, b"", head_only=True)
        lib.check(status.startswith("HTTP/1.1 200"), "HEAD /feed.atom (gzip %s): %s" % (gz, status))
        lib.check(headers.get("content-length") == str(len(want)),
                  "HEAD /feed.atom (gzip %s): Content-Length %r, want %d"
                  % (gz, headers.get("content-length"), len(want)))
        status, _, body, _ = read_response(s, rest)
        lib.check(status.startswith("HTTP/1.1 200") and body == b"ok\n",
                  "HEAD /feed.atom (gzip %s) carried a body: the next response began %r"
                  % (gz, (status.encode() + body)[:60]))
        s.close()

    # Pipelined GETs on one connection.
    s = connect(port)
    s.sendall(b"".join(request("/feed.atom", gz=(i % 2 == 1)) for i in range(20)))
    rest = b""
    for i in range(20):
        status, _, body, rest = read_response(s, rest)
        want = packed if i % 2 else plain
        lib.check(status.startswith("HTTP/1.1 200") and body == want,
                  "pipelined GET %d (gzip %s): %s, %d bytes, want %d bytes of the document"
                  % (i + 1, i % 2 == 1, status, len(body), len(want)))
    s.close()

    # Clients at once.
    bad = []

    def client(n):
        for k in range(10):
            try:
                got = lib.fetch(base + "/feed.atom", timeout=10).body
            except OSError as e:
                bad.append("client %d, fetch %d: %s" % (n, k + 1, e))
                return
            if got != plain:
                bad.append("client %d, fetch %d: %d bytes, not feed.atom" % (n, k + 1, len(got)))
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    lib.check(not bad, "concurrent GETs: " + "; ".join(bad[:5]))

    # A reply in flight while its document is replaced.
    slow = connect(port, rcvbuf=4096)
    slow.sendall(request("/feed.atom"))
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = slow.recv(512)
        if not chunk:
            lib.fail("slow client: connection closed before the headers")
        buf += chunk
    with open(conf, encoding="utf-8") as f:
        text = f.read()
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text.replace("title = feedmux e2e", "title = feedmux e2e renamed"))
    daemon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + WAIT
    while True:
        new = read_bytes(os.path.join(public, "feed.atom"))
        if b"feedmux e2e renamed" in new:
            r = lib.fetch(base + "/feed.atom")
            if r.body == new:
                break
        if time.monotonic() > deadline:
            lib.fail("after SIGHUP with a new title, /feed.atom was not re-rendered within %d s\n%s"
                     % (WAIT, daemon.output()))
        time.sleep(0.2)
    _, headers, body, _ = read_response(slow, buf)
    slow.close()
    lib.check(body == plain, "the reply in flight during the re-render: %d bytes, not the old document "
              "(%d bytes)" % (len(body), len(plain)))

    rc = daemon.stop(signal.SIGTERM, timeout=15)
    lib.check(rc == 0, "feedmux exited with %r after SIGTERM, want 0\n%s" % (rc, daemon.output()))


if __name__ == "__main__":
    lib.run_test(main)
