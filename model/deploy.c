/*
 * deploy.c - the spec of an agent runtime and its immutable versions:
 * checking a spec field by field, deploying version N+1, moving DEFAULT,
 * showing and deleting versions.
 *
 * A version keeps the canonical spec (fields in a fixed order, the image
 * password taken out) as JSON text; the password is sealed apart, so that
 * neither `spec` nor `versions/N` can ever show it.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#define SPEC_TEXT_MAX 1024        /* imageUrl, description, a password */
#define SPEC_ID_MAX 128           /* flavorId, a username */
#define SPEC_ITEM_MAX 4096        /* one command word or argument */
#define SPEC_LIST_MAX 256         /* words, arguments, variables */
#define SPEC_PASSWORD_SEALED (SPEC_TEXT_MAX + MODEL_SEAL_OVERHEAD)

/* What a checked spec gives: the canonical document, and the password
 * when one was written (pointing into the parsed input). */
struct spec {
	cJSON *doc;               /* as written */
	cJSON *canon;             /* checked, fixed order, no password */
	const char *password;     /* NULL when not given */
	int auth_enabled;
};

static void spec_release(struct spec *sp)
{
	cJSON_Delete(sp->doc);
	cJSON_Delete(sp->canon);
	memset(sp, 0, sizeof(*sp));
}

/* Fields of `obj` must be among `known` (NULL-ended) and appear once. */
static int spec_known_fields(const cJSON *obj, const char *where,
		const char *const *known)
{
	const cJSON *f, *g;

	cJSON_ArrayForEach(f, obj) {
		const char *const *k = known;

		while (*k && strcmp(*k, f->string))
			k++;
		if (!*k)
			return model_fail(-EINVAL, "spec: unknown field '%s%s%.64s'",
					where, *where ? "." : "", f->string);
		for (g = f->next; g; g = g->next)
			if (!strcmp(g->string, f->string))
				return model_fail(-EINVAL, "spec: field"
						" '%s%s%s' is given twice",
						where, *where ? "." : "",
						f->string);
	}
	return 0;
}

static const cJSON *spec_field(const cJSON *obj, const char *name,
		const char *full, int *ret)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!f)
		*ret = model_fail(-EINVAL, "spec: field '%s' is missing", full);
	return f;
}

static int spec_string(const cJSON *obj, const char *name, const char *full,
		size_t max, int nonempty, cJSON *canon)
{
	int ret = 0;
	const cJSON *f = spec_field(obj, name, full, &ret);
	size_t len;

	if (!f)
		return ret;
	if (!cJSON_IsString(f))
		return model_fail(-EINVAL, "spec: field '%s' must be a string",
				full);
	len = strlen(f->valuestring);
	if (nonempty && len == 0)
		return model_fail(-EINVAL, "spec: field '%s' is empty", full);
	if (len > max)
		return model_fail(-EINVAL, "spec: field '%s' is %zu bytes"
				" long; at most %zu are allowed", full, len,
				max);
	return cJSON_AddStringToObject(canon, name, f->valuestring) ? 0 :
		model_fail(-ENOMEM, "out of memory");
}

static int spec_strings(const cJSON *obj, const char *name, cJSON *canon)
{
	int ret = 0, i = 0;
	const cJSON *f = spec_field(obj, name, name, &ret), *item;

	if (!f)
		return ret;
	if (!cJSON_IsArray(f))
		return model_fail(-EINVAL, "spec: field '%s' must be an array"
				" of strings", name);
	if (cJSON_GetArraySize(f) > SPEC_LIST_MAX)
		return model_fail(-EINVAL, "spec: field '%s' has more than %d"
				" items", name, SPEC_LIST_MAX);
	cJSON_ArrayForEach(item, f) {
		if (!cJSON_IsString(item))
			return model_fail(-EINVAL, "spec: field '%s[%d]' must"
					" be a string", name, i);
		if (strlen(item->valuestring) > SPEC_ITEM_MAX)
			return model_fail(-EINVAL, "spec: field '%s[%d]' is"
					" longer than %d bytes", name, i,
					SPEC_ITEM_MAX);
		i++;
	}
	return cJSON_AddItemToObject(canon, name, cJSON_Duplicate(f, 1)) ?
		0 : model_fail(-ENOMEM, "out of memory");
}

static int spec_env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int spec_env_vars(const cJSON *obj, cJSON *canon)
{
	const char *name = "environmentVariables";
	int ret = 0;
	const cJSON *f = spec_field(obj, name, name, &ret), *v, *w;

	if (!f)
		return ret;
	if (!cJSON_IsObject(f))
		return model_fail(-EINVAL, "spec: field '%s' must be an object"
				" of NAME: \"value\" strings", name);
	if (cJSON_GetArraySize(f) > SPEC_LIST_MAX)
		return model_fail(-EINVAL, "spec: field '%s' has more than %d"
				" variables", name, SPEC_LIST_MAX);
	cJSON_ArrayForEach(v, f) {
		if (strlen(v->string) > SPEC_ID_MAX ||
		    !spec_env_name_ok(v->string))
			return model_fail(-EINVAL, "spec: field '%s.%.64s' is"
					" not a variable name ([A-Za-z_]"
					"[A-Za-z0-9_]*)", name, v->string);
		if (!cJSON_IsString(v))
			return model_fail(-EINVAL, "spec: field '%s.%s' must"
					" be a string", name, v->string);
		if (strlen(v->valuestring) > SPEC_ITEM_MAX)
			return model_fail(-EINVAL, "spec: field '%s.%s' is"
					" longer than %d bytes", name,
					v->string, SPEC_ITEM_MAX);
		for (w = v->next; w; w = w->next)
			if (!strcmp(w->string, v->string))
				return model_fail(-EINVAL, "spec: field"
						" '%s.%s' is given twice",
						name, v->string);
	}
	return cJSON_AddItemToObject(canon, name, cJSON_Duplicate(f, 1)) ?
		0 : model_fail(-ENOMEM, "out of memory");
}

/* An integer field within lo..hi; its value in *out. */
static int spec_int(const cJSON *obj, const char *name, int lo, int hi,
		int *out)
{
	char full[64];
	int ret = 0;
	const cJSON *f;

	snprintf(full, sizeof(full), "autoscaling.%s", name);
	f = spec_field(obj, name, full, &ret);
	if (!f)
		return ret;
	/* the range first: casting inf (1e400) to an integer is undefined */
	if (!cJSON_IsNumber(f) || !(f->valuedouble >= -1e9 &&
			f->valuedouble <= 1e9) ||
	    f->valuedouble != (double)(long long)f->valuedouble)
		return model_fail(-EINVAL, "spec: field '%s' must be an"
				" integer", full);
	*out = (int)f->valuedouble;
	if (*out < lo || *out > hi)
		return model_fail(-EINVAL, "spec: field '%s' is %d; it must be"
				" %d to %d", full, *out, lo, hi);
	return 0;
}

static int spec_autoscaling(const cJSON *obj, cJSON *canon)
{
	static const char *const known[] = { "minReplicas", "maxReplicas",
		"cpuUtilization", "memoryUtilization", NULL };
	int ret = 0, min = 0, max = 0, cpu = 0, mem = 0;
	const cJSON *f = spec_field(obj, "autoscaling", "autoscaling", &ret);
	cJSON *a;

	if (!f)
		return ret;
	if (!cJSON_IsObject(f))
		return model_fail(-EINVAL, "spec: field 'autoscaling' must be"
				" an object");
	if ((ret = spec_known_fields(f, "autoscaling", known)) ||
	    (ret = spec_int(f, "minReplicas", 1, 10, &min)) ||
	    (ret = spec_int(f, "maxReplicas", 1, 10, &max)) ||
	    (ret = spec_int(f, "cpuUtilization", 1, 100, &cpu)) ||
	    (ret = spec_int(f, "memoryUtilization", 1, 100, &mem)))
		return ret;
	if (max < min)
		return model_fail(-EINVAL, "spec: field"
				" 'autoscaling.maxReplicas' is %d, less than"
				" autoscaling.minReplicas (%d)", max, min);
	a = cJSON_AddObjectToObject(canon, "autoscaling");
	if (!a || !cJSON_AddNumberToObject(a, "minReplicas", min) ||
	    !cJSON_AddNumberToObject(a, "maxReplicas", max) ||
	    !cJSON_AddNumberToObject(a, "cpuUtilization", cpu) ||
	    !cJSON_AddNumberToObject(a, "memoryUtilization", mem))
		return model_fail(-ENOMEM, "out of memory");
	return 0;
}

/* imageAuth is optional; its password, when given, is kept out of the
 * canonical spec.  Without one, an enabled imageAuth keeps the password
 * of the latest version (so that editing `spec`, which never shows it,
 * works), which the caller checks. */
static int spec_image_auth(const cJSON *obj, struct spec *sp)
{
	static const char *const known[] = { "enabled", "username",
		"password", NULL };
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, "imageAuth");
	const cJSON *en, *user, *pw;
	cJSON *a;
	int ret;

	if (!f)
		return 0;
	if (!cJSON_IsObject(f))
		return model_fail(-EINVAL, "spec: field 'imageAuth' must be an"
				" object");
	if ((ret = spec_known_fields(f, "imageAuth", known)))
		return ret;
	en = spec_field(f, "enabled", "imageAuth.enabled", &ret);
	if (!en)
		return ret;
	if (!cJSON_IsBool(en))
		return model_fail(-EINVAL, "spec: field 'imageAuth.enabled'"
				" must be true or false");
	sp->auth_enabled = cJSON_IsTrue(en);
	user = cJSON_GetObjectItemCaseSensitive(f, "username");
	pw = cJSON_GetObjectItemCaseSensitive(f, "password");
	if (user && (!cJSON_IsString(user) ||
			strlen(user->valuestring) > SPEC_ID_MAX))
		return model_fail(-EINVAL, "spec: field 'imageAuth.username'"
				" must be a string of at most %d bytes",
				SPEC_ID_MAX);
	if (pw && (!cJSON_IsString(pw) ||
			strlen(pw->valuestring) > SPEC_TEXT_MAX))
		return model_fail(-EINVAL, "spec: field 'imageAuth.password'"
				" must be a string of at most %d bytes",
				SPEC_TEXT_MAX);
	if (sp->auth_enabled && (!user || !*user->valuestring))
		return model_fail(-EINVAL, "spec: field 'imageAuth.username'"
				" is missing or empty");
	if (sp->auth_enabled && pw && !*pw->valuestring)
		return model_fail(-EINVAL, "spec: field 'imageAuth.password'"
				" is empty");
	sp->password = sp->auth_enabled && pw ? pw->valuestring : NULL;
	a = cJSON_AddObjectToObject(sp->canon, "imageAuth");
	if (!a || !cJSON_AddBoolToObject(a, "enabled", sp->auth_enabled) ||
	    !cJSON_AddStringToObject(a, "username",
			user ? user->valuestring : ""))
		return model_fail(-ENOMEM, "out of memory");
	return 0;
}

/* Parses and checks a spec document of `len` bytes into `sp`. */
static int spec_parse(const char *text, size_t len, struct spec *sp)
{
	/* versions/N fields, accepted so that a version can be written back
	 * as a spec, and ignored */
	static const char *const known[] = { "imageUrl", "flavorId",
		"command", "args", "environmentVariables", "autoscaling",
		"description", "imageAuth", "agentRuntimeId", "version",
		"createdAt", NULL };
	const char *end = NULL;
	int ret;

	memset(sp, 0, sizeof(*sp));
	if (len > MODEL_SPEC_MAX)
		return model_fail(-EFBIG, "spec: at most %d bytes",
				MODEL_SPEC_MAX);
	/* what cJSON would cut short or take in silence: \u0000, invalid
	 * UTF-8 */
	ret = model_json_check("spec", text, len, NULL);
	if (ret == MODEL_JSON_MORE)
		return model_fail(-EINVAL, "spec: not valid JSON: the object"
				" ends before it is complete (%zu bytes)", len);
	if (ret)
		return ret;
	sp->doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!sp->doc) {
		end = cJSON_GetErrorPtr();
		return model_fail(-EINVAL, "spec: not valid JSON (at byte"
				" %td)", end && end >= text &&
				end <= text + len ? end - text + 1 : 0);
	}
	while (end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (end < text + len)
		return model_fail(-EINVAL, "spec: more after the JSON"
				" document (at byte %td)", end - text + 1);
	if (!cJSON_IsObject(sp->doc))
		return model_fail(-EINVAL, "spec: must be a JSON object");
	sp->canon = cJSON_CreateObject();
	if (!sp->canon)
		return model_fail(-ENOMEM, "out of memory");
	if ((ret = spec_known_fields(sp->doc, "", known)) ||
	    (ret = spec_string(sp->doc, "imageUrl", "imageUrl",
			SPEC_TEXT_MAX, 1, sp->canon)) ||
	    (ret = spec_string(sp->doc, "flavorId", "flavorId", SPEC_ID_MAX,
			1, sp->canon)) ||
	    (ret = spec_strings(sp->doc, "command", sp->canon)) ||
	    (ret = spec_strings(sp->doc, "args", sp->canon)) ||
	    (ret = spec_env_vars(sp->doc, sp->canon)) ||
	    (ret = spec_autoscaling(sp->doc, sp->canon)) ||
	    (ret = spec_string(sp->doc, "description", "description",
			SPEC_TEXT_MAX, 0, sp->canon)) ||
	    (ret = spec_image_auth(sp->doc, sp)))
		return ret;
	return 0;
}

int model_spec_canonical(const char *text, size_t len, char **out)
{
	struct spec sp;
	int ret = spec_parse(text, len, &sp);

	*out = NULL;
	if (!ret && !(*out = cJSON_PrintUnformatted(sp.canon)))
		ret = model_fail(-ENOMEM, "out of memory");
	spec_release(&sp);
	return ret;
}

/* The runtime, which must be an agent runtime, for a change of its spec
 * or versions. */
static int agent_row(struct model *m, const char *env, const char *name,
		struct store_runtime *rt)
{
	int ret = model_runtime_row(m, env, name, rt);

	if (!ret && strcmp(rt->type, "agent"))
		return model_fail(-EPERM, "runtime '%s' is of type %s: only"
				" agent runtimes have a spec and versions",
				name, rt->type);
	return ret;
}

/* Seals the password of the new version into `v`, or carries over that
 * of `prev`. */
static int deploy_password(struct model *m, const struct spec *sp,
		const struct store_version *prev, struct store_version *v)
{
	size_t len;

	if (!sp->auth_enabled)
		return 0;
	if (!sp->password) {
		if (!prev->password)
			return model_fail(-EINVAL, "spec: field"
					" 'imageAuth.password' is missing");
		v->password = prev->password;
		v->password_len = prev->password_len;
		return 0;
	}
	len = strlen(sp->password);
	v->password = malloc(len + MODEL_SEAL_OVERHEAD);
	if (!v->password)
		return model_fail(-ENOMEM, "out of memory");
	return model_seal(m, sp->password, len, v->password,
			len + MODEL_SEAL_OVERHEAD, &v->password_len);
}

/* Points DEFAULT at `version`, creating it on the first deploy. */
static int deploy_move_default(struct model *m,
		const struct store_runtime *rt, int64_t version, int64_t now)
{
	struct store_endpoint e;
	int ret = store_endpoint_get(m->store, rt->id,
			MODEL_DEFAULT_ENDPOINT, &e);

	if (ret == -ENOENT) {
		memset(&e, 0, sizeof(e));
		e.runtime_id = rt->id;
		snprintf(e.name, sizeof(e.name), MODEL_DEFAULT_ENDPOINT);
		model_uuid(e.uuid);
		e.version = version;
		e.created_ns = now;
		e.updated_ns = now;
		if ((ret = store_endpoint_insert(m->store, &e)))
			return model_fail_store(ret);
		return model_event(m, "endpoint.created",
				AT_ENDPOINT(rt, e.name), now, NULL,
				"\"version\":%lld", (long long)version);
	}
	if (ret || (ret = store_endpoint_set_version(m->store, e.id, version,
			now)))
		return model_fail_store(ret);
	return model_event(m, "endpoint.pinned", AT_ENDPOINT(rt, e.name), now,
			NULL, "\"from\":%lld,\"to\":%lld",
			(long long)e.version, (long long)version);
}

int model_deploy(struct model *m, const char *env, const char *name,
		const char *text, size_t len, int64_t *version)
{
	struct store_version prev = { 0 }, v = { 0 };
	struct store_runtime rt;
	struct spec sp;
	char *canon = NULL;
	int64_t now;
	int ret;

	if ((ret = spec_parse(text, len, &sp))) {
		spec_release(&sp);
		return ret;
	}
	canon = cJSON_PrintUnformatted(sp.canon);
	if (!canon) {
		spec_release(&sp);
		return model_fail(-ENOMEM, "out of memory");
	}
	if ((ret = model_begin(m))) {
		spec_release(&sp);
		cJSON_free(canon);
		return ret;
	}
	now = model_now(m);
	ret = agent_row(m, env, name, &rt);
	if (!ret && rt.latest_version &&
	    (ret = store_version_get(m->store, rt.id, rt.latest_version,
			&prev)))
		ret = model_fail_store(ret);
	if (!ret && prev.spec && !strcmp(prev.spec, canon) && !sp.password) {
		/* the same spec again: nothing to deploy */
		if (version)
			*version = rt.latest_version;
		goto out;
	}
	v.runtime_id = rt.id;
	v.number = rt.latest_version + 1;
	v.created_ns = now;
	v.spec = canon;
	if (!ret)
		ret = deploy_password(m, &sp, &prev, &v);
	if (!ret && ((ret = store_version_insert(m->store, &v)) ||
		     (ret = store_runtime_set_latest(m->store, rt.id,
				v.number))))
		ret = model_fail_store(ret);
	/* the first deploy starts the runtime: STARTING from now on */
	if (!ret && !rt.latest_version &&
	    (ret = store_runtime_set_desired(m->store, rt.id, "run", 1, now)))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "version.deployed",
				AT_VERSION(&rt, v.number), now, NULL,
				"\"version\":%lld", (long long)v.number);
	if (!ret)
		ret = deploy_move_default(m, &rt, v.number, now);
	if (!ret && !rt.latest_version) {
		struct store_runtime after = rt;

		after.latest_version = v.number;
		snprintf(after.desired, sizeof(after.desired), "run");
		after.desired_ns = now;
		after.running_ns = 0;
		ret = model_event_status(m, &rt, &after);
	}
	if (!ret && version)
		*version = v.number;
	if (!ret)
		model_note_runtime(m, &rt, MODEL_RT_VERSIONS |
				MODEL_RT_ENDPOINTS | (rt.latest_version ? 0 :
					MODEL_RT_STATUS),
				MODEL_DEFAULT_ENDPOINT);
out:
	if (v.password != prev.password)
		free(v.password);
	store_version_release(&prev);
	ret = model_end(m, ret);
	spec_release(&sp);
	cJSON_free(canon);
	return ret;
}

/* Pretty JSON of `o` with a final newline, malloc'd into *out, indented
 * by two spaces as jq does (cJSON indents with tabs; a tab inside a
 * string is escaped, so every tab in its output is layout). */
int model_json_pretty(cJSON *o, char **out)
{
	char *text = cJSON_Print(o), *w;
	size_t n;

	if (!text)
		return model_fail(-ENOMEM, "out of memory");
	n = strlen(text);
	*out = w = malloc(2 * n + 2);
	for (const char *r = text; w && *r; r++) {
		if (*r != '\t')
			*w++ = *r;
		else if (r > text && r[-1] == ':')
			*w++ = ' ';
		else {
			*w++ = ' ';
			*w++ = ' ';
		}
	}
	if (w) {
		*w++ = '\n';
		*w = '\0';
	}
	cJSON_free(text);
	return *out ? 0 : model_fail(-ENOMEM, "out of memory");
}

/* Version `number` of runtime `runtime_id`, as kept (rows.c) or from the
 * store, under the lock. */
static int version_read(struct model *m, int64_t runtime_id, int64_t number,
		struct store_version *v)
{
	int ret;

	if (model_rows_version(m, runtime_id, number, v))
		return 0;
	if (!(ret = store_version_get(m->store, runtime_id, number, v)))
		model_rows_keep_version(m, v);
	return ret;
}

int model_spec_get(struct model *m, const char *env, const char *name,
		char **out, int64_t *mtime_ns)
{
	struct store_version v = { 0 };
	struct store_runtime rt;
	cJSON *o = NULL;
	int ret;

	*out = NULL;
	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	*mtime_ns = ret ? 0 : rt.registered_ns;
	if (!ret && rt.latest_version &&
	    (ret = version_read(m, rt.id, rt.latest_version, &v)))
		ret = model_fail_store(ret);
	model_unlock(m);
	if (!ret && !v.spec) {
		*out = strdup("");
		ret = *out ? 0 : model_fail(-ENOMEM, "out of memory");
	} else if (!ret) {
		*mtime_ns = v.created_ns;
		o = cJSON_Parse(v.spec);
		ret = o ? model_json_pretty(o, out) :
			model_fail(-EIO, "version %lld of runtime '%s' is"
				" damaged", (long long)v.number, name);
	}
	cJSON_Delete(o);
	store_version_release(&v);
	return ret;
}

int model_version_get(struct model *m, const char *env, const char *name,
		int64_t number, char **out, int64_t *created_ns)
{
	struct store_version v = { 0 };
	struct store_runtime rt;
	char t[MODEL_TIME_MAX];
	cJSON *o = NULL, *spec = NULL, *f;
	int ret;

	*out = NULL;
	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && (ret = version_read(m, rt.id, number, &v)))
		ret = ret == -ENOENT ? model_fail(ret, "runtime '%s' has no"
				" version %lld", name, (long long)number) :
			model_fail_store(ret);
	model_unlock(m);
	if (ret)
		return ret;
	*created_ns = v.created_ns;
	model_time_format(v.created_ns, t);
	spec = cJSON_Parse(v.spec);
	o = cJSON_CreateObject();
	if (!spec || !o || !cJSON_AddStringToObject(o, "agentRuntimeId",
			rt.uuid) ||
	    !cJSON_AddNumberToObject(o, "version", (double)number)) {
		ret = model_fail(-EIO, "version %lld of runtime '%s' is"
				" damaged", (long long)number, name);
		goto out;
	}
	while ((f = spec->child)) {
		cJSON_DetachItemViaPointer(spec, f);
		cJSON_AddItemToObject(o, f->string, f);
	}
	ret = cJSON_AddStringToObject(o, "createdAt", t) ? model_json_pretty(o, out) :
		model_fail(-ENOMEM, "out of memory");
out:
	cJSON_Delete(spec);
	cJSON_Delete(o);
	store_version_release(&v);
	return ret;
}

struct version_walk {
	model_version_cb cb;
	void *ctx;
};

static int version_each(void *ctx, const struct store_version *v)
{
	struct version_walk *w = ctx;

	return w->cb(w->ctx, v->number, v->created_ns);
}

int model_version_list(struct model *m, const char *env, const char *name,
		model_version_cb cb, void *ctx)
{
	struct version_walk w = { cb, ctx };
	struct store_runtime rt;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		ret = store_version_list(m->store, rt.id, version_each, &w);
	model_unlock(m);
	return ret;
}

struct serving {
	int64_t version;
	char name[MODEL_NAME_MAX];
};

static int serving_each(void *ctx, const struct store_endpoint *e)
{
	struct serving *s = ctx;

	if (e->version == s->version && !s->name[0])
		memcpy(s->name, e->name, sizeof(s->name));
	return 0;
}

int model_version_delete(struct model *m, const char *env, const char *name,
		int64_t number)
{
	struct serving s = { number, "" };
	struct store_runtime rt;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = agent_row(m, env, name, &rt);
	if (!ret && number == rt.latest_version)
		ret = model_fail(-EBUSY, "version %lld is the latest of runtime"
				" '%s'", (long long)number, name);
	if (!ret && (ret = store_endpoint_list(m->store, rt.id, serving_each,
			&s)))
		ret = model_fail_store(ret);
	if (!ret && s.name[0])
		ret = model_fail(-EBUSY, "version %lld is served by endpoint"
				" '%s'", (long long)number, s.name);
	if (!ret && (ret = store_version_delete(m->store, rt.id, number)))
		ret = ret == -ENOENT ? model_fail(ret, "runtime '%s' has no"
				" version %lld", name, (long long)number) :
			model_fail_store(ret);
	if (!ret) {
		char number_name[24];

		snprintf(number_name, sizeof(number_name), "%lld",
				(long long)number);
		model_note_runtime(m, &rt, MODEL_RT_VERSIONS |
				MODEL_RT_DROPPED, number_name);
		ret = model_event(m, "version.deleted",
				AT_VERSION(&rt, number), 0, NULL,
				"\"version\":%lld", (long long)number);
	}
	return model_end(m, ret);
}
