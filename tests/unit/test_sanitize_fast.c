/* test_sanitize_fast.c: the cleaner's fast path for well-formed common
 * markup writes exactly what the walk over libxml2's tree writes, in HTML
 * and in text mode, with and without a base URL: on the HTML fields of the
 * feeds in tests/data/corpus and on generated markup, well-formed and
 * broken (misnesting, unclosed and stray tags, upper case, unknown and
 * dropped elements, odd references, attributes of every quoting, bytes
 * the cleaning changes). It takes the markup it is made for and declines
 * what it is not. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "sanitize.h"

#define BASE "https://example.com/blog/post.html"

struct counts {
	size_t inputs;
	size_t taken;
};

/* Both paths, both modes, both bases: the same bytes. */
static void
same(const char *in, struct counts *c)
{
	static const char *const bases[] = {BASE, NULL};

	for (size_t b = 0; b < 2; b++) {
		char *fast = sanitize_html_via(in, bases[b], 1), *slow = sanitize_html_via(in, bases[b], 0);

		if (strcmp(fast, slow) != 0)
			fail_msg("HTML mode, base %s, input:\n[%s]\nfast path:\n[%s]\nlibxml2:\n[%s]", bases[b] ? bases[b] : "none",
			         in, fast, slow);
		free(fast);
		free(slow);
	}
	{
		char *fast = sanitize_text_via(in, 1), *slow = sanitize_text_via(in, 0);

		if (strcmp(fast, slow) != 0)
			fail_msg("text mode, input:\n[%s]\nfast path:\n[%s]\nlibxml2:\n[%s]", in, fast, slow);
		free(fast);
		free(slow);
	}
	c->inputs++;
	c->taken += (size_t)sanitize_fast_takes(in);
}

/* What it is made for, it takes; what it is not, it declines. */
static void
test_takes(void **state)
{
	static const char *const taken[] = {
	    "<p>Hello <a href=\"https://x.example/a?b=1&amp;c=2\">there</a> &amp; more.</p>",
	    "<p>One</p>\n<p>Two <em>and</em> <strong>three</strong></p>",
	    "<ul><li>a</li><li>b <code>x</code></li></ul>",
	    "<blockquote><p>Quoted &#8220;text&#8221; &mdash; caf&eacute;</p></blockquote>",
	    "<p>Line<br>break<br/>and<br />more</p><hr>",
	    "<img src='/i.png' alt='An image'> text",
	    "<h2 title=\"T\">Head</h2><div><span lang=\"en\">x</span></div>",
	};
	static const char *const declined[] = {
	    "<P>upper case</P>",
	    "<p>a<p>b",
	    "<p>unclosed",
	    "<b>x</i>",
	    "<p><div>block in p</div></p>",
	    "a < b",
	    "x &bogus; y",
	    "x &amp y",
	    "<!-- c --><p>x</p>",
	    "<a href=unquoted>x</a>",
	    "<p class=\"a\"class=\"b\">x</p>",
	    "<p title=\"caf\xc3\xa9\">x</p>",
	    "<pre>\ncode</pre>",
	    "<script>x</script>",
	    "<p>&#13;</p>",
	    "<a href=\"x\" href=\"y\">dup</a>",
	    "<span><span>same name nested</span></span>",
	    "<details open>x</details>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
		if (!sanitize_fast_takes(taken[i]))
			fail_msg("the fast path declined [%s]", taken[i]);
	for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
		if (sanitize_fast_takes(declined[i]))
			fail_msg("the fast path took [%s]", declined[i]);
}

/* Decode the XML character data of an element's content: CDATA as is,
 * else the five predefined entities and character references. */
static char *
xml_unescape(const char *s, size_t n)
{
	struct buf b;

	buf_init(&b);
	while (n > 0) {
		const char *cd = NULL;
		if (n >= 9 && memcmp(s, "<![CDATA[", 9) == 0 && (cd = strstr(s + 9, "]]>")) != NULL && cd < s + n) {
			buf_append(&b, s + 9, (size_t)(cd - s - 9));
			n -= (size_t)(cd + 3 - s);
			s = cd + 3;
			continue;
		}
		if (*s == '&') {
			static const struct {
				const char *e;
				char c;
			} ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
			size_t k;

			for (k = 0; k < 5; k++) {
				size_t l = strlen(ents[k].e);
				if (n >= l && memcmp(s, ents[k].e, l) == 0) {
					buf_append(&b, &ents[k].c, 1);
					s += l;
					n -= l;
					break;
				}
			}
			if (k < 5)
				continue;
		}
		buf_append(&b, s, 1);
		s++;
		n--;
	}
	return buf_steal(&b);
}

/* Every HTML-ish field of one feed file. */
static void
corpus_file(const char *path, struct counts *c)
{
	static const char *const tags[] = {"description", "content:encoded", "summary", "content", "title",
	                                   "subtitle",    "tagline",         "info",    "body"};
	FILE *fp = fopen(path, "rb");
	char *data;
	long len;

	if (fp == NULL)
		fail_msg("cannot read %s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = calloc(1, (size_t)len + 1);
	if (fread(data, 1, (size_t)len, fp) != (size_t)len)
		fail_msg("cannot read %s", path);
	fclose(fp);
	same(data, c); /* the whole file, as markup */
	for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
		char open[40], close[40];
		const char *p = data;

		snprintf(open, sizeof open, "<%s", tags[t]);
		snprintf(close, sizeof close, "</%s>", tags[t]);
		while ((p = strstr(p, open)) != NULL) {
			const char *gt = strchr(p, '>'), *end;
			char *field;

			p += strlen(open);
			if (gt == NULL || (*p != '>' && *p != ' ' && *p != '\t' && *p != '\n'))
				continue;
			if (gt[-1] == '/' || (end = strstr(gt + 1, close)) == NULL)
				continue;
			field = xml_unescape(gt + 1, (size_t)(end - gt - 1));
			same(field, c);
			free(field);
		}
	}
	free(data);
}

/* The corpus's feeds. */
static void
test_corpus(void **state)
{
	const char *dir = getenv("TESTS_SRCDIR");
	static const char *const subdirs[] = {"atom", "rss2", "rss1", "broken", "dates", "encodings"};
	struct counts c = {0, 0};

	(void)state;
	if (dir == NULL)
		fail_msg("TESTS_SRCDIR is not set (run through make check)");
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		char path[4096];
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof path, "%s/data/corpus/%s", dir, subdirs[i]);
		if ((d = opendir(path)) == NULL)
			fail_msg("cannot open %s", path);
		while ((de = readdir(d)) != NULL) {
			char file[8192];

			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof file, "%s/%s", path, de->d_name);
			corpus_file(file, &c);
		}
		closedir(d);
	}
	print_message("corpus: %zu inputs, %zu taken by the fast path\n", c.inputs, c.taken);
	assert_true(c.inputs > 1000);
	assert_true(c.taken > 20);
}

/* A small deterministic generator. */
static uint32_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

#define PICK(s, a) ((a)[rnd(s) % (sizeof(a) / sizeof((a)[0]))])

static const char *const gen_tags[] = {
    "a", "b", "i", "em", "strong", "p", "p", "p", "ul", "ol", "li", "li", "blockquote", "div", "span", "h2", "h3",
    "code", "sub", "sup", "figure", "figcaption", "mark", "time", "q", "small", "dl", "dt", "dd", "u", "s", "abbr",
    "P", "Em", "font", "pre", "table", "tr", "td", "wbr", "source", "script", "style", "iframe", "center", "body",
    "html", "col", "section", "textarea", "title", "noscript", "head", "option", "select", "button", "del", "ins",
};
static const char *const gen_void[] = {"br", "br", "img", "hr", "wbr", "source", "input", "meta", "col", "embed"};
static const char *const gen_attr_names[] = {"href", "href",  "src",   "title", "alt",    "width", "height",
                                             "dir",  "lang",  "class", "style", "onclick", "id",   "datetime",
                                             "cite", "srcset", "value", "start", "HREF",   "data-x", "open"};
static const char *const gen_values[] = {
    "https://x.example/a?b=1&amp;c=2", "/rel/path", "#frag", "javascript:alert(1)", "mailto:a@b.example",
    " https://x.example/ ", "HTTPS://X.EXAMPLE/", "&#x6A;avascript:x", "caf&eacute; &amp; bar", "a&quot;b",
    "x < y", "&bogus;", "12", "12px", "-1", "rtl", "en-US", "", "data:image/png;base64,AAAA", "img.png 2x, b.png 1x",
    "&#65;&#x42;", "&amp", "tab\there", "line\nbreak", "&nbsp;", "2026-12-07T10:00:00Z", "'q'", "\"dq\"",
};
static const char *const gen_text[] = {
    "word", "several words here", " ", "\n", "\t", "  \n  ", "café", "naïve — “quoted”", "&amp;", "&lt;", "&gt;",
    "&quot;", "&nbsp;", "&eacute;", "&hellip;", "&#8217;", "&#x2014;", "&#65;", "&#0;", "&#13;", "&#x110000;",
    "&bogus;", "&amp", "& ", "<", "< b", ">", "\x01", "\xc3", "\xed\xa0\x80", "\xef\xbf\xbe", "\x7f", "\xc2\x85",
    "<!-- c -->", "<![CDATA[x]]>", "<?pi?>", "\r\n", "\r", "&#x9;", "&#10;", "&Eacute;", "&AMP;", "&#xD800;",
    "&#128512;", "a]]>b", "</", "<3", "x/>", "=", "\"", "'",
};

/* One attribute, any quoting, any separator before it; when clean, a
 * quoted value of the first ten, a known name and a blank before it. */
static void
gen_attr(uint64_t *s, struct buf *b, int clean)
{
	static const char *const seps[] = {" ", " ", "\n", "  ", "\t", ""};
	const char *v = clean ? gen_values[rnd(s) % 10] : PICK(s, gen_values);

	buf_puts(b, clean ? " " : PICK(s, seps));
	buf_puts(b, clean ? gen_attr_names[rnd(s) % 14] : PICK(s, gen_attr_names));
	switch (rnd(s) % (clean ? 2 : 8)) {
	case 0:
		buf_printf(b, "='%s'", v);
		break;
	case 1:
		buf_printf(b, "=%s", v);
		break;
	case 2:
		break; /* no value */
	case 3:
		buf_printf(b, " = \"%s\"", v);
		break;
	default:
		buf_printf(b, "=\"%s\"", v);
		break;
	}
}

/* Markup of about `budget` pieces: mostly well-formed, sometimes not. */
static void
gen_content(uint64_t *s, struct buf *b, int depth, int budget, int broken)
{
	for (int k = 0; k < budget; k++) {
		uint32_t r = rnd(s) % 100;

		if (r < 40 || depth > 6) {
			/* text: mostly words, with odd pieces when broken */
			if (broken)
				buf_puts(b, PICK(s, gen_text));
			else if (rnd(s) % 4 == 0)
				buf_puts(b, gen_text[rnd(s) % 18]);
			else
				buf_puts(b, (rnd(s) % 2) ? "Some plain words, and more" : " text ");
		} else if (r < 50) {
			buf_printf(b, "<%s", PICK(s, gen_void));
			if (rnd(s) % 2)
				gen_attr(s, b, !broken);
			buf_puts(b, (rnd(s) % 3 == 0) ? (rnd(s) % 2 ? "/>" : " />") : ">");
		} else {
			const char *tag = broken ? PICK(s, gen_tags) : gen_tags[rnd(s) % 32];
			int nattr = (int)(rnd(s) % 4);

			buf_printf(b, "<%s", tag);
			for (int a = 0; a < nattr; a++)
				gen_attr(s, b, !broken);
			if (broken && rnd(s) % 20 == 0) {
				buf_puts(b, "/>");
				continue;
			}
			buf_puts(b, ">");
			gen_content(s, b, depth + 1, (int)(rnd(s) % 4), broken);
			if (!broken || rnd(s) % 6 != 0)
				buf_printf(b, "</%s>", tag);
			else if (rnd(s) % 2)
				buf_printf(b, "</%s>", PICK(s, gen_tags)); /* stray */
		}
	}
}

/* Generated markup, well-formed and broken. */
static void
test_generated(void **state)
{
	uint64_t seed = 0x66656564ULL;
	struct counts well = {0, 0}, broken = {0, 0};

	(void)state;
	for (int i = 0; i < 12000; i++) {
		struct buf b;
		int bad = i % 2;

		buf_init(&b);
		gen_content(&seed, &b, 0, 1 + (int)(rnd(&seed) % 6), bad);
		if (b.len > 0)
			same(b.data, bad ? &broken : &well);
		buf_free(&b);
	}
	print_message("generated: %zu well-formed inputs (%zu taken), %zu broken (%zu taken)\n", well.inputs, well.taken,
	              broken.inputs, broken.taken);
	/* The fast path must actually be taken, or this compares nothing. */
	assert_true(well.taken > 300);
	assert_true(broken.taken > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_takes),
	    cmocka_unit_test(test_corpus),
	    cmocka_unit_test(test_generated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
