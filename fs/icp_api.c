/*
 * icp_api.c - ICP's runtime API: POST /icp/heartbeat, /icp/deltaHeartbeat
 * and /icp/commandResult, as icp_server/runtime_service.bal answers them
 * (see icp_api.h), on the model's heartbeats (model/heartbeat.c).
 */
#include "icp_api.h"
#include "../model/jwt.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <sodium.h>

/* ICP's time:Utc, [seconds, fraction of a second]. */
static cJSON *utc(int64_t ns)
{
	cJSON *a = cJSON_CreateArray();

	if (a && (!cJSON_AddItemToArray(a, cJSON_CreateNumber(
			(double)(ns / 1000000000LL))) ||
		  !cJSON_AddItemToArray(a, cJSON_CreateNumber(
			(double)(ns % 1000000000LL) / 1e9)))) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* One ControlCommand (types.bal): commandId, runtimeId,
 * targetArtifact {name}, action, issuedAt, status. */
static int command_json(cJSON *cmds, const struct model_command *c)
{
	cJSON *o = cJSON_CreateObject(), *t, *at;

	if (!o || !cJSON_AddItemToArray(cmds, o))
		return cJSON_Delete(o), -ENOMEM;
	if (!cJSON_AddStringToObject(o, "commandId", c->id) ||
	    !cJSON_AddStringToObject(o, "runtimeId", c->runtime_id) ||
	    !(t = cJSON_AddObjectToObject(o, "targetArtifact")) ||
	    !cJSON_AddStringToObject(t, "name", c->target) ||
	    !cJSON_AddStringToObject(o, "action", c->action) ||
	    !(at = utc(c->issued_ns)) ||
	    !cJSON_AddItemToObject(o, "issuedAt", at) ||
	    !cJSON_AddStringToObject(o, "status", c->status))
		return -ENOMEM;
	return 0;
}

int icp_reply_json(struct buf *reply, const struct model_heartbeat_reply *r,
		int runtime_id, const char *error)
{
	cJSON *o = cJSON_CreateObject(), *cmds, *fields, *errs;
	char *text = NULL;
	int ret = -ENOMEM;

	if (!o || !cJSON_AddBoolToObject(o, "acknowledged", r->acknowledged) ||
	    !cJSON_AddBoolToObject(o, "fullHeartbeatRequired",
			r->full_required) ||
	    !(cmds = cJSON_AddArrayToObject(o, "commands")))
		goto out;
	for (int i = 0; i < r->ncommands; i++)
		if (command_json(cmds, &r->commands[i]))
			goto out;
	if (error && (!(errs = cJSON_AddArrayToObject(o, "errors")) ||
			!cJSON_AddItemToArray(errs,
				cJSON_CreateString(error))))
		goto out;
	if (!(fields = cJSON_AddArrayToObject(o, "supportedHeartbeatFields")))
		goto out;
	for (int i = 0; model_heartbeat_fields[i]; i++)
		if (!cJSON_AddItemToArray(fields,
				cJSON_CreateString(model_heartbeat_fields[i])))
			goto out;
	if (runtime_id && *r->runtime_id &&
	    !cJSON_AddStringToObject(o, "runtimeId", r->runtime_id))
		goto out;
	if ((text = cJSON_PrintUnformatted(o)))
		ret = buf_addf(reply, "%s\n", text);
out:
	cJSON_free(text);
	cJSON_Delete(o);
	return ret;
}

/* A 4xx as ICP words it: {"acknowledged": false, "error": true,
 * "message": ...} (MI reads `message`). */
static int reply_message(struct buf *reply, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int ret = -ENOMEM;

	if (o && cJSON_AddFalseToObject(o, "acknowledged") &&
	    cJSON_AddTrueToObject(o, "error") &&
	    cJSON_AddStringToObject(o, "message", msg) &&
	    (text = cJSON_PrintUnformatted(o)))
		ret = buf_addf(reply, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
	return ret;
}

static int serve_heartbeat(struct model *m, const char *key_id, int delta,
		const char *body, size_t len, struct buf *reply)
{
	struct model_heartbeat_reply r;
	int ret, status;

	model_errclear();
	ret = model_icp_heartbeat(m, key_id, delta, body, len, &r);
	status = r.http ? r.http : (ret ? 503 : 201);
	if (status >= 400 && status < 500)
		ret = reply_message(reply, model_errmsg());
	else
		ret = icp_reply_json(reply, &r, 0, ret ? model_errmsg() : NULL);
	return ret ? 500 : status;
}

static int serve_result(struct model *m, const char *key_id,
		const char *body, size_t len, struct buf *reply)
{
	int ret;

	model_errclear();
	ret = model_command_result(m, key_id, body, len);
	if (ret == -EINVAL || ret == -EACCES) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s%s", ret == -EINVAL ?
				"Invalid command result: " : "",
				model_errmsg());
		return reply_message(reply, msg) ? 500 : 400;
	}
	if (ret)
		return reply_message(reply, model_errmsg()) ? 500 : 503;
	/* runtime_service.bal: always 202 for an authenticated post, a
	 * late or unknown result included */
	return buf_addf(reply, "{\"accepted\":true}\n") ? 500 : 202;
}

int icp_serve(struct model *m, const char *url, const char *key_id,
		const char *body, size_t len, struct buf *reply)
{
	buf_reset(reply);
	if (!strcmp(url, "/icp/heartbeat"))
		return serve_heartbeat(m, key_id, 0, body, len, reply);
	if (!strcmp(url, "/icp/deltaHeartbeat"))
		return serve_heartbeat(m, key_id, 1, body, len, reply);
	if (!strcmp(url, "/icp/commandResult"))
		return serve_result(m, key_id, body, len, reply);
	return reply_message(reply, "no such resource") ? 500 : 404;
}

int icp_serve_http(struct model *m, const char *url,
		const char *authorization, const char *body, size_t len,
		int64_t now_s, struct buf *reply)
{
	char kid[64], key[128], msg[600];
	struct jwt_claims claims;
	const char *tok;
	size_t toklen;
	int ret, status = 401;

	buf_reset(reply);
	model_errclear();
	if (strcmp(url, "/icp/heartbeat") && strcmp(url, "/icp/deltaHeartbeat")
	    && strcmp(url, "/icp/commandResult"))
		return reply_message(reply, "no such resource") ? 500 : 404;
	if (!authorization || jwt_from_authorization(authorization, &tok,
			&toklen))
		return reply_message(reply, "Missing or malformed"
				" Authorization header") ? 500 : 401;
	if (jwt_peek_kid(tok, toklen, kid, sizeof(kid))) {
		snprintf(msg, sizeof(msg), "Invalid JWT: %s", model_errmsg());
		return reply_message(reply, msg) ? 500 : 401;
	}
	/* the token this key verified last, as a runtime reuses it */
	if (model_token_known(m, kid, tok, toklen, now_s))
		return icp_serve(m, url, kid, body, len, reply);
	ret = model_secret_material(m, kid, key, sizeof(key));
	if (ret == -EACCES || ret == -ENOSPC) {
		/* runtime_service.bal: an unknown or revoked key id is a bad
		 * request, not an authentication failure */
		snprintf(msg, sizeof(msg), "Unknown key ID '%s'", kid);
		sodium_memzero(key, sizeof(key));
		return reply_message(reply, msg) ? 500 : 400;
	}
	if (ret) {
		/* the database, not the runtime: never a status that makes
		 * a client stop */
		sodium_memzero(key, sizeof(key));
		return reply_message(reply, model_errmsg()) ? 500 : 503;
	}
	ret = jwt_verify(tok, toklen, key, strlen(key), now_s, &claims);
	if (!ret)
		model_token_keep(m, kid, key, tok, toklen, claims.has_nbf ?
				claims.nbf - JWT_SKEW_S : INT64_MIN,
				claims.exp + JWT_SKEW_S);
	sodium_memzero(key, sizeof(key));
	if (ret == -ENOMEM)
		return reply_message(reply, "out of memory") ? 500 : 503;
	if (ret) {
		snprintf(msg, sizeof(msg), "Invalid or expired token: %s",
				model_errmsg());
		return reply_message(reply, msg) ? 500 : status;
	}
	return icp_serve(m, url, kid, body, len, reply);
}
