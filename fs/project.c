/*
 * project.c - handlers for projects/: projects, their integrations, and the
 * runtime links that give the project and integration views.
 *
 * A view lists every environment, and under each the runtimes of the
 * project (or integration) as symlinks to their one canonical directory,
 * environments/ENV/runtimes/NAME.  The project view is read-only; at the
 * integration level `rm` of a link deletes the runtime and `ln -s` of a
 * canonical runtime directory assigns that agent runtime to the
 * integration.
 */
#include "nodes.h"
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct fill_ctx {
	fs_fill_fn fill;
	void *ctx;
};

int fs_project_lookup(struct fs_path *p, const char *name)
{
	struct model_project pr;
	int ret = model_project_get(p->m, name, &pr);

	if (!ret)
		memcpy(p->project, pr.name, sizeof(p->project));
	return ret;
}

static int fill_project(void *ctx, const struct model_project *pr)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, pr->name);
}

int fs_project_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_project_list(dir->m, fill_project, &f);
}

int fs_project_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_project pr;
	int ret = model_project_get(p->m, p->project, &pr);

	if (!ret)
		v->mtime_ns = pr.created_ns;
	return ret;
}

/* The name the first heartbeat of a runtime of the project gave it,
 * before ICP's toHandler() made its name of it ("Order Management" for
 * order-management); the name itself for one made otherwise. */
int fs_project_display_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_project pr;
	int ret = model_project_get(p->m, p->project, &pr);

	if (ret)
		return ret;
	v->mtime_ns = pr.created_ns;
	return buf_addf(&v->buf, "%s\n", *pr.display ? pr.display : pr.name);
}

int fs_project_mkdir(const struct fs_path *dir, const char *name)
{
	return model_project_create(dir->m, name);
}

int fs_project_rmdir(const struct fs_path *p)
{
	return model_project_delete(p->m, p->project);
}

int fs_integration_lookup(struct fs_path *p, const char *name)
{
	struct model_integration in;
	int ret = model_integration_get(p->m, p->project, name, &in);

	if (!ret)
		memcpy(p->integration, in.name, sizeof(p->integration));
	return ret;
}

static int fill_integration(void *ctx, const struct model_integration *in)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, in->name);
}

int fs_integration_list(const struct fs_path *dir, fs_fill_fn fill,
		void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_integration_list(dir->m, dir->project, fill_integration,
			&f);
}

int fs_integration_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_integration in;
	int ret = model_integration_get(p->m, p->project, p->integration,
			&in);

	if (!ret)
		v->mtime_ns = in.created_ns;
	return ret;
}

/* As a project's: the component name a heartbeat gave. */
int fs_integration_display_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_integration in;
	int ret = model_integration_get(p->m, p->project, p->integration,
			&in);

	if (ret)
		return ret;
	v->mtime_ns = in.created_ns;
	return buf_addf(&v->buf, "%s\n", *in.display ? in.display : in.name);
}

int fs_integration_mkdir(const struct fs_path *dir, const char *name)
{
	return model_integration_create(dir->m, dir->project, name);
}

int fs_integration_rmdir(const struct fs_path *p)
{
	return model_integration_delete(p->m, p->project, p->integration);
}

int fs_type_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_integration in;
	int ret = model_integration_get(p->m, p->project, p->integration,
			&in);

	if (ret)
		return ret;
	v->mtime_ns = in.mtime_ns;
	return buf_addf(&v->buf, "%s\n", in.type);
}

int fs_type_store(const struct fs_path *p, const char *value)
{
	return model_integration_set_type(p->m, p->project, p->integration,
			value);
}

/* An environment directory inside a view. */
int fs_scope_env_lookup(struct fs_path *p, const char *name)
{
	return fs_env_lookup(p, name);
}

/* -- runtime links ----------------------------------------------------- */

/* Whether the link sits at integration level (else project level). */
static int at_integration(const struct fs_path *p)
{
	return p->node->kind == FS_INTEGRATION_RUNTIME_LINK ||
		p->node->kind == FS_INTEGRATION_RUNTIMES_ENV;
}

static int in_view(const struct fs_path *p, const struct model_runtime *rt)
{
	if (strcmp(rt->project, p->project))
		return 0;
	return !at_integration(p) || !strcmp(rt->integration, p->integration);
}

int fs_link_lookup(struct fs_path *p, const char *name)
{
	struct model_runtime rt;
	int ret = model_runtime_get(p->m, p->env, name, &rt);

	if (ret)
		return ret;
	if (!in_view(p, &rt))
		return -ENOENT;
	memcpy(p->runtime, rt.name, sizeof(p->runtime));
	p->runtime_id = rt.id;
	return 0;
}

static int fill_runtime(void *ctx, const struct model_runtime *rt)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, rt->name);
}

int fs_link_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct model_runtime_filter mf = { dir->env, dir->project,
		at_integration(dir) ? dir->integration : NULL };
	struct fill_ctx f = { fill, ctx };

	return model_runtime_list(dir->m, &mf, fill_runtime, &f);
}

int fs_link_target(struct buf *b, int integration, const char *env,
		const char *name)
{
	return buf_addf(b, "%senvironments/%s/runtimes/%s",
			integration ? "../../../../../../" : "../../../../",
			env, name);
}

int fs_link_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	int ret = fs_runtime(p, &rt);

	if (ret)
		return ret;
	v->mtime_ns = rt.assigned_ns;
	return fs_link_target(&v->buf, at_integration(p), p->env, p->runtime);
}

int fs_link_unlink(const struct fs_path *p)
{
	return model_runtime_delete(p->m, p->env, p->runtime);
}

/* `ln -s TARGET LINK` where TARGET is the runtime's canonical directory
 * (relative as the tree shows it, or any path ending in
 * environments/ENV/runtimes/NAME) and LINK is named NAME. */
int fs_link_symlink(const struct fs_path *dir, const char *name,
		const char *target)
{
	char want[MODEL_NAME_MAX * 2 + 32];
	size_t tlen = strlen(target), wlen;

	snprintf(want, sizeof(want), "environments/%s/runtimes/%s", dir->env,
			name);
	wlen = strlen(want);
	if (tlen < wlen || strcmp(target + tlen - wlen, want) ||
	    (tlen > wlen && target[tlen - wlen - 1] != '/'))
		return fs_fail(-EINVAL, "a runtime link named '%s' here must"
				" point at ../../../../../../%s", name, want);
	return model_runtime_assign(dir->m, dir->env, name, dir->project,
			dir->integration);
}
