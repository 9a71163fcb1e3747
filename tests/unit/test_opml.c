/* test_opml.c: OPML both ways. opml_write() gives well-formed OPML 2.0
 * that imports back to the same feeds and topics; opml_import() turns the
 * exports of real readers (tests/data/opml/) into feedmux.conf sections
 * that config_load() accepts, with the names, titles and topics expected,
 * and refuses bad files with a message naming them. Config files are
 * written into a mkdtemp directory under TMPDIR and removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "config.h"
#include "item.h"
#include "opml.h"
#include "strlist.h"
#include "xalloc.h"

#define LONG_TITLE "A very long title that goes on and on about everything under the sun, forever and ever"

struct fixture {
	char *dir;
	struct strlist files;
};

struct sample {
	const char *file;
	size_t nfeeds;
	size_t ntopics;
};

static const char feedly_expected[] =
    "# From feedly.opml by feedmux --import-opml: 6 feeds, 2 topics.\n"
    "# Append to feedmux.conf and check with feedmux -t.\n"
    "# Topics are the reader's folders and categories; delete any\n"
    "# [topic NAME] here that feedmux.conf already has.\n"
    "# 1 outline repeated a feed listed earlier: merged, with its folders as topics.\n"
    "\n"
    "[topic world-news]\n"
    "title = World News\n"
    "\n"
    "[topic tech]\n"
    "title = Tech\n"
    "\n"
    "[feed bbc-news-world]\n"
    "url = https://feeds.bbci.co.uk/news/world/rss.xml\n"
    "title = BBC News - World\n"
    "topics = world-news, tech\n"
    "\n"
    "[feed the-kyiv-independent]\n"
    "url = https://kyivindependent.com/rss/\n"
    "title = The Kyiv Independent\n"
    "topics = world-news\n"
    "\n"
    "[feed le-monde-fr-actualites-et-infos-en-france-et-dans-le-monde]\n"
    "url = https://www.lemonde.fr/rss/une.xml\n"
    "title = Le Monde.fr - Actualités et Infos en France et dans le monde\n"
    "topics = world-news\n"
    "\n"
    "[feed ars-technica]\n"
    "url = https://feeds.arstechnica.com/arstechnica/index\n"
    "title = Ars Technica\n"
    "topics = tech\n"
    "\n"
    "[feed hacker-news-front-page]\n"
    "url = https://hnrss.org/frontpage?points=100&comments=25\n"
    "title = Hacker News: Front Page\n"
    "topics = tech\n"
    "\n"
    "[feed xkcd-com]\n"
    "url = https://xkcd.com/rss.xml\n"
    "title = xkcd.com\n";

static const char newsboat_expected[] = "# From newsboat.opml by feedmux --import-opml: 6 feeds.\n"
                                        "# Append to feedmux.conf and check with feedmux -t.\n"
                                        "\n"
                                        "[feed lwn-net]\n"
                                        "url = https://lwn.net/headlines/rss\n"
                                        "title = LWN.net\n"
                                        "\n"
                                        "[feed debian-org]\n"
                                        "url = https://www.debian.org/News/news\n"
                                        "\n"
                                        "[feed xkcd]\n"
                                        "url = https://xkcd.com/atom.xml\n"
                                        "\n"
                                        "[feed cafe-creme-co]\n"
                                        "url = https://blog.example.org/feed?format=rss&lang=en\n"
                                        "title = Café Crème & Co\n"
                                        "\n"
                                        "[feed feeds-example-net]\n"
                                        "url = https://feeds.example.net/podcast.xml\n"
                                        "\n"
                                        "[feed debian-org-2]\n"
                                        "url = https://www.debian.org/security/dsa\n";

static const struct sample samples[] = {
    {"feedly.opml", 6, 2},     {"inoreader.opml", 7, 2},      {"netnewswire.opml", 5, 2},
    {"newsboat.opml", 6, 0},   {"newsboat-opml2.opml", 3, 4}, {"thunderbird.opml", 3, 3},
    {"iso-8859-1.opml", 1, 1}, {"names.opml", 22, 6},
};

static char *data_path(const char *name);
static char *write_file(struct fixture *fx, const char *name, const char *text, size_t len);
static char *import_ok(const char *name);
static struct config *load_conf(struct fixture *fx, const char *sections);
static void assert_topics(const struct config_feed *f, const char *const *want);
static int name_ok(const char *name);
static const struct feed_meta *meta_of(void *arg, const struct config_feed *f);
static xmlNodePtr child(xmlNodePtr parent, const char *name);
static char *attr(xmlNodePtr n, const char *name);

/* Make a private directory for this run's files. */
static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/feedmux-test-opml-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");

	if (mkdtemp(tmpl) == NULL) {
		free(tmpl);
		free(fx);
		return -1;
	}
	fx->dir = tmpl;
	strlist_init(&fx->files);
	*state = fx;
	return 0;
}

/* Remove the files and the directory. */
static int
teardown(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < fx->files.n; i++)
		unlink(fx->files.v[i]);
	rmdir(fx->dir);
	strlist_free(&fx->files);
	free(fx->dir);
	free(fx);
	return 0;
}

/* TESTS_SRCDIR/data/opml/name. */
static char *
data_path(const char *name)
{
	const char *dir = getenv("TESTS_SRCDIR");

	if (dir == NULL || *dir == '\0')
		fail_msg("TESTS_SRCDIR is not set (run through make check, or set it to the source tests/ "
		         "directory)");
	return xasprintf("%s/data/opml/%s", dir, name);
}

/* Write len bytes of text to name in the fixture directory. */
static char *
write_file(struct fixture *fx, const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", fx->dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	if (!strlist_contains(&fx->files, path))
		strlist_add(&fx->files, path);
	return path;
}

/* The sections opml_import() makes of sample file name. */
static char *
import_ok(const char *name)
{
	char *path = data_path(name), *err = NULL;
	struct buf out;
	int rc;

	buf_init(&out);
	rc = opml_import(path, &out, &err);
	if (rc != 0)
		fail_msg("%s: %s", name, err ? err : "(no message)");
	assert_null(err);
	free(path);
	return buf_steal(&out);
}

/* config_load() of sections after a minimal [feedmux] section; every
 * problem it reports fails the test. */
static struct config *
load_conf(struct fixture *fx, const char *sections)
{
	struct buf text;
	struct strlist errors;
	struct config *cfg;
	char *path;

	buf_init(&text);
	buf_printf(&text, "[feedmux]\nstate = :memory:\n\n%s", sections);
	path = write_file(fx, "feedmux.conf", text.data, text.len);
	strlist_init(&errors);
	cfg = config_load(path, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_error("%s\n", errors.v[i]);
	assert_int_equal(errors.n, 0);
	assert_non_null(cfg);
	strlist_free(&errors);
	buf_free(&text);
	free(path);
	return cfg;
}

/* f's topics are exactly want (NULL-terminated), in order. */
static void
assert_topics(const struct config_feed *f, const char *const *want)
{
	size_t n = 0;

	assert_non_null(f);
	while (want[n] != NULL)
		n++;
	if (f->topics.n != n)
		fail_msg("feed %s: %zu topics, expected %zu", f->name, f->topics.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(f->topics.v[i], want[i]);
}

/* Whether name is a lower-case ASCII slug of at most 64 bytes. */
static int
name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || name[0] == '-' || name[len - 1] == '-' || strstr(name, "--") != NULL)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

/* A meta callback that knows feed "bbc" only. */
static const struct feed_meta *
meta_of(void *arg, const struct config_feed *f)
{
	return strcmp(f->name, "bbc") == 0 ? arg : NULL;
}

/* The first element child of parent called name, or NULL. */
static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

/* n's attribute name as a malloc'd string, or NULL. */
static char *
attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	char *s = v != NULL ? xstrdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* Feedly's export, byte for byte: folders as topics, a feed in two
 * folders merged, &amp; in an xmlUrl decoded. */
static void
test_import_feedly_exact(void **state)
{
	char *got = import_ok("feedly.opml");

	assert_string_equal(got, feedly_expected);
	free(got);
}

/* newsboat's export, byte for byte: no text attribute, empty titles named
 * after the host, character references in titles. */
static void
test_import_newsboat_exact(void **state)
{
	char *got = import_ok("newsboat.opml");

	assert_string_equal(got, newsboat_expected);
	free(got);
}

/* Every sample imports to sections that config_load() accepts, with the
 * expected number of feeds and topics and valid names. */
static void
test_import_samples_load(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		char *text = import_ok(samples[i].file);
		struct config *cfg = load_conf(fx, text);

		if (cfg->nfeeds != samples[i].nfeeds || cfg->ntopics != samples[i].ntopics)
			fail_msg("%s: %zu feeds and %zu topics, expected %zu and %zu", samples[i].file,
			         cfg->nfeeds, cfg->ntopics, samples[i].nfeeds, samples[i].ntopics);
		for (size_t j = 0; j < cfg->nfeeds; j++)
			if (!name_ok(cfg->feeds[j].name))
				fail_msg("%s: bad feed name '%s'", samples[i].file, cfg->feeds[j].name);
		for (size_t j = 0; j < cfg->ntopics; j++)
			if (!name_ok(cfg->topics[j].name))
				fail_msg("%s: bad topic name '%s'", samples[i].file, cfg->topics[j].name);
		config_free(cfg);
		free(text);
	}
}

/* Names from titles: transliteration, host fallback, duplicates,
 * truncation; titles kept when they differ and made safe for inih. */
static void
test_import_names(void **state)
{
	static const struct {
		const char *name, *url, *title;
	} want[] = {
	    {"cafe-creme-co", "https://cafe.example.org/feed", "Café Crème; Co"},
	    {"novini-ukrayini", "https://news.example.ua/rss", "Новини України"},
	    {"ellinika", "https://greek.example.gr/rss", "Ελληνικά"},
	    {"example-jp", "https://www.example.jp/news.rdf", "日本語ニュース"},
	    {"example-com", "https://example.com/a.xml", NULL},
	    {"example-com-2", "https://example.com/b.xml", NULL},
	    {"example-net", "https://www.example.net/feed", "!!!"},
	    {"a-very-long-title-that-goes-on-and-on-about-everything-under-the",
	     "https://long.example.org/rss", LONG_TITLE},
	    {"a-very-long-title-that-goes-on-and-on-about-everything-under-2",
	     "https://long.example.org/rss2", LONG_TITLE},
	    {"dont-panic", "https://dont.example.org/rss", "Don’t Panic"},
	    {"ecole", "https://ecole.example.fr/rss", "e\u0301cole"},
	    {"spaced-out", "https://spaced.example.org/rss", "Spaced Out"},
	    {"xkcd", "https://xkcd.com/atom.xml", NULL},
	    {"old-style", "http://old.example.org/rss", "Old style"},
	    {"semicolon-first", "https://semi.example.org/rss", "Semicolon first"},
	    {"shouting-exporter", "https://loud.example.org/RSS", "Shouting Exporter"},
	    {"back-slash-x-y-z", "https://odd.example.org/rss?a=1;b=2#frag", "\\ Back\\slash [x] = y #z"},
	};
	static const char *const cafe_topics[] = {"news", NULL};
	static const char *const tagged_topics[] = {"science", "physics", "news", NULL};
	static const char *const nhk_topics[] = {"folder", NULL};
	static const char *const xinhua_topics[] = {"folder-2", NULL};
	static const char *const unnamed_topics[] = {"folder-3", NULL};
	static const char *const none[] = {NULL};
	struct fixture *fx = *state;
	char *text = import_ok("names.opml");
	struct config *cfg = load_conf(fx, text);
	const struct config_feed *f;

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		f = config_find_feed(cfg, want[i].name);
		if (f == NULL)
			fail_msg("no feed '%s' in:\n%s", want[i].name, text);
		assert_string_equal(f->url, want[i].url);
		if (want[i].title == NULL)
			assert_null(f->title);
		else
			assert_string_equal(f->title, want[i].title);
	}
	/* Skipped: relative, exec: and mailto: URLs; listed in the header. */
	for (size_t i = 0; i < cfg->nfeeds; i++)
		assert_true(strncmp(cfg->feeds[i].url, "http", 4) == 0);
	assert_non_null(strstr(text, "# Skipped, not an http(s) URL: Relative </rss.xml>\n"));
	assert_non_null(strstr(text, "# Skipped, not an http(s) URL: Script <exec:~/bin/x.sh>\n"));
	assert_non_null(strstr(text, "# Skipped, not an http(s) URL: Mail <mailto:news@example.org>\n"));
	assert_non_null(strstr(text, "# 2 outlines repeated a feed listed earlier"));
	/* Topics: categories (every part of each path), folders without an
	 * ASCII name, an unnamed folder that groups nothing, "News" and
	 * "NEWS!" as one topic, and a merged duplicate's folders. */
	assert_topics(config_find_feed(cfg, "cafe-creme-co"), cafe_topics);
	assert_topics(config_find_feed(cfg, "science-tagged"), tagged_topics);
	assert_topics(config_find_feed(cfg, "nhk"), nhk_topics);
	assert_topics(config_find_feed(cfg, "xinhua"), xinhua_topics);
	assert_topics(config_find_feed(cfg, "in-an-unnamed-folder"), unnamed_topics);
	assert_topics(config_find_feed(cfg, "xkcd"), none);
	assert_string_equal(config_find_topic(cfg, "folder")->title, "日本");
	assert_string_equal(config_find_topic(cfg, "folder-2")->title, "中国");
	assert_string_equal(config_find_topic(cfg, "folder-3")->title, "Folder");
	assert_string_equal(config_find_topic(cfg, "news")->title, "News");
	/* A type="link" outline is not a feed. */
	for (size_t i = 0; i < cfg->nfeeds; i++)
		assert_null(strstr(cfg->feeds[i].url, "page.html"));
	config_free(cfg);
	free(text);
}

/* Nested folders give every enclosing folder as a topic; folder titles
 * in other scripts and encodings are kept as topic titles. */
static void
test_import_folders_topics(void **state)
{
	static const char *const nasa[] = {"blogs-news-feeds", "science", "space", NULL};
	static const char *const quanta[] = {"blogs-news-feeds", "science", NULL};
	static const char *const lwn[] = {"blogs-news-feeds", NULL};
	static const char *const podcast[] = {"podcasts", "horspiel", NULL};
	static const char *const equipe[] = {"francais", NULL};
	struct fixture *fx = *state;
	char *text;
	struct config *cfg;

	text = import_ok("thunderbird.opml");
	cfg = load_conf(fx, text);
	assert_topics(config_find_feed(cfg, "nasa-breaking-news"), nasa);
	assert_topics(config_find_feed(cfg, "quanta-magazine"), quanta);
	assert_topics(config_find_feed(cfg, "lwn-net"), lwn);
	assert_string_equal(config_find_topic(cfg, "blogs-news-feeds")->title, "Blogs & News Feeds");
	config_free(cfg);
	free(text);

	text = import_ok("inoreader.opml");
	cfg = load_conf(fx, text);
	assert_string_equal(config_find_topic(cfg, "ukrayina")->title, "Україна");
	assert_string_equal(config_find_feed(cfg, "ukrayinska-pravda")->title, "Українська правда");
	assert_string_equal(config_find_feed(cfg, "blog")->url, "https://blog.example.com/feed/");
	assert_string_equal(config_find_feed(cfg, "blog-2")->url, "https://another.example.org/blog/rss.xml");
	assert_string_equal(config_find_feed(cfg, "strasse-verkehr")->title, "Straße & Verkehr");
	assert_string_equal(config_find_feed(cfg, "nikkei-com")->title, "日本経済新聞");
	config_free(cfg);
	free(text);

	text = import_ok("newsboat-opml2.opml");
	cfg = load_conf(fx, text);
	assert_topics(config_find_feed(cfg, "the-example-podcast"), podcast);
	assert_string_equal(config_find_topic(cfg, "horspiel")->title, "Hörspiel");
	/* A topic named as written keeps no title = line (config defaults it). */
	assert_null(strstr(text, "[topic linux]\ntitle"));
	config_free(cfg);
	free(text);

	text = import_ok("iso-8859-1.opml");
	cfg = load_conf(fx, text);
	assert_topics(config_find_feed(cfg, "lequipe"), equipe);
	assert_string_equal(config_find_feed(cfg, "lequipe")->title, "L'Équipe");
	config_free(cfg);
	free(text);
}

/* Bad files: -1, a message that starts with the path, out untouched. */
static void
test_import_bad_files(void **state)
{
	static const struct {
		const char *file, *msg;
	} bad[] = {
	    {"bad/broken.opml",
	     ":9: not well-formed XML: Opening and ending tag mismatch: outline line 7 and body"},
	    {"bad/rss.xml", ": not OPML (the root element is <rss>, not <opml>)"},
	    {"bad/no-body.opml", ": not OPML (no <body> in <opml>)"},
	    {"bad/no-feeds.opml", ": no feeds (no <outline> has an xmlUrl)"},
	    {"bad/only-scripts.opml", ": no feeds with an http or https xmlUrl (2 skipped)"},
	    {"bad/empty.opml", ": empty file, not OPML"},
	    {"bad/html.opml", ": an HTML page, not OPML"},
	    {"bad/billion-laughs.opml",
	     ":3: declares the XML entity 'lol'; OPML has no use for entities, so the file is refused"},
	    {"bad/xxe.opml",
	     ":3: declares the XML entity 'secret'; OPML has no use for entities, so the file is refused"},
	    {"bad/xxe-parameter.opml",
	     ":3: declares the XML entity 'remote'; OPML has no use for entities, so the file is refused"},
	    {"bad/does-not-exist.opml", ": cannot open: No such file or directory"},
	    {"bad", ": cannot read: Is a directory"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *path = data_path(bad[i].file), *err = (char *)"unset", *want;
		struct buf out;

		buf_init(&out);
		buf_puts(&out, "keep");
		assert_int_equal(opml_import(path, &out, &err), -1);
		want = xasprintf("%s%s", path, bad[i].msg);
		assert_non_null(err);
		assert_string_equal(err, want);
		assert_string_equal(out.data, "keep");
		free(want);
		free(err);
		free(path);
		buf_free(&out);
	}
}

/* A file over 16 MiB is refused before it is parsed. */
static void
test_import_too_large(void **state)
{
	struct fixture *fx = *state;
	char *path = write_file(fx, "huge.opml", "<opml>", 6), *err = NULL, *want;
	struct buf out;
	int fd;

	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16L * 1024 * 1024 + 1), 0);
	close(fd);
	buf_init(&out);
	assert_int_equal(opml_import(path, &out, &err), -1);
	want = xasprintf("%s: too large (16777217 bytes; the limit is 16 MiB)", path);
	assert_string_equal(err, want);
	assert_null(out.data);
	free(want);
	free(err);
	free(path);
}

/* "-" reads standard input and is called stdin in messages; output is
 * appended after what out holds. */
static void
test_import_stdin_appends(void **state)
{
	char *path = data_path("newsboat.opml"), *err = NULL;
	struct buf out;
	int fd, saved;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	buf_init(&out);
	buf_puts(&out, "[feedmux]\n\n");
	assert_int_equal(opml_import("-", &out, &err), 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_null(err);
	assert_true(strncmp(out.data, "[feedmux]\n\n# From stdin by feedmux --import-opml: 6 feeds.\n", 58) ==
	            0);
	assert_string_equal(out.data + strlen("[feedmux]\n\n# From stdin"),
	                    newsboat_expected + strlen("# From newsboat.opml"));
	buf_free(&out);
	free(path);
}

/* opml_write: well-formed OPML 2.0 with the feeds in config order, titles
 * from config, then meta, then the name; topics as categories; escaping;
 * the same bytes every time; and it imports back to the same feeds. */
static void
test_write_roundtrip(void **state)
{
	static const char conf[] = "[topic world]\nmatch = world\n\n"
	                           "[topic ukraine]\ntitle = Ukraine\nmatch = Ukraine, Kyiv\n\n"
	                           "[feed bbc]\nurl = https://feeds.bbci.co.uk/news/world/rss.xml\n"
	                           "topics = world, ukraine\n\n"
	                           "[feed quotes]\nurl = https://example.org/rss?a=1&b=<2>\n"
	                           "title = \"Quotes\" & <Angles> — café\n\n"
	                           "[feed plain]\nurl = http://plain.example.net/feed\ntopics = world\n";
	static const char *const bbc_topics[] = {"world", "ukraine", NULL};
	static const char *const plain_topics[] = {"world", NULL};
	struct fixture *fx = *state;
	struct feed_meta bbc_meta = {"BBC News - World", "https://www.bbc.co.uk/news/world", NULL, 0, 0};
	struct config *cfg = load_conf(fx, conf), *back;
	struct buf a, b, imported;
	xmlDocPtr doc;
	xmlNodePtr root, head, body, o;
	char *v, *path, *err = NULL;
	size_t n = 0;

	buf_init(&a);
	buf_init(&b);
	buf_init(&imported);
	assert_int_equal(opml_write(cfg, "World <Desk>", meta_of, &bbc_meta, &a), 0);
	assert_int_equal(opml_write(cfg, "World <Desk>", meta_of, &bbc_meta, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);

	doc = xmlReadMemory(a.data, (int)a.len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "opml");
	v = attr(root, "version");
	assert_string_equal(v, "2.0");
	free(v);
	head = child(root, "head");
	assert_non_null(head);
	v = (char *)xmlNodeGetContent(child(head, "title"));
	assert_string_equal(v, "World <Desk>");
	xmlFree(v);
	assert_null(child(head, "dateCreated"));
	body = child(root, "body");
	assert_non_null(body);
	for (o = body->children; o != NULL; o = o->next) {
		if (o->type != XML_ELEMENT_NODE)
			continue;
		assert_string_equal((const char *)o->name, "outline");
		v = attr(o, "type");
		assert_string_equal(v, "rss");
		free(v);
		n++;
	}
	assert_int_equal(n, 3);
	o = child(body, "outline");
	v = attr(o, "text");
	assert_string_equal(v, "BBC News - World");
	free(v);
	v = attr(o, "htmlUrl");
	assert_string_equal(v, "https://www.bbc.co.uk/news/world");
	free(v);
	v = attr(o, "category");
	assert_string_equal(v, "/world,/ukraine");
	free(v);
	for (o = o->next; o->type != XML_ELEMENT_NODE; o = o->next)
		;
	v = attr(o, "title");
	assert_string_equal(v, "\"Quotes\" & <Angles> — café");
	free(v);
	v = attr(o, "xmlUrl");
	assert_string_equal(v, "https://example.org/rss?a=1&b=<2>");
	free(v);
	assert_null(xmlHasProp(o, BAD_CAST "htmlUrl"));
	assert_null(xmlHasProp(o, BAD_CAST "category"));
	for (o = o->next; o->type != XML_ELEMENT_NODE; o = o->next)
		;
	v = attr(o, "text");
	assert_string_equal(v, "plain");
	free(v);
	xmlFreeDoc(doc);

	/* Import it back: the same URLs in the same order, the same topics. */
	path = write_file(fx, "feeds.opml", a.data, a.len);
	assert_int_equal(opml_import(path, &imported, &err), 0);
	assert_null(err);
	back = load_conf(fx, imported.data);
	assert_int_equal(back->nfeeds, cfg->nfeeds);
	for (size_t i = 0; i < cfg->nfeeds; i++)
		assert_string_equal(back->feeds[i].url, cfg->feeds[i].url);
	assert_string_equal(back->feeds[0].name, "bbc-news-world");
	assert_topics(&back->feeds[0], bbc_topics);
	assert_string_equal(back->feeds[1].title, "\"Quotes\" & <Angles> — café");
	assert_string_equal(back->feeds[2].name, "plain");
	assert_null(back->feeds[2].title);
	assert_topics(&back->feeds[2], plain_topics);
	assert_int_equal(back->ntopics, 2);

	/* Without meta: the feed's name stands in for its title. */
	buf_reset(&b);
	assert_int_equal(opml_write(cfg, NULL, NULL, NULL, &b), 0);
	assert_non_null(strstr(b.data, "<title>feedmux</title>"));
	assert_non_null(strstr(b.data, "text=\"bbc\""));
	assert_null(strstr(b.data, "htmlUrl"));

	config_free(back);
	config_free(cfg);
	buf_free(&a);
	buf_free(&b);
	buf_free(&imported);
	free(path);
}

/* A config without feeds still gives a valid, empty body. */
static void
test_write_empty(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg = load_conf(fx, "");
	struct buf out;
	xmlDocPtr doc;

	buf_init(&out);
	buf_puts(&out, "");
	assert_int_equal(opml_write(cfg, "Empty", NULL, NULL, &out), 0);
	doc = xmlReadMemory(out.data, (int)out.len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(doc);
	assert_non_null(child(xmlDocGetRootElement(doc), "body"));
	xmlFreeDoc(doc);
	config_free(cfg);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_import_feedly_exact),
	    cmocka_unit_test(test_import_newsboat_exact),
	    cmocka_unit_test_setup_teardown(test_import_samples_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_folders_topics, setup, teardown),
	    cmocka_unit_test(test_import_bad_files),
	    cmocka_unit_test_setup_teardown(test_import_too_large, setup, teardown),
	    cmocka_unit_test(test_import_stdin_appends),
	    cmocka_unit_test_setup_teardown(test_write_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_empty, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
