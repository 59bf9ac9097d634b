/*
 * deploy.c - handlers for the deploy part of a runtime directory: spec,
 * ctl, service_account, versions/N and endpoints/NAME with its files.
 */
#include "fs.h"
#include "nodes.h"
#include "request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fs_endpoint_base = FS_ENDPOINT_BASE_DEFAULT;

/* Adds a malloc'd text to the value and frees it. */
static int take_text(struct fs_value *v, char *text, int64_t mtime)
{
	int ret = buf_add(&v->buf, text, strlen(text));

	free(text);
	v->mtime_ns = mtime;
	return ret;
}

int fs_spec_show(const struct fs_path *p, struct fs_value *v)
{
	char *text = NULL;
	int64_t mtime = 0;
	int ret = model_spec_get(p->m, p->env, p->runtime, &text, &mtime);

	return ret ? ret : take_text(v, text, mtime);
}

int fs_spec_store(const struct fs_path *p, const char *value)
{
	return model_deploy(p->m, p->env, p->runtime, value, strlen(value),
			NULL);
}

int fs_ctl_store(const struct fs_path *p, const char *value)
{
	return model_runtime_ctl(p->m, p->env, p->runtime, value);
}

int fs_service_account_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_service_account sa;
	int ret = model_service_account_get(p->m, p->env, p->runtime, &sa);

	if (ret)
		return ret;
	v->mtime_ns = sa.created_ns;
	ret = buf_addf(&v->buf, "%s\n", sa.credential);
	memset(&sa, 0, sizeof(sa));
	return ret;
}

/* -- versions ---------------------------------------------------------- */

int fs_version_name(const char *name, int64_t *out)
{
	/* one name per version: "01" is not version 1's */
	if (*name == '0' || model_version_parse(name, out))
		return -ENOENT;
	return 0;
}

int fs_version_lookup(struct fs_path *p, const char *name)
{
	char *text = NULL;
	int64_t n, created;
	int ret = fs_version_name(name, &n);

	if (!ret)
		ret = model_version_get(p->m, p->env, p->runtime, n, &text,
				&created);
	free(text);
	if (!ret)
		p->version = n;
	return ret;
}

struct fill_versions {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_version(void *ctx, int64_t number, int64_t created_ns)
{
	struct fill_versions *f = ctx;
	char name[24];

	(void)created_ns;
	snprintf(name, sizeof(name), "%" PRId64, number);
	return f->fill(f->ctx, name);
}

int fs_version_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_versions f = { fill, ctx };

	return model_version_list(dir->m, dir->env, dir->runtime,
			fill_version, &f);
}

int fs_version_show(const struct fs_path *p, struct fs_value *v)
{
	char *text = NULL;
	int64_t created = 0;
	int ret = model_version_get(p->m, p->env, p->runtime, p->version,
			&text, &created);

	return ret ? ret : take_text(v, text, created);
}

int fs_version_unlink(const struct fs_path *p)
{
	return model_version_delete(p->m, p->env, p->runtime, p->version);
}

/* versions/ and endpoints/: their mtime is the latest deploy's. */
int fs_deploy_dir_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_runtime rt;
	int ret = fs_runtime(p, &rt);

	if (!ret)
		v->mtime_ns = rt.deployed_ns ? rt.deployed_ns :
			rt.registered_ns;
	return ret;
}

/* -- endpoints --------------------------------------------------------- */

int fs_endpoint_lookup(struct fs_path *p, const char *name)
{
	struct model_endpoint e;
	int ret = model_endpoint_get(p->m, p->env, p->runtime, name, &e);

	if (!ret)
		memcpy(p->endpoint, e.name, sizeof(p->endpoint));
	return ret;
}

struct fill_endpoints {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_endpoint(void *ctx, const struct model_endpoint *e)
{
	struct fill_endpoints *f = ctx;

	return f->fill(f->ctx, e->name);
}

int fs_endpoint_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct fill_endpoints f = { fill, ctx };

	return model_endpoint_list(dir->m, dir->env, dir->runtime,
			fill_endpoint, &f);
}

int fs_endpoint_mkdir(const struct fs_path *dir, const char *name)
{
	return model_endpoint_create(dir->m, dir->env, dir->runtime, name);
}

int fs_endpoint_rmdir(const struct fs_path *p)
{
	return model_endpoint_delete(p->m, p->env, p->runtime, p->endpoint);
}

static int endpoint(const struct fs_path *p, struct model_endpoint *e,
		struct fs_value *v)
{
	int ret = model_endpoint_get(p->m, p->env, p->runtime, p->endpoint,
			e);

	if (!ret)
		v->mtime_ns = e->updated_ns;
	return ret;
}

int fs_endpoint_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;

	return endpoint(p, &e, v);
}

int fs_endpoint_version_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	int ret = endpoint(p, &e, v);

	return ret ? ret : buf_addf(&v->buf, "%" PRId64 "\n", e.version);
}

int fs_endpoint_version_store(const struct fs_path *p, const char *value)
{
	return model_endpoint_pin(p->m, p->env, p->runtime, p->endpoint,
			value);
}

/* BASE/runtimes/RUNTIME-ID/endpoints/NAME: stable for the endpoint's
 * life, whatever version it serves. */
int fs_endpoint_url_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	struct model_runtime rt;
	int ret = endpoint(p, &e, v);

	if (!ret)
		ret = fs_runtime(p, &rt);
	if (ret)
		return ret;
	v->mtime_ns = e.created_ns;
	return buf_addf(&v->buf, "%s/runtimes/%s/endpoints/%s\n",
			fs_endpoint_base, rt.uuid, e.name);
}

/* A pin is applied whole in one transaction, so an endpoint is never
 * seen half-moved: READY always (see README, "Deploys and endpoints"). */
int fs_endpoint_status_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	int ret = endpoint(p, &e, v);

	return ret ? ret : buf_addf(&v->buf, "READY\n");
}

int fs_endpoint_id_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	int ret = endpoint(p, &e, v);

	if (ret)
		return ret;
	v->mtime_ns = e.created_ns;
	return buf_addf(&v->buf, "%s\n", e.id);
}

static int show_time(struct fs_value *v, int64_t ns)
{
	char t[MODEL_TIME_MAX];

	model_time_format(ns, t);
	v->mtime_ns = ns;
	return buf_addf(&v->buf, "%s\n", t);
}

int fs_endpoint_created_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	int ret = endpoint(p, &e, v);

	return ret ? ret : show_time(v, e.created_ns);
}

int fs_endpoint_updated_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_endpoint e;
	int ret = endpoint(p, &e, v);

	return ret ? ret : show_time(v, e.updated_ns);
}
