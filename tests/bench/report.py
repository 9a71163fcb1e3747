#!/usr/bin/python3
"""Turn a results TSV of tests/bench/run.sh into one table and issue 9's ratios.

    report.py RESULTS.tsv [-o REPORT.md]

Medians over the repetitions of each (tool, case, N); the report is Markdown,
printed and, with -o, written to a file. The cold and unchanged ratios are
also taken per repetition (rows paired by their rep column), and the median
of those decides their verdict. Python 3 standard library only.
"""

import argparse
import collections
import statistics
import sys

TARGETS = {
    "cold": 2.0,        # feedmux cold <= 2 x (curl floor + xmllint --stream)
    "unchanged": 2.0,   # feedmux unchanged <= 2 x conditional floor
    "rss_mb": 64.0,     # peak RSS at 10,000 feeds
    "serve": 0.70,      # /feed.atom >= 70 % of nginx's req/s
    "sfeed": 10.0,      # cold >= 10 x faster than sfeed_update
    "newsboat": 30.0,   # cold >= 30 x faster than newsboat
}

ORDER = [("curl", "plain"), ("curl", "gzip"), ("curl", "conditional"), ("xmllint", "stream"),
         ("feedmux", "cold"), ("feedmux", "unchanged"), ("feedmux", "changed"),
         ("sfeed_update", "cold"), ("sfeed_update", "unchanged"),
         ("newsboat", "cold"), ("newsboat", "unchanged"),
         ("feedmux-http", "plain"), ("nginx-file", "plain"),
         ("feedmux-http", "gzip"), ("nginx-file", "gzip")]


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def load(path):
    meta = collections.OrderedDict()
    corpus = {}
    rows = []
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("# corpus "):
                k, _, v = line[len("# corpus "):].partition("\t")
                corpus[int(k)] = v
                parts = v.split()
                corpus[(int(k), "bytes")] = int(parts[0])
                corpus[(int(k), "items")] = int(parts[2])
                continue
            if line.startswith("#"):
                k, _, v = line[1:].strip().partition("\t")
                meta[k] = v
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            rows.append(dict(zip(header, cols + [""] * (len(header) - len(cols)))))
    return meta, corpus, rows


class Group:
    def __init__(self, tool, case, n, rows):
        self.tool, self.case, self.n, self.rows = tool, case, n, rows
        ok = [r for r in rows if r["status"] == "ok"]
        self.runs = len(rows)
        self.ok = len(ok)
        self.unfinished = any(r["status"] == "unfinished" for r in rows)
        self.statuses = sorted(set(r["status"] for r in rows))
        use = ok or rows

        def med(key, fn=num):
            v = [fn(r[key]) for r in use if fn(r[key]) is not None]
            return statistics.median(v) if v else None

        self.wall = med("wall_s")
        cpus = [num(r["user_s"]) + (num(r["sys_s"]) or 0) for r in use if num(r["user_s"]) is not None]
        self.cpu = statistics.median(cpus) if cpus else None
        self.rss_kb = med("maxrss_kb")
        self.req = med("req_s")
        self.bytes = med("bytes")
        https = []
        for r in use:
            if r["http"] and r["http"] != "-" and r["http"] not in https:
                https.append(r["http"])
        self.http = " / ".join(https)
        self.note = use[0]["note"] if use else ""


def fmt_s(x):
    if x is None:
        return "–"
    return "%.2f" % x if x < 100 else "%.0f" % x


def fmt_mb(kb):
    return "–" if kb is None else "%.1f" % (kb / 1024.0)


def ratio_line(name, value, target, better, unit="×", lower_bound=False, verdict=None):
    """better: 'le' (value <= target passes) or 'ge'. A lower bound (the
    peer was killed) that is below a 'ge' target decides nothing. verdict,
    if given, replaces met/missed."""
    if value is None:
        return "| %s | – | %s %s%s | not measured |" % (name, "≤" if better == "le" else "≥", target, unit)
    ok = value <= target if better == "le" else value >= target
    if verdict is None:
        verdict = "met" if ok else ("undecided (lower bound)" if lower_bound else "**missed**")
    return "| %s | %s%.2f%s | %s %s%s | %s |" % (name, "≥ " if lower_bound else "", value, unit,
                                               "≤" if better == "le" else "≥", target, unit, verdict)


def per_rep(rows, n, numer, denom):
    """Ratios sum(walls of numer) / sum(walls of denom), lists of (tool, case),
    one per repetition of N = n in which each of them has exactly one row,
    exited ok, with a wall time. Returns (ratios, repetitions seen,
    interleaved): interleaved is False when, in the file's (time) order,
    the paired rows go back to an earlier repetition (run.sh before the
    floors and feedmux were interleaved ran each part's repetitions in turn)."""
    need = list(numer) + list(denom)
    at = collections.defaultdict(list)
    for i, r in enumerate(rows):
        if (r["tool"], r["case"]) in need and int(r["n"]) == n:
            at[(r["tool"], r["case"], r.get("rep", ""))].append((i, r))
    reps = sorted(set(k[2] for k in at), key=lambda x: (num(x) is None, num(x), x))
    ratios, used = [], []
    for rep in reps:
        walls, lines = {}, []
        for k in need:
            got = at.get((k[0], k[1], rep), [])
            if len(got) != 1 or got[0][1]["status"] != "ok" or not num(got[0][1]["wall_s"]):
                break
            walls[k] = num(got[0][1]["wall_s"])
            lines.append((got[0][0], num(rep)))
        else:
            d = sum(walls[k] for k in denom)
            if d > 0:
                ratios.append(sum(walls[k] for k in numer) / d)
                used.extend(lines)
    order = [x for _, x in sorted(used)]
    interleaved = all(a is not None and b is not None and a <= b for a, b in zip(order, order[1:]))
    return ratios, len(reps), interleaved


def per_rep_line(name, ratios, seen, interleaved, target):
    """The row for per_rep's ratios: their median (which decides) and range."""
    m = statistics.median(ratios)
    count = "%d repetition%s" % (len(ratios), "" if len(ratios) == 1 else "s")
    if len(ratios) < seen:
        count = "%d of %d repetitions" % (len(ratios), seen)
    spread = "%.2f–%.2f×, " % (min(ratios), max(ratios)) if len(ratios) > 1 else ""
    label = "%s, per repetition: median (%s%s%s)" % (
        name, spread, count, "" if interleaved else "; runs not interleaved")
    return ratio_line(label, m, target, "le")


def report(path):
    meta, corpus, rows = load(path)
    groups = collections.OrderedDict()
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["tool"], r["case"], int(r["n"]))].append(r)
    ns = sorted(set(k[2] for k in by))
    keys = []
    for n in ns:
        for tool, case in ORDER:
            if (tool, case, n) in by:
                keys.append((tool, case, n))
        for k in by:
            if k[2] == n and k not in keys:
                keys.append(k)
    for k in keys:
        groups[k] = Group(k[0], k[1], k[2], by[k])

    out = []
    w = out.append
    w("# feedmux benchmark")
    w("")
    w("%s · %s × %s · %s RAM · %s · %s" % (meta.get("date", "?"), meta.get("cpus", "?"), meta.get("cpu", "?"),
                                         meta.get("memory", "?"), meta.get("kernel", "?"), meta.get("os", "?")))
    w("")
    w("Versions: " + ", ".join("%s %s" % (k, meta[k]) for k in
                               ("feedmux", "nginx", "curl", "xmllint", "sfeed", "newsboat", "wrk") if k in meta))
    for n in ns:
        if n in corpus:
            w("")
            w("Corpus N = %d: %.1f MB, %d items (%s)." % (
                n, corpus[(n, "bytes")] / 1e6, corpus[(n, "items")], corpus[n].split(", ", 2)[-1]))
    if "duration" in meta:
        w("")
        w("The whole run took %s." % meta["duration"])
    w("")
    w("Medians of the repetitions (runs = repetitions, ok = exited 0). Wall and CPU "
      "(user+sys, children included) in seconds; peak RSS is the largest single process "
      "(GNU time's ru_maxrss). For the serving rows, CPU is the server's over the wrk run "
      "and RSS its peak. The cold and unchanged ratios are also taken per repetition "
      "(feedmux's run against the floors of the same repetition, run just before it); "
      "the median of those decides their verdict.")
    w("")
    w("| tool | case | N | runs (ok) | wall s | CPU s | peak RSS MB | throughput | nginx saw |")
    w("|---|---|---:|---|---:|---:|---:|---|---|")
    for (tool, case, n), g in groups.items():
        nbytes = corpus.get((n, "bytes"))
        if g.req is not None and tool in ("feedmux-http", "nginx-file"):
            thr = "%.0f req/s" % g.req
            if g.bytes:
                thr += " (%.0f MB/s)" % (g.req * g.bytes / 1e6)
        elif g.wall:
            thr = "%.0f feeds/s" % (n / g.wall)
            if nbytes and case not in ("conditional", "unchanged"):
                thr += ", %.0f MB/s" % (nbytes / 1e6 / g.wall)
        else:
            thr = "–"
        if g.unfinished:
            done = [sum(int(kv.split(":")[1]) for kv in r["http"].split() if ":" in kv)
                    for r in g.rows if r["status"] == "unfinished"]
            thr = "killed at %.0f s, %s of %d feeds fetched" % (g.wall or 0, "/".join(map(str, done)), n)
        status = "%d (%d)" % (g.runs, g.ok)
        if g.unfinished:
            status += " unfinished"
        elif g.ok < g.runs:
            status += " " + "/".join(s for s in g.statuses if s != "ok")
        w("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            tool, case, n, status, fmt_s(g.wall), fmt_s(g.cpu), fmt_mb(g.rss_kb), thr,
            g.http))

    for n in ns:
        def G(tool, case):
            return groups.get((tool, case, n))

        def wall(tool, case):
            g = G(tool, case)
            return g.wall if g else None

        w("")
        w("## Targets, N = %d" % n)
        w("")
        w("| ratio | value | target | |")
        w("|---|---:|---:|---|")
        cold, unch = wall("feedmux", "cold"), wall("feedmux", "unchanged")
        cg, cp, cc, xl = wall("curl", "gzip"), wall("curl", "plain"), wall("curl", "conditional"), wall("xmllint", "stream")
        # (name, ratio of the medians, its formula, target, numerator, denominator)
        paired = []
        if cold and cg and xl:
            paired.append(("cold / (curl gzip floor + xmllint --stream)", cold / (cg + xl),
                           " = %.2f / (%.2f + %.2f)" % (cold, cg, xl), TARGETS["cold"],
                           [("feedmux", "cold")], [("curl", "gzip"), ("xmllint", "stream")]))
        if cold and cp and xl:
            paired.append(("cold / (curl identity floor + xmllint --stream)", cold / (cp + xl),
                           " = %.2f / (%.2f + %.2f)" % (cold, cp, xl), TARGETS["cold"],
                           [("feedmux", "cold")], [("curl", "plain"), ("xmllint", "stream")]))
        if unch and cc:
            paired.append(("unchanged / conditional floor", unch / cc, " = %.2f / %.2f" % (unch, cc),
                           TARGETS["unchanged"], [("feedmux", "unchanged")], [("curl", "conditional")]))
        for name, value, formula, target, numer, denom in paired:
            ratios, seen, interleaved = per_rep(rows, n, numer, denom)
            if seen == 1:   # one repetition: its ratio is the one above
                ratios = []
            w(ratio_line(name + formula, value, target, "le",
                         verdict="(per repetition decides)" if ratios else None))
            if ratios:
                w(per_rep_line(name, ratios, seen, interleaved, target))
        rss = [G("feedmux", c).rss_kb for c in ("cold", "unchanged", "changed") if G("feedmux", c) and G("feedmux", c).rss_kb]
        if rss:
            w(ratio_line("feedmux peak RSS, MB (target at 10,000 feeds)", max(rss) / 1024.0, TARGETS["rss_mb"], "le", " MB"))
        for case in ("plain", "gzip"):
            f, g = G("feedmux-http", case), G("nginx-file", case)
            if f and g and f.req and g.req:
                w(ratio_line("/feed.atom %s: feedmux / nginx req/s = %.0f / %.0f" % (case, f.req, g.req),
                             f.req / g.req, TARGETS["serve"], "ge", ""))
        for tool, target in (("sfeed_update", "sfeed"), ("newsboat", "newsboat")):
            for case in ("cold", "unchanged"):
                peer, mine = G(tool, case), wall("feedmux", case)
                if peer and peer.wall and mine:
                    r = peer.wall / mine
                    name = "%s %s / feedmux %s = %.1f / %.2f" % (tool, case, case, peer.wall, mine)
                    if peer.unfinished:
                        name += " (peer killed at the timeout)"
                    w(ratio_line(name, r, TARGETS[target], "ge", lower_bound=peer.unfinished))
    if len(ns) > 1:
        a, b = ns[0], ns[-1]
        ga, gb = groups.get(("feedmux", "cold", a)), groups.get(("feedmux", "cold", b))
        if ga and gb and ga.rss_kb and gb.rss_kb and (a, "bytes") in corpus and (b, "bytes") in corpus:
            w("")
            w("Growth from N = %d to N = %d: corpus × %.1f, feedmux cold peak RSS × %.2f, cold wall × %.2f." % (
                a, b, corpus[(b, "bytes")] / corpus[(a, "bytes")], gb.rss_kb / ga.rss_kb,
                (gb.wall or 0) / (ga.wall or 1)))
    w("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    text = report(args.results)
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
