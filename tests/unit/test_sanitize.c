/* test_sanitize.c: the HTML allowlist against the XSS vectors feed readers
 * have been hit by, URL policy and resolution, entities and encodings,
 * malformed markup, the input caps, and titles reduced to text. Every
 * sanitize_html() result is also checked to be valid UTF-8 without
 * XML-forbidden characters and to parse as well-formed XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "buf.h"
#include "sanitize.h"

#define BASE "https://example.com/blog/post.html"

struct vector {
	const char *in;
	const char *want;
};

static int utf8_xml_ok(const char *s);
static int xml_well_formed(const char *s);
static void check(const char *in, const char *base, const char *want);
static void check_all(const struct vector *v, size_t n, const char *base);
static void check_text(const char *in, const char *want);
static size_t count(const char *hay, const char *needle);
static void count_error(void *ctx, xmlErrorPtr err);

/* Whether s is valid UTF-8 holding only characters XML 1.0 allows. */
static int
utf8_xml_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		unsigned long cp;
		int len;

		if (*u < 0x80) {
			if (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')
				return 0;
			u++;
			continue;
		}
		if (*u >= 0xC2 && *u <= 0xDF)
			len = 2, cp = *u & 0x1F;
		else if (*u >= 0xE0 && *u <= 0xEF)
			len = 3, cp = *u & 0x0F;
		else if (*u >= 0xF0 && *u <= 0xF4)
			len = 4, cp = *u & 0x07;
		else
			return 0;
		for (int i = 1; i < len; i++) {
			if ((u[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
			return 0;
		u += len;
	}
	return 1;
}

/* Whether <div>s</div> is a well-formed XML document. */
static int
xml_well_formed(const char *s)
{
	struct buf b;
	xmlDocPtr doc;

	buf_init(&b);
	buf_puts(&b, "<div>");
	buf_puts(&b, s);
	buf_puts(&b, "</div>");
	doc = xmlReadMemory(b.data, (int)b.len, NULL, "UTF-8",
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	buf_free(&b);
	if (doc == NULL)
		return 0;
	xmlFreeDoc(doc);
	return 1;
}

/* sanitize_html(in, base) is want, valid UTF-8 and well-formed XML. */
static void
check(const char *in, const char *base, const char *want)
{
	char *got = sanitize_html(in, base);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		print_error("input: %s\n", in);
	assert_string_equal(got, want);
	assert_true(utf8_xml_ok(got));
	assert_true(xml_well_formed(got));
	free(got);
}

/* check() over a table. */
static void
check_all(const struct vector *v, size_t n, const char *base)
{
	for (size_t i = 0; i < n; i++)
		check(v[i].in, base, v[i].want);
}

/* sanitize_text(in) is want. */
static void
check_text(const char *in, const char *want)
{
	char *got = sanitize_text(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	assert_true(utf8_xml_ok(got));
	free(got);
}

/* Occurrences of needle in hay. */
static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Nothing in, nothing out; NULL is "". */
static void
test_empty(void **state)
{
	(void)state;
	check("", BASE, "");
	check(NULL, BASE, "");
	check("   \n\t ", BASE, "");
	check("<script>alert(1)</script>", BASE, "");
	check_text(NULL, "");
	check_text("", "");
	check_text(" <b> </b> ", "");
}

/* Plain text passes through, trimmed; CR and CRLF become LF. */
static void
test_text_only(void **state)
{
	(void)state;
	check("Just text, no tags.", BASE, "Just text, no tags.");
	check("  padded\n", BASE, "padded");
	check("a\r\nb\rc", BASE, "a\nb\nc");
	check("x < y > z", BASE, "x &lt; y &gt; z");
}

/* Allowed elements and their allowed attributes are kept as they were. */
static void
test_allowed_kept(void **state)
{
	(void)state;
	check("<p>Hello <b>bold</b> <i>it</i> <em>e</em> <strong>s</strong> <code>c</code> <u>u</u> "
	      "<s>s</s></p>",
	      BASE,
	      "<p>Hello <b>bold</b> <i>it</i> <em>e</em> <strong>s</strong> <code>c</code> <u>u</u> "
	      "<s>s</s></p>");
	check("<h1>T</h1><h6>t</h6><hr><br><blockquote cite=\"https://x.example/q\">q</blockquote>", BASE,
	      "<h1>T</h1><h6>t</h6><hr /><br /><blockquote cite=\"https://x.example/q\">q</blockquote>");
	check("<ul><li>a<li>b</ul><ol start=3 reversed><li value=2>c</ol><dl><dt>t<dd>d</dl>", BASE,
	      "<ul><li>a</li><li>b</li></ul><ol start=\"3\" reversed=\"\"><li value=\"2\">c</li></ol>"
	      "<dl><dt>t</dt><dd>d</dd></dl>");
	check("<figure><img src=\"https://x.example/a.png\" alt=\"A\" width=\"640\" height=480 title=t>"
	      "<figcaption>cap</figcaption></figure>",
	      BASE,
	      "<figure><img src=\"https://x.example/a.png\" alt=\"A\" width=\"640\" height=\"480\" "
	      "title=\"t\" />"
	      "<figcaption>cap</figcaption></figure>");
	check("<details open><summary>S</summary>D</details><time datetime=\"2024-05-01\">May</time>", BASE,
	      "<details open=\"\"><summary>S</summary>D</details><time datetime=\"2024-05-01\">May</time>");
	check("<p><abbr title=\"HyperText\">HTML</abbr> <kbd>k</kbd> <mark>m</mark> <q cite=\"/src\">q</q> "
	      "<sub>2</sub><sup>3</sup> <del datetime=\"2024\">d</del><ins>i</ins></p>",
	      BASE,
	      "<p><abbr title=\"HyperText\">HTML</abbr> <kbd>k</kbd> <mark>m</mark> "
	      "<q cite=\"https://example.com/src\">q</q> <sub>2</sub><sup>3</sup> <del "
	      "datetime=\"2024\">d</del>"
	      "<ins>i</ins></p>");
}

/* Global attributes stay, presentation and behaviour attributes go. */
static void
test_attribute_allowlist(void **state)
{
	(void)state;
	check("<a href=\"https://x.example/\" title=\"T\" class=\"c\" id=\"i\" target=\"_blank\" "
	      "rel=\"opener\" "
	      "style=\"color:red\" lang=\"en-GB\" dir=\"RTL\" name=\"n\" data-x=\"1\">x</a>",
	      BASE, "<a href=\"https://x.example/\" title=\"T\" lang=\"en-GB\" dir=\"rtl\">x</a>");
	/* Values that are not what the attribute holds drop it. */
	check("<p lang=\"en&quot; onclick=&quot;x\" dir=\"sideways\">p</p>", BASE, "<p>p</p>");
	check("<table><tr><td colspan=\"2\" rowspan=\"x\">c</td><th scope=col "
	      "colspan=\"-\">h</th></tr></table>",
	      BASE, "<table><tr><td colspan=\"2\">c</td><th scope=\"col\">h</th></tr></table>");
	/* An attribute allowed on one element is not allowed on another. */
	check("<p href=\"https://x.example/\" src=\"a.png\" cite=\"/c\" datetime=\"now\">p</p>", BASE,
	      "<p>p</p>");
}

/* Script elements go with their content, however they are spelled. */
static void
test_script(void **state)
{
	static const struct vector v[] = {
	    {"<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"},
	    {"<SCRIPT SRC=//evil.example/x.js></SCRIPT>t", "t"},
	    {"<ScRiPt>document.write('<p>x</p>')</sCrIpT>t", "t"},
	    {"<script>var s = '</scr' + 'ipt>';</script>t", "t"},
	    {"<script src=\"x.js\"/>t", "t"},
	    {"<scr<script>ipt>alert(1)</script>t", "ipt&gt;alert(1)t"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* No on* attribute survives, on any element. */
static void
test_event_handlers(void **state)
{
	static const struct vector v[] = {
	    {"<img src=x onerror=alert(1)>", "<img src=\"https://example.com/blog/x\" />"},
	    {"<img src=x ONERROR=\"alert(1)\" onLoad=alert(2)>",
	     "<img src=\"https://example.com/blog/x\" />"},
	    {"<p onclick=\"alert(1)\" onmouseover=alert(1)>t</p>", "<p>t</p>"},
	    {"<body onload=alert(1)>x</body>", "x"},
	    {"<details open ontoggle=alert(1)>x</details>", "<details open=\"\">x</details>"},
	    {"<video src=v.mp4 onerror=alert(1) autoplay></video>",
	     "<video src=\"https://example.com/blog/v.mp4\" controls=\"\"></video>"},
	    {"<a href=x onfocus=alert(1) autofocus>x</a>", "<a href=\"https://example.com/blog/x\">x</a>"},
	    {"<img/src=x/onerror=alert(1)>", ""},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* javascript: in href, however it is disguised, drops the attribute. */
static void
test_javascript_href(void **state)
{
	static const char *const hrefs[] = {
	    "javascript:alert(1)",
	    "JaVaScRiPt:alert(1)",
	    " javascript:alert(1)",
	    "\tjavascript:alert(1)",
	    "java\tscript:alert(1)",
	    "java\nscript:alert(1)",
	    "java\rscript:alert(1)",
	    "jav&#x09;ascript:alert(1)",
	    "jav&#9;ascript:alert(1)",
	    "jav&#x0A;ascript:alert(1)",
	    "&#106;avascript:alert(1)",
	    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
	    "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#"
	    "0000058alert(1)",
	    " &#14;  javascript:alert(1)",
	    "\x01javascript:alert(1)",
	    "javascript\x0b:alert(1)",
	    "vbscript:msgbox(1)",
	    "VBScript:msgbox(1)",
	    "livescript:alert(1)",
	    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	    "data:text/html,<script>alert(1)</script>",
	    "data:image/png;base64,iVBORw0KGgo=",
	    "file:///etc/passwd",
	    "feed:javascript:alert(1)",
	    "ftp://x.example/",
	    "",
	    "   ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof hrefs / sizeof hrefs[0]; i++) {
		char in[512];

		snprintf(in, sizeof in, "<a href=\"%s\">x</a>", hrefs[i]);
		check(in, BASE, "<a>x</a>");
		check(in, NULL, "<a>x</a>");
	}
	/* Unquoted and single-quoted values are the same. */
	check("<a href=javascript:alert(1)>x</a>", BASE, "<a>x</a>");
	check("<a href='javascript:alert(1)'>x</a>", BASE, "<a>x</a>");
	/* An entity libxml2 does not know is text: the URL is relative, and
	 * the & is escaped, so a browser does not decode it either. */
	check("<a href=\"javascript&colon;alert(1)\">x</a>", BASE,
	      "<a href=\"https://example.com/blog/javascript&amp;colon;alert(1)\">x</a>");
	check("<a href=\"javascript&colon;alert(1)\">x</a>", NULL,
	      "<a href=\"javascript&amp;colon;alert(1)\">x</a>");
}

/* http, https and mailto are the schemes kept, written as they were. */
static void
test_allowed_schemes(void **state)
{
	static const struct vector v[] = {
	    {"<a href=\"https://x.example/a?b=1&amp;c=2#d\">l</a>",
	     "<a href=\"https://x.example/a?b=1&amp;c=2#d\">l</a>"},
	    {"<a href=\"HTTP://X.example/\">l</a>", "<a href=\"HTTP://X.example/\">l</a>"},
	    {"<a href=\"  http://x.example/\n\">l</a>", "<a href=\"http://x.example/\">l</a>"},
	    {"<a href=\"mailto:editor@x.example?subject=Hi\">m</a>",
	     "<a href=\"mailto:editor@x.example?subject=Hi\">m</a>"},
	    {"<a href=\"https://x.example/&quot;onmouseover=&quot;alert(1)\">l</a>",
	     "<a href=\"https://x.example/&quot;onmouseover=&quot;alert(1)\">l</a>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* data: only as a PNG/GIF/JPEG/WebP base64 image in img src. */
static void
test_data_urls(void **state)
{
	static const struct vector v[] = {
	    {"<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
	     "<img src=\"data:image/png;base64,iVBORw0KGgo=\" />"},
	    {"<img src=\"DATA:image/JPEG;BASE64,/9j/4AAQ\">",
	     "<img src=\"DATA:image/JPEG;BASE64,/9j/4AAQ\" />"},
	    {"<img src=\"data:image/gif;base64,R0lGOD\nlh\">",
	     "<img src=\"data:image/gif;base64,R0lGODlh\" />"},
	    {"<img src=\"data:image/webp;base64,UklGR\" alt=a>",
	     "<img src=\"data:image/webp;base64,UklGR\" alt=\"a\" />"},
	    {"<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">", ""},
	    {"<img src=\"data:image/png,not-base64\">", ""},
	    {"<img src=\"data:image/png;base64,<script>\">", ""},
	    {"<img src=\"data:text/html;base64,PHNjcmlwdD4=\">", ""},
	    {"<img srcset=\"data:image/png;base64,iVBORw0KGgo= 1x\">", ""},
	    {"<video poster=\"data:image/png;base64,iVBORw0KGgo=\"></video>",
	     "<video controls=\"\"></video>"},
	    {"<a href=\"data:image/png;base64,iVBORw0KGgo=\">d</a>", "<a>d</a>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* srcset is checked candidate by candidate. */
static void
test_srcset(void **state)
{
	static const struct vector v[] = {
	    {"<img srcset=\"a.png 1x, javascript:alert(1) 2x, //c.example/b.png 640w\">",
	     "<img srcset=\"https://example.com/blog/a.png 1x, https://c.example/b.png 640w\" />"},
	    {"<img src=a.png srcset=\"javascript:alert(1) 1x\">",
	     "<img src=\"https://example.com/blog/a.png\" />"},
	    /* A comma inside a URL does not split it (HTML's srcset rules). */
	    {"<img srcset=\"a.png,b.png 2x , c.png 1.5x,d.png,, e.png\" sizes=\"(max-width: 600px) 100vw\">",
	     "<img srcset=\"https://example.com/blog/a.png,b.png 2x, https://example.com/blog/c.png 1.5x, "
	     "https://example.com/blog/d.png, https://example.com/blog/e.png\" sizes=\"(max-width: 600px) "
	     "100vw\" />"},
	    {"<img srcset=\"a.png 2x onerror=alert(1), b.png 1x\">",
	     "<img srcset=\"https://example.com/blog/b.png 1x\" />"},
	    {"<picture><source srcset=\"/w.webp\" type=\"image/webp\" media=\"(min-width: 1px)\"><img "
	     "src=\"/f.jpg\">"
	     "</picture>",
	     "<picture><source srcset=\"https://example.com/w.webp\" type=\"image/webp\" media=\"(min-width: "
	     "1px)\" />"
	     "<img src=\"https://example.com/f.jpg\" /></picture>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Relative URLs are resolved against the base (RFC 3986). */
static void
test_relative_urls(void **state)
{
	static const struct vector v[] = {
	    {"<a href=\"/a\">a</a>", "<a href=\"https://example.com/a\">a</a>"},
	    {"<img src=\"img.png\">", "<img src=\"https://example.com/blog/img.png\" />"},
	    {"<img src=\"//cdn.example/x.png\">", "<img src=\"https://cdn.example/x.png\" />"},
	    {"<a href=\"?q=1\">q</a>", "<a href=\"https://example.com/blog/post.html?q=1\">q</a>"},
	    {"<a href=\"#frag\">f</a>", "<a href=\"https://example.com/blog/post.html#frag\">f</a>"},
	    {"<a href=\"../up.html\">u</a>", "<a href=\"https://example.com/up.html\">u</a>"},
	    {"<a href=\"  a b.html \">s</a>", "<a href=\"https://example.com/blog/a%20b.html\">s</a>"},
	    {"<blockquote cite=\"/source\">q</blockquote>",
	     "<blockquote cite=\"https://example.com/source\">q</blockquote>"},
	    {"<video src=\"v.mp4\" poster=\"p.jpg\" width=320></video>",
	     "<video src=\"https://example.com/blog/v.mp4\" poster=\"https://example.com/blog/p.jpg\" "
	     "width=\"320\" "
	     "controls=\"\"></video>"},
	    {"<audio><source src=\"a.ogg\" type=\"audio/ogg\"></audio>",
	     "<audio controls=\"\"><source src=\"https://example.com/blog/a.ogg\" type=\"audio/ogg\" "
	     "/></audio>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
	check("<a href=\"#x\">x</a>", "https://example.com/p?id=1#top",
	      "<a href=\"https://example.com/p?id=1#x\">x</a>");
}

/* Without an http(s) base, relative URLs stay as written. */
static void
test_no_base(void **state)
{
	(void)state;
	check("<a href=\"/a\">a</a><img src=\"//cdn.example/x.png\">", NULL,
	      "<a href=\"/a\">a</a><img src=\"//cdn.example/x.png\" />");
	check("<a href=\"../x?y#z\">a</a>", "file:///srv/feed.xml", "<a href=\"../x?y#z\">a</a>");
	check("<a href=\"x\">a</a>", "not a url", "<a href=\"x\">a</a>");
	check("<a href=\"javascript:alert(1)\">a</a>", "javascript:alert(1)", "<a>a</a>");
}

/* iframe, object, embed, applet, frame and their content go. */
static void
test_embedded_content(void **state)
{
	static const struct vector v[] = {
	    {"<iframe src=\"javascript:alert(1)\">fallback</iframe>t", "t"},
	    {"<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>t", "t"},
	    {"<object data=\"x.swf\" type=\"application/x-shockwave-flash\"><param name=a "
	     "value=b>fb</object>t",
	     "t"},
	    {"<embed src=\"javascript:alert(1)\">t", "t"},
	    {"<applet code=\"X.class\">a</applet>t", "t"},
	    {"<frameset><frame src=\"javascript:alert(1)\"></frameset>t", "t"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Void elements keep what libxml2 2.9 nests in them (it does not know
 * embed, source, wbr, track as void): a browser has it as siblings. */
static void
test_void_elements(void **state)
{
	static const struct vector v[] = {
	    {"<p><embed src=\"x.swf\">after</p>", "<p>after</p>"},
	    {"<p>long<wbr>word <br>next</p>", "<p>long<wbr />word <br />next</p>"},
	    {"<video><source src=\"a.mp4\">Your browser <b>cannot</b></video>",
	     "<video controls=\"\"><source src=\"https://example.com/blog/a.mp4\" />Your browser "
	     "<b>cannot</b></video>"},
	    {"<video><track src=\"c.vtt\">fallback</video>", "<video controls=\"\">fallback</video>"},
	    {"<p><input type=text>after<meta name=x>more<link rel=x>end</p>", "<p>aftermoreend</p>"},
	    {"<p><img alt=\"no src\">kept</p>", "<p>kept</p>"},
	    {"<table><colgroup><col span=2 style=x></colgroup><tr><td>c</td></tr></table>",
	     "<table><colgroup><col span=\"2\" /></colgroup><tr><td>c</td></tr></table>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Forms and their controls go with their content. */
static void
test_forms(void **state)
{
	(void)state;
	check("<form action=\"javascript:alert(1)\"><input type=submit value=go><button "
	      "formaction=\"javascript:alert(1)\">"
	      "b</button><textarea>t</textarea><select><option>o</select></form>after",
	      BASE, "after");
	check("<input onfocus=alert(1) autofocus>t", BASE, "t");
	check("<textarea><img src=x onerror=alert(1)></textarea>t", BASE, "t");
	check("<isindex action=\"javascript:alert(1)\" type=image>t", BASE, "t");
}

/* style attributes and elements go, with expression() and url(). */
static void
test_style(void **state)
{
	static const struct vector v[] = {
	    {"<p style=\"background:url(javascript:alert(1))\">t</p>", "<p>t</p>"},
	    {"<div style=\"width:expression(alert(1))\" class=\"x\" id=\"y\">t</div>", "<div>t</div>"},
	    {"<span style=\"behavior:url(x.htc);-moz-binding:url(x.xml#xss)\">t</span>", "<span>t</span>"},
	    {"<style>@import 'javascript:alert(1)'; body{background:url(javascript:alert(1))}</style>t", "t"},
	    {"<STYLE "
	     "type=\"text/css\">li{list-style-image:url(\"javascript:alert(1)\")}</STYLE><ul><li>x</ul>",
	     "<ul><li>x</li></ul>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* meta refresh, base and link never come through. */
static void
test_meta_base_link(void **state)
{
	static const struct vector v[] = {
	    {"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">t", "t"},
	    {"<meta http-equiv=\"Set-Cookie\" content=\"a=b\">t", "t"},
	    {"<base href=\"javascript:alert(1)//\"><a href=\"x\">x</a>",
	     "<a href=\"https://example.com/blog/x\">x</a>"},
	    {"<link rel=\"stylesheet\" href=\"javascript:alert(1)\">t", "t"},
	    {"<link rel=\"import\" href=\"x.html\">t", "t"},
	    {"<html><head><title>T</title><script>x</script></head><body>y</body></html>", "y"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* svg and math go with their content: script, handlers, xlink:href. */
static void
test_svg_math(void **state)
{
	static const struct vector v[] = {
	    {"<svg onload=alert(1)>", ""},
	    {"<svg/onload=alert(1)>t", ""},
	    {"<svg><script>alert(1)</script></svg>after", "after"},
	    {"<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>t", "t"},
	    {"<svg><animate onbegin=alert(1) attributeName=x dur=1s>", ""},
	    {"<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>ok", "ok"},
	    {"<math><maction actiontype=\"statusline#http://x\" "
	     "xlink:href=\"javascript:alert(2)\">CLICK</maction></math>",
	     ""},
	    {"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", ""},
	    {"<math href=\"javascript:alert(1)\">CLICKME</math>t", "t"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Elements a browser reads as raw text are dropped, so their content can
 * never become markup (the noscript/xmp mutation vectors). */
static void
test_raw_text_mutation(void **state)
{
	static const struct vector v[] = {
	    {"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", ""},
	    {"<xmp><p title=\"</xmp><img src=x onerror=alert(1)>\"></xmp>t", "t"},
	    {"<noembed><img title=\"</noembed><img src onerror=alert(1)>\"></noembed>t", "t"},
	    {"<title><img title=\"</title><img src onerror=alert(1)>\"></title>t", "t"},
	    {"<template><script>alert(1)</script></template>t", "t"},
	    {"<p title=\"</p><script>alert(1)</script>\">x</p>",
	     "<p title=\"&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">x</p>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Comments go, conditional ones included; CDATA is not a way around. */
static void
test_comments_cdata(void **state)
{
	static const struct vector v[] = {
	    {"a<!-- c -->b", "ab"},
	    {"<!--[if IE]><script>alert(1)</script><![endif]-->t", "t"},
	    {"<!--[if gte IE 4]><SCRIPT>alert(1)</SCRIPT><![endif]-->t", "t"},
	    {"<![if ! IE]><p>x</p><![endif]>", "&lt;![if ! IE]&gt;<p>x</p>&lt;![endif]&gt;"},
	    {"<!--><script>alert(1)</script>-->t", "t"},
	    {"<![CDATA[<script>alert(1)</script>]]>", "&lt;![CDATA[]]&gt;"},
	    {"<![CDATA[x]]>", "&lt;![CDATA[x]]&gt;"},
	    {"<?php echo 1; ?><?xml version=\"1.0\"?><!DOCTYPE html><p>x</p>", "<p>x</p>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Unclosed, misnested and stray tags come out balanced. */
static void
test_malformed(void **state)
{
	static const struct vector v[] = {
	    {"<p><b>unclosed", "<p><b>unclosed</b></p>"},
	    {"<p>one<p>two", "<p>one</p><p>two</p>"},
	    {"<b><i>x</b>y</i>", "<b><i>x</i></b>y"},
	    {"</p>stray</div></b>", "stray"},
	    {"<div><div>", "<div><div></div></div>"},
	    {"<a href=\"/x\">open", "<a href=\"https://example.com/x\">open</a>"},
	    {"<p title=\"unterminated>x</p>", "<p title=\"unterminated&gt;x&lt;/p&gt;\"></p>"},
	    {"<table><td>c</table>", "<table><td>c</td></table>"},
	    {"<<p>>x", "&lt;<p>&gt;x</p>"},
	    {"<p <b>x</b>", "<p>x</p>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Unknown elements are unwrapped: their content stays. */
static void
test_unknown_unwrapped(void **state)
{
	(void)state;
	check("<font color=red face=x><center>x</center></font><custom-el "
	      "a=b>y</custom-el><marquee>z</marquee>",
	      BASE, "xyz");
	/* libxml2 drops the prefix: this is a script. */
	check("<svg:script>alert(1)</svg:script>t", BASE, "t");
	check("<a svg:href=\"javascript:alert(1)\" xlink:href=\"javascript:alert(1)\">x</a>", BASE,
	      "<a>x</a>");
	check("<image src=\"javascript:alert(1)\">t", BASE, "t");
}

/* Entities are decoded once and the text re-escaped exactly where needed. */
static void
test_entities(void **state)
{
	static const struct vector v[] = {
	    {"AT&amp;T &lt;b&gt;bold&lt;/b&gt;", "AT&amp;T &lt;b&gt;bold&lt;/b&gt;"},
	    {"&eacute;&#233;&#xE9;&#xe9; &copy; &hellip; &mdash;",
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc2\xa9 \xe2\x80\xa6 \xe2\x80\x94"},
	    {"a&nbsp;b", "a\xc2\xa0"
	                 "b"},
	    {"&amp;amp; &amp;lt;", "&amp;amp; &amp;lt;"},
	    {"&unknown; & &; &#; &#x;", "&amp;unknown; &amp; &amp;;"},
	    {"&quot;q&quot; &apos;a&apos; \"x\"", "\"q\" 'a' \"x\""},
	    {"<p title=\"&lt;&amp;&gt;&quot;\">t</p>", "<p title=\"&lt;&amp;&gt;&quot;\">t</p>"},
	    {"&#128512; &#x1F600;", "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Invalid UTF-8 becomes U+FFFD; a meta charset does not change that. */
static void
test_invalid_utf8(void **state)
{
	static const struct vector v[] = {
	    {"a\xff\xfe"
	     "b",
	     "a\xef\xbf\xbd\xef\xbf\xbd"
	     "b"},
	    {"caf\xe9 <b>\xc3(</b>", "caf\xef\xbf\xbd <b>\xef\xbf\xbd(</b>"},
	    {"\xe2\x82", "\xef\xbf\xbd"},
	    {"\xed\xa0\x80 surrogate", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate"},
	    {"\xc0\xaf overlong", "\xef\xbf\xbd\xef\xbf\xbd overlong"},
	    {"<p title=\"\xff\">x</p>", "<p title=\"\xef\xbf\xbd\">x</p>"},
	    {"<meta charset=\"iso-8859-1\"><p>caf\xc3\xa9</p>", "<p>caf\xc3\xa9</p>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Characters XML forbids never reach the output, raw or as references. */
static void
test_forbidden_chars(void **state)
{
	static const struct vector v[] = {
	    {"a\x01"
	     "b\x08"
	     "c\x0b"
	     "d\x0c"
	     "e\x1f"
	     "f",
	     "abcdef"},
	    {"x\xef\xbf\xbey\xef\xbf\xbfz", "xyz"},
	    {"&#1;&#x8;&#xFFFE;&#xFFFF;&#0;ok", "ok"},
	    {"tab\tand\nnewline", "tab\tand\nnewline"},
	    {"<a title=\"a\x02z\">x</a>", "<a title=\"az\">x</a>"},
	};

	(void)state;
	check_all(v, sizeof v / sizeof v[0], BASE);
}

/* Whitespace inside the fragment, pre included, is kept. */
static void
test_whitespace_kept(void **state)
{
	(void)state;
	check("<pre>  a\n    b\n</pre>", BASE, "<pre>  a\n    b\n</pre>");
	check("<p>a\n  b</p>\n\n<p>c</p>", BASE, "<p>a\n  b</p>\n\n<p>c</p>");
}

/* Elements nested past SANITIZE_MAX_DEPTH lose their tags, not their text. */
static void
test_depth(void **state)
{
	struct buf in;
	char *out;

	(void)state;
	buf_init(&in);
	for (int i = 0; i < 150; i++)
		buf_puts(&in, "<div>");
	buf_puts(&in, "deep");
	out = sanitize_html(in.data, BASE);
	assert_non_null(strstr(out, "deep"));
	assert_int_equal(count(out, "<div>"), count(out, "</div>"));
	assert_true(count(out, "<div>") > 90);
	assert_true(count(out, "<div>") < SANITIZE_MAX_DEPTH);
	assert_true(xml_well_formed(out));
	free(out);

	/* Past libxml2's own limit (256) the rest of the input is lost. */
	buf_reset(&in);
	for (int i = 0; i < 10000; i++)
		buf_puts(&in, "<div><span>");
	buf_puts(&in, "deep");
	out = sanitize_html(in.data, BASE);
	assert_int_equal(count(out, "<div>"), count(out, "</div>"));
	assert_int_equal(count(out, "<span>"), count(out, "</span>"));
	assert_true(count(out, "<div>") + count(out, "<span>") < SANITIZE_MAX_DEPTH);
	assert_true(xml_well_formed(out));
	free(out);
	buf_free(&in);
}

/* A tag with 100,000 attributes is closed after SANITIZE_MAX_ATTRS (quickly:
 * libxml2 alone would take minutes); the rest of it becomes text. */
static void
test_attribute_flood(void **state)
{
	struct buf in, want;
	char *out;

	(void)state;
	buf_init(&in);
	buf_init(&want);
	buf_puts(&in, "<p");
	for (int i = 0; i < 100000; i++)
		buf_printf(&in, " a%d", i);
	buf_puts(&in, " onclick=alert(1)>x</p>");
	buf_puts(&want, "<p>");
	for (int i = SANITIZE_MAX_ATTRS; i < 100000; i++)
		buf_printf(&want, "%sa%d", i == SANITIZE_MAX_ATTRS ? "" : " ", i);
	buf_puts(&want, " onclick=alert(1)&gt;x</p>");
	out = sanitize_html(in.data, BASE);
	assert_string_equal(out, want.data);
	free(out);

	/* Inside a quoted value the same text is left alone. */
	buf_reset(&in);
	buf_puts(&in, "<p title=\"");
	for (int i = 0; i < 1000; i++)
		buf_printf(&in, " a%d", i);
	buf_puts(&in, "\">x</p>");
	out = sanitize_html(in.data, BASE);
	assert_int_equal(strncmp(out, "<p title=\" a0 a1 a2", 19), 0);
	assert_non_null(strstr(out, " a999\">x</p>"));
	free(out);
	buf_free(&in);
	buf_free(&want);
}

/* Input past SANITIZE_MAX_INPUT is cut at a character boundary. */
static void
test_input_cap(void **state)
{
	size_t n = SANITIZE_MAX_INPUT + 4096;
	char *in = malloc(n + 1), *out;

	(void)state;
	memset(in, 'x', n);
	in[n] = '\0';
	out = sanitize_html(in, BASE);
	assert_int_equal(strlen(out), SANITIZE_MAX_INPUT);
	free(out);

	/* 3-byte characters from offset 2: the limit falls inside one. */
	in[0] = in[1] = 'y';
	for (size_t i = 2; i + 3 <= n; i += 3)
		memcpy(in + i, "\xe2\x82\xac", 3);
	out = sanitize_html(in, BASE);
	assert_true(utf8_xml_ok(out));
	assert_int_equal(strlen(out), SANITIZE_MAX_INPUT - 2);
	assert_null(strstr(out, "\xef\xbf\xbd"));
	free(out);
	free(in);
}

/* Whatever goes in, the output is safe: a sweep over the vectors above plus
 * some more, checked by property rather than exact text. */
static void
test_output_properties(void **state)
{
	static const char *const inputs[] = {
	    "<a href=\"java&#x0D;script:alert(1)\">x</a>",
	    "<a href=\"java&#x0000000009;script:alert(1)\">x</a>",
	    "<a href=\"&#x20;javascript:alert(1)\">x</a>",
	    "<a href=\"javascript&#58;alert(1)\">x</a>",
	    "<a href=\"javascript&#x3a;alert(1)\">x</a>",
	    "<a href=\"\xc2\xa0javascript:alert(1)\">x</a>",
	    "<img src=\"jav\tascript:alert(1)\">",
	    "<img src=`javascript:alert(1)`>",
	    "<img \"\"\"><script>alert(1)</script>\">",
	    "<img src=\"x\" `<script>alert(1)</script>`>",
	    "<a href=\"x\" \"onclick=alert(1)\">x</a>",
	    "<div style=\"background-image: url(&#1;javascript:alert(1))\">x</div>",
	    "<table background=\"javascript:alert(1)\"><td background=\"javascript:alert(1)\">x</table>",
	    "<body background=\"javascript:alert(1)\">",
	    "<div onmouseover='alert(1)'>x</div>",
	    "<iframe/src=\"data:text/html,<script>alert(1)</script>\">",
	    "<object data=\"javascript:alert(1)\">",
	    "<a href=\"vbscript:msgbox(1)\">x</a>",
	    "<form><button formaction=javascript:alert(1)>x</button></form>",
	    "<video><source onerror=\"alert(1)\"></video>",
	    "<audio src=x onerror=alert(1)>",
	    "<x onclick=alert(1)>x</x>",
	    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
	    "<<script>alert(1);//<</script>",
	    "<script/xss src=\"http://x.example/x.js\"></script>",
	    "<img src=\"x:x\" onerror=\"alert(1)\">",
	    "<a href=\"javas\xe2\x80\x8b"
	    "cript:alert(1)\">x</a>",
	    "<details open ontoggle=\"alert(1)\">",
	    "<marquee onstart=alert(1)>x</marquee>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char *out = sanitize_html(inputs[i], BASE);
		char *lower = strdup(out);

		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (strstr(lower, "<script") || strstr(lower, " on") || strstr(lower, "href=\"javascript") ||
		    strstr(lower, "src=\"javascript") || strstr(lower, "<iframe") ||
		    strstr(lower, "<object") || strstr(lower, "vbscript:") || strstr(lower, "style="))
			fail_msg("unsafe output for %s: %s", inputs[i], out);
		assert_true(utf8_xml_ok(out));
		assert_true(xml_well_formed(out));
		free(lower);
		free(out);
	}
}

/* Counts what libxml2 reports through a structured error handler. */
static void
count_error(void *ctx, xmlErrorPtr err)
{
	(void)err;
	(*(int *)ctx)++;
}

/* libxml2's diagnostics about broken markup do not reach the caller's
 * handler (a feed parse may be running one), and that handler is back in
 * place afterwards. */
static void
test_errors_silenced(void **state)
{
	int errors = 0;
	char *out;

	(void)state;
	xmlSetStructuredErrorFunc(&errors, count_error);
	out = sanitize_html("<p <b>&#1;\xff<svg:x><math></p></div>&bogus", BASE);
	free(out);
	out = sanitize_text("<p <b>&#1;\xff</i>");
	free(out);
	assert_int_equal(errors, 0);
	assert_ptr_equal(xmlStructuredError, count_error);
	assert_ptr_equal(xmlStructuredErrorContext, &errors);
	xmlSetStructuredErrorFunc(NULL, NULL);
}

/* The paths that skip work (bytes copied in blocks, the attribute guard
 * jumping over text and quoted values, names looked up by binary search)
 * give what going byte by byte gives. */
static void
test_fast_paths(void **state)
{
	static const char mixed[] = "\x01\r\n\tb\xc3\xa9&amp;&lt;&gt;&quot;\xef\xbf\xbe\xff";
	struct buf in, want;
	char *out;

	(void)state;
	buf_init(&in);
	buf_init(&want);
	/* Characters to clean or escape at every offset of an 8-byte block. */
	for (int k = 0; k <= 16; k++) {
		buf_reset(&in);
		buf_reset(&want);
		buf_printf(&in, "x%.*s%s%.*s", k, "aaaaaaaaaaaaaaaa", mixed, k, "cccccccccccccccc");
		buf_printf(&want, "x%.*s\n\tb\xc3\xa9&amp;&lt;&gt;\"\xef\xbf\xbd%.*s", k, "aaaaaaaaaaaaaaaa",
		           k, "cccccccccccccccc");
		check(in.data, BASE, want.data);
		buf_reset(&in);
		buf_reset(&want);
		buf_printf(&in, "<p title=\"x%.*s%s%.*s\">y</p>", k, "aaaaaaaaaaaaaaaa", mixed, k,
		           "cccccccccccccccc");
		buf_printf(&want, "<p title=\"x%.*s\n\tb\xc3\xa9&amp;&lt;&gt;&quot;\xef\xbf\xbd%.*s\">y</p>",
		           k, "aaaaaaaaaaaaaaaa", k, "cccccccccccccccc");
		check(in.data, BASE, want.data);
	}

	/* Exactly SANITIZE_MAX_ATTRS attributes pass; one more is cut. */
	buf_reset(&in);
	buf_puts(&in, "<p");
	for (int i = 0; i < SANITIZE_MAX_ATTRS; i++)
		buf_puts(&in, " a");
	buf_puts(&in, ">x</p>");
	check(in.data, BASE, "<p>x</p>");
	buf_reset(&in);
	buf_puts(&in, "<p");
	for (int i = 0; i <= SANITIZE_MAX_ATTRS; i++)
		buf_puts(&in, " a");
	buf_puts(&in, ">x</p>");
	check(in.data, BASE, "<p>a&gt;x</p>");

	/* A '<' inside a quoted value starts a run the guard follows. */
	for (int q = 0; q < 2; q++) {
		buf_reset(&in);
		buf_printf(&in, "<p title=%c<b", q ? '\'' : '"');
		for (int i = 0; i < 130; i++)
			buf_printf(&in, " a%d", i);
		buf_printf(&in, "%c>x</p>", q ? '\'' : '"');
		out = sanitize_html(in.data, BASE);
		assert_int_equal(strncmp(out, "<p title=\"&lt;b a0 a1 ", 22), 0);
		assert_non_null(strstr(out, " a126 a127 &gt;a128 a129\">x</p>"));
		free(out);
	}

	/* Names in any case; the first and last entries of both tables. */
	check("<P TITLE=x CLASS=y Dir=RTL><IMG SRC=a.png ALT=z WIDTH=5><Br></P>", BASE,
	      "<p title=\"x\" dir=\"rtl\"><img src=\"https://example.com/blog/a.png\" alt=\"z\" width=\"5\" "
	      "/><br /></p>");
	check("<A HREF=/x>l</A><xmp>gone</xmp><wbr>", BASE, "<a href=\"https://example.com/x\">l</a><wbr />");

	/* Titles: words copied whole between blanks and no-break spaces. */
	check_text("  a\xc2\xa0"
	           "b  c\t\r\nd\xc2\xa0\xc2\xa0\xc3\xa9\xc2 <p>e</p>f\xc2\xa0",
	           "a b c d \xc3\xa9\xef\xbf\xbd e f");
	buf_free(&in);
	buf_free(&want);
}

/* Titles: tags gone, entities decoded, whitespace collapsed and trimmed. */
static void
test_text(void **state)
{
	(void)state;
	check_text("  Breaking:\n <b>News</b> &amp; more  ", "Breaking: News & more");
	check_text("<p>One</p><p>Two</p>", "One Two");
	check_text("line<br>break", "line break");
	check_text("Tom&nbsp;&amp;&nbsp;Jerry", "Tom & Jerry");
	check_text("a<script>alert(1)</script>b<style>p{}</style>c", "abc");
	check_text("AT&T &lt;tag&gt; &quot;q&quot;", "AT&T <tag> \"q\"");
	check_text("x < y", "x < y");
	check_text("<b>Bold</b>face <i>it</i>alic", "Boldface italic");
	check_text("caf\xe9\x01 \xef\xbf\xbe&#1;", "caf\xef\xbf\xbd");
	check_text("&eacute;t&eacute; &#8217;24", "\xc3\xa9t\xc3\xa9 \xe2\x80\x99"
	                                          "24");
	check_text("<img src=x onerror=alert(1)>Title", "Title");
	check_text("<!-- c -->Title<![CDATA[x]]>", "Title<![CDATA[x]]>");
	check_text("<title>Site</title>Post", "Site Post");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_text_only),
	    cmocka_unit_test(test_allowed_kept),
	    cmocka_unit_test(test_attribute_allowlist),
	    cmocka_unit_test(test_script),
	    cmocka_unit_test(test_event_handlers),
	    cmocka_unit_test(test_javascript_href),
	    cmocka_unit_test(test_allowed_schemes),
	    cmocka_unit_test(test_data_urls),
	    cmocka_unit_test(test_srcset),
	    cmocka_unit_test(test_relative_urls),
	    cmocka_unit_test(test_no_base),
	    cmocka_unit_test(test_embedded_content),
	    cmocka_unit_test(test_void_elements),
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_style),
	    cmocka_unit_test(test_meta_base_link),
	    cmocka_unit_test(test_svg_math),
	    cmocka_unit_test(test_raw_text_mutation),
	    cmocka_unit_test(test_comments_cdata),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_unknown_unwrapped),
	    cmocka_unit_test(test_entities),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_forbidden_chars),
	    cmocka_unit_test(test_whitespace_kept),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_attribute_flood),
	    cmocka_unit_test(test_input_cap),
	    cmocka_unit_test(test_output_properties),
	    cmocka_unit_test(test_errors_silenced),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_fast_paths),
	};
	int rc;

	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
