/*
 * org.c - handlers for the organization level of the tree: the root files,
 * environments/ENV and environments/ENV/runtimes/NAME with its attributes.
 */
#include "fs.h"
#include "nodes.h"
#include "backup.h"
#include "request.h"
#include "lasterr.h"

#include <errno.h>
#include <string.h>
#include <cjson/cJSON.h>

int64_t fs_started_ns;

static const char readme[] =
"runtimefs - environments, runtimes, versions, endpoints and secrets as files\n"
"\n"
"  environments/ENV/              mkdir ENV creates an environment, rmdir deletes it\n"
"    critical                     0 or 1: echo 1 > critical marks it production\n"
"    runtimes/NAME/               mkdir NAME creates an agent runtime, rmdir deletes it\n"
"      id type status environment project integration registered\n"
"      last_heartbeat runtime_version platform os    one value per file\n"
"      runtime.json               every field in one JSON object (try jq)\n"
"      spec                       JSON spec; writing a full spec deploys a version\n"
"      versions/N                 immutable JSON of each version; rm when unused\n"
"      endpoints/NAME/version     the version served: DEFAULT follows each deploy,\n"
"                                 mkdir NAME pins one, echo N > version moves it\n"
"      ctl                        echo start | stop | reset-service-account > ctl\n"
"      service_account            CLIENTID.SECRET for the runtime's heartbeats\n"
"      secret                     key id of its secret; rm revokes it\n"
"      secret.toml                its secret's snippet, for backups (0600)\n"
"      reported.json              what an integration runtime reported (nodeInfo, ...)\n"
"      artifacts/KIND/NAME/       what it runs: artifact.json as reported, and\n"
"                                 ctl (echo stop | start) where ICP can act\n"
"    secrets/NAME                 touch NAME makes a secret and shows its\n"
"                                 Config.toml snippet; rm revokes it\n"
"  projects/PROJECT/              mkdir / rmdir\n"
"    runtimes/ENV/NAME            links to the project's runtimes (read-only)\n"
"    display_name                 the name a runtime's heartbeat gave it\n"
"    integrations/INTEGRATION/    mkdir / rmdir; display_name as a project's\n"
"      type                       default or MI\n"
"      runtimes/ENV/NAME          links; ln -s assigns an agent runtime,\n"
"                                 rm deletes the runtime\n"
"      secrets/ENV/NAME           secrets that register runtimes of this integration\n"
"  snapshots/NAME/                mkdir freezes a read-only copy of environments/\n"
"                                 and projects/; rmdir drops it\n"
"  heartbeat                      runtimes write one JSON heartbeat at a time\n"
"                                 and read the reply from the same open file\n"
"  .last_error                    why your last failed operation failed\n"
"  events                         one JSON line per change: tail -f events\n"
"                                 (there by name; ls does not list it)\n"
"  audit                          who did what, and what was refused (0440)\n"
"\n"
"Names: 1-63 of A-Z a-z 0-9 . _ -, not starting with . or -\n"
"Times: RFC 3339, UTC.  Every file ends with a newline.\n";

int fs_show_started(const struct fs_path *p, struct fs_value *v)
{
	(void)p;
	v->mtime_ns = fs_started_ns;
	return 0;
}

int fs_readme_show(const struct fs_path *p, struct fs_value *v)
{
	(void)p;
	v->mtime_ns = fs_started_ns;
	return buf_add(&v->buf, readme, sizeof(readme) - 1);
}

int fs_last_error_show(const struct fs_path *p, struct fs_value *v)
{
	(void)p;
	v->mtime_ns = fs_started_ns;
	return lasterr_show(request_uid(), &v->buf);
}

/* -- environments ------------------------------------------------------ */

int fs_env_lookup(struct fs_path *p, const char *name)
{
	struct model_env e;
	int ret = model_env_get(p->m, name, &e);

	if (!ret)
		memcpy(p->env, e.name, sizeof(p->env));
	return ret;
}

struct fill_ctx {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_env(void *ctx, const struct model_env *e)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, e->name);
}

int fs_env_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_env_list(dir->m, fill_env, &f);
}

int fs_env_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_env e;
	int ret = model_env_get(p->m, p->env, &e);

	if (!ret)
		v->mtime_ns = e.created_ns;
	return ret;
}

int fs_env_mkdir(const struct fs_path *dir, const char *name)
{
	return model_env_create(dir->m, name);
}

int fs_env_rmdir(const struct fs_path *p)
{
	return model_env_delete(p->m, p->env);
}

int fs_critical_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_env e;
	int ret = model_env_get(p->m, p->env, &e);

	if (ret)
		return ret;
	v->mtime_ns = e.mtime_ns;
	return buf_addf(&v->buf, "%d\n", e.critical);
}

int fs_critical_store(const struct fs_path *p, const char *value)
{
	return model_env_set_critical(p->m, p->env, value);
}

/* -- runtimes ---------------------------------------------------------- */

int fs_runtime_lookup(struct fs_path *p, const char *name)
{
	struct model_runtime rt;
	int ret = model_runtime_get(p->m, p->env, name, &rt);

	if (!ret) {
		memcpy(p->runtime, rt.name, sizeof(p->runtime));
		p->runtime_id = rt.id;
	}
	return ret;
}

static int fill_runtime(void *ctx, const struct model_runtime *rt)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, rt->name);
}

int fs_runtime_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct model_runtime_filter mf = { dir->env, NULL, NULL };
	struct fill_ctx f = { fill, ctx };

	return model_runtime_list(dir->m, &mf, fill_runtime, &f);
}

static int64_t max_ns(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The last change of a runtime but its heartbeats' time: the ctime of
 * the files a heartbeat moves (see fill_stat() in ops.c).  It moves by
 * itself when the status turns, at status_until_ns. */
static int64_t changed_ns(const struct model_runtime *rt)
{
	return max_ns(max_ns(max_ns(rt->registered_ns, rt->status_ns),
			max_ns(rt->info_ns, rt->assigned_ns)),
			max_ns(rt->deployed_ns, rt->revoked_ns));
}

/* A runtime directory's mtime is its last heartbeat, so that `ls -lt` and
 * `find -mmin` speak of liveness; before any, its registration. */
int fs_runtime_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	int ret = fs_runtime(p, &rt);

	if (!ret) {
		v->mtime_ns = rt.heartbeat_ns ? rt.heartbeat_ns :
			rt.registered_ns;
		v->ctime_ns = changed_ns(&rt);
		v->until_ns = rt.status_until_ns;
	}
	return ret;
}

int fs_runtime_mkdir(const struct fs_path *dir, const char *name)
{
	return model_runtime_create(dir->m, dir->env, name, NULL, NULL);
}

int fs_runtime_rmdir(const struct fs_path *p)
{
	return model_runtime_delete(p->m, p->env, p->runtime);
}

/* -- runtime attributes ------------------------------------------------ */

static const char *reported(const char *s)
{
	return *s ? s : FS_NOT_REPORTED;
}

static int show_text(struct fs_value *v, const char *s, int64_t mtime)
{
	v->mtime_ns = mtime;
	return buf_addf(&v->buf, "%s\n", s);
}

static int show_time(struct fs_value *v, int64_t ns, int64_t mtime)
{
	char t[MODEL_TIME_MAX];

	model_time_format(ns, t);
	return show_text(v, t, mtime);
}

static int attr_id(const struct model_runtime *rt, struct fs_value *v)
{
	return show_text(v, rt->uuid, rt->registered_ns);
}

static int attr_type(const struct model_runtime *rt, struct fs_value *v)
{
	return show_text(v, rt->type, rt->registered_ns);
}

static int attr_project(const struct model_runtime *rt, struct fs_value *v)
{
	return show_text(v, rt->project, rt->assigned_ns);
}

static int attr_integration(const struct model_runtime *rt,
		struct fs_value *v)
{
	return show_text(v, rt->integration, rt->assigned_ns);
}

static int attr_environment(const struct model_runtime *rt,
		struct fs_value *v)
{
	return show_text(v, rt->env, rt->registered_ns);
}

static int attr_status(const struct model_runtime *rt, struct fs_value *v)
{
	v->until_ns = rt->status_until_ns;
	return show_text(v, rt->status, rt->status_ns);
}

static int attr_runtime_version(const struct model_runtime *rt,
		struct fs_value *v)
{
	return show_text(v, reported(rt->runtime_version), rt->info_ns);
}

static int attr_platform(const struct model_runtime *rt, struct fs_value *v)
{
	return show_text(v, reported(rt->platform), rt->info_ns);
}

static int attr_os(const struct model_runtime *rt, struct fs_value *v)
{
	return show_text(v, reported(rt->os), rt->info_ns);
}

static int attr_registered(const struct model_runtime *rt,
		struct fs_value *v)
{
	return show_time(v, rt->registered_ns, rt->registered_ns);
}

static int attr_last_heartbeat(const struct model_runtime *rt,
		struct fs_value *v)
{
	v->ctime_ns = changed_ns(rt);
	v->until_ns = rt->status_until_ns;
	return show_time(v, rt->heartbeat_ns, rt->heartbeat_ns ?
			rt->heartbeat_ns : rt->registered_ns);
}

/* Every other attribute, keyed by its file name, with the file's value. */
static int attr_json(const struct model_runtime *rt, struct fs_value *v)
{
	cJSON *o = cJSON_CreateObject();
	char reg[MODEL_TIME_MAX], hb[MODEL_TIME_MAX];
	char *text;
	int ret;

	model_time_format(rt->registered_ns, reg);
	model_time_format(rt->heartbeat_ns, hb);
	if (!o ||
	    !cJSON_AddStringToObject(o, "id", rt->uuid) ||
	    !cJSON_AddStringToObject(o, "name", rt->name) ||
	    !cJSON_AddStringToObject(o, "type", rt->type) ||
	    !cJSON_AddStringToObject(o, "project", rt->project) ||
	    !cJSON_AddStringToObject(o, "integration", rt->integration) ||
	    !cJSON_AddStringToObject(o, "environment", rt->env) ||
	    !cJSON_AddStringToObject(o, "status", rt->status) ||
	    !cJSON_AddStringToObject(o, "runtime_version",
			reported(rt->runtime_version)) ||
	    !cJSON_AddStringToObject(o, "platform", reported(rt->platform)) ||
	    !cJSON_AddStringToObject(o, "os", reported(rt->os)) ||
	    !cJSON_AddStringToObject(o, "registered", reg) ||
	    !cJSON_AddStringToObject(o, "last_heartbeat", hb) ||
	    !cJSON_AddStringToObject(o, "secret", rt->secret) ||
	    !(rt->latest_version ?
		cJSON_AddNumberToObject(o, "latest_version",
			(double)rt->latest_version) :
		cJSON_AddNullToObject(o, "latest_version")) ||
	    !(text = cJSON_Print(o))) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	cJSON_Delete(o);
	v->ctime_ns = changed_ns(rt);
	v->mtime_ns = max_ns(v->ctime_ns, rt->heartbeat_ns);
	v->until_ns = rt->status_until_ns;
	ret = buf_addf(&v->buf, "%s\n", text);
	cJSON_free(text);
	return ret;
}

#define RT_ANY FS_RT_ANY

/* Name, mode, show, present, unlink, show_at; then backups: restore (the
 * inverse of show, backup.c), how the file takes part, and whether a
 * backup of a runtime must hold it; then what of the runtime it shows
 * (tree.h, depends: what a change of it makes the kernel forget). */
const struct fs_attr fs_runtime_attrs[] = {
	{ "id", 0444, attr_id, NULL, NULL, NULL,
		fs_runtime_id_restore, FS_BACKUP_EXACT, 1, 0 },
	{ "type", 0444, attr_type, NULL, NULL, NULL,
		fs_runtime_type_restore, FS_BACKUP_EXACT, 1, 0 },
	{ "project", 0444, attr_project, NULL, NULL, NULL,
		fs_runtime_project_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_ASSIGNED },
	{ "integration", 0444, attr_integration, NULL, NULL, NULL,
		fs_runtime_integration_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_ASSIGNED },
	{ "environment", 0444, attr_environment, NULL, NULL, NULL,
		fs_runtime_environment_restore, FS_BACKUP_EXACT, 0, 0 },
	{ "status", 0444, attr_status, NULL, NULL, NULL,
		fs_runtime_status_restore, FS_BACKUP_PRESENCE, 0,
		MODEL_RT_STATUS },
	{ "runtime_version", 0444, attr_runtime_version, NULL, NULL, NULL,
		fs_runtime_version_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_INFO },
	{ "platform", 0444, attr_platform, NULL, NULL, NULL,
		fs_runtime_platform_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_INFO },
	{ "os", 0444, attr_os, NULL, NULL, NULL,
		fs_runtime_os_restore, FS_BACKUP_EXACT, 0, MODEL_RT_INFO },
	{ "registered", 0444, attr_registered, NULL, NULL, NULL,
		fs_runtime_registered_restore, FS_BACKUP_EXACT, 1, 0 },
	{ "last_heartbeat", 0444, attr_last_heartbeat, NULL, NULL, NULL,
		fs_runtime_heartbeat_restore, FS_BACKUP_PRESENCE, 0, RT_ANY },
	{ "runtime.json", 0444, attr_json, NULL, NULL, NULL,
		NULL, FS_BACKUP_PRESENCE, 0, RT_ANY },
	{ "secret", 0444, fs_runtime_secret_show, fs_runtime_secret_present,
		fs_runtime_secret_unlink, NULL,
		fs_runtime_secret_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_SECRET },
	{ "secret.toml", 0600, NULL, fs_runtime_secret_present, NULL,
		fs_runtime_secret_toml_show,
		fs_runtime_secret_toml_restore, FS_BACKUP_EXACT, 0,
		MODEL_RT_SECRET },
	{ "reported.json", 0444, NULL, fs_runtime_reported_present, NULL,
		fs_runtime_reported_show, NULL, FS_BACKUP_PRESENCE, 0,
		MODEL_RT_INFO },
	{ NULL, 0, NULL, NULL, NULL, NULL, NULL, FS_BACKUP_EXACT, 0, 0 }
};

/* Whether runtime `p` has attribute `a`. */
static int attr_present(const struct fs_path *p, const struct fs_attr *a)
{
	struct model_runtime rt;

	if (!a->present)
		return 1;
	return !fs_runtime(p, &rt) &&
		a->present(&rt);
}

int fs_attr_lookup(struct fs_path *p, const char *name)
{
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++)
		if (!strcmp(a->name, name)) {
			if (!attr_present(p, a))
				return -ENOENT;
			p->attr = a;
			return 0;
		}
	return -ENOENT;
}

int fs_attr_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++) {
		int ret = attr_present(dir, a) ? fill(ctx, a->name) : 0;

		if (ret)
			return ret;
	}
	return 0;
}

int fs_attr_unlink(const struct fs_path *p)
{
	if (!p->attr->unlink)
		return fs_fail(-EPERM, "removing this file is not allowed"
				" here");
	return p->attr->unlink(p);
}

int fs_attr_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	int ret = fs_runtime(p, &rt);

	if (!ret && p->attr->show_at)
		return p->attr->show_at(p, v);
	return ret ? ret : p->attr->show(&rt, v);
}
