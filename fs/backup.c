/*
 * backup.c - reading a backup back (backup.h): the restore handlers of
 * the node table, each the inverse of its node's show, and the build and
 * read-back of a restore mount's staged tree.
 */
#define _GNU_SOURCE               /* strptime, timegm */
#include "backup.h"
#include "fs.h"
#include "nodes.h"
#include "stage.h"
#include "../store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define VALUE_CAP 256             /* a one-line value at the most */
#define SNIPPET_CAP 4096          /* a secret's snippet at the most */
#define DEPTH_MAX 16
#define SHOW_CAP (16 * STAGE_FILE_MAX)

/* which kinds a directory holds is a bit each */
_Static_assert(FS_KIND_COUNT <= 64, "node kinds fit in 64 bits");

/* Fails with the reason, prefixed by the entry's path. */
#define bad(r, err, fmt, ...) \
	fs_fail(err, "%s: " fmt, (r)->src, ##__VA_ARGS__)

/* Fails with the model's reason, prefixed by the entry's path. */
static int model_said(struct fs_restore *r, int err)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", model_errmsg());
	return bad(r, err, "%s", why);
}

/* -- the backup being read --------------------------------------------- */

void fs_restore_init(struct fs_restore *r)
{
	memset(r, 0, sizeof(*r));
}

static void secret_wipe(struct model_backup_secret *s)
{
	sodium_memzero(s->credential, sizeof(s->credential));
}

void fs_restore_release(struct fs_restore *r)
{
	struct model_backup *b = &r->b;

	for (size_t i = 0; i < b->nruntimes; i++) {
		sodium_memzero(b->runtimes[i].service_account,
				sizeof(b->runtimes[i].service_account));
		secret_wipe(&b->runtimes[i].bound);
		free(b->runtimes[i].versions);
		free(b->runtimes[i].endpoints);
	}
	for (size_t i = 0; i < b->nsecrets; i++)
		secret_wipe(&b->secrets[i]);
	for (size_t i = 0; i < r->ncopies; i++)
		secret_wipe(&r->copies[i]);
	free(b->envs);
	free(b->projects);
	free(b->integrations);
	free(b->runtimes);
	free(b->secrets);
	free(b->links);
	free(r->copies);
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	memset(r, 0, sizeof(*r));
}

/* A new, zeroed element at the end of the array *arr of *n elements. */
static void *append(void *arr, size_t *n, size_t size)
{
	void **a = arr;
	char *grown = realloc(*a, (*n + 1) * size);

	if (!grown)
		return NULL;
	*a = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

#define APPEND(r, arr, n) \
	append(&(arr), &(n), sizeof(*(arr)))

/* The entry's path, kept as long as the backup: the `src` of its part. */
static const char *src_of(struct fs_restore *r)
{
	char **strs = realloc(r->strs, (r->nstrs + 1) * sizeof(*strs));
	char *copy;

	if (!strs)
		return NULL;
	r->strs = strs;
	if (!(copy = strdup(r->src)))
		return NULL;
	return r->strs[r->nstrs++] = copy;
}

static int oom(void)
{
	return fs_fail(-ENOMEM, "out of memory");
}

/* -- values ------------------------------------------------------------ */

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The one-line value in `data` without surrounding blanks, into `out`. */
static int value(struct fs_restore *r, const char *data, size_t len,
		char *out, size_t cap)
{
	while (len && blank(*data)) {
		data++;
		len--;
	}
	while (len && blank(data[len - 1]))
		len--;
	if (len >= cap)
		return bad(r, -EINVAL, "a value of at most %zu bytes is"
				" expected", cap - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f)
			return bad(r, -EINVAL, "a one-line value without"
					" control characters is expected");
	memcpy(out, data, len);
	out[len] = '\0';
	return 0;
}

/* A one-line value the model checks as `what`. */
static int model_value(struct fs_restore *r, enum model_value what,
		const char *data, size_t len, char *out, size_t cap)
{
	int ret = value(r, data, len, out, cap);

	if (!ret && (ret = model_value_check(what, out, strlen(out))))
		ret = model_said(r, ret);
	return ret;
}

/* A name, or "" when `empty_ok` and there is none. */
static int name_value(struct fs_restore *r, const char *what,
		const char *data, size_t len, char *out, int empty_ok)
{
	int ret = value(r, data, len, out, MODEL_NAME_MAX);

	if (!ret && (*out || !empty_ok) && model_name_check(what, out))
		ret = model_said(r, -EINVAL);
	return ret;
}

/* The times runtimefs holds: nanoseconds since the epoch in an int64_t,
 * 0 meaning none, so whole seconds from 1 to INT64_MAX / 10^9. */
#define TIME_FIRST 1                            /* 1970-01-01T00:00:01Z */
#define TIME_LAST (INT64_MAX / 1000000000LL)    /* 2262-04-11T23:47:16Z */

/* RFC 3339 UTC as the tree shows it (model_time_format()). */
static int time_value(struct fs_restore *r, const char *s, int64_t *ns)
{
	char back[MODEL_TIME_MAX];
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || strlen(s) != 20)
		return bad(r, -EINVAL, "'%.64s' is not a time as"
				" 2026-11-23T12:17:48Z", s);
	/* %Y takes 0 to 9999: far within time_t, not within int64_t ns */
	t = timegm(&tm);
	if (t < TIME_FIRST || t > TIME_LAST)
		return bad(r, -EINVAL, "'%s' is out of range: a time is from"
				" 1970-01-01T00:00:01Z to"
				" 2262-04-11T23:47:16Z", s);
	*ns = (int64_t)t * 1000000000LL;
	/* what strptime let through (February 30th) does not read back */
	model_time_format(*ns, back);
	if (strcmp(back, s))
		return bad(r, -EINVAL, "'%s' is not a time as"
				" 2026-11-23T12:17:48Z", s);
	return 0;
}

/* A one-line time file. */
static int time_file(struct fs_restore *r, const char *data, size_t len,
		int64_t *ns)
{
	char text[VALUE_CAP];
	int ret = value(r, data, len, text, sizeof(text));

	return ret ? ret : time_value(r, text, ns);
}

/* What a secret's snippet says (icp.c shows it). */
struct snippet {
	char env[MODEL_NAME_MAX];
	char project[MODEL_NAME_MAX];      /* "" when not scoped */
	char integration[MODEL_NAME_MAX];
	char runtime[MODEL_NAME_MAX];      /* "" when not bound */
	char credential[MODEL_SECRET_MAX];
};

/* The first `key = "value"` line of a snippet, into `out`; a placeholder
 * (`<project name>`) is "", anything else must be a name. */
static int snippet_value(struct fs_restore *r, const char *text,
		const char *key, const char *placeholder, char *out,
		size_t cap)
{
	char want[32];
	const char *at = text, *end;
	size_t klen = (size_t)snprintf(want, sizeof(want), "%s = \"", key);

	while (at && strncmp(at, want, klen))
		if ((at = strchr(at, '\n')))
			at++;
	if (!at || !(end = strchr(at + klen, '"')) ||
	    (size_t)(end - at - klen) >= cap)
		return bad(r, -EINVAL, "the snippet has no %s line", key);
	memcpy(out, at + klen, (size_t)(end - at - klen));
	out[end - at - klen] = '\0';
	if (placeholder && !strcmp(out, placeholder))
		*out = '\0';
	else if (placeholder && model_name_check(key, out))
		return model_said(r, -EINVAL);
	return 0;
}

static int parse_snippet(struct fs_restore *r, const char *data, size_t len,
		struct snippet *sn)
{
	char text[SNIPPET_CAP];
	int ret;

	memset(sn, 0, sizeof(*sn));
	if (len >= sizeof(text) || memchr(data, '\0', len))
		return bad(r, -EINVAL, "not a secret's snippet");
	memcpy(text, data, len);
	text[len] = '\0';
	if ((ret = snippet_value(r, text, "environment", NULL, sn->env,
			sizeof(sn->env))) ||
	    (ret = snippet_value(r, text, "project", "<project name>",
			sn->project, sizeof(sn->project))) ||
	    (ret = snippet_value(r, text, "integration",
			"<integration name>", sn->integration,
			sizeof(sn->integration))) ||
	    (ret = snippet_value(r, text, "runtime",
			"<unique runtime name>", sn->runtime,
			sizeof(sn->runtime))) ||
	    (ret = snippet_value(r, text, "secret", NULL, sn->credential,
			sizeof(sn->credential))))
		goto out;
	if (model_name_check("environment", sn->env))
		ret = model_said(r, -EINVAL);
	else if (!*sn->project != !*sn->integration)
		ret = bad(r, -EINVAL, "a secret is scoped to a project and an"
				" integration, or to neither");
	else if ((ret = model_value_check(MODEL_VALUE_SECRET, sn->credential,
			strlen(sn->credential))))
		ret = model_said(r, ret);
out:
	sodium_memzero(text, sizeof(text));
	if (ret)
		sodium_memzero(sn, sizeof(*sn));
	return ret;
}

/* -- the handlers ------------------------------------------------------ */

int fs_env_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_env *e = APPEND(r, r->b.envs, r->b.nenvs);

	(void)data;
	(void)len;
	if (!e || !(e->src = src_of(r)))
		return oom();
	snprintf(e->name, sizeof(e->name), "%s", p->env);
	e->created_ns = r->mtime_ns;
	r->env = e;
	return 0;
}

int fs_critical_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	char text[VALUE_CAP];
	int ret = value(r, data, len, text, sizeof(text));

	(void)p;
	if (ret)
		return ret;
	if (strcmp(text, "0") && strcmp(text, "1"))
		return bad(r, -EINVAL, "'%s' is not one of the values this"
				" file takes", text);
	r->env->critical = text[0] == '1';
	r->env->critical_ns = r->mtime_ns;
	return 0;
}

int fs_project_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_project *e = APPEND(r, r->b.projects,
			r->b.nprojects);

	(void)data;
	(void)len;
	if (!e || !(e->src = src_of(r)))
		return oom();
	snprintf(e->name, sizeof(e->name), "%s", p->project);
	e->created_ns = r->mtime_ns;
	r->pr = e;
	return 0;
}

int fs_integration_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_integration *in = APPEND(r, r->b.integrations,
			r->b.nintegrations);

	(void)data;
	(void)len;
	if (!in || !(in->src = src_of(r)))
		return oom();
	snprintf(in->project, sizeof(in->project), "%s", p->project);
	snprintf(in->name, sizeof(in->name), "%s", p->integration);
	in->created_ns = r->mtime_ns;
	r->in = in;
	return 0;
}

/* A project's or integration's display_name: the name a heartbeat gave
 * it, kept unless it is the plain name (what a directory made with mkdir
 * shows). */
int fs_display_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	int project = p->node->kind == FS_PROJECT_DISPLAY;
	char *out = project ? r->pr->display : r->in->display;
	const char *name = project ? r->pr->name : r->in->name;
	int ret = value(r, data, len, out, MODEL_TEXT_MAX);

	if (!ret && !strcmp(out, name))
		*out = '\0';
	return ret;
}

int fs_type_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	r->in->type_ns = r->mtime_ns;
	return model_value(r, MODEL_VALUE_INTEGRATION_TYPE, data, len,
			r->in->type, sizeof(r->in->type));
}

/* A link of a view: the target the tree gives it, to the runtime of its
 * name. */
int fs_link_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	int in_integration = p->node->kind == FS_INTEGRATION_RUNTIME_LINK;
	struct model_backup_link *l;
	struct buf want;
	int ret;

	buf_init(&want, PATH_MAX);
	ret = fs_link_target(&want, in_integration, p->env, p->runtime);
	if (!ret && (len != want.len || memcmp(data, want.data, len)))
		ret = bad(r, -EINVAL, "a link of this view points to %s",
				want.data);
	buf_release(&want);
	if (ret)
		return ret;
	if (!(l = APPEND(r, r->b.links, r->b.nlinks)) ||
	    !(l->src = src_of(r)))
		return oom();
	snprintf(l->project, sizeof(l->project), "%s", p->project);
	if (in_integration)
		snprintf(l->integration, sizeof(l->integration), "%s",
				p->integration);
	snprintf(l->env, sizeof(l->env), "%s", p->env);
	snprintf(l->runtime, sizeof(l->runtime), "%s", p->runtime);
	return 0;
}

/* The secret `name` a snippet describes, at the entry being read. */
static int secret_from(struct fs_restore *r, const struct snippet *sn,
		const char *name, struct model_backup_secret *s)
{
	if (!(s->src = src_of(r)))
		return oom();
	memcpy(s->env, sn->env, sizeof(s->env));
	snprintf(s->name, sizeof(s->name), "%s", name);
	memcpy(s->project, sn->project, sizeof(s->project));
	memcpy(s->integration, sn->integration, sizeof(s->integration));
	memcpy(s->credential, sn->credential, sizeof(s->credential));
	s->created_ns = r->mtime_ns;
	return 0;
}

/* An unbound secret: its snippet, for the environment it is in. */
int fs_secret_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_secret *s;
	struct snippet sn;
	int ret = parse_snippet(r, data, len, &sn);

	if (!ret && (strcmp(sn.env, p->env) || *sn.runtime))
		ret = bad(r, -EINVAL, "the snippet is not that of an unbound"
				" secret of environment '%s'", p->env);
	if (!ret && !(s = APPEND(r, r->b.secrets, r->b.nsecrets)))
		ret = oom();
	if (!ret)
		ret = secret_from(r, &sn, p->secret, s);
	sodium_memzero(&sn, sizeof(sn));
	return ret;
}

/* An integration's view of a secret: checked once the walk is over
 * against the environment's, whose copy it is. */
int fs_integration_secret_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	struct model_backup_secret *s;
	struct snippet sn;
	int ret = parse_snippet(r, data, len, &sn);

	if (!ret && (strcmp(sn.project, p->project) ||
			strcmp(sn.integration, p->integration)))
		ret = bad(r, -EINVAL, "the secret is not scoped to this"
				" integration");
	else if (!ret && (strcmp(sn.env, p->env) || *sn.runtime))
		ret = bad(r, -EINVAL, "the snippet is not that of an unbound"
				" secret of environment '%s'", p->env);
	if (!ret && !(s = APPEND(r, r->copies, r->ncopies)))
		ret = oom();
	if (!ret)
		ret = secret_from(r, &sn, p->secret, s);
	sodium_memzero(&sn, sizeof(sn));
	return ret;
}

/* Each integration's copy of a secret is the environment's secret. */
static int check_copies(struct fs_restore *r)
{
	for (size_t i = 0; i < r->ncopies; i++) {
		const struct model_backup_secret *c = &r->copies[i], *s = NULL;

		for (size_t k = 0; !s && k < r->b.nsecrets; k++)
			if (!strcmp(r->b.secrets[k].env, c->env) &&
			    !strcmp(r->b.secrets[k].name, c->name))
				s = &r->b.secrets[k];
		if (!s || strcmp(s->credential, c->credential) ||
		    strcmp(s->project, c->project) ||
		    strcmp(s->integration, c->integration))
			return fs_fail(-EINVAL, "%s: not the same as secret"
					" '%s' of environment '%s'", c->src,
					c->name, c->env);
	}
	return 0;
}

/* -- runtimes ---------------------------------------------------------- */

int fs_runtime_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_runtime *rt = APPEND(r, r->b.runtimes,
			r->b.nruntimes);

	(void)data;
	(void)len;
	if (!rt || !(rt->src = src_of(r)))
		return oom();
	snprintf(rt->env, sizeof(rt->env), "%s", p->env);
	snprintf(rt->name, sizeof(rt->name), "%s", p->runtime);
	r->rt = rt;
	r->ep = NULL;
	return 0;
}

/* A runtime's file: its attribute's own handler. */
int fs_attr_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	return p->attr->restore ? p->attr->restore(r, p, data, len) : 0;
}

int fs_runtime_id_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return model_value(r, MODEL_VALUE_UUID, data, len, r->rt->id,
			sizeof(r->rt->id));
}

int fs_runtime_type_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return model_value(r, MODEL_VALUE_RUNTIME_TYPE, data, len,
			r->rt->type, sizeof(r->rt->type));
}

int fs_runtime_project_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	r->rt->assigned_ns = r->mtime_ns;
	return name_value(r, "project", data, len, r->rt->project, 1);
}

int fs_runtime_integration_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	return name_value(r, "integration", data, len, r->rt->integration,
			1);
}

int fs_runtime_environment_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	char env[MODEL_NAME_MAX];
	int ret = name_value(r, "environment", data, len, env, 0);

	if (!ret && strcmp(env, p->env))
		ret = bad(r, -EINVAL, "'%s' is not the environment it is in",
				env);
	return ret;
}

int fs_runtime_status_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return model_value(r, MODEL_VALUE_STATUS, data, len, r->rt->status,
			sizeof(r->rt->status));
}

/* What a runtime reports: "Not reported" (as the tree shows nothing) is
 * nothing. */
static int reported(struct fs_restore *r, const char *data, size_t len,
		char *out, size_t cap)
{
	char text[VALUE_CAP];
	int ret = value(r, data, len, text, sizeof(text));

	if (ret)
		return ret;
	if (strlen(text) >= cap)
		return bad(r, -EINVAL, "at most %zu bytes", cap - 1);
	snprintf(out, cap, "%s", strcmp(text, FS_NOT_REPORTED) ? text : "");
	return 0;
}

int fs_runtime_version_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	return reported(r, data, len, r->rt->runtime_version,
			sizeof(r->rt->runtime_version));
}

int fs_runtime_platform_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	r->rt->info_ns = r->mtime_ns;
	return reported(r, data, len, r->rt->platform,
			sizeof(r->rt->platform));
}

int fs_runtime_os_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return reported(r, data, len, r->rt->os, sizeof(r->rt->os));
}

int fs_runtime_registered_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	return time_file(r, data, len, &r->rt->registered_ns);
}

int fs_runtime_heartbeat_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	char text[VALUE_CAP];
	int ret = value(r, data, len, text, sizeof(text));

	(void)p;
	if (ret || !strcmp(text, "never"))
		return ret;
	return time_value(r, text, &r->rt->heartbeat_ns);
}

int fs_runtime_secret_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return model_value(r, MODEL_VALUE_KEY_ID, data, len,
			r->rt->secret_key_id, sizeof(r->rt->secret_key_id));
}

/* The bound secret's snippet, with the runtime's name. */
int fs_runtime_secret_toml_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	struct model_backup_secret *s = &r->rt->bound;
	struct snippet sn;
	int ret = parse_snippet(r, data, len, &sn);

	if (!ret && (strcmp(sn.env, p->env) || strcmp(sn.runtime,
			p->runtime)))
		ret = bad(r, -EINVAL, "the snippet is for runtime '%s' of"
				" environment '%s'", sn.runtime, sn.env);
	if (!ret)
		ret = secret_from(r, &sn, sn.runtime, s);
	sodium_memzero(&sn, sizeof(sn));
	return ret;
}

/* MOUNT/audit: kept whole, for the model to go on from (its lines are
 * checked as it loads them). */
int fs_audit_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	if (!(r->b.audit_src = src_of(r)))
		return oom();
	r->b.audit = data;
	r->b.audit_len = len;
	return 0;
}

int fs_spec_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	int ret = len ? model_value_check(MODEL_VALUE_SPEC, data, len) : 0;

	(void)p;
	if (ret)
		return model_said(r, ret);
	if (!(r->rt->spec_src = src_of(r)))
		return oom();
	r->rt->spec = data;
	r->rt->spec_len = len;
	return 0;
}

int fs_service_account_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	int ret = model_value(r, MODEL_VALUE_SERVICE_ACCOUNT, data, len,
			r->rt->service_account,
			sizeof(r->rt->service_account));

	(void)p;
	if (!ret && !(r->rt->service_account_src = src_of(r)))
		ret = oom();
	r->rt->service_account_ns = r->mtime_ns;
	return ret;
}

/* versions/N: the spec fields with agentRuntimeId, version (which must be
 * N) and createdAt, as model_version_get() writes them. */
int fs_version_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_version *v;
	cJSON *o, *id, *num, *at;
	int64_t created = 0;
	int ret = model_value_check(MODEL_VALUE_SPEC, data, len);

	if (ret)
		return model_said(r, ret);
	o = cJSON_ParseWithLength(data, len);
	id = cJSON_GetObjectItemCaseSensitive(o, "agentRuntimeId");
	num = cJSON_GetObjectItemCaseSensitive(o, "version");
	at = cJSON_GetObjectItemCaseSensitive(o, "createdAt");
	if (!cJSON_IsString(id))
		ret = bad(r, -EINVAL, "field 'agentRuntimeId' is missing");
	else if (!cJSON_IsNumber(num) || num->valuedouble !=
			(double)p->version)
		ret = bad(r, -EINVAL, "field 'version' must be %lld, the"
				" file's name", (long long)p->version);
	else if (!cJSON_IsString(at))
		ret = bad(r, -EINVAL, "field 'createdAt' is missing");
	else if ((ret = model_value_check(MODEL_VALUE_UUID, id->valuestring,
			strlen(id->valuestring))))
		ret = model_said(r, ret);
	else
		ret = time_value(r, at->valuestring, &created);
	if (!ret && (!(v = APPEND(r, r->rt->versions, r->rt->nversions)) ||
			!(v->src = src_of(r))))
		ret = oom();
	if (!ret) {
		v->number = p->version;
		snprintf(v->runtime_id, sizeof(v->runtime_id), "%s",
				id->valuestring);
		v->spec = data;
		v->spec_len = len;
		v->created_ns = created;
	}
	cJSON_Delete(o);
	return ret;
}

int fs_endpoint_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	struct model_backup_endpoint *e = APPEND(r, r->rt->endpoints,
			r->rt->nendpoints);

	(void)data;
	(void)len;
	if (!e || !(e->src = src_of(r)))
		return oom();
	snprintf(e->name, sizeof(e->name), "%s", p->endpoint);
	r->ep = e;
	return 0;
}

int fs_endpoint_version_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	char text[VALUE_CAP];
	int ret = value(r, data, len, text, sizeof(text));

	(void)p;
	if (!ret && (ret = model_version_parse(text, &r->ep->version)))
		ret = model_said(r, ret);
	if (!ret && !(r->ep->version_src = src_of(r)))
		ret = oom();
	return ret;
}

int fs_endpoint_id_restore(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len)
{
	(void)p;
	return model_value(r, MODEL_VALUE_UUID, data, len, r->ep->id,
			sizeof(r->ep->id));
}

int fs_endpoint_created_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	return time_file(r, data, len, &r->ep->created_ns);
}

int fs_endpoint_updated_restore(struct fs_restore *r,
		const struct fs_path *p, const char *data, size_t len)
{
	(void)p;
	return time_file(r, data, len, &r->ep->updated_ns);
}

/* -- what a staged entry is -------------------------------------------- */

static int is_link(int kind)
{
	return S_ISLNK(fs_nodes[kind].mode);
}

static char type_of(mode_t mode)
{
	return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'f';
}

static const char *type_name(mode_t mode)
{
	return S_ISDIR(mode) ? "directory" : S_ISLNK(mode) ? "symlink" :
		"file";
}

/* The named child of `dir` that `name` may be: 0, -ENOENT when not of
 * that kind, -EINVAL (message set) for a name the rules refuse. */
static int named(const struct fs_node *n, const char *name, const char *path,
		const struct fs_attr **attr)
{
	int64_t number;

	if (n->kind == FS_RUNTIME_ATTR) {
		for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++)
			if (!strcmp(a->name, name)) {
				*attr = a;
				return 0;
			}
		return -ENOENT;
	}
	if (n->kind == FS_VERSION)
		return fs_version_name(name, &number);
	if (model_name_check("a", name)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", model_errmsg());
		return fs_fail(-EINVAL, "%s: %s", path, why);
	}
	return 0;
}

int fs_backup_kind(int dir, const char *name, char type, const char *path,
		int *kind, const struct fs_attr **attr)
{
	const struct fs_node *n = NULL;
	int ret = -ENOENT;

	*kind = FS_IGNORED;
	*attr = NULL;
	if (dir == FS_IGNORED || name[0] == '.')
		return 0;
	for (int k = 0; k < FS_KIND_COUNT && !n; k++)
		if (fs_nodes[k].parent == (enum fs_kind)dir &&
		    fs_nodes[k].name && !strcmp(fs_nodes[k].name, name))
			n = &fs_nodes[k];
	for (int k = 0; k < FS_KIND_COUNT && !n; k++)
		if (fs_nodes[k].parent == (enum fs_kind)dir &&
		    !fs_nodes[k].name &&
		    (ret = named(&fs_nodes[k], name, path, attr)) != -ENOENT)
			n = &fs_nodes[k];
	if (ret == -EINVAL)
		return ret;
	if (!n)
		return fs_fail(-EPERM, "'%s' is not part of a runtimefs tree",
				path);
	if (n->backup == FS_BACKUP_SKIP)
		return 0;
	/* tar makes an empty file where a link with ".." goes, and the link
	 * in its place at the end */
	if (type_of(n->mode) != type && !(is_link(n->kind) && type == 'f'))
		return fs_fail(-EPERM, "'%s' is a %s in a runtimefs tree",
				path, type_name(n->mode));
	*kind = n->kind;
	return 0;
}

/* -- reading ----------------------------------------------------------- */

/* One file on its own: what it belongs to is made up, and dropped. */
int fs_backup_check(const struct fs_path *p, const char *path,
		const char *data, size_t len)
{
	struct fs_restore r;
	int ret = 0;

	if (!p->node->restore || S_ISDIR(p->node->mode) ||
	    (is_link(p->node->kind)))
		return 0;
	fs_restore_init(&r);
	r.src = path;
	if (!(r.env = APPEND(&r, r.b.envs, r.b.nenvs)) ||
	    !(r.pr = APPEND(&r, r.b.projects, r.b.nprojects)) ||
	    !(r.in = APPEND(&r, r.b.integrations, r.b.nintegrations)) ||
	    !(r.rt = APPEND(&r, r.b.runtimes, r.b.nruntimes)) ||
	    !(r.ep = APPEND(&r, r.rt->endpoints, r.rt->nendpoints)))
		ret = oom();
	if (!ret)
		ret = p->node->restore(&r, p, data, len);
	fs_restore_release(&r);
	return ret;
}

/* The walk of the staged tree: which children of each directory on the
 * way down were seen, to tell what a directory must hold. */
struct reading {
	struct fs_restore *r;
	int depth;
	uint64_t kinds[DEPTH_MAX];
	uint64_t attrs[DEPTH_MAX];
};

static int read_enter(void *ctx, const struct stage_item *it)
{
	struct reading *w = ctx;
	struct fs_restore *r = w->r;

	if (w->depth >= DEPTH_MAX)
		return fs_fail(-ENAMETOOLONG, "%s: too deep", it->path);
	w->kinds[w->depth] = 0;
	w->attrs[w->depth] = 0;
	if (w->depth > 0 && it->kind != FS_IGNORED) {
		w->kinds[w->depth - 1] |= 1ULL << it->kind;
		if (it->p->attr)
			w->attrs[w->depth - 1] |= 1ULL << (it->p->attr -
					fs_runtime_attrs);
	}
	w->depth++;
	/* a link tar has not made yet is read once it is there */
	if (it->kind == FS_IGNORED || !it->p->node->restore ||
	    (is_link(it->kind) && it->type != 'l'))
		return 0;
	r->src = it->path;
	r->mtime_ns = it->mtime_ns;
	return it->p->node->restore(r, it->p, it->data, it->len);
}

/* What a directory must hold, by its node kinds' word. */
static int read_leave(void *ctx, const struct stage_item *it)
{
	struct reading *w = ctx;
	uint64_t kinds = w->kinds[--w->depth], attrs = w->attrs[w->depth];

	if (it->kind == FS_IGNORED || it->type != 'd')
		return 0;
	for (int k = 0; k < FS_KIND_COUNT; k++)
		if (fs_nodes[k].parent == (enum fs_kind)it->kind &&
		    fs_nodes[k].backup_required && !(kinds & (1ULL << k)))
			return fs_fail(-EINVAL, "%s/%s is missing", it->path,
					fs_nodes[k].name);
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++)
		if (it->kind == FS_RUNTIME && a->backup_required &&
		    !(attrs & (1ULL << (a - fs_runtime_attrs))))
			return fs_fail(-EINVAL, "%s/%s is missing", it->path,
					a->name);
	return 0;
}

int fs_backup_read(struct stage *s, struct fs_restore *r)
{
	struct reading w = { r, 0, { 0 }, { 0 } };
	int ret = stage_walk(s, read_enter, read_leave, &w);

	r->src = NULL;
	return ret ? ret : check_copies(r);
}

/* -- reading the build back -------------------------------------------- */

static int show(const struct fs_path *p, struct fs_value *v)
{
	return fs_show(p, v, SHOW_CAP);
}

static enum fs_backup backup_of(const struct fs_path *p)
{
	return p->attr ? p->attr->backup : p->node->backup;
}

/* Each staged entry must be in the built tree, with the same bytes. */
static int verify_staged(void *ctx, const struct stage_item *it)
{
	struct model *m = ctx;
	char path[PATH_MAX];
	struct fs_path p;
	struct fs_value v;
	mode_t mode;
	int ret;

	if (it->kind == FS_IGNORED || !*it->path)
		return 0;
	snprintf(path, sizeof(path), "/%s", it->path);
	if (fs_resolve(m, path, &p)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", model_errmsg());
		return fs_fail(-EINVAL, "%s: the restored tree would not have"
				" it (%s)", it->path, why);
	}
	mode = fs_mode(&p);
	if (type_of(mode) != it->type)
		return fs_fail(-EINVAL, "%s: of another type in the restored"
				" tree", it->path);
	if (it->type == 'd' || backup_of(&p) != FS_BACKUP_EXACT)
		return 0;
	ret = show(&p, &v);
	if (!ret && (v.buf.len != it->len || (v.buf.len &&
			memcmp(v.buf.data, it->data, v.buf.len))))
		ret = fs_fail(-EINVAL, "%s: the restored tree would show"
				" other bytes (%zu instead of %zu)", it->path,
				v.buf.len, it->len);
	buf_release(&v.buf);
	return ret;
}

/* The names of a directory of the built tree, gathered first: list
 * callbacks run under the model's lock. */
static int gather(void *ctx, const char *name)
{
	return buf_add(ctx, name, strlen(name) + 1);
}

/* Each entry of the built tree below `dir` must have been staged, but
 * those read back for their presence only. */
static int verify_built(struct model *m, struct stage *s, const char *dir)
{
	struct buf names;
	struct fs_path p;
	int ret = fs_resolve(m, dir, &p);

	buf_init(&names, 64 * STAGE_FILE_MAX);
	if (!ret)
		ret = fs_list(&p, gather, &names);
	for (size_t off = 0; !ret && off < names.len;
			off += strlen(names.data + off) + 1) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names.data + off);
		if ((ret = fs_resolve(m, path, &p)))
			break;
		if (!stage_has(s, path + 1) &&
		    backup_of(&p) == FS_BACKUP_EXACT)
			ret = fs_fail(-EINVAL, "%s: the restored tree would"
					" have it, the backup does not",
					path + 1);
		else if (S_ISDIR(fs_mode(&p)))
			ret = verify_built(m, s, path);
	}
	buf_release(&names);
	return ret;
}

/* Builds `r` into a new model at `db`, sealing with the mount's key
 * (fs->cfg.key_path: -o key_file or the store's default), and reads it
 * back against what `s` stages. */
static int build_into(struct fs *fs, struct stage *s, struct fs_restore *r,
		const char *db)
{
	struct model_config cfg = fs->cfg;
	struct model *m = NULL;
	int ret;

	cfg.flush_interval_ns = -1;
	ret = model_open(&m, db, &cfg);
	if (!ret)
		ret = model_restore_apply(m, &r->b);
	if (!ret)
		ret = stage_walk(s, verify_staged, NULL, m);
	for (size_t k = 0; !ret && k < FS_KIND_COUNT; k++)
		if (fs_nodes[k].parent == FS_ROOT && fs_nodes[k].name &&
		    fs_nodes[k].backup != FS_BACKUP_SKIP &&
		    S_ISDIR(fs_nodes[k].mode)) {
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "/%s", fs_nodes[k].name);
			ret = verify_built(m, s, dir);
		}
	model_close(m);
	return ret;
}

int fs_backup_build(struct stage *s, struct fs *fs, int keep)
{
	char tmp[PATH_MAX];
	struct fs_restore r;
	int ret;

	fs_errclear();
	model_errclear();
	fs_restore_init(&r);
	ret = fs_backup_read(s, &r);
	if (ret) {
		fs_restore_release(&r);
		return ret;
	}
	if ((ret = store_restore_scratch(fs->locator, tmp, sizeof(tmp)))) {
		fs_restore_release(&r);
		return fs_fail(ret, "restore: %s", store_errmsg());
	}
	ret = build_into(fs, s, &r, tmp);
	fs_restore_release(&r);
	if (!ret && keep && (ret = store_restore_commit(fs->locator)))
		ret = fs_fail(ret, "restore: %s", store_errmsg());
	store_restore_discard(fs->locator);
	return ret;
}
