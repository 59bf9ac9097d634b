/*
 * service_account.c - a runtime's service account and its control
 * commands (start, stop, reset-service-account).
 *
 * The credential is "CLIENTID.SECRET": the client id a UUID, the secret
 * 32 random bytes in URL-safe base64 (no '.', so the split is plain).
 * The secret is sealed at rest (seal.c): the daemon must be able to show
 * it again in `service_account`, so it cannot be a one-way hash.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#define SA_SECRET_BYTES 32
#define SA_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SA_B64_MAX sodium_base64_ENCODED_LEN(SA_SECRET_BYTES, SA_B64_VARIANT)

int model_service_account_create(struct model *m, int64_t runtime_id)
{
	struct store_service_account sa;
	unsigned char secret[SA_SECRET_BYTES];
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.runtime_id = runtime_id;
	model_uuid(sa.client_id);
	sa.created_ns = model_now(m);
	randombytes_buf(secret, sizeof(secret));
	ret = model_seal(m, secret, sizeof(secret), sa.secret,
			sizeof(sa.secret), &sa.secret_len);
	sodium_memzero(secret, sizeof(secret));
	if (!ret && (ret = store_service_account_put(m->store, &sa)))
		ret = model_fail_store(ret);
	return ret;
}

/* The raw secret of a stored service account. */
static int sa_secret(struct model *m, const struct store_service_account *sa,
		unsigned char secret[SA_SECRET_BYTES])
{
	size_t n = 0;
	int ret = model_unseal(m, sa->secret, sa->secret_len, secret,
			SA_SECRET_BYTES, &n);

	if (!ret && n != SA_SECRET_BYTES)
		ret = model_fail(-EIO, "service account secret is damaged");
	return ret;
}

int model_service_account_verify(struct model *m, int64_t runtime_id,
		const char *cred)
{
	struct store_service_account sa;
	unsigned char want[SA_SECRET_BYTES], got[SA_SECRET_BYTES];
	const char *dot = strchr(cred, '.');
	size_t n = 0;
	int ret = store_service_account_get(m->store, runtime_id, &sa);

	if (ret == -ENOENT)
		return model_fail(-EACCES, "this runtime has no service"
				" account");
	if (ret)
		return model_fail_store(ret);
	if (!dot || (size_t)(dot - cred) != strlen(sa.client_id) ||
	    strncmp(cred, sa.client_id, (size_t)(dot - cred)) ||
	    sodium_base642bin(got, sizeof(got), dot + 1, strlen(dot + 1),
			NULL, &n, NULL, SA_B64_VARIANT) || n != sizeof(got))
		return model_fail(-EACCES, "service account credentials do not"
				" match");
	if ((ret = sa_secret(m, &sa, want)))
		return ret;
	ret = sodium_memcmp(want, got, sizeof(want)) ?
		model_fail(-EACCES, "service account credentials do not"
				" match") : 0;
	sodium_memzero(want, sizeof(want));
	sodium_memzero(got, sizeof(got));
	return ret;
}

/* Reads the service account of a runtime into `sa`, under the lock.
 * -ENOENT with *missing set when the runtime has none. */
static int sa_read(struct model *m, const char *env, const char *name,
		struct store_service_account *sa, int *missing)
{
	struct store_runtime rt;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && !model_rows_account(m, rt.id, sa)) {
		ret = store_service_account_get(m->store, rt.id, sa);
		if (ret == -ENOENT)
			*missing = 1;
		else if (ret)
			ret = model_fail_store(ret);
		else
			model_rows_keep_account(m, sa);
	}
	model_unlock(m);
	return ret;
}

/* Gives a runtime from before service accounts existed its own. */
static int sa_add(struct model *m, const char *env, const char *name)
{
	struct store_service_account sa;
	struct store_runtime rt;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret) {
		ret = store_service_account_get(m->store, rt.id, &sa);
		if (ret == -ENOENT)
			ret = model_service_account_create(m, rt.id);
		else if (ret)
			ret = model_fail_store(ret);
	}
	if (!ret)
		model_note_runtime(m, &rt, MODEL_RT_ACCOUNT, NULL);
	return model_end(m, ret);
}

int model_service_account_get(struct model *m, const char *env,
		const char *name, struct model_service_account *out)
{
	struct store_service_account sa;
	unsigned char secret[SA_SECRET_BYTES];
	char b64[SA_B64_MAX];
	int missing = 0;
	int ret = sa_read(m, env, name, &sa, &missing);

	if (ret && missing) {
		/* a failure to add one speaks for itself */
		missing = 0;
		if (!(ret = sa_add(m, env, name)))
			ret = sa_read(m, env, name, &sa, &missing);
	}
	if (ret && missing)
		ret = model_fail(ret, "runtime '%s' has no service account",
				name);
	if (!ret)
		ret = sa_secret(m, &sa, secret);
	if (!ret) {
		sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
				SA_B64_VARIANT);
		memcpy(out->client_id, sa.client_id, sizeof(out->client_id));
		snprintf(out->credential, sizeof(out->credential), "%s.%s",
				sa.client_id, b64);
		out->created_ns = sa.created_ns;
		sodium_memzero(secret, sizeof(secret));
		sodium_memzero(b64, sizeof(b64));
	}
	return ret;
}

int model_runtime_ctl(struct model *m, const char *env, const char *name,
		const char *command)
{
	struct store_runtime rt;
	int start = !strcmp(command, "start"), stop = !strcmp(command, "stop");
	int reset = !strcmp(command, "reset-service-account");
	int ret;

	if (!start && !stop && !reset)
		return model_fail(-EINVAL, "unknown command '%.32s'; ctl takes"
				" start, stop or reset-service-account",
				command);
	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && (start || stop) && !strcmp(rt.type, "agent") &&
	    !rt.latest_version)
		ret = model_fail(-EBUSY, "runtime '%s' has no version yet:"
				" write its spec first", name);
	if (!ret && reset)
		ret = model_service_account_create(m, rt.id);
	else if (!ret && (ret = store_runtime_set_desired(m->store, rt.id,
			start ? "run" : "stop", start, model_now(m))))
		ret = model_fail_store(ret);
	/* a BI runtime is started and stopped by its listeners, as ICP
	 * does it: one command each */
	if (!ret && !reset && !strcmp(rt.type, "default"))
		ret = model_artifact_queue(m, &rt, NULL, start ? "START" :
				"STOP");
	if (!ret)
		model_note_runtime(m, &rt, reset ? MODEL_RT_ACCOUNT :
				MODEL_RT_STATUS, NULL);
	if (!ret && reset)
		ret = model_event(m, "runtime.service_account_reset",
				AT_RUNTIME(&rt), 0, NULL, NULL);
	else if (!ret) {
		struct store_runtime after = rt;

		snprintf(after.desired, sizeof(after.desired), "%s",
				start ? "run" : "stop");
		after.desired_ns = model_now(m);
		if (start)
			after.running_ns = 0;
		ret = model_event_status(m, &rt, &after);
	}
	return model_end(m, ret);
}
