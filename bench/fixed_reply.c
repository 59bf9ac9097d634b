/*
 * fixed_reply.c - the HTTP library alone, for bench/https.sh: the
 * daemon's own listener (fs/https.c: libmicrohttpd over GnuTLS, the same
 * MHD flags and options, thread pool, limits, TLS priorities and
 * certificate, bodies gathered the same way) with a handler that answers
 * every POST to ICP's three paths with a fixed HeartbeatResponse, 201,
 * as a delta heartbeat's reply is, without reading the body or the token.
 * What runtimefs's rates lose against this one is ICP's token check, the
 * model and the reply, not HTTP or TLS.
 *
 *   fixed_reply ADDR:PORT CERT KEY     serves HTTPS until SIGTERM/SIGINT
 *   fixed_reply ADDR:PORT plain        serves plain HTTP
 */
#include "../fs/https.h"
#include "../store/errmsg.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* byte for byte the reply to a delta heartbeat with the right hash */
static const char reply_json[] =
	"{\"acknowledged\":true,\"fullHeartbeatRequired\":false,"
	"\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\","
	"\"openApiDefinitions\",\"workflowMetadata\"]}";

static const char *const paths[] = {
	"/icp/heartbeat",
	"/icp/deltaHeartbeat",
	"/icp/commandResult",
	NULL
};

static int fixed(void *ctx, const char *method, const char *url,
		const char *authorization, const char *body, size_t len,
		struct buf *reply)
{
	(void)ctx;
	(void)method;
	(void)url;
	(void)authorization;
	(void)body;
	(void)len;
	if (buf_add(reply, reply_json, sizeof(reply_json) - 1))
		return 503;
	return 201;
}

int main(int argc, char **argv)
{
	struct https_cfg cfg = { .paths = paths };
	struct https *h;
	sigset_t set;
	int sig;

	if (argc == 3 && !strcmp(argv[2], "plain")) {
		cfg.plain = 1;
	} else if (argc == 4) {
		cfg.cert_file = argv[2];
		cfg.key_file = argv[3];
	} else {
		fprintf(stderr, "usage: fixed_reply ADDR:PORT CERT KEY |"
				" fixed_reply ADDR:PORT plain\n");
		return 2;
	}
	cfg.listen = argv[1];
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	h = https_start(&cfg, fixed, NULL);
	if (!h) {
		fprintf(stderr, "fixed_reply: %s\n", errmsg());
		return 1;
	}
	fprintf(stderr, "fixed_reply: serving on port %u\n", https_port(h));
	sigwait(&set, &sig);
	https_stop(h);
	return 0;
}
