/* checkpoint.h: WAL checkpoints on a thread of their own. The store's
 * connection commits; copying the committed pages from the write-ahead
 * log into the database file (and the fsyncs that go with it) is done by
 * a second connection on another thread, so the event loop does not wait
 * for it. */
#ifndef FEEDMUX_CHECKPOINT_H
#define FEEDMUX_CHECKPOINT_H

struct checkpointer;

/* Open a second connection to the database at path and start the
 * thread. NULL with *err set (the caller frees it) on failure; then the
 * caller checkpoints itself. */
struct checkpointer *checkpointer_start(const char *path, char **err);
/* Ask for a checkpoint (passive: it copies what it can and never makes
 * the writer wait). Cheap; safe from the writer's commit hook. */
void checkpointer_kick(struct checkpointer *c);
/* The last checkpoint's SQLite result code other than SQLITE_OK and
 * SQLITE_BUSY, once (then 0): for the owner to report. */
int checkpointer_error(struct checkpointer *c);
/* Stop the thread (after a checkpoint asked for is done) and close its
 * connection. NULL is fine. */
void checkpointer_stop(struct checkpointer *c);

#endif
