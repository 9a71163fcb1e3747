#!/usr/bin/python3
"""Generate the benchmark corpus: N made-up feeds and the configs to poll them.

    gen_corpus.py ROOT [--n 2000] [--seed 1] [--port 8081] [--epoch ISO]
    gen_corpus.py ROOT --mutate 10 --seed 101

The first form writes, deterministically for a given (n, seed, epoch):

  ROOT/feeds/NNNNN.xml   the feeds: ~60 % RSS 2.0, ~30 % Atom 1.0, ~10 % RSS
                         1.0; 10-50 items each, newest first; HTML
                         descriptions of 200-2,000 characters (escaped text
                         or CDATA), content:encoded / atom:content on some,
                         categories, RFC 822 (with the variants feeds really
                         use) and RFC 3339 dates.
  ROOT/truth.tsv         one line per item as published: which article it
                         is (same article = same guid or same link after
                         dropping tracking parameters) and which story (near
                         duplicates: same news, other publisher, wording and
                         link). About 15 % of item slots are repeats of an
                         article across 2-3 feeds, about 10 % are near
                         duplicates.
  ROOT/feedmux.conf      [feed fNNNNN] url = http://127.0.0.1:PORT/feeds/NNNNN.xml,
                         state and output_dir inside ROOT, listen off (the
                         driver writes a serving variant). Every feed is on
                         one host, 127.0.0.1, so per_host is raised to
                         concurrency (64): with the default (6) the run
                         would measure the per-host cap, not feedmux.
  ROOT/sfeedrc           sfeed_update's config: feeds() with `feed NAME URL`,
                         maxjobs=16.
  ROOT/newsboat.urls     newsboat's urls file.
  ROOT/urls.txt          the feed URLs, one a line.
  ROOT/curl.conf         a curl -K config fetching every URL to /dev/null.
  ROOT/manifest.json     what was generated (n, seed, epoch, bytes, items).

If ROOT/manifest.json already describes the same (n, seed, epoch) and the
feeds were not mutated since, the feeds are kept and only the configs (the
port may differ) are rewritten.

--mutate P --seed S prepends 1-5 new items (newer than anything else) to P %
of the feeds, chosen with seed S, and appends them to ROOT/truth.tsv; the
changed files get a new mtime, hence a new nginx ETag. That is the "10 %
changed" cycle.

Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import random
import re
import sys

VERSION = 5  # bump when the output of a given (n, seed, epoch) changes

# ---------------------------------------------------------------------------
# Vocabulary. Made-up places and people (from syllables) plus a few real
# countries, so topic rules have something to match.

REAL_PLACES = ["Ukraine", "Kyiv", "Brazil", "Kenya", "Japan", "Canada", "Chile",
               "Norway", "Vietnam", "Morocco", "Peru", "Poland", "Ghana", "Nepal",
               "Portugal", "Iceland", "Mexico", "Egypt", "India", "Finland"]
SYL_A = ["Var", "Kel", "Mor", "Tal", "Bren", "Os", "Lun", "Dra", "Fen", "Gal",
         "Hal", "Ir", "Jas", "Kor", "Mar", "Nor", "Pel", "Quen", "Ros", "Sel",
         "Tor", "Ul", "Vel", "Wen", "Yar", "Zan"]
SYL_B = ["a", "e", "i", "o", "u", "ar", "en", "or", "il", "an"]
SYL_C = ["hold", "mere", "ford", "vik", "stad", "grad", "mont", "bury", "dale",
         "port", "heim", "polis", "wick", "ton", "sk", "via"]
PREFIXES = ["New", "Port", "Upper", "Lower", "Lake", "East", "West", "North", "South", "San", "Old", "Fort"]
# Headlines of everyday news that is not told twice: subject, verb,
# object, place; word overlap between two of them is mostly chance.
SUBJECTS = ["Volunteers", "Residents", "Scientists", "Farmers", "Teachers", "Nurses", "Engineers",
            "Fishermen", "Students", "Artists", "Lawmakers", "Investors", "Miners", "Doctors", "Pilots",
            "Archaeologists", "Firefighters", "Chefs", "Librarians", "Cyclists", "Beekeepers",
            "Historians", "Architects", "Divers", "Winemakers", "Bakers", "Shepherds", "Rangers",
            "Midwives", "Glassblowers", "Astronomers", "Carpenters", "Weavers", "Brewers"]
VERBS = ["restore", "debate", "reopen", "celebrate", "rebuild", "question", "map", "plant",
         "defend", "sell", "close", "expand", "test", "survey", "clean up", "digitise", "honour",
         "fund", "redesign", "paint", "measure", "rescue", "catalogue", "repair", "light up",
         "photograph", "protect", "excavate", "rename", "move"]
OBJECTS = ["an old railway bridge", "the harbour wall", "a medieval library", "the town clock",
           "a disused mine", "the last windmill", "a coral reef", "the city archive", "a Roman road",
           "the village school", "a lighthouse", "the central market", "an abandoned cinema",
           "the botanical garden", "a mountain hut", "the river ferry", "a stone circle",
           "the public baths", "an orchard", "the tram depot", "a shipwreck", "the bell tower",
           "a salt marsh", "the opera house", "a cycling route", "the fish market", "an observatory",
           "the old brewery", "a rope bridge", "the zoo aviary", "a community kitchen", "the ski lift",
           "a wooden church", "the flood barrier", "an ice rink", "the sports hall", "a vineyard",
           "the printing press", "a canal lock", "the mosaic floor"]
FREE_TITLES = ["{Su} {v} {o} in {L}", "In {L}, {su} {v} {o}", "{L}: {su} {v} {o}",
               "{Su} in {L} {v} {o}", "{P} and {su} {v} {o} in {L}", "How {su} in {L} {v} {o}"]
FIRST = ["Anna", "Boris", "Chen", "Dara", "Elif", "Farid", "Greta", "Hugo",
         "Ines", "Jonas", "Kemi", "Lior", "Maya", "Nikos", "Olga", "Pavel",
         "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Viktor", "Wanda", "Xu",
         "Yara", "Zoran", "Aiko", "Bruno", "Carla", "Dmitri", "Esra", "Femi"]
LAST_A = ["Kess", "Dor", "Alv", "Brun", "Cort", "Dahl", "Ek", "Fal", "Gor",
          "Hask", "Ib", "Jor", "Kal", "Lind", "Mend", "Nov", "Orl", "Pet",
          "Rask", "Sten", "Tam", "Vos", "Wrig", "Zel"]
LAST_B = ["a", "in", "sson", "ova", "elli", "ez", "berg", "ov", "ard", "ski",
          "ani", "ström", "é", "ić"]
ORGS = ["the port authority", "the national rail operator", "the central bank",
        "the health ministry", "the teachers' union", "the space agency",
        "the electricity board", "the water utility", "the football federation",
        "the airline", "the steelworks", "the regional council", "the court of appeal",
        "the shipping group", "the mining company", "the public broadcaster"]
ORG_SHORT = ["Nordline", "Sigma Rail", "Helix Bank", "Orbita", "Trident Steel",
             "Cobalt Air", "Meridian Power", "Atlas Mining", "Kestrel Shipping",
             "Polar Telecom", "Verdant Foods", "Lumen Pharma"]
DISEASES = ["measles", "dengue", "cholera", "influenza", "mpox", "tuberculosis"]
CATEGORIES = ["World", "Politics", "Business", "Economy", "Climate", "Science",
              "Health", "Sport", "Technology", "Culture", "Europe", "Africa",
              "Asia", "Americas", "Energy", "Transport", "Education", "Justice",
              "Environment", "Markets", "Space", "Weather", "Élections", "Société"]
WORDS = ("the a of to in and for on with as by at from that said officials "
         "government minister report new year people week city region local "
         "national plan years first after before since while during over under "
         "between against among about more most less than many several some "
         "would could should may might must will also only still even already "
         "announced confirmed expected according statement spokesperson added "
         "told reporters on Tuesday Wednesday Thursday Friday Monday weekend "
         "morning evening night early late recent months ago data figures "
         "showed rose fell sharply slightly percent million billion budget "
         "cost costs price prices market markets companies workers union talks "
         "agreement deal vote parliament council court ruling case appeal law "
         "rules plan proposal critics supporters opposition residents families "
         "children schools hospitals roads bridge railway airport port border "
         "coast river valley mountains north south east west central capital "
         "storm rain heat drought fire water power energy gas oil grid "
         "emergency services police army volunteers aid support funding "
         "investment growth inflation jobs unemployment exports imports trade "
         "climate emissions carbon forest species research study scientists "
         "university team results trial vaccine cases outbreak patients doctors "
         "match season league final coach players fans stadium record goal "
         "film festival museum exhibition artist music book award prize").split()
WORDS = sorted(set(WORDS))

# Events: each has several wordings of one headline, with the same slots;
# near duplicates use two different wordings of one event with the same
# slot values. {L} {L2} place, {P} person, {O} organisation, {C} company,
# {N} number, {M} magnitude, {D} disease, {S} score.
EVENTS = [
    ("flood", ["Floods sweep through {L}, forcing {N} from their homes",
               "{N} evacuated as flooding hits {L}",
               "{L} floods: {P} declares a state of emergency",
               "Rising rivers swamp {L}; {N} people moved to shelters"]),
    ("election", ["{P} wins {L} election by a narrow margin",
                  "{L} votes: {P} claims victory",
                  "Narrow win for {P} in {L} poll",
                  "{P} set to lead {L} after tight election"]),
    ("strike", ["Workers at {O} in {L} walk out over pay",
                "Strike at {O} brings {L} to a standstill",
                "{L} hit by strike as talks with {O} fail",
                "Pay dispute: {O} staff in {L} down tools"]),
    ("summit", ["Leaders gather in {L} for summit hosted by {P}",
                "{P} opens {L} summit on trade and security",
                "Summit in {L}: {P} calls for unity",
                "{L} talks begin as {P} welcomes delegations"]),
    ("quake", ["Magnitude {M} earthquake strikes near {L}",
               "Earthquake of magnitude {M} shakes {L}",
               "{L} quake: {N} buildings damaged after {M} tremor",
               "Strong {M} tremor rattles {L}, no tsunami warning"]),
    ("fire", ["Wildfire near {L} grows to {N} hectares",
              "Firefighters battle blaze outside {L} as it spreads over {N} hectares",
              "{L} wildfire forces evacuations; {N} hectares burnt",
              "Out-of-control fire near {L} scorches {N} hectares"]),
    ("budget", ["{P} unveils {L} budget with {N} million for schools",
                "{L} budget: {N} million more for schools, says {P}",
                "Schools get {N} million in {P}'s {L} budget",
                "{P} presents {L} spending plan, {N} million for education"]),
    ("court", ["{L} court rules against {C} in landmark case",
               "Landmark ruling: {C} loses case in {L}",
               "{C} defeated in {L} court over contracts",
               "Judges in {L} find against {C}"]),
    ("protest", ["Thousands protest in {L} against plan by {O}",
                 "{L} protesters march against {O} proposal",
                 "Crowds fill {L} streets to oppose {O}",
                 "Protest in {L}: residents reject {O} scheme"]),
    ("trade", ["{L} and {L2} sign trade deal",
               "Trade pact agreed between {L} and {L2}",
               "{L2} and {L} seal long-awaited trade agreement",
               "New trade agreement links {L} and {L2}, says {P}"]),
    ("launch", ["{C} launches satellite from {L}",
                "Satellite built by {C} lifts off from {L}",
                "{L} launch puts {C} satellite into orbit",
                "Rocket carrying {C} satellite leaves {L} spaceport"]),
    ("market", ["{C} shares fall {PC}% after {L} decision",
                "{L} decision sends {C} stock down {PC}%",
                "Investors dump {C} as {L} move hits shares by {PC}%",
                "{C} loses {PC}% on the day after ruling in {L}"]),
    ("health", ["{L} reports sharp rise in {D} cases",
                "{D} cases climb in {L}, health officials warn",
                "Health alert in {L} as {D} spreads",
                "{L} steps up {D} vaccination as cases rise"]),
    ("sport", ["{L} beat {L2} {S} in cup final",
               "Cup final: {L} defeat {L2} {S}",
               "{L2} lose {S} to {L} in final",
               "{L} lift the cup after {S} win over {L2}"]),
    ("rail", ["New rail line opens between {L} and {L2}",
              "{L}-{L2} railway carries first passengers",
              "Trains start running on {L} to {L2} line",
              "{P} opens rail link from {L} to {L2}"]),
]

LEADS = {
    "flood": "Heavy rain pushed rivers over their banks in {L}, and {P} said {N} people had left their homes.",
    "election": "Official results in {L} gave {P} a lead of a few thousand votes.",
    "strike": "Staff at {O} in {L} stopped work after pay talks collapsed.",
    "summit": "Delegations arrived in {L} for two days of talks opened by {P}.",
    "quake": "The magnitude {M} earthquake struck close to {L}, damaging {N} buildings.",
    "fire": "Crews fought a fire that has burnt {N} hectares near {L}.",
    "budget": "{P} presented a budget for {L} with {N} million for schools.",
    "court": "A court in {L} ruled against {C} in a dispute over contracts.",
    "protest": "Thousands marched through {L} against a plan put forward by {O}.",
    "trade": "{L} and {L2} agreed to cut tariffs, {P} said.",
    "launch": "A rocket carrying a satellite built by {C} lifted off from {L}.",
    "market": "Shares in {C} fell {PC}% after a decision taken in {L}.",
    "health": "Health officials in {L} reported a rise in {D} cases.",
    "sport": "{L} beat {L2} {S} in the cup final.",
    "rail": "Passenger trains began running between {L} and {L2}, {P} said.",
}

LEADS_ALT = {
    "flood": "{P} declared an emergency in {L} as floods forced {N} people out.",
    "election": "{P} claimed victory in {L} after a close count.",
    "strike": "A walkout at {O} halted much of {L} on the first day of the strike.",
    "summit": "{P} welcomed leaders to {L}, urging them to agree on trade.",
    "quake": "A {M} tremor shook {L}; {N} buildings were reported damaged.",
    "fire": "The blaze outside {L} has spread over {N} hectares, firefighters said.",
    "budget": "Schools in {L} will get {N} million more under plans set out by {P}.",
    "court": "Judges in {L} found against {C}, a ruling lawyers called a landmark.",
    "protest": "Crowds filled the streets of {L} to oppose the scheme by {O}.",
    "trade": "A trade pact between {L2} and {L} was signed, {P} announced.",
    "launch": "{C}'s satellite reached orbit after launch from {L}.",
    "market": "Investors sold {C} stock, down {PC}% after the move in {L}.",
    "health": "{D} is spreading in {L}, where officials urge vaccination.",
    "sport": "{L2} lost the final {S} to {L}.",
    "rail": "The first passengers rode the new line from {L} to {L2}.",
}


def make_vocab(rng):
    places = list(REAL_PLACES)
    seen = set(places)
    while len(places) < 5000:
        p = rng.choice(SYL_A) + rng.choice(SYL_B) + rng.choice(SYL_C)
        p = p[0] + p[1:].lower()
        if rng.random() < 0.6:
            p = rng.choice(PREFIXES) + " " + p
        if p not in seen:
            seen.add(p)
            places.append(p)
    people = []
    seen = set()
    while len(people) < 3000:
        p = rng.choice(FIRST) + " " + rng.choice(LAST_A) + rng.choice(LAST_B)
        if p not in seen:
            seen.add(p)
            people.append(p)
    sentences = []
    for _ in range(6000):
        n = rng.randint(8, 24)
        w = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.5:
            w.insert(rng.randrange(len(w)), rng.choice(places))
        if rng.random() < 0.3:
            w.insert(rng.randrange(len(w)), rng.choice(people))
        if rng.random() < 0.2:
            w.insert(rng.randrange(len(w)), "%d" % rng.randint(2, 9999))
        s = " ".join(w)
        s = s[0].upper() + s[1:]
        # a few characters that need escaping or are not ASCII
        r = rng.random()
        if r < 0.08:
            s += " & more"
        elif r < 0.14:
            s += " \u2014 \u201cfor now\u201d"
        elif r < 0.18:
            s += " (caf\u00e9, na\u00efve, \u00fcber)"
        sentences.append(s + ".")
    return places, people, sentences


def slots(rng, places, people):
    l1, l2 = rng.sample(places, 2)
    return {"L": l1, "L2": l2, "P": rng.choice(people), "O": rng.choice(ORGS),
            "C": rng.choice(ORG_SHORT), "N": str(rng.choice([rng.randint(2, 99), rng.randint(100, 9000)])),
            "M": "%d.%d" % (rng.randint(4, 8), rng.randint(0, 9)),
            "D": rng.choice(DISEASES), "PC": str(rng.randint(2, 40)), "S": "%d-%d" % (rng.randint(1, 5), rng.randint(0, 3))}


def fill(template, s):
    return template.format(**s)


# ---------------------------------------------------------------------------
# Escaping, dates.

def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(s):
    return esc(s).replace('"', "&quot;")


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
UTC = datetime.timezone.utc


def rfc822(ts, style):
    """style: 0 +0000, 1 GMT, 2 numeric offset, 3 US zone name, 4 no weekday, 5 one-digit day."""
    if style == 2:
        off = -5 * 3600
    elif style == 3:
        off = -4 * 3600  # EDT
    else:
        off = 0 if style != 4 else 2 * 3600
    d = datetime.datetime.fromtimestamp(ts + off, UTC)
    if style == 0:
        z = "+0000"
    elif style == 1:
        z = "GMT"
    elif style == 2:
        z = "-0500"
    elif style == 3:
        z = "EDT"
    elif style == 4:
        z = "+0200"
    else:
        z = "+0000"
    day = "%d" % d.day if style == 5 else "%02d" % d.day
    core = "%s %s %d %02d:%02d:%02d %s" % (day, MONTHS[d.month - 1], d.year, d.hour, d.minute, d.second, z)
    if style == 4:
        return core
    return "%s, %s" % (DAYS[d.weekday()], core)


def rfc3339(ts, style):
    """style: 0 Z, 1 +02:00, 2 fractional Z, 3 -07:00."""
    off = {0: 0, 1: 7200, 2: 0, 3: -7 * 3600}[style]
    d = datetime.datetime.fromtimestamp(ts + off, UTC)
    base = "%04d-%02d-%02dT%02d:%02d:%02d" % (d.year, d.month, d.day, d.hour, d.minute, d.second)
    if style == 0:
        return base + "Z"
    if style == 1:
        return base + "+02:00"
    if style == 2:
        return base + ".%03dZ" % ((ts * 7) % 1000)
    return base + "-07:00"


# ---------------------------------------------------------------------------
# Feeds.

def feed_style(seed, i):
    """Everything about feed i that does not depend on the other feeds."""
    r = random.Random("style-%d-%d" % (seed, i))
    x = r.random()
    fmt = "rss2" if x < 0.6 else ("atom" if x < 0.9 else "rss1")
    host = "news%d.%s" % (i, r.choice(["example", "example.org", "example.net", "example.com"]))
    return {
        "fmt": fmt,
        "host": host,
        "site": "https://%s/" % host,
        "title": "%s %s" % (r.choice(["The", "Daily", "Evening", "Morning", "Weekly"]),
                            r.choice(["Courier", "Herald", "Ledger", "Observer", "Dispatch",
                                      "Gazette", "Chronicle", "Post", "Wire", "Tribune"])) + " %d" % i,
        "date822": r.choice([0, 0, 0, 1, 1, 2, 3, 4, 5]),
        "date3339": r.choice([0, 0, 1, 2, 3]),
        "guid": r.choice(["link", "link", "opaque", "opaque", "none"]) if fmt == "rss2" else "id",
        "cdata": r.random() < 0.5,
        "content": r.choice([0.0, 0.0, 0.2, 0.5, 0.9]),  # share of items with full content
        "xhtml": fmt == "atom" and r.random() < 0.15,
        "cats": r.choice([0, 1, 2, 3]),
        "creator": r.random() < 0.5,
        "relative": r.random() < 0.3,  # relative URLs in HTML (needs xml:base/feed URL)
    }


def html_body(r, sentences, places, lead, length, site, relative):
    """HTML of about `length` characters: paragraphs, links, emphasis, a list, an image."""
    parts = ["<p>%s" % esc(lead)]
    size = len(parts[0])
    para = 1
    while size < length:
        s = esc(r.choice(sentences))
        x = r.random()
        if x < 0.10:
            w = s.split(" ")
            k = r.randrange(len(w))
            href = ("/%s/%d.html" % (r.choice(["world", "news", "story"]), r.randint(1, 99999))
                    if relative else "%s%s/%d" % (site, r.choice(["world", "news", "story"]), r.randint(1, 99999)))
            w[k] = '<a href="%s">%s</a>' % (href, w[k])
            s = " ".join(w)
        elif x < 0.16:
            s = "<em>%s</em>" % s
        elif x < 0.20:
            s = "<strong>%s</strong>" % s
        if size + len(s) > length and size >= 200:
            break
        if r.random() < 0.25 and size > 150:
            s = "</p>\n<p>" + s
            para += 1
        parts.append(" " + s)
        size += len(s) + 1
    if r.random() < 0.12:
        parts.append("</p>\n<ul><li>%s</li><li>%s</li></ul>\n<p>%s" % (
            esc(r.choice(places)), esc(r.choice(places)), esc(r.choice(sentences))))
    if r.random() < 0.15:
        src = "/img/%d.jpg" % r.randint(1, 99999) if relative else "%simg/%d.jpg" % (site, r.randint(1, 99999))
        parts.append('</p>\n<p><img src="%s" alt="photo" width="640" height="360"/>' % src)
    parts.append("</p>")
    return "".join(parts)


def text_block(html, cdata):
    if cdata and "]]>" not in html:
        return "<![CDATA[%s]]>" % html
    return esc(html)


class Corpus:
    def __init__(self, n, seed, epoch):
        self.n, self.seed, self.epoch = n, seed, epoch
        self.vr = random.Random("vocab-%d" % seed)
        self.places, self.people, self.sentences = make_vocab(self.vr)

    # An "article" is what one item (or its repeats) is about:
    # dict(title, lead, ts, story, article, cats, body_seed, link, guid).
    def new_article(self, r, aid, story, event_idx, templ_idx, sl, ts, host):
        ev, templates = EVENTS[event_idx]
        title = fill(templates[templ_idx], sl)
        lead = fill((LEADS if templ_idx % 2 == 0 else LEADS_ALT)[ev], sl)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        link = "https://%s/%s/%d/%s" % (host, ev, aid, slug)
        cats = r.sample(CATEGORIES, r.randint(1, 4))
        return {"aid": aid, "story": story, "title": title, "lead": lead, "ts": ts,
                "link": link, "cats": cats, "body": r.getrandbits(48),
                "len": r.randint(200, 1750)}

    def free_article(self, r, aid, story, ts, host):
        """An article with a headline of its own (no other publisher tells it)."""
        su = r.choice(SUBJECTS)
        sl = {"Su": su, "su": su.lower(), "v": r.choice(VERBS), "o": r.choice(OBJECTS),
              "L": r.choice(self.places), "P": r.choice(self.people)}
        title = fill(r.choice(FREE_TITLES), sl)
        title = title[0].upper() + title[1:]
        lead = fill("{Su} {v} {o} in {L}, {P} said.", sl)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        link = "https://%s/%s/%d/%s" % (host, r.choice(["news", "local", "life", "culture"]), aid, slug)
        return {"aid": aid, "story": story, "title": title, "lead": lead, "ts": ts,
                "link": link, "cats": r.sample(CATEGORIES, r.randint(1, 4)), "body": r.getrandbits(48),
                "len": r.randint(200, 1750)}

    def event_slots(self, r, used):
        """Slots for an event headline whose (event, place) no other story uses."""
        for _ in range(50):
            ev = r.randrange(len(EVENTS))
            sl = slots(r, self.places, self.people)
            if (ev, sl["L"]) not in used:
                break
        used.add((ev, sl["L"]))
        return ev, sl

    def plan(self):
        """Decide every feed's items; returns a list of per-feed lists of placements."""
        r = random.Random("plan-%d-%d" % (self.seed, self.n))
        n = self.n
        sizes = [r.randint(10, 50) for _ in range(n)]
        total = sum(sizes)
        free = list(sizes)
        feeds = [[] for _ in range(n)]
        aid = 0
        story = 0
        epoch = self.epoch

        def when():
            if r.random() < 0.85:
                return epoch - r.randint(60, 7 * 86400)
            return epoch - r.randint(7 * 86400, 45 * 86400)

        def pick_feeds(k):
            chosen = set()
            tries = 0
            while len(chosen) < k and tries < 1000:
                f = r.randrange(n)
                tries += 1
                if free[f] > 0 and f not in chosen:
                    chosen.add(f)
            return sorted(chosen)

        # Repeats: one article in 2-3 feeds (same guid and link; some copies
        # carry tracking parameters or http: instead of https:).
        used = set()  # (event, place) of event headlines: one story each
        repeat_slots = 0
        while repeat_slots < 0.15 * total:
            fs = pick_feeds(r.choice([2, 2, 3]))
            if len(fs) < 2:
                break
            host = feed_style(self.seed, fs[0])["host"]
            if r.random() < 0.3:
                ev, sl = self.event_slots(r, used)
                a = self.new_article(r, aid, story, ev, r.randrange(4), sl, when(), host)
            else:
                a = self.free_article(r, aid, story, when(), host)
            for k, f in enumerate(fs):
                variant = "same" if k == 0 else r.choice(["same", "same", "utm", "http"])
                feeds[f].append(("repeat", a, variant, r.randint(0, 3 * 3600) if k else 0))
                free[f] -= 1
                repeat_slots += 1
            aid += 1
            story += 1
        # Near duplicates: one story told by 2-3 publishers, other wording
        # (another headline template and lead), other link, other guid.
        near_slots = 0
        while near_slots < 0.10 * total:
            fs = pick_feeds(r.choice([2, 2, 3]))
            if len(fs) < 2:
                break
            ev, sl = self.event_slots(r, used)
            ts = when()
            templs = r.sample(range(4), len(fs))
            for k, f in enumerate(fs):
                a = self.new_article(r, aid, story, ev, templs[k], sl, min(ts + r.randint(0, 12 * 3600), epoch - 60),
                                     feed_style(self.seed, f)["host"])
                feeds[f].append(("near", a, "same", 0))
                free[f] -= 1
                near_slots += 1
                aid += 1
            story += 1
        # Everything else: one article, one feed.
        for f in range(n):
            host = feed_style(self.seed, f)["host"]
            for _ in range(free[f]):
                if r.random() < 0.1:  # hard negatives: event wording, another event or place
                    ev, sl = self.event_slots(r, used)
                    a = self.new_article(r, aid, story, ev, r.randrange(4), sl, when(), host)
                else:
                    a = self.free_article(r, aid, story, when(), host)
                feeds[f].append(("unique", a, "same", 0))
                aid += 1
                story += 1
        for f in range(n):
            feeds[f].sort(key=lambda p: -(p[1]["ts"] + p[3]))
        return feeds, aid, story

    # -- rendering ---------------------------------------------------------

    def item_fields(self, st, place):
        kind, a, variant, delay = place
        link = a["link"]
        if variant == "utm":
            link += "?utm_source=%s&utm_medium=rss" % st["host"].split(".")[0]
        elif variant == "http":
            link = "http://" + link[len("https://"):]
        ts = min(a["ts"] + delay, self.epoch - 60) if delay else a["ts"]
        r = random.Random(a["body"])
        body = html_body(r, self.sentences, self.places, a["lead"], a["len"], st["site"], st["relative"])
        content = None
        if r.random() < st["content"]:
            content = body + html_body(r, self.sentences, self.places, a["title"] + ".",
                                       r.randint(600, 5000), st["site"], st["relative"])
        if kind == "repeat":
            guid = a["link"]  # the shared identity: the canonical link
        else:
            guid = None
        return {"kind": kind, "a": a, "link": link, "ts": ts, "body": body,
                "content": content, "guid": guid, "variant": variant,
                "creator": self.people[a["body"] % len(self.people)]}

    def render_item(self, st, it, idx):
        a = it["a"]
        cats = a["cats"][:st["cats"]] if st["cats"] else []
        fmt = st["fmt"]
        out = []
        if fmt == "rss2":
            out.append("<item>\n<title>%s</title>\n<link>%s</link>\n" % (esc(a["title"]), esc(it["link"])))
            if it["guid"] is not None and it["variant"] == "same":
                out.append('<guid isPermaLink="true">%s</guid>\n' % esc(it["guid"]))
                guid = it["guid"]
            elif it["guid"] is not None:
                guid = ""  # the tracking/http variant: identity by canonical link
            elif st["guid"] == "link":
                out.append("<guid>%s</guid>\n" % esc(it["link"]))
                guid = it["link"]
            elif st["guid"] == "opaque":
                guid = "%s-%d" % (st["host"].split(".")[0], a["aid"])
                out.append('<guid isPermaLink="false">%s</guid>\n' % guid)
            else:
                guid = ""
            out.append("<pubDate>%s</pubDate>\n" % rfc822(it["ts"], st["date822"]))
            if st["creator"]:
                out.append("<dc:creator>%s</dc:creator>\n" % esc(it["creator"]))
            for c in cats:
                out.append("<category>%s</category>\n" % esc(c))
            out.append("<description>%s</description>\n" % text_block(it["body"], st["cdata"]))
            if it["content"]:
                out.append("<content:encoded>%s</content:encoded>\n" % text_block(it["content"], True))
            out.append("</item>\n")
        elif fmt == "atom":
            if it["guid"] is not None and it["variant"] == "same":
                guid = it["guid"]
            elif it["guid"] is not None:
                guid = "tag:%s,2024:dup-%d" % (st["host"], a["aid"])  # other id, link variant
            else:
                guid = "tag:%s,2024:%d" % (st["host"], a["aid"])
            out.append("<entry>\n<title>%s</title>\n<id>%s</id>\n" % (esc(a["title"]), esc(guid)))
            out.append('<link rel="alternate" type="text/html" href="%s"/>\n' % esc_attr(it["link"]))
            out.append("<published>%s</published>\n<updated>%s</updated>\n" % (
                rfc3339(it["ts"], st["date3339"]), rfc3339(it["ts"] + 600, st["date3339"])))
            if st["creator"]:
                out.append("<author><name>%s</name></author>\n" % esc(it["creator"]))
            for c in cats:
                out.append('<category term="%s"/>\n' % esc_attr(c))
            out.append('<summary type="html">%s</summary>\n' % esc(it["body"]))
            if it["content"]:
                if st["xhtml"]:
                    out.append('<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">%s</div></content>\n'
                               % xhtmlify(it["content"]))
                else:
                    out.append('<content type="html">%s</content>\n' % esc(it["content"]))
            out.append("</entry>\n")
        else:
            guid = ""
            out.append('<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n' % (
                esc_attr(it["link"]), esc(a["title"]), esc(it["link"])))
            out.append("<dc:date>%s</dc:date>\n" % rfc3339(it["ts"], st["date3339"]))
            if st["creator"]:
                out.append("<dc:creator>%s</dc:creator>\n" % esc(it["creator"]))
            for c in cats:
                out.append("<dc:subject>%s</dc:subject>\n" % esc(c))
            out.append("<description>%s</description>\n" % text_block(it["body"], st["cdata"]))
            if it["content"]:
                out.append("<content:encoded>%s</content:encoded>\n" % text_block(it["content"], True))
            out.append("</item>\n")
        return "".join(out), guid

    def head(self, st, i, items, url):
        newest = max([it["ts"] for it in items] or [self.epoch])
        fmt = st["fmt"]
        if fmt == "rss2":
            return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
                    "<channel>\n<title>%s</title>\n<link>%s</link>\n"
                    '<atom:link href="%s" rel="self" type="application/rss+xml"/>\n'
                    "<description>News from %s</description>\n<language>en</language>\n"
                    "<lastBuildDate>%s</lastBuildDate>\n<ttl>30</ttl>\n"
                    % (esc(st["title"]), st["site"], url, esc(st["title"]), rfc822(newest, st["date822"])))
        if fmt == "atom":
            return ('<?xml version="1.0" encoding="utf-8"?>\n'
                    '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="%s" xml:lang="en">\n'
                    "<title>%s</title>\n<subtitle>News from %s</subtitle>\n<id>tag:%s,2024:feed</id>\n"
                    '<link rel="self" type="application/atom+xml" href="%s"/>\n'
                    '<link rel="alternate" type="text/html" href="%s"/>\n'
                    "<updated>%s</updated>\n<author><name>%s desk</name></author>\n"
                    % (st["site"], esc(st["title"]), esc(st["title"]), st["host"], url, st["site"],
                       rfc3339(newest, st["date3339"]), esc(st["title"])))
        lis = "".join('<rdf:li rdf:resource="%s"/>\n' % esc_attr(it["link"]) for it in items)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
                '<channel rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n'
                "<description>News from %s</description>\n<dc:date>%s</dc:date>\n"
                "<items>\n<rdf:Seq>\n%s</rdf:Seq>\n</items>\n</channel>\n"
                % (url, esc(st["title"]), st["site"], esc(st["title"]), rfc3339(newest, st["date3339"]), lis))

    @staticmethod
    def tail(st):
        return {"rss2": "</channel>\n</rss>\n", "atom": "</feed>\n", "rss1": "</rdf:RDF>\n"}[st["fmt"]]


def xhtmlify(html):
    # The generated HTML is already well-formed XML except for the entities
    # we escaped; it can go inline as XHTML.
    return html


def truth_line(i, st, idx, it, guid):
    a = it["a"]
    return "f%05d\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n" % (
        i, st["fmt"], idx, guid, it["link"], a["title"].replace("\t", " "),
        datetime.datetime.fromtimestamp(it["ts"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        a["aid"], a["story"], it["kind"])


TRUTH_HEADER = ("# feed\tformat\tposition\tguid\tlink\ttitle\tpublished\tarticle\tstory\tkind\n"
                "# same article = one entry after dedup (same guid, or same link without tracking\n"
                "# parameters / http-vs-https); same story, other article = near duplicate\n")


def feed_url(port, i):
    return "http://127.0.0.1:%d/feeds/%05d.xml" % (port, i)


def write_atomic(path, data, mode="w"):
    tmp = path + ".tmp"
    with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as f:
        f.write(data)
    os.replace(tmp, path)


def generate(root, n, seed, epoch, port):
    c = Corpus(n, seed, epoch)
    plan, narticles, nstories = c.plan()
    fdir = os.path.join(root, "feeds")
    os.makedirs(fdir, exist_ok=True)
    total_bytes = 0
    nitems = 0
    counts = {"rss2": 0, "atom": 0, "rss1": 0}
    kinds = {"unique": 0, "repeat": 0, "near": 0}
    with open(os.path.join(root, "truth.tsv.tmp"), "w", encoding="utf-8") as truth:
        truth.write(TRUTH_HEADER)
        for i in range(n):
            st = feed_style(seed, i)
            counts[st["fmt"]] += 1
            items = [c.item_fields(st, p) for p in plan[i]]
            parts = [c.head(st, i, items, feed_url(port, i))]
            for idx, it in enumerate(items):
                xml, guid = c.render_item(st, it, idx)
                parts.append(xml)
                truth.write(truth_line(i, st, idx, it, guid))
                kinds[it["kind"]] += 1
            parts.append(c.tail(st))
            data = "".join(parts).encode("utf-8")
            write_atomic(os.path.join(fdir, "%05d.xml" % i), data, "wb")
            total_bytes += len(data)
            nitems += len(items)
    os.replace(os.path.join(root, "truth.tsv.tmp"), os.path.join(root, "truth.tsv"))
    return {"version": VERSION, "n": n, "seed": seed, "epoch": epoch, "bytes": total_bytes,
            "items": nitems, "articles": narticles, "stories": nstories, "formats": counts,
            "kinds": kinds, "mutations": []}


def write_configs(root, n, port):
    root = os.path.abspath(root)
    urls = [feed_url(port, i) for i in range(n)]
    write_atomic(os.path.join(root, "urls.txt"), "".join(u + "\n" for u in urls))
    write_atomic(os.path.join(root, "newsboat.urls"), "".join(u + "\n" for u in urls))
    write_atomic(os.path.join(root, "curl.conf"),
                 "".join('url = "%s"\noutput = "/dev/null"\n' % u for u in urls))
    conf = ["# Generated by tests/bench/gen_corpus.py: %d feeds on one host (127.0.0.1).\n" % n,
            "# per_host is raised to concurrency: every feed is on 127.0.0.1, and the\n",
            "# default (6) would make this a measurement of the per-host cap.\n",
            "[feedmux]\n",
            "title       = feedmux bench\n",
            "base_url    = http://127.0.0.1:8080/\n",
            "listen      =\n",
            "state       = %s\n" % os.path.join(root, "state", "state.db"),
            "output_dir  = %s\n" % os.path.join(root, "public"),
            "interval    = 30m\n",
            "max_entries = 200\n",
            "concurrency = 64\n",
            "per_host    = 64\n",
            "allow_private_networks = yes\n",
            "\n[topic ukraine]\ntitle = Ukraine\nmatch = Ukraine, Kyiv\n",
            "\n[topic climate]\ntitle = Climate\nmatch = flood, floods, wildfire, drought, emissions\n",
            "\n[topic markets]\ntitle = Markets\nmatch = shares, stock, investors, trade deal\n"]
    for i, u in enumerate(urls):
        conf.append("\n[feed f%05d]\nurl = %s\n" % (i, u))
    write_atomic(os.path.join(root, "feedmux.conf"), "".join(conf))
    rc = ["# Generated by tests/bench/gen_corpus.py\n",
          'sfeedpath="%s"\n' % os.path.join(root, "sfeed"),
          "maxjobs=16\n",
          "feeds() {\n"]
    for i, u in enumerate(urls):
        rc.append("\tfeed f%05d '%s'\n" % (i, u))
    rc.append("}\n")
    write_atomic(os.path.join(root, "sfeedrc"), "".join(rc))


def mutate(root, pct, seed, now):
    with open(os.path.join(root, "manifest.json")) as f:
        man = json.load(f)
    n, cseed = man["n"], man["seed"]
    c = Corpus(n, cseed, man["epoch"])
    r = random.Random("mutate-%d-%d" % (cseed, seed))
    k = max(1, round(n * pct / 100.0))
    chosen = sorted(r.sample(range(n), k))
    base_aid = 10 ** 8 + seed * 10 ** 5
    added = 0
    lines = []
    for i in chosen:
        st = feed_style(cseed, i)
        path = os.path.join(root, "feeds", "%05d.xml" % i)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        old_mtime = os.stat(path).st_mtime
        new_items = []
        for j in range(r.randint(1, 5)):
            a = c.free_article(r, base_aid + added, base_aid + added, now - r.randint(0, 1800) - j, st["host"])
            new_items.append(c.item_fields(st, ("unique", a, "same", 0)))
            added += 1
        new_items.sort(key=lambda it: -it["ts"])
        xml = []
        for idx, it in enumerate(new_items):
            x, guid = c.render_item(st, it, idx)
            xml.append(x)
            lines.append(truth_line(i, st, idx, it, guid))
        tag = {"rss2": "<item>", "atom": "<entry>", "rss1": "<item rdf:about="}[st["fmt"]]
        pos = text.find(tag)
        if pos < 0:
            pos = text.rfind({"rss2": "</channel>", "atom": "</feed>", "rss1": "</rdf:RDF>"}[st["fmt"]])
        text = text[:pos] + "".join(xml) + text[pos:]
        if st["fmt"] == "rss1":
            lis = "".join('<rdf:li rdf:resource="%s"/>\n' % esc_attr(it["link"]) for it in new_items)
            text = text.replace("<rdf:Seq>\n", "<rdf:Seq>\n" + lis, 1)
        write_atomic(path, text.encode("utf-8"), "wb")
        # a new mtime, so nginx's ETag (mtime-size) changes even within a second
        t = max(int(now), int(old_mtime) + 1)
        os.utime(path, (t, t))
    with open(os.path.join(root, "truth.tsv"), "a", encoding="utf-8") as f:
        f.write("".join(lines))
    man["mutations"].append({"seed": seed, "percent": pct, "feeds": len(chosen), "items": added})
    man["items"] += added
    write_atomic(os.path.join(root, "manifest.json"), json.dumps(man, indent=1) + "\n")
    return len(chosen), added


def parse_epoch(s):
    if s is None:
        d = datetime.datetime.now(UTC)
        return int(datetime.datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
    if re.fullmatch(r"\d+", s):
        return int(s)
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--n", type=int, default=2000, help="number of feeds (default 2000)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    ap.add_argument("--port", type=int, default=8081, help="port of the web server in the URLs")
    ap.add_argument("--epoch", help="newest item time, ISO 8601 or Unix seconds (default: today 00:00 UTC)")
    ap.add_argument("--mutate", type=float, metavar="P", help="add new items to P %% of the feeds")
    ap.add_argument("--now", type=int, help="with --mutate: the time of the new items (default: now)")
    ap.add_argument("--force", action="store_true", help="regenerate the feeds even if they match")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    root = args.root
    os.makedirs(root, exist_ok=True)
    if args.mutate is not None:
        import time
        k, added = mutate(root, args.mutate, args.seed, args.now if args.now else int(time.time()))
        if not args.quiet:
            print("mutated %d feeds, %d new items" % (k, added))
        return 0
    epoch = parse_epoch(args.epoch)
    mpath = os.path.join(root, "manifest.json")
    man = None
    if not args.force and os.path.exists(mpath):
        try:
            with open(mpath) as f:
                old = json.load(f)
            if (old.get("version") == VERSION and old.get("n") == args.n and old.get("seed") == args.seed
                    and old.get("epoch") == epoch and not old.get("mutations")
                    and os.path.exists(os.path.join(root, "feeds", "%05d.xml" % (args.n - 1)))):
                man = old
        except (OSError, ValueError):
            man = None
    if man is None:
        if os.path.exists(mpath):
            os.remove(mpath)
        fdir = os.path.join(root, "feeds")
        if os.path.isdir(fdir):
            for name in os.listdir(fdir):
                if re.fullmatch(r"\d{5}\.xml", name) and int(name[:5]) >= args.n:
                    os.remove(os.path.join(fdir, name))
        man = generate(root, args.n, args.seed, epoch, args.port)
        write_atomic(mpath, json.dumps(man, indent=1) + "\n")
        kept = False
    else:
        kept = True
    write_configs(root, args.n, args.port)
    if not args.quiet:
        print("%s %d feeds (%s), %d items, %.1f MB in %s" % (
            "kept" if kept else "generated", man["n"],
            ", ".join("%s %d" % kv for kv in sorted(man["formats"].items())),
            man["items"], man["bytes"] / 1e6, os.path.join(root, "feeds")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
