/*
 * heartbeat.c - heartbeats: how a runtime registers itself and stays
 * alive.
 *
 * A heartbeat is one JSON object with the field names of WSO2 Integration
 * Control Plane (runtime, runtimeType, environment, project, component,
 * version, status, nodeInfo) and a credential: `secret` (KEYID.BASE64,
 * see secret.c) or, for agent runtimes, `serviceAccount`.  It is parsed
 * and checked whole before anything changes.  The first valid one with an
 * unbound secret registers the runtime and binds the secret in one
 * transaction; so does any heartbeat that changes state (the integration,
 * version, platform or os reported, the first heartbeat after a start or
 * after being OFFLINE).  Every other heartbeat only moves the time of the
 * last heartbeat, which is batched in memory (liveness.c).
 *
 * The reported `status` is not stored: status is computed from times.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define HB_FIELD_MAX 256      /* names are checked after, and are <= 63 */

/* A heartbeat, parsed and checked. */
struct hb {
	char runtime[HB_FIELD_MAX];
	char env[HB_FIELD_MAX];
	char project[HB_FIELD_MAX];
	char component[HB_FIELD_MAX];
	char type[16];                   /* default | MI, or "" */
	char version[MODEL_TEXT_MAX];    /* "" when not reported */
	char platform[MODEL_TEXT_MAX];
	char os[MODEL_TEXT_MAX];
	char cred[HB_FIELD_MAX];
	int service_account;             /* cred is a service account's */
};

/* Copies the string field `name` of `o` into `out` (`cap` bytes); "" when
 * it is absent (-EINVAL if it is required). */
static int hb_text(const cJSON *o, const char *name, int required,
		char *out, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t len;

	*out = '\0';
	if (!v || cJSON_IsNull(v))
		return required ? model_fail(-EINVAL, "heartbeat: missing"
				" field '%s'", name) : 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return model_fail(-EINVAL, "heartbeat: field '%s' is not a"
				" string", name);
	len = strlen(v->valuestring);
	if (len >= cap)
		return model_fail(-EINVAL, "heartbeat: field '%s' is longer"
				" than %zu bytes", name, cap - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v->valuestring[i] < 0x20 ||
		    v->valuestring[i] == 0x7f)
			return model_fail(-EINVAL, "heartbeat: field '%s' has"
					" a control character", name);
	memcpy(out, v->valuestring, len + 1);
	return 0;
}

/* Joins the present ones of nodeInfo's fields `a`, `b`, `c` with blanks:
 * "WSO2 Micro Integrator 4.4.0", "Linux 6.1.0 amd64". */
static int hb_join(const cJSON *info, const char *what, const char *a,
		const char *b, const char *c, char out[MODEL_TEXT_MAX])
{
	const char *names[3] = { a, b, c };
	char part[MODEL_TEXT_MAX];
	size_t len = 0;
	int ret;

	*out = '\0';
	for (int i = 0; i < 3 && info; i++) {
		if (!names[i])
			continue;
		if ((ret = hb_text(info, names[i], 0, part, sizeof(part))))
			return ret;
		if (!*part)
			continue;
		len += (size_t)snprintf(out + len, MODEL_TEXT_MAX - len,
				"%s%s", len ? " " : "", part);
		if (len >= MODEL_TEXT_MAX)
			return model_fail(-EINVAL, "heartbeat: %s is longer"
					" than %d bytes", what,
					MODEL_TEXT_MAX - 1);
	}
	return 0;
}

static int hb_type(const char *reported, char out[16])
{
	if (!*reported)
		return 0;
	if (!strcmp(reported, "default") || !strcmp(reported, "BI"))
		snprintf(out, 16, "default");
	else if (!strcmp(reported, "MI"))
		snprintf(out, 16, "MI");
	else
		return model_fail(-EINVAL, "heartbeat: runtimeType takes"
				" default, BI or MI, not '%.20s'", reported);
	return 0;
}

/* Parses and checks a heartbeat; nothing of the model is touched. */
static int hb_parse(const char *json, size_t len, struct hb *hb)
{
	const cJSON *info;
	char type[HB_FIELD_MAX], sa[HB_FIELD_MAX];
	const char *end = NULL;
	cJSON *o;
	int ret;

	memset(hb, 0, sizeof(*hb));
	if (len == 0)
		return model_fail(-EINVAL, "heartbeat: empty; write one JSON"
				" object per write()");
	if (len > MODEL_HEARTBEAT_MAX)
		return model_fail(-EINVAL, "heartbeat: longer than %d bytes",
				MODEL_HEARTBEAT_MAX);
	/* a NUL, raw or escaped, would cut a value short unseen, and
	 * invalid UTF-8 would be stored and shown */
	ret = model_json_check("heartbeat", json, len, NULL);
	if (ret == MODEL_JSON_MORE)
		return model_fail(-EINVAL, "heartbeat: not a JSON object: it"
				" ends before it is complete; write one JSON"
				" object per write()");
	if (ret)
		return ret;
	o = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return model_fail(-EINVAL, "heartbeat: not a JSON object");
	}
	while (end < json + len && *end && strchr(" \t\r\n", *end))
		end++;
	if (end < json + len) {
		cJSON_Delete(o);
		return model_fail(-EINVAL, "heartbeat: something follows the"
				" JSON object; send one heartbeat at a time");
	}
	ret = hb_text(o, "secret", 0, hb->cred, sizeof(hb->cred));
	if (!ret)
		ret = hb_text(o, "serviceAccount", 0, sa, sizeof(sa));
	if (!ret && *hb->cred && *sa)
		ret = model_fail(-EINVAL, "heartbeat: give either 'secret' or"
				" 'serviceAccount', not both");
	if (!ret && !*hb->cred && !*sa)
		ret = model_fail(-EINVAL, "heartbeat: missing field 'secret'"
				" (or 'serviceAccount')");
	if (!ret && *sa) {
		hb->service_account = 1;
		memcpy(hb->cred, sa, sizeof(hb->cred));
	}
	sodium_memzero(sa, sizeof(sa));
	/* agent runtimes are assigned with ln -s, not by their heartbeats */
	if (!ret)
		ret = hb_text(o, "runtime", 1, hb->runtime,
				sizeof(hb->runtime));
	if (!ret)
		ret = hb_text(o, "runtimeType", !hb->service_account, type,
				sizeof(type));
	if (!ret)
		ret = hb_type(type, hb->type);
	if (!ret)
		ret = hb_text(o, "environment", 1, hb->env, sizeof(hb->env));
	if (!ret)
		ret = hb_text(o, "project", !hb->service_account, hb->project,
				sizeof(hb->project));
	if (!ret)
		ret = hb_text(o, "component", !hb->service_account,
				hb->component, sizeof(hb->component));
	if (!ret)
		ret = hb_text(o, "version", 0, hb->version,
				sizeof(hb->version));
	if (!ret)
		ret = hb_text(o, "status", 0, type, sizeof(type));
	info = cJSON_GetObjectItemCaseSensitive(o, "nodeInfo");
	if (!ret && info && !cJSON_IsNull(info) && !cJSON_IsObject(info))
		ret = model_fail(-EINVAL, "heartbeat: nodeInfo is not an"
				" object");
	if (!ret)
		ret = hb_join(info, "platform", "platformName",
				"platformVersion", NULL, hb->platform);
	if (!ret)
		ret = hb_join(info, "os", "osName", "osVersion", "osArch",
				hb->os);
	if (!ret)
		ret = model_name_check("runtime", hb->runtime);
	if (!ret)
		ret = model_name_check("environment", hb->env);
	if (!ret && *hb->project)
		ret = model_name_check("project", hb->project);
	if (!ret && *hb->component)
		ret = model_name_check("integration", hb->component);
	cJSON_Delete(o);
	if (ret)
		sodium_memzero(hb->cred, sizeof(hb->cred));
	return ret;
}

/* The integration the heartbeat names, made (with its project) if it
 * does not exist yet; inside the transaction. */
static int hb_integration(struct model *m, const struct hb *hb,
		int64_t now, int64_t *id)
{
	struct store_integration in;
	struct store_project p;
	int ret = store_project_get(m->store, hb->project, &p);

	if (ret == -ENOENT &&
	    !(ret = store_project_insert(m->store, hb->project, now)))
		ret = store_project_get(m->store, hb->project, &p);
	if (!ret && (ret = store_integration_get(m->store, p.id,
			hb->component, &in)) == -ENOENT &&
	    !(ret = store_integration_insert(m->store, p.id, hb->component,
			hb->type, now)))
		ret = store_integration_get(m->store, p.id, hb->component,
				&in);
	*id = in.id;
	return ret ? model_fail_store(ret) : 0;
}

/* Tells the watcher what a committed heartbeat changed of runtime `rt`,
 * which was `cur` before (cur->id 0: it is new). */
static void hb_note(struct model *m, const struct hb *hb,
		const struct store_runtime *cur, struct store_runtime *rt,
		int reassign, const struct store_secret *bind)
{
	unsigned what = MODEL_RT_HEARD;

	if (!cur->id)
		what |= MODEL_RT_MADE;
	if (rt->info_ns != cur->info_ns)
		what |= MODEL_RT_INFO;
	if (rt->running_ns != cur->running_ns ||
	    rt->revoked_ns != cur->revoked_ns)
		what |= MODEL_RT_STATUS;
	if (reassign)
		what |= MODEL_RT_ASSIGNED;
	if (bind)
		what |= MODEL_RT_SECRET | MODEL_RT_STATUS;
	snprintf(rt->env, sizeof(rt->env), "%.63s", hb->env);
	if (reassign) {
		snprintf(rt->project, sizeof(rt->project), "%.63s",
				hb->project);
		snprintf(rt->integration, sizeof(rt->integration), "%.63s",
				hb->component);
	}
	model_note_runtime(m, rt, what, NULL);
	if (!cur->id)
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_MEMBERS, hb->env, NULL,
				NULL, NULL);
	/* the project and integration may be new; a move takes its links
	 * out of the old integration's views */
	if (reassign) {
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_MADE |
				MODEL_OBJ_MEMBERS, hb->project, NULL, NULL,
				NULL);
		if (cur->id)
			model_note_views(m, cur, cur->name);
		model_note_views(m, rt, NULL);
	}
	/* its secret is bound now, no longer listed */
	if (bind)
		model_note_secrets(m, hb->env, bind->project,
				bind->integration, bind->name);
}

/* Writes a state change in one transaction: a new runtime (rt->id 0) is
 * inserted and gets its service account, a known one takes what it
 * reported; `bind` (or NULL) is bound to it. */
static int hb_commit(struct model *m, const struct hb *hb,
		const struct store_runtime *cur, struct store_runtime *rt,
		int reassign, const struct store_secret *bind, int64_t now)
{
	int ret = store_begin(m->store);

	if (ret)
		return model_fail_store(ret);
	m->changing = 1;
	if (reassign)
		ret = hb_integration(m, hb, now, &rt->integration_id);
	if (!ret && !rt->id) {
		ret = store_runtime_insert(m->store, rt);
		if (ret)
			ret = model_fail_store(ret);
		else
			ret = model_service_account_create(m, rt->id);
	} else if (!ret && (ret = store_runtime_report(m->store, rt))) {
		ret = model_fail_store(ret);
	}
	if (!ret && bind &&
	    (ret = store_secret_bind(m->store, bind->id, rt->id, now)))
		ret = model_fail_store(ret);
	if (!ret && (ret = store_commit(m->store)))
		ret = model_fail_store(ret);
	else if (ret)
		store_rollback(m->store);
	else
		model_rows_forget(m);
	m->changing = 0;
	if (ret)
		return ret;
	hb_note(m, hb, cur, rt, reassign, bind);
	return 0;
}

/* Sets `dst` to what the heartbeat reported, if it reported it; 1 when
 * that is a change. */
static int hb_take(char dst[MODEL_TEXT_MAX], const char *reported)
{
	if (!*reported || !strcmp(dst, reported))
		return 0;
	snprintf(dst, MODEL_TEXT_MAX, "%s", reported);
	return 1;
}

/* Applies an authenticated heartbeat to runtime `cur` (cur->id 0: a new
 * one, to be registered), binding `bind` to it if not NULL. */
static int hb_apply(struct model *m, const struct hb *hb,
		const struct store_runtime *cur, const struct store_secret *bind,
		int64_t env_id, struct model_heartbeat_reply *out)
{
	int64_t now = model_now(m), off = m->cfg.offline_after_ns;
	struct store_runtime next = *cur;
	int live = cur->heartbeat_ns > 0 && now <= cur->heartbeat_ns + off &&
		!cur->revoked_ns;
	int change = !cur->id || bind, reassign = 0, ret;

	if (cur->id && !strcmp(cur->desired, "stop"))
		out->commands[out->ncommands++] = "STOP";
	else if (cur->id && !cur->running_ns)
		out->commands[out->ncommands++] = "START";
	if (!cur->id) {
		model_uuid(next.uuid);
		next.env_id = env_id;
		snprintf(next.name, sizeof(next.name), "%.63s", hb->runtime);
		snprintf(next.type, sizeof(next.type), "%s", hb->type);
		snprintf(next.desired, sizeof(next.desired), "run");
		next.desired_ns = now;
		next.registered_ns = now;
		next.info_ns = now;
		next.assigned_ns = now;
	} else if (!hb->service_account && strcmp(cur->type, hb->type)) {
		return model_fail(-EINVAL, "heartbeat: runtime '%s' is of type"
				" %s, not %s", cur->name, cur->type, hb->type);
	}
	if (!hb->service_account && (!cur->id ||
			strcmp(cur->project, hb->project) ||
			strcmp(cur->integration, hb->component))) {
		reassign = change = 1;
		next.assigned_ns = now;
	}
	if (hb_take(next.runtime_version, hb->version) |
	    hb_take(next.platform, hb->platform) | hb_take(next.os, hb->os)) {
		next.info_ns = now;
		change = 1;
	}
	if (!strcmp(next.desired, "run") && (!next.running_ns || !live)) {
		next.running_ns = now;
		change = 1;
	}
	if (bind)
		next.revoked_ns = 0;
	if (now > next.heartbeat_ns)
		next.heartbeat_ns = now;
	if (change) {
		ret = hb_commit(m, hb, cur, &next, reassign, bind, now);
	} else {
		ret = model_liveness_note(m, cur, now);
		if (!ret)
			model_note_runtime(m, cur, MODEL_RT_HEARD, NULL);
	}
	if (!ret)
		memcpy(out->runtime_id, next.uuid, sizeof(out->runtime_id));
	return ret;
}

/* A heartbeat with a secret: it must open, belong to the environment
 * (and integration, if scoped), and be unbound or bound to this very
 * runtime. */
static int hb_secret(struct model *m, const struct hb *hb,
		struct model_heartbeat_reply *out)
{
	unsigned char raw[MODEL_SECRET_BYTES], want[MODEL_SECRET_BYTES];
	char key_id[MODEL_KEY_ID_LEN];
	struct store_secret sec;
	struct store_runtime rt;
	int ret, found;

	memset(&rt, 0, sizeof(rt));
	ret = model_secret_parse(hb->cred, key_id, raw);
	if (ret)
		return ret;
	ret = store_secret_get_key(m->store, key_id, &sec);
	if (ret && ret != -ENOENT)
		return model_fail_store(ret);
	/* an unknown key id and wrong bytes are told apart neither by the
	 * answer nor by the time it takes: the same unseal and compare run
	 * on a row that cannot open */
	found = !ret;
	if (!found) {
		memset(&sec, 0, sizeof(sec));
		sec.sealed_len = MODEL_SEAL_OVERHEAD + 8 + MODEL_SECRET_BYTES;
		memcpy(sec.key_id, key_id, sizeof(sec.key_id));
	}
	ret = model_secret_open(m, &sec, want);
	if (ret || !found || sodium_memcmp(raw, want, sizeof(raw)))
		ret = model_fail(-EACCES, "heartbeat: secret %s is unknown,"
				" revoked or does not match", key_id);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(want, sizeof(want));
	if (!ret && strcmp(sec.env, hb->env))
		ret = model_fail(-EACCES, "heartbeat: secret %s belongs to"
				" environment '%s', not '%s'", key_id, sec.env,
				hb->env);
	if (!ret && sec.integration_id && (strcmp(sec.project, hb->project) ||
			strcmp(sec.integration, hb->component)))
		ret = model_fail(-EACCES, "heartbeat: secret %s is for"
				" integration '%s' of project '%s'", key_id,
				sec.integration, sec.project);
	if (ret)
		return ret;
	ret = store_runtime_get(m->store, sec.env_id, hb->runtime, &rt);
	if (ret && ret != -ENOENT)
		return model_fail_store(ret);
	found = !ret;
	if (found)
		model_liveness_overlay(m, &rt);
	else
		memset(&rt, 0, sizeof(rt));
	if (sec.runtime_id && (!found || rt.id != sec.runtime_id))
		return model_fail(-EACCES, "heartbeat: secret %s is bound to"
				" another runtime", key_id);
	if (!sec.runtime_id && found && (*rt.secret ||
			!strcmp(rt.type, "agent")))
		return model_fail(-EEXIST, "heartbeat: runtime '%s' already"
				" exists in environment '%s'", hb->runtime,
				hb->env);
	return hb_apply(m, hb, &rt, sec.runtime_id ? NULL : &sec, sec.env_id,
			out);
}

/* A heartbeat with a service account: the runtime must exist already. */
static int hb_service_account(struct model *m, const struct hb *hb,
		struct model_heartbeat_reply *out)
{
	struct store_runtime rt;
	struct store_env e;
	int ret = store_env_get(m->store, hb->env, &e);

	if (!ret)
		ret = store_runtime_get(m->store, e.id, hb->runtime, &rt);
	if (ret == -ENOENT)
		return model_fail(-EACCES, "heartbeat: no runtime '%s' in"
				" environment '%s' for this service account",
				hb->runtime, hb->env);
	if (ret)
		return model_fail_store(ret);
	model_liveness_overlay(m, &rt);
	ret = model_service_account_verify(m, rt.id, hb->cred);
	return ret ? ret : hb_apply(m, hb, &rt, NULL, e.id, out);
}

int model_heartbeat(struct model *m, const char *json, size_t len,
		struct model_heartbeat_reply *out)
{
	struct hb hb;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = hb_parse(json, len, &hb);
	if (ret)
		return ret;
	model_lock(m);
	ret = hb.service_account ? hb_service_account(m, &hb, out) :
		hb_secret(m, &hb, out);
	model_unlock(m);
	sodium_memzero(hb.cred, sizeof(hb.cred));
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}
