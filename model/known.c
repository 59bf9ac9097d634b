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
 * but times, which the record follows itself.  A direct-mapped table
 * (a slot per hash of the runtimeId); under the model's lock.
 */
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

#define KNOWN_SLOTS 2048

struct model_known_table {
	struct model_known slot[KNOWN_SLOTS];
	int used[KNOWN_SLOTS];     /* the slots in use */
	int nused;
};

/* The table, made on first use; NULL inside a change, on a snapshot, or
 * when memory ran out (then nothing is kept, which is only slower). */
static struct model_known_table *known(struct model *m)
{
	if (m->changing || m->parent)
		return NULL;
	if (!m->known)
		m->known = calloc(1, sizeof(*m->known));
	return m->known;
}

struct model_known *model_known_get(struct model *m, const char *uuid)
{
	struct model_known_table *t = known(m);
	struct model_known *k;

	if (!t)
		return NULL;
	k = &t->slot[model_rows_hash(0, uuid) % KNOWN_SLOTS];
	return k->id && !strcmp(k->uuid, uuid) ? k : NULL;
}

void model_known_keep(struct model *m, const struct store_runtime *rt)
{
	struct model_known_table *t = known(m);
	size_t s;
	struct model_known *k;

	if (!t)
		return;
	s = model_rows_hash(0, rt->uuid) % KNOWN_SLOTS;
	k = &t->slot[s];
	if (!k->id)
		t->used[t->nused++] = (int)s;
	memset(k, 0, sizeof(*k));
	k->id = rt->id;
	memcpy(k->uuid, rt->uuid, sizeof(k->uuid));
	k->env_id = rt->env_id;
	memcpy(k->env, rt->env, sizeof(k->env));
	memcpy(k->name, rt->name, sizeof(k->name));
	k->integration_id = rt->integration_id;
	memcpy(k->key_id, rt->key_id, sizeof(k->key_id));
	memcpy(k->hash, rt->hash, sizeof(k->hash));
	k->heartbeat_ns = rt->heartbeat_ns;
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
