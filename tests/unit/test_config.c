/* test_config.c: feedmux.conf parsing: value syntax, defaults, every key,
 * lists and continuation lines, path resolution, and the exact text of
 * each error message. Config files are written into a mkdtemp directory
 * under TMPDIR and removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "story.h"
#include "strlist.h"
#include "xalloc.h"

struct fixture {
	char *dir;
	struct strlist files;
};

static struct fixture *fx_of(void **state);
static char *write_conf(struct fixture *fx, const char *name, const char *text);
static struct config *load_ok(struct fixture *fx, const char *text);
static void expect_errors(struct fixture *fx, const char *text, const char *const *want);

/* Make a private directory for this run's files. */
static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/feedmux-test-config-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");

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

/* The fixture behind cmocka's state pointer. */
static struct fixture *
fx_of(void **state)
{
	return *state;
}

/* Write text to dir/name; returns the path (owned by the fixture). */
static char *
write_conf(struct fixture *fx, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", fx->dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < fx->files.n; i++) {
		if (strcmp(fx->files.v[i], path) == 0) {
			free(path);
			return fx->files.v[i];
		}
	}
	strlist_take(&fx->files, path);
	return path;
}

/* Load text, which must be valid. */
static struct config *
load_ok(struct fixture *fx, const char *text)
{
	struct strlist errors;
	struct config *cfg;
	const char *path = write_conf(fx, "ok.conf", text);

	strlist_init(&errors);
	cfg = config_load(path, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_error("unexpected: %s\n", errors.v[i]);
	assert_int_equal(errors.n, 0);
	assert_non_null(cfg);
	strlist_free(&errors);
	return cfg;
}

/* Feeds are found by name in a loaded config (through its index) and in
 * one built by hand, at their positions. */
static void
test_feed_pos(void **state)
{
	struct buf text;
	struct config *cfg, hand;
	struct config_feed two[2];
	char name[32];

	buf_init(&text);
	buf_puts(&text, "[feedmux]\nlisten =\n");
	for (int i = 0; i < 500; i++)
		buf_printf(&text, "[feed f%03d]\nurl = http://example.org/%d.xml\n", i, i);
	cfg = load_ok(fx_of(state), text.data);
	assert_int_equal(cfg->nfeeds, 500);
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "f%03d", i);
		if (config_feed_pos(cfg, name) != (size_t)i)
			fail_msg("feed %s: position %zu, expected %d", name, config_feed_pos(cfg, name), i);
		assert_ptr_equal(config_find_feed(cfg, name), &cfg->feeds[i]);
	}
	assert_int_equal(config_feed_pos(cfg, "f500"), SIZE_MAX);
	assert_null(config_find_feed(cfg, "F000"));
	config_free(cfg);
	buf_free(&text);

	memset(&hand, 0, sizeof hand);
	memset(two, 0, sizeof two);
	two[0].name = "alpha";
	two[1].name = "beta";
	hand.feeds = two;
	hand.nfeeds = 2;
	assert_int_equal(config_feed_pos(&hand, "beta"), 1);
	assert_int_equal(config_feed_pos(&hand, "gamma"), SIZE_MAX);
}

/* Load text, which must fail with exactly the errors in want ("LINE:
 * message", NULL-terminated), each prefixed by the file's path. */
static void
expect_errors(struct fixture *fx, const char *text, const char *const *want)
{
	struct strlist errors;
	struct config *cfg;
	const char *path = write_conf(fx, "bad.conf", text);
	size_t n = 0;

	strlist_init(&errors);
	cfg = config_load(path, &errors);
	assert_null(cfg);
	while (want[n] != NULL)
		n++;
	for (size_t i = 0; i < errors.n || i < n; i++) {
		char *w = i < n ? xasprintf("%s:%s", path, want[i]) : NULL;
		const char *got = i < errors.n ? errors.v[i] : "(nothing)";
		if (w == NULL || strcmp(w, got) != 0)
			print_error("error %zu:\n  want %s\n  got  %s\n", i, w ? w : "(nothing)", got);
		assert_non_null(w);
		assert_string_equal(got, w);
		free(w);
	}
	strlist_free(&errors);
}

/* Durations: units, bare seconds, and everything that is not one. */
static void
test_duration(void **state)
{
	(void)state;
	assert_int_equal(config_parse_duration("0"), 0);
	assert_int_equal(config_parse_duration("90"), 90);
	assert_int_equal(config_parse_duration("45s"), 45);
	assert_int_equal(config_parse_duration("30m"), 1800);
	assert_int_equal(config_parse_duration("2h"), 7200);
	assert_int_equal(config_parse_duration("14d"), 14 * 86400);
	assert_int_equal(config_parse_duration("007m"), 420);
	assert_int_equal(config_parse_duration(""), -1);
	assert_int_equal(config_parse_duration("m"), -1);
	assert_int_equal(config_parse_duration("-5m"), -1);
	assert_int_equal(config_parse_duration("+5m"), -1);
	assert_int_equal(config_parse_duration(" 5m"), -1);
	assert_int_equal(config_parse_duration("5 m"), -1);
	assert_int_equal(config_parse_duration("5M"), -1);
	assert_int_equal(config_parse_duration("5w"), -1);
	assert_int_equal(config_parse_duration("5ms"), -1);
	assert_int_equal(config_parse_duration("1h30m"), -1);
	assert_int_equal(config_parse_duration("1.5h"), -1);
	assert_int_equal(config_parse_duration("0x10"), -1);
	assert_int_equal(config_parse_duration("99999999999999999999"), -1);
	assert_int_equal(config_parse_duration("999999999999999999d"), -1);
	assert_int_equal(config_parse_duration(NULL), -1);
}

/* Sizes: binary units, bare bytes, and everything that is not one. */
static void
test_size(void **state)
{
	(void)state;
	assert_int_equal(config_parse_size("0"), 0);
	assert_int_equal(config_parse_size("4096"), 4096);
	assert_int_equal(config_parse_size("512k"), 512 * 1024);
	assert_int_equal(config_parse_size("512K"), 512 * 1024);
	assert_int_equal(config_parse_size("16M"), 16L * 1024 * 1024);
	assert_int_equal(config_parse_size("16m"), 16L * 1024 * 1024);
	assert_int_equal(config_parse_size("1G"), 1024L * 1024 * 1024);
	assert_int_equal(config_parse_size(""), -1);
	assert_int_equal(config_parse_size("k"), -1);
	assert_int_equal(config_parse_size("-1"), -1);
	assert_int_equal(config_parse_size("16MB"), -1);
	assert_int_equal(config_parse_size("16 M"), -1);
	assert_int_equal(config_parse_size("1T"), -1);
	assert_int_equal(config_parse_size("1.5M"), -1);
	assert_int_equal(config_parse_size("99999999999999999999"), -1);
	assert_int_equal(config_parse_size("99999999999999G"), -1);
	assert_int_equal(config_parse_size(NULL), -1);
}

/* An empty file is valid and yields every documented default. */
static void
test_defaults(void **state)
{
	struct config *cfg = load_ok(fx_of(state), "");

	assert_string_equal(cfg->title, "feedmux");
	assert_null(cfg->subtitle);
	assert_null(cfg->id);
	assert_null(cfg->author);
	assert_string_equal(cfg->base_url, "http://127.0.0.1:8080/");
	assert_null(cfg->link);
	assert_int_equal(cfg->listen.n, 1);
	assert_string_equal(cfg->listen.v[0], "127.0.0.1:8080");
	assert_string_equal(cfg->state, LOCALSTATEDIR "/lib/feedmux/state.db");
	assert_null(cfg->output_dir);
	assert_null(cfg->user_agent);
	assert_int_equal(cfg->interval, 30 * 60);
	assert_int_equal(cfg->min_interval, 5 * 60);
	assert_int_equal(cfg->max_interval, 24 * 3600);
	assert_int_equal(cfg->max_entries, 200);
	assert_int_equal(cfg->max_per_feed, 0);
	assert_int_equal(cfg->max_age, 14 * 86400);
	assert_int_equal(cfg->keep, 90 * 86400);
	assert_int_equal(cfg->concurrency, 64);
	assert_int_equal(cfg->per_host, 6);
	assert_int_equal(cfg->connect_timeout, 10);
	assert_int_equal(cfg->timeout, 60);
	assert_int_equal(cfg->low_speed_limit, 64);
	assert_int_equal(cfg->low_speed_time, 30);
	assert_int_equal(cfg->max_redirects, 5);
	assert_int_equal(cfg->max_body, 16L * 1024 * 1024);
	assert_int_equal(cfg->max_header, 64 * 1024);
	assert_int_equal(cfg->allow_private_networks, 1);
	assert_int_equal(cfg->stories, 1);
	assert_int_equal(cfg->story_window, 48 * 3600);
	assert_true(cfg->story_threshold == STORY_THRESHOLD_DEFAULT);
	assert_int_equal(cfg->ntopics, 0);
	assert_int_equal(cfg->nfeeds, 0);
	assert_non_null(strstr(cfg->path, "ok.conf"));
	config_free(cfg);

	/* An empty [feedmux] is the same as none. */
	cfg = load_ok(fx_of(state), "; nothing here\n[feedmux]\n# still nothing\n");
	assert_int_equal(cfg->max_entries, 200);
	config_free(cfg);
}

/* Every key of every section is read into its field. */
static void
test_all_keys(void **state)
{
	struct config *cfg =
	    load_ok(fx_of(state), "[feedmux]\n"
	                          "title = World Desk\n"
	                          "subtitle = All the news\n"
	                          "id = tag:example.org,2024:world\n"
	                          "author = The Desk\n"
	                          "base_url = https://news.example.org/desk\n"
	                          "link = https://example.org/\n"
	                          "listen = 127.0.0.1:8080, [::1]:8080, *:9090, localhost:81\n"
	                          "state = /srv/feedmux/state.db\n"
	                          "output_dir = /srv/feedmux/public\n"
	                          "user_agent = MyDesk/1.0 (+https://example.org/)\n"
	                          "interval = 1h\n"
	                          "min_interval = 10m\n"
	                          "max_interval = 2d\n"
	                          "max_entries = 500\n"
	                          "max_per_feed = 20\n"
	                          "max_age = 7d\n"
	                          "keep = 30d\n"
	                          "concurrency = 100\n"
	                          "per_host = 2\n"
	                          "connect_timeout = 5s\n"
	                          "timeout = 2m\n"
	                          "low_speed_limit = 1k\n"
	                          "low_speed_time = 45\n"
	                          "max_redirects = 0\n"
	                          "max_body = 8M\n"
	                          "max_header = 32k\n"
	                          "allow_private_networks = no\n"
	                          "stories = off\n"
	                          "story_window = 36h\n"
	                          "story_threshold = 0.75\n"
	                          "\n"
	                          "[topic ukraine]\n"
	                          "title = Ukraine\n"
	                          "match = Ukraine, Kyiv, Volodymyr Zelensky\n"
	                          "exclude = Kyivstar\n"
	                          "categories = yes\n"
	                          "\n"
	                          "[topic world]\n"
	                          "\n"
	                          "[feed bbc-world]\n"
	                          "url = https://feeds.bbci.co.uk/news/world/rss.xml\n"
	                          "title = BBC World\n"
	                          "topics = world, ukraine\n"
	                          "interval = 15m\n"
	                          "\n"
	                          "[feed local.file_1]\n"
	                          "url = file:///srv/feeds/local.xml\n");
	const struct config_topic *t;
	const struct config_feed *f;

	assert_string_equal(cfg->title, "World Desk");
	assert_string_equal(cfg->subtitle, "All the news");
	assert_string_equal(cfg->id, "tag:example.org,2024:world");
	assert_string_equal(cfg->author, "The Desk");
	assert_string_equal(cfg->base_url, "https://news.example.org/desk/");
	assert_string_equal(cfg->link, "https://example.org/");
	assert_int_equal(cfg->listen.n, 4);
	assert_string_equal(cfg->listen.v[0], "127.0.0.1:8080");
	assert_string_equal(cfg->listen.v[1], "[::1]:8080");
	assert_string_equal(cfg->listen.v[2], "*:9090");
	assert_string_equal(cfg->listen.v[3], "localhost:81");
	assert_string_equal(cfg->state, "/srv/feedmux/state.db");
	assert_string_equal(cfg->output_dir, "/srv/feedmux/public");
	assert_string_equal(cfg->user_agent, "MyDesk/1.0 (+https://example.org/)");
	assert_int_equal(cfg->interval, 3600);
	assert_int_equal(cfg->min_interval, 600);
	assert_int_equal(cfg->max_interval, 2 * 86400);
	assert_int_equal(cfg->max_entries, 500);
	assert_int_equal(cfg->max_per_feed, 20);
	assert_int_equal(cfg->max_age, 7 * 86400);
	assert_int_equal(cfg->keep, 30 * 86400);
	assert_int_equal(cfg->concurrency, 100);
	assert_int_equal(cfg->per_host, 2);
	assert_int_equal(cfg->connect_timeout, 5);
	assert_int_equal(cfg->timeout, 120);
	assert_int_equal(cfg->low_speed_limit, 1024);
	assert_int_equal(cfg->low_speed_time, 45);
	assert_int_equal(cfg->max_redirects, 0);
	assert_int_equal(cfg->max_body, 8L * 1024 * 1024);
	assert_int_equal(cfg->max_header, 32 * 1024);
	assert_int_equal(cfg->allow_private_networks, 0);
	assert_int_equal(cfg->stories, 0);
	assert_int_equal(cfg->story_window, 36 * 3600);
	assert_true(cfg->story_threshold == 0.75);

	assert_int_equal(cfg->ntopics, 2);
	t = config_find_topic(cfg, "ukraine");
	assert_non_null(t);
	assert_string_equal(t->name, "ukraine");
	assert_string_equal(t->title, "Ukraine");
	assert_int_equal(t->match.n, 3);
	assert_string_equal(t->match.v[2], "Volodymyr Zelensky");
	assert_int_equal(t->exclude.n, 1);
	assert_string_equal(t->exclude.v[0], "Kyivstar");
	assert_int_equal(t->categories, 1);
	assert_int_equal(t->line, 33);
	t = config_find_topic(cfg, "world");
	assert_non_null(t);
	assert_string_equal(t->title, "world"); /* defaults to the name */
	assert_int_equal(t->match.n, 0);
	assert_int_equal(t->categories, 0);
	assert_null(config_find_topic(cfg, "sport"));

	assert_int_equal(cfg->nfeeds, 2);
	f = config_find_feed(cfg, "bbc-world");
	assert_non_null(f);
	assert_string_equal(f->url, "https://feeds.bbci.co.uk/news/world/rss.xml");
	assert_string_equal(f->title, "BBC World");
	assert_int_equal(f->topics.n, 2);
	assert_string_equal(f->topics.v[0], "world");
	assert_string_equal(f->topics.v[1], "ukraine");
	assert_int_equal(f->interval, 900);
	assert_int_equal(f->line, 41);
	f = config_find_feed(cfg, "local.file_1");
	assert_non_null(f);
	assert_string_equal(f->url, "file:///srv/feeds/local.xml");
	assert_null(f->title);
	assert_int_equal(f->topics.n, 0);
	assert_int_equal(f->interval, 0);
	assert_null(config_find_feed(cfg, "bbc"));
	config_free(cfg);
}

/* Booleans in every accepted spelling. */
static void
test_bools(void **state)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "No", "OFF"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		char *text =
		    xasprintf("[feedmux]\nstories = %s\nallow_private_networks = %s\n", yes[i], no[i]);
		struct config *cfg = load_ok(fx_of(state), text);
		assert_int_equal(cfg->stories, 1);
		assert_int_equal(cfg->allow_private_networks, 0);
		config_free(cfg);
		free(text);
	}
}

/* Lists: commas, spaces, empty items, continuation lines, inline comments. */
static void
test_lists(void **state)
{
	struct config *cfg = load_ok(fx_of(state), "[feedmux]\n"
	                                           "listen =\n"
	                                           "[topic ukraine]\n"
	                                           "match = Ukraine ,Kyiv,,  Zelensky ,\n"
	                                           "        Donbas, Kharkiv ; these continue the list\n"
	                                           "\n"
	                                           "\tOdesa\n"
	                                           "exclude = a;b, c # d\n"
	                                           "[feed a]\n"
	                                           "url = https://example.org/a.xml\n"
	                                           "topics =\n"
	                                           "  ukraine\n");
	const struct config_topic *t = config_find_topic(cfg, "ukraine");
	static const char *const want[] = {"Ukraine", "Kyiv", "Zelensky", "Donbas", "Kharkiv", "Odesa"};

	assert_int_equal(cfg->listen.n, 0); /* empty: no HTTP server */
	assert_int_equal(t->match.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(t->match.v[i], want[i]);
	/* ';' starts a comment only after whitespace; '#' only at line start. */
	assert_int_equal(t->exclude.n, 2);
	assert_string_equal(t->exclude.v[0], "a;b");
	assert_string_equal(t->exclude.v[1], "c # d");
	assert_int_equal(cfg->feeds[0].topics.n, 1);
	assert_string_equal(cfg->feeds[0].topics.v[0], "ukraine");
	config_free(cfg);
}

/* Relative state and output_dir are taken from the config file's directory. */
static void
test_relative_paths(void **state)
{
	struct fixture *fx = fx_of(state);
	struct config *cfg;
	char *real = realpath(fx->dir, NULL), *want;

	assert_non_null(real);
	cfg = load_ok(fx, "[feedmux]\nstate = state.db\noutput_dir = ../public/feeds\n");
	want = xasprintf("%s/state.db", real);
	assert_string_equal(cfg->state, want);
	free(want);
	want = xasprintf("%s/../public/feeds", real);
	assert_string_equal(cfg->output_dir, want);
	free(want);
	config_free(cfg);

	/* A file: URL with a relative path, too. */
	cfg = load_ok(fx, "[feed local]\nurl = file:feeds/local.xml\n[feed abs]\nurl = file:///srv/x.xml\n");
	want = xasprintf("file://%s/feeds/local.xml", real);
	if (strchr(real, ' ') == NULL && strchr(real, '%') == NULL)
		assert_string_equal(cfg->feeds[0].url, want);
	free(want);
	assert_string_equal(cfg->feeds[1].url, "file:///srv/x.xml");
	config_free(cfg);

	cfg = load_ok(fx, "[feedmux]\nstate = :memory:\noutput_dir = /srv/out\n");
	assert_string_equal(cfg->state, ":memory:");
	assert_string_equal(cfg->output_dir, "/srv/out");
	config_free(cfg);

	/* The same when the config itself was named by a relative path. */
	{
		struct strlist errors;
		char *cwd = getcwd(NULL, 0);
		assert_non_null(cwd);
		write_conf(fx, "rel.conf", "[feedmux]\nstate = sub/state.db\n");
		assert_int_equal(chdir(fx->dir), 0);
		strlist_init(&errors);
		cfg = config_load("./rel.conf", &errors);
		assert_int_equal(chdir(cwd), 0);
		assert_non_null(cfg);
		want = xasprintf("%s/sub/state.db", real);
		assert_string_equal(cfg->state, want);
		assert_string_equal(cfg->path, "./rel.conf");
		free(want);
		config_free(cfg);
		strlist_free(&errors);
		free(cwd);
	}
	free(real);
}

/* Syntax that inih and we accept: BOM, CRLF, ':' as separator, comments,
 * trailing comments on section headers, values longer than inih's buffer. */
static void
test_syntax(void **state)
{
	char long_url[600];
	char *text;
	struct config *cfg;

	cfg = load_ok(fx_of(state), "\xef\xbb\xbf[feedmux]\r\n"
	                            "title: Desk ; comment\r\n"
	                            "  # an indented comment is still a comment\r\n"
	                            "[feed a] ; the first feed\r\n"
	                            "url = https://example.org/?a=1;b=2\r\n");
	assert_string_equal(cfg->title, "Desk");
	assert_string_equal(cfg->feeds[0].url, "https://example.org/?a=1;b=2");
	config_free(cfg);

	snprintf(long_url, sizeof long_url, "https://news.example.org/rss/search?q=%0500d", 7);
	text =
	    xasprintf("[feed long]\nurl = %s   ; long\n[topic t]\nmatch = a,\n  %0300d ; c\n", long_url, 1);
	cfg = load_ok(fx_of(state), text);
	assert_string_equal(cfg->feeds[0].url, long_url);
	assert_int_equal(cfg->topics[0].match.n, 2);
	assert_int_equal(strlen(cfg->topics[0].match.v[1]), 300);
	config_free(cfg);
	free(text);
}

/* A missing file and a directory: one line-less error. */
static void
test_open_errors(void **state)
{
	struct fixture *fx = fx_of(state);
	struct strlist errors;
	char *path = xasprintf("%s/missing.conf", fx->dir), *want;

	strlist_init(&errors);
	assert_null(config_load(path, &errors));
	assert_int_equal(errors.n, 1);
	want = xasprintf("%s: cannot open: No such file or directory", path);
	assert_string_equal(errors.v[0], want);
	free(want);
	strlist_free(&errors);

	strlist_init(&errors);
	assert_null(config_load(fx->dir, &errors));
	assert_int_equal(errors.n, 1);
	want = xasprintf("%s: cannot open: Is a directory", fx->dir);
	assert_string_equal(errors.v[0], want);
	free(want);
	strlist_free(&errors);
	free(path);
}

/* Sections: unknown (with and without a hint), names, duplicates. */
static void
test_errors_sections(void **state)
{
	static const char *const want[] = {
	    "1: unknown section '[fed bbc]' (did you mean '[feed bbc]'?)",
	    "3: unknown section '[feedmx]' (did you mean '[feedmux]'?)",
	    "4: unknown section '[topics]' (did you mean '[topic NAME]'?)",
	    "5: unknown section '[global]' (sections are [feedmux], [topic NAME] and [feed NAME])",
	    "6: [feed] needs a name: [feed NAME]",
	    "7: invalid feed name 'a b' (use 1 to 64 letters, digits, '.', '_' or '-')",
	    "8: invalid topic name 'wörld' (use 1 to 64 letters, digits, '.', '_' or '-')",
	    "9: invalid feed name "
	    "'x12345678901234567890123456789012345678901234567890123456789012345' (use 1 to 64 "
	    "letters, digits, '.', '_' or '-')",
	    "10: [feedmux] takes no name (found 'main')",
	    "11: missing ']' at the end of the section header",
	    "12: unexpected text 'extra' after the section header",
	    "14: duplicate section [feedmux] (first at line 13)",
	    "17: duplicate feed 'a' (first at line 15)",
	    "20: duplicate topic 't' (first at line 18)",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "[fed bbc]\n"
	              "url = https://example.org/\n"
	              "[feedmx]\n"
	              "[topics]\n"
	              "[global]\n"
	              "[feed]\n"
	              "[feed a b]\n"
	              "[topic wörld]\n"
	              "[feed x12345678901234567890123456789012345678901234567890123456789012345]\n"
	              "[feedmux main]\n"
	              "[feed broken\n"
	              "[feed ok] extra\n"
	              "[feedmux]\n"
	              "[feedmux]\n"
	              "[feed a]\n"
	              "url = https://example.org/a\n"
	              "[feed a]\n"
	              "[topic t]\nmatch = x\n"
	              "[topic t]\n",
	              want);
}

/* Keys: unknown with hints, wrong section, outside sections, duplicates,
 * lines that are not key = value, continuation of single values. */
static void
test_errors_keys(void **state)
{
	static const char *const want[] = {
	    "1: key 'title' is outside any section (add [feedmux] above it)",
	    "2: key 'colour' is outside any section",
	    "4: unknown key 'intervall' (did you mean 'interval'?)",
	    "5: unknown key 'Title' (did you mean 'title'?)",
	    "6: unknown key 'url' in [feedmux] (it belongs in [feed NAME])",
	    "7: unknown key 'colour' in [feedmux]",
	    "9: duplicate key 'title' (first set at line 8)",
	    "10: expected 'key = value', '[section]' or a comment",
	    "11: missing key name before '='",
	    "14: indented line continues 'url', which takes one value (remove the indentation)",
	    "15: indented line continues 'url', which takes one value (remove the indentation)",
	    "16: unknown key 'topic' (did you mean 'topics'?)",
	    "17: unknown key 'match' in [feed NAME] (it belongs in [topic NAME])",
	    "18: topic 't' has no match terms and no feed lists it in topics, so it would always be empty",
	    "19: unknown key 'matches' (did you mean 'match'?)",
	    "21: indented line continues 'exclude' (remove the indentation if this is a key)",
	    "22: 'title' needs a value",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "title = Desk\n"
	              "colour = red\n"
	              "[feedmux]\n"
	              "intervall = 30m\n"
	              "Title = Desk\n"
	              "url = https://example.org/\n"
	              "colour = red\n"
	              "title = A\n"
	              "title = B\n"
	              "just some words\n"
	              "= value\n"
	              "[feed a]\n"
	              "url = https://example.org/a\n"
	              "  title = A\n"
	              "  title = B\n"
	              "topic = t\n"
	              "match = x\n"
	              "[topic t]\n"
	              "matches = x\n"
	              "exclude = y\n"
	              "  title = T\n"
	              "title =\n",
	              want);
}

/* Values: durations, sizes, numbers, bools, ranges; one file per case so
 * that no key is set twice. */
static void
test_errors_values(void **state)
{
	static const struct {
		const char *section, *line, *want;
	} cases[] = {
	    {"feedmux", "interval = 30 min",
	     "invalid duration '30 min' for 'interval' (use a number with s, m, h or d, e.g. 30m)"},
	    {"feedmux", "min_interval = 0", "'min_interval' must be between 1s and 365d (got 0)"},
	    {"feedmux", "max_interval = -5m",
	     "invalid duration '-5m' for 'max_interval' (use a number with s, m, h or d, e.g. 30m)"},
	    {"feedmux", "max_age = 1.5d",
	     "invalid duration '1.5d' for 'max_age' (use a number with s, m, h or d, e.g. 30m)"},
	    {"feedmux", "keep = 3651d", "'keep' must be between 1s and 3650d (got 3651d)"},
	    {"feedmux", "max_body = 16MB",
	     "invalid size '16MB' for 'max_body' (use a number of bytes with an optional k, M or G, e.g. "
	     "16M)"},
	    {"feedmux", "max_body = 2G", "'max_body' must be between 1k and 1G (got 2G)"},
	    {"feedmux", "max_header = 100", "'max_header' must be between 1k and 1M (got 100)"},
	    {"feedmux", "low_speed_limit = 64 bytes",
	     "invalid size '64 bytes' for 'low_speed_limit' (use a number of bytes with an optional k, M or "
	     "G, "
	     "e.g. 16M)"},
	    {"feedmux", "low_speed_time = 0", "'low_speed_time' must be between 1s and 1h (got 0)"},
	    {"feedmux", "max_entries = 0", "'max_entries' must be between 1 and 100000 (got 0)"},
	    {"feedmux", "max_entries = 100001", "'max_entries' must be between 1 and 100000 (got 100001)"},
	    {"feedmux", "concurrency = abc", "invalid number 'abc' for 'concurrency'"},
	    {"feedmux", "concurrency = 10001", "'concurrency' must be between 1 and 10000 (got 10001)"},
	    {"feedmux", "per_host = 12.5", "invalid number '12.5' for 'per_host'"},
	    {"feedmux", "per_host = 1001", "'per_host' must be between 1 and 1000 (got 1001)"},
	    {"feedmux", "max_redirects = 21", "'max_redirects' must be between 0 and 20 (got 21)"},
	    {"feedmux", "max_per_feed = 99999999999999999999999",
	     "invalid number '99999999999999999999999' for 'max_per_feed'"},
	    {"feedmux", "max_per_feed = -1", "invalid number '-1' for 'max_per_feed'"},
	    {"feedmux", "max_per_feed = 0x10", "invalid number '0x10' for 'max_per_feed'"},
	    {"feedmux", "stories = maybe",
	     "invalid boolean 'maybe' for 'stories' (use yes/no, true/false, on/off or 1/0)"},
	    {"feedmux", "allow_private_networks = 2",
	     "invalid boolean '2' for 'allow_private_networks' (use yes/no, true/false, on/off or 1/0)"},
	    {"feedmux", "story_threshold = half", "invalid number 'half' for 'story_threshold'"},
	    {"feedmux", "story_threshold = nan", "invalid number 'nan' for 'story_threshold'"},
	    {"feedmux", "story_threshold = 0.5x", "invalid number '0.5x' for 'story_threshold'"},
	    {"feedmux", "story_threshold = 1.5",
	     "'story_threshold' must be greater than 0 and at most 1 (got 1.5)"},
	    {"feedmux", "story_threshold = 0",
	     "'story_threshold' must be greater than 0 and at most 1 (got 0)"},
	    {"feedmux", "story_window = 31d", "'story_window' must be between 1m and 30d (got 31d)"},
	    {"feedmux", "timeout = 0", "'timeout' must be between 1s and 1d (got 0)"},
	    {"feedmux", "connect_timeout = 2h", "'connect_timeout' must be between 1s and 1h (got 2h)"},
	    {"feedmux", "user_agent =", "'user_agent' needs a value"},
	    {"feedmux", "state =", "'state' needs a value"},
	    {"topic t", "categories = y",
	     "invalid boolean 'y' for 'categories' (use yes/no, true/false, on/off or 1/0)"},
	    {"feed f", "interval = 0", "'interval' must be between 1s and 365d (got 0)"},
	    {"feed f", "interval = soon",
	     "invalid duration 'soon' for 'interval' (use a number with s, m, h or d, e.g. 30m)"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *extra = strncmp(cases[i].section, "feed ", 5) == 0
		                        ? "url = https://example.org/f\n"
		                    : strncmp(cases[i].section, "topic", 5) == 0 ? "match = x\n"
		                                                                 : "";
		char *text = xasprintf("[%s]\n%s\n%s", cases[i].section, cases[i].line, extra);
		char *w = xasprintf("2: %s", cases[i].want);
		const char *const want[] = {w, NULL};

		expect_errors(fx_of(state), text, want);
		free(text);
		free(w);
	}
}

/* Duplicate keys are reported even when the first value was bad. */
static void
test_errors_duplicate_key(void **state)
{
	static const char *const want[] = {
	    "2: 'max_entries' must be between 1 and 100000 (got 0)",
	    "3: duplicate key 'max_entries' (first set at line 2)",
	    "6: duplicate key 'url' (first set at line 5)",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "[feedmux]\n"
	              "max_entries = 0\n"
	              "max_entries = 10\n"
	              "[feed a]\n"
	              "url = https://example.org/a\n"
	              "url = https://example.org/b\n",
	              want);
}

/* URLs and listen addresses. */
static void
test_errors_addresses(void **state)
{
	static const char *const want[] = {
	    "2: 'base_url' must be an absolute http or https URL (got 'ftp://example.org/')",
	    "3: 'link' must be an absolute http or https URL (got 'file:///tmp/x')",
	    "4: 'id' must be an absolute URI such as 'tag:example.org,2024:feedmux' (got 'my feed')",
	    "5: listen address '127.0.0.1' has no port (use HOST:PORT, e.g. 127.0.0.1:8080)",
	    "5: port 99999 out of range (1-65535) in listen address '[::1]:99999'",
	    "6: IPv6 listen address '::1:8080' needs brackets, e.g. [::1]:8080",
	    "6: invalid host 'foo!bar' in listen address 'foo!bar:80'",
	    "6: listen address ':80' has no host (use *:80 for all addresses)",
	    "7: invalid port 'http' in listen address 'localhost:http'",
	    "7: invalid IPv6 address '::g' in listen address '[::g]:80'",
	    "7: listen address '[::1]' has no port (use [::1]:PORT)",
	    "7: invalid host '256.1.1.1' in listen address '256.1.1.1:80'",
	    "7: port 0 out of range (1-65535) in listen address '*:0'",
	    "8: listen address '*:80' is listed twice",
	    "10: 'url' must be an absolute http, https or file: URL (did you mean "
	    "'https://feeds.bbci.co.uk/news/world/rss.xml'?)",
	    "12: 'url' must be an absolute http, https or file: URL (got 'ftp://example.org/feed')",
	    "14: 'url' must be an absolute http, https or file: URL (got 'http://exa mple.org/')",
	    "16: 'url' must be an absolute http, https or file: URL (got 'http:///feed.xml')",
	    "18: 'url' must be an absolute http, https or file: URL (got 'file://remote/x.xml')",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "[feedmux]\n"
	              "base_url = ftp://example.org/\n"
	              "link = file:///tmp/x\n"
	              "id = my feed\n"
	              "listen = 127.0.0.1, [::1]:99999\n"
	              "  ::1:8080, foo!bar:80, :80\n"
	              "  localhost:http, [::g]:80, [::1], 256.1.1.1:80, *:0\n"
	              "  *:80, *:80\n"
	              "[feed a]\n"
	              "url = feeds.bbci.co.uk/news/world/rss.xml\n"
	              "[feed b]\n"
	              "url = ftp://example.org/feed\n"
	              "[feed c]\n"
	              "url = http://exa mple.org/\n"
	              "[feed d]\n"
	              "url = http:///feed.xml\n"
	              "[feed e]\n"
	              "url = file://remote/x.xml\n",
	              want);
}

/* Whole-file checks: missing url, topics, intervals, retention, timeouts. */
static void
test_errors_cross(void **state)
{
	static const char *const want[] = {
	    "3: min_interval (2d) is greater than max_interval (1d)",
	    "6: keep (7d) is less than max_age (14d); items must be kept at least as long as they are shown",
	    "8: connect_timeout (2m) is greater than timeout (1m)",
	    "9: topic 'empty' has no match terms and no feed lists it in topics, so it would always be empty",
	    "13: feed 'nourl' has no url",
	    "16: topic 'world' is listed twice",
	    "16: unknown topic 'wrld' (did you mean 'world'?)",
	    "16: unknown topic 'sport' (no [topic sport] section)",
	    "18: feed 'b' has the same url as feed 'a' (line 14)",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "[feedmux]\n"
	              "max_interval = 1d\n"
	              "min_interval = 2d\n"
	              "interval = 30m\n"
	              "max_age = 14d\n"
	              "keep = 7d\n"
	              "timeout = 1m\n"
	              "connect_timeout = 2m\n"
	              "[topic empty]\n"
	              "title = Nothing\n"
	              "[topic world]\n"
	              "[topic listed]\n" /* no match, but a feed lists it: fine */
	              "[feed nourl]\n"
	              "[feed a]\n"
	              "url = https://example.org/a\n"
	              "topics = world, wrld, sport, world, listed\n"
	              "[feed b]\n"
	              "url = https://example.org/a\n",
	              want);
}

/* interval must lie within min_interval and max_interval, globally and per feed. */
static void
test_errors_interval_bounds(void **state)
{
	static const char *const want[] = {
	    "2: interval (1m) is less than min_interval (5m)",
	    "5: interval (2d) is greater than max_interval (1d)",
	    "8: interval (30s) is less than min_interval (5m)",
	    NULL,
	};

	expect_errors(fx_of(state),
	              "[feedmux]\n"
	              "interval = 1m\n"
	              "[feed a]\n"
	              "url = https://example.org/a\n"
	              "interval = 2d\n"
	              "[feed b]\nurl = https://example.org/b\n"
	              "interval = 30s\n",
	              want);
}

/* Bytes that are not text. */
static void
test_errors_encoding(void **state)
{
	static const char *const want[] = {
	    "2: line is not valid UTF-8",
	    "3: line contains a NUL byte",
	    "4: control character in the value of 'author'",
	};
	static const char text[] = "[feedmux]\ntitle = caf\xe9\nsubtitle = a\0b\nauthor = x\x01y\n";
	struct fixture *fx = fx_of(state);
	const char *path;
	struct strlist errors;
	FILE *f;

	/* The text holds a NUL, so it is written by hand. */
	path = write_conf(fx, "enc.conf", "");
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
	assert_int_equal(fclose(f), 0);
	strlist_init(&errors);
	assert_null(config_load(path, &errors));
	assert_int_equal(errors.n, 3);
	for (size_t i = 0; i < 3; i++) {
		char *w = xasprintf("%s:%s", path, want[i]);
		assert_string_equal(errors.v[i], w);
		free(w);
	}
	strlist_free(&errors);
}

/* One run reports every problem, in line order, and returns NULL. */
static void
test_all_errors_one_run(void **state)
{
	struct fixture *fx = fx_of(state);
	const char *path = write_conf(fx, "many.conf",
	                              "[feed a]\n"                   /* 1: no url (found at the end) */
	                              "topics = nope\n"              /* 2: unknown topic (found at the end) */
	                              "[feedmux]\n"                  /* 3 */
	                              "intervall = 5m\n"             /* 4 */
	                              "max_entries = lots\n"         /* 5 */
	                              "[fed b]\n"                    /* 6 */
	                              "url = https://example.org\n"  /* 7: ignored, in a bad section */
	                              "[feed c]\n"                   /* 8 */
	                              "url = https://example.org/\n" /* 9 */
	                              "stories = yes\n");            /* 10 */
	struct strlist errors;
	char *w;

	strlist_init(&errors);
	assert_null(config_load(path, &errors));
	assert_int_equal(errors.n, 6);
	w = xasprintf("%s:1: feed 'a' has no url", path);
	assert_string_equal(errors.v[0], w);
	free(w);
	assert_non_null(strstr(errors.v[1], ":2: unknown topic 'nope'"));
	assert_non_null(strstr(errors.v[2], ":4: unknown key 'intervall'"));
	assert_non_null(strstr(errors.v[3], ":5: invalid number 'lots'"));
	assert_non_null(strstr(errors.v[4], ":6: unknown section '[fed b]'"));
	assert_non_null(
	    strstr(errors.v[5], ":10: unknown key 'stories' in [feed NAME] (it belongs in [feedmux])"));
	strlist_free(&errors);
}

/* The errors list is only appended to; a NULL config is safe to free. */
static void
test_errors_appended(void **state)
{
	struct fixture *fx = fx_of(state);
	const char *path = write_conf(fx, "app.conf", "[feedmux]\nmax_entries = 0\n");
	struct strlist errors;

	strlist_init(&errors);
	strlist_add(&errors, "earlier");
	assert_null(config_load(path, &errors));
	assert_int_equal(errors.n, 2);
	assert_string_equal(errors.v[0], "earlier");
	strlist_free(&errors);
	config_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_bools),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_feed_pos),
	    cmocka_unit_test(test_relative_paths),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_errors_sections),
	    cmocka_unit_test(test_errors_keys),
	    cmocka_unit_test(test_errors_values),
	    cmocka_unit_test(test_errors_duplicate_key),
	    cmocka_unit_test(test_errors_addresses),
	    cmocka_unit_test(test_errors_cross),
	    cmocka_unit_test(test_errors_interval_bounds),
	    cmocka_unit_test(test_errors_encoding),
	    cmocka_unit_test(test_all_errors_one_run),
	    cmocka_unit_test(test_errors_appended),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
