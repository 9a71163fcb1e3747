/* test_topic.c: topic matching: word boundaries, case and accents in Latin,
 * Cyrillic and Greek, phrases, exclude, several topics, feed-level topics,
 * categories, empty fields, HTML summaries, the text cap, and a config read
 * by config_load. Configs are built in memory (one temp file for the
 * config_load case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "item.h"
#include "strlist.h"
#include "topic.h"
#include "xalloc.h"

static struct config *cfg_new(void);
static size_t cfg_topic(struct config *cfg, const char *name, int categories, const char *match,
                        const char *exclude);
static void cfg_feed(struct config *cfg, const char *name, const char *topics);
static void split_into(struct strlist *l, const char *list);
static struct item *item_make(const char *title, const char *summary, const char *categories);
static char *topics_of(const struct config *cfg, const char *feed, const struct item *it);
static int term_matches(const char *term, const char *title);
static int summary_matches(const char *term, const char *summary);

/* An empty config, as config_load would leave it before the sections. */
static struct config *
cfg_new(void)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);

	strlist_init(&cfg->listen);
	return cfg;
}

/* Split a '|'-separated list into l ("" and NULL: nothing). */
static void
split_into(struct strlist *l, const char *list)
{
	const char *p = list, *bar;

	if (list == NULL || *list == '\0')
		return;
	for (;;) {
		bar = strchr(p, '|');
		if (bar == NULL) {
			strlist_add(l, p);
			return;
		}
		strlist_take(l, xstrndup(p, (size_t)(bar - p)));
		p = bar + 1;
	}
}

/* Add [topic name]; match and exclude are '|'-separated. */
static size_t
cfg_topic(struct config *cfg, const char *name, int categories, const char *match, const char *exclude)
{
	struct config_topic *t;

	cfg->topics = xreallocarray(cfg->topics, cfg->ntopics + 1, sizeof *cfg->topics);
	t = &cfg->topics[cfg->ntopics];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	t->categories = categories;
	strlist_init(&t->match);
	strlist_init(&t->exclude);
	split_into(&t->match, match);
	split_into(&t->exclude, exclude);
	return cfg->ntopics++;
}

/* Add [feed name] with topics ('|'-separated). */
static void
cfg_feed(struct config *cfg, const char *name, const char *topics)
{
	struct config_feed *f;

	cfg->feeds = xreallocarray(cfg->feeds, cfg->nfeeds + 1, sizeof *cfg->feeds);
	f = &cfg->feeds[cfg->nfeeds++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	f->url = xasprintf("https://example.org/%s.xml", name);
	strlist_init(&f->topics);
	split_into(&f->topics, topics);
}

/* An item; categories are '|'-separated. */
static struct item *
item_make(const char *title, const char *summary, const char *categories)
{
	struct item *it = item_new();
	struct strlist cats;

	it->title = title != NULL ? xstrdup(title) : NULL;
	it->summary = summary != NULL ? xstrdup(summary) : NULL;
	strlist_init(&cats);
	split_into(&cats, categories);
	for (size_t i = 0; i < cats.n; i++)
		item_add_category(it, cats.v[i]);
	strlist_free(&cats);
	return it;
}

/* The names of the item's topics, comma-separated ("" for none). */
static char *
topics_of(const struct config *cfg, const char *feed, const struct item *it)
{
	struct topic_set *ts = topic_set_new(cfg);
	size_t *idx = xcalloc(cfg->ntopics + 1, sizeof *idx);
	size_t n = topic_set_match(ts, feed, it, idx);
	char *out = xstrdup(""), *next;

	assert_int_equal(topic_set_count(ts), cfg->ntopics);
	for (size_t i = 0; i < n; i++) {
		assert_true(idx[i] < cfg->ntopics);
		if (i > 0)
			assert_true(idx[i] > idx[i - 1]);
		next = xasprintf("%s%s%s", out, i ? "," : "", cfg->topics[idx[i]].name);
		free(out);
		out = next;
	}
	free(idx);
	topic_set_free(ts);
	return out;
}

/* Whether one topic with the one term matches an item with this title. */
static int
term_matches(const char *term, const char *title)
{
	struct config *cfg = cfg_new();
	struct item *it = item_make(title, NULL, NULL);
	char *got;
	int yes;

	cfg_topic(cfg, "t", 0, term, NULL);
	got = topics_of(cfg, NULL, it);
	yes = strcmp(got, "t") == 0;
	free(got);
	item_free(it);
	config_free(cfg);
	return yes;
}

/* Whether one topic with the one term matches an item with this summary. */
static int
summary_matches(const char *term, const char *summary)
{
	struct config *cfg = cfg_new();
	struct item *it = item_make(NULL, summary, NULL);
	char *got;
	int yes;

	cfg_topic(cfg, "t", 0, term, NULL);
	got = topics_of(cfg, NULL, it);
	yes = strcmp(got, "t") == 0;
	free(got);
	item_free(it);
	config_free(cfg);
	return yes;
}

/* Whole words: no match inside a longer word; punctuation, apostrophes and
 * hyphens end a word. */
static void
test_word_boundaries(void **state)
{
	(void)state;
	assert_true(term_matches("Kyiv", "Kyiv"));
	assert_true(term_matches("Kyiv", "Drone attack on Kyiv."));
	assert_true(term_matches("Kyiv", "Blackout in Kyiv"));
	assert_true(term_matches("Kyiv", "(Kyiv) Blackout"));
	assert_true(term_matches("Kyiv", "A Kyiv-based startup"));
	assert_true(term_matches("Kyiv", "Kyiv's mayor"));
	assert_true(term_matches("Kyiv", "Kyiv\u2019s mayor"));
	assert_true(term_matches("Kyiv", "Kyiv\u02BCs mayor"));
	assert_true(term_matches("Kyiv", "\"Kyiv\": a history"));
	assert_true(term_matches("Kyiv", "Kyiv\u2014and beyond"));
	assert_true(term_matches("Kyiv", "news\u00A0Kyiv"));
	assert_false(term_matches("Kyiv", "Kyivstar outage hits millions"));
	assert_false(term_matches("Kyiv", "KyivKyiv"));
	assert_false(term_matches("Kyiv", "Kyiv2"));
	assert_false(term_matches("Kyiv", "UKyiv"));
	assert_false(term_matches("Kyiv", "Kyi v"));
	assert_false(term_matches("Kyivstar", "Kyiv star"));
	/* a hyphenated or dotted term is a phrase of its parts */
	assert_true(term_matches("F-16", "Ukraine gets F-16s? No: F-16 jets"));
	assert_true(term_matches("F-16", "F 16 jets"));
	assert_false(term_matches("F-16", "F-161 jets"));
	assert_true(term_matches("COVID-19", "covid\u201119 cases"));
	/* the soft hyphen is invisible and does not split a word */
	assert_true(term_matches("Zelensky", "Zelen\u00ADsky speaks"));
	/* digits are words */
	assert_true(term_matches("COP30", "At COP30, pledges"));
	assert_false(term_matches("COP30", "COP3 and COP300"));
}

/* Case and accents, both ways, for configured spellings. */
static void
test_accents_and_case(void **state)
{
	(void)state;
	assert_true(term_matches("Zélensky", "ZÉLENSKY"));
	assert_true(term_matches("Zélensky", "zelensky"));
	assert_true(term_matches("Zélensky", "Zélensky"));
	assert_true(term_matches("Zélensky", "Ze\u0301lensky")); /* decomposed */
	assert_true(term_matches("zelensky", "Zélensky said"));
	assert_true(term_matches("ZELENSKY", "zélensky"));
	assert_true(term_matches("Zelenskyy", "ZELENSKYY"));
	assert_true(term_matches("Zelenskyy", "Zelenskyy's"));
	assert_false(term_matches("Zelenskyy", "Zelensky"));
	assert_false(term_matches("Zélensky", "Zelenskyy"));
	assert_true(term_matches("Straße", "STRASSE"));
	assert_true(term_matches("strasse", "Straße"));
	assert_true(term_matches("São Paulo", "SAO PAULO"));
	assert_true(term_matches("Curaçao", "curacao"));
	assert_true(term_matches("Łódź", "ŁODŹ"));
	assert_true(term_matches("Łódź", "Lodz"));
	assert_true(term_matches("lodz", "Łódź"));
	assert_true(term_matches("Ørsted", "ORSTED"));
	assert_true(term_matches("Đoković", "DOKOVIC"));
	assert_true(term_matches("Diyarbakır", "DIYARBAKIR"));
	assert_true(term_matches("İstanbul", "istanbul"));
	assert_true(term_matches("Istanbul", "İSTANBUL"));
	assert_true(term_matches("ﬁnance", "FINANCE"));                /* ligature */
	assert_true(term_matches("Kyiv", "\uFF2B\uFF59\uFF49\uFF56")); /* full-width */
}

/* Cyrillic: case, the diaeresis of ї and ё, word boundaries. */
static void
test_cyrillic(void **state)
{
	(void)state;
	assert_true(term_matches("Київ", "КИЇВ"));
	assert_true(term_matches("Київ", "київ"));
	assert_true(term_matches("КИЇВ", "Вибухи у Київ, вночі"));
	assert_true(term_matches("Київ", "Киів"));
	assert_false(term_matches("Київ", "Київстар"));
	assert_false(term_matches("Київ", "Києві")); /* another case form is another word */
	assert_true(term_matches("Зеленский", "ЗЕЛЕНСКИЙ заявил"));
	assert_true(term_matches("Зеленський", "Зеленський\u02BCs"));
	assert_true(term_matches("ёлка", "ЕЛКА"));
	assert_true(term_matches("Україна", "«Україна» — це"));
	assert_true(term_matches("Новая Каховка", "в НОВАЯ  каховка"));
}

/* Greek: tonos, dialytika, final sigma. */
static void
test_greek(void **state)
{
	(void)state;
	assert_true(term_matches("Αθήνα", "ΑΘΗΝΑ"));
	assert_true(term_matches("Αθήνα", "αθηνα"));
	assert_true(term_matches("αθηνα", "Στην Αθήνα σήμερα"));
	assert_false(term_matches("Αθήνα", "Αθήνας"));
	assert_true(term_matches("Μητσοτάκης", "ΜΗΤΣΟΤΑΚΗΣ"));
	assert_true(term_matches("ΜΗΤΣΟΤΑΚΗΣ", "ο Μητσοτάκης είπε"));
	assert_true(term_matches("Ελλάδα", "ελλαδα"));
	assert_true(term_matches("προϊόν", "ΠΡΟΙΟΝ"));
}

/* Han and kana are written without spaces: each character is a word, a
 * term of several is a phrase. */
static void
test_cjk(void **state)
{
	(void)state;
	assert_true(term_matches("北京", "在北京举行会议"));
	assert_false(term_matches("北京", "东京举行会议"));
	assert_true(term_matches("ウクライナ", "ウクライナ情勢"));
	assert_true(term_matches("キーウ", "キーウで爆発"));
	assert_true(term_matches("ガス", "ガス価格"));
	assert_false(term_matches("ガス", "カス"));
	assert_false(term_matches("カス", "ガス"));
}

/* Phrases: the words in a row, whatever the spacing and punctuation, not
 * across fields. */
static void
test_phrases(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got;

	(void)state;
	assert_true(term_matches("European Union", "the European  Union's budget"));
	assert_true(term_matches("European Union", "EUROPEAN UNION"));
	assert_true(term_matches("European Union", "European-Union talks"));
	assert_true(term_matches("European Union", "European\nUnion"));
	assert_true(term_matches("  European   Union ", "European Union"));
	assert_false(term_matches("European Union", "European football union"));
	assert_false(term_matches("European Union", "Union European"));
	assert_false(term_matches("European Union", "European Unionist"));
	assert_false(term_matches("European Union", "European"));
	assert_true(term_matches("global warming", "Global warming: what now"));
	assert_true(term_matches("a b", "x a a b"));
	/* not from the end of the title into the summary */
	cfg_topic(cfg, "eu", 0, "European Union", NULL);
	it = item_make("Talks with the European", "<p>Union leaders met</p>", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);
	config_free(cfg);
}

/* Words of every shape the filter before the term lookup sorts by (first
 * unit, length): digits, non-ASCII first letters, one-letter words, and
 * words past its 63 units still match, and only themselves. */
static void
test_word_shapes(void **state)
{
	char longword[80], longtitle[100];

	(void)state;
	assert_true(term_matches("2026 budget", "The 2026 budget passed"));
	assert_false(term_matches("2026 budget", "The 2025 budget passed"));
	assert_true(term_matches("7", "Group of 7 meets"));
	assert_false(term_matches("7", "Group of 8 meets"));
	assert_true(term_matches("Київ", "Атака на Київ"));
	assert_false(term_matches("Київ", "Атака на Харків"));
	assert_true(term_matches("x", "Rename to X"));
	memset(longword, 'q', 70);
	longword[70] = '\0';
	snprintf(longtitle, sizeof longtitle, "the %s word", longword);
	assert_true(term_matches(longword, longtitle));
	longtitle[10] = 'r';
	assert_false(term_matches(longword, longtitle));
}

/* An exclude term vetoes a match, from any field the topic reads. */
static void
test_exclude(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got;

	(void)state;
	cfg_topic(cfg, "ukraine", 0, "Kyiv|Ukraine", "football|Dynamo Kyiv");
	it = item_make("Kyiv under fire", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "ukraine");
	free(got);
	item_free(it);

	it = item_make("Dynamo Kyiv wins", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	it = item_make("Ukraine", "<p>In <b>FOOTBALL</b> today</p>", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	/* the exclude phrase must occur as a phrase */
	it = item_make("Kyiv: Dynamo plant reopens", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "ukraine");
	free(got);
	item_free(it);

	/* an exclude term alone does nothing */
	it = item_make("Football results", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);
	config_free(cfg);
}

/* An item can be in several topics, returned in config order; an exclude
 * of one topic leaves the others alone. */
static void
test_multiple_topics(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got;

	(void)state;
	cfg_topic(cfg, "climate", 0, "climate|wildfire", NULL);
	cfg_topic(cfg, "ukraine", 0, "Kyiv", NULL);
	cfg_topic(cfg, "europe", 0, "European Union|Kyiv", "wildfire");
	cfg_topic(cfg, "sport", 0, "football", NULL);
	it = item_make("Wildfire near Kyiv", "<p>The European Union sends planes</p>", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "climate,ukraine");
	free(got);
	item_free(it);

	it = item_make("European Union summit in Kyiv", "climate and football", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "climate,ukraine,europe,sport");
	free(got);
	item_free(it);
	config_free(cfg);
}

/* A feed's topics = holds all its items, matching or not, excluded or not. */
static void
test_feed_topics(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it, *empty;
	char *got;

	(void)state;
	cfg_topic(cfg, "world", 0, NULL, NULL);
	cfg_topic(cfg, "ukraine", 0, "Kyiv", "football");
	cfg_topic(cfg, "climate", 0, "climate", NULL);
	cfg_feed(cfg, "bbc", "world");
	cfg_feed(cfg, "kyivindependent", "ukraine|world");
	cfg_feed(cfg, "plain", NULL);
	it = item_make("Kyiv football derby", NULL, NULL);
	empty = item_make(NULL, NULL, NULL);

	got = topics_of(cfg, "bbc", it);
	assert_string_equal(got, "world");
	free(got);
	got = topics_of(cfg, "kyivindependent", it);
	assert_string_equal(got, "world,ukraine");
	free(got);
	got = topics_of(cfg, "kyivindependent", empty);
	assert_string_equal(got, "world,ukraine");
	free(got);
	got = topics_of(cfg, "plain", it);
	assert_string_equal(got, "");
	free(got);
	got = topics_of(cfg, "nosuchfeed", it);
	assert_string_equal(got, "");
	free(got);
	got = topics_of(cfg, NULL, empty);
	assert_string_equal(got, "");
	free(got);
	got = topics_of(cfg, "bbc", NULL);
	assert_string_equal(got, "world");
	free(got);
	item_free(it);
	item_free(empty);
	config_free(cfg);
}

/* Categories count only for topics with categories = yes, for match and
 * exclude alike. */
static void
test_categories(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got;

	(void)state;
	cfg_topic(cfg, "withcats", 1, "Ukraine|climate crisis", "Opinion");
	cfg_topic(cfg, "nocats", 0, "Ukraine|climate crisis", NULL);
	it = item_make("Front line report", NULL, "World|Ukraine war");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "withcats");
	free(got);
	item_free(it);

	it = item_make("Front line report", NULL, "Ukraine|Opinion");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	/* a category excludes only where categories are read */
	it = item_make("Ukraine", NULL, "Opinion");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "nocats");
	free(got);
	item_free(it);

	/* a phrase does not run from one category into the next */
	it = item_make(NULL, NULL, "climate|crisis");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	it = item_make(NULL, NULL, "The Climate Crisis");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "withcats");
	free(got);
	item_free(it);
	config_free(cfg);
}

/* Missing and empty fields, terms without words, sets without topics. */
static void
test_empty(void **state)
{
	struct config *cfg = cfg_new();
	struct topic_set *ts;
	struct item *it;
	size_t idx[4];
	char *got;

	(void)state;
	ts = topic_set_new(NULL);
	assert_int_equal(topic_set_count(ts), 0);
	it = item_make("Kyiv", NULL, NULL);
	assert_int_equal(topic_set_match(ts, "x", it, idx), 0);
	topic_set_free(ts);
	topic_set_free(NULL);

	ts = topic_set_new(cfg);
	assert_int_equal(topic_set_match(ts, NULL, it, idx), 0);
	topic_set_free(ts);
	item_free(it);

	cfg_topic(cfg, "punct", 0, "---|  |", "...");
	cfg_topic(cfg, "kyiv", 1, "Kyiv", NULL);
	it = item_make("", "", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	it = item_make(NULL, NULL, NULL);
	it->content = xstrdup("");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);

	it = item_make("--- ... Kyiv", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "kyiv");
	free(got);
	item_free(it);

	got = topics_of(cfg, NULL, NULL);
	assert_string_equal(got, "");
	free(got);
	config_free(cfg);
}

/* The summary is read as text: tags, comments, scripts and attribute
 * values are not, entities are decoded; the content stands in for a
 * missing summary. */
static void
test_html_summary(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got;

	(void)state;
	assert_true(summary_matches("Kyiv", "<p>News from <b>Kyiv</b></p>"));
	assert_true(summary_matches("Kyiv", "Kyiv"));
	assert_false(summary_matches("Kyiv", "<a href=\"https://example.org/kyiv\" title=\"Kyiv\">link</a>"));
	assert_false(summary_matches("Kyiv", "<img alt='Kyiv' src=x.png>"));
	assert_false(summary_matches("Kyiv", "<img alt=\"a > Kyiv\" src=x.png> photo"));
	assert_false(summary_matches("Kyiv", "<img src=x.png alt=Kyiv>"));
	assert_false(summary_matches("Kyiv", "text <img alt='Kyiv'"));
	assert_false(summary_matches("Kyiv", "<!-- Kyiv --> other"));
	assert_false(summary_matches("Kyiv", "<script>var Kyiv = 1;</script>x"));
	assert_false(summary_matches("Kyiv", "<style>.Kyiv{}</style>x"));
	assert_true(summary_matches("Kyiv", "<script>x</script><p>Kyiv</p>"));
	assert_true(summary_matches("Kyiv", "<KYIV>x</KYIV> in Kyiv"));
	assert_false(summary_matches("Kyiv", "<kyiv>x</kyiv>"));
	assert_true(summary_matches("Kyiv", "Ky<b>iv</b> today"));
	assert_false(summary_matches("Kyiv", "<p>Ky</p><p>iv</p>"));
	assert_true(summary_matches("Kyiv", "<p>Lviv</p><p>Kyiv</p>"));
	assert_true(summary_matches("Zélensky", "Z&eacute;lensky said"));
	assert_true(summary_matches("Zelensky", "Z&#233;lensky said"));
	assert_true(summary_matches("Zelensky", "Z&#xE9;lensky said"));
	assert_true(summary_matches("Київ", "&#x41A;&#x418;&#x407;&#x412;"));
	assert_true(summary_matches("Kyiv", "Kyiv&#39;s mayor"));
	assert_true(summary_matches("Kyiv", "Kyiv&apos;s mayor"));
	assert_true(summary_matches("Kyiv", "Kyiv&amp;Lviv"));
	assert_true(summary_matches("Kyiv", "a&nbsp;Kyiv&nbsp;b"));
	assert_false(summary_matches("Kyiv", "&lt;Kyivstar&gt;"));
	assert_true(summary_matches("Kyiv", "1 < 2 in Kyiv & Lviv"));
	assert_true(summary_matches("Kyiv", "&bogus; Kyiv &#;"));
	assert_true(summary_matches("European Union", "<p>the <em>European</em> <i>Union</i></p>"));

	/* the content when there is no summary, not as well as one */
	cfg_topic(cfg, "t", 0, "Kyiv", NULL);
	it = item_make("x", NULL, NULL);
	it->content = xstrdup("<p>Kyiv</p>");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "t");
	free(got);
	it->summary = xstrdup("<p>Lviv</p>");
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "");
	free(got);
	item_free(it);
	config_free(cfg);
}

/* At most TOPIC_TEXT_MAX bytes are read, and a word cut by the cap is not
 * taken for a shorter one. */
static void
test_text_cap(void **state)
{
	size_t pad = TOPIC_TEXT_MAX - 4;
	char *s = xmalloc(pad + 64);

	(void)state;
	memset(s, ' ', pad);
	for (size_t i = 0; i + 1 < pad; i += 2)
		s[i] = 'x';
	strcpy(s + pad, "Kyivstar Kyiv");
	assert_false(term_matches("Kyiv", s));
	assert_false(summary_matches("Kyiv", s));
	memcpy(s, "Kyiv ", 5);
	assert_true(term_matches("Kyiv", s));
	assert_true(summary_matches("Kyiv", s));
	free(s);

	/* tags do not count towards the cap; text beyond it is not read */
	s = xmalloc(3 * TOPIC_TEXT_MAX);
	for (size_t i = 0; i < 16384; i++)
		memcpy(s + i * 7, "<br/>a ", 7);
	strcpy(s + 16384 * 7, "Kyiv");
	assert_true(summary_matches("Kyiv", s));
	for (size_t i = 0; i < 30000; i++)
		memcpy(s + i * 3, "ab ", 3);
	strcpy(s + 30000 * 3, "Kyiv");
	assert_false(summary_matches("Kyiv", s));
	assert_false(term_matches("Kyiv", s));
	free(s);
}

/* Many topics and terms: each item finds exactly its own. */
static void
test_many_topics(void **state)
{
	struct config *cfg = cfg_new();
	struct item *it;
	char *got, *name, *term;

	(void)state;
	for (int i = 0; i < 500; i++) {
		name = xasprintf("t%03d", i);
		term = xasprintf("word%d|phrase %d here|shared", i, i);
		cfg_topic(cfg, name, 0, term, i % 2 ? "veto" : NULL);
		free(name);
		free(term);
	}
	it = item_make("word17 and Word400, phrase 250 here", "phrase 3 not here", NULL);
	got = topics_of(cfg, NULL, it);
	assert_string_equal(got, "t017,t250,t400");
	free(got);
	item_free(it);

	it = item_make("shared veto", NULL, NULL);
	got = topics_of(cfg, NULL, it);
	assert_int_equal(strlen(got), 250 * 5 - 1);
	assert_memory_equal(got, "t000,t002,t004", 14);
	free(got);
	item_free(it);
	config_free(cfg);
}

/* A config read by config_load, as the daemon will. */
static void
test_config_load(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/feedmux-test-topic-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	const char text[] = "[topic ukraine]\n"
	                    "match = Ukraine, Kyiv, Zelensky, Zelenskyy,\n"
	                    "        European Union\n"
	                    "exclude = Kyivstar, football\n"
	                    "[topic climate]\n"
	                    "match = climate, global warming\n"
	                    "categories = yes\n"
	                    "[topic world]\n"
	                    "[feed bbc]\n"
	                    "url = https://example.org/bbc.xml\n"
	                    "topics = world\n";
	struct strlist errors;
	struct config *cfg;
	struct item *it;
	char *got;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	strlist_init(&errors);
	cfg = config_load(path, &errors);
	unlink(path);
	free(path);
	for (size_t i = 0; i < errors.n; i++)
		print_error("%s\n", errors.v[i]);
	assert_non_null(cfg);
	strlist_free(&errors);

	it = item_make("ZÉLENSKY in Kyiv", "<p>Global  warming</p>", "Science");
	got = topics_of(cfg, "bbc", it);
	assert_string_equal(got, "ukraine,climate,world");
	free(got);
	item_free(it);

	it = item_make("Kyivstar down", NULL, "Climate");
	got = topics_of(cfg, "other", it);
	assert_string_equal(got, "climate");
	free(got);
	item_free(it);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_word_boundaries),
	    cmocka_unit_test(test_accents_and_case),
	    cmocka_unit_test(test_cyrillic),
	    cmocka_unit_test(test_greek),
	    cmocka_unit_test(test_cjk),
	    cmocka_unit_test(test_phrases),
	    cmocka_unit_test(test_word_shapes),
	    cmocka_unit_test(test_exclude),
	    cmocka_unit_test(test_multiple_topics),
	    cmocka_unit_test(test_feed_topics),
	    cmocka_unit_test(test_categories),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_html_summary),
	    cmocka_unit_test(test_text_cap),
	    cmocka_unit_test(test_many_topics),
	    cmocka_unit_test(test_config_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
