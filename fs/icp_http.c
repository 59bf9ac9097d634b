/*
 * icp_http.c - WSO2 ICP's runtime API on the listener, routed to the
 * model (icp_http.h).
 *
 * For now a heartbeat's body is the one MOUNT/heartbeat takes (JSON with
 * its "secret") and its reply the same; route() is the one place that
 * knows what each path means, to be replaced as the model learns ICP's
 * own bodies and tokens.
 */
#include "icp_http.h"
#include "nodes.h"
#include "request.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const icp_paths[] = {
	"/icp/heartbeat",
	"/icp/deltaHeartbeat",
	"/icp/commandResult",
	NULL
};

/* `reply` becomes {"message": "..."}; returns `status`. */
static int message(struct buf *reply, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int message(struct buf *reply, int status, const char *fmt, ...)
{
	char msg[1024], *text;
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_reset(reply);
	text = o && cJSON_AddStringToObject(o, "message", msg) ?
		cJSON_PrintUnformatted(o) : NULL;
	if (!text || buf_add(reply, text, strlen(text)))
		status = 500;
	cJSON_free(text);
	cJSON_Delete(o);
	return status;
}

/* The HTTP status of a refusal, as ICP answers: 400 for what is wrong
 * with the request, 401 for credentials, 409 for a conflict.  MI stops
 * heartbeating for good on those three, so anything that may pass (a busy
 * or full disk, memory) is a 5xx. */
static int status_of(int err)
{
	switch (err) {
	case -EINVAL:
		return 400;
	case -EACCES:
		return 401;
	case -EEXIST:
		return 409;
	case -EAGAIN:
	case -EBUSY:
	case -ENOMEM:
	case -ENOBUFS:
		return 503;
	default:
		return 500;
	}
}

/* POST /icp/heartbeat: a heartbeat as MOUNT/heartbeat takes it. */
static int heartbeat(struct fs *fs, const char *url, const char *body,
		size_t len, struct buf *reply)
{
	struct fs_path p = { .m = fs->m, .live = fs->m };
	const char *why;
	int ret, status;

	request_begin(NULL, "https heartbeat");
	ret = fs_heartbeat_write(&p, body, len, reply);
	if (ret == FS_MORE)
		ret = fs_fail(-EINVAL, "the body is not one whole JSON"
				" object");
	if (!ret) {
		request_end();
		return 200;
	}
	why = *model_errmsg() ? model_errmsg() : strerror(-ret);
	status = message(reply, status_of(ret), "%s", why);
	fprintf(stderr, "runtimefs: https: POST %s: %d: %s\n", url, status,
			why);
	request_end();
	return status;
}

/* What each path means: the one function to change as the model learns
 * ICP's bodies.  A delta heartbeat is answered as ICP answers one whose
 * hash it does not know: send the full one. */
static int route(void *ctx, const char *method, const char *url,
		const char *authorization, const char *body, size_t len,
		struct buf *reply)
{
	struct fs *fs = ctx;
	static const char full[] = "{\"acknowledged\":false,"
		"\"fullHeartbeatRequired\":true,\"commands\":[]}\n";

	(void)method;
	(void)authorization;
	if (!strcmp(url, "/icp/heartbeat"))
		return heartbeat(fs, url, body, len, reply);
	if (!strcmp(url, "/icp/deltaHeartbeat")) {
		buf_reset(reply);
		return buf_add(reply, full, sizeof(full) - 1) ? 500 : 200;
	}
	return message(reply, 501, "%s is not served yet", url);
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
