/* fetch.c: the hiperfifo pattern (curl's docs/examples/multi-event.c). One
 * CURLM, one libevent timer for curl's timeouts, one small context per
 * socket curl asks us to watch, one struct transfer per easy handle
 * (CURLOPT_PRIVATE). curl is never called from inside its own callbacks:
 * finished transfers are collected after curl_multi_socket_action returns.
 * Transfers wait in one FIFO per host; hosts that have waiting transfers
 * and fewer than `per_host` running sit in a round-robin ready list, so
 * neither cap is ever exceeded (with HTTP/2 several transfers may share one
 * connection, so curl's connection cap alone would not bound transfers)
 * and one big host cannot starve the others. */
#include "fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "buf.h"
#include "config.h"
#include "decode.h"
#include "log.h"
#include "version.h"
#include "xalloc.h"

struct host;

struct transfer {
	TAILQ_ENTRY(transfer) entry;
	struct fetcher *f;
	struct host *host;
	CURL *easy;
	struct curl_slist *headers;
	char *url;
	char *etag_req;
	char *lm_req;
	int allow_file;
	int raw_encoding;   /* the caller decodes the body */
	int allow_private;  /* private addresses allowed for this transfer */
	const struct fetch_ops *ops;
	void *arg;

	/* Response state; reset at each status line (redirect hops). */
	long hop_status;
	int redirects;
	int all_permanent;
	char *etag;
	char *last_modified;
	char *content_type;
	char *content_encoding;
	char *retry_after;
	char *cache_control;
	char *expires;
	size_t header_bytes;
	size_t body_bytes;
	int body_refused;  /* non-2xx: body discarded */
	int paused;        /* on_data asked for a pause */
	char *abort_reason;
	char errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(transfer_list, transfer);

struct host {
	char *name;
	struct host *next;             /* hash chain */
	size_t running;
	struct transfer_list waiting;
	TAILQ_ENTRY(host) ready_entry;
	int ready;                     /* on the ready list */
};

TAILQ_HEAD(host_list, host);

#define FETCH_HOST_BUCKETS 4096

struct fetcher {
	struct event_base *base;
	const struct config *cfg;
	CURLM *multi;
	struct event *timer;
	struct transfer_list running;
	struct host_list ready;
	struct host *hosts[FETCH_HOST_BUCKETS];
	size_t nrunning;
	size_t nwaiting;
	size_t npaused;
};

struct sockctx {
	struct fetcher *f;
	curl_socket_t fd;
	struct event *ev;
};

static int fetch_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
static int fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp);
static void fetch_event_cb(evutil_socket_t fd, short what, void *arg);
static void fetch_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void fetch_check_done(struct fetcher *f);
static void fetch_finish(struct fetcher *f, struct transfer *t, CURLcode code);
static void fetch_start_waiting(struct fetcher *f);
static struct host *fetch_host(struct fetcher *f, const char *url);
static void host_maybe_ready(struct fetcher *f, struct host *h);
static int transfer_begin(struct fetcher *f, struct transfer *t);
static void transfer_free(struct transfer *t);
static size_t transfer_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata);
static size_t transfer_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata);
static void transfer_reset_response(struct transfer *t);
static curl_socket_t transfer_opensocket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr);
static int addr_is_private(const struct sockaddr *sa);
static int url_names_literal_host(const char *url);
static char *header_value(const char *v, size_t len);

/* Set up curl multi on the event base. */
struct fetcher *
fetcher_new(struct event_base *base, const struct config *cfg)
{
	struct fetcher *f = xcalloc(1, sizeof *f);

	f->base = base;
	f->cfg = cfg;
	TAILQ_INIT(&f->running);
	TAILQ_INIT(&f->ready);
	f->multi = curl_multi_init();
	if (f->multi == NULL) {
		free(f);
		return NULL;
	}
	f->timer = evtimer_new(base, fetch_timeout_cb, f);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, fetch_socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	fetcher_set_config(f, cfg);
	return f;
}

/* Apply limits that live on the multi handle. */
void
fetcher_set_config(struct fetcher *f, const struct config *cfg)
{
	f->cfg = cfg;
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, cfg->per_host);
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, cfg->concurrency);
}

/* Cancel everything and free, in the order curl wants. */
void
fetcher_free(struct fetcher *f)
{
	struct transfer *t;

	if (f == NULL)
		return;
	for (size_t b = 0; b < FETCH_HOST_BUCKETS; b++) {
		for (struct host *h = f->hosts[b]; h != NULL; h = h->next) {
			while ((t = TAILQ_FIRST(&h->waiting)) != NULL) {
				TAILQ_REMOVE(&h->waiting, t, entry);
				f->nwaiting--;
				TAILQ_INSERT_TAIL(&f->running, t, entry);
				f->nrunning++;
				h->running++;
				t->abort_reason = xstrdup("cancelled at shutdown");
				fetch_finish(f, t, CURLE_ABORTED_BY_CALLBACK);
			}
		}
	}
	while ((t = TAILQ_FIRST(&f->running)) != NULL) {
		if (t->abort_reason == NULL)
			t->abort_reason = xstrdup("cancelled at shutdown");
		fetch_finish(f, t, CURLE_ABORTED_BY_CALLBACK);
	}
	curl_multi_cleanup(f->multi);
	if (f->timer != NULL)
		event_free(f->timer);
	for (size_t b = 0; b < FETCH_HOST_BUCKETS; b++) {
		struct host *h = f->hosts[b], *next;
		for (; h != NULL; h = next) {
			next = h->next;
			free(h->name);
			free(h);
		}
	}
	free(f);
}

/* Transfers in progress. */
size_t
fetcher_running(const struct fetcher *f)
{
	return f->nrunning;
}

/* Transfers waiting for a slot. */
size_t
fetcher_waiting(const struct fetcher *f)
{
	return f->nwaiting;
}

/* Let every paused transfer go on. curl may hand the kept chunk over
 * inside curl_easy_pause, and on_data may pause the transfer again. */
void
fetcher_resume(struct fetcher *f)
{
	struct transfer *t;

	if (f->npaused == 0)
		return;
	TAILQ_FOREACH(t, &f->running, entry) {
		if (!t->paused)
			continue;
		t->paused = 0;
		f->npaused--;
		curl_easy_pause(t->easy, CURLPAUSE_CONT);
	}
}

/* Transfers paused by on_data. */
size_t
fetcher_paused(const struct fetcher *f)
{
	return f->npaused;
}

/* Queue a transfer. */
int
fetcher_start(struct fetcher *f, const struct fetch_request *req, const struct fetch_ops *ops, void *arg)
{
	struct transfer *t = xcalloc(1, sizeof *t);

	t->f = f;
	t->url = xstrdup(req->url);
	t->etag_req = req->etag ? xstrdup(req->etag) : NULL;
	t->lm_req = req->last_modified ? xstrdup(req->last_modified) : NULL;
	t->allow_file = req->allow_file;
	t->raw_encoding = req->raw_encoding;
	t->allow_private = f->cfg->allow_private_networks || url_names_literal_host(req->url);
	t->ops = ops;
	t->arg = arg;
	t->host = fetch_host(f, req->url);
	TAILQ_INSERT_TAIL(&t->host->waiting, t, entry);
	f->nwaiting++;
	host_maybe_ready(f, t->host);
	fetch_start_waiting(f);
	return 0;
}

/* The host record for url's host, created on first use. */
static struct host *
fetch_host(struct fetcher *f, const char *url)
{
	CURLU *u = curl_url();
	char *got = NULL, empty[1] = "";
	char *name;
	struct host *h;
	uint64_t hash = 1469598103934665603ULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
		curl_url_get(u, CURLUPART_HOST, &got, 0);
	curl_url_cleanup(u);
	name = got ? got : empty;
	for (char *p = name; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		hash = (hash ^ (unsigned char)*p) * 1099511628211ULL;
	}
	for (h = f->hosts[hash % FETCH_HOST_BUCKETS]; h != NULL; h = h->next)
		if (strcmp(h->name, name) == 0)
			break;
	if (h == NULL) {
		h = xcalloc(1, sizeof *h);
		h->name = xstrdup(name);
		TAILQ_INIT(&h->waiting);
		h->next = f->hosts[hash % FETCH_HOST_BUCKETS];
		f->hosts[hash % FETCH_HOST_BUCKETS] = h;
	}
	curl_free(got);
	return h;
}

/* Put h on the ready list if it has work and a free slot. */
static void
host_maybe_ready(struct fetcher *f, struct host *h)
{
	if (!h->ready && !TAILQ_EMPTY(&h->waiting) && h->running < (size_t)f->cfg->per_host) {
		TAILQ_INSERT_TAIL(&f->ready, h, ready_entry);
		h->ready = 1;
	}
}

/* Start waiting transfers while there are free slots. */
static void
fetch_start_waiting(struct fetcher *f)
{
	struct transfer *t;

	struct host *h;

	while (f->nrunning < (size_t)f->cfg->concurrency && (h = TAILQ_FIRST(&f->ready)) != NULL) {
		TAILQ_REMOVE(&f->ready, h, ready_entry);
		h->ready = 0;
		t = TAILQ_FIRST(&h->waiting);
		TAILQ_REMOVE(&h->waiting, t, entry);
		f->nwaiting--;
		h->running++;
		/* Round robin: the host goes to the back of the line. */
		host_maybe_ready(f, h);
		transfer_begin(f, t); /* on failure it reported and freed t */
	}
}

/* Create the easy handle for t and add it to the multi handle. */
static int
transfer_begin(struct fetcher *f, struct transfer *t)
{
	const struct config *cfg = f->cfg;
	const char *protocols = t->allow_file ? "file" : "http,https";

	t->easy = curl_easy_init();
	if (t->easy == NULL) {
		t->abort_reason = xstrdup("cannot create a transfer");
		TAILQ_INSERT_TAIL(&f->running, t, entry);
		f->nrunning++;
		fetch_finish(f, t, CURLE_OUT_OF_MEMORY);
		return -1;
	}
	t->all_permanent = 1;
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, transfer_write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, transfer_header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	if (t->raw_encoding) {
		curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, DECODE_ACCEPT);
		curl_easy_setopt(t->easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	} else {
		curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	}
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, cfg->max_redirects);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, cfg->timeout);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, cfg->low_speed_limit);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : FEEDMUX_USER_AGENT);
	curl_easy_setopt(t->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, transfer_opensocket_cb);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);
	if (t->etag_req != NULL) {
		char *h = xasprintf("If-None-Match: %s", t->etag_req);
		t->headers = curl_slist_append(t->headers, h);
		free(h);
	}
	if (t->lm_req != NULL) {
		char *h = xasprintf("If-Modified-Since: %s", t->lm_req);
		t->headers = curl_slist_append(t->headers, h);
		free(h);
	}
	t->headers = curl_slist_append(t->headers,
	                               "Accept: application/atom+xml, application/rss+xml, application/rdf+xml, "
	                               "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5");
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);

	TAILQ_INSERT_TAIL(&f->running, t, entry);
	f->nrunning++;
	if (curl_multi_add_handle(f->multi, t->easy) != CURLM_OK) {
		t->abort_reason = xstrdup("cannot start the transfer");
		fetch_finish(f, t, CURLE_FAILED_INIT);
		return -1;
	}
	return 0;
}

/* Whether the URL's host is an IP literal or localhost: then the operator
 * named that address and it is allowed even when private networks are not. */
static int
url_names_literal_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	unsigned char tmp[sizeof(struct in6_addr)];
	int rc = 0;

	if (u == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t len = strlen(host);
		if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
			host[len - 1] = '\0';
			rc = inet_pton(AF_INET6, host + 1, tmp) == 1;
		} else {
			rc = inet_pton(AF_INET, host, tmp) == 1 || strcasecmp(host, "localhost") == 0;
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* Loopback, private (RFC 1918, ULA), link-local, unspecified or CGNAT. */
static int
addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 || (a >> 20) == 0xac1 ||
		       (a >> 16) == 0xc0a8 || (a >> 16) == 0xa9fe || (a >> 22) == (100u << 2 | 1);
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			struct sockaddr_in v4;
			memset(&v4, 0, sizeof v4);
			v4.sin_family = AF_INET;
			memcpy(&v4.sin_addr, &a->s6_addr[12], 4);
			return addr_is_private((const struct sockaddr *)&v4);
		}
		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       (a->s6_addr[0] & 0xfe) == 0xfc;
	}
	return 0;
}

/* curl is about to connect: refuse private addresses unless allowed. */
static curl_socket_t
transfer_opensocket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct transfer *t = clientp;

	if (!t->allow_private && addr_is_private(&addr->addr)) {
		char ip[INET6_ADDRSTRLEN] = "?";
		const void *src = addr->family == AF_INET6
		                      ? (const void *)&((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr
		                      : (const void *)&((struct sockaddr_in *)(void *)&addr->addr)->sin_addr;
		inet_ntop(addr->family, src, ip, sizeof ip);
		free(t->abort_reason);
		t->abort_reason = xasprintf("refused to connect to private address %s (allow_private_networks = no)", ip);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Forget the headers of a previous hop. */
static void
transfer_reset_response(struct transfer *t)
{
	free(t->etag);
	free(t->last_modified);
	free(t->content_type);
	free(t->content_encoding);
	free(t->retry_after);
	free(t->cache_control);
	free(t->expires);
	t->etag = t->last_modified = t->content_type = t->content_encoding = NULL;
	t->retry_after = t->cache_control = t->expires = NULL;
}

/* Copy a header value without surrounding blanks. */
static char *
header_value(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return xstrndup(v, len);
}

/* Collect the headers we act on; enforce max_header. */
static size_t
transfer_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nmemb;
	static const struct {
		const char *name;
		size_t off;
	} wanted[] = {
	    {"etag", offsetof(struct transfer, etag)},
	    {"last-modified", offsetof(struct transfer, last_modified)},
	    {"content-type", offsetof(struct transfer, content_type)},
	    {"content-encoding", offsetof(struct transfer, content_encoding)},
	    {"retry-after", offsetof(struct transfer, retry_after)},
	    {"cache-control", offsetof(struct transfer, cache_control)},
	    {"expires", offsetof(struct transfer, expires)},
	};

	t->header_bytes += len;
	if (t->header_bytes > (size_t)t->f->cfg->max_header) {
		t->abort_reason = xasprintf("response headers larger than max_header (%ld bytes)",
		                            t->f->cfg->max_header);
		return 0;
	}
	if (len > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		const char *sp = memchr(ptr, ' ', len);
		long status = sp ? strtol(sp + 1, NULL, 10) : 0;

		if (t->hop_status >= 300 && t->hop_status < 400) {
			t->redirects++;
			if (t->hop_status != 301 && t->hop_status != 308)
				t->all_permanent = 0;
		}
		t->hop_status = status;
		transfer_reset_response(t);
		return len;
	}
	for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
		size_t nlen = strlen(wanted[i].name);
		if (len > nlen && ptr[nlen] == ':' && strncasecmp(ptr, wanted[i].name, nlen) == 0) {
			char **slot = (char **)(void *)((char *)t + wanted[i].off);
			free(*slot);
			*slot = header_value(ptr + nlen + 1, len - nlen - 1);
			break;
		}
	}
	return len;
}

/* Hand body bytes to the caller; enforce max_body on the bytes handed
 * over (decompressed, unless the caller decodes). */
static size_t
transfer_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * nmemb;
	struct fetch_response resp;
	long status = 0;

	t->body_bytes += len;
	if (t->body_bytes > (size_t)t->f->cfg->max_body) {
		t->abort_reason = xasprintf("body larger than max_body (%ld bytes)", t->f->cfg->max_body);
		return 0;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 0 && (status < 200 || status > 299)) {
		t->body_refused = 1;
		return len;
	}
	resp.status = status;
	resp.content_type = t->content_type;
	resp.content_encoding = t->raw_encoding ? t->content_encoding : NULL;
	switch (t->ops->on_data(t->arg, &resp, ptr, len)) {
	case 0:
		return len;
	case FETCH_PAUSE:
		/* curl keeps the chunk and hands it over again on resume */
		t->body_bytes -= len;
		if (!t->paused) {
			t->paused = 1;
			t->f->npaused++;
		}
		return CURL_WRITEFUNC_PAUSE;
	default:
		if (t->abort_reason == NULL)
			t->abort_reason = xstrdup("aborted by the parser");
		return 0;
	}
}

/* curl wants a socket watched (or no longer). */
static int
fetch_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetcher *f = userp;
	struct sockctx *sc = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (sc != NULL) {
			event_free(sc->ev);
			free(sc);
			curl_multi_assign(f->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (sc == NULL) {
		sc = xcalloc(1, sizeof *sc);
		sc->f = f;
		sc->fd = s;
		sc->ev = event_new(f->base, s, kind, fetch_event_cb, sc);
		curl_multi_assign(f->multi, s, sc);
	} else {
		event_del(sc->ev);
		event_assign(sc->ev, f->base, s, kind, fetch_event_cb, sc);
	}
	event_add(sc->ev, NULL);
	return 0;
}

/* curl wants to be called back after timeout_ms (-1: never). */
static int
fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetcher *f = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(f->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	return 0;
}

/* A watched socket is ready. */
static void
fetch_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sockctx *sc = arg;
	struct fetcher *f = sc->f;
	int running = 0;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(f->multi, fd, flags, &running);
	fetch_check_done(f);
}

/* curl's timer fired. */
static void
fetch_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetcher *f = arg;
	int running = 0;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_done(f);
}

/* Collect finished transfers. */
static void
fetch_check_done(struct fetcher *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct transfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		fetch_finish(f, t, msg->data.result);
	}
	fetch_start_waiting(f);
}

/* Report a finished (or cancelled) transfer and free it. */
static void
fetch_finish(struct fetcher *f, struct transfer *t, CURLcode code)
{
	struct fetch_result res;
	char *error = NULL;
	char *eff = NULL;
	long status = 0;
	double secs = 0;

	memset(&res, 0, sizeof res);
	if (t->easy != NULL) {
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
		curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
	}
	res.status = status;
	res.url = t->url;
	res.effective_url = eff ? eff : t->url;
	res.etag = t->etag;
	res.last_modified = t->last_modified;
	res.retry_after = t->retry_after;
	res.cache_control = t->cache_control;
	res.expires = t->expires;
	res.bytes = t->body_bytes;
	res.seconds = secs;
	if (t->hop_status >= 300 && t->hop_status < 400 && code == CURLE_OK)
		t->all_permanent = 0;
	if (t->redirects > 0 && t->all_permanent && eff != NULL && strcmp(eff, t->url) != 0)
		res.moved_to = eff;

	if (t->abort_reason != NULL)
		error = xstrdup(t->abort_reason);
	else if (code == CURLE_TOO_MANY_REDIRECTS)
		error = xasprintf("more than %ld redirects", f->cfg->max_redirects);
	else if (code == CURLE_UNSUPPORTED_PROTOCOL)
		error = xasprintf("refused: only http and https URLs are fetched (%s)",
		                  t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
	else if (code != CURLE_OK)
		error = xstrdup(t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
	else if (status != 0 && status != 304 && (status < 200 || status > 299))
		error = xasprintf("HTTP %ld from %s", status, res.effective_url);
	res.error = error;
	res.ok = error == NULL;

	TAILQ_REMOVE(&f->running, t, entry);
	f->nrunning--;
	if (t->paused)
		f->npaused--;
	t->host->running--;
	host_maybe_ready(f, t->host);
	if (t->easy != NULL)
		curl_multi_remove_handle(f->multi, t->easy);
	t->ops->on_done(t->arg, &res);
	free(error);
	transfer_free(t);
}

/* Release a transfer and its easy handle. */
static void
transfer_free(struct transfer *t)
{
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	transfer_reset_response(t);
	free(t->abort_reason);
	free(t->url);
	free(t->etag_req);
	free(t->lm_req);
	free(t);
}
