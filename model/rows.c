/*
 * rows.c - the rows the model read lately, kept until the next change
 * commits, so that reading a runtime or an environment the tree shows
 * again and again (every stat of every file of a runtime asks for it)
 * costs no SELECT while nothing changed.
 *
 * Three direct-mapped tables (a slot per hash, overwritten by the next
 * row that hashes there): environments by name, runtimes by environment
 * id and name, endpoints by runtime id and name.  A generation number makes every entry stale at once when a
 * change commits (model_rows_forget()), or every endpoint when a change
 * only moved endpoints (model_rows_forget_endpoints()); rows read inside
 * a change are never kept, since the change may yet roll back, and kept
 * ones are not read there, but by a change's first reads
 * (model_runtime_row_first()).  Heartbeat times that
 * wait in memory are laid over a kept row when it is read, as over one
 * from the store.  All under the model's lock.
 */
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

#define ENV_SLOTS 256
#define RUNTIME_SLOTS 4096
#define ENDPOINT_SLOTS 4096

struct kept_env {
	uint64_t gen;              /* valid while it is rows->gen */
	struct store_env row;
};

struct kept_runtime {
	uint64_t gen;
	struct store_runtime row;
};

struct kept_endpoint {
	uint64_t gen;              /* valid while it is rows->endpoint_gen */
	struct store_endpoint row;
};

struct model_rows {
	uint64_t gen;              /* starts at 1: a zeroed slot is stale */
	uint64_t endpoint_gen;     /* the same, of the endpoints alone */
	struct kept_env env[ENV_SLOTS];
	struct kept_runtime runtime[RUNTIME_SLOTS];
	struct kept_endpoint endpoint[ENDPOINT_SLOTS];
};

size_t model_rows_hash(int64_t id, const char *name)
{
	size_t h = 1469598103934665603ULL ^ (size_t)id;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return h;
}

/* The table, made on first use; NULL when memory ran out (then nothing
 * is kept, which is only slower). */
static struct model_rows *rows(struct model *m)
{
	if (!m->rows && (m->rows = calloc(1, sizeof(*m->rows))))
		m->rows->gen = m->rows->endpoint_gen = 1;
	return m->rows;
}

void model_rows_forget(struct model *m)
{
	if (m->rows) {
		m->rows->gen++;
		m->rows->endpoint_gen++;
	}
}

void model_rows_forget_endpoints(struct model *m)
{
	if (m->rows)
		m->rows->endpoint_gen++;
}

void model_rows_free(struct model *m)
{
	free(m->rows);
	m->rows = NULL;
}

int model_rows_env(struct model *m, const char *name, struct store_env *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_env *k;

	if (!r)
		return 0;
	k = &r->env[model_rows_hash(0, name) % ENV_SLOTS];
	if (k->gen != r->gen || strcmp(k->row.name, name))
		return 0;
	*out = k->row;
	return 1;
}

void model_rows_keep_env(struct model *m, const struct store_env *row)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_env *k;

	if (!r)
		return;
	k = &r->env[model_rows_hash(0, row->name) % ENV_SLOTS];
	k->gen = r->gen;
	k->row = *row;
}

int model_rows_runtime(struct model *m, int64_t env_id, const char *name,
		struct store_runtime *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_runtime *k;

	if (!r)
		return 0;
	k = &r->runtime[model_rows_hash(env_id, name) % RUNTIME_SLOTS];
	if (k->gen != r->gen || k->row.env_id != env_id ||
	    strcmp(k->row.name, name))
		return 0;
	*out = k->row;
	return 1;
}

void model_rows_keep_runtime(struct model *m, const struct store_runtime *row)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_runtime *k;

	if (!r)
		return;
	k = &r->runtime[model_rows_hash(row->env_id, row->name) %
			RUNTIME_SLOTS];
	k->gen = r->gen;
	k->row = *row;
}

int model_rows_endpoint(struct model *m, int64_t runtime_id,
		const char *name, struct store_endpoint *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_endpoint *k;

	if (!r)
		return 0;
	k = &r->endpoint[model_rows_hash(runtime_id, name) % ENDPOINT_SLOTS];
	if (k->gen != r->endpoint_gen || k->row.runtime_id != runtime_id ||
	    strcmp(k->row.name, name))
		return 0;
	*out = k->row;
	return 1;
}

void model_rows_keep_endpoint(struct model *m,
		const struct store_endpoint *row)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_endpoint *k;

	if (!r)
		return;
	k = &r->endpoint[model_rows_hash(row->runtime_id, row->name) %
			ENDPOINT_SLOTS];
	k->gen = r->endpoint_gen;
	k->row = *row;
}
