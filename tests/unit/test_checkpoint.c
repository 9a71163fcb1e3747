/* test_checkpoint.c: the checkpoint thread copies a write-ahead log that
 * its owner's connection never checkpoints into the database file, and
 * stops cleanly, with and without a checkpoint asked for. */
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

/* The size of a file, 0 when it is missing. */
static long long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* A WAL database with 2,000 rows of 1 KB, never checkpointed by its own
 * connection (which stays open, as the store's does). */
static sqlite3 *
make_db(const char *path)
{
	sqlite3 *db = NULL;
	char *errmsg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_wal_autocheckpoint(db, 0);
	assert_int_equal(sqlite3_exec(db,
	                              "PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB);"
	                              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
	                              "INSERT INTO t SELECT randomblob(1024) FROM n;",
	                              NULL, NULL, &errmsg),
	                 SQLITE_OK);
	return db;
}

/* Kicked, the thread fills the database file from the log within 10 s
 * (a 2 MB copy); stopped, it leaves the owner's connection working. */
static void
test_copies_the_log(void **state)
{
	char dir[] = "/tmp/feedmux-ckpt-XXXXXX", path[64], wal[70];
	char *err = NULL;
	struct checkpointer *c;
	sqlite3 *db;
	long long before;
	int waited = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	snprintf(wal, sizeof wal, "%s-wal", path);
	db = make_db(path);
	before = file_size(path);
	if (before >= 1024 * 1024)
		fail_msg("the database file has %lld bytes before any checkpoint", before);
	assert_true(file_size(wal) > 2000 * 1024);
	c = checkpointer_start(path, &err);
	assert_null(err);
	assert_non_null(c);
	checkpointer_kick(c);
	while (file_size(path) < 2000 * 1024 && waited < 10000) {
		usleep(10 * 1000);
		waited += 10;
	}
	if (file_size(path) < 2000 * 1024)
		fail_msg("after a kick and %d ms the database file has %lld bytes, the log %lld", waited,
		         file_size(path), file_size(wal));
	assert_int_equal(checkpointer_error(c), 0);
	checkpointer_stop(c);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES (x'00')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	unlink(path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
	rmdir(dir);
}

/* Started and stopped at once, and a missing database refused. */
static void
test_start_stop(void **state)
{
	char dir[] = "/tmp/feedmux-ckpt-XXXXXX", path[64];
	char *err = NULL;
	struct checkpointer *c;
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	db = make_db(path);
	c = checkpointer_start(path, &err);
	assert_non_null(c);
	checkpointer_stop(c);
	checkpointer_stop(NULL);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	c = checkpointer_start("/nonexistent/dir/db", &err);
	assert_null(c);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/dir/db"));
	free(err);
	snprintf(path, sizeof path, "%s/db", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copies_the_log),
	    cmocka_unit_test(test_start_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
