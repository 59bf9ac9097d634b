/*
 * test_deploy.c - deploys in the model, on a real SQLite database in a
 * temporary file: every rule of a spec, versions and their immutability,
 * DEFAULT and pinned endpoints, rollback, what blocks a deletion, start
 * and stop, and service accounts.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../model/model_int.h"

#include "fixture.h"

#define SPEC_FMT "{\"imageUrl\": \"registry.example/chat:%d\"," \
	" \"flavorId\": \"g1-small\", \"command\": [\"python\"]," \
	" \"args\": [\"app.py\", \"--port\", \"8080\"]," \
	" \"environmentVariables\": {\"LOG_LEVEL\": \"info\"}," \
	" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 3," \
	" \"cpuUtilization\": 70, \"memoryUtilization\": 80}," \
	" \"description\": \"chat agent\"}"

/* The shared fixture, with an agent runtime prod/chat. */
static int deploy_setup(void **state)
{
	struct fixture *f;

	if (setup(state))
		return -1;
	f = *state;
	if (model_env_create(f->m, "prod") ||
	    model_runtime_create(f->m, "prod", "chat", NULL, NULL))
		return -1;
	return 0;
}

/* Deploys SPEC_FMT with image tag `tag`; the version made, or -errno. */
static int64_t deploy(struct fixture *f, int tag)
{
	char spec[1024];
	int64_t v = 0;
	int ret;

	snprintf(spec, sizeof(spec), SPEC_FMT, tag);
	f->now += SEC;
	ret = model_deploy(f->m, "prod", "chat", spec, strlen(spec), &v);
	return ret ? ret : v;
}

static int deploy_text(struct fixture *f, const char *spec)
{
	return model_deploy(f->m, "prod", "chat", spec, strlen(spec), NULL);
}

static int64_t latest(struct fixture *f)
{
	struct model_runtime rt;

	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	return rt.latest_version;
}

static const char *status(struct fixture *f)
{
	struct model_runtime rt;

	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	return rt.status;
}

static int64_t served(struct fixture *f, const char *endpoint)
{
	struct model_endpoint e;

	assert_int_equal(model_endpoint_get(f->m, "prod", "chat", endpoint,
			&e), 0);
	return e.version;
}

/* A heartbeat of chat, with its service account, as the runtime sends
 * it. */
static void heartbeat(struct fixture *f)
{
	struct model_service_account sa;
	struct model_heartbeat_reply r;
	char json[256];

	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	snprintf(json, sizeof(json), "{\"serviceAccount\": \"%s\","
			" \"runtime\": \"chat\", \"environment\": \"prod\"}",
			sa.credential);
	assert_int_equal(model_heartbeat(f->m, json, strlen(json), &r), 0);
}

static void test_first_deploy(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;
	char *text = NULL;
	int64_t mtime;

	assert_string_equal(status(f), "CREATING");
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &text, &mtime),
			0);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(deploy(f, 1), 1);
	assert_string_equal(status(f), "STARTING");
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_int_equal(rt.status_ns, f->now);
	assert_int_equal(served(f, "DEFAULT"), 1);
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &text, &mtime),
			0);
	assert_int_equal(mtime, f->now);
	assert_non_null(strstr(text, "\"imageUrl\": \"registry.example/"
			"chat:1\",\n"));
	assert_non_null(strstr(text, "  \"autoscaling\": {\n"
			"    \"minReplicas\": 1,\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	heartbeat(f);
	assert_string_equal(status(f), "RUNNING");
}

/* Each broken spec: EINVAL, a message naming the field, no version. */
static void test_spec_rules(void **state)
{
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
		{ "", "not valid JSON" },
		{ "{\"imageUrl\": ", "not valid JSON" },
		{ "[1, 2]", "not a JSON object at byte 1" },
		{ "\"x\"", "not a JSON object at byte 1" },
		{ "{} {}", "byte 4: something follows the JSON object" },
		{ "{}", "field 'imageUrl' is missing" },
		{ "{\"imageUrl\": 1}", "field 'imageUrl' must be a string" },
		{ "{\"imageUrl\": \"\"}", "field 'imageUrl' is empty" },
		{ "{\"imageUrl\": \"i\"}", "field 'flavorId' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\"}",
			"field 'command' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\","
			" \"command\": \"python\"}",
			"field 'command' must be an array of strings" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\","
			" \"command\": [\"a\", 2]}",
			"field 'command[1]' must be a string" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\","
			" \"command\": []}", "field 'args' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\","
			" \"command\": [], \"args\": []}",
			"field 'environmentVariables' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": []}",
			"field 'environmentVariables' must be an object" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {\"A\": 1}}",
			"field 'environmentVariables.A' must be a string" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\":"
			" {\"1A\": \"x\"}}",
			"field 'environmentVariables.1A' is not a variable" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {}}",
			"field 'autoscaling' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": 3}",
			"field 'autoscaling' must be an object" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {}}",
			"field 'autoscaling.minReplicas' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
			" \"cpuUtilization\": 50, \"memoryUtilization\": 50,"
			" \"x\": 1}}", "unknown field 'autoscaling.x'" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
			" \"cpuUtilization\": 50, \"memoryUtilization\": 50}}",
			"field 'description' is missing" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
			" \"cpuUtilization\": 50, \"memoryUtilization\": 50},"
			" \"description\": null}",
			"field 'description' must be a string" },
		{ "{\"imageUrl\": \"i\", \"flavorId\": \"f\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
			" \"cpuUtilization\": 50, \"memoryUtilization\": 50},"
			" \"description\": \"\", \"color\": \"red\"}",
			"unknown field 'color'" },
		{ "{\"imageUrl\": \"i\", \"imageUrl\": \"j\"}",
			"field 'imageUrl' is given twice" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		model_errclear();
		if (deploy_text(f, bad[i].spec) != -EINVAL ||
		    !strstr(model_errmsg(), bad[i].why))
			fail_msg("spec %zu (%s): got '%s', want '%s'", i,
					bad[i].spec, model_errmsg(),
					bad[i].why);
	}
	assert_int_equal(latest(f), 0);
	assert_string_equal(status(f), "CREATING");
}

/* Ranges of autoscaling, each checked on an otherwise good spec. */
static void test_autoscaling_ranges(void **state)
{
	static const struct {
		int min, max, cpu, mem;
		const char *why;
	} cases[] = {
		{ 0, 3, 50, 50, "'autoscaling.minReplicas' is 0; it must be" },
		{ 1, 0, 50, 50, "'autoscaling.maxReplicas' is 0; it must be" },
		{ 1, 11, 50, 50, "'autoscaling.maxReplicas' is 11; it must be"
			" 1 to 10" },
		{ 4, 3, 50, 50, "'autoscaling.maxReplicas' is 3, less than" },
		{ 1, 3, 0, 50, "'autoscaling.cpuUtilization' is 0; it must be"
			" 1 to 100" },
		{ 1, 3, 101, 50, "'autoscaling.cpuUtilization' is 101" },
		{ 1, 3, 50, 0, "'autoscaling.memoryUtilization' is 0" },
		{ 1, 3, 50, 101, "'autoscaling.memoryUtilization' is 101" },
	};
	struct fixture *f = *state;
	char spec[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(spec, sizeof(spec), "{\"imageUrl\": \"i\","
			" \"flavorId\": \"f\", \"command\": [], \"args\": [],"
			" \"environmentVariables\": {}, \"autoscaling\":"
			" {\"minReplicas\": %d, \"maxReplicas\": %d,"
			" \"cpuUtilization\": %d, \"memoryUtilization\": %d},"
			" \"description\": \"\"}", cases[i].min, cases[i].max,
			cases[i].cpu, cases[i].mem);
		if (deploy_text(f, spec) != -EINVAL ||
		    !strstr(model_errmsg(), cases[i].why))
			fail_msg("case %zu: got '%s', want '%s'", i,
					model_errmsg(), cases[i].why);
	}
	assert_int_equal(deploy_text(f, "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [], \"environmentVariables\":"
		" {}, \"autoscaling\": {\"minReplicas\": 1.5, \"maxReplicas\": 3,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"\"}"), -EINVAL);
	assert_non_null(strstr(model_errmsg(), "'autoscaling.minReplicas'"
			" must be an integer"));
	assert_int_equal(deploy_text(f, "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [], \"environmentVariables\":"
		" {}, \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1e400,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"\"}"), -EINVAL);
	assert_non_null(strstr(model_errmsg(), "'autoscaling.maxReplicas'"
			" must be an integer"));
	/* the edges themselves are fine */
	assert_int_equal(deploy_text(f, "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [], \"environmentVariables\":"
		" {}, \"autoscaling\": {\"minReplicas\": 10, \"maxReplicas\": 10,"
		" \"cpuUtilization\": 100, \"memoryUtilization\": 1},"
		" \"description\": \"\"}"), 0);
	assert_int_equal(latest(f), 1);
}

static void test_spec_hostile_input(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(MODEL_SPEC_MAX + 2);
	char nul[] = "{\"imageUrl\": \"a\0b\"}";

	memset(big, '[', MODEL_SPEC_MAX + 1);
	big[MODEL_SPEC_MAX + 1] = '\0';
	assert_int_equal(model_deploy(f->m, "prod", "chat", big,
			MODEL_SPEC_MAX + 1, NULL), -EFBIG);
	/* deep nesting within the size cap */
	big[MODEL_SPEC_MAX - 1] = '\0';
	assert_int_equal(deploy_text(f, big), -EINVAL);
	free(big);
	assert_int_equal(model_deploy(f->m, "prod", "chat", nul,
			sizeof(nul) - 1, NULL), -EINVAL);
	assert_non_null(strstr(model_errmsg(), "NUL"));
	assert_int_equal(latest(f), 0);
}

/* What cJSON would take in silence is refused in every string, naming
 * the field and the byte: \u0000 (which would cut the string short) and
 * invalid UTF-8 (which would be stored and shown), in a deploy and in
 * the canonical form a restore checks; nothing is deployed. */
static void test_spec_nul_and_invalid_utf8(void **state)
{
	static const struct {
		const char *from, *to, *why;
	} bad[] = {
		{ "chat agent", "chat\\u0000agent", "in field 'description':"
			" a string cannot hold a NUL" },
		{ "chat:1", "chat:\xc0\xb1", "invalid UTF-8 at byte 37 in"
			" field 'imageUrl'" },
		{ "--port", "--p\xed\xa0\x80rt", "invalid UTF-8 at byte"
			" 112 in field 'args[1]'" },
		{ "\"info\"", "\"in\xff\"", "in field"
			" 'environmentVariables.LOG_LEVEL'" },
		{ "\"LOG_LEVEL\"", "\"LOG\\u0000\"", "in a key of"
			" 'environmentVariables'" },
		{ "\"python\"", "\"py\\udc00\"", "an unpaired UTF-16"
			" surrogate at byte 83 in field 'command[0]'" },
	};
	struct fixture *f = *state;
	char good[1024], spec[1024], *canon = NULL;

	snprintf(good, sizeof(good), SPEC_FMT, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *at = strstr(good, bad[i].from);

		assert_non_null(at);
		snprintf(spec, sizeof(spec), "%.*s%s%s", (int)(at - good),
				good, bad[i].to, at + strlen(bad[i].from));
		if (deploy_text(f, spec) != -EINVAL ||
		    strncmp(model_errmsg(), "spec: ", 6) ||
		    !strstr(model_errmsg(), bad[i].why))
			fail_msg("case %zu: got '%s', want '%s'", i,
					model_errmsg(), bad[i].why);
		assert_int_equal(model_spec_canonical(spec, strlen(spec),
				&canon), -EINVAL);
		assert_null(canon);
	}
	assert_int_equal(latest(f), 0);
	assert_string_equal(status(f), "CREATING");
}

static void test_image_auth(void **state)
{
	static const char with_pw[] = "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [], \"environmentVariables\":"
		" {}, \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"%s\", \"imageAuth\": {\"enabled\": true,"
		" \"username\": \"bot\"%s}}";
	struct fixture *f = *state;
	char spec[1024], *text = NULL;
	int64_t t;
	struct store *s;
	struct store_env e;
	struct store_runtime rt;
	int n = 0;

	/* enabled without a password, and nothing to keep: refused */
	snprintf(spec, sizeof(spec), with_pw, "a", "");
	assert_int_equal(deploy_text(f, spec), -EINVAL);
	assert_non_null(strstr(model_errmsg(), "'imageAuth.password'"));
	snprintf(spec, sizeof(spec), with_pw, "a",
			", \"password\": \"hunter2-secret\"");
	assert_int_equal(deploy_text(f, spec), 0);
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &text, &t), 0);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "password"));
	assert_non_null(strstr(text, "\"username\": \"bot\""));
	free(text);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &text,
			&t), 0);
	assert_null(strstr(text, "hunter2"));
	free(text);
	/* the spec as shown (no password) deploys, keeping the password */
	snprintf(spec, sizeof(spec), with_pw, "b", "");
	assert_int_equal(deploy_text(f, spec), 0);
	assert_int_equal(latest(f), 2);
	/* sealed at rest: the store never holds it in plain text */
	s = store_lock(f);
	assert_int_equal(store_env_get(s, "prod", &e), 0);
	assert_int_equal(store_runtime_get(s, e.id, "chat", &rt), 0);
	for (int64_t v = 1; v <= 2; v++) {
		struct store_version sv;

		assert_int_equal(store_version_get(s, rt.id, v, &sv), 0);
		assert_non_null(sv.password);
		assert_null(memmem(sv.password, sv.password_len, "hunter2",
				7));
		store_version_release(&sv);
		n++;
	}
	store_unlock(f);
	assert_int_equal(n, 2);
	/* wrong types */
	assert_int_equal(deploy_text(f, "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [], \"environmentVariables\":"
		" {}, \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 1,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"\", \"imageAuth\": {\"enabled\": \"yes\"}}"),
		-EINVAL);
	assert_non_null(strstr(model_errmsg(), "'imageAuth.enabled'"));
	assert_int_equal(latest(f), 2);
}

static void test_same_spec_deploys_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(deploy(f, 2), 2);
	assert_int_equal(latest(f), 2);
}

static void test_versions_immutable(void **state)
{
	struct fixture *f = *state;
	char *v1 = NULL, *again = NULL;
	int64_t t1, t;

	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &v1, &t1),
			0);
	assert_non_null(strstr(v1, "\"version\": 1,"));
	assert_non_null(strstr(v1, "\"agentRuntimeId\": \""));
	assert_non_null(strstr(v1, "\"createdAt\": \"2023-11-14T22:13:21Z\""));
	assert_int_equal(deploy(f, 2), 2);
	assert_int_equal(deploy(f, 3), 3);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &again,
			&t), 0);
	assert_string_equal(v1, again);
	assert_int_equal(t, t1);
	free(v1);
	free(again);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 9, &again,
			&t), -ENOENT);
}

static void test_default_pin_rollback(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), -ENOENT);
	assert_non_null(strstr(model_errmsg(), "no version yet"));
	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(deploy(f, 2), 2);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(served(f, "canary"), 2);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), -EEXIST);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"bad name"), -EINVAL);
	assert_int_equal(deploy(f, 3), 3);
	/* DEFAULT moves, the pinned one stays */
	assert_int_equal(served(f, "DEFAULT"), 3);
	assert_int_equal(served(f, "canary"), 2);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	assert_int_equal(served(f, "canary"), 1);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"7"), -ENOENT);
	assert_non_null(strstr(model_errmsg(), "no version 7"));
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"two"), -EINVAL);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"0"), -EINVAL);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			""), -EINVAL);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"99999999999999999999"), -EINVAL);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "nope",
			"1"), -ENOENT);
	assert_int_equal(served(f, "canary"), 1);
	/* rollback until the next deploy */
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "DEFAULT",
			"2"), 0);
	assert_int_equal(served(f, "DEFAULT"), 2);
	assert_int_equal(latest(f), 3);
	assert_int_equal(deploy(f, 4), 4);
	assert_int_equal(served(f, "DEFAULT"), 4);
	assert_int_equal(served(f, "canary"), 1);
	/* DEFAULT stays, others go */
	assert_int_equal(model_endpoint_delete(f->m, "prod", "chat",
			"DEFAULT"), -EPERM);
	assert_int_equal(model_endpoint_delete(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_delete(f->m, "prod", "chat",
			"canary"), -ENOENT);
}

static void ignore(void *ctx, const struct model_event *ev)
{
	(void)ctx;
	(void)ev;
}

/* A pin only moves an endpoint: the rows the model keeps of the
 * environment and the runtime survive it and serve the next pin, which
 * reads two rows fewer than the first after another change, and the
 * endpoint it moved is kept as it committed it. */
static void test_repoint_keeps_rows(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;
	struct model_endpoint kept, read;
	uint64_t reads, first;

	model_watch(f->m, ignore, NULL);
	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(deploy(f, 2), 2);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	reads = model_reads();
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	first = model_reads() - reads;
	assert_int_equal(served(f, "canary"), 1);
	reads = model_reads();
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"2"), 0);
	assert_int_equal(model_reads() - reads, first - 2);
	/* and what it moved is read from memory, as the store has it */
	reads = model_reads();
	assert_int_equal(model_endpoint_get(f->m, "prod", "chat", "canary",
			&kept), 0);
	assert_int_equal(model_reads(), reads);
	assert_int_equal(kept.version, 2);
	model_forget(f->m);
	assert_int_equal(model_endpoint_get(f->m, "prod", "chat", "canary",
			&read), 0);
	assert_string_equal(kept.name, read.name);
	assert_string_equal(kept.id, read.id);
	assert_int_equal(kept.version, read.version);
	assert_int_equal(kept.created_ns, read.created_ns);
	assert_int_equal(kept.updated_ns, read.updated_ns);
	assert_int_equal(served(f, "canary"), 2);
	assert_int_equal(served(f, "DEFAULT"), 2);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_int_equal(rt.latest_version, 2);
	/* a deploy after a pin is seen whole */
	assert_int_equal(deploy(f, 3), 3);
	assert_int_equal(served(f, "DEFAULT"), 3);
	assert_int_equal(served(f, "canary"), 2);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_int_equal(rt.latest_version, 3);
	model_watch(f->m, NULL, NULL);
}

static void test_version_delete(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	int64_t t;

	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(deploy(f, 2), 2);
	assert_int_equal(deploy(f, 3), 3);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"2"), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 3),
			-EBUSY);
	assert_non_null(strstr(model_errmsg(), "latest"));
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 2),
			-EBUSY);
	assert_non_null(strstr(model_errmsg(), "served by endpoint"
			" 'canary'"));
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 1), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 1),
			-ENOENT);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &text,
			&t), -ENOENT);
	/* numbers are never reused */
	assert_int_equal(deploy(f, 4), 4);
}

/* What the watcher hears of deploys and endpoints: the facet each
 * touched, the one endpoint a pin moved, the version or endpoint that
 * went; nothing for a change that changes nothing. */
static void test_watcher_hears_facets(void **state)
{
	struct fixture *f = *state;
	struct heard h = { "" };

	model_watch(f->m, hear, &h);
	/* the first deploy starts the runtime; DEFAULT follows each */
	assert_int_equal(deploy(f, 1), 1);
	assert_string_equal(h.text, "runtime/62#:prod:chat:DEFAULT");
	h.text[0] = '\0';
	assert_int_equal(deploy(f, 2), 2);
	assert_string_equal(h.text, "runtime/60#:prod:chat:DEFAULT");
	h.text[0] = '\0';
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	assert_string_equal(h.text, "runtime/800#:prod:chat:canary"
			" runtime/40#:prod:chat:canary");
	h.text[0] = '\0';
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"9"), -ENOENT);
	assert_string_equal(h.text, "");
	assert_int_equal(model_endpoint_delete(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 1), 0);
	assert_string_equal(h.text, "runtime/c00#:prod:chat:canary"
			" runtime/420#:prod:chat:1");
	h.text[0] = '\0';
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "stop"), 0);
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat",
			"reset-service-account"), 0);
	assert_string_equal(h.text, "runtime/2#:prod:chat runtime/80#:prod:chat");
	h.text[0] = '\0';
	assert_int_equal(model_project_create(f->m, "shop"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "orders"), 0);
	assert_int_equal(model_runtime_assign(f->m, "prod", "chat", "shop",
			"orders"), 0);
	assert_string_equal(h.text, "project/1:shop integration/1:shop:orders"
			" project/8:shop runtime/8#:prod:chat"
			" view/0:shop:orders:prod");
	h.text[0] = '\0';
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"), 0);
	assert_string_equal(h.text, "runtime/200#:prod:chat env/8:prod"
			" view/0:shop:orders:prod:chat");
	model_watch(f->m, NULL, NULL);
}

static void test_runtime_delete_rules(void **state)
{
	struct fixture *f = *state;
	struct model_service_account sa;

	assert_int_equal(deploy(f, 1), 1);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	heartbeat(f);
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"), -EBUSY);
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "stop"), 0);
	f->now += 31 * SEC;
	assert_string_equal(status(f), "STOPPED");
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"),
			-ENOTEMPTY);
	assert_non_null(strstr(model_errmsg(), "'canary'"));
	assert_int_equal(model_endpoint_delete(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"), 0);
	/* everything went with it: a new one of that name starts afresh */
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	assert_int_equal(latest(f), 0);
	assert_int_equal(model_endpoint_get(f->m, "prod", "chat", "DEFAULT",
			&(struct model_endpoint){ 0 }), -ENOENT);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	assert_int_equal(deploy(f, 1), 1);
}

static void test_start_stop(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "start"),
			-EBUSY);
	assert_int_equal(deploy(f, 1), 1);
	heartbeat(f);
	assert_string_equal(status(f), "RUNNING");
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "stop"), 0);
	assert_string_equal(status(f), "STOPPING");
	f->now += 31 * SEC;
	assert_string_equal(status(f), "STOPPED");
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "start"), 0);
	assert_string_equal(status(f), "STARTING");
	f->now += SEC;
	heartbeat(f);
	assert_string_equal(status(f), "RUNNING");
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", "restart"),
			-EINVAL);
	assert_non_null(strstr(model_errmsg(), "unknown command 'restart'"));
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat", ""),
			-EINVAL);
	assert_string_equal(status(f), "RUNNING");
}

static int64_t runtime_id(struct fixture *f)
{
	struct store_runtime rt;
	int ret;

	model_lock(f->m);
	ret = model_runtime_row(f->m, "prod", "chat", &rt);
	model_unlock(f->m);
	assert_int_equal(ret, 0);
	return rt.id;
}

static int verify(struct fixture *f, const char *cred)
{
	int64_t id = runtime_id(f);
	int ret;

	model_lock(f->m);
	ret = model_service_account_verify(f->m, id, cred);
	model_unlock(f->m);
	return ret;
}

static void test_service_account(void **state)
{
	struct fixture *f = *state;
	struct model_service_account sa, again, fresh;
	char bad[MODEL_CREDENTIAL_MAX];

	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	assert_int_equal(strlen(sa.client_id), 36);
	assert_int_equal(strlen(sa.credential), 36 + 1 + 43);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat",
			&again), 0);
	assert_string_equal(sa.credential, again.credential);
	assert_int_equal(verify(f, sa.credential), 0);
	snprintf(bad, sizeof(bad), "%s", sa.credential);
	bad[strlen(bad) - 1] ^= 1;
	assert_int_equal(verify(f, bad), -EACCES);
	assert_int_equal(verify(f, ""), -EACCES);
	assert_int_equal(verify(f, "nodot"), -EACCES);
	assert_int_equal(verify(f, sa.client_id), -EACCES);
	assert_int_equal(verify(f, "x.y"), -EACCES);
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	assert_int_equal(verify(f, bad), -EACCES);
	/* reset: new credentials, the old ones stop working at once */
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat",
			"reset-service-account"), 0);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat",
			&fresh), 0);
	assert_string_not_equal(fresh.credential, sa.credential);
	assert_string_not_equal(fresh.client_id, sa.client_id);
	assert_int_equal(verify(f, sa.credential), -EACCES);
	assert_int_equal(verify(f, fresh.credential), 0);
}

/* A runtime from before service accounts gets one when it is first
 * read, and through model_service_account_create, which replaces it. */
static void test_service_account_create(void **state)
{
	struct fixture *f = *state;
	struct model_service_account sa;
	int64_t id = runtime_without_account(f, "prod", "old");
	int ret;

	model_lock(f->m);
	ret = model_service_account_verify(f->m, id, "a.b");
	model_unlock(f->m);
	assert_int_equal(ret, -EACCES);
	assert_int_equal(model_service_account_get(f->m, "prod", "old", &sa),
			0);
	model_lock(f->m);
	ret = model_service_account_verify(f->m, id, sa.credential);
	model_unlock(f->m);
	assert_int_equal(ret, 0);
	/* inside a caller's transaction, as the heartbeat code does */
	assert_int_equal(model_begin(f->m), 0);
	ret = model_service_account_create(f->m, id);
	assert_int_equal(model_end(f->m, ret), 0);
	model_lock(f->m);
	ret = model_service_account_verify(f->m, id, sa.credential);
	model_unlock(f->m);
	assert_int_equal(ret, -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, deploy_setup, teardown)
		T(test_first_deploy),
		T(test_spec_rules),
		T(test_autoscaling_ranges),
		T(test_spec_hostile_input),
		T(test_spec_nul_and_invalid_utf8),
		T(test_image_auth),
		T(test_same_spec_deploys_nothing),
		T(test_versions_immutable),
		T(test_default_pin_rollback),
		T(test_repoint_keeps_rows),
		T(test_version_delete),
		T(test_watcher_hears_facets),
		T(test_runtime_delete_rules),
		T(test_start_stop),
		T(test_service_account),
		T(test_service_account_create),
#undef T
	};

	return cmocka_run_group_tests_name("deploy", tests, NULL, NULL);
}
