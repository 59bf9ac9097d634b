/*
 * known.c - the ICP runtimes whose last delta heartbeat changed nothing,
 * by runtimeId, so that the next one with the same hash is answered from
 * memory: no read of the runtime, of its queued commands or of anything
 * else, only its time noted in the liveness batch (liveness.c).
 *
 * A runtime is kept only in the state in which a delta changes nothing
 * but its time: bound to its key, not revoked, meant to run and running,
 * not an agent, and no command queued for it (its queue was read empty).
 * Every change that commits, and every change another writer makes,
 * drops them all (model_forget()): a command queued by a ctl write, a
 * revocation, a removal, a full heartbeat with another hash all commit,
 * so the next delta of each runtime reads the store again.  Only the
 * liveness batch commits without dropping them, as it writes nothing
 * but times, which the record follows itself.  A set-associative table
 * (see WAYS) by runtimeId; under the model's lock.
 *
 * Agent runtimes, which heartbeat through the mount with their service
 * account, are kept the same way by environment and name, with a digest
 * of the service account that was verified (BLAKE2b keyed with a key of
 * this process's): the next heartbeat with the same one is answered
 * without reading the runtime, its service account or its commands
 * (four round trips on PostgreSQL).  A reset of the service account
 * commits, and drops them all.
 */
#include "model_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Sets of WAYS slots, a set per hash: a runtime goes into its own slot
 * there, an empty one, or else each slot in turn; up to 32,768 are kept
 * (10 MiB of address space, touched as they come).  Eight ways, not four:
 * with four, a fleet of 10,000 filled about one set in ten past its
 * ways, and a fleet heartbeating in turn then missed 8.6% of the time,
 * four SELECTs each (on PostgreSQL, four round trips). */
#define WAYS 8
#define KNOWN_SETS 4096
#define KNOWN_SLOTS (KNOWN_SETS * WAYS)

struct model_known_table {
	struct model_known slot[KNOWN_SLOTS];
	int used[KNOWN_SLOTS];     /* the slots in use */
	int nused;
	unsigned turn;             /* the slot a full set gives up next */
	unsigned char key[crypto_generichash_KEYBYTES];   /* of the digests */
};

/* Who a slot is for: a runtimeId, or an environment and a name. */
struct who {
	const char *uuid;          /* NULL: by env and name */
	const char *env, *name;
};

/* The table, made on first use; NULL inside a change, on a snapshot, or
 * when memory ran out (then nothing is kept, which is only slower). */
static struct model_known_table *known(struct model *m)
{
	if (m->changing || m->parent)
		return NULL;
	if (!m->known) {
		m->known = calloc(1, sizeof(*m->known));
		if (m->known)
			randombytes_buf(m->known->key,
					sizeof(m->known->key));
	}
	return m->known;
}

static int is(const struct model_known *k, const struct who *w)
{
	if (!k->id || k->named != !w->uuid)
		return 0;
	return w->uuid ? !strcmp(k->uuid, w->uuid) :
		!strcmp(k->env, w->env) && !strcmp(k->name, w->name);
}

/* The first slot of the set of `w`. */
static size_t set_of(const struct who *w)
{
	size_t h = w->uuid ? model_rows_hash(0, w->uuid) :
		model_rows_hash((int64_t)model_rows_hash(-1, w->env), w->name);

	return h % KNOWN_SETS * WAYS;
}

static struct model_known *find(struct model_known_table *t,
		const struct who *w)
{
	size_t s = set_of(w);

	for (int i = 0; i < WAYS; i++)
		if (is(&t->slot[s + (size_t)i], w))
			return &t->slot[s + (size_t)i];
	return NULL;
}

struct model_known *model_known_get(struct model *m, const char *uuid)
{
	struct model_known_table *t = known(m);

	return t ? find(t, &(struct who){ uuid, NULL, NULL }) : NULL;
}

/* The slot for `w`, emptied and given runtime `rt`: its own, an empty
 * one, else the next in turn. */
static struct model_known *take(struct model_known_table *t,
		const struct who *w, const struct store_runtime *rt)
{
	struct model_known *k = find(t, w);
	size_t s = set_of(w);

	for (int i = 0; !k && i < WAYS; i++)
		if (!t->slot[s + (size_t)i].id) {
			k = &t->slot[s + (size_t)i];
			t->used[t->nused++] = (int)(s + (size_t)i);
		}
	if (!k)
		k = &t->slot[s + t->turn++ % WAYS];
	memset(k, 0, sizeof(*k));
	k->id = rt->id;
	memcpy(k->uuid, rt->uuid, sizeof(k->uuid));
	k->env_id = rt->env_id;
	memcpy(k->env, rt->env, sizeof(k->env));
	memcpy(k->name, rt->name, sizeof(k->name));
	k->heartbeat_ns = rt->heartbeat_ns;
	k->named = !w->uuid;
	return k;
}

void model_known_keep(struct model *m, const struct store_runtime *rt)
{
	struct model_known_table *t = known(m);
	struct model_known *k;

	if (!t)
		return;
	k = take(t, &(struct who){ rt->uuid, NULL, NULL }, rt);
	k->integration_id = rt->integration_id;
	memcpy(k->key_id, rt->key_id, sizeof(k->key_id));
	memcpy(k->hash, rt->hash, sizeof(k->hash));
}

static void cred_digest(const struct model_known_table *t, const char *cred,
		unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)cred, strlen(cred),
			t->key, sizeof(t->key));
}

struct model_known *model_known_get_named(struct model *m, const char *env,
		const char *name, const char *cred)
{
	struct model_known_table *t = known(m);
	struct model_known *k;
	unsigned char d[32];
	int same;

	if (!t || !(k = find(t, &(struct who){ NULL, env, name })))
		return NULL;
	cred_digest(t, cred, d);
	same = sodium_memcmp(d, k->cred, sizeof(d)) == 0;
	sodium_memzero(d, sizeof(d));
	return same ? k : NULL;
}

void model_known_keep_named(struct model *m, const struct store_runtime *rt,
		const char *cred)
{
	struct model_known_table *t = known(m);
	struct model_known *k;

	if (!t)
		return;
	k = take(t, &(struct who){ NULL, rt->env, rt->name }, rt);
	cred_digest(t, cred, k->cred);
}

void model_known_forget(struct model *m)
{
	struct model_known_table *t = m->known;

	if (!t)
		return;
	for (int i = 0; i < t->nused; i++)
		t->slot[t->used[i]].id = 0;
	t->nused = 0;
}

void model_known_free(struct model *m)
{
	free(m->known);
	m->known = NULL;
}
