/*
 * icp_http.c - WSO2 ICP's runtime API on the listener, routed to the
 * model (icp_http.h).
 *
 * The listener hands each request to route(), which hands it to
 * icp_serve_http() (icp_api.h): ICP's bearer token, bodies, statuses and
 * replies, the same code MOUNT/heartbeat's bodies go through.
 */
#include "icp_http.h"
#include "icp_api.h"
#include "clock.h"
#include "nodes.h"
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const icp_paths[] = {
	"/icp/heartbeat",
	"/icp/deltaHeartbeat",
	"/icp/commandResult",
	NULL
};

/* What each path means is icp_api.c's: the bearer token checked as ICP
 * checks it, then the heartbeat, delta or command result, with ICP's
 * statuses and bodies.  A refusal is logged with what it says. */
static int route(void *ctx, const char *method, const char *url,
		const char *authorization, const char *body, size_t len,
		struct buf *reply)
{
	struct fs *fs = ctx;
	int status;

	(void)method;
	request_begin(NULL, "https");
	status = icp_serve_http(fs->m, url, authorization, body, len,
			fs_now_ns() / 1000000000LL, reply);
	if (status >= 300)
		fprintf(stderr, "runtimefs: https: POST %s: %d: %.*s\n", url,
				status, (int)(reply->len && reply->data[
				reply->len - 1] == '\n' ? reply->len - 1 :
				reply->len), reply->data ? reply->data : "");
	request_end();
	return status;
}

int icp_http_open(struct fs *fs, const struct https_cfg *cfg)
{
	struct https_cfg c = *cfg;

	c.paths = icp_paths;
	fs->icp = https_open(&c);
	return fs->icp ? 0 : -EADDRNOTAVAIL;
}

int icp_http_start(struct fs *fs)
{
	return fs->icp ? https_serve(fs->icp, route, fs) : 0;
}

void icp_http_stop(struct fs *fs)
{
	https_stop(fs->icp);
	fs->icp = NULL;
}
