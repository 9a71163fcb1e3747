/* http.c: one generic evhttp callback routes by exact path to a prepared
 * document; nothing is read from disk, so no path can reach outside the
 * documents. Small bodies are sent by reference (evbuffer_add_reference)
 * and the document is released when libevent is done with it; large ones
 * with sendfile from a memory file holding the document's bytes (see
 * http_doc_segment). */
#include "http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "build.h"
#include "config.h"
#include "guard.h"
#include "httpreq.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "xalloc.h"

/* Bodies from this size on are sent with sendfile (see http_doc_segment). */
#define HTTP_SENDFILE_MIN (64 * 1024)

struct http_server {
	struct evhttp *http;
	const struct config *cfg;
	struct publisher *pub;
	struct metrics *metrics;
	struct guard *guard;
	http_page_fn page_fn;
	void *page_arg;
	char cache_control[48]; /* from cfg->interval, made once per config */
};

static void http_request_cb(struct evhttp_request *req, void *arg);
static struct evbuffer_file_segment *http_doc_segment(struct document *doc, int gz);
static void http_use_config(struct http_server *hs, const struct config *cfg);
static void http_doc_release(const void *data, size_t len, void *arg);
static void http_send_text(struct http_server *hs, struct evhttp_request *req, int code, const char *reason,
                           const char *text);
static void http_reply(struct http_server *hs, struct evhttp_request *req, int code, const char *reason,
                       struct evbuffer *body);

/* Create the server and bind its addresses. */
struct http_server *
http_server_new(struct event_base *base, const struct config *cfg, struct publisher *pub, struct metrics *m,
                int nfds, char **err)
{
	struct http_server *hs = xcalloc(1, sizeof *hs);

	http_use_config(hs, cfg);
	hs->pub = pub;
	hs->metrics = m;
	hs->http = evhttp_new(base);
	if (hs->http == NULL) {
		*err = xstrdup("cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_allowed_methods(hs->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	                                         EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* Idle reads and stuck writes; the whole-request deadline, the
	 * connection cap and accept pausing are the guard's. */
	evhttp_set_timeout(hs->http, (int)cfg->http_keepalive_timeout);
	evhttp_set_max_headers_size(hs->http, (ev_ssize_t)cfg->http_max_header);
	/* GET and HEAD carry no body; a small one still reaches the handler,
	 * which answers 405 to any other method. */
	evhttp_set_max_body_size(hs->http, 4096);
	evhttp_set_gencb(hs->http, http_request_cb, hs);
	hs->guard = guard_new(base, hs->http, cfg);
	if (nfds > 0) {
		for (int i = 0; i < nfds; i++)
			if (guard_listen_fd(hs->guard, 3 + i, err) < 0)
				goto fail;
		log_info("serving on %d socket(s) passed by systemd", nfds);
	} else {
		for (size_t i = 0; i < cfg->listen.n; i++)
			if (guard_listen(hs->guard, cfg->listen.v[i], err) < 0)
				goto fail;
	}
	return hs;
fail:
	http_server_free(hs);
	return NULL;
}

/* Use a new configuration (listen changes need a restart). */
void
http_server_set_config(struct http_server *hs, const struct config *cfg)
{
	http_use_config(hs, cfg);
	guard_set_config(hs->guard, cfg);
	evhttp_set_timeout(hs->http, (int)cfg->http_keepalive_timeout);
	evhttp_set_max_headers_size(hs->http, (ev_ssize_t)cfg->http_max_header);
}

/* Take cfg and what each reply derives from it. */
static void
http_use_config(struct http_server *hs, const struct config *cfg)
{
	hs->cfg = cfg;
	snprintf(hs->cache_control, sizeof hs->cache_control, "public, max-age=%ld",
	         cfg->interval < 300 ? cfg->interval : 300L);
}

/* Register the provider of per-request pages. */
void
http_server_set_pages(struct http_server *hs, http_page_fn fn, void *arg)
{
	hs->page_fn = fn;
	hs->page_arg = arg;
}

/* Stop serving. */
void
http_server_free(struct http_server *hs)
{
	if (hs == NULL)
		return;
	if (hs->http != NULL)
		evhttp_free(hs->http);
	guard_free(hs->guard);
	free(hs);
}

/* Connections open and cut, for /metrics. */
void
http_server_stats(const struct http_server *hs, size_t *open, unsigned long *cut)
{
	*open = hs->guard ? guard_connections(hs->guard) : 0;
	*cut = hs->guard ? guard_cut(hs->guard) : 0;
}

/* libevent is done with a document's bytes. */
static void
http_doc_release(const void *data, size_t len, void *arg)
{
	document_unref(arg);
}

/* Send a response and count it. libevent 2.1 sends the body of a HEAD
 * response too, so HEAD gets the Content-Length of the body and no body. */
static void
http_reply(struct http_server *hs, struct evhttp_request *req, int code, const char *reason, struct evbuffer *body)
{
	if (hs->metrics != NULL)
		metrics_http(hs->metrics, code);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD && body != NULL) {
		char len[32];

		snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
		body = NULL;
	}
	evhttp_send_reply(req, code, reason, body);
}

/* The document's bytes (gz: its gzip) in a memory file, as a segment that
 * replies send with sendfile: the kernel then hands every client the same
 * pages instead of copying the bytes in for each reply (a 110 KB feed at
 * 30,000 replies a second is over 3 GB/s of copying). NULL, and replies
 * send from memory, where memory files are unavailable. */
static struct evbuffer_file_segment *
http_doc_segment(struct document *doc, int gz)
{
#ifdef HAVE_MEMFD_CREATE
	const unsigned char *data = gz ? doc->gz : doc->body;
	size_t len = gz ? doc->gzlen : doc->len, off = 0;
	int fd;

	/* A small body costs less to copy than a second system call. */
	if (doc->serve[gz] != NULL || (doc->serve_failed & (1 << gz)) || len < HTTP_SENDFILE_MIN)
		return doc->serve[gz];
	fd = memfd_create("feedmux-doc", MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail_fd;
		off += (size_t)n;
	}
	doc->serve[gz] = evbuffer_file_segment_new(fd, 0, (ev_off_t)len, EVBUF_FS_CLOSE_ON_FREE);
	if (doc->serve[gz] != NULL)
		return doc->serve[gz];
fail_fd:
	close(fd);
fail:
	log_debug("http: %s: serving from memory (no memory file: %s)", doc->path, strerror(errno));
	doc->serve_failed |= 1 << gz;
	return NULL;
#else
	(void)doc;
	(void)gz;
	return NULL;
#endif
}

/* A short text/plain response. */
static void
http_send_text(struct http_server *hs, struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add(b, text, strlen(text));
	http_reply(hs, req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* Every request. */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http_server *hs = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct document *doc = NULL;
	const char *inm, *ims;
	struct evbuffer *body = NULL;
	struct evbuffer_file_segment *seg;
	int gz;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(out, "Allow", "GET, HEAD");
		http_send_text(hs, req, 405, "Method Not Allowed", "405 method not allowed: only GET and HEAD\n");
		return;
	}
	if (path == NULL || *path == '\0')
		path = "/";
	if (strcmp(path, "/healthz") == 0) {
		http_send_text(hs, req, 200, "OK", "ok\n");
		return;
	}
	if (hs->page_fn != NULL) {
		struct buf page;
		const char *type = NULL;

		buf_init(&page);
		if (hs->page_fn(hs->page_arg, path, &page, &type)) {
			body = evbuffer_new();
			evhttp_add_header(out, "Content-Type", type);
			evhttp_add_header(out, "Cache-Control", "no-cache");
			if (body != NULL)
				evbuffer_add(body, page.data ? page.data : "", page.len);
			http_reply(hs, req, 200, "OK", body);
			if (body != NULL)
				evbuffer_free(body);
			buf_free(&page);
			return;
		}
		buf_free(&page);
	}
	doc = publisher_get(hs->pub, path);
	if (doc == NULL) {
		http_send_text(hs, req, 404, "Not Found", "404 not found\n");
		return;
	}
	evhttp_add_header(out, "ETag", doc->etag);
	evhttp_add_header(out, "Last-Modified", doc->lastmod);
	evhttp_add_header(out, "Cache-Control", hs->cache_control);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	inm = evhttp_find_header(in, "If-None-Match");
	ims = evhttp_find_header(in, "If-Modified-Since");
	if (httpreq_not_modified(inm, ims, doc->etag, doc->mtime)) {
		http_reply(hs, req, 304, "Not Modified", NULL);
		document_unref(doc);
		return;
	}
	evhttp_add_header(out, "Content-Type", doc->content_type);
	gz = httpreq_accepts_gzip(evhttp_find_header(in, "Accept-Encoding"));
	if (gz)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	body = evbuffer_new();
	if (body == NULL) {
		document_unref(doc);
		if (hs->metrics != NULL)
			metrics_http(hs->metrics, 500);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* DRAINS_TO_FD keeps the segment a sendfile one on its way to the
	 * socket; replies hold the segment, not the document. */
	seg = http_doc_segment(doc, gz);
	if (seg != NULL && evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD) == 0 &&
	    evbuffer_add_file_segment(body, seg, 0, (ev_off_t)(gz ? doc->gzlen : doc->len)) == 0)
		document_unref(doc);
	else
		evbuffer_add_reference(body, gz ? doc->gz : doc->body, gz ? doc->gzlen : doc->len, http_doc_release,
		                       doc);
	http_reply(hs, req, 200, "OK", body);
	evbuffer_free(body);
}
