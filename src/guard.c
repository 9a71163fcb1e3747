/* guard.c: evhttp asks us for each new connection's bufferevent
 * (evhttp_set_bevcb), so every connection is seen. We keep one extra
 * reference on it and watch its buffers: bytes arriving on an idle
 * connection start the request deadline, a response being queued ends it.
 * A once-a-second sweep cuts connections past their deadline (shutdown()
 * on the socket; evhttp then frees the connection as for any EOF) and
 * releases those evhttp has freed (it clears their event callback). The
 * listeners are ours (evconnlistener, handed to evhttp_bind_listener), so
 * they can be disabled while the connection cap is reached and, with a
 * timer, after accept() fails for want of file descriptors. */
#include "guard.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "xalloc.h"

#define GUARD_MAX_LISTENERS 16

enum conn_state {
	CONN_IDLE = 0, /* waiting for a request (new, or after a response) */
	CONN_READING,  /* request bytes arrived; the request deadline runs */
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct guard *g;
	struct bufferevent *bev;
	struct evbuffer_cb_entry *in_cb;
	struct evbuffer_cb_entry *out_cb;
	enum conn_state state;
	int served;   /* has had a response: idle means keep-alive */
	time_t since; /* monotonic seconds, start of the current state */
	int cut;
};

TAILQ_HEAD(conn_list, conn);

struct guard {
	struct event_base *base;
	struct evhttp *http;
	const struct config *cfg;
	struct evconnlistener *listeners[GUARD_MAX_LISTENERS];
	size_t nlisteners;
	struct conn_list conns;
	size_t nconns;
	struct event *sweep;
	int full;      /* paused: connection cap */
	unsigned long ncut;
};

static struct bufferevent *guard_bev_cb(struct event_base *base, void *arg);
static void guard_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void guard_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void guard_sweep_cb(evutil_socket_t fd, short what, void *arg);
static void guard_resume_cb(evutil_socket_t fd, short what, void *arg);
static void guard_accept_error_cb(struct evconnlistener *lev, void *arg);
static void guard_update_accepting(struct guard *g);
static void conn_release(struct conn *c);
static int guard_add_listener(struct guard *g, struct evhttp *http, struct evconnlistener *lev, char **err);
static time_t mono_now(void);

/* Seconds on the monotonic clock. */
static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Install the per-connection hook and the sweep. */
struct guard *
guard_new(struct event_base *base, struct evhttp *http, const struct config *cfg)
{
	struct guard *g = xcalloc(1, sizeof *g);
	struct timeval second = {1, 0};

	g->base = base;
	g->http = http;
	g->cfg = cfg;
	TAILQ_INIT(&g->conns);
	evhttp_set_bevcb(http, guard_bev_cb, g);
	g->sweep = event_new(base, -1, EV_PERSIST, guard_sweep_cb, g);
	event_add(g->sweep, &second);
	return g;
}

/* Follow a reloaded configuration. */
void
guard_set_config(struct guard *g, const struct config *cfg)
{
	g->cfg = cfg;
	guard_update_accepting(g);
}

/* Connections open now. */
size_t
guard_connections(const struct guard *g)
{
	return g->nconns;
}

/* Connections cut so far. */
unsigned long
guard_cut(const struct guard *g)
{
	return g->ncut;
}

/* evhttp wants a bufferevent for a new connection. */
static struct bufferevent *
guard_bev_cb(struct event_base *base, void *arg)
{
	struct guard *g = arg;
	struct conn *c;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL)
		return NULL; /* evhttp tries on its own and fails the connection */
	/* Whole documents in few writes, not libevent's 16 KiB slices. */
	bufferevent_set_max_single_write(bev, 1 << 20);
	c = xcalloc(1, sizeof *c);
	c->g = g;
	c->bev = bev;
	c->since = mono_now();
	bufferevent_incref(bev);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), guard_in_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), guard_out_cb, c);
	TAILQ_INSERT_TAIL(&g->conns, c, entry);
	g->nconns++;
	guard_update_accepting(g);
	return bev;
}

/* Request bytes arrived: an idle connection starts its request deadline. */
static void
guard_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added > 0 && c->state == CONN_IDLE) {
		c->state = CONN_READING;
		c->since = mono_now();
	}
}

/* A response is queued: the request is over; idle from now. */
static void
guard_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added > 0) {
		c->state = CONN_IDLE;
		c->served = 1;
		c->since = mono_now();
	}
}

/* Drop our reference once evhttp has let go of the connection. */
static void
conn_release(struct conn *c)
{
	struct guard *g = c->g;

	TAILQ_REMOVE(&g->conns, c, entry);
	g->nconns--;
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	bufferevent_decref(c->bev);
	free(c);
}

/* Once a second: release freed connections, cut overdue ones. */
static void
guard_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;
	struct conn *c, *next;
	time_t now = mono_now();

	for (c = TAILQ_FIRST(&g->conns); c != NULL; c = next) {
		bufferevent_event_cb ev = NULL;
		long limit;

		next = TAILQ_NEXT(c, entry);
		/* evhttp keeps its event callback on a connection it serves (the
		 * read callback comes and goes) and clears all when it frees it:
		 * then ours is the last reference. */
		bufferevent_getcb(c->bev, NULL, NULL, &ev, NULL);
		if (ev == NULL) {
			conn_release(c);
			continue;
		}
		if (c->cut)
			continue;
		/* A response still being written is the write timeout's business. */
		if (c->state == CONN_IDLE && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			continue;
		limit = c->state == CONN_READING || !c->served ? g->cfg->http_request_timeout
		                                               : g->cfg->http_keepalive_timeout;
		if (now - c->since >= limit) {
			evutil_socket_t s = bufferevent_getfd(c->bev);

			if (s >= 0)
				shutdown(s, SHUT_RDWR);
			c->cut = 1;
			if (c->state == CONN_READING)
				g->ncut++;
			log_debug("http: closed a connection %s", c->state == CONN_READING
			                                             ? "that did not send its request in time"
			                                             : "idle too long");
		}
	}
	guard_update_accepting(g);
}

/* Disable the listeners while the connection cap is reached. */
static void
guard_update_accepting(struct guard *g)
{
	int full = g->nconns >= (size_t)g->cfg->http_max_connections;

	if (full == g->full)
		return;
	if (full)
		log_warn("http: %zu connections open (http_max_connections): new ones wait", g->nconns);
	g->full = full;
	for (size_t i = 0; i < g->nlisteners; i++) {
		if (full)
			evconnlistener_disable(g->listeners[i]);
		else
			evconnlistener_enable(g->listeners[i]);
	}
}

/* accept() failed. Without descriptors the listening socket stays
 * readable and libevent would retry at once, forever: pause this listener
 * for a second instead. The callback's argument is evhttp's (it owns the
 * listener's callbacks), so everything needed comes from the listener. */
static void
guard_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval second = {1, 0};

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("http: accept: %s", evutil_socket_error_to_string(err));
		return;
	}
	log_warn("http: accept: %s; not accepting for a second", evutil_socket_error_to_string(err));
	evconnlistener_disable(lev);
	event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, guard_resume_cb, lev, &second);
}

/* Accept again after a pause for descriptors (the cap is checked again
 * by the next connection and the sweep). */
static void
guard_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(arg);
}

/* Hand a listener to evhttp, keeping its error callback ours. */
static int
guard_add_listener(struct guard *g, struct evhttp *http, struct evconnlistener *lev, char **err)
{
	if (g->nlisteners == GUARD_MAX_LISTENERS) {
		evconnlistener_free(lev);
		*err = xasprintf("at most %d listen addresses", GUARD_MAX_LISTENERS);
		return -1;
	}
	if (evhttp_bind_listener(http, lev) == NULL) {
		evconnlistener_free(lev);
		*err = xstrdup("cannot serve on the listener");
		return -1;
	}
	evconnlistener_set_error_cb(lev, guard_accept_error_cb);
	{
		/* Accepted sockets inherit it: a response's headers and body go
		 * out in separate writes, and Nagle's algorithm would hold the
		 * body for the client's delayed ACK (40 ms per response). */
		int one = 1;
		setsockopt(evconnlistener_get_fd(lev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	g->listeners[g->nlisteners++] = lev;
	return 0;
}

/* Listen on one address. */
int
guard_listen(struct guard *g, const char *addr, char **err)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof ss;
	char *spec = NULL;
	struct evconnlistener *lev;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;

	spec = strncmp(addr, "*:", 2) == 0 ? xasprintf("0.0.0.0%s", addr + 1) : xstrdup(addr);
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		*err = xasprintf("listen %s: not an address and port", addr);
		free(spec);
		return -1;
	}
	free(spec);
	if (ss.ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	lev = evconnlistener_new_bind(g->base, NULL, NULL, flags, 128, (struct sockaddr *)&ss, sslen);
	if (lev == NULL) {
		*err = xasprintf("listen %s: cannot bind: %s", addr, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	if (guard_add_listener(g, g->http, lev, err) < 0)
		return -1;
	log_info("serving on http://%s/", addr);
	return 0;
}

/* Serve on a socket passed by systemd. */
int
guard_listen_fd(struct guard *g, int fd, char **err)
{
	struct evconnlistener *lev;

	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	lev = evconnlistener_new(g->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (lev == NULL) {
		*err = xasprintf("cannot serve on socket %d passed by systemd", fd);
		return -1;
	}
	return guard_add_listener(g, g->http, lev, err);
}

/* Release what is left (evhttp_free has freed the listeners and let go
 * of every connection). */
void
guard_free(struct guard *g)
{
	struct conn *c;

	if (g == NULL)
		return;
	while ((c = TAILQ_FIRST(&g->conns)) != NULL)
		conn_release(c);
	if (g->sweep != NULL)
		event_free(g->sweep);
	free(g);
}
