"""Faults in the machine (issue 10, item 3): feedmux keeps going.

Every fault runs against its own feedmux daemon (feedmux -c CONF, listening
on a free port of 127.0.0.1) and its own fixture server, with interval 2s,
min_interval 1s and max_interval 4s. Each daemon first publishes its
fixture feeds (the /status lines "ok", /feed.atom and output_dir holding
the items). Then the fault is injected, a served feed file is rewritten so
that the next poll brings new items, and the test asserts, where the fault
allows it:

  (a) a log line naming what failed (the path, or the feed and the reason);
  (b) /status (feed health "failing" with the error) or /metrics
      (feedmux_render_failures_total, feedmux_feeds_failing) showing it;
  (c) the previous /feed.atom still served: 200, valid Atom (xmllint with
      the RFC 4287 schema, feedparser), at least the items published before;
  (d) no corrupted or half-written file in output_dir: every visible file
      is valid Atom, JSON Feed or OPML (the .gz twins too, once inflated);
      only dot-files may be temporary, and none is left over at the end,
      when feed.atom, its .gz twin and the served /feed.atom are the same
      bytes;
  (e) recovery by itself when the fault clears: the items brought during
      the fault reach /feed.atom and output_dir without a restart.

The faults and how they are made (the daemon runs as root, like the test):

  output-full   output_dir is a 256 KiB tmpfs (mount -t tmpfs), filled with
                a dot-file until write() fails with ENOSPC; cleared by
                deleting it. After clearing, output_dir must catch up by
                itself with what /feed.atom already serves (no further
                change of the feeds), then follow a further change.
  state-full    the state database lives on a 4 MiB tmpfs that is filled
                the same way: the poll bringing new items cannot store them
                ("could not save items to the state database", SQLite's
                "database or disk is full"); the feed's health says so; the
                items are stored and published once space is freed. The
                database passes PRAGMA integrity_check afterwards.
  output-ro     output_dir is a tmpfs remounted read-only (mount -o
                remount,ro): root ignores chmod 555, a read-only mount
                stops root too (EROFS), as a file system remounted
                read-only after errors would. Cleared by remounting rw.
  state-locked  another process (python3 sqlite3) holds BEGIN EXCLUSIVE on
                the state database for 16 s, longer than busy_timeout
                (5 s): a poll fails to store ("could not save items",
                "database is locked") and its feed's health says so;
                /feed.atom is still served, and served promptly (under
                3 s), and no other feed is reported failing by a transfer
                timeout: waiting for the lock must not stall the HTTP side
                or the transfers. The items are stored once the lock goes.
  output-gone   output_dir is removed (rm -rf) while feedmux runs: the next
                rendering recreates it with every output file.
  dns           a feed on http://no-such-host.invalid:PORT/: the per-feed
                error "Could not resolve host", other feeds fine. Where a
                private mount namespace is possible (unshare -m) feedmux
                sees a bind-mounted /etc/hosts, and the name is added to
                it later: the feed recovers by itself.
  tls-self, tls-expired
                HTTPS feeds from the fixture (--tls-cert) with certificates
                made at test time by openssl in the temp dir: one
                self-signed, one signed by a test CA with validity 2020-01-01
                to 2020-02-01 (openssl ca -startdate/-enddate). In the mount
                namespace feedmux trusts only the test CA (bind-mounted over
                /etc/ssl/certs/ca-certificates.crt), so the errors are the
                precise "SSL certificate problem: self-signed certificate" and
                "... certificate has expired", and a third HTTPS feed with a
                valid certificate of that CA is the control that works.
                Never silently accepted: none of their items is published.
                Then both servers get a valid certificate (renamed over the
                PEM file) and the feeds recover by themselves. Without the
                namespace: "SSL certificate problem" only, no recovery step.
  clock         libfaketime (Debian: faketime) preloaded with
                FAKETIME_TIMESTAMP_FILE and FAKETIME_NO_CACHE=1 and
                FAKETIME_DONT_FAKE_MONOTONIC=1: the daemon's wall clock
                jumps +1 day, then to -1 day, while it runs. Its log stamps
                show that it saw the jumps; the fixture's request log (real
                time) shows every feed polled every 2 s (+-0.6 s), with no
                burst and no stall, and items brought in each phase are
                published.

A fault that cannot be made here (not root, no mount, no libfaketime) is
skipped with the reason; the test is skipped (77) only if all are. Each
fault's checks are reported one per line ("ok" or "FAIL"); the test fails
if any check failed. Run alone with
  FEEDMUX=src/feedmux TESTS_SRCDIR=$PWD/tests TESTS_BUILDDIR=$PWD/tests \\
      python3 tests/e2e/faults.py [FAULT ...]
"""

import errno
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

INTERVAL = 2.0
FAKETIME_LIBS = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1",
                 "/usr/local/lib/faketime/libfaketime.so.1"]
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
BAD_HOST = "no-such-host.invalid"
DAY = 86400

RESULTS = []  # (fault, "pass" | "fail" | "skip", detail)


class Skip(Exception):
    """The fault cannot be made on this machine."""


class Abort(Exception):
    """A check the rest of the fault depends on failed."""


# ---- checks -----------------------------------------------------------------

class Case:
    """One fault's checks: each is reported; a failure does not stop the
    fault unless it is required for what follows."""

    def __init__(self, name):
        self.name = name
        self.failures = []

    def check(self, cond, what, detail=""):
        if cond:
            lib.note("%s: ok   %s" % (self.name, what))
        else:
            self.failures.append(what)
            lib.note("%s: FAIL %s%s" % (self.name, what, ("\n    " + detail.replace("\n", "\n    ")) if detail else ""))
        return bool(cond)

    def require(self, cond, what, detail=""):
        if not self.check(cond, what, detail):
            raise Abort(what)

    def info(self, msg):
        lib.note("%s: note %s" % (self.name, msg))


def wait_for(fn, timeout, step=0.2):
    """fn() until it returns something true, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def xmllint_atom(path):
    """None when path is valid Atom (RFC 4287 schema), else xmllint's words."""
    try:
        p = subprocess.run([lib.XMLLINT, "--noout", "--relaxng", lib.ATOM_RNG, path],
                           capture_output=True, text=True, errors="replace", timeout=60)
    except FileNotFoundError:
        lib.fail("%s not found (set XMLLINT or install libxml2-utils)" % lib.XMLLINT)
    return None if p.returncode == 0 else (p.stdout + p.stderr).strip()


def atom_problem(data, scratch):
    """None when data (bytes) is a valid Atom feed, else why not."""
    with open(scratch, "wb") as f:
        f.write(data)
    why = xmllint_atom(scratch)
    if why:
        return "xmllint: " + why[-600:]
    d = lib.feedparser.parse(data)
    if d.bozo or d.get("version") != "atom10":
        return "feedparser: bozo=%r version=%r" % (d.get("bozo_exception"), d.get("version"))
    return None


def titles_of(data):
    return [e.get("title", "") for e in lib.feedparser.parse(data).entries]


def check_document(path, data, scratch):
    """None when data is a valid document for the file name path."""
    name = os.path.basename(path)
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError) as e:
            return "not gzip: %s" % e
        name = name[:-3]
    if name.endswith(".atom"):
        return atom_problem(data, scratch)
    if name.endswith(".json"):
        try:
            j = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return "not JSON: %s" % e
        if not (isinstance(j, dict) and j.get("version") == "https://jsonfeed.org/version/1.1"
                and isinstance(j.get("items"), list)):
            return "not a JSON Feed 1.1 document"
        return None
    if name.endswith(".opml"):
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            return "not XML: %s" % e
        return None if root.tag == "opml" else "root element %s, not opml" % root.tag
    return "unexpected file"


OUTPUT_FILES = ["feed.atom", "feed.atom.gz", "feed.json", "feed.json.gz", "feeds.opml", "feeds.opml.gz"]


def output_problems(out, scratch, allow=(".filler",)):
    """Every visible file under out must be a valid document; dot-files are
    listed as temporaries (except the test's own in allow). Returns
    (problems, temporaries)."""
    problems, temps = [], []
    if not os.path.isdir(out):
        return problems, temps
    for dirpath, _, files in os.walk(out):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, out)
            if f.startswith("."):
                if f not in allow:
                    temps.append(rel)
                continue
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                problems.append("%s: %s" % (rel, e))
                continue
            why = check_document(p, data, scratch)
            if why:
                problems.append("%s: %s" % (rel, why))
    return problems, temps


# ---- machinery: tmpfs, fill -------------------------------------------------

def mount_tmpfs(path, size):
    """Mount a tmpfs of size on path, unmounted at exit; raise Skip if the
    machine does not allow it."""
    if os.geteuid() != 0:
        raise Skip("not root: cannot mount a small tmpfs (mount -t tmpfs needs CAP_SYS_ADMIN)")
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", path],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise Skip("mount -t tmpfs is not permitted here: %s" % (p.stderr.strip() or p.returncode))
    lib._cleanups.append(lambda: umount(path))
    return path


def umount(path):
    if os.path.ismount(path):
        if subprocess.run(["umount", path], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)


def remount(path, mode):
    p = subprocess.run(["mount", "-o", "remount,%s" % mode, path], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise Abort("mount -o remount,%s %s: %s" % (mode, path, p.stderr.strip()))


def fill(directory):
    """Fill the file system of directory with the dot-file .filler until
    ENOSPC; returns its path and size."""
    path = os.path.join(directory, ".filler")
    size = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 16, 4096, 512, 1):
            block = b"\0" * chunk
            for _ in range(1 << 16):  # bounded: at most 4 GiB at the largest chunk
                try:
                    n = f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
                size += n or 0
                if not n:
                    break
    return path, size


def statvfs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


# ---- feeds ------------------------------------------------------------------

def item_title(feed, n):
    return "%s item %d" % (feed, n)


def rss(feed, count):
    items = []
    for n in range(count, 0, -1):
        items.append(
            "<item><title>%s</title><link>https://faults.feedmux.invalid/%s/%d</link>"
            "<guid isPermaLink=\"false\">tag:faults.feedmux.invalid,2025:%s/%d</guid>"
            "<pubDate>%s</pubDate><description>Item %d of the %s feed, made by tests/e2e/faults.py."
            "</description></item>"
            % (item_title(feed, n), feed, n, feed, n,
               time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1748736000 + 3600 * n)), n, feed))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            "<title>%s</title><link>https://faults.feedmux.invalid/%s/</link>"
            "<description>feedmux faults test feed</description>\n%s\n</channel></rss>\n"
            % (feed, feed, "\n".join(items)))


# ---- a scenario: fixture + daemon -------------------------------------------

class Daemon(lib.Daemon):
    """lib.Daemon with a command prefix (unshare) and extra environment."""

    def __init__(self, args, directory, prefix=(), env=None):
        self.cmd = list(prefix) + [lib.feedmux_binary()] + list(args)
        self.out_path = os.path.join(directory, "feedmux.stdout")
        self.err_path = os.path.join(directory, "feedmux.stderr")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        e = lib.child_env()
        e.update(env or {})
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, env=e)
        lib._cleanups.append(self.kill)


class TLSFixture(lib.FixtureServer):
    """The fixture server speaking HTTPS with the certificate in pem."""

    def __init__(self, root, pem, lifetime=100):
        self.dir = lib.make_tempdir("tlsfixture")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.stderr_path = os.path.join(self.dir, "server.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.host = "127.0.0.1"
        self.proc = subprocess.Popen(
            [sys.executable, lib.FIXTURE_SERVER, "--root", root, "--port-file", self.port_file,
             "--log", self.log, "--lifetime", str(lifetime), "--tls-cert", pem],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr, env=lib.child_env())
        lib._cleanups.append(self.stop)
        if not wait_for(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None, 15, 0.05) \
                or not os.path.exists(self.port_file):
            lib.fail("TLS fixture server did not start:\n%s" % lib.read_text(self.stderr_path))
        self.port = int(lib.read_text(self.port_file).strip())
        self.base = "https://127.0.0.1:%d" % self.port

    def requests(self):
        time.sleep(0.3)
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


class Scenario:
    """A feedmux daemon polling feeds of one fixture server (plus extra
    feeds by URL), with its output_dir and state where the fault wants."""

    def __init__(self, case, d, feeds=("alpha", "beta"), out=None, state=None, extra=(), prefix=(),
                 env=None, initial=3, server=None, root=None):
        """feeds are served by a new fixture server (or server, serving
        root); extra: more (name, url) feeds whose files are also in root
        (their item counts in self.counts are the caller's)."""
        self.case = case
        self.d = d
        self.root = root or os.path.join(d, "feeds")
        os.makedirs(self.root, exist_ok=True)
        self.counts = {}
        for f in feeds:
            self.set_items(f, initial)
        self.server = server or lib.FixtureServer(root=self.root, lifetime=100)
        self.port = lib.free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.out = out or os.path.join(d, "public")
        self.state = state or os.path.join(d, "state.db")
        self.feeds = [(f, self.server.url(f + ".rss")) for f in feeds] + list(extra)
        self.conf = lib.write_config(d, self.feeds, _port=self.port, interval="2s", min_interval="1s",
                                     max_interval="4s", output_dir=self.out, state=self.state, timeout="5s",
                                     connect_timeout="3s", stories="no")
        self.scratch = os.path.join(d, "scratch.atom")
        self.daemon = Daemon(["-c", self.conf], d, prefix=prefix, env=env)

    # -- the feeds
    def set_items(self, feed, count):
        """Serve feed with items 1..count (written atomically)."""
        self.counts[feed] = count
        tmp = os.path.join(self.root, ".%s.rss.tmp" % feed)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(rss(feed, count))
        os.replace(tmp, os.path.join(self.root, feed + ".rss"))

    def add_items(self, feed, k):
        self.set_items(feed, self.counts[feed] + k)
        return [item_title(feed, n) for n in range(self.counts[feed] - k + 1, self.counts[feed] + 1)]

    def all_titles(self, feeds=None):
        return {item_title(f, n) for f, c in self.counts.items() if feeds is None or f in feeds
                for n in range(1, c + 1)}

    # -- the daemon
    def log_offset(self):
        return len(lib.read_text(self.daemon.err_path))

    def log_since(self, offset):
        return lib.read_text(self.daemon.err_path)[offset:]

    def wait_log(self, offset, pattern, timeout):
        """The first log line after offset matching the regex, or None."""
        rx = re.compile(pattern)

        def find():
            for line in self.log_since(offset).splitlines():
                if rx.search(line):
                    return line
            return None
        return wait_for(find, timeout)

    def alive(self):
        if not self.daemon.alive():
            raise Abort("feedmux exited (status %s):\n%s" % (self.daemon.proc.returncode, self.tail()))
        return True

    def tail(self, n=40):
        return "\n".join(lib.read_text(self.daemon.err_path).splitlines()[-n:])

    def get(self, path, timeout=15):
        try:
            return lib.fetch(self.base + path, timeout=timeout)
        except OSError:
            return None

    def status(self, timeout=15):
        """{feed: (state, message, fields)} from GET /status, or None."""
        r = self.get("/status", timeout)
        if r is None or r.status != 200:
            return None
        out = {}
        for line in r.body.decode("utf-8", "replace").splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 10:
                fields = dict(c.split("=", 1) for c in cols[2:9] if "=" in c)
                out[cols[0]] = (cols[1], cols[9], fields)
        return out

    def metrics(self, timeout=15):
        r = self.get("/metrics", timeout)
        if r is None or r.status != 200:
            return None
        m = {}
        for line in r.body.decode("utf-8", "replace").splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    m[k] = float(v)
                except ValueError:
                    pass
        return m

    def served_titles(self):
        r = self.get("/feed.atom")
        return set(titles_of(r.body)) if r is not None and r.status == 200 else set()

    def disk_titles(self):
        try:
            with open(os.path.join(self.out, "feed.atom"), "rb") as f:
                return set(titles_of(f.read()))
        except OSError:
            return set()

    def wait_published(self, titles, timeout, where=("served", "disk")):
        titles = set(titles)

        def done():
            self.alive()
            return (("served" not in where or titles <= self.served_titles()) and
                    ("disk" not in where or titles <= self.disk_titles()))
        return wait_for(done, timeout, 0.3)

    def start(self, ok_feeds=None, timeout=20):
        """Wait for the first publication of every fixture feed."""
        ok_feeds = ok_feeds or list(self.counts)

        def ready():
            self.alive()
            st = self.status(5) or {}
            return all(st.get(f, ("",))[0] == "ok" for f in ok_feeds)
        self.case.require(wait_for(ready, timeout, 0.3),
                          "feedmux polled %s within %d s" % (", ".join(ok_feeds), timeout), self.tail())
        want = self.all_titles(ok_feeds)
        self.case.require(self.wait_published(want, 10),
                          "the first items are published (/feed.atom and output_dir/feed.atom)",
                          "served: %s\ndisk: %s" % (sorted(self.served_titles()), sorted(self.disk_titles())))
        self.case.require(wait_for(lambda: all(os.path.exists(os.path.join(self.out, f)) for f in OUTPUT_FILES), 5),
                          "output_dir holds %s" % " ".join(OUTPUT_FILES))

    # -- (c) and (d)
    def check_served(self, must_hold, what="the previous /feed.atom is still served (200, valid Atom)"):
        t0 = time.monotonic()
        r = self.get("/feed.atom", timeout=20)
        took = time.monotonic() - t0
        if r is None or r.status != 200:
            self.case.check(False, what, "GET /feed.atom: %s after %.1f s" % (r and r.status, took))
            return None
        why = atom_problem(r.body, self.scratch)
        got = set(titles_of(r.body))
        missing = sorted(set(must_hold) - got)
        self.case.check(why is None and not missing, what + ", with the %d items published before" % len(must_hold),
                        (why or "") + ("\nmissing: %s" % missing if missing else ""))
        return got

    def check_output(self, when, final=False):
        problems, temps = output_problems(self.out, self.scratch)
        self.case.check(not problems, "%s: every visible file in output_dir is a valid document" % when,
                        "\n".join(problems))
        if not final:
            return
        self.case.check(not temps, "%s: no temporary file left in output_dir" % when, " ".join(temps))

        def same():
            r = self.get("/feed.atom")
            try:
                with open(os.path.join(self.out, "feed.atom"), "rb") as f:
                    disk = f.read()
                with open(os.path.join(self.out, "feed.atom.gz"), "rb") as f:
                    gz = gzip.decompress(f.read())
            except (OSError, EOFError):
                return False
            return r is not None and r.status == 200 and r.body == disk == gz
        self.case.check(wait_for(same, 6, 0.5),
                        "%s: output_dir/feed.atom, its .gz twin and the served /feed.atom are the same bytes" % when)

    def stop(self):
        if self.daemon.alive():
            rc = self.daemon.stop()
            self.case.check(rc == 0, "feedmux exits 0 on SIGTERM", "exit status %s\n%s" % (rc, self.tail()))
        self.daemon.kill()
        self.server.stop()


# ---- the faults -------------------------------------------------------------

def fault_output_full(case):
    d = lib.make_tempdir("output-full")
    out = mount_tmpfs(os.path.join(d, "public"), "256k")
    sc = Scenario(case, d, out=out)
    try:
        sc.start()
        before = sc.all_titles()
        m0 = sc.metrics() or {}
        filler, size = fill(out)
        case.info("filled output_dir with %d bytes; %d bytes free" % (size, statvfs_free(out)))
        off = sc.log_offset()
        new = sc.add_items("alpha", 2)
        line = sc.wait_log(off, r"publish: cannot \w+ %s/\.feed\.(atom|json)(\.gz)?\.tmp: No space left on device"
                           % re.escape(out), 12)
        case.check(line, "(a) a log line names the output file and ENOSPC", sc.tail())
        sc.wait_published(new, 5, where=("served",))
        time.sleep(1.0)
        m1 = sc.metrics() or {}
        st = sc.status() or {}
        key = "feedmux_output_write_failures_total"
        status_text = sc.get("/status").body.decode(errors="replace")
        shown = m1.get(key, 0) > m0.get(key, 0) and "output_dir not up to date: " in status_text
        case.check(shown, "(b) /metrics %s counts the failed write and /status says output_dir is not up to date" % key,
                   "%s %s -> %s; /status:\n%s" % (key, m0.get(key), m1.get(key), status_text))
        sc.check_served(before)
        sc.check_output("(d) while the disk is full")
        disk = sc.disk_titles()
        case.check(before <= disk, "(d) output_dir/feed.atom is still the previous, complete version",
                   "holds %s" % sorted(disk))
        os.unlink(filler)
        everything = sc.all_titles()
        case.check(sc.wait_published(everything, 8, where=("disk",)),
                   "(e) space freed: output_dir catches up with what /feed.atom serves, with no further "
                   "change of the feeds (within 8 s)",
                   "served: %s\noutput_dir/feed.atom: %s" % (sorted(sc.served_titles()), sorted(sc.disk_titles())))
        more = sc.add_items("beta", 1)
        case.check(sc.wait_published(sc.all_titles(), 10),
                   "(e) after a further change, /feed.atom and output_dir hold every item (%s)" % ", ".join(new + more),
                   "served: %s\ndisk: %s" % (sorted(sc.served_titles()), sorted(sc.disk_titles())))
        sc.check_output("(d) after recovery", final=True)
    finally:
        sc.stop()
        umount(out)


def fault_output_ro(case):
    d = lib.make_tempdir("output-ro")
    out = mount_tmpfs(os.path.join(d, "public"), "1m")
    sc = Scenario(case, d, out=out)
    try:
        sc.start()
        before = sc.all_titles()
        m0 = sc.metrics() or {}
        remount(out, "ro")
        case.info("output_dir remounted read-only (root ignores chmod 555; a read-only mount stops root)")
        off = sc.log_offset()
        new = sc.add_items("alpha", 2)
        line = sc.wait_log(off, r"publish: cannot \w+ %s/\.feed\.(atom|json)(\.gz)?\.tmp: Read-only file system"
                           % re.escape(out), 12)
        case.check(line, "(a) a log line names the output file and EROFS", sc.tail())
        sc.wait_published(new, 5, where=("served",))
        time.sleep(1.0)
        m1 = sc.metrics() or {}
        st = sc.status() or {}
        key = "feedmux_output_write_failures_total"
        status_text = sc.get("/status").body.decode(errors="replace")
        shown = m1.get(key, 0) > m0.get(key, 0) and "output_dir not up to date: " in status_text
        case.check(shown, "(b) /metrics %s counts the failed write and /status says output_dir is not up to date" % key,
                   "%s %s -> %s; /status:\n%s" % (key, m0.get(key), m1.get(key), status_text))
        sc.check_served(before)
        sc.check_output("(d) while read-only")
        case.check(before <= sc.disk_titles(), "(d) output_dir/feed.atom is still the previous, complete version")
        remount(out, "rw")
        case.check(sc.wait_published(sc.all_titles(), 8, where=("disk",)),
                   "(e) remounted rw: output_dir catches up with what /feed.atom serves, with no further "
                   "change of the feeds (within 8 s)",
                   "served: %s\noutput_dir/feed.atom: %s" % (sorted(sc.served_titles()), sorted(sc.disk_titles())))
        more = sc.add_items("beta", 1)
        case.check(sc.wait_published(sc.all_titles(), 10),
                   "(e) after a further change, /feed.atom and output_dir hold every item (%s)" % ", ".join(new + more),
                   "served: %s\ndisk: %s" % (sorted(sc.served_titles()), sorted(sc.disk_titles())))
        sc.check_output("(d) after recovery", final=True)
    finally:
        if os.path.ismount(out):
            subprocess.run(["mount", "-o", "remount,rw", out], capture_output=True, timeout=30)
        sc.stop()
        umount(out)


def integrity(case, path):
    try:
        con = sqlite3.connect(path, timeout=10)
        try:
            res = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        res = [(str(e),)]
    case.check(res == [("ok",)], "the state database passes PRAGMA integrity_check afterwards", repr(res))


def status_says(sc, feed, pattern, timeout=4):
    rx = re.compile(pattern)

    def look():
        st = sc.status() or {}
        v = st.get(feed)
        return v if v and v[0] == "failing" and rx.search(v[1]) else None
    got = wait_for(look, timeout, 0.25)
    return got, (sc.status() or {}).get(feed)


def fault_state_full(case):
    d = lib.make_tempdir("state-full")
    statefs = mount_tmpfs(os.path.join(d, "statefs"), "4m")
    state = os.path.join(statefs, "state.db")
    sc = Scenario(case, d, state=state)
    try:
        sc.start()
        before = sc.all_titles()
        filler, size = fill(statefs)
        case.info("filled the state database's file system with %d bytes; %d bytes free"
                  % (size, statvfs_free(statefs)))
        off = sc.log_offset()
        new = sc.add_items("alpha", 2)
        line = sc.wait_log(off, r"feed alpha: could not save items to the state database", 12)
        case.check(line, "(a) log: \"feed alpha: could not save items to the state database\"", sc.tail())
        why = sc.wait_log(off, r"database or disk is full", 2)
        case.check(why, "(a) log: SQLite's reason \"database or disk is full\"", sc.log_since(off)[-2000:])
        got, now = status_says(sc, "alpha", r"could not save items")
        case.check(got, "(b) /status: feed alpha \"failing\" with \"could not save items to the state database\"",
                   "alpha's line: %r" % (now,))
        served = sc.check_served(before)
        case.check(served is not None and not (set(new) & served),
                   "(c) items that were not stored are not published", "served: %s" % sorted(served or ()))
        sc.check_output("(d) while the state's disk is full")
        case.check(sc.alive(), "feedmux keeps running")
        os.unlink(filler)
        case.check(sc.wait_published(sc.all_titles(), 12),
                   "(e) space freed: the items are stored and published (/feed.atom and output_dir)",
                   "served: %s\ndisk: %s\n%s" % (sorted(sc.served_titles()), sorted(sc.disk_titles()), sc.tail()))
        st = wait_for(lambda: (sc.status() or {}).get("alpha", ("",))[0] == "ok", 6)
        case.check(st, "(e) /status: alpha is \"ok\" again", repr((sc.status() or {}).get("alpha")))
        sc.check_output("(d) after recovery", final=True)
    finally:
        sc.stop()
        integrity(case, state)
        umount(statefs)


def fault_state_locked(case):
    d = lib.make_tempdir("state-locked")
    sc = Scenario(case, d)
    hold = 16.0
    con = None
    released = threading.Event()
    timer = None

    def release():
        if not released.is_set():
            con.rollback()
            con.close()
            released.set()
    try:
        sc.start()
        before = sc.all_titles()
        # The lock is taken here and released by a timer after exactly
        # hold seconds, however long the checks below wait for feedmux.
        con = sqlite3.connect(sc.state, timeout=10, isolation_level=None, check_same_thread=False)
        con.execute("BEGIN EXCLUSIVE")
        timer = threading.Timer(hold, release)
        timer.start()
        case.info("another process holds BEGIN EXCLUSIVE on the state database for %.0f s" % hold)
        off = sc.log_offset()
        new = sc.add_items("alpha", 2)

        # Probe /feed.atom throughout the lock: served, and promptly.
        lat = []

        def probe():
            while not released.is_set():  # asked while the lock is held
                t0 = time.monotonic()
                r = sc.get("/feed.atom", timeout=20)
                lat.append((time.monotonic() - t0, r.status if r else None,
                            set(titles_of(r.body)) if r and r.status == 200 else set(),
                            released.is_set()))
                released.wait(0.5)
        th = threading.Thread(target=probe, daemon=True)
        th.start()
        # Every feed's poll writes (its items, or at least its health): the
        # first to finish after the lock was taken fails to store.
        line = sc.wait_log(off, r"feed (alpha|beta): could not save items to the state database", hold - 1)
        case.check(line, "(a) log: \"feed NAME: could not save items to the state database\"", sc.tail())
        why = sc.wait_log(off, r"database is locked", 1)
        case.check(why, "(a) log: SQLite's reason \"database is locked\"", sc.log_since(off)[-2000:])
        feed = re.search(r"feed (\w+):", line).group(1) if line else "alpha"
        got, now = status_says(sc, feed, r"could not save items", timeout=2)
        case.check(got, "(b) /status: feed %s \"failing\" with \"could not save items to the state database\""
                   % feed, "%s's line: %r" % (feed, now))
        sc.check_served(before)
        sc.check_output("(d) while the database is locked")
        released.wait(hold + 5)
        th.join(25)
        worst = max(p[0] for p in lat) if lat else 0
        case.check(lat and all(s == 200 and before <= got for _, s, got, _ in lat),
                   "(c) every GET /feed.atom asked during the lock is 200 with the previous items (%d probes)"
                   % len(lat), repr([(round(t, 1), s, len(got)) for t, s, got, _ in lat]))
        leaked = sorted(set(new) & set().union(*[got for _, _, got, after in lat if not after])) if lat else []
        case.check(not leaked, "(c) items that were not stored are not published (answers before the release)",
                   "served: %s" % leaked)
        case.check(lat and worst < 3.0,
                   "(c) /feed.atom is served promptly during the lock (slowest %.1f s, limit 3 s)"
                   % worst, "latencies: %s" % ", ".join("%.1f" % p[0] for p in lat))
        case.check(sc.wait_published(sc.all_titles(), 15),
                   "(e) lock released: the items are stored and published (/feed.atom and output_dir)",
                   "served: %s\ndisk: %s\n%s" % (sorted(sc.served_titles()), sorted(sc.disk_titles()), sc.tail()))
        st = wait_for(lambda: all(v[0] == "ok" for v in (sc.status() or {"-": ("",)}).values()), 8)
        case.check(st, "(e) /status: every feed is \"ok\" again", repr(sc.status()))
        stray = [ln for ln in sc.log_since(off).splitlines() if re.search(r"feed \w+: .*(timed out|Timeout)", ln)]
        case.check(not stray, "(b) no feed is reported failing for another reason (the fixture answered at "
                   "once): waiting for the lock must not stall the transfers", "\n".join(stray))
        sc.check_output("(d) after recovery", final=True)
    finally:
        if timer is not None:
            timer.cancel()
        if con is not None:
            release()
        sc.stop()
        integrity(case, sc.state)


def fault_output_gone(case):
    d = lib.make_tempdir("output-gone")
    sc = Scenario(case, d)
    try:
        sc.start()
        before = sc.all_titles()
        off = sc.log_offset()
        shutil.rmtree(sc.out)
        case.info("rm -rf output_dir while feedmux runs")
        sc.check_served(before)
        new = sc.add_items("alpha", 2)
        case.check(sc.wait_published(sc.all_titles(), 10),
                   "(e) the next rendering recreates output_dir, and feed.atom holds the new items",
                   "served: %s\ndisk: %s\n%s" % (sorted(sc.served_titles()), sorted(sc.disk_titles()), sc.tail()))
        missing = [f for f in OUTPUT_FILES if not os.path.exists(os.path.join(sc.out, f))]
        if missing:
            time.sleep(3)
            missing = [f for f in OUTPUT_FILES if not os.path.exists(os.path.join(sc.out, f))]
        case.check(not missing, "(e) every output file is written again (%s)" % " ".join(OUTPUT_FILES),
                   "missing after the re-rendering: %s" % " ".join(missing))
        sc.check_output("(d) after recovery", final=True)
        logged = [ln for ln in sc.log_since(off).splitlines() if sc.out in ln]
        case.info("log lines naming output_dir after the removal: %s" % (logged or "none"))
        case.check(new and sc.alive(), "feedmux keeps running")
    finally:
        sc.stop()


# ---- network faults: DNS and TLS --------------------------------------------

CNF = """[ca]
default_ca = ca_default
[ca_default]
dir = %(dir)s
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[policy_any]
commonName = supplied
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = placeholder
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
"""


def openssl(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Skip("openssl %s failed: %s" % (args[0], p.stderr.strip()[-500:]))


def make_certs(d):
    """In d: ca.pem, and PEM files (certificate + key) self.pem (self-signed),
    expired.pem (test CA, valid 2020-01-01..2020-02-01) and good.pem, good2.pem,
    good3.pem (test CA, valid now). All for IP 127.0.0.1."""
    if shutil.which("openssl") is None:
        raise Skip("openssl is not installed (Debian: openssl)")
    os.makedirs(os.path.join(d, "newcerts"))
    with open(os.path.join(d, "index.txt"), "w"):
        pass
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "openssl.cnf"), "w") as f:
        f.write(CNF % {"dir": d})
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    cnf = ["-config", "openssl.cnf"]
    openssl(["req", "-x509"] + cnf + ["-extensions", "v3_ca"] + key +
            ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=feedmux faults test CA"], d)
    openssl(["req", "-x509"] + cnf + ["-extensions", "v3_leaf"] + key +
            ["-keyout", "self.key", "-out", "self.crt", "-days", "2", "-subj", "/CN=127.0.0.1"], d)
    for name, dates in (("expired", ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"]),
                        ("good", ["-days", "2"]), ("good2", ["-days", "2"]), ("good3", ["-days", "2"])):
        openssl(["req", "-new"] + cnf + key + ["-keyout", name + ".key", "-out", name + ".csr",
                                               "-subj", "/CN=127.0.0.1"], d)
        openssl(["ca", "-batch", "-notext"] + cnf + ["-extensions", "v3_leaf", "-cert", "ca.pem",
                                                     "-keyfile", "ca.key", "-in", name + ".csr",
                                                     "-out", name + ".crt"] + dates, d)
    for name in ("self", "expired", "good", "good2", "good3"):
        with open(os.path.join(d, name + ".pem"), "w") as out:
            for part in (".crt", ".key"):
                out.write(lib.read_text(os.path.join(d, name + part)))


def namespace_prefix(ca, hosts):
    """A command prefix running feedmux in a private mount namespace that
    trusts only ca and resolves names through hosts, or None (why)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return None, "not root or no unshare"
    if not os.path.isfile(SYSTEM_CA) or not os.path.isfile("/etc/hosts"):
        return None, "%s or /etc/hosts is not a file" % SYSTEM_CA
    script = ('set -e; mount --bind "$1" %s; mount --bind "$2" /etc/hosts; shift 2; exec "$@"' % SYSTEM_CA)
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ca, hosts]
    p = subprocess.run(prefix + ["true"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return None, "unshare -m with bind mounts failed: %s" % p.stderr.strip()
    return prefix, None


def fault_network(case):
    """dns, tls-self and tls-expired in one daemon."""
    d = lib.make_tempdir("network")
    certs = os.path.join(d, "certs")
    os.makedirs(certs)
    make_certs(certs)
    hosts = os.path.join(d, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")
    prefix, why = namespace_prefix(os.path.join(certs, "ca.pem"), hosts)
    ns = prefix is not None
    if ns:
        case.info("feedmux runs in a private mount namespace: it trusts only the test CA and reads a "
                  "test /etc/hosts")
    else:
        case.info("no private mount namespace (%s): expired-certificate and DNS recovery are checked "
                  "less precisely" % why)
    root = os.path.join(d, "feeds")
    os.makedirs(root)
    tls = {}
    for name, pem in (("tls-self", "self.pem"), ("tls-expired", "expired.pem"), ("tls-good", "good.pem")):
        if name == "tls-good" and not ns:
            continue
        live = os.path.join(certs, "live-" + pem)
        shutil.copy(os.path.join(certs, pem), live)
        tls[name] = (TLSFixture(root, live), live)
    # The plain fixture serves alpha, and the DNS feed's file under a name
    # that does not resolve.
    plain = lib.FixtureServer(root=root, lifetime=100)
    extra = [("dns", "http://%s:%d/dns.rss" % (BAD_HOST, plain.port))] + \
        [(name, srv.url(name + ".rss")) for name, (srv, _) in tls.items()]
    for name, _ in extra:
        with open(os.path.join(root, name + ".rss"), "w", encoding="utf-8") as f:
            f.write(rss(name, 2))
    sc = Scenario(case, d, feeds=("alpha",), extra=extra, prefix=prefix or (), initial=2, server=plain, root=root)
    sc.counts.update((name, 2) for name, _ in extra)
    try:
        good = ["alpha"] + (["tls-good"] if ns else [])
        sc.start(ok_feeds=good)
        bad = ["dns", "tls-self", "tls-expired"]
        failing = wait_for(lambda: all((sc.status() or {}).get(b, ("",))[0] == "failing" for b in bad), 10)
        st = sc.status() or {}
        case.check(failing, "(b) /status: dns, tls-self and tls-expired are \"failing\"",
                   "\n".join("%s: %r" % (b, st.get(b)) for b in bad))
        log = lib.read_text(sc.daemon.err_path)
        expect = {
            "dns": r"Could not resolve host: %s" % re.escape(BAD_HOST),
            "tls-self": r"SSL certificate problem: self[- ]signed certificate" if ns else r"SSL certificate problem",
            "tls-expired": r"SSL certificate problem: certificate has expired" if ns else r"SSL certificate problem",
        }
        for b in bad:
            case.check(re.search(r"feed %s: .*%s" % (re.escape(b), expect[b]), log),
                       "(a) log: feed %s: /%s/" % (b, expect[b]),
                       "\n".join(ln for ln in log.splitlines() if b in ln)[-1500:])
            msg = st.get(b, ("", ""))[1]
            case.check(re.search(expect[b], msg), "(b) /status: %s's error says /%s/" % (b, expect[b]), repr(msg))
        for name in ("tls-self", "tls-expired"):
            reqs = tls[name][0].requests()
            refused = [r for r in reqs if r.get("end") == "tls-failed"]
            served = [r for r in reqs if r.get("method")]
            case.check(refused and not served,
                       "%s: feedmux connected and refused the certificate in the handshake (%d refusals, "
                       "no request sent)" % (name, len(refused)), repr(reqs[-3:]))
        m = sc.metrics() or {}
        case.check(m.get("feedmux_feeds_failing") == 3, "(b) /metrics: feedmux_feeds_failing 3",
                   "feedmux_feeds_failing %s" % m.get("feedmux_feeds_failing"))
        served = sc.check_served(sc.all_titles(good), "(c) /feed.atom is served with the healthy feeds' items")
        leaked = sorted(t for t in (served or ()) if t.split(" item ")[0] in bad)
        case.check(served is not None and not leaked,
                   "(c) no item of dns, tls-self or tls-expired is published (never silently accepted)",
                   "published: %s" % leaked)
        case.check(not ({t for t in sc.disk_titles() if t.split(" item ")[0] in bad}),
                   "(d) nor written to output_dir")
        sc.check_output("(d) with failing feeds")
        if not ns:
            case.info("recovery of dns and TLS feeds not checked: it needs the mount namespace")
            return
        # The faults clear: the name resolves, both servers get valid certificates.
        off = sc.log_offset()
        with open(hosts, "a") as f:  # in place: the bind mount holds this inode
            f.write("127.0.0.1\t%s\n" % BAD_HOST)
        for name, pem in (("tls-self", "good2.pem"), ("tls-expired", "good3.pem")):
            live = tls[name][1]
            shutil.copy(os.path.join(certs, pem), live + ".new")
            os.replace(live + ".new", live)
        case.check(sc.wait_published(sc.all_titles(), 15),
                   "(e) the name resolves and the certificates are valid: the three feeds' items are "
                   "published (/feed.atom and output_dir)",
                   "served: %s\ndisk: %s\n%s" % (sorted(sc.served_titles()), sorted(sc.disk_titles()), sc.tail()))
        ok = wait_for(lambda: all((sc.status() or {}).get(b, ("",))[0] == "ok" for b in bad), 6)
        case.check(ok, "(e) /status: dns, tls-self and tls-expired are \"ok\" again", repr(sc.status()))
        for b in bad:
            case.check(sc.wait_log(off, r"feed %s: recovered after \d+ failure" % re.escape(b), 1),
                       "(e) log: feed %s: recovered after N failure(s)" % b)
        sc.check_output("(d) after recovery", final=True)
    finally:
        sc.stop()
        for srv, _ in tls.values():
            srv.stop()


# ---- the wall clock ---------------------------------------------------------

def log_stamp(line):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ", line)
    return lib.epoch(m.group(1)) if m else None


def fault_clock(case):
    lib_ft = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)
    if lib_ft is None:
        raise Skip("libfaketime is not installed (Debian: faketime)")
    d = lib.make_tempdir("clock")
    stamp = os.path.join(d, "faketime")
    with open(stamp, "w") as f:
        f.write("+0\n")
    env = {"LD_PRELOAD": lib_ft, "FAKETIME_TIMESTAMP_FILE": stamp, "FAKETIME_NO_CACHE": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DONT_FAKE_MONOTONIC": "1",
           # Under AddressSanitizer, a preloaded library comes before ASan's
           # runtime; ASan refuses that unless told it is deliberate.
           "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")}
    sc = Scenario(case, d, env=env)
    phase = 7.0
    try:
        sc.start()
        t_start = time.time()
        for name, offset in (("+1 day", "+1d"), ("-1 day", "-1d")):
            time.sleep(phase / 2)
            tmp = stamp + ".new"
            with open(tmp, "w") as f:
                f.write(offset + "\n")
            os.replace(tmp, stamp)
            real = time.time()
            off = sc.log_offset()
            sc.add_items("alpha", 1)
            line = sc.wait_log(off, r"feed alpha: \d+ new or updated item", phase)
            skew = log_stamp(line) - real if line else None
            want = DAY if offset == "+1d" else -DAY
            case.check(skew is not None and abs(skew - want) < 120,
                       "the daemon's wall clock is at %s (its log line for the new item is stamped %s)"
                       % (name, "%+.0f s off real time" % skew if skew is not None else "-"), sc.tail())
            case.check(sc.wait_published(sc.all_titles(), phase),
                       "items brought at %s are published (/feed.atom and output_dir)" % name,
                       "served: %s\ndisk: %s" % (sorted(sc.served_titles()), sorted(sc.disk_titles())))
            st = sc.status() or {}
            nxt = st.get("alpha", ("", "", {}))[2].get("next", "-")
            try:
                ahead = lib.epoch(nxt) - (time.time() + (DAY if offset == "+1d" else -DAY))
            except ValueError:
                ahead = None
            case.check(ahead is not None and -2 <= ahead <= 5,
                       "/status next= for alpha is one interval ahead of the daemon's clock at %s" % name,
                       "next=%s (%s s from the faked now)" % (nxt, ahead))
            time.sleep(max(0.0, phase / 2 - 1))
        t_end = time.time()
        reqs = sc.server.requests()
        for feed in sc.counts:
            times = sorted(r["time"] for r in reqs
                           if r.get("path") == "/%s.rss" % feed and t_start - 3 <= r["time"] <= t_end)
            gaps = [b - a for a, b in zip(times, times[1:])]
            n_expected = (t_end - t_start) / INTERVAL
            edges = [times[0] - t_start, t_end - times[-1]] if times else [t_end - t_start]
            case.check(len(gaps) >= 4 and all(INTERVAL - 0.6 <= g <= INTERVAL + 0.6 for g in gaps)
                       and len(times) >= n_expected - 2 and max(edges) <= INTERVAL + 0.6,
                       "%s polled every %.0f s +-0.6 across both jumps: %d polls in %.0f s, no burst, no stall"
                       % (feed, INTERVAL, len(times), t_end - t_start),
                       "gaps: %s; first poll %.1f s after the start, last %.1f s before the end"
                       % (", ".join("%.2f" % g for g in gaps), edges[0], edges[-1]))
        sc.check_served(sc.all_titles(), "(c) /feed.atom is served (200, valid Atom) with every item")
        sc.check_output("(d) after the jumps", final=True)
        future = [ln for ln in lib.read_text(sc.daemon.err_path).splitlines() if "dated in the future" in ln]
        case.info("log lines about items dated in the future: %d" % len(future))
    finally:
        sc.stop()


FAULTS = [
    ("output-full", fault_output_full),
    ("state-full", fault_state_full),
    ("output-ro", fault_output_ro),
    ("state-locked", fault_state_locked),
    ("output-gone", fault_output_gone),
    ("network", fault_network),
    ("clock", fault_clock),
]


def main():
    lib.feedmux_binary()
    wanted = sys.argv[1:]
    t0 = time.monotonic()
    for name, fn in FAULTS:
        if wanted and name not in wanted:
            continue
        case = Case(name)
        start = time.monotonic()
        lib.note("---- %s" % name)
        try:
            fn(case)
        except Skip as e:
            RESULTS.append((name, "skip", str(e)))
            lib.note("%s: SKIP %s" % (name, e))
            continue
        except Abort as e:
            case.failures.append("aborted: %s" % e)
        except SystemExit:
            raise
        except BaseException:
            case.failures.append("unexpected exception:\n" + traceback.format_exc())
            lib.note("%s: FAIL %s" % (name, case.failures[-1]))
        took = time.monotonic() - start
        if case.failures:
            RESULTS.append((name, "fail", "; ".join(case.failures)))
        else:
            RESULTS.append((name, "pass", ""))
        lib.note("%s: %s in %.1f s" % (name, "FAILED" if case.failures else "passed", took))
    lib.note("---- %.1f s in all" % (time.monotonic() - t0))
    for name, res, detail in RESULTS:
        lib.note("%-13s %s%s" % (name, res, (": " + detail) if detail else ""))
    failed = [r for r in RESULTS if r[1] == "fail"]
    if failed:
        lib.fail("%d fault(s) with failed checks: %s" % (len(failed), ", ".join(r[0] for r in failed)))
    if RESULTS and all(r[1] == "skip" for r in RESULTS):
        lib.skip("no fault could be made here: %s" % "; ".join("%s: %s" % (r[0], r[2]) for r in RESULTS))


lib.run_test(main)
