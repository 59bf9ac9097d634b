/*
 * secret.c - the secrets runtimes register with: generated, shown and
 * listed while unbound, bound by a runtime's first heartbeat (see
 * heartbeat.c), revoked.
 *
 * At rest a secret is sealed (seal.c) with the key file kept outside the
 * database, never hashed: a later HTTP listener that verifies ICP's
 * HS256-signed tokens needs the raw key, and an unbound secret's file
 * shows it again on every read.  What is sealed is the key id followed by
 * the 32 bytes, so that a sealed value copied onto another row does not
 * open as that row's secret.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#define KEY_ID_DIGITS 8
#define SEALED_PLAIN (KEY_ID_DIGITS + MODEL_SECRET_BYTES)

int model_secret_parse(const char *cred, char key_id[MODEL_KEY_ID_LEN],
		unsigned char raw[MODEL_SECRET_BYTES])
{
	size_t len = strnlen(cred, MODEL_SECRET_MAX), n = 0;
	const char *end = NULL;

	if (len >= MODEL_SECRET_MAX || len <= KEY_ID_DIGITS + 1 ||
	    cred[KEY_ID_DIGITS] != '.')
		return model_fail(-EINVAL, "a secret has the form"
				" KEYID.BASE64 (8 hex digits, a dot, 32"
				" bytes in base64)");
	for (int i = 0; i < KEY_ID_DIGITS; i++)
		if (!cred[i] || !strchr("0123456789abcdef", cred[i]))
			return model_fail(-EINVAL, "a secret's key id is 8"
					" hex digits (0-9 a-f)");
	if (sodium_base642bin(raw, MODEL_SECRET_BYTES, cred + KEY_ID_DIGITS +
			1, len - KEY_ID_DIGITS - 1, NULL, &n, &end,
			sodium_base64_VARIANT_ORIGINAL) || n !=
			MODEL_SECRET_BYTES || end != cred + len) {
		sodium_memzero(raw, MODEL_SECRET_BYTES);
		return model_fail(-EINVAL, "secret %.8s: what follows the key"
				" id is not 32 bytes in base64", cred);
	}
	memcpy(key_id, cred, KEY_ID_DIGITS);
	key_id[KEY_ID_DIGITS] = '\0';
	return 0;
}

int model_secret_open(struct model *m, const struct store_secret *row,
		unsigned char raw[MODEL_SECRET_BYTES])
{
	unsigned char plain[SEALED_PLAIN];
	size_t n = 0;
	int ret = model_unseal(m, row->sealed, row->sealed_len, plain,
			sizeof(plain), &n);

	if (!ret && (n != SEALED_PLAIN ||
			memcmp(plain, row->key_id, KEY_ID_DIGITS)))
		ret = model_fail(-EIO, "secret %s: its sealed value belongs"
				" to another secret", row->key_id);
	if (!ret)
		memcpy(raw, plain + KEY_ID_DIGITS, MODEL_SECRET_BYTES);
	sodium_memzero(plain, sizeof(plain));
	return ret;
}

/* The credential as the user pastes it: KEYID.BASE64. */
static void secret_format(char out[MODEL_SECRET_MAX], const char *key_id,
		const unsigned char raw[MODEL_SECRET_BYTES])
{
	size_t n = (size_t)snprintf(out, MODEL_SECRET_MAX, "%s.", key_id);

	sodium_bin2base64(out + n, MODEL_SECRET_MAX - n, raw,
			MODEL_SECRET_BYTES, sodium_base64_VARIANT_ORIGINAL);
}

static void secret_copy(struct model_secret *out,
		const struct store_secret *row)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->env, row->env, sizeof(out->env));
	memcpy(out->name, row->name, sizeof(out->name));
	memcpy(out->project, row->project, sizeof(out->project));
	memcpy(out->integration, row->integration, sizeof(out->integration));
	memcpy(out->key_id, row->key_id, sizeof(out->key_id));
	out->created_ns = row->created_ns;
}

/* Resolves a scope: its environment, and its integration (id 0 when the
 * scope is the whole environment). */
static int secret_scope(struct model *m, const struct model_secret_scope *sc,
		struct store_env *e, struct store_integration *in)
{
	int ret = model_env_row(m, sc->env, e);

	memset(in, 0, sizeof(*in));
	if (!ret && sc->project && sc->integration)
		ret = model_integration_row(m, sc->project, sc->integration,
				in);
	return ret;
}

/* The unbound secret NAME as seen from the scope. */
static int secret_row(struct model *m, const struct model_secret_scope *sc,
		const char *name, struct store_secret *out)
{
	struct store_integration in;
	struct store_env e;
	int ret = secret_scope(m, sc, &e, &in);

	if (!ret)
		ret = model_name_check("secret", name);
	if (ret)
		return ret;
	if (model_rows_secret(m, e.id, name, out)) {
		if (!out->id)
			ret = -ENOENT;      /* kept as missing */
	} else if (!(ret = store_secret_get(m->store, e.id, name, out))) {
		model_rows_keep_secret(m, out);
	} else if (ret == -ENOENT) {
		model_rows_keep_no_secret(m, e.id, name);
	}
	if (!ret && in.id && out->integration_id != in.id)
		ret = -ENOENT;
	if (ret == -ENOENT)
		return model_fail(ret, "no secret '%s' in %s '%s'", name,
				in.id ? "integration" : "environment",
				in.id ? in.name : e.name);
	return ret ? model_fail_store(ret) : 0;
}

int model_secret_create(struct model *m, const struct model_secret_scope *sc,
		const char *name)
{
	unsigned char plain[SEALED_PLAIN], id[KEY_ID_DIGITS / 2];
	struct store_secret row, old;
	struct store_integration in;
	struct store_env e;
	int ret = model_name_check("secret", name);

	if (ret || (ret = model_begin(m)))
		return ret;
	memset(&row, 0, sizeof(row));
	ret = secret_scope(m, sc, &e, &in);
	if (!ret) {
		ret = store_secret_get(m->store, e.id, name, &old);
		if (!ret)
			ret = model_fail(-EEXIST, "secret '%s' already exists"
					" in environment '%s'", name, sc->env);
		else if (ret == -ENOENT)
			ret = 0;
		else
			ret = model_fail_store(ret);
	}
	/* a key id that is taken already is drawn again */
	for (int tries = 0; !ret && !row.id && tries < 8; tries++) {
		randombytes_buf(id, sizeof(id));
		snprintf(row.key_id, sizeof(row.key_id), "%02x%02x%02x%02x",
				id[0], id[1], id[2], id[3]);
		memcpy(plain, row.key_id, KEY_ID_DIGITS);
		randombytes_buf(plain + KEY_ID_DIGITS, MODEL_SECRET_BYTES);
		row.env_id = e.id;
		row.integration_id = in.id;
		snprintf(row.name, sizeof(row.name), "%s", name);
		row.created_ns = model_now(m);
		ret = model_seal(m, plain, sizeof(plain), row.sealed,
				sizeof(row.sealed), &row.sealed_len);
		if (ret)
			break;
		ret = store_secret_insert(m->store, &row);
		if (ret == -EEXIST)
			ret = 0;
		else if (ret)
			ret = model_fail_store(ret);
	}
	sodium_memzero(plain, sizeof(plain));
	if (!ret && !row.id)
		ret = model_fail(-EAGAIN, "no free key id found; try again");
	if (!ret) {
		/* the row as the store will give it, kept once committed */
		snprintf(row.env, sizeof(row.env), "%s", e.name);
		snprintf(row.project, sizeof(row.project), "%s",
				in.id ? in.project : "");
		snprintf(row.integration, sizeof(row.integration), "%s",
				in.id ? in.name : "");
		m->made = row;
		m->made_set = 1;
		model_note_secrets(m, sc->env, in.id ? sc->project : NULL,
				in.id ? sc->integration : NULL, NULL);
		ret = model_event(m, "secret.created", &(struct model_at){
				.where = MODEL_AT_SECRET, .env = sc->env,
				.project = in.id ? sc->project : NULL,
				.integration = in.id ? sc->integration : NULL,
				.name = name }, 0, NULL,
				"\"key_id\":\"%s\"", row.key_id);
	}
	return model_end(m, ret);
}

/* A stored secret with its credential opened, into `out`. */
static int secret_reveal(struct model *m, const struct store_secret *row,
		struct model_secret *out)
{
	unsigned char raw[MODEL_SECRET_BYTES];
	int ret = model_secret_open(m, row, raw);

	if (!ret) {
		secret_copy(out, row);
		secret_format(out->secret, row->key_id, raw);
	}
	sodium_memzero(raw, sizeof(raw));
	return ret;
}

int model_secret_get(struct model *m, const struct model_secret_scope *sc,
		const char *name, struct model_secret *out)
{
	struct store_secret row;
	int ret;

	model_lock(m);
	ret = secret_row(m, sc, name, &row);
	if (!ret)
		ret = secret_reveal(m, &row, out);
	model_unlock(m);
	return ret;
}

struct secret_walk {
	model_secret_cb cb;
	void *ctx;
};

static int secret_each(void *ctx, const struct store_secret *row)
{
	struct secret_walk *w = ctx;
	struct model_secret out;

	secret_copy(&out, row);
	return w->cb(w->ctx, &out);
}

int model_secret_list(struct model *m, const struct model_secret_scope *sc,
		model_secret_cb cb, void *ctx)
{
	struct secret_walk w = { cb, ctx };
	struct store_integration in;
	struct store_env e;
	int ret;

	model_lock(m);
	ret = secret_scope(m, sc, &e, &in);
	if (!ret) {
		struct store_secret_filter f = { e.id, in.id };

		ret = store_secret_list(m->store, &f, secret_each, &w);
	}
	model_unlock(m);
	return ret;
}

int model_secret_revoke(struct model *m, const struct model_secret_scope *sc,
		const char *name)
{
	struct store_secret row;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = secret_row(m, sc, name, &row);
	if (!ret && (ret = store_secret_delete(m->store, row.id)))
		ret = model_fail_store(ret);
	if (!ret) {
		model_note_secrets(m, sc->env, row.project, row.integration,
				name);
		ret = model_event(m, "secret.revoked", &(struct model_at){
				.where = MODEL_AT_SECRET, .env = sc->env,
				.project = row.project,
				.integration = row.integration, .name = name },
				0, NULL, "\"key_id\":\"%s\"", row.key_id);
	}
	return model_end(m, ret);
}

/* The runtime and the secret bound to it, under the lock; -ENOENT when
 * none is bound. */
static int bound_row(struct model *m, const char *env, const char *name,
		struct store_runtime *rt, struct store_secret *row)
{
	int ret = model_runtime_row(m, env, name, rt);

	if (!ret && !*rt->secret)
		ret = model_fail(-ENOENT, "runtime '%s' has no bound secret",
				name);
	if (!ret && (ret = store_secret_get_key(m->store, rt->secret, row)))
		ret = model_fail_store(ret);
	return ret;
}

/* Notes a runtime cut off by a revoked secret. */
static int revoked_each(void *ctx, const struct store_runtime *rt)
{
	struct model *m = ctx;
	struct store_runtime after = *rt;

	model_note_runtime(m, rt, MODEL_RT_SECRET | MODEL_RT_STATUS, NULL);
	after.revoked_ns = model_now(m);
	return model_event_status(m, rt, &after);
}

/* Revoking a bound secret cuts off every runtime that heartbeats with
 * it, replicas too, at once. */
int model_runtime_secret_revoke(struct model *m, const char *env,
		const char *name)
{
	struct store_runtime rt;
	struct store_secret row;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = bound_row(m, env, name, &rt, &row);
	if (!ret) {
		struct store_runtime_filter f = { .key_id = row.key_id };

		ret = store_runtime_list(m->store, &f, revoked_each, m);
	}
	if (!ret && (ret = store_secret_delete(m->store, row.id)))
		ret = model_fail_store(ret);
	if (!ret && (ret = store_runtime_revoke_key(m->store, row.key_id,
			model_now(m))))
		ret = model_fail_store(ret);
	if (!ret)
		ret = model_event(m, "secret.revoked", &(struct model_at){
				.where = MODEL_AT_RUNTIME_SECRET, .env = rt.env,
				.runtime = rt.name }, 0, NULL,
				"\"key_id\":\"%s\"", row.key_id);
	return model_end(m, ret);
}

int model_secret_material(struct model *m, const char *key_id, char *out,
		size_t cap)
{
	unsigned char raw[MODEL_SECRET_BYTES];
	struct store_secret row;
	int ret;

	if (cap)
		*out = '\0';
	model_lock(m);
	if (model_keys_material(m, key_id, out, cap)) {
		model_unlock(m);
		return 0;
	}
	ret = store_secret_get_key(m->store, key_id, &row);
	if (ret == -ENOENT)
		ret = model_fail(-EACCES, "unknown key ID '%.8s'", key_id);
	else if (ret)
		ret = model_fail_store(ret);
	if (!ret && (ret = model_secret_open(m, &row, raw)))
		ret = model_fail(-EACCES, "key ID '%.8s' does not open with"
				" this key file", key_id);
	if (!ret && cap < sodium_base64_ENCODED_LEN(MODEL_SECRET_BYTES,
			sodium_base64_VARIANT_ORIGINAL))
		ret = model_fail(-ENOSPC, "key material: %zu bytes is too"
				" little room", cap);
	if (!ret) {
		sodium_bin2base64(out, cap, raw, sizeof(raw),
				sodium_base64_VARIANT_ORIGINAL);
		model_keys_keep(m, &row, out);
	}
	model_unlock(m);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(&row, sizeof(row));
	return ret;
}

int model_runtime_secret_get(struct model *m, const char *env,
		const char *name, struct model_secret *out)
{
	struct store_runtime rt;
	struct store_secret row;
	int ret;

	model_lock(m);
	ret = bound_row(m, env, name, &rt, &row);
	if (!ret)
		ret = secret_reveal(m, &row, out);
	model_unlock(m);
	return ret;
}
