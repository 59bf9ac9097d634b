/*
 * heartbeat.c - heartbeats: how a runtime registers itself and stays
 * alive, as WSO2 Integration Control Plane 2.x takes them.
 *
 * The bodies are ICP's (icp_server/modules/types/types.bal: Heartbeat,
 * DeltaHeartbeat), the checks and outcomes those of its runtime service
 * (icp_server/runtime_service.bal, post heartbeat and deltaHeartbeat,
 * and modules/storage/heartbeat_repository.bal, processHeartbeat,
 * processDeltaHeartbeat, validateHeartbeatProtocolAndRuntime).  A
 * runtime is identified by the runtimeId it sends (its `id`, kept by the
 * client across restarts).  A secret binds on its first full heartbeat
 * to the environment, the project and integration the heartbeat names
 * (normalised as ICP's toHandler() does, made if missing) and the
 * runtime type; every replica of that integration then heartbeats with
 * the same secret and is a runtime of its own.  A full heartbeat is
 * parsed and checked whole before anything changes; a state change
 * (registration, binding, what the runtime reports, the first heartbeat
 * after a start or after being OFFLINE) is one transaction, any other
 * heartbeat, full or delta, only moves the time of the last heartbeat,
 * batched in memory (liveness.c).
 *
 * Through the mount (model_heartbeat()) the body carries the credential
 * itself, `secret` (KEYID.BASE64, see secret.c), or for agent runtimes
 * `serviceAccount`; through ICP's HTTPS API (model_icp()) the caller has
 * authenticated the key id already.  The reported `status` is kept with
 * what the runtime reported, not used: status is computed from times.
 */
#include "model_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define HB_FIELD_MAX 256      /* names are checked after, and are <= 63 */

#define HB_NAME_MAX 100       /* validateHeartbeatProtocolAndRuntime() */
#define HB_VERSION "v1.0"     /* the one heartbeatVersion ICP takes */

/* Optional heartbeat fields ICP advertises (types.bal,
 * SUPPORTED_HEARTBEAT_FIELDS); every field is stored as reported. */
const char *const model_heartbeat_fields[] = {
	"tryItHost", "openApiDefinitions", "workflowMetadata", NULL
};

/* A heartbeat, parsed and checked. */
struct hb {
	int delta;                       /* a DeltaHeartbeat */
	int mount;                       /* came through MOUNT/heartbeat */
	char runtime_id[MODEL_UUID_LEN]; /* "" when the mount gave none */
	char runtime[HB_FIELD_MAX];      /* the name, "" when none was sent */
	char env[HB_FIELD_MAX];
	char project[HB_FIELD_MAX];      /* as sent */
	char component[HB_FIELD_MAX];
	char project_h[MODEL_NAME_MAX];  /* as ICP's toHandler() makes it */
	char component_h[MODEL_NAME_MAX];
	char raw_type[16];               /* MI | BI | default, as sent */
	char type[16];                   /* default | MI, or "" */
	char version[MODEL_TEXT_MAX];    /* "" when not reported */
	char platform[MODEL_TEXT_MAX];
	char os[MODEL_TEXT_MAX];
	char hash[MODEL_HASH_MAX];       /* runtimeHash */
	char cred[HB_FIELD_MAX];
	int service_account;             /* cred is a service account's */
	int artifacts;                   /* how many it reported */
	struct model_artifact_set arts;  /* those it reported, parsed */
	char *reported;                  /* the body as stored (cJSON_free) */
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

int model_handle(const char *what, const char *name, char out[MODEL_NAME_MAX])
{
	size_t n = 0;
	int dash = 0;

	/* toHandler(): lower case, every run of other characters one '-',
	 * none at either end (storage module, repository_common.bal) */
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		unsigned char l = (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;

		if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
			if (dash && n)
				if (n < MODEL_NAME_MAX - 1)
					out[n++] = '-';
			dash = 0;
			if (n >= MODEL_NAME_MAX - 1)
				return model_fail(-EINVAL, "%s name '%.64s' is"
						" longer than %d characters"
						" once normalised", what, name,
						MODEL_NAME_LEN_MAX);
			out[n++] = (char)l;
		} else {
			dash = 1;
		}
	}
	out[n] = '\0';
	if (!n)
		return model_fail(-EINVAL, "cannot convert %s name '%.64s' to"
				" a handler: it contains no alphanumeric"
				" characters", what, name);
	return 0;
}

/* ICP's time:Utc, [seconds, fraction]: checked, not used. */
static int hb_timestamp(const cJSON *o, int required)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "timestamp");

	if (!t || cJSON_IsNull(t))
		return required ? model_fail(-EINVAL, "heartbeat: missing"
				" field 'timestamp'") : 0;
	if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) != 2 ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(t, 0)) ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(t, 1)))
		return model_fail(-EINVAL, "heartbeat: timestamp is not a"
				" time:Utc, [seconds, fraction]");
	return 0;
}

/* Counts the artifacts of the kinds the clients report (types.bal,
 * Artifacts), checking each list is an array; `main` counts as one. */
static int hb_count_artifacts(const cJSON *a, int *count)
{
	const cJSON *k;

	*count = 0;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsObject(a))
		return model_fail(-EINVAL, "heartbeat: artifacts is not an"
				" object");
	cJSON_ArrayForEach(k, a) {
		if (!strcmp(k->string, "main")) {
			*count += !cJSON_IsNull(k);
			continue;
		}
		if (cJSON_IsNull(k))
			continue;
		if (!cJSON_IsArray(k))
			return model_fail(-EINVAL, "heartbeat: artifacts.%.40s"
					" is not an array", k->string);
		*count += cJSON_GetArraySize(k);
	}
	return 0;
}

/* The runtime's name: `runtime` when it is one runtimefs can use, else
 * that name as toHandler() makes it, else the runtimeId itself. */
static void hb_pick_name(struct hb *hb)
{
	char h[MODEL_NAME_MAX];

	if (*hb->runtime && model_name_check("runtime", hb->runtime) == 0)
		return;
	if (*hb->runtime && model_handle("runtime", hb->runtime, h) == 0) {
		snprintf(hb->runtime, sizeof(hb->runtime), "%s", h);
		return;
	}
	snprintf(hb->runtime, sizeof(hb->runtime), "%s", hb->runtime_id);
}

/* Parses and checks a heartbeat; nothing of the model is touched.
 * `flags`: HB_MOUNT for a body through MOUNT/heartbeat (a credential
 * inside, runtimeId and ICP's other required fields optional),
 * HB_DELTA for a DeltaHeartbeat.  On a refusal *http (if set) is ICP's
 * status for it: 400 where ICP's checks answer 400, 201 with
 * acknowledged false where its payload binding fails inside the
 * handler. */
#define HB_MOUNT 1
#define HB_DELTA 2
static int hb_parse(const char *json, size_t len, int flags, struct hb *hb,
		int *http)
{
	const cJSON *info, *v;
	char type[HB_FIELD_MAX], sa[HB_FIELD_MAX], hv[16];
	const char *end = NULL;
	int mount = flags & HB_MOUNT, strict = !mount;
	size_t max = mount ? MODEL_HEARTBEAT_MAX : MODEL_ICP_BODY_MAX;
	cJSON *o;
	int ret;

	memset(hb, 0, sizeof(*hb));
	hb->mount = mount;
	*http = 400;
	if (len == 0)
		return model_fail(-EINVAL, "heartbeat: empty; write one JSON"
				" object per write()");
	if (len > max) {
		*http = 413;
		return model_fail(-EINVAL, "heartbeat: longer than %zu bytes",
				max);
	}
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
	ret = 0;
	if (mount) {
		ret = hb_text(o, "secret", 0, hb->cred, sizeof(hb->cred));
		if (!ret)
			ret = hb_text(o, "serviceAccount", 0, sa, sizeof(sa));
		if (!ret && *hb->cred && *sa)
			ret = model_fail(-EINVAL, "heartbeat: give either"
					" 'secret' or 'serviceAccount', not"
					" both");
		if (!ret && !*hb->cred && !*sa)
			ret = model_fail(-EINVAL, "heartbeat: missing field"
					" 'secret' (or 'serviceAccount')");
		if (!ret && *sa) {
			hb->service_account = 1;
			memcpy(hb->cred, sa, sizeof(hb->cred));
		}
		sodium_memzero(sa, sizeof(sa));
	}
	/* ICP's Heartbeat and DeltaHeartbeat are open records: a field it
	 * does not know is taken, and kept with the rest */
	if (!ret)
		ret = hb_text(o, "heartbeatVersion", 0, hv, sizeof(hv));
	if (!ret && *hv && strcmp(hv, HB_VERSION))
		ret = model_fail(-EINVAL, "unsupported heartbeat version: %s."
				" Only version v1.0 is supported.", hv);
	if (!ret)
		ret = hb_text(o, "runtimeId", strict, type, sizeof(type));
	if (!ret && (*type || strict)) {
		size_t n = strlen(type);

		if (n != 36)
			ret = model_fail(-EINVAL, "runtime ID must be a valid"
					" UUID (36 characters)");
		for (size_t i = 0; !ret && i < n; i++)
			if (!strchr("0123456789abcdefABCDEF-", type[i]))
				ret = model_fail(-EINVAL, "runtime ID must be"
						" a valid UUID (36 of 0-9,"
						" a-f, A-F and -)");
		if (!ret)
			memcpy(hb->runtime_id, type, 37);
	}
	/* through the mount, a body with a secret and no runtimeType is a
	 * DeltaHeartbeat */
	if (!ret && mount && !hb->service_account &&
	    !cJSON_GetObjectItemCaseSensitive(o, "runtimeType") &&
	    cJSON_GetObjectItemCaseSensitive(o, "runtimeHash"))
		flags |= HB_DELTA;
	if (!ret && (flags & HB_DELTA)) {
		hb->delta = 1;
		if (!*hb->runtime_id)
			ret = model_fail(-EINVAL, "heartbeat: missing field"
					" 'runtimeId'");
		if (!ret)
			ret = hb_text(o, "runtimeHash", 1, hb->hash,
					sizeof(hb->hash));
		if (!ret)
			ret = hb_timestamp(o, strict);
		goto out;
	}
	if (!ret)
		ret = hb_text(o, "runtime", hb->service_account,
				hb->runtime, sizeof(hb->runtime));
	if (!ret && strlen(hb->runtime) > HB_NAME_MAX)
		ret = model_fail(-EINVAL, "runtime name cannot exceed %d"
				" characters", HB_NAME_MAX);
	if (!ret && mount && !*hb->runtime_id && !*hb->runtime)
		ret = model_fail(-EINVAL, "heartbeat: missing field"
				" 'runtimeId' (or 'runtime')");
	if (ret)
		goto out;
	/* from here on, what ICP's payload binding refuses: acknowledged
	 * false with a 201 */
	*http = 201;
	ret = hb_text(o, "runtimeType", !hb->service_account, type,
			sizeof(type));
	if (!ret) {
		snprintf(hb->raw_type, sizeof(hb->raw_type), "%.15s", type);
		ret = hb_type(type, hb->type);
	}
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
		ret = hb_text(o, "status", strict, type, sizeof(type));
	if (!ret)
		ret = hb_text(o, "runtimeHash", strict, hb->hash,
				sizeof(hb->hash));
	if (!ret)
		ret = hb_timestamp(o, strict);
	info = cJSON_GetObjectItemCaseSensitive(o, "nodeInfo");
	if (!ret && strict && !info)
		ret = model_fail(-EINVAL, "heartbeat: missing field"
				" 'nodeInfo'");
	if (!ret && info && !cJSON_IsNull(info) && !cJSON_IsObject(info))
		ret = model_fail(-EINVAL, "heartbeat: nodeInfo is not an"
				" object");
	if (!ret)
		ret = hb_join(info, "platform", "platformName",
				"platformVersion", NULL, hb->platform);
	if (!ret)
		ret = hb_join(info, "os", "osName", "osVersion", "osArch",
				hb->os);
	v = cJSON_GetObjectItemCaseSensitive(o, "artifacts");
	if (!ret && strict && !v)
		ret = model_fail(-EINVAL, "heartbeat: missing field"
				" 'artifacts'");
	if (!ret)
		ret = hb_count_artifacts(v, &hb->artifacts);
	if (!ret && hb->artifacts)
		ret = model_artifacts_parse(v, &hb->arts);
	if (!ret)
		ret = model_name_check("environment", hb->env) ?
			model_fail(-EINVAL, "invalid environment configuration"
					" detected: %.64s", hb->env) : 0;
	if (ret)
		goto out;
	/* what ICP answers 400 again: names toHandler() cannot make */
	*http = 400;
	if (!hb->service_account) {
		ret = model_handle("project", hb->project, hb->project_h);
		if (!ret)
			ret = model_handle("component", hb->component,
					hb->component_h);
		if (!ret && (strlen(hb->project) >= MODEL_TEXT_MAX ||
				strlen(hb->component) >= MODEL_TEXT_MAX))
			ret = model_fail(-EINVAL, "heartbeat: a project or"
					" component name is longer than %d"
					" bytes", MODEL_TEXT_MAX - 1);
	} else {
		ret = model_name_check("runtime", hb->runtime);
	}
	if (!ret && !hb->service_account) {
		if (*hb->runtime_id)
			hb_pick_name(hb);
		else
			ret = model_name_check("runtime", hb->runtime);
	}
	/* kept as reported, but for what is kept apart or is secret */
	if (!ret) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "secret");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "serviceAccount");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "artifacts");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "timestamp");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "runtimeHash");
		if (!(hb->reported = cJSON_PrintUnformatted(o)))
			ret = model_fail(-ENOMEM, "heartbeat: out of memory");
	}
out:
	cJSON_Delete(o);
	if (ret) {
		sodium_memzero(hb->cred, sizeof(hb->cred));
		model_artifacts_release(&hb->arts);
	} else
		*http = 0;
	return ret;
}

static void hb_release(struct hb *hb)
{
	sodium_memzero(hb->cred, sizeof(hb->cred));
	cJSON_free(hb->reported);
	hb->reported = NULL;
	model_artifacts_release(&hb->arts);
}

/* The project and integration a secret binds to, made if missing (of
 * the runtime's type, with the name the heartbeat gave as their display
 * name); inside the transaction. */
static int hb_integration(struct model *m, const struct hb *hb,
		int64_t now, struct store_integration *in)
{
	struct store_project p;
	int ret = store_project_get(m->store, hb->project_h, &p);

	if (ret == -ENOENT &&
	    !(ret = store_project_insert(m->store, hb->project_h, now)) &&
	    !(ret = store_project_get(m->store, hb->project_h, &p)) &&
	    !(ret = store_project_set_display(m->store, p.id, hb->project)))
		ret = model_event(m, "project.created",
				AT_PROJECT(hb->project_h), now, NULL, NULL);
	if (!ret && (ret = store_integration_get(m->store, p.id,
			hb->component_h, in)) == -ENOENT &&
	    !(ret = store_integration_insert(m->store, p.id, hb->component_h,
			hb->type, now)) &&
	    !(ret = store_integration_get(m->store, p.id, hb->component_h,
			in)) &&
	    !(ret = store_integration_set_display(m->store, in->id,
			hb->component)))
		ret = model_event(m, "integration.created",
				AT_INTEGRATION(hb->project_h, hb->component_h),
				now, NULL, "\"type\":\"%s\"", hb->type);
	return ret ? model_fail_store(ret) : 0;
}

/* Tells the watcher what a committed heartbeat changed of runtime `rt`,
 * which was `cur` before (cur->id 0: it is new); `gone` (or NULL) is an
 * OFFLINE runtime of that name it replaced. */
static void hb_note(struct model *m, const struct store_runtime *cur,
		struct store_runtime *rt, int reassign,
		const struct store_secret *bind, const struct store_runtime *gone,
		int reported, int artifacts)
{
	unsigned what = MODEL_RT_HEARD;

	if (gone) {
		model_note_runtime(m, gone, MODEL_RT_GONE, NULL);
		model_note_views(m, gone, gone->name);
	}
	if (!cur->id)
		what |= MODEL_RT_MADE;
	if (rt->info_ns != cur->info_ns || reported)
		what |= MODEL_RT_INFO;
	if (artifacts)
		what |= MODEL_RT_ARTIFACTS;
	if (rt->running_ns != cur->running_ns ||
	    rt->revoked_ns != cur->revoked_ns)
		what |= MODEL_RT_STATUS;
	if (reassign)
		what |= MODEL_RT_ASSIGNED;
	if (strcmp(rt->key_id, cur->key_id) || bind)
		what |= MODEL_RT_SECRET | MODEL_RT_STATUS;
	model_note_runtime(m, rt, what, NULL);
	if (!cur->id)
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_MEMBERS, rt->env, NULL,
				NULL, NULL);
	/* the project and integration may be new; a move takes its links
	 * out of the old integration's views */
	if (reassign) {
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_MADE |
				MODEL_OBJ_MEMBERS, rt->project, NULL, NULL,
				NULL);
		if (cur->id)
			model_note_views(m, cur, cur->name);
		model_note_views(m, rt, NULL);
	}
	/* its secret is bound now, no longer listed */
	if (bind)
		model_note_secrets(m, rt->env, bind->project,
				bind->integration, bind->name);
}

/* What a heartbeat changes, prepared before the transaction. */
struct hb_change {
	struct store_runtime cur;        /* as it was; id 0: a new one */
	struct store_runtime next;       /* as it will be */
	const struct store_secret *bind; /* a secret to bind, or NULL */
	struct store_integration in;     /* the secret's integration */
	int make_integration;            /* in.id 0: make it first */
	struct store_runtime gone;       /* id: an OFFLINE one it replaces */
	const char *reported;            /* what to store, or NULL: as is */
	struct model_artifact_set *arts; /* artifacts to store, or NULL */
	int reassign;
	int64_t sent[MODEL_COMMANDS_MAX]; /* queued commands delivered */
	int nsent;
	int committed;             /* hb_apply() wrote a change */
};

/* Writes a state change in one transaction: a new runtime (next.id 0)
 * is inserted and gets its service account, a known one takes what it
 * reported; a secret is bound, an integration made, an OFFLINE
 * predecessor of the same name removed, as `c` says. */
/* The event log's lines of a heartbeat's change. */
static int hb_events(struct model *m, const struct hb_change *c)
{
	const struct store_runtime *rt = &c->next, *cur = &c->cur;
	int64_t since;
	int ret = 0;

	if (c->gone.id && !(ret = model_event_expired(m, &c->gone)))
		ret = model_event(m, "runtime.deleted", AT_RUNTIME(&c->gone),
				0, NULL, "\"replaced\":true");
	if (!ret && !cur->id)
		return model_event(m, "runtime.registered", AT_RUNTIME(rt), 0,
				NULL, "\"type\":\"%s\",\"project\":\"%s\","
				"\"integration\":\"%s\",\"status\":\"%s\"",
				rt->type, rt->project, rt->integration,
				model_runtime_status(rt, model_now(m),
					m->cfg.offline_after_ns, &since));
	/* the moment it went OFFLINE first, if nobody has said it yet */
	if (!ret)
		ret = model_event_expired(m, cur);
	if (!ret && c->reassign)
		ret = model_event(m, "runtime.assigned", AT_RUNTIME(rt), 0,
				NULL, "\"project\":\"%s\",\"integration\":"
				"\"%s\"", rt->project, rt->integration);
	if (!ret)
		ret = model_event_status(m, cur, rt);
	return ret;
}

static int hb_commit(struct model *m, struct hb_change *c, const struct hb *hb,
		int64_t now)
{
	struct store_runtime *rt = &c->next;
	int ret = store_begin(m->store);

	if (ret)
		return model_fail_store(ret);
	m->changing = 1;
	if (c->make_integration) {
		ret = hb_integration(m, hb, now, &c->in);
		rt->integration_id = c->in.id;
		snprintf(rt->project, sizeof(rt->project), "%s",
				c->in.project);
		snprintf(rt->integration, sizeof(rt->integration), "%s",
				c->in.name);
	}
	if (!ret && c->gone.id &&
	    (ret = store_runtime_delete(m->store, c->gone.id)))
		ret = model_fail_store(ret);
	if (!ret && !rt->id) {
		ret = store_runtime_insert(m->store, rt);
		if (ret)
			ret = model_fail_store(ret);
		else
			ret = model_service_account_create(m, rt->id);
	} else if (!ret && (ret = store_runtime_report(m->store, rt))) {
		ret = model_fail_store(ret);
	}
	if (!ret && c->reported &&
	    (ret = store_runtime_set_reported(m->store, rt->id, c->reported,
			now)))
		ret = model_fail_store(ret);
	/* the set it reported, replaced whole (processHeartbeat()) */
	if (!ret && c->arts)
		ret = model_artifacts_store(m, rt->id, c->arts, now);
	if (!ret && c->bind &&
	    (ret = store_secret_bind(m->store, c->bind->id, c->in.id,
			hb->type, now)))
		ret = model_fail_store(ret);
	/* delivered as ICP delivers them: PENDING in the reply, SENT here */
	for (int i = 0; !ret && i < c->nsent; i++)
		if ((ret = store_command_set_status(m->store, c->sent[i],
				"SENT", now)))
			ret = model_fail_store(ret);
	if (!ret)
		ret = hb_events(m, c);
	/* through the mount: whoever wrote it; over ICP's API: the runtime */
	if (!ret)
		ret = model_audit_change(m, "heartbeat", AT_RUNTIME(rt));
	model_audit_forget(m);
	/* what changed goes to the other hosts with the COMMIT, as
	 * model_end() sends a change's, not in a round trip after it */
	if (!ret) {
		hb_note(m, &c->cur, rt, c->reassign, c->bind,
				c->gone.id ? &c->gone : NULL,
				c->reported != NULL, c->arts != NULL);
		ret = model_feed_change(m);
	}
	if (!ret && (ret = store_commit(m->store)))
		ret = model_fail_store(ret);
	else if (ret)
		store_rollback(m->store);
	else
		model_forget_committed(m);
	model_events_settle(m, !ret);
	m->changing = 0;
	if (ret) {
		model_discard(m);
		return ret;
	}
	c->committed = 1;
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

/* The commands an agent runtime's desired state gives it, in the shape
 * of ICP's ControlCommand objects (agent runtimes are not ICP's: their
 * start and stop are runtimefs's own): STOP while it should stop, START
 * on the first heartbeat after a start.  Integration runtimes get the
 * commands queued for them instead (hb_queued()). */
static void hb_commands(const struct store_runtime *cur,
		struct model_heartbeat_reply *out)
{
	struct model_command *c;
	const char *action = NULL;

	if (!cur->id)
		return;
	if (!strcmp(cur->desired, "stop"))
		action = "STOP";
	else if (!cur->running_ns)
		action = "START";
	if (!action || out->ncommands >= MODEL_COMMANDS_MAX ||
	    strcmp(cur->type, "agent"))
		return;
	c = &out->commands[out->ncommands++];
	model_uuid(c->id);
	memcpy(c->runtime_id, cur->uuid, sizeof(c->runtime_id));
	snprintf(c->target, sizeof(c->target), "%s", cur->name);
	snprintf(c->action, sizeof(c->action), "%s", action);
	c->issued_ns = cur->desired_ns;
	snprintf(c->status, sizeof(c->status), "PENDING");
}

struct hb_queued {
	struct hb_change *c;
	struct model_heartbeat_reply *out;
};

static int hb_queued_each(void *ctx, const struct store_command *q)
{
	struct hb_queued *w = ctx;
	struct model_command *c;

	if (w->out->ncommands >= MODEL_COMMANDS_MAX)
		return 0;
	c = &w->out->commands[w->out->ncommands++];
	memcpy(c->id, q->uuid, sizeof(c->id));
	memcpy(c->runtime_id, q->runtime_uuid, sizeof(c->runtime_id));
	snprintf(c->target, sizeof(c->target), "%s", q->target);
	snprintf(c->action, sizeof(c->action), "%s", q->action);
	c->issued_ns = q->issued_ns;
	snprintf(c->status, sizeof(c->status), "%s", q->status);
	w->c->sent[w->c->nsent++] = q->id;
	return 0;
}

/* The commands queued for the runtime (ctl), PENDING ones, oldest
 * first, as many as a reply holds. */
static int hb_queued(struct model *m, struct hb_change *c,
		struct model_heartbeat_reply *out)
{
	struct hb_queued w = { c, out };
	int ret;

	if (!c->cur.id || out->ncommands >= MODEL_COMMANDS_MAX)
		return 0;
	ret = store_command_list(m->store, c->cur.id, "PENDING",
			(size_t)(MODEL_COMMANDS_MAX - out->ncommands),
			hb_queued_each, &w);
	return ret ? model_fail_store(ret) : 0;
}

/* Applies an authenticated heartbeat, full or delta, to the runtime
 * `c->cur` (id 0: a new one, in c->next already): the change in one
 * transaction, or only its time, batched. */
static int hb_apply(struct model *m, const struct hb *hb, struct hb_change *c,
		struct model_heartbeat_reply *out)
{
	int64_t now = model_now(m), off = m->cfg.offline_after_ns;
	const struct store_runtime *cur = &c->cur;
	struct store_runtime *next = &c->next;
	int live = cur->heartbeat_ns > 0 && now <= cur->heartbeat_ns + off &&
		!cur->revoked_ns;
	int change = !cur->id || c->bind || c->make_integration ||
		c->reassign || c->reported || c->gone.id || c->arts;
	int ret;

	hb_commands(cur, out);
	if ((ret = hb_queued(m, c, out)))
		return ret;
	if (c->nsent)
		change = 1;
	if (!hb->delta) {
		if (hb_take(next->runtime_version, hb->version) |
		    hb_take(next->platform, hb->platform) |
		    hb_take(next->os, hb->os)) {
			next->info_ns = now;
			change = 1;
		}
		if (strcmp(next->hash, hb->hash)) {
			snprintf(next->hash, sizeof(next->hash), "%s",
					hb->hash);
			change = 1;
		}
	}
	if (strcmp(next->key_id, cur->key_id) || (next->revoked_ns &&
			!hb->service_account)) {
		next->revoked_ns = 0;
		change = 1;
	}
	if (!strcmp(next->desired, "run") && (!next->running_ns || !live)) {
		next->running_ns = now;
		change = 1;
	}
	if (now > next->heartbeat_ns)
		next->heartbeat_ns = now;
	if (change) {
		ret = hb_commit(m, c, hb, now);
	} else {
		ret = model_liveness_note(m, cur, now);
		if (!ret)
			model_note_runtime(m, cur, MODEL_RT_HEARD, NULL);
	}
	if (!ret)
		memcpy(out->runtime_id, next->uuid, sizeof(out->runtime_id));
	return ret;
}

/* Refuses with ICP's status code `http` for the listener. */
static int hb_refuse(struct model_heartbeat_reply *out, int http, int err,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int hb_refuse(struct model_heartbeat_reply *out, int http, int err,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->http = http;
	return model_fail(err, "%s", msg);
}

/* The secret of a heartbeat: by its key id, which the caller
 * authenticated (ICP's API: unknown or revoked is ICP's 400, "Unknown
 * key ID"), or by the credential in the body (the mount: it must open
 * and match, and an unknown key id and wrong bytes are told apart
 * neither by the answer nor by the time it takes: the same unseal and
 * compare run on a row that cannot open). */
static int hb_key(struct model *m, const struct hb *hb, const char *key_id,
		struct store_secret *sec, struct model_heartbeat_reply *out)
{
	unsigned char raw[MODEL_SECRET_BYTES], want[MODEL_SECRET_BYTES];
	char kid[MODEL_KEY_ID_LEN];
	int ret, found;

	if (key_id) {
		/* kept when the listener's token check opened it (keys.c) */
		if (model_keys_row(m, key_id, sec))
			return 0;
		ret = store_secret_get_key(m->store, key_id, sec);
		if (ret == -ENOENT)
			return hb_refuse(out, 400, -EACCES, "unknown key ID"
					" '%.8s'", key_id);
		return ret ? model_fail_store(ret) : 0;
	}
	ret = model_secret_parse(hb->cred, kid, raw);
	if (ret) {
		out->http = 400;
		return ret;
	}
	ret = store_secret_get_key(m->store, kid, sec);
	if (ret && ret != -ENOENT)
		return model_fail_store(ret);
	found = !ret;
	if (!found) {
		memset(sec, 0, sizeof(*sec));
		sec->sealed_len = MODEL_SEAL_OVERHEAD + 8 + MODEL_SECRET_BYTES;
		memcpy(sec->key_id, kid, sizeof(sec->key_id));
	}
	ret = model_secret_open(m, sec, want);
	if (ret || !found || sodium_memcmp(raw, want, sizeof(raw)))
		ret = hb_refuse(out, 400, -EACCES, "heartbeat: secret %s is"
				" unknown, revoked or does not match", kid);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(want, sizeof(want));
	return ret;
}

/* A full heartbeat with secret `sec`: environment, binding, identity,
 * then what it reports (runtime_service.bal, post heartbeat). */
static int hb_full(struct model *m, struct hb *hb,
		const struct store_secret *sec,
		struct model_heartbeat_reply *out)
{
	int64_t now = model_now(m), off = m->cfg.offline_after_ns;
	struct hb_change c;
	struct store_env e;
	char *stored = NULL;
	int ret, found;

	memset(&c, 0, sizeof(c));
	if (strcmp(sec->env, hb->env)) {
		ret = store_env_get(m->store, hb->env, &e);
		if (ret && ret != -ENOENT)
			return model_fail_store(ret);
		/* ICP's words (runtime_service.bal) for an environment
		 * that exists; one that does not is its `on fail`: 201 */
		if (!ret)
			return hb_refuse(out, 409, -EACCES, "Environment"
					" mismatch: key ID '%s' is bound to a"
					" different environment", sec->key_id);
		return hb_refuse(out, 201, -EACCES, "heartbeat: no"
				" environment '%s' (secret %s belongs to"
				" environment '%s')", hb->env, sec->key_id,
				sec->env);
	}
	/* the binding: a bound secret keeps its integration whatever the
	 * heartbeat names (ICP logs the mismatch and goes on), a scoped one
	 * is bound to its own, an unbound one binds to what it names */
	if (sec->bound_ns) {
		if (strcmp(sec->runtime_type, hb->type))
			return hb_refuse(out, 409, -EACCES, "Runtime type"
					" mismatch: key ID '%s' is bound to"
					" %s, not %s", sec->key_id,
					*sec->runtime_type == 'M' ? "MI" :
					"BI", hb->raw_type);
		c.in.id = sec->integration_id;
		snprintf(c.in.project, sizeof(c.in.project), "%s",
				sec->project);
		snprintf(c.in.name, sizeof(c.in.name), "%s",
				sec->integration);
	} else if (sec->integration_id) {
		if ((ret = model_integration_row(m, sec->project,
				sec->integration, &c.in)))
			return ret;
		if (strcmp(c.in.type, hb->type))
			return hb_refuse(out, 409, -EACCES, "runtime type"
					" mismatch: key ID '%s' is for"
					" integration '%s' of type %s, not"
					" %s", sec->key_id, sec->integration,
					c.in.type, hb->raw_type);
		c.bind = sec;
	} else {
		c.bind = sec;
		c.make_integration = 1;
	}
	/* identity: the runtimeId, or through the mount without one, the
	 * runtime of that name */
	if (*hb->runtime_id)
		ret = store_runtime_get_uuid(m->store, hb->runtime_id, &c.cur);
	else
		ret = store_runtime_get(m->store, sec->env_id, hb->runtime,
				&c.cur);
	if (ret && ret != -ENOENT)
		return model_fail_store(ret);
	found = !ret;
	if (found) {
		model_liveness_overlay(m, &c.cur);
		if (c.cur.env_id != sec->env_id)
			return hb_refuse(out, 409, -EEXIST, "runtime %s is"
					" registered in environment '%s'",
					c.cur.uuid, c.cur.env);
		if (!strcmp(c.cur.type, "agent"))
			return hb_refuse(out, 409, -EEXIST, "heartbeat:"
					" runtime '%s' already exists in"
					" environment '%s'", c.cur.name,
					c.cur.env);
		if (strcmp(c.cur.type, hb->type))
			return hb_refuse(out, 409, -EEXIST, "heartbeat:"
					" runtime '%s' is of type %s, not %s",
					c.cur.name, c.cur.type, hb->type);
	} else {
		struct store_runtime other;
		int tries = 0, free_name = !*hb->runtime_id;

		memset(&c.cur, 0, sizeof(c.cur));
		/* a name another runtime holds: an OFFLINE one of the same
		 * integration is replaced (it restarted with a new
		 * runtimeId), else the runtimeId is the name; without a
		 * runtimeId the name was looked up just now */
		for (;;) {
			ret = free_name ? -ENOENT : store_runtime_get(
					m->store, sec->env_id, hb->runtime,
					&other);
			if (ret == -ENOENT)
				break;
			if (ret)
				return model_fail_store(ret);
			model_liveness_overlay(m, &other);
			if (strcmp(other.type, "agent") && (!c.in.id ||
				other.integration_id == c.in.id) &&
			    !c.make_integration &&
			    (other.revoked_ns || other.heartbeat_ns == 0 ||
			     now > other.heartbeat_ns + off)) {
				c.gone = other;
				break;
			}
			if (tries++ || !*hb->runtime_id ||
			    !strcmp(hb->runtime, hb->runtime_id))
				return hb_refuse(out, 409, -EEXIST,
						"heartbeat: runtime '%s'"
						" already exists in"
						" environment '%s'",
						hb->runtime, hb->env);
			snprintf(hb->runtime, sizeof(hb->runtime), "%s",
					hb->runtime_id);
		}
	}
	c.next = c.cur;
	if (!found) {
		if (*hb->runtime_id)
			memcpy(c.next.uuid, hb->runtime_id, 37);
		else
			model_uuid(c.next.uuid);
		c.next.env_id = sec->env_id;
		snprintf(c.next.env, sizeof(c.next.env), "%s", sec->env);
		snprintf(c.next.name, sizeof(c.next.name), "%.63s",
				hb->runtime);
		snprintf(c.next.type, sizeof(c.next.type), "%s", hb->type);
		snprintf(c.next.desired, sizeof(c.next.desired), "run");
		c.next.desired_ns = now;
		c.next.registered_ns = now;
		c.next.info_ns = now;
		c.next.assigned_ns = now;
	}
	snprintf(c.next.key_id, sizeof(c.next.key_id), "%s", sec->key_id);
	if (c.make_integration || !found ||
	    c.cur.integration_id != c.in.id) {
		c.reassign = 1;
		c.next.assigned_ns = now;
		c.next.integration_id = c.in.id;
		snprintf(c.next.project, sizeof(c.next.project), "%s",
				c.in.project);
		snprintf(c.next.integration, sizeof(c.next.integration),
				"%s", c.in.name);
	}
	/* what it reported, written when it changed */
	if (found && (ret = store_runtime_get_reported(m->store, c.cur.id,
			&stored)))
		return model_fail_store(ret);
	if (!stored || strcmp(stored, hb->reported))
		c.reported = hb->reported;
	free(stored);
	/* a heartbeat with no artifacts leaves those stored, as ICP skips
	 * its observed-state writes then (processHeartbeat()) */
	if (hb->artifacts && strcmp(c.cur.artifacts_sum, hb->arts.sum))
		c.arts = &hb->arts;
	ret = hb_apply(m, hb, &c, out);
	if (!ret) {
		out->acknowledged = 1;
		/* processHeartbeat(): a heartbeat with no artifacts is
		 * incomplete */
		out->full_required = hb->artifacts == 0;
		out->http = 201;
	}
	return ret;
}

/* A heartbeat of runtime `k`, known to change nothing but its time
 * (known.c), while it is live: its time noted, and 1; else 0, and
 * nothing done. */
static int hb_known_heard(struct model *m, struct model_known *k,
		struct model_heartbeat_reply *out)
{
	int64_t now = model_now(m);
	struct store_runtime rt;

	if (now > k->heartbeat_ns + m->cfg.offline_after_ns)
		return 0;
	memset(&rt, 0, sizeof(rt));
	rt.id = k->id;
	memcpy(rt.uuid, k->uuid, sizeof(rt.uuid));
	memcpy(rt.env, k->env, sizeof(rt.env));
	memcpy(rt.name, k->name, sizeof(rt.name));
	if (model_liveness_note(m, &rt, now))
		return 0;
	model_note_runtime(m, &rt, MODEL_RT_HEARD, NULL);
	if (now > k->heartbeat_ns)
		k->heartbeat_ns = now;
	out->acknowledged = 1;
	out->full_required = 0;
	memcpy(out->runtime_id, rt.uuid, sizeof(out->runtime_id));
	return 1;
}

/* A delta from a runtime known to change nothing but its time, with its
 * right hash, under a key that speaks for it: hb_known_heard(). */
static int hb_delta_known(struct model *m, const struct hb *hb,
		const struct store_secret *sec,
		struct model_heartbeat_reply *out)
{
	struct model_known *k = model_known_get(m, hb->runtime_id);

	if (!k || k->env_id != sec->env_id || !*hb->hash ||
	    k->integration_id != sec->integration_id ||
	    strcmp(k->key_id, sec->key_id) || strcmp(k->hash, hb->hash))
		return 0;
	return hb_known_heard(m, k, out);
}

/* A delta heartbeat with secret `sec` (processDeltaHeartbeat()): the
 * runtime's time moves whatever its hash; a hash that is not the last
 * full heartbeat's, or a runtime unknown here, asks for a full one. */
static int hb_delta(struct model *m, struct hb *hb,
		const struct store_secret *sec,
		struct model_heartbeat_reply *out)
{
	struct hb_change c;
	int ret;

	memset(&c, 0, sizeof(c));
	out->http = 201;
	out->full_required = 1;
	/* an unbound key: nothing to bind with in a delta */
	if (!sec->bound_ns)
		return 0;
	if (hb_delta_known(m, hb, sec, out))
		return 0;
	ret = store_runtime_get_uuid(m->store, hb->runtime_id, &c.cur);
	if (ret == -ENOENT) {
		out->acknowledged = 1;
		return 0;
	}
	if (ret)
		return model_fail_store(ret);
	model_liveness_overlay(m, &c.cur);
	/* a runtime this key does not speak for (another environment or
	 * integration, or it heartbeats with another key) is not touched */
	if (c.cur.env_id != sec->env_id ||
	    c.cur.integration_id != sec->integration_id ||
	    strcmp(c.cur.key_id, sec->key_id)) {
		out->acknowledged = 1;
		return 0;
	}
	c.next = c.cur;
	out->full_required = strcmp(c.cur.hash, hb->hash) != 0 || !*hb->hash;
	/* commands ride on a reply that needs no full heartbeat (ICP
	 * reconciles a delta only then) */
	if (out->full_required)
		out->ncommands = MODEL_COMMANDS_MAX;
	ret = hb_apply(m, hb, &c, out);
	if (out->full_required)
		out->ncommands = 0;
	if (!ret)
		out->acknowledged = 1;
	/* nothing but its time moved, and nothing waits for it: the next
	 * delta is answered from memory */
	if (!ret && !c.committed && !out->full_required && !out->ncommands &&
	    strcmp(c.next.type, "agent") && !strcmp(c.next.desired, "run") &&
	    c.next.running_ns && !c.next.revoked_ns)
		model_known_keep(m, &c.next);
	return ret;
}

/* A heartbeat with a service account: the runtime must exist already. */
static int hb_service_account(struct model *m, struct hb *hb,
		struct model_heartbeat_reply *out)
{
	struct hb_change c;
	struct store_env e;
	struct model_known *k = model_known_get_named(m, hb->env, hb->runtime,
			hb->cred);
	int ret;

	if (k && hb_known_heard(m, k, out)) {
		out->http = 201;
		return 0;
	}
	memset(&c, 0, sizeof(c));
	ret = store_env_get(m->store, hb->env, &e);
	if (!ret)
		ret = store_runtime_get(m->store, e.id, hb->runtime, &c.cur);
	if (ret == -ENOENT)
		return hb_refuse(out, 401, -EACCES, "heartbeat: no runtime"
				" '%s' in environment '%s' for this service"
				" account", hb->runtime, hb->env);
	if (ret)
		return model_fail_store(ret);
	model_liveness_overlay(m, &c.cur);
	ret = model_service_account_verify(m, c.cur.id, hb->cred);
	if (ret) {
		out->http = ret == -EACCES ? 401 : 0;
		return ret;
	}
	c.next = c.cur;
	snprintf(hb->hash, sizeof(hb->hash), "%s", c.cur.hash);
	ret = hb_apply(m, hb, &c, out);
	if (!ret) {
		out->acknowledged = 1;
		out->http = 201;
	}
	/* nothing but its time moved, and nothing waits for it: the next
	 * one with this service account is answered from memory */
	if (!ret && !c.committed && !out->ncommands &&
	    !strcmp(c.next.desired, "run") && c.next.running_ns &&
	    !c.next.revoked_ns)
		model_known_keep_named(m, &c.next, hb->cred);
	return ret;
}

/* Runs one heartbeat under the lock; a transient failure of the store
 * is no refusal of the runtime (ICP's clients stop for good on 400, 401
 * and 409): 503. */
static int hb_run(struct model *m, struct hb *hb, const char *key_id,
		struct model_heartbeat_reply *out)
{
	struct store_secret sec;
	int ret;

	model_lock(m);
	if (hb->service_account) {
		ret = hb_service_account(m, hb, out);
	} else {
		ret = hb_key(m, hb, key_id, &sec, out);
		if (!ret)
			ret = hb->delta ? hb_delta(m, hb, &sec, out) :
				hb_full(m, hb, &sec, out);
		sodium_memzero(&sec, sizeof(sec));
	}
	model_unlock(m);
	if (ret) {
		int http = out->http;

		memset(out, 0, sizeof(*out));
		out->http = http ? http : 503;
	}
	return ret;
}

int model_heartbeat(struct model *m, const char *json, size_t len,
		struct model_heartbeat_reply *out)
{
	struct hb hb;
	int ret, http = 0;

	memset(out, 0, sizeof(*out));
	ret = hb_parse(json, len, HB_MOUNT, &hb, &http);
	if (ret) {
		out->http = http;
		return ret;
	}
	ret = hb_run(m, &hb, NULL, out);
	hb_release(&hb);
	return ret;
}

int model_icp_heartbeat(struct model *m, const char *key_id, int delta,
		const char *json, size_t len, struct model_heartbeat_reply *out)
{
	struct hb hb;
	int ret, http = 0;

	memset(out, 0, sizeof(*out));
	ret = hb_parse(json, len, delta ? HB_DELTA : 0, &hb, &http);
	if (ret) {
		out->http = http;
		/* a delta that fails ICP's own checks asks for a full one */
		if (delta && http == 201)
			out->full_required = 1;
		return ret;
	}
	ret = hb_run(m, &hb, key_id, out);
	hb_release(&hb);
	return ret;
}

/* ICP's WorkflowCommandResult (types.bal), posted to
 * /icp/commandResult: recorded on the command it names when that is a
 * command of a runtime that heartbeats with `key_id` (a key bound
 * elsewhere cannot answer for it), else dropped, as ICP drops a late or
 * foreign one; either way 0 (ICP's 202). */
int model_command_result(struct model *m, const char *key_id,
		const char *json, size_t len)
{
	char id[HB_FIELD_MAX], rid[HB_FIELD_MAX], status[HB_FIELD_MAX];
	struct store_secret sec;
	const cJSON *v;
	char *doc = NULL;
	cJSON *o = NULL;
	int ret, found;

	if (len > MODEL_ICP_BODY_MAX)
		return model_fail(-EINVAL, "longer than %d bytes",
				MODEL_ICP_BODY_MAX);
	ret = model_json_check("command result", json, len, NULL);
	if (ret == MODEL_JSON_MORE)
		ret = model_fail(-EINVAL, "command result: not complete");
	if (!ret && (!(o = cJSON_ParseWithLength(json, len)) ||
			!cJSON_IsObject(o)))
		ret = model_fail(-EINVAL, "command result: not a JSON object");
	if (!ret)
		ret = hb_text(o, "runtimeId", 1, rid, sizeof(rid));
	if (!ret)
		ret = hb_text(o, "commandId", 1, id, sizeof(id));
	if (!ret)
		ret = hb_text(o, "status", 1, status, sizeof(status));
	v = o ? cJSON_GetObjectItemCaseSensitive(o, "httpStatus") : NULL;
	if (!ret && (!v || !cJSON_IsNumber(v)))
		ret = model_fail(-EINVAL, "command result: missing field"
				" 'httpStatus'");
	if (!ret && !cJSON_HasObjectItem(o, "body"))
		ret = model_fail(-EINVAL, "command result: missing field"
				" 'body'");
	if (!ret && strlen(status) >= 16)
		ret = model_fail(-EINVAL, "command result: status '%.20s'"
				" is not one", status);
	if (!ret && !(doc = cJSON_PrintUnformatted(o)))
		ret = model_fail(-ENOMEM, "command result: out of memory");
	cJSON_Delete(o);
	if (ret)
		return ret;
	if ((ret = model_begin(m))) {
		cJSON_free(doc);
		return ret;
	}
	ret = store_secret_get_key(m->store, key_id, &sec);
	if (ret == -ENOENT)
		ret = model_fail(-EACCES, "unknown key ID '%.8s'", key_id);
	else if (ret)
		ret = model_fail_store(ret);
	if (!ret && (ret = store_command_result(m->store, id, key_id, status,
			doc, model_now(m), &found)))
		ret = model_fail_store(ret);
	sodium_memzero(&sec, sizeof(sec));
	cJSON_free(doc);
	return model_end(m, ret);
}
