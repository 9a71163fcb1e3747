/* stories.c: scores the story grouping on a labelled set of headlines
 * (tests/data/stories-dev.tsv: id, title, url, publisher, category, story,
 * timestamp; one `story` value is one true story). Items go in by
 * timestamp, the publisher standing for the feed. Prints B-cubed and
 * pairwise precision/recall/F1 for feedmux at its default threshold and
 * over a sweep, beside two baselines run the same way: exact normalized
 * title, and word-set Jaccard >= 0.5 (other publisher, same window).
 *
 *	stories [-t threshold] [-w window_seconds] stories-dev.tsv */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "story.h"
#include "xalloc.h"

struct row {
	uint64_t id;
	char *title;
	char *publisher;
	char *label;
	time_t when;
	char *norm;   /* baseline: lower-case words joined by one space */
	char **words; /* baseline: distinct words, sorted */
	size_t nwords;
	int gold;
};

struct scores {
	double b3p, b3r, b3f, pp, pr, pf;
	size_t clusters;
};

static int read_rows(const char *path, struct row **rows, size_t *n);
static int cmp_row(const void *a, const void *b);
static int cmp_str(const void *a, const void *b);
static void normalize(struct row *r);
static double jaccard(const struct row *a, const struct row *b);
static int in_window(const struct row *a, const struct row *b, long window);
static void run_exact(const struct row *rows, size_t n, long window, uint64_t *pred);
static void run_jaccard(const struct row *rows, size_t n, long window, double min, uint64_t *pred);
static double run_feedmux(const struct row *rows, size_t n, long window, double threshold, uint64_t *pred);
static void score(const struct row *rows, size_t n, const uint64_t *pred, struct scores *s);
static void print_line(const char *name, const char *thr, const struct scores *s, const char *note);
static void usage(void);

/* Read the TSV (with its header line) into rows. */
static int
read_rows(const char *path, struct row **rows, size_t *n)
{
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0, nrows = 0, rcap = 0;
	ssize_t len;
	int ret = -1, lineno = 0;
	struct row *v = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		goto done;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *field[7], *p = line;
		int nf = 0;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lineno == 1)
			continue;
		while (nf < 7) {
			field[nf++] = p;
			if ((p = strchr(p, '\t')) == NULL)
				break;
			*p++ = '\0';
		}
		if (nf != 7) {
			fprintf(stderr, "%s:%d: expected 7 fields\n", path, lineno);
			goto done;
		}
		if (nrows == rcap) {
			rcap = rcap ? rcap * 2 : 1024;
			v = xreallocarray(v, rcap, sizeof *v);
		}
		memset(&v[nrows], 0, sizeof v[nrows]);
		v[nrows].id = strtoull(field[0], NULL, 10);
		v[nrows].title = xstrdup(field[1]);
		v[nrows].publisher = xstrdup(field[3]);
		v[nrows].label = xstrdup(field[5]);
		v[nrows].when = (time_t)strtoll(field[6], NULL, 10);
		normalize(&v[nrows]);
		nrows++;
	}
	ret = 0;
done:
	free(line);
	if (f != NULL)
		fclose(f);
	*rows = v;
	*n = nrows;
	return ret;
}

/* Timestamp order, then id. */
static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* qsort order of strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The baselines' view of a title: ASCII letters and digits, lower-cased;
 * anything else separates words. */
static void
normalize(struct row *r)
{
	size_t len = strlen(r->title), o = 0, n = 0;
	char *s = xmalloc(len + 1), *tok, *save = NULL;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)r->title[i];

		if (c < 0x80 && isalnum(c))
			s[o++] = (char)tolower(c);
		else if (o > 0 && s[o - 1] != ' ')
			s[o++] = ' ';
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
	r->norm = s;
	r->words = xreallocarray(NULL, o / 2 + 1, sizeof *r->words);
	s = xstrdup(r->norm);
	for (tok = strtok_r(s, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		r->words[n++] = xstrdup(tok);
	free(s);
	qsort(r->words, n, sizeof *r->words, cmp_str);
	r->nwords = 0;
	for (size_t i = 0; i < n; i++) {
		if (r->nwords > 0 && strcmp(r->words[i], r->words[r->nwords - 1]) == 0) {
			free(r->words[i]);
			continue;
		}
		r->words[r->nwords++] = r->words[i];
	}
}

/* Jaccard of two rows' word sets. */
static double
jaccard(const struct row *a, const struct row *b)
{
	size_t i = 0, j = 0, inter = 0;

	if (a->nwords == 0 || b->nwords == 0)
		return 0;
	while (i < a->nwords && j < b->nwords) {
		int c = strcmp(a->words[i], b->words[j]);

		if (c == 0) {
			inter++;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	return (double)inter / (double)(a->nwords + b->nwords - inter);
}

/* Whether two rows may be grouped: other publisher, within the window. */
static int
in_window(const struct row *a, const struct row *b, long window)
{
	return strcmp(a->publisher, b->publisher) != 0 &&
	       llabs((long long)a->when - (long long)b->when) <= window;
}

/* Baseline 1: join the earliest earlier item with the same normalized title. */
static void
run_exact(const struct row *rows, size_t n, long window, uint64_t *pred)
{
	for (size_t i = 0; i < n; i++) {
		pred[i] = rows[i].id;
		if (rows[i].norm[0] == '\0')
			continue;
		for (size_t j = 0; j < i; j++)
			if (in_window(&rows[i], &rows[j], window) &&
			    strcmp(rows[i].norm, rows[j].norm) == 0) {
				pred[i] = pred[j];
				break;
			}
	}
}

/* Baseline 2: join the earlier item of highest word-set Jaccard >= min. */
static void
run_jaccard(const struct row *rows, size_t n, long window, double min, uint64_t *pred)
{
	for (size_t i = 0; i < n; i++) {
		double best = 0;

		pred[i] = rows[i].id;
		for (size_t j = 0; j < i; j++) {
			double s;

			if (!in_window(&rows[i], &rows[j], window))
				continue;
			s = jaccard(&rows[i], &rows[j]);
			if (s >= min && s > best) {
				best = s;
				pred[i] = pred[j];
			}
		}
	}
}

/* feedmux's story index; returns the seconds it took. */
static double
run_feedmux(const struct row *rows, size_t n, long window, double threshold, uint64_t *pred)
{
	struct story_index *si = story_index_new(threshold, window);
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++)
		pred[i] =
		    story_index_add(si, rows[i].id, rows[i].publisher, rows[i].title, NULL, rows[i].when);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	story_index_free(si);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* B-cubed and pairwise scores of a grouping against the labels. */
static void
score(const struct row *rows, size_t n, const uint64_t *pred, struct scores *s)
{
	double b3p = 0, b3r = 0, tp = 0, pp = 0, gp = 0;

	s->clusters = 0;
	for (size_t i = 0; i < n; i++) {
		size_t both = 0, np = 0, ng = 0;

		for (size_t j = 0; j < n; j++) {
			int sp = pred[j] == pred[i], sg = rows[j].gold == rows[i].gold;

			np += sp;
			ng += sg;
			both += sp && sg;
			if (j > i) {
				pp += sp;
				gp += sg;
				tp += sp && sg;
			}
		}
		b3p += (double)both / (double)np;
		b3r += (double)both / (double)ng;
		if (pred[i] == rows[i].id)
			s->clusters++;
	}
	s->b3p = b3p / (double)n;
	s->b3r = b3r / (double)n;
	s->b3f = 2 * s->b3p * s->b3r / (s->b3p + s->b3r);
	s->pp = pp > 0 ? tp / pp : 1;
	s->pr = gp > 0 ? tp / gp : 1;
	s->pf = s->pp + s->pr > 0 ? 2 * s->pp * s->pr / (s->pp + s->pr) : 0;
}

/* One line of the table. */
static void
print_line(const char *name, const char *thr, const struct scores *s, const char *note)
{
	printf("%-26s %5s  %6.3f %6.3f %6.3f  %6.3f %6.3f %6.3f  %7zu  %s\n", name, thr, s->b3p, s->b3r,
	       s->b3f, s->pp, s->pr, s->pf, s->clusters, note);
}

/* Say how to run. */
static void
usage(void)
{
	fprintf(stderr, "usage: stories [-t threshold] [-w window_seconds] stories-dev.tsv\n");
	exit(2);
}

/* Score feedmux and the baselines on the file given. */
int
main(int argc, char **argv)
{
	static const double sweep[] = {0.15, 0.18, 0.20, 0.22, 0.25, 0.28, 0.30, 0.35, 0.40, 0.50};
	struct row *rows = NULL;
	uint64_t *pred = NULL;
	size_t n = 0, ngold = 0, npub = 0;
	double threshold = STORY_THRESHOLD_DEFAULT, secs;
	long window = STORY_WINDOW_DEFAULT;
	char **labels = NULL, **pubs = NULL, thr[16], note[64];
	struct scores s;
	int ch, ret = 1;

	while ((ch = getopt(argc, argv, "t:w:")) != -1) {
		switch (ch) {
		case 't':
			threshold = strtod(optarg, NULL);
			break;
		case 'w':
			window = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if (read_rows(argv[optind], &rows, &n) == -1 || n == 0)
		goto done;
	qsort(rows, n, sizeof *rows, cmp_row);

	/* Gold labels and publishers, numbered. */
	labels = xreallocarray(NULL, n, sizeof *labels);
	pubs = xreallocarray(NULL, n, sizeof *pubs);
	for (size_t i = 0; i < n; i++) {
		labels[i] = rows[i].label;
		pubs[i] = rows[i].publisher;
	}
	qsort(labels, n, sizeof *labels, cmp_str);
	qsort(pubs, n, sizeof *pubs, cmp_str);
	for (size_t i = 0; i < n; i++) {
		ngold += i == 0 || strcmp(labels[i], labels[i - 1]) != 0;
		npub += i == 0 || strcmp(pubs[i], pubs[i - 1]) != 0;
	}
	for (size_t i = 0; i < n; i++) {
		char **hit = bsearch(&rows[i].label, labels, n, sizeof *labels, cmp_str);

		/* The first of equal labels numbers the story. */
		while (hit > labels && strcmp(hit[-1], *hit) == 0)
			hit--;
		rows[i].gold = (int)(hit - labels);
	}

	pred = xreallocarray(NULL, n, sizeof *pred);
	printf("%s: %zu items, %zu true stories, %zu publishers; window %ld s\n\n", argv[optind], n, ngold,
	       npub, window);
	printf("%-26s %5s  %6s %6s %6s  %6s %6s %6s  %7s\n", "method", "thr", "B3-P", "B3-R", "B3-F1",
	       "pair-P", "pair-R", "pair-F1", "stories");
	run_exact(rows, n, window, pred);
	score(rows, n, pred, &s);
	print_line("exact normalized title", "-", &s, "baseline");
	run_jaccard(rows, n, window, 0.5, pred);
	score(rows, n, pred, &s);
	print_line("word-set Jaccard >= 0.5", "-", &s, "baseline");
	secs = run_feedmux(rows, n, window, threshold, pred);
	score(rows, n, pred, &s);
	snprintf(thr, sizeof thr, "%.2f", threshold);
	snprintf(note, sizeof note, "feedmux, %.1f us/item", secs * 1e6 / (double)n);
	print_line("feedmux story_index", thr, &s, note);
	printf("\nthreshold sweep (feedmux):\n");
	for (size_t k = 0; k < sizeof sweep / sizeof sweep[0]; k++) {
		run_feedmux(rows, n, window, sweep[k], pred);
		score(rows, n, pred, &s);
		snprintf(thr, sizeof thr, "%.2f", sweep[k]);
		print_line("feedmux story_index", thr, &s, sweep[k] == threshold ? "<- used" : "");
	}
	ret = 0;
done:
	for (size_t i = 0; i < n; i++) {
		free(rows[i].title);
		free(rows[i].publisher);
		free(rows[i].label);
		free(rows[i].norm);
		for (size_t j = 0; j < rows[i].nwords; j++)
			free(rows[i].words[j]);
		free(rows[i].words);
	}
	free(rows);
	free(pred);
	free(labels);
	free(pubs);
	return ret;
}
