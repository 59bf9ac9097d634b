/*
 * artifact.c - handlers for what an integration runtime reports:
 * environments/ENV/runtimes/NAME/artifacts/KIND/NAME/ (artifact.json,
 * and ctl where ICP can act on the artifact) and reported.json.
 */
#include "fs.h"
#include "nodes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A list callback that stops at the first name: there is one. */
static int stop_at_first(void *ctx, const struct model_artifact *a)
{
	(void)ctx;
	(void)a;
	return -ECANCELED;
}

/* The artifacts directory and a kind's: the runtime's artifacts
 * changed last then (its registration before any). */
int fs_artifacts_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	int ret = fs_runtime(p, &rt);

	if (!ret && p->node->kind == FS_ARTIFACT_KIND &&
	    (ret = model_artifact_list(p->m, p->env, p->runtime, p->kind,
			stop_at_first, NULL)) == 0)
		ret = -ENOENT;
	if (ret && ret != -ECANCELED)
		return ret;
	v->mtime_ns = rt.artifacts_ns ? rt.artifacts_ns : rt.registered_ns;
	return 0;
}

int fs_artifact_kind_lookup(struct fs_path *p, const char *name)
{
	int ret;

	if (strlen(name) >= sizeof(p->kind))
		return -ENOENT;
	ret = model_artifact_list(p->m, p->env, p->runtime, name,
			stop_at_first, NULL);
	if (ret != -ECANCELED)
		return ret ? ret : -ENOENT;
	strcpy(p->kind, name);
	return 0;
}

struct fill_ctx {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_kind(void *ctx, const char *kind)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, kind);
}

int fs_artifact_kind_list(const struct fs_path *dir, fs_fill_fn fill,
		void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_artifact_kinds(dir->m, dir->env, dir->runtime, fill_kind,
			&f);
}

int fs_artifact_lookup(struct fs_path *p, const char *name)
{
	struct model_artifact a;
	int ret;

	if (strlen(name) >= sizeof(p->artifact))
		return -ENOENT;
	ret = model_artifact_get(p->m, p->env, p->runtime, p->kind, name, &a,
			NULL);
	if (!ret)
		strcpy(p->artifact, a.name);
	return ret;
}

static int fill_artifact(void *ctx, const struct model_artifact *a)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, a->name);
}

int fs_artifact_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_ctx f = { fill, ctx };

	return model_artifact_list(dir->m, dir->env, dir->runtime, dir->kind,
			fill_artifact, &f);
}

/* An artifact's directory and its ctl: when it was last reported
 * other than before. */
int fs_artifact_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	struct model_artifact a;
	int ret = fs_runtime(p, &rt);

	if (!ret)
		ret = model_artifact_get(p->m, p->env, p->runtime, p->kind,
				p->artifact, &a, NULL);
	if (!ret)
		v->mtime_ns = a.changed_ns;
	return ret;
}

int fs_artifact_json_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	struct model_artifact a;
	char *doc = NULL;
	int ret = fs_runtime(p, &rt);

	if (!ret)
		ret = model_artifact_get(p->m, p->env, p->runtime, p->kind,
				p->artifact, &a, &doc);
	if (!ret) {
		v->mtime_ns = a.changed_ns;
		ret = buf_add(&v->buf, doc, strlen(doc));
	}
	free(doc);
	return ret;
}

/* ctl is there where ICP can act on the artifact: a BI runtime's
 * listeners, and the MI artifacts ICP drives through MI's management
 * API (whose ctl says why runtimefs does not). */
int fs_artifact_ctl_present(const struct fs_path *dir)
{
	struct model_runtime rt;

	return !fs_runtime(dir, &rt) && model_artifact_ctl_of(rt.type,
			dir->kind);
}

int fs_artifact_ctl_store(const struct fs_path *p, const char *value)
{
	return model_artifact_ctl(p->m, p->env, p->runtime, p->kind,
			p->artifact, value);
}

/* reported.json: integration runtimes report, agent runtimes do not. */
int fs_runtime_reported_present(const struct model_runtime *rt)
{
	return strcmp(rt->type, "agent") != 0;
}

int fs_runtime_reported_show(const struct fs_path *p, struct fs_value *v)
{
	char *doc = NULL;
	int ret = model_runtime_reported(p->m, p->env, p->runtime, &doc,
			&v->mtime_ns);

	if (!ret)
		ret = buf_add(&v->buf, doc, strlen(doc));
	free(doc);
	return ret;
}
