/*
 * rows.c - the rows the model read lately, kept until the next change
 * commits, so that reading a runtime or an environment the tree shows
 * again and again (every stat of every file of a runtime asks for it)
 * costs no SELECT while nothing changed.
 *
 * Six set-associative tables (a set of slots per hash, see WAYS):
 * environments by name, runtimes by environment id and name, endpoints
 * by runtime id and name, secrets by environment id and name, service
 * accounts by runtime id (both sealed only, as keys.c keeps them:
 * nothing in a row opens without the key file), and versions by runtime
 * id and number (their specs, but not their sealed passwords: `grep -r`
 * of a fleet reads every version's file at each open).  A generation number makes every entry stale
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

#include <stddef.h>
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
#define ACCOUNT_SETS 4096      /* a runtime's service account */
#define VERSION_SETS 8192      /* three versions a runtime, and more */
/* The specs kept, all together: past it, a version read is not kept
 * until a kept one is given up. */
#define VERSION_BYTES_MAX (16u << 20)

struct kept_env {
	uint64_t gen;              /* valid while it is rows->env_gen */
	struct store_env row;
};

struct kept_runtime {
	uint64_t gen;              /* valid while it is rows->gen */
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

struct kept_account {
	uint64_t gen;
	struct store_service_account row;
};

/* A version is written once and never changes, but it goes with its
 * runtime, so it is kept as the runtime is.  Its spec is the slot's own
 * copy (NULL: none), kept stale or not until the slot is given to
 * another; the password is not kept. */
struct kept_version {
	uint64_t gen;
	int64_t runtime_id;
	int64_t number;
	int64_t created_ns;
	char *spec;
	size_t len;
};

struct model_rows {
	uint64_t gen;              /* starts at 1: a zeroed slot is stale */
	uint64_t endpoint_gen;     /* the same, of the endpoints alone */
	uint64_t env_gen;          /* and of the environments alone */
	unsigned turn;             /* the slot a full set gives up next */
	size_t version_bytes;      /* of every spec the slots hold */
	struct kept_env env[ENV_SETS * WAYS];
	struct kept_runtime runtime[RUNTIME_SETS * WAYS];
	struct kept_endpoint endpoint[ENDPOINT_SETS * WAYS];
	struct kept_secret secret[SECRET_SETS * WAYS];
	struct kept_account account[ACCOUNT_SETS * WAYS];
	struct kept_version version[VERSION_SETS * WAYS];
};

/* A row's key: its name, and the id of what it belongs to (a version's:
 * its runtime's id and its number). */
struct key {
	int64_t id;
	const char *name;
	int64_t number;
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

static int same_account(const void *slot, const struct key *k)
{
	return ((const struct kept_account *)slot)->row.runtime_id == k->id;
}

static int same_version(const void *slot, const struct key *k)
{
	const struct kept_version *v = slot;

	return v->runtime_id == k->id && v->number == k->number;
}

/* Where each table lies in struct model_rows, its slots' size, its
 * sets, the generation its rows are valid for, how a slot is matched,
 * and where the row lies in a slot (versions are kept by hand). */
struct table {
	size_t at;
	size_t size;
	size_t sets;
	size_t gen;
	same_fn same;
	size_t row;
	size_t rowsize;
};

#define TABLE(name, kept, sets, gen) { \
	offsetof(struct model_rows, name), sizeof(struct kept), sets, \
	offsetof(struct model_rows, gen), same_##name, \
	offsetof(struct kept, row), sizeof(((struct kept *)0)->row) }

static const struct table ENVS = TABLE(env, kept_env, ENV_SETS, env_gen);
static const struct table RUNTIMES = TABLE(runtime, kept_runtime,
		RUNTIME_SETS, gen);
static const struct table ENDPOINTS = TABLE(endpoint, kept_endpoint,
		ENDPOINT_SETS, endpoint_gen);
static const struct table SECRETS = TABLE(secret, kept_secret, SECRET_SETS,
		gen);
static const struct table ACCOUNTS = TABLE(account, kept_account,
		ACCOUNT_SETS, gen);

/* The first slot of the set of key `k` in table `tab` of `sets` sets of
 * slots of `size` bytes (each begins with its generation). */
static char *set_of(void *tab, size_t size, size_t sets,
		const struct key *k)
{
	return (char *)tab + (model_rows_hash(k->id, k->name) ^
			(size_t)k->number * 0x9e3779b97f4a7c15ULL) % sets *
		WAYS * size;
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

/* The rows of a model that keeps them now: none inside a change, whose
 * reads may yet roll back. */
static struct model_rows *rows_now(struct model *m)
{
	return m->changing ? NULL : rows(m);
}

static uint64_t *gen_of(struct model_rows *r, const struct table *t)
{
	return (uint64_t *)(void *)((char *)r + t->gen);
}

/* Copies the kept row of key `k` to `out`: 1, or 0 when none is kept. */
static int kept(struct model *m, const struct table *t, const struct key *k,
		void *out)
{
	struct model_rows *r = rows_now(m);
	char *s;

	if (!r || !(s = set_find((char *)r + t->at, t->size, t->sets,
			*gen_of(r, t), t->same, k)))
		return 0;
	memcpy(out, s + t->row, t->rowsize);
	return 1;
}

static void keep(struct model *m, const struct table *t, const struct key *k,
		const void *row)
{
	struct model_rows *r = rows_now(m);
	char *s;

	if (!r)
		return;
	s = set_place(r, (char *)r + t->at, t->size, t->sets, *gen_of(r, t),
			t->same, k);
	*(uint64_t *)(void *)s = *gen_of(r, t);
	memcpy(s + t->row, row, t->rowsize);
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
	if (m->rows)
		for (size_t i = 0; i < VERSION_SETS * WAYS; i++)
			free(m->rows->version[i].spec);
	free(m->rows);
	m->rows = NULL;
}

int model_rows_env(struct model *m, const char *name, struct store_env *out)
{
	return kept(m, &ENVS, &(struct key){ 0, name, 0 }, out);
}

void model_rows_keep_env(struct model *m, const struct store_env *row)
{
	keep(m, &ENVS, &(struct key){ 0, row->name, 0 }, row);
}

int model_rows_runtime(struct model *m, int64_t env_id, const char *name,
		struct store_runtime *out)
{
	return kept(m, &RUNTIMES, &(struct key){ env_id, name, 0 }, out);
}

void model_rows_keep_runtime(struct model *m, const struct store_runtime *row)
{
	keep(m, &RUNTIMES, &(struct key){ row->env_id, row->name, 0 }, row);
}

int model_rows_endpoint(struct model *m, int64_t runtime_id,
		const char *name, struct store_endpoint *out)
{
	return kept(m, &ENDPOINTS, &(struct key){ runtime_id, name, 0 }, out);
}

void model_rows_keep_endpoint(struct model *m,
		const struct store_endpoint *row)
{
	keep(m, &ENDPOINTS, &(struct key){ row->runtime_id, row->name, 0 },
			row);
}

int model_rows_secret(struct model *m, int64_t env_id, const char *name,
		struct store_secret *out)
{
	return kept(m, &SECRETS, &(struct key){ env_id, name, 0 }, out);
}

void model_rows_keep_secret(struct model *m, const struct store_secret *row)
{
	keep(m, &SECRETS, &(struct key){ row->env_id, row->name, 0 }, row);
}

int model_rows_account(struct model *m, int64_t runtime_id,
		struct store_service_account *out)
{
	return kept(m, &ACCOUNTS, &(struct key){ runtime_id, "", 0 }, out);
}

void model_rows_keep_account(struct model *m,
		const struct store_service_account *row)
{
	keep(m, &ACCOUNTS, &(struct key){ row->runtime_id, "", 0 }, row);
}

int model_rows_version(struct model *m, int64_t runtime_id, int64_t number,
		struct store_version *out)
{
	struct model_rows *r = rows_now(m);
	struct key k = { runtime_id, "", number };
	struct kept_version *v;
	char *spec = NULL;

	if (!r || !(v = set_find(r->version, sizeof(*v), VERSION_SETS,
			r->gen, same_version, &k)))
		return 0;
	/* out of memory for the copy: read it from the store */
	if (v->spec && !(spec = malloc(v->len + 1)))
		return 0;
	if (spec)
		memcpy(spec, v->spec, v->len + 1);
	memset(out, 0, sizeof(*out));
	out->runtime_id = runtime_id;
	out->number = number;
	out->created_ns = v->created_ns;
	out->spec = spec;
	return 1;
}

void model_rows_keep_version(struct model *m, const struct store_version *row)
{
	struct model_rows *r = rows_now(m);
	struct key k = { row->runtime_id, "", row->number };
	size_t len = row->spec ? strlen(row->spec) : 0;
	struct kept_version *v;

	if (!r)
		return;
	v = set_place(r, r->version, sizeof(*v), VERSION_SETS, r->gen,
			same_version, &k);
	r->version_bytes -= v->spec ? v->len + 1 : 0;
	free(v->spec);
	memset(v, 0, sizeof(*v));
	if (row->spec && (r->version_bytes + len + 1 > VERSION_BYTES_MAX ||
			!(v->spec = malloc(len + 1))))
		return;
	if (v->spec) {
		memcpy(v->spec, row->spec, len + 1);
		r->version_bytes += len + 1;
	}
	v->gen = r->gen;
	v->runtime_id = row->runtime_id;
	v->number = row->number;
	v->created_ns = row->created_ns;
	v->len = len;
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
