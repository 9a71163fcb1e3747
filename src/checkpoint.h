/* checkpoint.h: a thread that checkpoints a WAL database for its writer.
 * The writer's commits then mostly only append to the WAL: copying the
 * WAL back into the database, and the fsyncs around that, happen on this
 * thread, with a connection of its own, while the writer goes on.
 * Ownership: the caller keeps the writer's connection, and stops the
 * checkpointer before closing it. */
#ifndef FEEDMUX_CHECKPOINT_H
#define FEEDMUX_CHECKPOINT_H

#include <sqlite3.h>
#include <stdint.h>

struct checkpointer;

/* Checkpoint path's WAL whenever a commit of writer leaves at least pages
 * frames in it; this replaces SQLite's automatic checkpoint on the
 * writer's thread. Should the WAL reach CHECKPOINT_BEHIND times pages
 * (see checkpoint.c), the writer checkpoints after its commit, as SQLite
 * would have. NULL with *err (the caller frees it) if the connection or
 * the thread cannot be had; the writer is then left as it was. */
struct checkpointer *checkpointer_start(const char *path, sqlite3 *writer, int pages, char **err);
/* Let the checkpoint under way finish, stop the thread and close its
 * connection; the writer gets SQLite's automatic checkpoint back, at
 * pages. NULL is fine. */
void checkpointer_stop(struct checkpointer *c);
/* Checkpoints the thread has run so far. */
uint64_t checkpointer_runs(struct checkpointer *c);

#endif
