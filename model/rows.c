/*
 * rows.c - the rows the model read lately, kept until the next change
 * commits, so that reading a runtime or an environment the tree shows
 * again and again (every stat of every file of a runtime asks for it)
 * costs no SELECT while nothing changed.
 *
 * Four set-associative tables (a set of slots per hash, see WAYS):
 * environments by name, runtimes by environment id and name, endpoints
 * by runtime id and name, secrets by environment id and name (sealed
 * only, as keys.c keeps them: nothing in a row opens without the key
 * file).  A generation number makes every entry stale
 * at once when a change commits (model_rows_forget_committed()), but
 * environments only when it wrote one (store_wrote_envs(): the rows of
 * environments change so seldom that a fleet registering in one need
 * not read it again at each registration), or every endpoint
 * when a change only moved endpoints (model_rows_forget_endpoints());
 * rows read inside a change are never kept, since the change may yet
 * roll back, and kept ones are not read there, but by a change's first
 * reads (model_runtime_row_first()).  Heartbeat times that wait in
 * memory are laid over a kept row when it is read, as over one from the
 * store.  All under the model's lock.
 */
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

/* Each table is sets of WAYS slots: a row goes to the set of its hash,
 * into its own slot there, a stale one, or else each slot in turn, so
 * that a fleet of up to RUNTIME_SETS * WAYS runtimes stays kept
 * (32,768: 32 MiB of address space, touched as rows come), with two
 * endpoints each.  Eight ways, as known.c: with four, a fleet of 10,000
 * read 9% of its runtimes' rows again at each `cat` of every status, and
 * its 20,000 endpoints (then 16,384 slots) 40% of theirs. */
#define WAYS 8
#define ENV_SETS 64
#define RUNTIME_SETS 4096
#define ENDPOINT_SETS 8192
#define SECRET_SETS 1024       /* a secret is read again as it is made */

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

struct kept_secret {
	uint64_t gen;
	struct store_secret row;
};

struct model_rows {
	uint64_t gen;              /* starts at 1: a zeroed slot is stale */
	uint64_t endpoint_gen;     /* the same, of the endpoints alone */
	uint64_t env_gen;          /* and of the environments alone */
	unsigned turn;             /* the slot a full set gives up next */
	struct kept_env env[ENV_SETS * WAYS];
	struct kept_runtime runtime[RUNTIME_SETS * WAYS];
	struct kept_endpoint endpoint[ENDPOINT_SETS * WAYS];
	struct kept_secret secret[SECRET_SETS * WAYS];
};

/* A row's key: its name, and the id of what it belongs to. */
struct key {
	int64_t id;
	const char *name;
};

typedef int (*same_fn)(const void *slot, const struct key *k);

static int same_env(const void *slot, const struct key *k)
{
	return !strcmp(((const struct kept_env *)slot)->row.name, k->name);
}

static int same_runtime(const void *slot, const struct key *k)
{
	const struct store_runtime *r = &((const struct kept_runtime *)slot)->row;

	return r->env_id == k->id && !strcmp(r->name, k->name);
}

static int same_endpoint(const void *slot, const struct key *k)
{
	const struct store_endpoint *e =
		&((const struct kept_endpoint *)slot)->row;

	return e->runtime_id == k->id && !strcmp(e->name, k->name);
}

static int same_secret(const void *slot, const struct key *k)
{
	const struct store_secret *s = &((const struct kept_secret *)slot)->row;

	return s->env_id == k->id && !strcmp(s->name, k->name);
}

/* The first slot of the set of key `k` in table `tab` of `sets` sets of
 * slots of `size` bytes (each begins with its generation). */
static char *set_of(void *tab, size_t size, size_t sets,
		const struct key *k)
{
	return (char *)tab + model_rows_hash(k->id, k->name) % sets * WAYS *
		size;
}

/* The slot of generation `gen` that keeps key `k`, or NULL. */
static void *set_find(void *tab, size_t size, size_t sets, uint64_t gen,
		same_fn same, const struct key *k)
{
	char *s = set_of(tab, size, sets, k);

	for (int w = 0; w < WAYS; w++, s += size)
		if (*(uint64_t *)(void *)s == gen && same(s, k))
			return s;
	return NULL;
}

/* The slot to keep key `k` in: its own, a stale one, else the next in
 * turn. */
static void *set_place(struct model_rows *r, void *tab, size_t size,
		size_t sets, uint64_t gen, same_fn same, const struct key *k)
{
	char *s = set_find(tab, size, sets, gen, same, k), *base;

	if (s)
		return s;
	base = set_of(tab, size, sets, k);
	for (s = base; s < base + WAYS * size; s += size)
		if (*(uint64_t *)(void *)s != gen)
			return s;
	return base + r->turn++ % WAYS * size;
}

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
		m->rows->gen = m->rows->endpoint_gen = m->rows->env_gen = 1;
	return m->rows;
}

void model_rows_forget(struct model *m)
{
	if (m->rows) {
		m->rows->gen++;
		m->rows->endpoint_gen++;
		m->rows->env_gen++;
	}
}

void model_rows_forget_committed(struct model *m)
{
	if (!m->rows)
		return;
	m->rows->gen++;
	m->rows->endpoint_gen++;
	if (store_wrote_envs(m->store))
		m->rows->env_gen++;
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

	if (!r || !(k = set_find(r->env, sizeof(*k), ENV_SETS, r->env_gen,
			same_env, &(struct key){ 0, name })))
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
	k = set_place(r, r->env, sizeof(*k), ENV_SETS, r->env_gen, same_env,
			&(struct key){ 0, row->name });
	k->gen = r->env_gen;
	k->row = *row;
}

int model_rows_runtime(struct model *m, int64_t env_id, const char *name,
		struct store_runtime *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_runtime *k;

	if (!r || !(k = set_find(r->runtime, sizeof(*k), RUNTIME_SETS, r->gen,
			same_runtime, &(struct key){ env_id, name })))
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
	k = set_place(r, r->runtime, sizeof(*k), RUNTIME_SETS, r->gen,
			same_runtime, &(struct key){ row->env_id, row->name });
	k->gen = r->gen;
	k->row = *row;
}

int model_rows_endpoint(struct model *m, int64_t runtime_id,
		const char *name, struct store_endpoint *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_endpoint *k;

	if (!r || !(k = set_find(r->endpoint, sizeof(*k), ENDPOINT_SETS,
			r->endpoint_gen, same_endpoint,
			&(struct key){ runtime_id, name })))
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
	k = set_place(r, r->endpoint, sizeof(*k), ENDPOINT_SETS,
			r->endpoint_gen, same_endpoint,
			&(struct key){ row->runtime_id, row->name });
	k->gen = r->endpoint_gen;
	k->row = *row;
}

int model_rows_secret(struct model *m, int64_t env_id, const char *name,
		struct store_secret *out)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_secret *k;

	if (!r || !(k = set_find(r->secret, sizeof(*k), SECRET_SETS, r->gen,
			same_secret, &(struct key){ env_id, name })))
		return 0;
	*out = k->row;
	return 1;
}

void model_rows_keep_secret(struct model *m, const struct store_secret *row)
{
	struct model_rows *r = m->changing ? NULL : rows(m);
	struct kept_secret *k;

	if (!r)
		return;
	k = set_place(r, r->secret, sizeof(*k), SECRET_SETS, r->gen,
			same_secret, &(struct key){ row->env_id, row->name });
	k->gen = r->gen;
	k->row = *row;
}

void model_rows_keep_no_secret(struct model *m, int64_t env_id,
		const char *name)
{
	struct store_secret none;

	memset(&none, 0, sizeof(none));
	none.env_id = env_id;
	snprintf(none.name, sizeof(none.name), "%s", name);
	model_rows_keep_secret(m, &none);
}
