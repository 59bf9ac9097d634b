/*
 * artifact.c - what integration runtimes report besides themselves: the
 * artifacts of their full heartbeats, kept as a set replaced whole, the
 * document they reported, and the commands ICP gives a BI runtime's
 * listeners.
 *
 * The kinds are the lists of ICP's Artifacts record
 * (icp_server/modules/types/types.bal): BI reports listeners, services
 * and main (wso2/icp-runtime-bridge ballerina/types.bal), MI the rest
 * (ICPHeartBeatComponent.java collectArtifacts()).  Each has a stable
 * directory name, lower case with '-' between words, as MI's management
 * API names the same resources (/management/proxy-services, ...).  A
 * field of Artifacts ICP does not know is ignored, as ICP ignores it.
 *
 * ICP acts on a BI runtime's listeners by commands in the heartbeat
 * reply, START and STOP with targetArtifact {name} the listener's name
 * without its package (icp_server/modules/sync/reconcile_dispatch.bal,
 * buildBICollector(); types.bal, rawArtifactName()); on an MI runtime's
 * artifacts by calling MI's management API
 * (icp_server/modules/mi_management/mi_management.bal), which runtimefs
 * does not do.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define DIRNAME_CUT 200       /* a file name's bytes before a "~N" */

/* ICP's Artifacts field, the tree's directory, and who can act on it. */
static const struct kind {
	const char *field;
	const char *dir;
	int ctl;
} kinds[] = {
	{ "listeners", "listeners", MODEL_CTL_BI },
	{ "services", "services", 0 },
	{ "main", "main", 0 },
	{ "apis", "apis", MODEL_CTL_MI },
	{ "proxyServices", "proxy-services", MODEL_CTL_MI },
	{ "endpoints", "endpoints", MODEL_CTL_MI },
	{ "inboundEndpoints", "inbound-endpoints", MODEL_CTL_MI },
	{ "sequences", "sequences", MODEL_CTL_MI },
	{ "tasks", "tasks", MODEL_CTL_MI },
	{ "templates", "templates", MODEL_CTL_MI },
	{ "messageStores", "message-stores", MODEL_CTL_MI },
	{ "messageProcessors", "message-processors", MODEL_CTL_MI },
	{ "localEntries", "local-entries", MODEL_CTL_MI },
	{ "dataServices", "data-services", MODEL_CTL_MI },
	{ "carbonApps", "carbon-apps", 0 },
	{ "dataSources", "data-sources", MODEL_CTL_MI },
	{ "connectors", "connectors", 0 },
	{ "registryResources", "registry-resources", 0 },
	{ NULL, NULL, 0 }
};

static const struct kind *kind_by_dir(const char *dir)
{
	for (const struct kind *k = kinds; k->field; k++)
		if (!strcmp(k->dir, dir))
			return k;
	return NULL;
}

int model_artifact_ctl_of(const char *type, const char *kind)
{
	const struct kind *k = kind_by_dir(kind);

	if (!k)
		return 0;
	if (k->ctl == MODEL_CTL_BI && !strcmp(type, "default"))
		return MODEL_CTL_BI;
	if (k->ctl == MODEL_CTL_MI && !strcmp(type, "MI"))
		return MODEL_CTL_MI;
	return 0;
}

int model_artifact_dirname(const char *raw, char out[MODEL_ARTIFACT_NAME_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (!*raw)
		return model_fail(-EINVAL, "an artifact name is empty");
	for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
		int plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			(*c >= '0' && *c <= '9') || *c == '_' ||
			((*c == '.' || *c == '-') && n > 0);

		if (n + (plain ? 1 : 3) > DIRNAME_CUT)
			break;
		if (plain) {
			out[n++] = (char)*c;
		} else {
			out[n++] = '%';
			out[n++] = hex[*c >> 4];
			out[n++] = hex[*c & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* -- a heartbeat's artifacts ------------------------------------------- */

void model_artifacts_release(struct model_artifact_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		cJSON_free((char *)set->items[i].doc);
	free(set->items);
	memset(set, 0, sizeof(*set));
}

/* Adds artifact `a` of kind `k` named `raw`, its place in the report
 * kept in changed_ns until the set is in order (set_order()). */
static int set_add(struct model_artifact_set *set, const struct kind *k,
		const char *raw, const cJSON *a)
{
	struct store_artifact *it;
	char name[MODEL_ARTIFACT_NAME_MAX];

	if (model_artifact_dirname(raw, name))
		return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct store_artifact *p = realloc(set->items,
				cap * sizeof(*p));

		if (!p)
			return model_fail(-ENOMEM, "heartbeat: out of memory");
		set->items = p;
		set->cap = cap;
	}
	it = &set->items[set->n];
	memset(it, 0, sizeof(*it));
	snprintf(it->kind, sizeof(it->kind), "%s", k->dir);
	memcpy(it->name, name, sizeof(it->name));
	it->changed_ns = (int64_t)set->n;
	if (!(it->doc = cJSON_PrintUnformatted(a)))
		return model_fail(-ENOMEM, "heartbeat: out of memory");
	set->n++;
	return 0;
}

static int by_kind_name(const void *a, const void *b)
{
	const struct store_artifact *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	return c ? c : strcmp(x->name, y->name);
}

static int by_kind_name_place(const void *a, const void *b)
{
	const struct store_artifact *x = a, *y = b;
	int c = by_kind_name(a, b);

	return c ? c : (x->changed_ns > y->changed_ns) -
		(x->changed_ns < y->changed_ns);
}

/* Puts the set in kind and name order; an artifact whose name another
 * of its kind has already (cut, or one name in two packages) is NAME~2,
 * NAME~3, ... in the order reported ('~' of a name itself is %7E, so
 * these meet no reported name). */
static void set_order(struct model_artifact_set *set)
{
	char base[MODEL_ARTIFACT_NAME_MAX];
	int renamed = 0;
	size_t run = 1;

	if (!set->n)
		return;
	qsort(set->items, set->n, sizeof(*set->items), by_kind_name_place);
	memcpy(base, set->items[0].name, sizeof(base));
	for (size_t i = 1; i < set->n; i++) {
		struct store_artifact *it = &set->items[i];

		if (strcmp(it->kind, it[-1].kind) || strcmp(it->name, base)) {
			memcpy(base, it->name, sizeof(base));
			run = 1;
			continue;
		}
		snprintf(it->name, sizeof(it->name), "%.*s~%zu", DIRNAME_CUT,
				base, ++run);
		renamed = 1;
	}
	if (renamed)
		qsort(set->items, set->n, sizeof(*set->items), by_kind_name);
}

/* The name of an artifact as reported: `name`, or main's packageName;
 * NULL when it has none (it cannot be shown, and ICP keys its tables on
 * names). */
static const char *reported_name(const struct kind *k, const cJSON *a)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a,
			strcmp(k->field, "main") ? "name" : "packageName");

	return cJSON_IsString(v) && v->valuestring && *v->valuestring ?
		v->valuestring : NULL;
}

int model_artifacts_parse(const cJSON *artifacts,
		struct model_artifact_set *set)
{
	unsigned char sum[16];
	crypto_generichash_state h;
	int ret = 0;

	memset(set, 0, sizeof(*set));
	for (const struct kind *k = kinds; k->field && !ret; k++) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(artifacts,
				k->field), *a;

		if (!list || cJSON_IsNull(list))
			continue;
		if (!strcmp(k->field, "main")) {
			if (!cJSON_IsObject(list))
				return model_fail(-EINVAL, "heartbeat:"
						" artifacts.main is not an"
						" object");
			if (reported_name(k, list))
				ret = set_add(set, k, reported_name(k, list),
						list);
			continue;
		}
		cJSON_ArrayForEach(a, list) {
			if (!cJSON_IsObject(a)) {
				ret = model_fail(-EINVAL, "heartbeat:"
						" artifacts.%s holds something"
						" that is not an object",
						k->field);
				break;
			}
			if (reported_name(k, a) &&
			    (ret = set_add(set, k, reported_name(k, a), a)))
				break;
		}
	}
	if (ret) {
		model_artifacts_release(set);
		return ret;
	}
	set_order(set);
	/* the digest of the set as it will be stored, so that a full
	 * heartbeat reporting the same set again reads no artifact */
	crypto_generichash_init(&h, NULL, 0, sizeof(sum));
	for (size_t i = 0; i < set->n; i++) {
		const struct store_artifact *it = &set->items[i];

		crypto_generichash_update(&h, (const unsigned char *)it->kind,
				strlen(it->kind) + 1);
		crypto_generichash_update(&h, (const unsigned char *)it->name,
				strlen(it->name) + 1);
		crypto_generichash_update(&h, (const unsigned char *)it->doc,
				strlen(it->doc) + 1);
	}
	crypto_generichash_final(&h, sum, sizeof(sum));
	sodium_bin2hex(set->sum, sizeof(set->sum), sum, sizeof(sum));
	return 0;
}

/* The stored artifacts, read in kind and name order, against the new set
 * in the same order: one that is the same keeps its time. */
struct keep {
	struct store_artifact *items;
	size_t n, i;
};

static int keep_time(void *ctx, const struct store_artifact *old)
{
	struct keep *k = ctx;

	while (k->i < k->n && by_kind_name(&k->items[k->i], old) < 0)
		k->i++;
	if (k->i < k->n && !by_kind_name(&k->items[k->i], old) &&
	    !strcmp(k->items[k->i].doc, old->doc))
		k->items[k->i].changed_ns = old->changed_ns;
	return 0;
}

int model_artifacts_store(struct model *m, int64_t runtime_id,
		struct model_artifact_set *set, int64_t now)
{
	struct keep k = { set->items, set->n, 0 };
	int ret;

	for (size_t i = 0; i < set->n; i++) {
		set->items[i].runtime_id = runtime_id;
		set->items[i].changed_ns = now;
	}
	ret = store_artifact_list(m->store, runtime_id, NULL, keep_time, &k);
	if (!ret)
		ret = store_artifact_replace(m->store, runtime_id, set->items,
				set->n, set->sum, now);
	return ret ? model_fail_store(ret) : 0;
}

/* -- commands ----------------------------------------------------------- */

struct queue {
	struct model *m;
	const struct store_runtime *rt;
	const char *action;
	int ret;
};

/* Queues the command for one listener, as buildBICollector() builds it:
 * a new commandId, the runtime's id, targetArtifact {name} the name
 * without its package qualifier (rawArtifactName(): what follows the
 * last ':'), PENDING, issued now. */
static int queue_one(void *ctx, const struct store_artifact *a)
{
	struct queue *q = ctx;
	struct store_command c;
	const cJSON *v;
	const char *raw, *colon;
	cJSON *o = cJSON_Parse(a->doc);

	v = o ? cJSON_GetObjectItemCaseSensitive(o, "name") : NULL;
	if (!cJSON_IsString(v) || !v->valuestring) {
		cJSON_Delete(o);
		return q->ret = model_fail(-EIO, "listener '%s' of runtime '%s'"
				" is damaged", a->name, q->rt->name);
	}
	raw = v->valuestring;
	if ((colon = strrchr(raw, ':')))
		raw = colon + 1;
	memset(&c, 0, sizeof(c));
	model_uuid(c.uuid);
	c.runtime_id = q->rt->id;
	snprintf(c.target, sizeof(c.target), "%s", raw);
	snprintf(c.action, sizeof(c.action), "%s", q->action);
	c.issued_ns = model_now(q->m);
	snprintf(c.status, sizeof(c.status), "PENDING");
	cJSON_Delete(o);
	if (store_command_insert(q->m->store, &c))
		return q->ret = model_fail_store(-EIO);
	return 0;
}

int model_artifact_queue(struct model *m, const struct store_runtime *rt,
		const char *name, const char *action)
{
	struct queue q = { m, rt, action, 0 };
	struct store_artifact a;
	char *doc = NULL;
	int ret;

	if (!name) {
		ret = store_artifact_list(m->store, rt->id, "listeners",
				queue_one, &q);
		return q.ret ? q.ret : ret ? model_fail_store(ret) : 0;
	}
	ret = store_artifact_get(m->store, rt->id, "listeners", name, &a,
			&doc);
	if (ret)
		return ret == -ENOENT ? model_fail(ret, "runtime '%s' has no"
				" listener '%s'", rt->name, name) :
			model_fail_store(ret);
	a.doc = doc;
	ret = queue_one(&q, &a);
	free(doc);
	return ret;
}

/* -- reading ------------------------------------------------------------ */

int model_runtime_reported(struct model *m, const char *env,
		const char *name, char **out, int64_t *mtime_ns)
{
	struct store_runtime rt;
	char *text = NULL;
	cJSON *o = NULL;
	int ret;

	*out = NULL;
	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && (ret = store_runtime_get_reported(m->store, rt.id, &text)))
		ret = model_fail_store(ret);
	model_unlock(m);
	if (ret)
		return ret;
	*mtime_ns = rt.reported_ns ? rt.reported_ns : rt.registered_ns;
	if (!*text) {
		free(text);
		*out = strdup("{}\n");
		return *out ? 0 : model_fail(-ENOMEM, "out of memory");
	}
	o = cJSON_Parse(text);
	free(text);
	ret = o ? model_json_pretty(o, out) : model_fail(-EIO, "what runtime"
			" '%s' reported is damaged", name);
	cJSON_Delete(o);
	return ret;
}

int model_artifact_kinds(struct model *m, const char *env, const char *name,
		model_kind_cb cb, void *ctx)
{
	struct store_runtime rt;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && (ret = store_artifact_kinds(m->store, rt.id, cb, ctx)) &&
	    ret != -ECANCELED)
		ret = model_fail_store(ret);
	model_unlock(m);
	return ret;
}

struct each {
	model_artifact_cb cb;
	void *ctx;
};

static int each_artifact(void *ctx, const struct store_artifact *a)
{
	struct each *e = ctx;
	struct model_artifact out;

	snprintf(out.kind, sizeof(out.kind), "%s", a->kind);
	snprintf(out.name, sizeof(out.name), "%s", a->name);
	out.changed_ns = a->changed_ns;
	return e->cb(e->ctx, &out);
}

int model_artifact_list(struct model *m, const char *env, const char *name,
		const char *kind, model_artifact_cb cb, void *ctx)
{
	struct store_runtime rt;
	struct each e = { cb, ctx };
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && (ret = store_artifact_list(m->store, rt.id, kind,
			each_artifact, &e)) && ret != -ECANCELED)
		ret = model_fail_store(ret);
	model_unlock(m);
	return ret;
}

int model_artifact_get(struct model *m, const char *env, const char *name,
		const char *kind, const char *artifact,
		struct model_artifact *out, char **doc)
{
	struct store_runtime rt;
	struct store_artifact a;
	char *text = NULL;
	cJSON *o;
	int ret;

	if (doc)
		*doc = NULL;
	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret) {
		ret = store_artifact_get(m->store, rt.id, kind, artifact, &a,
				doc ? &text : NULL);
		if (ret == -ENOENT)
			ret = model_fail(ret, "runtime '%s' reported no %s"
					" '%s'", name, kind, artifact);
		else if (ret)
			ret = model_fail_store(ret);
	}
	model_unlock(m);
	if (ret)
		return ret;
	snprintf(out->kind, sizeof(out->kind), "%s", a.kind);
	snprintf(out->name, sizeof(out->name), "%s", a.name);
	out->changed_ns = a.changed_ns;
	if (!doc)
		return 0;
	o = cJSON_Parse(text);
	free(text);
	ret = o ? model_json_pretty(o, doc) : model_fail(-EIO, "%s '%s' of"
			" runtime '%s' is damaged", kind, artifact, name);
	cJSON_Delete(o);
	return ret;
}

/* -- ctl ---------------------------------------------------------------- */

int model_artifact_ctl(struct model *m, const char *env, const char *name,
		const char *kind, const char *artifact, const char *command)
{
	struct store_runtime rt;
	struct store_artifact a;
	int start = !strcmp(command, "start"), stop = !strcmp(command, "stop");
	int ret;

	if (!start && !stop)
		return model_fail(-EINVAL, "unknown command '%.32s'; an"
				" artifact's ctl takes start or stop", command);
	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret) {
		ret = store_artifact_get(m->store, rt.id, kind, artifact, &a,
				NULL);
		if (ret == -ENOENT)
			ret = model_fail(ret, "runtime '%s' reported no %s"
					" '%s'", name, kind, artifact);
		else if (ret)
			ret = model_fail_store(ret);
	}
	if (!ret) {
		switch (model_artifact_ctl_of(rt.type, kind)) {
		case MODEL_CTL_BI:
			ret = model_artifact_queue(m, &rt, artifact,
					start ? "START" : "STOP");
			break;
		case MODEL_CTL_MI:
			ret = model_fail(-EOPNOTSUPP, "ICP controls an MI"
					" runtime's %s through the runtime's"
					" management API, which runtimefs does"
					" not call: use MI's management API"
					" or the mi CLI on runtime '%s'",
					kind, name);
			break;
		default:
			ret = model_fail(-EOPNOTSUPP, "ICP has no command for"
					" %s of a %s runtime", kind,
					!strcmp(rt.type, "MI") ? "MI" : "BI");
		}
	}
	return model_end(m, ret);
}
