/* test_checkpoint.c: the checkpoint thread copies a writer's commits back
 * into the database without the writer checkpointing; the WAL then starts
 * over; after it stops, the writer checkpoints for itself again; nothing
 * written is lost. The database lives in a mkdtemp directory under
 * TMPDIR, removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "checkpoint.h"

static char dir[4096];
static char path[sizeof dir + 16];

static void
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static off_t
file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? sb.st_size : -1;
}

/* Commit n rows of 4 KiB, each commit about 20 pages. */
static void
write_rows(sqlite3 *db, int n)
{
	for (int i = 0; i < n; i += 20) {
		exec(db, "BEGIN");
		for (int j = i; j < i + 20 && j < n; j++)
			exec(db, "INSERT INTO t(v) VALUES (randomblob(4000))");
		exec(db, "COMMIT");
	}
}

/* Wait (at most 10 s) until the thread has run at least once and then
 * not again for 200 ms: the commits' wake-ups are all served. */
static uint64_t
wait_settled(struct checkpointer *c)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	uint64_t last = 0;
	int quiet = 0;

	for (int i = 0; i < 1000 && quiet < 20; i++) {
		uint64_t r = checkpointer_runs(c);

		quiet = r > 0 && r == last ? quiet + 1 : 0;
		last = r;
		nanosleep(&ts, NULL);
	}
	return last;
}

/* Bytes of a WAL of n frames of 4 KiB pages. */
#define WAL_BYTES(n) (32 + (off_t)(n) * (24 + 4096))

static void
test_thread_checkpoints(void **state)
{
	sqlite3 *db;
	struct checkpointer *c;
	char *err = NULL;
	char wal[sizeof path + 8];
	off_t before;
	sqlite3_stmt *st;

	(void)state;
	{
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof dir, "%s/feedmux-test-checkpoint-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	         "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	before = file_size(path);

	c = checkpointer_start(path, db, 50, &err);
	if (c == NULL)
		fail_msg("checkpointer_start: %s", err);
	/* 200 pages in commits of 20: past the threshold of 50 three times.
	 * The writer itself checkpoints only at 64 times 50 frames. */
	write_rows(db, 200);
	if (wait_settled(c) < 1)
		fail_msg("no checkpoint ran in 10 s after 200 pages were committed");
	if (file_size(path) < before + 150 * 4096)
		fail_msg("the database file grew from %lld to only %lld bytes: the WAL was not copied back",
		         (long long)before, (long long)file_size(path));

	/* Every frame is copied, so the writer's next transaction starts the
	 * WAL over: 60 more pages do not make it longer than 200 made it. */
	write_rows(db, 60);
	wait_settled(c);
	snprintf(wal, sizeof wal, "%s-wal", path);
	if (file_size(wal) >= WAL_BYTES(260))
		fail_msg("the WAL is %lld bytes after 260 pages were written: it never started over",
		         (long long)file_size(wal));

	/* Stopped: the writer checkpoints for itself again, at the commit. */
	checkpointer_stop(c);
	before = file_size(path);
	write_rows(db, 100);
	if (file_size(path) < before + 50 * 4096)
		fail_msg("after the thread stopped, 100 pages committed grew the database file by %lld bytes only",
		         (long long)(file_size(path) - before));

	/* Everything is there, and the file is sound. */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 360);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A database that cannot be opened: NULL and a message naming it. */
static void
test_start_fails(void **state)
{
	sqlite3 *db;
	char *err = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_null(checkpointer_start("/nonexistent-dir/x.db", db, 10, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
	free(err);
	checkpointer_stop(NULL);
	sqlite3_close(db);
}

static int
teardown(void **state)
{
	char p[sizeof path + 8];

	(void)state;
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_thread_checkpoints, teardown),
	    cmocka_unit_test(test_start_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
