/*
 * test_https.c - the HTTPS listener (fs/https.c) with a toy handler, and
 * its self-signed certificate (fs/tlscert.c): what reaches the handler
 * and what the HTTP layer answers by itself (404, 405, 413, 503, 500),
 * keep-alive, a slow or idle client, garbage and truncated TLS, a stop
 * while clients hold connections, ALPN settling on HTTP/1.1 for a client
 * that offers h2 first, and a certificate made once and kept.
 *
 * Plain requests go over raw sockets, TLS ones through GnuTLS's client:
 * the bytes on the wire are the test's, no HTTP client library between.
 */
#define _GNU_SOURCE             /* memmem(), strcasestr() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../fs/https.h"
#include "../../fs/tlscert.h"
#include "../../store/errmsg.h"
#include "../../store/store.h"

static const char *const paths[] = { "/icp/heartbeat", "/two", NULL };

/* What the toy handler saw last, and how often it was called. */
static atomic_int calls;
static char seen_url[64], seen_auth[128];
static size_t seen_len;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

/* Echoes what it got; a body "status N" answers N, "sleep" takes 300 ms. */
static int toy(void *ctx, const char *method, const char *url,
		const char *authorization, const char *body, size_t len,
		struct buf *reply)
{
	int status = 200;

	(void)ctx;
	atomic_fetch_add(&calls, 1);
	pthread_mutex_lock(&seen_lock);
	snprintf(seen_url, sizeof(seen_url), "%s", url);
	snprintf(seen_auth, sizeof(seen_auth), "%s",
			authorization ? authorization : "(none)");
	seen_len = len;
	pthread_mutex_unlock(&seen_lock);
	if (strlen(body) != len)
		return 599;                       /* not NUL-terminated */
	if (!strncmp(body, "status ", 7))
		status = atoi(body + 7);
	if (!strcmp(body, "sleep"))
		usleep(300000);
	if (buf_addf(reply, "{\"method\":\"%s\",\"len\":%zu}", method, len))
		return 500;
	return status;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -- a connection, plain or TLS ------------------------------------------ */

struct conn {
	int fd;
	gnutls_session_t s;                   /* NULL: plain */
	gnutls_certificate_credentials_t cred;
	char buf[16384];                      /* read, not yet taken */
	size_t have;
};

static int dial(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void plain(struct conn *c, unsigned port)
{
	c->fd = dial(port);
	c->s = NULL;
	c->have = 0;
}

/* A TLS connection to localhost that trusts `cafile` and offers `alpn`
 * (comma-separated); the handshake's result. */
static int tls(struct conn *c, unsigned port, const char *cafile,
		const char *alpn)
{
	gnutls_datum_t protos[4];
	char copy[64], *save, *p;
	unsigned n = 0;
	int ret;

	c->fd = dial(port);
	c->have = 0;
	assert_int_equal(gnutls_certificate_allocate_credentials(&c->cred), 0);
	assert_true(gnutls_certificate_set_x509_trust_file(c->cred, cafile,
			GNUTLS_X509_FMT_PEM) > 0);
	assert_int_equal(gnutls_init(&c->s, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_server_name_set(c->s, GNUTLS_NAME_DNS,
			"localhost", 9), 0);
	assert_int_equal(gnutls_set_default_priority(c->s), 0);
	assert_int_equal(gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE,
			c->cred), 0);
	gnutls_session_set_verify_cert(c->s, "localhost", 0);
	snprintf(copy, sizeof(copy), "%s", alpn);
	for (p = strtok_r(copy, ",", &save); p && n < 4;
			p = strtok_r(NULL, ",", &save)) {
		protos[n].data = (unsigned char *)p;
		protos[n++].size = (unsigned)strlen(p);
	}
	if (n)
		assert_int_equal(gnutls_alpn_set_protocols(c->s, protos, n, 0),
				0);
	gnutls_transport_set_int(c->s, c->fd);
	gnutls_handshake_set_timeout(c->s, 5000);
	do
		ret = gnutls_handshake(c->s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

static void hang_up(struct conn *c)
{
	if (c->s) {
		gnutls_deinit(c->s);
		gnutls_certificate_free_credentials(c->cred);
		c->s = NULL;
	}
	close(c->fd);
}

static void put(struct conn *c, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = c->s ? gnutls_record_send(c->s, p, len) :
			send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED))
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* What a hostile client sends: the listener may hang up on it halfway. */
static void put_any(struct conn *c, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void puts_(struct conn *c, const char *s)
{
	put(c, s, strlen(s));
}

/* Some bytes; 0 at the end, -1 on an error or after the 5 s timeout. */
static ssize_t get(struct conn *c, char *out, size_t size)
{
	ssize_t n;

	do
		n = c->s ? gnutls_record_recv(c->s, out, size) :
			recv(c->fd, out, size, 0);
	while (c->s && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED));
	if (c->s && n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	return n < 0 ? -1 : n;
}

struct response {
	int status;
	char head[2048];
	char body[4096];
};

/* Reads one response (by its Content-Length); its status, or -1 when the
 * connection ended first. */
static int response(struct conn *c, struct response *r)
{
	char *buf = c->buf, *end = NULL, *cl;
	size_t have = c->have, need;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
		if (have + 1 >= sizeof(c->buf))
			return -1;
		n = get(c, buf + have, sizeof(c->buf) - have - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	*end = '\0';
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(sizeof(r->head) - 1),
			buf);
	sscanf(buf, "HTTP/1.%*d %d", &r->status);
	cl = strcasestr(r->head, "\r\nContent-Length: ");
	need = cl ? strtoul(cl + 18, NULL, 10) : 0;
	end += 4;
	have -= (size_t)(end - buf);
	memmove(buf, end, have);
	while (have < need) {
		if (need >= sizeof(c->buf))
			return -1;
		n = get(c, buf + have, sizeof(c->buf) - have - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	snprintf(r->body, sizeof(r->body), "%.*s", (int)need, buf);
	/* what came after it: the next response, kept for the next call */
	memmove(buf, buf + need, have - need);
	c->have = have - need;
	return r->status;
}

/* Whether the server closes the connection within `ms`. */
static int closed_within(struct conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	char b[256];
	ssize_t n;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		n = get(c, b, sizeof(b));
	while (n > 0);
	return n == 0;
}

static char *post(const char *path, const char *body, const char *extra)
{
	static char req[8192];

	snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: localhost\r\n"
			"Content-Type: application/json\r\n%s"
			"Content-Length: %zu\r\n\r\n%s", path, extra, strlen(body),
			body);
	return req;
}

/* One request on a connection of its own: the status of its reply, in
 * `r`. */
static int ask(unsigned port, const char *request, struct response *r)
{
	struct conn c;
	int status;

	plain(&c, port);
	puts_(&c, request);
	status = response(&c, r);
	hang_up(&c);
	return status;
}

/* -- a listener per test ------------------------------------------------- */

struct fixture {
	char dir[PATH_MAX];
	char cert[PATH_MAX], key[PATH_MAX];
	struct https *h;
	unsigned port;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char db[PATH_MAX + 16];

	snprintf(f->dir, sizeof(f->dir), "%s/rtfs-https.XXXXXX",
			getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(db, sizeof(db), "%s/state.db", f->dir);
	assert_int_equal(store_default_tls_paths(db, f->cert, f->key,
			sizeof(f->cert)), 0);
	atomic_store(&calls, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	https_stop(f->h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void serve_plain(struct fixture *f, struct https_cfg *cfg)
{
	cfg->listen = "127.0.0.1:0";
	cfg->plain = 1;
	cfg->paths = paths;
	f->h = https_start(cfg, toy, NULL);
	if (!f->h)
		fail_msg("https_start: %s", errmsg());
	f->port = https_port(f->h);
	assert_true(f->port > 0);
}

static void serve_tls(struct fixture *f)
{
	struct https_cfg cfg = { .listen = "127.0.0.1:0", .paths = paths,
		.cert_file = f->cert, .key_file = f->key };
	int made;

	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	f->h = https_start(&cfg, toy, NULL);
	if (!f->h)
		fail_msg("https_start: %s", errmsg());
	f->port = https_port(f->h);
}

/* -- what reaches the handler -------------------------------------------- */

static void test_post_reaches_handler(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;
	struct conn c;

	serve_plain(f, &cfg);
	plain(&c, f->port);
	puts_(&c, post("/icp/heartbeat", "{\"a\": 1}",
			"Authorization: Bearer x.y.z\r\n"));
	assert_int_equal(response(&c, &r), 200);
	assert_non_null(strstr(r.head, "\r\nContent-Type: application/json"));
	assert_string_equal(r.body, "{\"method\":\"POST\",\"len\":8}");
	assert_string_equal(seen_url, "/icp/heartbeat");
	assert_string_equal(seen_auth, "Bearer x.y.z");
	/* no Authorization: NULL; an empty body: "" */
	puts_(&c, post("/two", "", ""));
	assert_int_equal(response(&c, &r), 200);
	assert_string_equal(seen_auth, "(none)");
	assert_int_equal(seen_len, 0);
	/* the handler's status, and 500 for one that is none */
	puts_(&c, post("/two", "status 409", ""));
	assert_int_equal(response(&c, &r), 409);
	puts_(&c, post("/two", "status 42", ""));
	assert_int_equal(response(&c, &r), 500);
	assert_string_equal(r.body, "{\"message\":\"the request could not be"
			" answered\"}");
	hang_up(&c);
}

/* Several requests on one connection, pipelined too. */
static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;
	struct conn c;
	char two[8192];

	serve_plain(f, &cfg);
	plain(&c, f->port);
	for (int i = 0; i < 5; i++) {
		puts_(&c, post("/icp/heartbeat", "{}", ""));
		assert_int_equal(response(&c, &r), 200);
		assert_null(strstr(r.head, "Connection: close"));
	}
	snprintf(two, sizeof(two), "%s", post("/two", "{}", ""));
	strcat(two, post("/icp/heartbeat", "{\"b\":2}", ""));
	puts_(&c, two);
	assert_int_equal(response(&c, &r), 200);
	assert_int_equal(response(&c, &r), 200);
	assert_string_equal(r.body, "{\"method\":\"POST\",\"len\":7}");
	assert_int_equal(atomic_load(&calls), 7);
	hang_up(&c);
}

/* -- what the HTTP layer answers by itself ------------------------------- */

static void test_404_405(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;

	serve_plain(f, &cfg);
	assert_int_equal(ask(f->port, post("/icp/nothing", "{}", ""), &r),
			404);
	assert_string_equal(r.body, "{\"message\":\"no resource"
			" /icp/nothing\"}");
	assert_non_null(strstr(r.head, "\r\nContent-Type: application/json"));
	assert_int_equal(ask(f->port, "GET /icp/heartbeat HTTP/1.1\r\n"
			"Host: x\r\n\r\n", &r), 405);
	assert_non_null(strstr(r.head, "\r\nAllow: POST"));
	assert_string_equal(r.body, "{\"message\":\"/icp/heartbeat takes"
			" POST, not GET\"}");
	assert_int_equal(ask(f->port, "PUT /two HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 2\r\n\r\n{}", &r), 405);
	assert_int_equal(atomic_load(&calls), 0);
}

/* A Content-Length past the limit is answered before any body is sent
 * (curl waits for 100 Continue; this waits for nothing). */
static void test_413_by_length(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .max_body = 1024 };
	struct response r;
	struct conn c;
	char body[1025];

	serve_plain(f, &cfg);
	plain(&c, f->port);
	puts_(&c, "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n"
			"\r\n");
	assert_int_equal(response(&c, &r), 413);
	assert_string_equal(r.body, "{\"message\":\"a body is at most 1024"
			" bytes, not 1025\"}");
	assert_true(closed_within(&c, 2000));
	hang_up(&c);
	/* one of 1024 is taken */
	memset(body, 'x', 1024);
	body[1024] = '\0';
	assert_int_equal(ask(f->port, post("/two", body, ""), &r), 200);
	assert_int_equal(atomic_load(&calls), 1);
}

/* A chunked body that passes the limit: read and dropped, then 413. */
static void test_413_chunked(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .max_body = 1024 };
	struct response r;
	struct conn c;
	char chunk[600];

	serve_plain(f, &cfg);
	plain(&c, f->port);
	puts_(&c, "POST /two HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked\r\n\r\n");
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 4; i++) {
		puts_(&c, "258\r\n");             /* 600 */
		put(&c, chunk, sizeof(chunk));
		puts_(&c, "\r\n");
	}
	puts_(&c, "0\r\n\r\n");
	assert_int_equal(response(&c, &r), 413);
	hang_up(&c);
	assert_int_equal(atomic_load(&calls), 0);
	/* under the limit, chunked is as good as a length */
	assert_int_equal(ask(f->port, "POST /two HTTP/1.1\r\nHost: x\r\n"
			"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
			"0\r\n\r\n", &r), 200);
	assert_string_equal(r.body, "{\"method\":\"POST\",\"len\":5}");
}

/* Bodies held by all requests together have a cap: past it 503 (a
 * condition that passes, not a refusal of the request). */
static void test_503_when_bodies_held(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .max_body = 1024, .max_held = 1500 };
	struct response r;
	struct conn a;
	char body[1001];

	serve_plain(f, &cfg);
	memset(body, 'x', 1000);
	body[1000] = '\0';
	/* a holds room for its 1000 bytes while it sends them */
	plain(&a, f->port);
	puts_(&a, "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
			"\r\nxxx");
	usleep(200000);
	assert_int_equal(ask(f->port, post("/two", body, ""), &r), 503);
	assert_non_null(strstr(r.body, "try again"));
	put(&a, body, 997);
	assert_int_equal(response(&a, &r), 200);
	hang_up(&a);
	/* what a held is given back when it is done */
	usleep(100000);
	assert_int_equal(ask(f->port, post("/two", body, ""), &r), 200);
}

/* -- slow, idle and hostile clients -------------------------------------- */

/* A client that stops halfway holds a connection, not the listener. */
static void test_slow_client_blocks_nobody(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;
	struct conn slow[8], c;
	int64_t t0;

	serve_plain(f, &cfg);
	for (int i = 0; i < 8; i++) {
		plain(&slow[i], f->port);
		puts_(&slow[i], i % 2 ? "POST /two HTTP/1.1\r\nHost: x\r\n"
				"Content-Length: 100\r\n\r\n{\"a\":" :
				"POST /two HTTP/1.1\r\nHost");
	}
	/* and one whose handler takes its time */
	plain(&c, f->port);
	puts_(&c, post("/two", "sleep", ""));
	t0 = now_ms();
	for (int i = 0; i < 3; i++)
		assert_int_equal(ask(f->port, post("/icp/heartbeat", "{}", ""),
				&r), 200);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(response(&c, &r), 200);
	hang_up(&c);
	for (int i = 0; i < 8; i++)
		hang_up(&slow[i]);
}

/* A connection idle for the timeout is closed (so that a client that
 * opens and sends nothing cannot hold it). */
static void test_idle_connection_closed(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .timeout = 1 };
	struct conn c;
	int64_t t0;

	serve_plain(f, &cfg);
	plain(&c, f->port);
	puts_(&c, "POST /two HTTP/1.1\r\n");
	t0 = now_ms();
	assert_true(closed_within(&c, 4000));
	assert_true(now_ms() - t0 >= 900);
	hang_up(&c);
}

/* Connections per client address are limited. */
static void test_per_address_limit(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .per_address = 3 };
	struct conn c[4];
	int closed = 0;

	serve_plain(f, &cfg);
	for (int i = 0; i < 4; i++)
		plain(&c[i], f->port);
	/* one is closed at once, the three others stay: which one is the
	 * pool's choice (its threads accept in any order) */
	for (int i = 0; i < 4; i++)
		closed += closed_within(&c[i], 1500);
	assert_int_equal(closed, 1);
	for (int i = 0; i < 4; i++)
		hang_up(&c[i]);
}

/* Random bytes, a request line of 100 KB, headers that never end: each
 * ends its connection, none ends the listener. */
static void test_garbage(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;
	struct conn c;
	static char junk[100000];
	unsigned seed = 12345;

	serve_plain(f, &cfg);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < 4096; i++)
			junk[i] = (char)rand_r(&seed);
		plain(&c, f->port);
		put_any(&c, junk, 1 + (size_t)rand_r(&seed) % 4096);
		closed_within(&c, 200);
		hang_up(&c);
	}
	memset(junk, 'a', sizeof(junk) - 1);
	memcpy(junk, "POST /", 6);
	plain(&c, f->port);
	put_any(&c, junk, sizeof(junk) - 1);
	response(&c, &r);
	assert_true(r.status == -1 || r.status == 414 || r.status == 431 ||
			r.status == 400);
	hang_up(&c);
	plain(&c, f->port);
	puts_(&c, "POST /two HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 2000; i++)
		put_any(&c, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 44);
	response(&c, &r);
	assert_true(r.status == -1 || r.status == 431 || r.status == 400 ||
			r.status == 413);
	hang_up(&c);
	ask(f->port, "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
			"\r\n", &r);
	assert_true(r.status == -1 || r.status == 400);
	assert_int_equal(ask(f->port, post("/two", "{}", ""), &r), 200);
}

/* Stopping closes what clients hold open and returns at once. */
static void test_stop_with_clients(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { 0 };
	struct response r;
	struct conn idle, half, c;
	int64_t t0;

	serve_plain(f, &cfg);
	plain(&idle, f->port);
	plain(&half, f->port);
	puts_(&half, "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
			"\r\n{");
	plain(&c, f->port);
	puts_(&c, post("/two", "{}", ""));
	assert_int_equal(response(&c, &r), 200);
	usleep(100000);
	t0 = now_ms();
	https_stop(f->h);
	f->h = NULL;
	assert_true(now_ms() - t0 < 2000);
	assert_true(closed_within(&idle, 1000));
	assert_true(closed_within(&half, 1000));
	assert_true(closed_within(&c, 1000));
	hang_up(&idle);
	hang_up(&half);
	hang_up(&c);
}

/* -- the address --------------------------------------------------------- */

static void test_listen_errors(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .plain = 1, .paths = paths };
	struct https *other;
	char where[32];

	serve_plain(f, &cfg);
	snprintf(where, sizeof(where), "127.0.0.1:%u", f->port);
	cfg.listen = where;
	assert_null(https_open(&cfg));
	snprintf(where, sizeof(where), "cannot listen on 127.0.0.1:%u:",
			f->port);
	assert_int_equal(strncmp(errmsg(), where, strlen(where)), 0);
	assert_non_null(strstr(errmsg(), "Address already in use"));
	const char *bad[] = { "9445", "127.0.0.1", "::1:9445", "[::1]9445",
		"127.0.0.1:65536", "127.0.0.1:x", "127.0.0.1:", NULL };
	for (int i = 0; bad[i]; i++) {
		cfg.listen = bad[i];
		assert_null(https_open(&cfg));
		assert_non_null(strstr(errmsg(), "give ADDR:PORT"));
	}
	cfg.listen = "no-such-host.invalid:0";
	assert_null(https_open(&cfg));
	assert_non_null(strstr(errmsg(), "cannot listen on"
			" no-such-host.invalid:0"));
	/* IPv6 in brackets, and a name */
	cfg.listen = "localhost:0";
	other = https_open(&cfg);
	assert_non_null(other);
	https_stop(other);
	cfg.listen = "[::1]:0";
	other = https_open(&cfg);
	if (other)                            /* where the host has IPv6 */
		https_stop(other);
	/* never plain by accident: TLS wants its pair */
	cfg.listen = "127.0.0.1:0";
	cfg.plain = 0;
	assert_null(https_open(&cfg));
	assert_string_equal(errmsg(), "HTTPS needs a certificate and its key");
}

/* -- TLS ------------------------------------------------------------------ */

/* The Ballerina client offers h2 first; the listener settles on
 * HTTP/1.1, and the certificate made for it verifies as localhost. */
static void test_tls_alpn_http11(void **state)
{
	struct fixture *f = *state;
	struct response r;
	gnutls_datum_t proto;
	struct conn c;

	serve_tls(f);
	assert_int_equal(tls(&c, f->port, f->cert, "h2,http/1.1"), 0);
	assert_int_equal(gnutls_alpn_get_selected_protocol(c.s, &proto), 0);
	assert_int_equal(proto.size, 8);
	assert_memory_equal(proto.data, "http/1.1", 8);
	for (int i = 0; i < 3; i++) {           /* and keeps the connection */
		puts_(&c, post("/icp/heartbeat", "{\"tls\":1}", ""));
		assert_int_equal(response(&c, &r), 200);
	}
	hang_up(&c);
	/* to a client that offers only h2 it names no protocol (GnuTLS
	 * does not refuse the handshake for it): such a client has no
	 * HTTP/1.1 to fall back on, and no WSO2 client is one */
	assert_int_equal(tls(&c, f->port, f->cert, "h2"), 0);
	assert_true(gnutls_alpn_get_selected_protocol(c.s, &proto) < 0);
	hang_up(&c);
	/* and one that offers none is served HTTP/1.1 */
	assert_int_equal(tls(&c, f->port, f->cert, ""), 0);
	puts_(&c, post("/two", "{}", ""));
	assert_int_equal(response(&c, &r), 200);
	hang_up(&c);
}

/* Plain HTTP to the TLS port, random bytes, a ClientHello cut short:
 * each ends its connection; TLS goes on working. */
static void test_tls_garbage(void **state)
{
	struct fixture *f = *state;
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
		0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
	struct response r;
	struct conn c;
	char junk[4096];
	unsigned seed = 99;

	serve_tls(f);
	assert_int_equal(ask(f->port, post("/two", "{}", ""), &r), -1);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)rand_r(&seed);
		if (round % 2)
			memcpy(junk, hello, sizeof(hello));
		plain(&c, f->port);
		put_any(&c, junk, 1 + (size_t)rand_r(&seed) % sizeof(junk));
		closed_within(&c, 200);
		hang_up(&c);
	}
	plain(&c, f->port);
	put(&c, hello, sizeof(hello));
	hang_up(&c);                          /* gone mid-handshake */
	assert_int_equal(tls(&c, f->port, f->cert, "http/1.1"), 0);
	puts_(&c, post("/two", "{}", ""));
	assert_int_equal(response(&c, &r), 200);
	hang_up(&c);
}

/* -- the certificate ------------------------------------------------------ */

static char *slurp(const char *path)
{
	size_t len;
	char *s = tlscert_read(path, &len);

	assert_non_null(s);
	return s;
}

static void key_id(const char *cert_file, unsigned char id[20])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	size_t n = 20;
	char *pem = slurp(cert_file);

	d.data = (unsigned char *)pem;
	d.size = (unsigned)strlen(pem);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM),
			0);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, 0, id, &n), 0);
	/* names for the clients on this host */
	assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
	assert_true(gnutls_x509_crt_check_hostname(crt, "127.0.0.1"));
	assert_true(gnutls_x509_crt_check_hostname(crt, "::1"));
	assert_false(gnutls_x509_crt_check_hostname(crt, "example.com"));
	assert_true(gnutls_x509_crt_get_expiration_time(crt) >
			time(NULL) + 3000L * 86400);
	gnutls_x509_crt_deinit(crt);
	free(pem);
}

static void test_cert_made_once(void **state)
{
	struct fixture *f = *state;
	char *a, *b, fp1[TLSCERT_FINGERPRINT_MAX], fp2[TLSCERT_FINGERPRINT_MAX];
	unsigned char id1[20], id2[20];
	struct stat st;
	int made;

	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	assert_int_equal(made, 1);
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->cert, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(tlscert_fingerprint(f->cert, fp1, sizeof(fp1)), 0);
	assert_int_equal(strlen(fp1), 95);
	key_id(f->cert, id1);
	/* kept */
	a = slurp(f->cert);
	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	assert_int_equal(made, 0);
	b = slurp(f->cert);
	assert_string_equal(a, b);
	free(b);
	/* a key without its certificate (a crash between the two) gets a
	 * new certificate for the same key */
	assert_int_equal(unlink(f->cert), 0);
	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	assert_int_equal(made, 1);
	key_id(f->cert, id2);
	assert_memory_equal(id1, id2, 20);
	assert_int_equal(tlscert_fingerprint(f->cert, fp2, sizeof(fp2)), 0);
	assert_string_not_equal(fp1, fp2);   /* a new serial */
	/* a certificate without its key: a new pair */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	assert_int_equal(made, 1);
	key_id(f->cert, id2);
	assert_memory_not_equal(id1, id2, 20);
	/* no temporary file is left beside them */
	{
		char cmd[PATH_MAX + 64];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 2",
				f->dir);
		assert_int_equal(system(cmd), 0);
	}
	/* a key that others may read is refused, with what fixes it */
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), -EACCES);
	assert_non_null(strstr(errmsg(), "may be read or written by group or"
			" others (mode 0640): chmod 600"));
	free(a);
}

/* A certificate and a key that do not go together are refused when the
 * listener is opened, not later in a thread. */
static void test_pair_checked_at_open(void **state)
{
	struct fixture *f = *state;
	struct https_cfg cfg = { .listen = "127.0.0.1:0", .paths = paths };
	char other_cert[PATH_MAX + 8], other_key[PATH_MAX + 8];
	struct https *h;
	int made;

	assert_int_equal(tlscert_ensure(f->cert, f->key, &made), 0);
	snprintf(other_cert, sizeof(other_cert), "%s/b.crt", f->dir);
	snprintf(other_key, sizeof(other_key), "%s/b.key", f->dir);
	assert_int_equal(tlscert_ensure(other_cert, other_key, &made), 0);
	cfg.cert_file = f->cert;
	cfg.key_file = other_key;
	assert_null(https_open(&cfg));
	assert_non_null(strstr(errmsg(), "the TLS certificate"));
	cfg.key_file = f->cert;               /* not a key at all */
	assert_null(https_open(&cfg));
	cfg.key_file = "/nonexistent/key";
	assert_null(https_open(&cfg));
	assert_string_equal(errmsg(), "/nonexistent/key: No such file or"
			" directory");
	cfg.key_file = f->key;
	h = https_open(&cfg);
	assert_non_null(h);
	https_stop(h);                        /* never served: just closed */
}

static void test_store_paths(void **state)
{
	char c[64], k[64];

	(void)state;
	assert_int_equal(store_default_tls_paths("/var/lib/r/state.db", c, k,
			sizeof(c)), 0);
	assert_string_equal(c, "/var/lib/r/state.db.tls.crt");
	assert_string_equal(k, "/var/lib/r/state.db.tls.key");
	assert_int_equal(store_default_tls_paths(":memory:", c, k, sizeof(c)),
			-ENOENT);
	assert_int_equal(store_default_tls_paths("/a/very/long/path/to/a/"
			"database/file.db", c, k, 40), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_post_reaches_handler,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_404_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_413_by_length, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_413_chunked, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_503_when_bodies_held,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client_blocks_nobody,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_connection_closed,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_address_limit, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_clients, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_listen_errors, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_tls_alpn_http11, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_tls_garbage, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_cert_made_once, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_pair_checked_at_open,
				setup, teardown),
		cmocka_unit_test(test_store_paths),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
