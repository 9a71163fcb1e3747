/* main.c: the command line. Everything else lives in the library. */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "config.h"
#include "daemon.h"
#include "buf.h"
#include "log.h"
#include "opml.h"
#include "strlist.h"
#include "version.h"

#define DEFAULT_CONFIG SYSCONFDIR "/feedmux/feedmux.conf"

static void usage(FILE *out);
static int check_config(const char *path);
static int import_opml(const char *path);

/* Print the synopsis. */
static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: feedmux [-c FILE] [-t] [--once] [-v] [-h] [-V]\n"
	        "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	        "  -t, --test         check the configuration and exit\n"
	        "      --once         poll every feed once, write the outputs and exit\n"
	        "      --import-opml FILE\n"
	        "                     print [feed] sections for the subscriptions in an OPML\n"
	        "                     file (a feed reader's export; - for stdin)\n"
	        "  -v, --verbose      log debug messages\n"
	        "  -h, --help         show this help\n"
	        "  -V, --version      show the version\n");
}

/* -t: report every problem, or "configuration OK". */
static int
check_config(const char *path)
{
	struct strlist errors;
	struct config *cfg;

	strlist_init(&errors);
	cfg = config_load(path, &errors);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "%s\n", errors.v[i]);
	strlist_free(&errors);
	if (cfg == NULL)
		return 1;
	config_free(cfg);
	printf("%s: configuration OK\n", path);
	return 0;
}

/* --import-opml: print feedmux.conf sections for a reader's export. */
static int
import_opml(const char *path)
{
	struct buf out;
	char *err = NULL;
	int rc = 1;

	buf_init(&out);
	if (opml_import(path, &out, &err) < 0) {
		fprintf(stderr, "%s\n", err ? err : "cannot import OPML");
		goto done;
	}
	fwrite(out.data, 1, out.len, stdout);
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	free(err);
	buf_free(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"test", no_argument, NULL, 't'},
	    {"once", no_argument, NULL, 'o'},         {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
	    {"import-opml", required_argument, NULL, 'I'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *opml = NULL;
	int test = 0, once = 0, verbose = 0, ch, rc;

	while ((ch = getopt_long(argc, argv, "c:tvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'o':
			once = 1;
			break;
		case 'I':
			opml = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("feedmux %s\n", FEEDMUX_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "feedmux: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init(verbose);
	if (opml != NULL)
		return import_opml(opml);
	if (test)
		return check_config(path);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "feedmux: cannot initialise libcurl\n");
		return 1;
	}
	xmlInitParser();
#ifdef M_MMAP_THRESHOLD
	/* Blocks of 128 KiB and more (the story index's tables, big feed
	 * bodies) get their own mappings and go back to the system when freed.
	 * glibc would otherwise raise this threshold after the first such
	 * free, and a grown table's old copy would stay in the heap as a hole. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	rc = daemon_main(path, once ? DAEMON_ONCE : DAEMON_RUN);
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
