/* parsedump.c: run one feed file through the streaming parser, the way the
 * daemon does (parser_push in network-sized chunks), and print what came
 * out as JSON lines: one per item as it is handed out, then the feed's own
 * fields, then the outcome. Used by tests/e2e/differential.py and by hand:
 *
 *   parsedump [-c charset] [-b bytes] FILE [BASE_URL]
 *
 * -c is the HTTP charset, -b the chunk size (default 4096; 0 pushes the
 * file whole). Dates are RFC 3339 UTC, or null when unknown. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "item.h"
#include "parse.h"

/* What the item callback needs. */
struct dump {
	size_t nitems;
};

static void dump_usage(void);
static void dump_put_string(struct json_object *o, const char *key, const char *v);
static void dump_put_time(struct json_object *o, const char *key, time_t t);
static void dump_print(struct json_object *o);
static void dump_item(void *arg, struct item *it);
static const char *dump_format_name(enum feed_format f);

/* Print how to call the tool and exit. */
static void
dump_usage(void)
{
	fprintf(stderr, "usage: parsedump [-c charset] [-b bytes] FILE [BASE_URL]\n");
	exit(2);
}

/* Add a string member, or null. */
static void
dump_put_string(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}

/* Add a time member as RFC 3339 UTC, or null when unknown. */
static void
dump_put_time(struct json_object *o, const char *key, time_t t)
{
	char s[32];

	if (t == 0) {
		json_object_object_add(o, key, NULL);
		return;
	}
	date_format_rfc3339(t, s, sizeof s);
	json_object_object_add(o, key, json_object_new_string(s));
}

/* Print an object as one line and free it. */
static void
dump_print(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Parser callback: one line per item. */
static void
dump_item(void *arg, struct item *it)
{
	struct dump *d = arg;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("item"));
	json_object_object_add(o, "index", json_object_new_int64((int64_t)d->nitems++));
	dump_put_string(o, "title", it->title);
	dump_put_string(o, "link", it->link);
	dump_put_string(o, "id", it->id);
	dump_put_time(o, "published", it->published);
	dump_put_time(o, "updated", it->updated);
	dump_put_string(o, "author", it->author);
	dump_print(o);
	item_free(it);
}

/* The format's name in the output. */
static const char *
dump_format_name(enum feed_format f)
{
	switch (f) {
	case FEED_FORMAT_RSS:
		return "rss";
	case FEED_FORMAT_RDF:
		return "rdf";
	case FEED_FORMAT_ATOM:
		return "atom";
	case FEED_FORMAT_JSON:
		return "json";
	default:
		return "unknown";
	}
}

/* Parse one file and print its items, its feed fields and the outcome. */
int
main(int argc, char **argv)
{
	const char *charset = NULL, *path, *base = NULL;
	size_t chunk = 4096, n;
	struct dump d = {0};
	struct parser *p = NULL;
	const struct feed_meta *m;
	struct json_object *o;
	char *err = NULL, *data = NULL;
	FILE *f = NULL;
	int c, rc, status = 1;
	const char *warning;

	while ((c = getopt(argc, argv, "b:c:")) != -1) {
		switch (c) {
		case 'b':
			chunk = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			charset = optarg;
			break;
		default:
			dump_usage();
		}
	}
	if (optind >= argc || argc - optind > 2)
		dump_usage();
	path = argv[optind];
	if (argc - optind == 2)
		base = argv[optind + 1];
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "parsedump: %s: %s\n", path, strerror(errno));
		goto cleanup;
	}
	data = malloc(chunk == 0 ? 1 << 20 : chunk);
	if (data == NULL)
		goto cleanup;
	p = parser_new(base, charset, dump_item, &d);
	if (chunk == 0) {
		/* The whole file in one push. */
		char *all = NULL;
		size_t len = 0;
		while ((n = fread(data, 1, 1 << 20, f)) > 0) {
			char *grown = realloc(all, len + n);
			if (grown == NULL) {
				free(all);
				goto cleanup;
			}
			all = grown;
			memcpy(all + len, data, n);
			len += n;
		}
		parser_push(p, all != NULL ? all : "", len);
		free(all);
	} else {
		while ((n = fread(data, 1, chunk, f)) > 0)
			if (parser_push(p, data, n) < 0)
				break;
	}
	rc = parser_finish(p, &err);
	m = parser_meta(p);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("feed"));
	json_object_object_add(o, "format", json_object_new_string(dump_format_name(parser_format(p))));
	dump_put_string(o, "title", m->title);
	dump_put_string(o, "link", m->link);
	dump_put_string(o, "id", m->id);
	dump_put_time(o, "updated", m->updated);
	dump_print(o);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("result"));
	json_object_object_add(o, "ok", json_object_new_boolean(rc == 0));
	json_object_object_add(o, "items", json_object_new_int64((int64_t)parser_item_count(p)));
	dump_put_string(o, "error", err);
	warning = parser_warning(p);
	dump_put_string(o, "warning", warning);
	dump_print(o);
	status = 0;
cleanup:
	parser_free(p);
	free(err);
	free(data);
	if (f != NULL)
		fclose(f);
	return status;
}
