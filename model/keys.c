/*
 * keys.c - the secrets ICP's runtimes sign with, kept opened in memory
 * between requests, with the last token each key verified, so that a
 * heartbeat with a token a runtime reuses (MI signs one an hour) reads
 * and unseals nothing and computes no HMAC.
 *
 * A direct-mapped table by key id (a slot per hash, overwritten by the
 * next key id that hashes there).  The row of the secret (sealed only,
 * nothing in it opens without the key file) lies in ordinary memory; the
 * key text and the token in memory from sodium_malloc(): guarded, locked
 * against swapping where the limit allows, and wiped when a slot is
 * dropped.  Every slot in use is dropped, and wiped, whenever a change
 * commits or another writer made one (model_forget()), and at every
 * tick of the liveness flusher, so a secret revoked or deleted, a
 * runtime removed or bound anew, is looked up again in the store at the
 * very next request, and no key stays long unused.  All under the
 * model's lock.
 */
#include "model_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SLOTS 512
#define KEY_TEXT_MAX 48          /* base64 of 32 bytes and a NUL: 45 */
#define TOKEN_KEPT_MAX 640       /* longer tokens are verified each time */

/* What may be read without the key file: which secret, and until when
 * the token kept is good. */
struct kept_key {
	int used;
	struct store_secret row;
	size_t token_len;          /* 0: no token kept */
	int64_t valid_from_s;
	int64_t valid_until_s;
};

/* What must not outlive its use. */
struct kept_material {
	char key[KEY_TEXT_MAX];
	char token[TOKEN_KEPT_MAX];
};

struct model_keys {
	struct kept_key slot[KEY_SLOTS];
	struct kept_material *material;   /* sodium_malloc, KEY_SLOTS */
	int used[KEY_SLOTS];               /* the slots in use */
	int nused;
};

/* The table, made on first use; NULL when memory ran out (then nothing
 * is kept, which is only slower). */
static struct model_keys *keys(struct model *m)
{
	struct model_keys *k;

	if (m->changing || m->parent)
		return NULL;
	if (m->keys)
		return m->keys;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->material = sodium_malloc(KEY_SLOTS * sizeof(*k->material));
	if (!k->material) {
		free(k);
		return NULL;
	}
	sodium_memzero(k->material, KEY_SLOTS * sizeof(*k->material));
	m->keys = k;
	return k;
}

void model_keys_forget(struct model *m)
{
	struct model_keys *k = m->keys;

	if (!k)
		return;
	for (int i = 0; i < k->nused; i++) {
		int s = k->used[i];

		sodium_memzero(&k->material[s], sizeof(k->material[s]));
		memset(&k->slot[s], 0, sizeof(k->slot[s]));
	}
	k->nused = 0;
}

void model_keys_free(struct model *m)
{
	if (!m->keys)
		return;
	model_keys_forget(m);
	sodium_free(m->keys->material);
	free(m->keys);
	m->keys = NULL;
}

/* The slot of `key_id` when it is in use, else NULL. */
static struct kept_key *key_find(struct model_keys *k, const char *key_id,
		size_t *idx)
{
	size_t s = model_rows_hash(0, key_id) % KEY_SLOTS;

	*idx = s;
	if (!k->slot[s].used || strcmp(k->slot[s].row.key_id, key_id))
		return NULL;
	return &k->slot[s];
}

int model_keys_row(struct model *m, const char *key_id,
		struct store_secret *out)
{
	struct model_keys *k = keys(m);
	struct kept_key *e;
	size_t s;

	if (!k || !(e = key_find(k, key_id, &s)))
		return 0;
	*out = e->row;
	return 1;
}

int model_keys_material(struct model *m, const char *key_id, char *out,
		size_t cap)
{
	struct model_keys *k = keys(m);
	struct kept_key *e;
	size_t s;

	if (!k || !(e = key_find(k, key_id, &s)) ||
	    strlen(k->material[s].key) >= cap)
		return 0;
	memcpy(out, k->material[s].key, strlen(k->material[s].key) + 1);
	return 1;
}

void model_keys_keep(struct model *m, const struct store_secret *row,
		const char *key)
{
	struct model_keys *k = keys(m);
	struct kept_key *e;
	size_t s;

	if (!k || strlen(key) >= KEY_TEXT_MAX)
		return;
	if (!(e = key_find(k, row->key_id, &s))) {
		e = &k->slot[s];
		if (!e->used)
			k->used[k->nused++] = (int)s;
	}
	/* a slot taken over by another key id keeps its place in used[] */
	sodium_memzero(&k->material[s], sizeof(k->material[s]));
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->row = *row;
	memcpy(k->material[s].key, key, strlen(key) + 1);
}

int model_token_known(struct model *m, const char *key_id,
		const char *token, size_t len, int64_t now_s)
{
	struct kept_key *e;
	struct model_keys *k;
	size_t s;
	int ret = 0;

	model_lock(m);
	k = keys(m);
	if (k && (e = key_find(k, key_id, &s)) && e->token_len == len &&
	    now_s >= e->valid_from_s && now_s <= e->valid_until_s)
		ret = sodium_memcmp(k->material[s].token, token, len) == 0;
	model_unlock(m);
	return ret;
}

void model_token_keep(struct model *m, const char *key_id, const char *key,
		const char *token, size_t len, int64_t valid_from_s,
		int64_t valid_until_s)
{
	struct kept_key *e;
	struct model_keys *k;
	size_t s, keylen = strlen(key);

	if (len > TOKEN_KEPT_MAX || !len)
		return;
	model_lock(m);
	k = keys(m);
	/* only for the key it was verified with: the slot may have been
	 * dropped, or filled anew, since */
	if (k && (e = key_find(k, key_id, &s)) &&
	    strlen(k->material[s].key) == keylen &&
	    !sodium_memcmp(k->material[s].key, key, keylen)) {
		memcpy(k->material[s].token, token, len);
		e->token_len = len;
		e->valid_from_s = valid_from_s;
		e->valid_until_s = valid_until_s;
	}
	model_unlock(m);
}
