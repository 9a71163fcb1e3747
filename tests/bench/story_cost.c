/* story_cost.c: the cost of story grouping as the number of items grows.
 * Generates headlines deterministically from a made-up vocabulary of
 * 60,000 six-letter words: 1-3 common words (Zipf over the first 1,000)
 * and 3-6 specific ones (Zipf, s = 0.7, over the rest); 30% of items
 * retell a recent story with words dropped, swapped and added. Items come
 * from 200 feeds and are grouped in one run, printing CPU time and peak
 * memory (ru_maxrss) at checkpoints, and how many items joined a story
 * and how many of those joined the wrong one.
 *
 *	story_cost [-m stream|burst] [-n items]
 *
 * stream: 100,000 items over 20 days (about 10,000 per 48 h window), the
 * window expired every 1,000 items, as the daemon would. burst: all items
 * inside one window, nothing expires: the index holds every item. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "story.h"
#include "xalloc.h"

#define COMMON 1000
#define VOCAB 60000
#define FEEDS 200
#define RECENT 300 /* stories a retelling may pick from */
#define WORDS_MAX 12
#define DUP_RATE 0.30

struct gen {
	uint64_t rng;
	double *common; /* Zipf CDFs: common words, specific words */
	double *specific;
	int recent[RECENT][WORDS_MAX];
	int recent_n[RECENT];
	uint64_t recent_truth[RECENT];
	size_t nrecent;
	uint64_t nstories;
};

static uint64_t gen_next(struct gen *g);
static double gen_unit(struct gen *g);
static int gen_pick(struct gen *g, const double *cdf, size_t n);
static int gen_word(struct gen *g);
static void zipf_cdf(double *cdf, size_t n, double s);
static void word_text(int k, char *out);
static uint64_t gen_item(struct gen *g, char *title, size_t size);
static double cpu_seconds(void);
static double maxrss_mb(void);
static void usage(void);

/* splitmix64. */
static uint64_t
gen_next(struct gen *g)
{
	uint64_t x = (g->rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Uniform in [0, 1). */
static double
gen_unit(struct gen *g)
{
	return (double)(gen_next(g) >> 11) / 9007199254740992.0;
}

/* An index drawn from a CDF of n entries. */
static int
gen_pick(struct gen *g, const double *cdf, size_t n)
{
	double u = gen_unit(g);
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo;
}

/* A specific word (one in four a common one, as in a retelling's swaps). */
static int
gen_word(struct gen *g)
{
	if (gen_unit(g) < 0.25)
		return gen_pick(g, g->common, COMMON);
	return COMMON + gen_pick(g, g->specific, VOCAB - COMMON);
}

/* The CDF of a Zipf law of exponent s over n ranks. */
static void
zipf_cdf(double *cdf, size_t n, double s)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		cdf[i] = sum += 1.0 / pow((double)(i + 1), s);
	for (size_t i = 0; i < n; i++)
		cdf[i] /= sum;
}

/* Word k as three syllables: six letters, distinct for every k. */
static void
word_text(int k, char *out)
{
	static const char cons[] = "bdfgklmnprtvz";
	static const char vow[] = "aeiou";
	int n = k;

	for (int i = 0; i < 3; i++) {
		int syl = n % 65;

		n /= 65;
		out[2 * i] = cons[syl / 5];
		out[2 * i + 1] = vow[syl % 5];
	}
	out[6] = '\0';
}

/* The next headline into title; returns its true story. */
static uint64_t
gen_item(struct gen *g, char *title, size_t size)
{
	int w[WORDS_MAX], n = 0;
	uint64_t truth;
	size_t o = 0;

	if (g->nrecent > 0 && gen_unit(g) < DUP_RATE) {
		size_t r = (size_t)(gen_next(g) % g->nrecent);

		for (int i = 0; i < g->recent_n[r]; i++) {
			double u = gen_unit(g);

			if (u < 0.2)
				continue;
			w[n++] = u < 0.35 ? gen_word(g) : g->recent[r][i];
		}
		for (int extra = (int)(gen_next(g) % 3); extra > 0 && n < WORDS_MAX; extra--)
			w[n++] = gen_word(g);
		for (int i = n - 1; i > 0; i--) {
			int j = (int)(gen_next(g) % (uint64_t)(i + 1)), t = w[i];

			w[i] = w[j];
			w[j] = t;
		}
		truth = g->recent_truth[r];
	} else {
		size_t slot = g->nstories % RECENT;

		int nc = 1 + (int)(gen_next(g) % 3), ns = 3 + (int)(gen_next(g) % 4);

		for (int i = 0; i < nc; i++)
			w[n++] = gen_pick(g, g->common, COMMON);
		for (int i = 0; i < ns; i++)
			w[n++] = COMMON + gen_pick(g, g->specific, VOCAB - COMMON);
		memcpy(g->recent[slot], w, sizeof w);
		g->recent_n[slot] = n;
		g->recent_truth[slot] = truth = g->nstories++;
		if (g->nrecent < RECENT)
			g->nrecent++;
	}
	for (int i = 0; i < n && o + 8 < size; i++) {
		word_text(w[i], title + o);
		o += 6;
		title[o++] = ' ';
	}
	title[o > 0 ? o - 1 : 0] = '\0';
	return truth;
}

/* CPU seconds used so far (user + system): steadier than the wall
 * clock on a shared machine. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Peak resident memory in MB. */
static double
maxrss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* Say how to run. */
static void
usage(void)
{
	fprintf(stderr, "usage: story_cost [-m stream|burst] [-n items]\n");
	exit(2);
}

/* Group n generated items, reporting at each checkpoint. */
int
main(int argc, char **argv)
{
	static const size_t marks[] = {10000, 25000, 50000, 100000, 200000, 500000, 1000000};
	struct gen g;
	struct story_index *si = NULL;
	uint64_t *truth = NULL;
	size_t n = 100000, mark = 0, joined = 0, wrong = 0;
	const time_t t0 = 1748736000;
	double span, start, seg_start, rss0;
	const char *mode = "stream";
	char title[WORDS_MAX * 8], feed[16];
	int ch, stream;

	while ((ch = getopt(argc, argv, "m:n:")) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (strcmp(mode, "stream") != 0 && strcmp(mode, "burst") != 0)
		usage();
	stream = strcmp(mode, "stream") == 0;
	span = stream ? 20.0 * 86400 : 86400.0;

	memset(&g, 0, sizeof g);
	g.rng = 20250601;
	g.common = xreallocarray(NULL, COMMON, sizeof *g.common);
	g.specific = xreallocarray(NULL, VOCAB - COMMON, sizeof *g.specific);
	zipf_cdf(g.common, COMMON, 1.0);
	zipf_cdf(g.specific, VOCAB - COMMON, 0.7);
	truth = xcalloc(n, sizeof *truth);
	rss0 = maxrss_mb();

	printf("story_cost: %zu items, %s mode (%s), %d feeds, threshold %.2f, window %ld s\n", n, mode,
	       stream ? "20 days, expiry every 1000 items" : "one day, no expiry", FEEDS,
	       STORY_THRESHOLD_DEFAULT, STORY_WINDOW_DEFAULT);
	printf("peak RSS before the index: %.1f MB\n\n", rss0);
	printf("%8s %9s %14s %12s %13s %8s %11s\n", "items", "CPU s", "us/item (seg)", "peak RSS MB",
	       "items indexed", "joined", "wrong joins");
	si = story_index_new(STORY_THRESHOLD_DEFAULT, STORY_WINDOW_DEFAULT);
	start = seg_start = cpu_seconds();
	for (size_t i = 0; i < n; i++) {
		time_t when = t0 + (time_t)((double)i * span / (double)n);
		uint64_t st;

		truth[i] = gen_item(&g, title, sizeof title);
		snprintf(feed, sizeof feed, "feed%u", (unsigned)(gen_next(&g) % FEEDS));
		st = story_index_add(si, i, feed, title, NULL, when);
		if (st != i) {
			joined++;
			wrong += truth[st] != truth[i];
		}
		if (stream && (i + 1) % 1000 == 0)
			story_index_expire(si, when - STORY_WINDOW_DEFAULT);
		if (mark < sizeof marks / sizeof marks[0] && i + 1 == marks[mark]) {
			double t = cpu_seconds(), prev = mark > 0 ? (double)marks[mark - 1] : 0;

			printf("%8zu %9.2f %14.1f %12.1f %13zu %7.1f%% %10.2f%%\n", i + 1, t - start,
			       (t - seg_start) * 1e6 / ((double)(i + 1) - prev), maxrss_mb(),
			       story_index_count(si), 100.0 * (double)joined / (double)(i + 1),
			       joined ? 100.0 * (double)wrong / (double)joined : 0.0);
			seg_start = t;
			mark++;
		}
	}
	seg_start = cpu_seconds() - start;
	printf("\n%zu items in %.2f s CPU (%.1f us/item); %llu true stories\n", n, seg_start,
	       seg_start * 1e6 / (double)n, (unsigned long long)g.nstories);
	story_index_free(si);
	free(truth);
	free(g.common);
	free(g.specific);
	return 0;
}
