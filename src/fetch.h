/* fetch.h: HTTP(S) transfers with libcurl's multi interface, driven by the
 * daemon's libevent base. Body bytes are handed to the caller as they
 * arrive (decompressed, unless the caller asks to decode them itself);
 * nothing is buffered whole. The fetcher enforces
 * the transfer limits of the configuration: at most `concurrency` at once
 * (the rest wait in order), `per_host` per host, timeouts, redirect and
 * protocol rules, and the body and header size caps. */
#ifndef FEEDMUX_FETCH_H
#define FEEDMUX_FETCH_H

#include <stddef.h>

struct event_base;
struct config;

/* What the server said, known before the first body byte. */
struct fetch_response {
	long status;              /* 0 for file: URLs */
	const char *content_type; /* may be NULL */
	/* The Content-Encoding still on the bytes (raw_encoding requests
	 * only), or NULL. */
	const char *content_encoding;
};

/* How a transfer ended. Valid only during on_done. */
struct fetch_result {
	int ok;                    /* 2xx or 304 (or a file: read) and no transfer error */
	long status;               /* final HTTP status, 0 if none */
	const char *error;         /* why it failed; NULL when ok */
	const char *url;           /* the URL asked for */
	const char *effective_url; /* after redirects */
	const char *moved_to;      /* set when every redirect was permanent (301/308) */
	const char *etag;          /* validators of the final response */
	const char *last_modified;
	const char *retry_after;   /* raw header values, or NULL */
	const char *cache_control;
	const char *expires;
	size_t bytes;              /* body bytes, after decompression unless raw_encoding */
	double seconds;            /* total transfer time */
};

struct fetch_ops {
	/* A chunk of a 2xx body. Return -1 to abort the transfer, or
	 * FETCH_PAUSE to leave the chunk unread: the transfer then reads no
	 * more from its socket, and the same chunk comes again after
	 * fetcher_resume. */
	int (*on_data)(void *arg, const struct fetch_response *resp, const char *data, size_t len);
	/* The transfer is over (also when cancelled by fetcher_free). */
	void (*on_done)(void *arg, const struct fetch_result *res);
};

#define FETCH_PAUSE 1

struct fetch_request {
	const char *url;
	const char *etag;          /* sent as If-None-Match, may be NULL */
	const char *last_modified; /* sent as If-Modified-Since, may be NULL */
	int allow_file;            /* the configured URL is itself a file: URL */
	/* Offer DECODE_ACCEPT's codings and hand the body over as sent: the
	 * caller decodes it (see decode.h) and caps the decoded bytes;
	 * max_body then caps the bytes received. */
	int raw_encoding;
};

struct fetcher;

struct fetcher *fetcher_new(struct event_base *base, const struct config *cfg);
/* Abort every transfer (each gets on_done with an error) and free. */
void fetcher_free(struct fetcher *f);
/* Apply new limits to transfers started from now on. */
void fetcher_set_config(struct fetcher *f, const struct config *cfg);
/* Queue a transfer; ops and arg must stay valid until on_done. Returns 0,
 * or -1 when the request could not even be set up (on_done not called). */
int fetcher_start(struct fetcher *f, const struct fetch_request *req, const struct fetch_ops *ops, void *arg);
/* Transfers running and waiting. */
size_t fetcher_running(const struct fetcher *f);
size_t fetcher_waiting(const struct fetcher *f);
/* Let every paused transfer go on (from the loop, not from on_data). */
void fetcher_resume(struct fetcher *f);
/* Transfers paused by on_data. */
size_t fetcher_paused(const struct fetcher *f);

#endif
