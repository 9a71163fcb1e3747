/* pages.c: views of the daemon for people and monitoring. The HTML page is
 * written with libxml2's xmlTextWriter, so everything shown (feed names,
 * titles, error texts from remote servers) is escaped by construction and
 * the page needs no JavaScript. The exposition follows the Prometheus text
 * format 0.0.4: HELP and TYPE once per family, label values escaped. */
#include "pages.h"

#include <libxml/xmlwriter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "date.h"
#include "fetch.h"
#include "group.h"
#include "http.h"
#include "metrics.h"
#include "poll.h"
#include "publish.h"
#include "store.h"
#include "version.h"
#include "xalloc.h"

static void pages_status_text(struct daemon *d, struct buf *out);
static void pages_metrics(struct daemon *d, struct buf *out);
static int pages_html(struct daemon *d, struct buf *out);
static void prom_family(struct buf *out, const char *name, const char *type, const char *help);
static void prom_label_value(struct buf *out, const char *v);
static const char *feed_state(const struct feed_health *h);

#define SPARK_DAYS 14

/* Items per day of one feed or topic, for its sparkline. */
struct daily {
	char *name;
	unsigned count[SPARK_DAYS]; /* [0]: the last 24 h */
};

struct daily_table {
	struct daily *v;
	size_t n;
};

static void daily_add(void *arg, const char *name, int day, unsigned count);
static const struct daily *daily_find(const struct daily_table *t, const char *name);
static void daily_free(struct daily_table *t);
static void html_sparkline(xmlTextWriterPtr w, const struct daily *dl);

/* A word for a feed's health. */
static const char *
feed_state(const struct feed_health *h)
{
	if (h->gone)
		return "gone";
	if (h->last_error != NULL)
		return "failing";
	return h->last_success ? "ok" : "pending";
}

/* Plain text: one line per feed. */
static void
pages_status_text(struct daemon *d, struct buf *out)
{
	buf_printf(out, "feedmux %s: %zu feeds, %zu transfers running, %zu waiting\n", FEEDMUX_VERSION, d->nfeeds,
	           fetcher_running(d->fetcher), fetcher_waiting(d->fetcher));
	if (d->reload_error != NULL)
		buf_printf(out, "last reload failed: %s\n", d->reload_error);
	if (publisher_write_error(d->pub) != NULL)
		buf_printf(out, "output_dir not up to date: %s\n", publisher_write_error(d->pub));
	for (size_t i = 0; i < d->nfeeds; i++)
		poll_feed_describe(d->feeds[i], out);
}

/* # HELP and # TYPE lines. */
static void
prom_family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \\, " and newline escaped. */
static void
prom_label_value(struct buf *out, const char *v)
{
	buf_puts(out, "\"");
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_append(out, v, 1);
	}
	buf_puts(out, "\"");
}

/* The Prometheus exposition. */
static void
pages_metrics(struct daemon *d, struct buf *out)
{
	const struct metrics *m = &d->metrics;
	static const char *const outcomes[STORE_OUTCOMES] = {"new", "duplicate", "update", "stale"};
	uint64_t ok = m->fetches[METRICS_FETCH_OK], nm = m->fetches[METRICS_FETCH_NOT_MODIFIED];
	size_t failing = 0;

	prom_family(out, "feedmux_fetches_total", "counter", "Feed fetches by result.");
	for (int i = 0; i < METRICS_FETCH_N; i++)
		buf_printf(out, "feedmux_fetches_total{result=\"%s\"} %llu\n", metrics_fetch_name(i),
		           (unsigned long long)m->fetches[i]);
	prom_family(out, "feedmux_fetch_not_modified_ratio", "gauge",
	            "Share of successful fetches answered 304 Not Modified.");
	buf_printf(out, "feedmux_fetch_not_modified_ratio %g\n", ok + nm ? (double)nm / (double)(ok + nm) : 0.0);
	prom_family(out, "feedmux_fetch_bytes_total", "counter", "Feed body bytes received, after decompression.");
	buf_printf(out, "feedmux_fetch_bytes_total %llu\n", (unsigned long long)m->fetch_bytes);
	prom_family(out, "feedmux_items_total", "counter", "Items offered to the store, by deduplication outcome.");
	for (int o = 0; o < STORE_OUTCOMES; o++)
		buf_printf(out, "feedmux_items_total{outcome=\"%s\"} %llu\n", outcomes[o],
		           (unsigned long long)store_count(d->st, (enum store_outcome)o));
	prom_family(out, "feedmux_stories_total", "counter", "Stories that grouped reports from several feeds.");
	buf_printf(out, "feedmux_stories_total %llu\n", (unsigned long long)grouper_story_count(d->grouper));
	prom_family(out, "feedmux_feeds", "gauge", "Configured feeds.");
	buf_printf(out, "feedmux_feeds %zu\n", d->nfeeds);
	prom_family(out, "feedmux_feed_consecutive_failures", "gauge", "Consecutive failed polls, by feed.");
	for (size_t i = 0; i < d->nfeeds; i++) {
		const struct feed_health *h = poll_feed_health(d->feeds[i]);
		buf_puts(out, "feedmux_feed_consecutive_failures{feed=");
		prom_label_value(out, poll_feed_name(d->feeds[i]));
		buf_printf(out, "} %d\n", h->failures);
		failing += h->last_error != NULL;
	}
	prom_family(out, "feedmux_feeds_failing", "gauge", "Feeds whose last poll failed.");
	buf_printf(out, "feedmux_feeds_failing %zu\n", failing);
	prom_family(out, "feedmux_transfers", "gauge", "HTTP transfers, by state.");
	buf_printf(out, "feedmux_transfers{state=\"running\"} %zu\nfeedmux_transfers{state=\"waiting\"} %zu\n",
	           fetcher_running(d->fetcher), fetcher_waiting(d->fetcher));
	prom_family(out, "feedmux_renders_total", "counter", "Output renderings.");
	buf_printf(out, "feedmux_renders_total %llu\n", (unsigned long long)m->renders);
	prom_family(out, "feedmux_render_reuses_total", "counter",
	            "Starts that adopted output_dir's documents instead of rendering them.");
	buf_printf(out, "feedmux_render_reuses_total %llu\n", (unsigned long long)m->render_reuses);
	prom_family(out, "feedmux_render_failures_total", "counter", "Renderings that kept the previous outputs.");
	buf_printf(out, "feedmux_render_failures_total %llu\n", (unsigned long long)m->render_failures);
	prom_family(out, "feedmux_output_write_failures_total", "counter",
	            "Failed attempts to write a document to output_dir.");
	buf_printf(out, "feedmux_output_write_failures_total %llu\n", (unsigned long long)m->write_failures);
	prom_family(out, "feedmux_render_seconds_total", "counter", "Time spent rendering outputs.");
	buf_printf(out, "feedmux_render_seconds_total %.6f\n", m->render_seconds);
	prom_family(out, "feedmux_reloads_total", "counter", "Configuration reloads, by result.");
	buf_printf(out, "feedmux_reloads_total{result=\"ok\"} %llu\nfeedmux_reloads_total{result=\"failed\"} %llu\n",
	           (unsigned long long)m->reloads, (unsigned long long)m->reload_failures);
	if (d->http != NULL) {
		size_t open;
		unsigned long cut;

		http_server_stats(d->http, &open, &cut);
		prom_family(out, "feedmux_http_connections", "gauge", "HTTP connections open.");
		buf_printf(out, "feedmux_http_connections %zu\n", open);
		prom_family(out, "feedmux_http_connections_cut_total", "counter",
		            "HTTP connections closed for not sending a whole request within http_request_timeout.");
		buf_printf(out, "feedmux_http_connections_cut_total %lu\n", cut);
	}
	prom_family(out, "feedmux_http_requests_total", "counter", "HTTP responses sent, by status code.");
	for (int i = 0; i < METRICS_HTTP_N; i++) {
		int code = metrics_http_code(i);
		if (code)
			buf_printf(out, "feedmux_http_requests_total{code=\"%d\"} %llu\n", code,
			           (unsigned long long)m->http[i]);
		else
			buf_printf(out, "feedmux_http_requests_total{code=\"other\"} %llu\n",
			           (unsigned long long)m->http[i]);
	}
}

/* One row of store_daily_counts (rows come grouped by name). */
static void
daily_add(void *arg, const char *name, int day, unsigned count)
{
	struct daily_table *t = arg;

	if (name == NULL || day < 0 || day >= SPARK_DAYS)
		return;
	if (t->n == 0 || strcmp(t->v[t->n - 1].name, name) != 0) {
		t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
		memset(&t->v[t->n], 0, sizeof t->v[t->n]);
		t->v[t->n++].name = xstrdup(name);
	}
	t->v[t->n - 1].count[day] += count;
}

/* Compare two rows by name, for qsort and bsearch. */
static int
daily_cmp(const void *a, const void *b)
{
	return strcmp(((const struct daily *)a)->name, ((const struct daily *)b)->name);
}

/* The row of name, or NULL. */
static const struct daily *
daily_find(const struct daily_table *t, const char *name)
{
	struct daily key;

	key.name = (char *)(uintptr_t)name;
	return t->n ? bsearch(&key, t->v, t->n, sizeof *t->v, daily_cmp) : NULL;
}

/* Free the table. */
static void
daily_free(struct daily_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* A cell with an inline SVG bar chart of items per day, oldest left. */
static void
html_sparkline(xmlTextWriterPtr w, const struct daily *dl)
{
	unsigned max = 1, total = 0;

	for (int i = 0; dl != NULL && i < SPARK_DAYS; i++) {
		if (dl->count[i] > max)
			max = dl->count[i];
		total += dl->count[i];
	}
	xmlTextWriterStartElement(w, BAD_CAST "td");
	xmlTextWriterStartElement(w, BAD_CAST "svg");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST "http://www.w3.org/2000/svg");
	xmlTextWriterWriteFormatAttribute(w, BAD_CAST "width", "%d", SPARK_DAYS * 5);
	xmlTextWriterWriteAttribute(w, BAD_CAST "height", BAD_CAST "16");
	xmlTextWriterWriteAttribute(w, BAD_CAST "role", BAD_CAST "img");
	xmlTextWriterWriteFormatElement(w, BAD_CAST "title", "%u items in %d days", total, SPARK_DAYS);
	for (int i = 0; dl != NULL && i < SPARK_DAYS; i++) {
		unsigned c = dl->count[SPARK_DAYS - 1 - i];
		int h = c ? (int)(1 + (c * 15) / max) : 0;

		if (h == 0)
			continue;
		xmlTextWriterStartElement(w, BAD_CAST "rect");
		xmlTextWriterWriteFormatAttribute(w, BAD_CAST "x", "%d", i * 5);
		xmlTextWriterWriteFormatAttribute(w, BAD_CAST "y", "%d", 16 - h);
		xmlTextWriterWriteAttribute(w, BAD_CAST "width", BAD_CAST "4");
		xmlTextWriterWriteFormatAttribute(w, BAD_CAST "height", "%d", h);
		xmlTextWriterWriteAttribute(w, BAD_CAST "fill", BAD_CAST "#47a");
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w); /* svg */
	xmlTextWriterWriteFormatString(w, " %u", total);
	xmlTextWriterEndElement(w); /* td */
}

/* A table cell with text. */
static void
html_cell(xmlTextWriterPtr w, const char *text)
{
	xmlTextWriterWriteElement(w, BAD_CAST "td", BAD_CAST(text ? text : ""));
}

/* A link. */
static void
html_link(xmlTextWriterPtr w, const char *href, const char *text)
{
	xmlTextWriterStartElement(w, BAD_CAST "a");
	xmlTextWriterWriteAttribute(w, BAD_CAST "href", BAD_CAST href);
	xmlTextWriterWriteString(w, BAD_CAST text);
	xmlTextWriterEndElement(w);
}

/* The HTML status page. */
static int
pages_html(struct daemon *d, struct buf *out)
{
	const struct config *cfg = d->cfg;
	xmlBufferPtr xb = xmlBufferCreate();
	xmlTextWriterPtr w = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
	struct daily_table feeds = {NULL, 0}, topics = {NULL, 0};
	time_t now = time(NULL);
	char when[40], num[64];
	int rc = -1;

	if (w == NULL)
		goto done;
	store_daily_counts(d->st, 0, now, SPARK_DAYS, daily_add, &feeds);
	store_daily_counts(d->st, 1, now, SPARK_DAYS, daily_add, &topics);
	if (feeds.n)
		qsort(feeds.v, feeds.n, sizeof *feeds.v, daily_cmp);
	if (topics.n)
		qsort(topics.v, topics.n, sizeof *topics.v, daily_cmp);
	buf_puts(out, "<!DOCTYPE html>\n");
	xmlTextWriterStartElement(w, BAD_CAST "html");
	xmlTextWriterWriteAttribute(w, BAD_CAST "lang", BAD_CAST "en");
	xmlTextWriterStartElement(w, BAD_CAST "head");
	xmlTextWriterStartElement(w, BAD_CAST "meta");
	xmlTextWriterWriteAttribute(w, BAD_CAST "charset", BAD_CAST "utf-8");
	xmlTextWriterEndElement(w);
	xmlTextWriterWriteFormatElement(w, BAD_CAST "title", "%s: feedmux status", cfg->title);
	xmlTextWriterWriteElement(w, BAD_CAST "style",
	                          BAD_CAST "body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
	                                   "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
	                                   ".failing,.gone{color:#b00}.ok{color:#070}");
	xmlTextWriterEndElement(w); /* head */
	xmlTextWriterStartElement(w, BAD_CAST "body");
	xmlTextWriterWriteElement(w, BAD_CAST "h1", BAD_CAST cfg->title);
	xmlTextWriterStartElement(w, BAD_CAST "p");
	html_link(w, "feed.atom", "Atom feed");
	xmlTextWriterWriteString(w, BAD_CAST " · ");
	html_link(w, "feed.json", "JSON Feed");
	xmlTextWriterWriteString(w, BAD_CAST " · ");
	html_link(w, "feeds.opml", "subscriptions (OPML)");
	xmlTextWriterWriteString(w, BAD_CAST " · ");
	html_link(w, "metrics", "metrics");
	xmlTextWriterEndElement(w);
	if (d->reload_error != NULL)
		xmlTextWriterWriteFormatElement(w, BAD_CAST "p", "Last reload failed: %s", d->reload_error);
	if (publisher_write_error(d->pub) != NULL)
		xmlTextWriterWriteFormatElement(w, BAD_CAST "p", "output_dir not up to date: %s",
		                                publisher_write_error(d->pub));

	if (cfg->ntopics > 0) {
		xmlTextWriterWriteElement(w, BAD_CAST "h2", BAD_CAST "Topics");
		xmlTextWriterStartElement(w, BAD_CAST "table");
		xmlTextWriterStartElement(w, BAD_CAST "tr");
		xmlTextWriterWriteElement(w, BAD_CAST "th", BAD_CAST "topic");
		xmlTextWriterWriteFormatElement(w, BAD_CAST "th", "items per day, %d days", SPARK_DAYS);
		xmlTextWriterEndElement(w);
		for (size_t i = 0; i < cfg->ntopics; i++) {
			char *href = xasprintf("topics/%s.atom", cfg->topics[i].name);
			xmlTextWriterStartElement(w, BAD_CAST "tr");
			xmlTextWriterStartElement(w, BAD_CAST "td");
			html_link(w, href, cfg->topics[i].title ? cfg->topics[i].title : cfg->topics[i].name);
			xmlTextWriterEndElement(w);
			html_sparkline(w, daily_find(&topics, cfg->topics[i].name));
			xmlTextWriterEndElement(w);
			free(href);
		}
		xmlTextWriterEndElement(w);
	}

	xmlTextWriterWriteFormatElement(w, BAD_CAST "h2", "Feeds (%zu)", d->nfeeds);
	xmlTextWriterStartElement(w, BAD_CAST "table");
	xmlTextWriterStartElement(w, BAD_CAST "tr");
	for (const char *const *h = (const char *const[]){"feed", "state", "last success", "next poll", "",
	                                                  "last poll: items", "new", "failures", "last error",
	                                                  NULL};
	     *h; h++) {
		if (**h == '\0') /* the sparkline column */
			xmlTextWriterWriteFormatElement(w, BAD_CAST "th", "items per day, %d days", SPARK_DAYS);
		else
			xmlTextWriterWriteElement(w, BAD_CAST "th", BAD_CAST *h);
	}
	xmlTextWriterEndElement(w);
	for (size_t i = 0; i < d->nfeeds; i++) {
		const struct feed_health *h = poll_feed_health(d->feeds[i]);
		const char *state = feed_state(h);

		xmlTextWriterStartElement(w, BAD_CAST "tr");
		html_cell(w, poll_feed_name(d->feeds[i]));
		xmlTextWriterStartElement(w, BAD_CAST "td");
		xmlTextWriterWriteAttribute(w, BAD_CAST "class", BAD_CAST state);
		xmlTextWriterWriteString(w, BAD_CAST state);
		xmlTextWriterEndElement(w);
		if (h->last_success)
			date_format_rfc3339(h->last_success, when, sizeof when);
		html_cell(w, h->last_success ? when : "never");
		if (h->next_due && !h->gone)
			date_format_rfc3339(h->next_due, when, sizeof when);
		html_cell(w, h->next_due && !h->gone ? when : "-");
		html_sparkline(w, daily_find(&feeds, poll_feed_name(d->feeds[i])));
		snprintf(num, sizeof num, "%zu", h->items);
		html_cell(w, num);
		snprintf(num, sizeof num, "%zu", h->new_items);
		html_cell(w, num);
		snprintf(num, sizeof num, "%d", h->failures);
		html_cell(w, num);
		html_cell(w, h->last_error);
		xmlTextWriterEndElement(w); /* tr */
	}
	xmlTextWriterEndElement(w); /* table */
	xmlTextWriterWriteFormatElement(w, BAD_CAST "p", "feedmux %s", FEEDMUX_VERSION);
	xmlTextWriterEndElement(w); /* body */
	xmlTextWriterEndElement(w); /* html */
	if (xmlTextWriterFlush(w) < 0)
		goto done;
	buf_append(out, (const char *)xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	buf_puts(out, "\n");
	rc = 0;
done:
	daily_free(&feeds);
	daily_free(&topics);
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (xb != NULL)
		xmlBufferFree(xb);
	return rc;
}

/* Route a path to its page. */
int
pages_render(void *arg, const char *path, struct buf *out, const char **type)
{
	struct daemon *d = arg;

	if (strcmp(path, "/status") == 0) {
		pages_status_text(d, out);
		*type = "text/plain; charset=utf-8";
		return 1;
	}
	if (strcmp(path, "/metrics") == 0) {
		pages_metrics(d, out);
		*type = "text/plain; version=0.0.4; charset=utf-8";
		return 1;
	}
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		if (pages_html(d, out) < 0)
			return 0;
		*type = "text/html; charset=utf-8";
		return 1;
	}
	return 0;
}
