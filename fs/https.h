/*
 * https.h - the daemon's HTTPS listener: a few JSON resources served with
 * libmicrohttpd over GnuTLS, each request handed whole to one handler.
 *
 * This layer is HTTP only: which paths exist, the method (POST), bodies
 * up to a limit, and replies of JSON; what a request means is the
 * handler's (icp_http.c routes ICP's runtime API to the model).  It
 * answers by itself, before reading any body:
 *
 *   404  a path not in `paths`
 *   405  another method than POST on one of them (with Allow: POST)
 *   413  a body longer than max_body (its Content-Length says so, or,
 *        for a chunked body, once it passes: the rest is read and
 *        dropped, never held)
 *   503  bodies held by all requests together would pass max_held
 *
 * each with a JSON body {"message": "..."} as WSO2 ICP's errors have.
 *
 * libmicrohttpd speaks HTTP/1.0 and 1.1 only; over TLS it offers ALPN
 * "http/1.1" and "http/1.0", so a client that offers h2 as well (the
 * Ballerina client, whose default is HTTP/2) settles on HTTP/1.1.
 * Keep-alive and pipelining work as in HTTP/1.1.
 *
 * Requests are served by a pool of HTTPS_THREADS threads, each polling
 * the connections it took: a slow client holds a connection, never a
 * thread.
 * A connection idle for timeout seconds is closed, a request whose body
 * is still coming HTTPS_REQUEST_MAX_S seconds after it began is dropped,
 * and connections are limited in all and per client address.
 *
 * Two steps, so that a daemon that forks to go to the background finds
 * its port taken, or its certificate bad, while it can still say so:
 * https_open() binds the port and reads the certificate (no thread);
 * https_serve() starts the threads (after the fork).  https_start() does
 * both, for tests.
 */
#ifndef FS_HTTPS_H
#define FS_HTTPS_H

#include <stddef.h>

#include "buf.h"

#define HTTPS_MAX_BODY_DEFAULT (8u << 20)     /* 8 MiB */
#define HTTPS_MAX_HELD_DEFAULT (64u << 20)    /* all bodies together */
#define HTTPS_CONNECTIONS_DEFAULT 2000
#define HTTPS_PER_ADDRESS_DEFAULT 1000
#define HTTPS_TIMEOUT_DEFAULT 30              /* seconds idle */
#define HTTPS_REQUEST_MAX_S 60                /* to send a whole body */
#define HTTPS_THREADS 4
#define HTTPS_REPLY_MAX (1u << 20)            /* a handler's reply */

struct https_cfg {
	const char *listen;      /* "ADDR:PORT", "[V6ADDR]:PORT"; ADDR may be
				  * a name, empty or "*" for every address;
				  * PORT 0 takes a free one (https_port()) */
	const char *cert_file;   /* PEM; both NULL with plain */
	const char *key_file;
	int plain;               /* HTTP without TLS: for tests, or behind a
				  * proxy that ends TLS; never the default */
	size_t max_body;         /* 0: HTTPS_MAX_BODY_DEFAULT */
	const char *const *paths;   /* the paths served, NULL-terminated */
	/* 0 for the defaults above */
	size_t max_held;
	unsigned connections;
	unsigned per_address;
	unsigned timeout;
};

/* Answers one request: POST to one of `paths`, `body` of `len` bytes
 * (NUL-terminated; "" when empty), `authorization` the Authorization
 * header or NULL.  Called on one of the listener's threads, several at
 * once.  Writes a JSON body to `reply` (capped at HTTPS_REPLY_MAX) and
 * returns the HTTP status; one out of 100..599 is answered as 500. */
typedef int (*https_handler)(void *ctx, const char *method, const char *url,
		const char *authorization, const char *body, size_t len,
		struct buf *reply);

struct https;

/* Binds the address and, unless plain, reads and checks the certificate
 * and key (that they are PEM, and that they go together).  No thread is
 * started: the process may fork after it.  NULL with errmsg()
 * (store/errmsg.h): "127.0.0.1:9445: Address already in use". */
struct https *https_open(const struct https_cfg *cfg);

/* Starts serving with `fn`.  0, or -errno with errmsg(). */
int https_serve(struct https *h, https_handler fn, void *ctx)
	__attribute__((warn_unused_result));

/* https_open() and https_serve() at once; NULL with errmsg(). */
struct https *https_start(const struct https_cfg *cfg, https_handler fn,
		void *ctx);

/* The port it listens on (the one chosen for port 0). */
unsigned https_port(const struct https *h);

/* Stops serving: what a handler is running finishes, every connection
 * is closed, the port is released, and `h` is freed.  NULL is a no-op. */
void https_stop(struct https *h);

#endif
