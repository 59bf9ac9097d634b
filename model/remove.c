/*
 * remove.c - removing an object whole: what `rm -r`, `rm -rf`,
 * `find -delete`, shutil.rmtree and `rsync --delete` of an environment,
 * a runtime, an integration or a project come to, in one transaction.
 *
 * The walk that removed the object's contents one by one (fs/walk.c) has
 * changed nothing yet; this takes the object and everything in it at
 * once, or nothing.  Each thing the object holds must have been removed
 * by that walk (model_cover): one it did not see, because it came after
 * the listing, makes the whole removal -ENOTEMPTY.  The guards of each
 * part hold as they do one by one: a RUNNING runtime is -EBUSY, a runtime
 * reached through an integration's link (its directory is elsewhere, so
 * the walk did not enter it) is deleted as `rm` of that link deletes it.
 */
#include "model_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A growing array of rows, gathered before anything is deleted: a list
 * callback runs while its statement steps. */
struct rows {
	void *v;
	size_t n, cap, size;
	int full;                  /* rows_add() ran out of memory */
};

static int rows_add(struct rows *r, const void *row)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void *v = realloc(r->v, cap * r->size);

		if (!v) {
			r->full = 1;
			return model_fail(-ENOMEM, "out of memory");
		}
		r->v = v;
		r->cap = cap;
	}
	memcpy((char *)r->v + r->n++ * r->size, row, r->size);
	return 0;
}

#define ROWS(type) { NULL, 0, 0, sizeof(type), 0 }
#define ROW(r, type, i) (&((type *)(r)->v)[i])

static int add_runtime(void *ctx, const struct store_runtime *rt)
{
	return rows_add(ctx, rt);
}

static int add_secret(void *ctx, const struct store_secret *s)
{
	return rows_add(ctx, s);
}

static int add_version(void *ctx, const struct store_version *v)
{
	return rows_add(ctx, v);
}

static int add_endpoint(void *ctx, const struct store_endpoint *e)
{
	return rows_add(ctx, e);
}

static int add_integration(void *ctx, const struct store_integration *in)
{
	return rows_add(ctx, in);
}

static int add_env(void *ctx, const struct store_env *e)
{
	return rows_add(ctx, e);
}

/* The result of a list into `r`: the store's failure with its words, or
 * rows_add()'s own. */
static int listed(int ret, const struct rows *r)
{
	return ret && !r->full ? model_fail_store(ret) : ret;
}

/* Whether the walk removed `part`; -ENOTEMPTY naming it if not. */
static int covered(const struct model_cover *c, const struct model_part *part,
		const char *what, const char *name)
{
	if (c && c->covered(c->ctx, part))
		return 0;
	return model_fail(-ENOTEMPTY, "%s '%s' was not removed on the way"
			" (it came after the listing?): nothing was removed",
			what, name);
}

static int running(struct model *m, const struct store_runtime *rt)
{
	int64_t since;

	if (strcmp(model_runtime_status(rt, model_now(m),
			m->cfg.offline_after_ns, &since), "RUNNING"))
		return 0;
	return model_fail(-EBUSY, "runtime '%s' is RUNNING; stop it first"
			" (echo stop > ctl): nothing was removed", rt->name);
}

/* A runtime and what it holds, every part covered; under the lock, in
 * the transaction. */
static int runtime_remove(struct model *m, struct store_runtime *rt,
		const struct model_cover *c)
{
	struct rows versions = ROWS(struct store_version);
	struct rows endpoints = ROWS(struct store_endpoint);
	struct model_part part = { .env = rt->env, .runtime = rt->name };
	int ret;

	model_liveness_overlay(m, rt);
	ret = running(m, rt);
	if (!ret)
		ret = listed(store_version_list(m->store, rt->id, add_version,
				&versions), &versions);
	if (!ret)
		ret = listed(store_endpoint_list(m->store, rt->id,
				add_endpoint, &endpoints), &endpoints);
	part.kind = MODEL_PART_VERSION;
	for (size_t i = 0; !ret && i < versions.n; i++) {
		char n[24];

		part.number = ROW(&versions, struct store_version, i)->number;
		snprintf(n, sizeof(n), "%lld", (long long)part.number);
		ret = covered(c, &part, "version", n);
	}
	part.kind = MODEL_PART_ENDPOINT;
	for (size_t i = 0; !ret && i < endpoints.n; i++) {
		part.name = ROW(&endpoints, struct store_endpoint, i)->name;
		ret = covered(c, &part, "endpoint", part.name);
	}
	part.kind = MODEL_PART_BOUND_SECRET;
	part.name = NULL;
	if (!ret && *rt->secret)
		ret = covered(c, &part, "secret", rt->secret);
	if (!ret && (ret = store_runtime_delete(m->store, rt->id)))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "runtime.deleted", AT_RUNTIME(rt), 0, NULL,
				NULL);
	free(versions.v);
	free(endpoints.v);
	return ret;
}

/* The line of a secret deleted with what held it. */
static int secret_gone(struct model *m, const struct store_secret *s)
{
	return model_event(m, "secret.revoked", &(struct model_at){
			.where = MODEL_AT_SECRET, .env = s->env,
			.project = s->project, .integration = s->integration,
			.name = s->name }, 0, NULL, "\"key_id\":\"%s\"",
			s->key_id);
}

int model_runtime_remove(struct model *m, const char *env, const char *name,
		const struct model_cover *c)
{
	struct store_runtime rt;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		ret = runtime_remove(m, &rt, c);
	if (!ret)
		model_note(m, MODEL_EV_ALL, 0, NULL, NULL, NULL, NULL);
	return model_end(m, ret);
}

int model_env_remove(struct model *m, const char *env,
		const struct model_cover *c)
{
	struct store_runtime_filter rf = { 0 };
	struct rows runtimes = ROWS(struct store_runtime);
	struct rows secrets = ROWS(struct store_secret);
	struct store_env e;
	struct model_part part = { .env = env };
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_env_row(m, env, &e);
	rf.env_id = e.id;
	if (!ret)
		ret = listed(store_runtime_list(m->store, &rf, add_runtime,
				&runtimes), &runtimes);
	if (!ret) {
		struct store_secret_filter sf = { e.id, 0 };

		ret = listed(store_secret_list(m->store, &sf, add_secret,
				&secrets), &secrets);
	}
	part.kind = MODEL_PART_RUNTIME;
	for (size_t i = 0; !ret && i < runtimes.n; i++) {
		struct store_runtime *rt = ROW(&runtimes, struct store_runtime,
				i);

		part.name = rt->name;
		ret = covered(c, &part, "runtime", rt->name);
		if (!ret)
			ret = runtime_remove(m, rt, c);
	}
	part.kind = MODEL_PART_SECRET;
	for (size_t i = 0; !ret && i < secrets.n; i++) {
		struct store_secret *s = ROW(&secrets, struct store_secret, i);

		part.name = s->name;
		ret = covered(c, &part, "secret", s->name);
		if (!ret && (ret = store_secret_delete(m->store, s->id)))
			ret = model_fail_store(ret);
		if (!ret)
			ret = secret_gone(m, s);
	}
	if (!ret && (ret = store_env_delete(m->store, e.id)))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "environment.deleted", AT_ENV(env), 0,
				NULL, NULL);
	if (!ret)
		model_note(m, MODEL_EV_ALL, 0, NULL, NULL, NULL, NULL);
	free(runtimes.v);
	free(secrets.v);
	return model_end(m, ret);
}

/* An integration: its runtimes, as `rm` of their links deletes them, and
 * its scoped secrets; under the lock, in the transaction. */
static int integration_remove(struct model *m,
		const struct store_integration *in, const struct model_cover *c)
{
	struct store_runtime_filter rf = { .integration_id = in->id };
	struct rows runtimes = ROWS(struct store_runtime);
	struct rows secrets = ROWS(struct store_secret);
	struct rows envs = ROWS(struct store_env);
	struct model_part part = { .project = in->project,
		.integration = in->name };
	int ret;

	ret = listed(store_runtime_list(m->store, &rf, add_runtime,
			&runtimes), &runtimes);
	if (!ret)
		ret = listed(store_env_list(m->store, add_env, &envs), &envs);
	for (size_t i = 0; !ret && i < envs.n; i++) {
		struct store_secret_filter sf = {
			ROW(&envs, struct store_env, i)->id, in->id };

		ret = listed(store_secret_list(m->store, &sf, add_secret,
				&secrets), &secrets);
	}
	part.kind = MODEL_PART_LINK;
	for (size_t i = 0; !ret && i < runtimes.n; i++) {
		struct store_runtime *rt = ROW(&runtimes, struct store_runtime,
				i);

		part.env = rt->env;
		part.name = rt->name;
		ret = covered(c, &part, "runtime link", rt->name);
		if (!ret) {
			model_liveness_overlay(m, rt);
			ret = running(m, rt);
		}
		if (!ret)
			ret = model_endpoint_others(m, rt);
		if (!ret && (ret = store_runtime_delete(m->store, rt->id)))
			ret = model_fail_store(ret);
		if (!ret)
			ret = model_event(m, "runtime.deleted", AT_RUNTIME(rt),
					0, NULL, NULL);
	}
	part.kind = MODEL_PART_SCOPED_SECRET;
	for (size_t i = 0; !ret && i < secrets.n; i++) {
		struct store_secret *s = ROW(&secrets, struct store_secret, i);

		part.env = s->env;
		part.name = s->name;
		ret = covered(c, &part, "secret", s->name);
		if (!ret && (ret = store_secret_delete(m->store, s->id)))
			ret = model_fail_store(ret);
		if (!ret)
			ret = secret_gone(m, s);
	}
	if (!ret && (ret = store_integration_delete(m->store, in->id)))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "integration.deleted",
				AT_INTEGRATION(in->project, in->name), 0, NULL,
				NULL);
	free(runtimes.v);
	free(secrets.v);
	free(envs.v);
	return ret;
}

int model_integration_remove(struct model *m, const char *project,
		const char *name, const struct model_cover *c)
{
	struct store_integration in;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_integration_row(m, project, name, &in);
	if (!ret)
		ret = integration_remove(m, &in, c);
	if (!ret)
		model_note(m, MODEL_EV_ALL, 0, NULL, NULL, NULL, NULL);
	return model_end(m, ret);
}

int model_project_remove(struct model *m, const char *project,
		const struct model_cover *c)
{
	struct rows integrations = ROWS(struct store_integration);
	struct model_part part = { .kind = MODEL_PART_INTEGRATION,
		.project = project };
	struct store_project p;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_project_row(m, project, &p);
	if (!ret)
		ret = listed(store_integration_list(m->store, p.id,
				add_integration, &integrations), &integrations);
	for (size_t i = 0; !ret && i < integrations.n; i++) {
		struct store_integration *in = ROW(&integrations,
				struct store_integration, i);

		part.name = in->name;
		ret = covered(c, &part, "integration", in->name);
		if (!ret)
			ret = integration_remove(m, in, c);
	}
	if (!ret && (ret = store_project_delete(m->store, p.id)))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "project.deleted", AT_PROJECT(project), 0,
				NULL, NULL);
	if (!ret)
		model_note(m, MODEL_EV_ALL, 0, NULL, NULL, NULL, NULL);
	free(integrations.v);
	return model_end(m, ret);
}
