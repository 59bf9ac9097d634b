/*
 * tree.c - the table of node kinds and path resolution over it.
 */
#include "tree.h"
#include "inode.h"
#include "nodes.h"
#include "../store/errmsg.h"
#include "backup.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIR_MODE (S_IFDIR | 0755)
#define RO_FILE (S_IFREG | 0444)
#define RW_FILE (S_IFREG | 0644)
#define LINK_MODE (S_IFLNK | 0777)
#define SECRET_FILE (S_IFREG | 0600)

#define RT_ANY FS_RT_ANY
#define RT_ENDPOINT MODEL_RT_ENDPOINTS

const struct fs_node fs_nodes[FS_KIND_COUNT] = {
	[FS_ROOT] = { .kind = FS_ROOT, .parent = FS_KIND_COUNT,
		.mode = DIR_MODE, .show = fs_show_started },
	[FS_README] = { .kind = FS_README, .parent = FS_ROOT,
		.name = "README", .mode = RO_FILE, .live_only = 1,
		.show = fs_readme_show,
		.backup = FS_BACKUP_SKIP },
	[FS_LAST_ERROR] = { .kind = FS_LAST_ERROR, .parent = FS_ROOT,
		.name = ".last_error", .mode = RO_FILE, .direct_io = 1,
		.live_only = 1, .show = fs_last_error_show,
		.backup = FS_BACKUP_SKIP },
	[FS_EVENTS] = { .kind = FS_EVENTS, .parent = FS_ROOT,
		.name = "events", .mode = RO_FILE, .direct_io = 1,
		.live_only = 1, .unlisted = 1, .stream = FS_STREAM_EVENTS,
		.show = fs_events_show,
		.backup = FS_BACKUP_SKIP },
	[FS_AUDIT] = { .kind = FS_AUDIT, .parent = FS_ROOT,
		.name = "audit", .mode = S_IFREG | 0440, .direct_io = 1,
		.stream = FS_STREAM_AUDIT, .show = fs_audit_show,
		.backup = FS_BACKUP_PRESENCE, .restore = fs_audit_restore },
	[FS_ENVS] = { .kind = FS_ENVS, .parent = FS_ROOT,
		.name = "environments", .mode = DIR_MODE,
		.show = fs_show_started },
	[FS_ENV] = { .kind = FS_ENV, .parent = FS_ENVS, .mode = DIR_MODE,
		.lookup = fs_env_lookup, .list = fs_env_list,
		.show = fs_env_show, .mkdir = fs_env_mkdir,
		.rmdir = fs_env_rmdir,
		.restore = fs_env_restore },
	[FS_ENV_CRITICAL] = { .kind = FS_ENV_CRITICAL, .parent = FS_ENV,
		.name = "critical", .mode = RW_FILE,
		.show = fs_critical_show, .store = fs_critical_store,
		.backup_required = 1, .restore = fs_critical_restore },
	[FS_ENV_RUNTIMES] = { .kind = FS_ENV_RUNTIMES, .parent = FS_ENV,
		.name = "runtimes", .mode = DIR_MODE, .show = fs_env_show },
	[FS_RUNTIME] = { .kind = FS_RUNTIME, .parent = FS_ENV_RUNTIMES,
		.mode = DIR_MODE, .lookup = fs_runtime_lookup,
		.list = fs_runtime_list, .show = fs_runtime_show,
		.mkdir = fs_runtime_mkdir, .rmdir = fs_runtime_rmdir,
		.depends = RT_ANY, .lists = MODEL_RT_SECRET,
		.restore = fs_runtime_restore },
	[FS_RUNTIME_ATTR] = { .kind = FS_RUNTIME_ATTR, .parent = FS_RUNTIME,
		.mode = RO_FILE, .lookup = fs_attr_lookup,
		.list = fs_attr_list, .show = fs_attr_show,
		.unlink = fs_attr_unlink,
		.restore = fs_attr_restore },
	[FS_PROJECTS] = { .kind = FS_PROJECTS, .parent = FS_ROOT,
		.name = "projects", .mode = DIR_MODE,
		.show = fs_show_started },
	[FS_PROJECT] = { .kind = FS_PROJECT, .parent = FS_PROJECTS,
		.mode = DIR_MODE, .lookup = fs_project_lookup,
		.list = fs_project_list, .show = fs_project_show,
		.mkdir = fs_project_mkdir, .rmdir = fs_project_rmdir,
		.restore = fs_project_restore },
	[FS_PROJECT_RUNTIMES] = { .kind = FS_PROJECT_RUNTIMES,
		.parent = FS_PROJECT, .name = "runtimes", .mode = DIR_MODE,
		.readonly = 1, .show = fs_project_show },
	[FS_PROJECT_RUNTIMES_ENV] = { .kind = FS_PROJECT_RUNTIMES_ENV,
		.parent = FS_PROJECT_RUNTIMES, .mode = DIR_MODE,
		.readonly = 1, .lookup = fs_scope_env_lookup,
		.list = fs_env_list, .show = fs_env_show },
	[FS_PROJECT_RUNTIME_LINK] = { .kind = FS_PROJECT_RUNTIME_LINK,
		.parent = FS_PROJECT_RUNTIMES_ENV, .mode = LINK_MODE,
		.readonly = 1, .lookup = fs_link_lookup,
		.list = fs_link_list, .show = fs_link_show,
		.restore = fs_link_restore },
	[FS_INTEGRATIONS] = { .kind = FS_INTEGRATIONS, .parent = FS_PROJECT,
		.name = "integrations", .mode = DIR_MODE,
		.show = fs_project_show },
	[FS_INTEGRATION] = { .kind = FS_INTEGRATION,
		.parent = FS_INTEGRATIONS, .mode = DIR_MODE,
		.lookup = fs_integration_lookup, .list = fs_integration_list,
		.show = fs_integration_show, .mkdir = fs_integration_mkdir,
		.rmdir = fs_integration_rmdir,
		.restore = fs_integration_restore },
	[FS_INTEGRATION_TYPE] = { .kind = FS_INTEGRATION_TYPE,
		.parent = FS_INTEGRATION, .name = "type", .mode = RW_FILE,
		.show = fs_type_show, .store = fs_type_store,
		.backup_required = 1, .restore = fs_type_restore },
	[FS_INTEGRATION_RUNTIMES] = { .kind = FS_INTEGRATION_RUNTIMES,
		.parent = FS_INTEGRATION, .name = "runtimes",
		.mode = DIR_MODE, .show = fs_integration_show },
	[FS_INTEGRATION_RUNTIMES_ENV] = { .kind = FS_INTEGRATION_RUNTIMES_ENV,
		.parent = FS_INTEGRATION_RUNTIMES, .mode = DIR_MODE,
		.lookup = fs_scope_env_lookup, .list = fs_env_list,
		.show = fs_env_show },
	[FS_INTEGRATION_RUNTIME_LINK] = { .kind = FS_INTEGRATION_RUNTIME_LINK,
		.parent = FS_INTEGRATION_RUNTIMES_ENV, .mode = LINK_MODE,
		.lookup = fs_link_lookup, .list = fs_link_list,
		.show = fs_link_show, .unlink = fs_link_unlink,
		.symlink = fs_link_symlink,
		.restore = fs_link_restore },
	[FS_SNAPSHOTS] = { .kind = FS_SNAPSHOTS, .parent = FS_ROOT,
		.name = "snapshots", .mode = DIR_MODE, .live_only = 1,
		.show = fs_show_started,
		.backup = FS_BACKUP_SKIP },
	[FS_SNAPSHOT] = { .kind = FS_SNAPSHOT, .parent = FS_SNAPSHOTS,
		.mode = DIR_MODE, .frozen = 1, .root_alias = 1,
		.lookup = fs_snapshot_lookup, .list = fs_snapshot_list,
		.show = fs_snapshot_show, .mkdir = fs_snapshot_mkdir,
		.rmdir = fs_snapshot_rmdir },
	[FS_RUNTIME_SPEC] = { .kind = FS_RUNTIME_SPEC, .parent = FS_RUNTIME,
		.name = "spec", .mode = RW_FILE, .document = 1,
		.show = fs_spec_show, .store = fs_spec_store,
		.depends = MODEL_RT_VERSIONS,
		.restore = fs_spec_restore },
	[FS_RUNTIME_CTL] = { .kind = FS_RUNTIME_CTL, .parent = FS_RUNTIME,
		.name = "ctl", .mode = S_IFREG | 0200,
		.show = fs_runtime_show, .store = fs_ctl_store,
		.depends = RT_ANY },
	[FS_RUNTIME_SERVICE_ACCOUNT] = { .kind = FS_RUNTIME_SERVICE_ACCOUNT,
		.parent = FS_RUNTIME, .name = "service_account",
		.mode = S_IFREG | 0600, .show = fs_service_account_show,
		.depends = MODEL_RT_ACCOUNT,
		.restore = fs_service_account_restore },
	[FS_VERSIONS] = { .kind = FS_VERSIONS, .parent = FS_RUNTIME,
		.name = "versions", .mode = DIR_MODE,
		.show = fs_deploy_dir_show,
		.depends = MODEL_RT_VERSIONS, .lists = MODEL_RT_VERSIONS },
	[FS_VERSION] = { .kind = FS_VERSION, .parent = FS_VERSIONS,
		.mode = RO_FILE, .lookup = fs_version_lookup,
		.list = fs_version_list, .show = fs_version_show,
		.unlink = fs_version_unlink,
		.restore = fs_version_restore },
	[FS_ENDPOINTS] = { .kind = FS_ENDPOINTS, .parent = FS_RUNTIME,
		.name = "endpoints", .mode = DIR_MODE,
		.show = fs_deploy_dir_show,
		.depends = MODEL_RT_VERSIONS,
		.lists = MODEL_RT_ENDPOINT_NAMES },
	[FS_ENDPOINT] = { .kind = FS_ENDPOINT, .parent = FS_ENDPOINTS,
		.mode = DIR_MODE, .lookup = fs_endpoint_lookup,
		.list = fs_endpoint_list, .show = fs_endpoint_show,
		.mkdir = fs_endpoint_mkdir, .rmdir = fs_endpoint_rmdir,
		.depends = RT_ENDPOINT,
		.restore = fs_endpoint_restore },
	[FS_ENDPOINT_VERSION] = { .kind = FS_ENDPOINT_VERSION,
		.parent = FS_ENDPOINT, .name = "version", .mode = RW_FILE,
		.show = fs_endpoint_version_show,
		.store = fs_endpoint_version_store,
		.depends = RT_ENDPOINT,
		.backup_required = 1, .restore = fs_endpoint_version_restore },
	[FS_ENDPOINT_URL] = { .kind = FS_ENDPOINT_URL, .parent = FS_ENDPOINT,
		.name = "url", .mode = RO_FILE,
		.show = fs_endpoint_url_show,
		.backup = FS_BACKUP_PRESENCE },
	[FS_ENDPOINT_STATUS] = { .kind = FS_ENDPOINT_STATUS,
		.parent = FS_ENDPOINT, .name = "status", .mode = RO_FILE,
		.show = fs_endpoint_status_show,
		.depends = RT_ENDPOINT,
		.backup = FS_BACKUP_PRESENCE },
	[FS_ENDPOINT_ID] = { .kind = FS_ENDPOINT_ID, .parent = FS_ENDPOINT,
		.name = "id", .mode = RO_FILE, .show = fs_endpoint_id_show,
		.backup_required = 1, .restore = fs_endpoint_id_restore },
	[FS_ENDPOINT_CREATED] = { .kind = FS_ENDPOINT_CREATED,
		.parent = FS_ENDPOINT, .name = "created", .mode = RO_FILE,
		.show = fs_endpoint_created_show,
		.backup_required = 1, .restore = fs_endpoint_created_restore },
	[FS_ENDPOINT_UPDATED] = { .kind = FS_ENDPOINT_UPDATED,
		.parent = FS_ENDPOINT, .name = "updated", .mode = RO_FILE,
		.show = fs_endpoint_updated_show,
		.depends = RT_ENDPOINT,
		.backup_required = 1, .restore = fs_endpoint_updated_restore },
	[FS_HEARTBEAT] = { .kind = FS_HEARTBEAT, .parent = FS_ROOT,
		.name = "heartbeat", .mode = SECRET_FILE, .direct_io = 1,
		.live_only = 1,
		.show = fs_show_started, .write = fs_heartbeat_write,
		.backup = FS_BACKUP_SKIP },
	[FS_ENV_SECRETS] = { .kind = FS_ENV_SECRETS, .parent = FS_ENV,
		.name = "secrets", .mode = DIR_MODE, .show = fs_env_show },
	[FS_SECRET] = { .kind = FS_SECRET, .parent = FS_ENV_SECRETS,
		.mode = SECRET_FILE, .lookup = fs_secret_lookup,
		.list = fs_secret_list, .show = fs_secret_show,
		.store = fs_secret_store, .unlink = fs_secret_unlink,
		.create = fs_secret_create,
		.restore = fs_secret_restore },
	[FS_INTEGRATION_SECRETS] = { .kind = FS_INTEGRATION_SECRETS,
		.parent = FS_INTEGRATION, .name = "secrets",
		.mode = DIR_MODE, .show = fs_integration_show },
	[FS_INTEGRATION_SECRETS_ENV] = { .kind = FS_INTEGRATION_SECRETS_ENV,
		.parent = FS_INTEGRATION_SECRETS, .mode = DIR_MODE,
		.lookup = fs_scope_env_lookup, .list = fs_env_list,
		.show = fs_env_show },
	[FS_INTEGRATION_SECRET] = { .kind = FS_INTEGRATION_SECRET,
		.parent = FS_INTEGRATION_SECRETS_ENV, .mode = SECRET_FILE,
		.lookup = fs_secret_lookup, .list = fs_secret_list,
		.show = fs_secret_show, .store = fs_secret_store,
		.unlink = fs_secret_unlink, .create = fs_secret_create,
		.restore = fs_integration_secret_restore },
	/* what a runtime reported: a runtime sends it again, so a backup
	 * leaves it out (the next full heartbeat brings it back) */
	[FS_ARTIFACTS] = { .kind = FS_ARTIFACTS, .parent = FS_RUNTIME,
		.name = "artifacts", .mode = DIR_MODE,
		.show = fs_artifacts_show, .present = fs_artifacts_present,
		.depends = MODEL_RT_ARTIFACTS, .lists = MODEL_RT_ARTIFACTS,
		.backup = FS_BACKUP_SKIP },
	[FS_ARTIFACT_KIND] = { .kind = FS_ARTIFACT_KIND,
		.parent = FS_ARTIFACTS, .mode = DIR_MODE,
		.lookup = fs_artifact_kind_lookup,
		.list = fs_artifact_kind_list, .show = fs_artifacts_show,
		.depends = MODEL_RT_ARTIFACTS, .lists = MODEL_RT_ARTIFACTS },
	[FS_ARTIFACT] = { .kind = FS_ARTIFACT, .parent = FS_ARTIFACT_KIND,
		.mode = DIR_MODE, .lookup = fs_artifact_lookup,
		.list = fs_artifact_list, .show = fs_artifact_show,
		.depends = MODEL_RT_ARTIFACTS },
	[FS_ARTIFACT_JSON] = { .kind = FS_ARTIFACT_JSON,
		.parent = FS_ARTIFACT, .name = "artifact.json",
		.mode = RO_FILE, .show = fs_artifact_json_show,
		.depends = MODEL_RT_ARTIFACTS },
	[FS_ARTIFACT_CTL] = { .kind = FS_ARTIFACT_CTL, .parent = FS_ARTIFACT,
		.name = "ctl", .mode = S_IFREG | 0200,
		.show = fs_artifact_show, .store = fs_artifact_ctl_store,
		.present = fs_artifact_ctl_present,
		.depends = MODEL_RT_ARTIFACTS },
	[FS_PROJECT_DISPLAY] = { .kind = FS_PROJECT_DISPLAY,
		.parent = FS_PROJECT, .name = "display_name", .mode = RO_FILE,
		.show = fs_project_display_show,
		.restore = fs_display_restore },
	[FS_INTEGRATION_DISPLAY] = { .kind = FS_INTEGRATION_DISPLAY,
		.parent = FS_INTEGRATION, .name = "display_name",
		.mode = RO_FILE, .show = fs_integration_display_show,
		.restore = fs_display_restore },
};

int fs_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vset(err, fmt, ap);
	va_end(ap);
	return err;
}

const char *fs_errmsg(void)
{
	return errmsg();
}

void fs_errclear(void)
{
	errmsg_clear();
}

mode_t fs_mode(const struct fs_path *p)
{
	return fs_access_mode(p, p->attr ? (S_IFREG | p->attr->mode) :
			p->node->mode);
}

/* Whether `n` is a child of the directory `dir` (a snapshot's children
 * are those of the root that are not live only). */
static int child_of(const struct fs_node *n, const struct fs_node *dir)
{
	if (dir->root_alias)
		return n->parent == FS_ROOT && !n->live_only;
	return n->parent == dir->kind;
}

const struct fs_node *fs_named_child(const struct fs_path *dir)
{
	for (int k = 0; k < FS_KIND_COUNT; k++)
		if (child_of(&fs_nodes[k], dir->node) && !fs_nodes[k].name)
			return &fs_nodes[k];
	return NULL;
}

int fs_step(struct fs_path *p, const char *name)
{
	const struct fs_node *named = NULL;
	const struct fs_node *dir = p->node;
	int ret;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	for (int k = 0; k < FS_KIND_COUNT; k++) {
		const struct fs_node *n = &fs_nodes[k];

		if (!child_of(n, dir))
			continue;
		if (!n->name) {
			named = n;
		} else if (!strcmp(n->name, name)) {
			if (n->present && !n->present(p))
				return -ENOENT;
			p->node = n;
			p->readonly |= n->readonly | dir->frozen;
			return 0;
		}
	}
	if (!named)
		return -ENOENT;
	/* a name that is not one of this kind is not there; a store that
	 * fails to answer is said as it is, not taken for "not there" */
	ret = named->lookup(p, name);
	if (ret == -EINVAL || ret == -ENAMETOOLONG)
		return -ENOENT;
	if (ret)
		return ret;
	p->node = named;
	p->readonly |= named->readonly | dir->frozen;
	return 0;
}

/* Puts `name`, the name of an object of kind `k`, where `p` keeps it. */
static int take_name(struct fs_path *p, const struct fs_node *k,
		const struct inode_link *l)
{
	char *field = NULL;

	switch (k->kind) {
	case FS_ENV:
	case FS_PROJECT_RUNTIMES_ENV:
	case FS_INTEGRATION_RUNTIMES_ENV:
	case FS_INTEGRATION_SECRETS_ENV:
		field = p->env;
		break;
	case FS_PROJECT:
		field = p->project;
		break;
	case FS_INTEGRATION:
		field = p->integration;
		break;
	case FS_RUNTIME:
	case FS_PROJECT_RUNTIME_LINK:
	case FS_INTEGRATION_RUNTIME_LINK:
		field = p->runtime;
		p->runtime_id = l->obj.id;
		break;
	case FS_ENDPOINT:
		field = p->endpoint;
		break;
	case FS_SECRET:
	case FS_INTEGRATION_SECRET:
		field = p->secret;
		break;
	case FS_VERSION:
		p->version = strtoll(l->name, NULL, 10);
		return 0;
	case FS_ARTIFACT_KIND:
		if (strlen(l->name) >= sizeof(p->kind))
			return -ENOENT;
		strcpy(p->kind, l->name);
		return 0;
	case FS_ARTIFACT:
		if (strlen(l->name) >= sizeof(p->artifact))
			return -ENOENT;
		strcpy(p->artifact, l->name);
		return 0;
	case FS_RUNTIME_ATTR:
		p->attr = l->obj.attr;
		return 0;
	case FS_SNAPSHOT:
		/* its model, held until the request ends */
		return k->lookup(p, l->name);
	default:
		return 0;
	}
	if (strlen(l->name) >= MODEL_NAME_MAX)
		return -ENOENT;
	strcpy(field, l->name);
	return 0;
}

int fs_path_add(struct fs_path *p, const struct inode_link *l)
{
	const struct fs_node *dir = p->node, *k;
	int ret;

	if (l->obj.kind < 0 || l->obj.kind >= FS_KIND_COUNT)
		return -ENOENT;
	k = &fs_nodes[l->obj.kind];
	if ((ret = take_name(p, k, l)))
		return ret;
	p->node = k;
	p->readonly |= k->readonly | dir->frozen;
	return 0;
}

int fs_path_of(struct model *live, const struct inode_link *links, int n,
		struct fs_path *out)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->node = &fs_nodes[FS_ROOT];
	out->m = live;
	out->live = live;
	for (int i = 0; i < n && !ret; i++)
		ret = fs_path_add(out, &links[i]);
	return ret;
}

int fs_show(const struct fs_path *p, struct fs_value *v, size_t cap)
{
	buf_init(&v->buf, cap);
	v->mtime_ns = 0;
	v->ctime_ns = 0;
	v->until_ns = 0;
	return p->node->show ? p->node->show(p, v) : 0;
}

int fs_runtime(const struct fs_path *p, struct model_runtime *rt)
{
	int ret = model_runtime_get(p->m, p->env, p->runtime, rt);

	if (!ret && p->runtime_id && rt->id != p->runtime_id)
		ret = -ESTALE;
	return ret;
}

int fs_resolve(struct model *m, const char *path, struct fs_path *out)
{
	char name[NAME_MAX + 1];

	memset(out, 0, sizeof(*out));
	out->node = &fs_nodes[FS_ROOT];
	out->m = m;
	out->live = m;
	while (*path) {
		size_t len;
		int ret;

		while (*path == '/')
			path++;
		len = strcspn(path, "/");
		if (!len)
			break;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, path, len);
		name[len] = '\0';
		path += len;
		ret = fs_step(out, name);
		if (ret)
			return ret;
	}
	return 0;
}

int fs_resolve_parent(struct model *m, const char *path, struct fs_path *dir,
		char *name)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	size_t plen, nlen;

	if (!slash)
		return -ENOENT;
	nlen = strlen(slash + 1);
	if (nlen > NAME_MAX)
		return -ENAMETOOLONG;
	plen = (size_t)(slash - path);
	if (plen >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	memcpy(name, slash + 1, nlen + 1);
	return fs_resolve(m, parent, dir);
}

struct typed {
	fs_fill_typed_fn fill;
	void *ctx;
	mode_t type;
};

static int fill_named(void *ctx, const char *name)
{
	struct typed *t = ctx;

	return t->fill(t->ctx, name, t->type);
}

int fs_list_typed(const struct fs_path *dir, fs_fill_typed_fn fill,
		void *ctx)
{
	const struct fs_node *named = NULL;
	int ret;

	for (int k = 0; k < FS_KIND_COUNT; k++) {
		const struct fs_node *n = &fs_nodes[k];

		if (!child_of(n, dir->node))
			continue;
		if (!n->name) {
			named = n;
			continue;
		}
		if ((n->present && !n->present(dir)) || n->unlisted)
			continue;
		ret = fill(ctx, n->name, n->mode & S_IFMT);
		if (ret)
			return ret;
	}
	if (named && named->list) {
		struct typed t = { fill, ctx, named->mode & S_IFMT };

		return named->list(dir, fill_named, &t);
	}
	return 0;
}

/* fs_list() through fs_list_typed(). */
struct untyped {
	fs_fill_fn fill;
	void *ctx;
};

static int drop_type(void *ctx, const char *name, mode_t type)
{
	struct untyped *u = ctx;

	(void)type;
	return u->fill(u->ctx, name);
}

int fs_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct untyped u = { fill, ctx };

	return fs_list_typed(dir, drop_type, &u);
}
