/*
 * https.c - the HTTPS listener on libmicrohttpd (https.h): the port, the
 * certificate, bodies gathered per connection under a cap, and replies.
 */
#include "https.h"
#include "tlscert.h"
#include "../store/errmsg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* TLS 1.2 and 1.3 only; GnuTLS's usual choice of ciphers within them */
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define HEADER_MEMORY (32u << 10)  /* a request's headers, and MHD's buffers */
#define FDS_SPARE 128              /* files the rest of the daemon keeps */

struct https {
	int fd;                    /* ours until MHD has it, then -1 */
	unsigned port;
	int plain;
	size_t max_body;
	size_t max_held;
	unsigned connections;
	unsigned per_address;
	unsigned timeout;
	const char *const *paths;
	char *cert, *key;          /* PEM, for MHD */
	size_t key_len;
	struct MHD_Daemon *d;
	https_handler fn;
	void *ctx;
	_Atomic size_t held;       /* bytes of bodies all requests hold */
};

/* What one request holds between the calls MHD makes for it. */
struct request {
	struct buf body;
	size_t charged;            /* to https.held */
	int64_t began_ns;
	int refuse;                /* 413 or 503, answered once all is read */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* -- the port ---------------------------------------------------------- */

/* Splits "ADDR:PORT" or "[ADDR]:PORT" into `host` (NULL for every
 * address) and `port`. */
static int split_listen(const char *where, char *host, size_t hsize,
		const char **hostp, char *port, size_t psize)
{
	const char *colon, *end;
	size_t n;

	if (where[0] == '[') {
		end = strchr(where, ']');
		if (!end || end[1] != ':')
			goto bad;
		n = (size_t)(end - where - 1);
		colon = end + 1;
		if (n == 0 || n >= hsize)
			goto bad;
		memcpy(host, where + 1, n);
	} else {
		colon = strrchr(where, ':');
		if (!colon)
			goto bad;
		n = (size_t)(colon - where);
		if (n >= hsize || memchr(where, ':', n))
			goto bad;
		memcpy(host, where, n);
	}
	host[n] = '\0';
	*hostp = n == 0 || !strcmp(host, "*") ? NULL : host;
	n = strlen(colon + 1);
	if (n == 0 || n >= psize || n > 5 ||
	    strspn(colon + 1, "0123456789") != n || atoi(colon + 1) > 65535)
		goto bad;
	memcpy(port, colon + 1, n + 1);
	return 0;
bad:
	return errmsg_set(-EINVAL, "cannot listen on '%s': give ADDR:PORT,"
			" [IPV6ADDR]:PORT or *:PORT, PORT 0 to 65535", where);
}

/* A listening socket on `where`: the first of its addresses that binds,
 * IPv6 first for every address (taking IPv4 too).  -errno with
 * errmsg(). */
static int bind_listen(const char *where, unsigned *port)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM }, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], portstr[8];
	const char *hostp = NULL;
	int fd = -1, err = EADDRNOTAVAIL, e, one = 1, zero = 0;

	e = split_listen(where, host, sizeof(host), &hostp, portstr,
			sizeof(portstr));
	if (e)
		return e;
	e = getaddrinfo(hostp, portstr, &hints, &res);
	if (e)
		return errmsg_set(-EADDRNOTAVAIL, "cannot listen on %s: %s",
				where, e == EAI_SYSTEM ? strerror(errno) :
				gai_strerror(e));
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			/* every address: IPv6 first, which takes IPv4 too */
			if (!hostp && (pass == 0) != (ai->ai_family == AF_INET6))
				continue;
			if (hostp && pass == 1)
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
					SOCK_NONBLOCK, ai->ai_protocol);
			if (fd < 0) {
				err = errno;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
					sizeof(one));
			if (!hostp && ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
						sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
			    listen(fd, SOMAXCONN)) {
				err = errno;
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return errmsg_set(-err, "cannot listen on %s: %s", where,
				strerror(err));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		err = errno;
		close(fd);
		return errmsg_set(-err, "cannot listen on %s: %s", where,
				strerror(err));
	}
	*port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Room in the process's table of files for `want` connections: the soft
 * limit raised toward the hard one; fewer connections when it is short. */
static unsigned fit_connections(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return want;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return want;
	return rl.rlim_cur > FDS_SPARE + 16 ?
		(unsigned)(rl.rlim_cur - FDS_SPARE) : 16;
}

/* -- the certificate ---------------------------------------------------- */

/* Reads the pair and checks with GnuTLS that MHD will take it. */
static int load_pair(struct https *h, const char *cert_file,
		const char *key_file)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c, k;
	size_t cert_len;
	int e;

	if (!cert_file || !key_file)
		return errmsg_set(-EINVAL, "HTTPS needs a certificate and its"
				" key");
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return errmsg_set(-ENOTSUP, "this libmicrohttpd has no TLS");
	h->cert = tlscert_read(cert_file, &cert_len);
	if (!h->cert)
		return -errno;
	h->key = tlscert_read(key_file, &h->key_len);
	if (!h->key)
		return -errno;
	c.data = (unsigned char *)h->cert;
	c.size = (unsigned)cert_len;
	k.data = (unsigned char *)h->key;
	k.size = (unsigned)h->key_len;
	e = gnutls_certificate_allocate_credentials(&cred);
	if (e < 0)
		return errmsg_set(-ENOMEM, "TLS: %s", gnutls_strerror(e));
	e = gnutls_certificate_set_x509_key_mem2(cred, &c, &k,
			GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (e < 0)
		return errmsg_set(-EINVAL, "the TLS certificate %s with the key"
				" %s: %s", cert_file, key_file,
				gnutls_strerror(e));
	return 0;
}

/* -- replies ------------------------------------------------------------ */

/* Queues `b` (JSON) as the reply with `status`; `b` is given to MHD. */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status,
		struct buf *b)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (b->data) {
		r = MHD_create_response_from_buffer(b->len, b->data,
				MHD_RESPMEM_MUST_FREE);
		if (!r)
			return MHD_NO;
		buf_init(b, b->cap);          /* MHD frees it */
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"",
				MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
	}
	ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
			"application/json");
	if (ok == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Answers `status` with {"message": "..."}, as ICP's errors are. */
static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status,
		const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status,
		const char *fmt, ...)
{
	struct buf b;
	char msg[512], *text = NULL;
	cJSON *o = cJSON_CreateObject();
	va_list ap;
	enum MHD_Result ok = MHD_NO;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&b, HTTPS_REPLY_MAX);
	if (o && cJSON_AddStringToObject(o, "message", msg) &&
	    (text = cJSON_PrintUnformatted(o)) &&
	    !buf_add(&b, text, strlen(text)))
		ok = respond(c, status, &b);
	cJSON_free(text);
	cJSON_Delete(o);
	buf_release(&b);
	return ok;
}

/* -- requests ----------------------------------------------------------- */

static int served(const struct https *h, const char *url)
{
	for (const char *const *p = h->paths; p && *p; p++)
		if (!strcmp(*p, url))
			return 1;
	return 0;
}

/* Charges `r` for holding `want` bytes: 0, or -1 (nothing charged) when
 * all requests together would hold more than max_held. */
static int charge(struct https *h, struct request *r, size_t want)
{
	size_t more, now;

	if (want <= r->charged)
		return 0;
	more = want - r->charged;
	now = atomic_fetch_add(&h->held, more) + more;
	if (now > h->max_held) {
		atomic_fetch_sub(&h->held, more);
		return -1;
	}
	r->charged = want;
	return 0;
}

/* The Content-Length of the request, or -1 when it has none (chunked). */
static long long content_length(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!v)
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || *end || errno || n > (unsigned long long)INT64_MAX)
		return -1;
	return (long long)n;
}

/* The first call for a request, its headers read: what can be answered
 * before its body is, or the request's state. */
static enum MHD_Result begin(struct https *h, struct MHD_Connection *c,
		const char *url, const char *method, void **con_cls)
{
	struct request *r;
	long long length;

	if (!served(h, url))
		return refuse(c, MHD_HTTP_NOT_FOUND, "no resource %s", url);
	if (strcmp(method, MHD_HTTP_METHOD_POST))
		return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s takes POST,"
				" not %s", url, method);
	length = content_length(c);
	if (length > (long long)h->max_body)
		return refuse(c, MHD_HTTP_CONTENT_TOO_LARGE, "a body is at most"
				" %zu bytes, not %lld", h->max_body, length);
	r = calloc(1, sizeof(*r));
	if (!r)
		return MHD_NO;
	buf_init(&r->body, h->max_body);
	r->began_ns = mono_ns();
	if (length > 0 && charge(h, r, buf_alloc_for(&r->body,
			(size_t)length))) {
		free(r);
		return refuse(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the listener"
				" holds as many bodies as it may; try again");
	}
	*con_cls = r;
	return MHD_YES;
}

/* The next part of a body. */
static enum MHD_Result gather(struct https *h, struct request *r,
		const char *data, size_t n)
{
	int ret;

	if (mono_ns() - r->began_ns > HTTPS_REQUEST_MAX_S * 1000000000LL)
		return MHD_NO;                /* too slow: dropped */
	if (r->refuse)
		return MHD_YES;               /* read, and dropped */
	if (n > r->body.cap - r->body.len) {
		r->refuse = MHD_HTTP_CONTENT_TOO_LARGE;
		goto drop;
	}
	if (charge(h, r, buf_alloc_for(&r->body, r->body.len + n))) {
		r->refuse = MHD_HTTP_SERVICE_UNAVAILABLE;
		goto drop;
	}
	ret = buf_add(&r->body, data, n);
	if (!ret)
		return MHD_YES;
	r->refuse = ret == -EFBIG ? MHD_HTTP_CONTENT_TOO_LARGE :
		MHD_HTTP_SERVICE_UNAVAILABLE;
drop:
	buf_release(&r->body);
	atomic_fetch_sub(&h->held, r->charged);
	r->charged = 0;
	return MHD_YES;
}

/* The whole request: the handler's answer. */
static enum MHD_Result finish(struct https *h, struct MHD_Connection *c,
		struct request *r, const char *url, const char *method)
{
	struct buf reply;
	enum MHD_Result ok;
	int status;

	if (r->refuse == MHD_HTTP_CONTENT_TOO_LARGE)
		return refuse(c, r->refuse, "a body is at most %zu bytes",
				h->max_body);
	if (r->refuse)
		return refuse(c, r->refuse, "the listener holds as many bodies"
				" as it may; try again");
	buf_init(&reply, HTTPS_REPLY_MAX);
	status = h->fn(h->ctx, method, url,
			MHD_lookup_connection_value(c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_AUTHORIZATION),
			r->body.data ? r->body.data : "", r->body.len, &reply);
	if (status < 100 || status > 599) {
		buf_release(&reply);
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the request"
				" could not be answered");
	}
	ok = respond(c, (unsigned)status, &reply);
	buf_release(&reply);
	return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
		const char *url, const char *method, const char *version,
		const char *data, size_t *size, void **con_cls)
{
	struct https *h = cls;
	struct request *r = *con_cls;
	size_t n;

	(void)version;
	if (!r)
		return begin(h, c, url, method, con_cls);
	if (*size) {
		n = *size;
		*size = 0;
		return gather(h, r, data, n);
	}
	return finish(h, c, r, url, method);
}

/* MHD is done with a request, answered or not. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		enum MHD_RequestTerminationCode why)
{
	struct https *h = cls;
	struct request *r = *con_cls;

	(void)c;
	(void)why;
	if (!r)
		return;
	atomic_fetch_sub(&h->held, r->charged);
	buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

/* -- the listener ------------------------------------------------------- */

struct https *https_open(const struct https_cfg *cfg)
{
	struct https *h = calloc(1, sizeof(*h));
	int fd;

	if (!h) {
		errmsg_set(-ENOMEM, "out of memory");
		return NULL;
	}
	h->fd = -1;
	h->plain = cfg->plain;
	h->paths = cfg->paths;
	h->max_body = cfg->max_body ? cfg->max_body : HTTPS_MAX_BODY_DEFAULT;
	h->max_held = cfg->max_held ? cfg->max_held : HTTPS_MAX_HELD_DEFAULT;
	h->per_address = cfg->per_address ? cfg->per_address :
		HTTPS_PER_ADDRESS_DEFAULT;
	h->timeout = cfg->timeout ? cfg->timeout : HTTPS_TIMEOUT_DEFAULT;
	h->connections = fit_connections(cfg->connections ?
			cfg->connections : HTTPS_CONNECTIONS_DEFAULT);
	atomic_init(&h->held, 0);
	if (!h->plain && load_pair(h, cfg->cert_file, cfg->key_file))
		goto fail;
	fd = bind_listen(cfg->listen, &h->port);
	if (fd < 0)
		goto fail;
	h->fd = fd;
	return h;
fail:
	https_stop(h);
	return NULL;
}

int https_serve(struct https *h, https_handler fn, void *ctx)
{
	/* poll, not epoll: with epoll, libmicrohttpd 0.9.75 was seen to
	 * spin on a TLS handshake waiting for its client (GnuTLS reads the
	 * socket itself, so the socket stays "ready" in MHD's eyes) */
	unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC;
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_LISTEN_SOCKET, h->fd, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, HTTPS_THREADS, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, h->connections, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->per_address, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, h->timeout, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL },
		/* the end, unless TLS */
		{ h->plain ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_CERT, 0,
			h->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};
	sigset_t all, old;
	int err;

	h->fn = fn;
	h->ctx = ctx;
	if (!h->plain)
		flags |= MHD_USE_TLS;
	/* the listener's threads take no signal: the daemon's main thread
	 * has them (libfuse's handlers end its loop) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, h,
			MHD_OPTION_NOTIFY_COMPLETED, completed, h,
			MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d)
		return errmsg_set(-(err ? err : EIO), "cannot serve HTTP%s on"
				" port %u: %s", h->plain ? "" : "S", h->port,
				err ? strerror(err) : "libmicrohttpd refused");
	h->fd = -1;                           /* MHD closes it */
	return 0;
}

struct https *https_start(const struct https_cfg *cfg, https_handler fn,
		void *ctx)
{
	struct https *h = https_open(cfg);

	if (h && https_serve(h, fn, ctx)) {
		https_stop(h);
		return NULL;
	}
	return h;
}

unsigned https_port(const struct https *h)
{
	return h->port;
}

void https_stop(struct https *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	if (h->key)
		gnutls_memset(h->key, 0, h->key_len);
	free(h->key);
	free(h->cert);
	free(h);
}
