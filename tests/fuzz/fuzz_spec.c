/*
 * fuzz_spec.c - a spec document of any bytes, as `spec` takes it
 * (model_deploy) and as a restore checks it (model_spec_canonical), on an
 * agent runtime prod/chat of a model on ":memory:".
 *
 * What must hold: the two agree; bytes that are not one whole JSON object
 * are refused; a canonical spec is its own canonical form; a deployed
 * spec, as `spec` shows it, deploys nothing more when written back, and
 * versions/1 shows it; a refused spec deploys nothing.  After a deploy
 * the runtime is made anew, so that each input starts from the same
 * state.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

static struct model *m;

static int64_t latest(void)
{
	struct model_runtime rt;

	CHECK(model_runtime_get(m, "prod", "chat", &rt) == 0);
	return rt.latest_version;
}

/* A deployed spec as `spec` and versions/1 show it. */
static void check_deployed(void)
{
	char *shown = NULL, *version = NULL;
	int64_t v = 0, t;

	CHECK(latest() == 1);
	CHECK(model_spec_get(m, "prod", "chat", &shown, &t) == 0);
	CHECK(model_version_get(m, "prod", "chat", 1, &version, &t) == 0);
	fuzz_now += FUZZ_SEC;
	CHECK(model_deploy(m, "prod", "chat", shown, strlen(shown), &v) ==
			0);
	CHECK(v == 1);
	CHECK(model_deploy(m, "prod", "chat", version, strlen(version),
			&v) == 0);
	CHECK(v == 1);
	free(shown);
	free(version);
	CHECK(model_runtime_delete(m, "prod", "chat") == 0);
	CHECK(model_runtime_create(m, "prod", "chat", NULL, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *canon = NULL, *again = NULL;
	int json = model_json_state(text, size);
	int ret = model_spec_canonical(text, size, &canon);
	int deployed;

	if (!m) {
		m = fuzz_model();
		CHECK(model_env_create(m, "prod") == 0);
		CHECK(model_runtime_create(m, "prod", "chat", NULL, NULL) ==
				0);
	}
	if (json != 0 && size <= MODEL_SPEC_MAX)
		CHECK(ret == -EINVAL);
	if (ret == 0) {
		CHECK(model_spec_canonical(canon, strlen(canon), &again) ==
				0);
		CHECK(!strcmp(canon, again));
	} else {
		CHECK(canon == NULL);
	}
	fuzz_now += FUZZ_SEC;
	deployed = model_deploy(m, "prod", "chat", text, size, NULL);
	/* only a password to keep, where there is none, tells them apart */
	if (ret)
		CHECK(deployed == ret);
	else
		CHECK(deployed == 0 || (deployed == -EINVAL &&
				strstr(model_errmsg(), "imageAuth.password")));
	if (deployed == 0)
		check_deployed();
	else
		CHECK(latest() == 0);
	cJSON_free(canon);
	cJSON_free(again);
	return 0;
}
