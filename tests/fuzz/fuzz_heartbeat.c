/*
 * fuzz_heartbeat.c - a heartbeat of any bytes (model_heartbeat) on a model
 * on ":memory:" with environments prod and dev, an unbound secret of
 * prod and an agent runtime prod/agent with its service account.
 *
 * The credentials are random, so the input names them: @SECRET@ stands
 * for the secret (KEYID.BASE64) and @SA@ for the service account
 * (CLIENTID.SECRET); the seed corpus uses them to reach registration,
 * binding and the service-account path.
 *
 * What must hold: a refused heartbeat changes nothing and answers with
 * no runtime id; an accepted one answers with one, and the same heartbeat
 * again (a second later, then after being OFFLINE) is accepted for the
 * same runtime, and every artifact it reported is listed under a kind
 * by a name that is a file name (not "." or "..", no '/', at most 255
 * bytes) and can be got by it.  After an accepted heartbeat the model is made anew, so
 * that each input starts from the same state.
 */
#include "fuzz.h"

static struct model *m;
static char secret[MODEL_SECRET_MAX];
static char key_id[MODEL_KEY_ID_LEN];
static char account[MODEL_CREDENTIAL_MAX];

static void setup(void)
{
	struct model_secret_scope prod = { "prod", NULL, NULL };
	struct model_service_account sa;
	struct model_secret s;

	m = fuzz_model();
	CHECK(model_env_create(m, "prod") == 0);
	CHECK(model_env_create(m, "dev") == 0);
	CHECK(model_secret_create(m, &prod, "s") == 0);
	CHECK(model_secret_get(m, &prod, "s", &s) == 0);
	memcpy(secret, s.secret, sizeof(secret));
	memcpy(key_id, s.key_id, sizeof(key_id));
	CHECK(model_runtime_create(m, "prod", "agent", NULL, NULL) == 0);
	CHECK(model_service_account_get(m, "prod", "agent", &sa) == 0);
	memcpy(account, sa.credential, sizeof(account));
}

/* The input with its placeholders replaced, malloc'd; *len its length. */
static char *expand(const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(size / 4 * MODEL_CREDENTIAL_MAX + size + 1);
	size_t n = 0;

	CHECK(out != NULL);
	for (size_t i = 0; i < size; ) {
		const char *with = NULL;
		size_t skip = 0;

		if (size - i >= 8 && !memcmp(data + i, "@SECRET@", 8)) {
			with = secret;
			skip = 8;
		} else if (size - i >= 4 && !memcmp(data + i, "@SA@", 4)) {
			with = account;
			skip = 4;
		}
		if (with) {
			memcpy(out + n, with, strlen(with));
			n += strlen(with);
			i += skip;
		} else {
			out[n++] = (char)data[i++];
		}
	}
	*len = n;
	return out;
}

static int count(void *ctx, const void *row)
{
	(void)row;
	(*(int *)ctx)++;
	return 0;
}

/* What the model held before any heartbeat. */
static void check_unchanged(void)
{
	struct model_secret_scope prod = { "prod", NULL, NULL };
	struct model_runtime_filter all = { "prod", NULL, NULL };
	struct model_runtime rt;
	int secrets = 0, runtimes = 0;

	CHECK(model_secret_list(m, &prod, (model_secret_cb)count,
			&secrets) == 0);
	CHECK(model_runtime_list(m, &all, (model_runtime_cb)count,
			&runtimes) == 0);
	CHECK(secrets == 1 && runtimes == 1);
	CHECK(model_runtime_get(m, "prod", "agent", &rt) == 0);
	CHECK(rt.heartbeat_ns == 0);
}

/* The artifacts of runtime `name` of prod: each listed one a file name
 * that gets it. */
struct walk {
	const char *runtime;
	const char *kind;
};

static int each_artifact(void *ctx, const struct model_artifact *a)
{
	struct walk *w = ctx;
	struct model_artifact got;
	char *doc = NULL;

	CHECK(*a->name && strlen(a->name) <= 255 && !strchr(a->name, '/') &&
			strcmp(a->name, ".") && strcmp(a->name, ".."));
	CHECK(model_artifact_get(m, "prod", w->runtime, w->kind, a->name,
			&got, &doc) == 0);
	CHECK(doc && doc[strlen(doc) - 1] == '\n');
	free(doc);
	return 0;
}

/* The names of prod's runtimes (list callbacks run under the model's
 * lock: they are read after). */
static char names[64][MODEL_NAME_MAX];
static int nnames;

static int runtime_name(void *ctx, const struct model_runtime *rt)
{
	(void)ctx;
	if (nnames < 64)
		memcpy(names[nnames++], rt->name, MODEL_NAME_MAX);
	return 0;
}

/* Kinds are listed under the lock too: gathered first. */
static char kinds[32][MODEL_KIND_MAX];
static int nkinds;

static int kind_name(void *ctx, const char *kind)
{
	(void)ctx;
	if (nkinds < 32)
		snprintf(kinds[nkinds++], MODEL_KIND_MAX, "%s", kind);
	return 0;
}

/* Artifacts are listed under the lock: each is got after. */
static struct model_artifact seen[64];
static int nseen;

static int artifact_seen(void *ctx, const struct model_artifact *a)
{
	(void)ctx;
	if (nseen < 64)
		seen[nseen++] = *a;
	return 0;
}

static void check_artifacts(void)
{
	struct model_runtime_filter all = { "prod", NULL, NULL };

	nnames = 0;
	CHECK(model_runtime_list(m, &all, runtime_name, NULL) == 0);
	for (int r = 0; r < nnames; r++) {
		nkinds = 0;
		CHECK(model_artifact_kinds(m, "prod", names[r], kind_name,
				NULL) == 0);
		for (int k = 0; k < nkinds; k++) {
			struct walk w = { names[r], kinds[k] };

			nseen = 0;
			CHECK(model_artifact_list(m, "prod", names[r],
					kinds[k], artifact_seen, NULL) == 0);
			for (int i = 0; i < nseen; i++)
				each_artifact(&w, &seen[i]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_heartbeat_reply r, again;
	size_t len;
	char *json;
	int ret;

	if (!m)
		setup();
	json = expand(data, size, &len);
	ret = model_heartbeat(m, json, len, &r);
	if (ret || !r.acknowledged) {
		CHECK(ret == 0 || ret == -EINVAL || ret == -EACCES ||
				ret == -EEXIST);
		CHECK(r.runtime_id[0] == '\0' && r.ncommands == 0);
		CHECK(r.http == 400 || r.http == 401 || r.http == 409 ||
				r.http == 201);
		check_unchanged();
		/* the same bytes as a body of ICP's API, full and delta, with
		 * the secret's key id authenticated */
		for (int delta = 0; delta < 2; delta++) {
			ret = model_icp_heartbeat(m, key_id, delta, json, len,
					&r);
			CHECK(ret == 0 || ret == -EINVAL || ret == -EACCES ||
					ret == -EEXIST);
			CHECK(r.http == 201 || r.http == 400 ||
					r.http == 409 || r.http == 413);
			if (ret || !r.acknowledged)
				check_unchanged();
			else if (!delta)
				CHECK(strlen(r.runtime_id) ==
						MODEL_UUID_LEN - 1);
		}
		model_close(m);
		setup();
		free(json);
		return 0;
	}
	CHECK(strlen(r.runtime_id) == MODEL_UUID_LEN - 1);
	check_artifacts();
	fuzz_now += FUZZ_SEC;
	CHECK(model_heartbeat(m, json, len, &again) == 0);
	CHECK(!strcmp(again.runtime_id, r.runtime_id));
	fuzz_now += 60 * FUZZ_SEC;
	CHECK(model_heartbeat(m, json, len, &again) == 0);
	CHECK(!strcmp(again.runtime_id, r.runtime_id));
	CHECK(model_liveness_flush(m) == 0);
	model_close(m);
	setup();
	free(json);
	return 0;
}
