/* fuzz_config.c: config_load() on any file. config.h reads only from a
 * path, so each input is written to one temporary file (in $TMPDIR, else
 * /dev/shm, else /tmp) made at the first run and removed at exit. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "strlist.h"

static void fuzz_config_cleanup(void);
static const char *fuzz_config_path(void);

/* The temporary file's name; set once, by the first run. */
static char fuzz_config_file[4096];

/* Remove the temporary file at exit. */
static void
fuzz_config_cleanup(void)
{
	if (fuzz_config_file[0] != '\0')
		unlink(fuzz_config_file);
}

/* The temporary file, made on first use; NULL when none can be made. */
static const char *
fuzz_config_path(void)
{
	const char *dirs[] = {getenv("TMPDIR"), "/dev/shm", "/tmp"};
	int fd;

	if (fuzz_config_file[0] != '\0')
		return fuzz_config_file;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (dirs[i] == NULL || *dirs[i] == '\0')
			continue;
		snprintf(fuzz_config_file, sizeof fuzz_config_file, "%s/feedmux-fuzz-XXXXXX.conf", dirs[i]);
		fd = mkstemps(fuzz_config_file, 5);
		if (fd >= 0) {
			close(fd);
			atexit(fuzz_config_cleanup);
			return fuzz_config_file;
		}
	}
	fuzz_config_file[0] = '\0';
	return NULL;
}

/* One configuration file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_config_path();
	struct strlist errors;
	struct config *cfg;
	FILE *f;

	if (path == NULL || size > 65536)
		return 0;
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	if (size > 0)
		fwrite(data, 1, size, f);
	fclose(f);
	strlist_init(&errors);
	cfg = config_load(path, &errors);
	if (cfg != NULL) {
		for (size_t i = 0; i < cfg->nfeeds; i++)
			(void)config_find_feed(cfg, cfg->feeds[i].name);
		config_free(cfg);
	}
	strlist_free(&errors);
	return 0;
}
