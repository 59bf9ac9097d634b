/*
 * test_remove.c - removing an object whole (model/remove.c), on a real
 * store: everything the walk covered goes in one transaction, and a
 * refusal (something not covered, a RUNNING runtime) leaves every row as
 * it was.
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
	" \"args\": [], \"environmentVariables\": {}," \
	" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 3," \
	" \"cpuUtilization\": 70, \"memoryUtilization\": 80}," \
	" \"description\": \"\"}"

/* Everything the store holds: what "nothing changed" compares. */
static char *dump(struct fixture *f)
{
	return dump_store(f->db);
}

/* What a runtime left in the store (found by its row id, as rows that
 * outlived it would be): versions, endpoints, a service account. */
static int count_version(void *ctx, const struct store_version *v)
{
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static int count_endpoint(void *ctx, const struct store_endpoint *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

static int left_of(struct fixture *f, int64_t runtime_id)
{
	struct store *s = store_lock(f);
	struct store_service_account sa;
	int n = 0;

	assert_int_equal(store_version_list(s, runtime_id, count_version,
			&n), 0);
	assert_int_equal(store_endpoint_list(s, runtime_id, count_endpoint,
			&n), 0);
	if (!store_service_account_get(s, runtime_id, &sa))
		n++;
	store_unlock(f);
	return n;
}

/* Whether the store still has a secret of key id `key_id`. */
static int secret_left(struct fixture *f, const char *key_id)
{
	struct store *s = store_lock(f);
	struct store_secret sec;
	int ret = store_secret_get_key(s, key_id, &sec);

	store_unlock(f);
	assert_true(ret == 0 || ret == -ENOENT);
	return ret == 0;
}

static void deploy(struct fixture *f, const char *env, const char *name,
		int tag)
{
	char spec[1024];

	snprintf(spec, sizeof(spec), SPEC_FMT, tag);
	f->now += SEC;
	assert_int_equal(model_deploy(f->m, env, name, spec, strlen(spec),
			NULL), 0);
}

/* What the walk removed: every part, or every part but one kind. */
struct walk {
	int covers;                 /* 1: everything */
	enum model_part_kind except;
	int except_on;
	int asked[MODEL_PART_SCOPED_SECRET + 1];
};

static int covered(void *ctx, const struct model_part *part)
{
	struct walk *w = ctx;

	w->asked[part->kind]++;
	if (w->except_on && part->kind == w->except)
		return 0;
	return w->covers;
}

/* dev: runtime "agent" (versions 1..3, DEFAULT and canary), runtime
 * "mi" registered by a heartbeat (project shop, integration orders), an
 * unbound secret "spare", and an environment "keep" that stays. */
static int remove_setup(void **state)
{
	struct model_secret_scope sc = { "dev", NULL, NULL };
	struct model_heartbeat_reply r;
	struct model_secret s;
	struct fixture *f;
	char json[1024];

	if (setup(state))
		return -1;
	f = *state;
	if (model_env_create(f->m, "dev") || model_env_create(f->m, "keep") ||
	    model_runtime_create(f->m, "dev", "agent", NULL, NULL) ||
	    model_secret_create(f->m, &sc, "spare") ||
	    model_secret_create(f->m, &sc, "for-mi") ||
	    model_secret_get(f->m, &sc, "for-mi", &s))
		return -1;
	for (int i = 1; i <= 3; i++)
		deploy(f, "dev", "agent", i);
	if (model_endpoint_create(f->m, "dev", "agent", "canary") ||
	    model_endpoint_pin(f->m, "dev", "agent", "canary", "2"))
		return -1;
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
		" \"mi\", \"runtimeType\": \"MI\", \"environment\": \"dev\","
		" \"project\": \"shop\", \"component\": \"orders\"}", s.secret);
	if (model_heartbeat(f->m, json, strlen(json), &r))
		return -1;
	/* OFFLINE, so that it may go */
	f->now += 60 * SEC;
	return 0;
}

static void test_environment_whole(void **state)
{
	struct fixture *f = *state;
	struct walk w = { .covers = 1 };
	struct model_cover c = { covered, &w };
	struct model_secret_scope sc = { "dev", NULL, NULL };
	struct model_secret spare;
	struct model_runtime mi;
	struct model_env e;
	int64_t agent = stored_runtime(f, "dev", "agent").id;
	int64_t mi_id = stored_runtime(f, "dev", "mi").id;

	assert_int_equal(model_runtime_get(f->m, "dev", "mi", &mi), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "spare", &spare), 0);
	assert_true(left_of(f, agent) > 0);
	assert_int_equal(model_env_remove(f->m, "dev", &c), 0);
	assert_int_equal(model_env_get(f->m, "dev", &e), -ENOENT);
	assert_int_equal(model_env_get(f->m, "keep", &e), 0);
	assert_int_equal(left_of(f, agent), 0);
	assert_int_equal(left_of(f, mi_id), 0);
	assert_false(secret_left(f, mi.secret));
	assert_false(secret_left(f, spare.key_id));
	/* asked about each part: 2 runtimes, 3 versions, 2 endpoints, the
	 * bound secret of mi, the unbound spare */
	assert_int_equal(w.asked[MODEL_PART_RUNTIME], 2);
	assert_int_equal(w.asked[MODEL_PART_VERSION], 3);
	assert_int_equal(w.asked[MODEL_PART_ENDPOINT], 2);
	assert_int_equal(w.asked[MODEL_PART_BOUND_SECRET], 1);
	assert_int_equal(w.asked[MODEL_PART_SECRET], 1);
}

/* Each part the walk did not remove makes the whole removal refused,
 * with nothing changed. */
static void test_environment_uncovered_part(void **state)
{
	static const enum model_part_kind kinds[] = { MODEL_PART_RUNTIME,
		MODEL_PART_VERSION, MODEL_PART_ENDPOINT,
		MODEL_PART_BOUND_SECRET, MODEL_PART_SECRET };
	struct fixture *f = *state;
	char *before = dump(f), *after;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct walk w = { .covers = 1, .except = kinds[i],
			.except_on = 1 };
		struct model_cover c = { covered, &w };

		assert_int_equal(model_env_remove(f->m, "dev", &c),
				-ENOTEMPTY);
		assert_non_null(strstr(model_errmsg(), "nothing was removed"));
		after = dump(f);
		assert_string_equal(before, after);
		free(after);
	}
	assert_int_equal(model_env_remove(f->m, "dev", NULL), -ENOTEMPTY);
	free(before);
}

static void test_running_runtime_refuses(void **state)
{
	struct fixture *f = *state;
	struct walk w = { .covers = 1 };
	struct model_cover c = { covered, &w };
	struct model_secret_scope sc = { "dev", NULL, NULL };
	struct model_heartbeat_reply r;
	struct model_secret s;
	char json[1024], *before, *after;

	/* a runtime that heartbeats now is RUNNING */
	assert_int_equal(model_secret_create(f->m, &sc, "live"), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "live", &s), 0);
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
		" \"live\", \"runtimeType\": \"MI\", \"environment\": \"dev\","
		" \"project\": \"shop\", \"component\": \"orders\"}", s.secret);
	assert_int_equal(model_heartbeat(f->m, json, strlen(json), &r), 0);
	assert_int_equal(model_liveness_flush(f->m), 0);
	before = dump(f);
	assert_int_equal(model_env_remove(f->m, "dev", &c), -EBUSY);
	assert_non_null(strstr(model_errmsg(), "'live' is RUNNING"));
	assert_int_equal(model_runtime_remove(f->m, "dev", "live", &c),
			-EBUSY);
	assert_int_equal(model_project_remove(f->m, "shop", &c), -EBUSY);
	after = dump(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_runtime_whole(void **state)
{
	struct fixture *f = *state;
	struct walk w = { .covers = 1 };
	struct model_cover c = { covered, &w };
	struct model_runtime rt;
	int64_t agent = stored_runtime(f, "dev", "agent").id;

	/* rmdir alone refuses: canary is there */
	assert_int_equal(model_runtime_delete(f->m, "dev", "agent"),
			-ENOTEMPTY);
	assert_int_equal(model_runtime_remove(f->m, "dev", "agent", &c), 0);
	assert_int_equal(model_runtime_get(f->m, "dev", "agent", &rt),
			-ENOENT);
	assert_int_equal(left_of(f, agent), 0);
	assert_int_equal(w.asked[MODEL_PART_RUNTIME], 0);
}

/* An integration takes its runtimes as rm of their links does, and its
 * scoped secrets; a project its integrations. */
static void test_project_whole(void **state)
{
	struct fixture *f = *state;
	struct model_secret_scope scoped = { "keep", "shop", "orders" };
	struct walk w = { .covers = 1 };
	struct model_cover c = { covered, &w };
	struct model_runtime rt;
	struct model_project p;
	char *before, *after;

	assert_int_equal(model_secret_create(f->m, &scoped, "key"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "empty"), 0);
	/* a link the walk did not remove */
	before = dump(f);
	w.except = MODEL_PART_LINK;
	w.except_on = 1;
	assert_int_equal(model_project_remove(f->m, "shop", &c), -ENOTEMPTY);
	after = dump(f);
	assert_string_equal(before, after);
	free(after);
	w.except_on = 0;
	assert_int_equal(model_project_remove(f->m, "shop", &c), 0);
	assert_int_equal(model_project_get(f->m, "shop", &p), -ENOENT);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi", &rt), -ENOENT);
	assert_int_equal(model_runtime_get(f->m, "dev", "agent", &rt), 0);
	assert_int_equal(w.asked[MODEL_PART_INTEGRATION], 4);
	assert_int_equal(w.asked[MODEL_PART_SCOPED_SECRET], 1);
	free(before);
}

/* A snapshot is read-only: a whole removal in it is EROFS. */
static void test_snapshot_refuses(void **state)
{
	struct fixture *f = *state;
	struct walk w = { .covers = 1 };
	struct model_cover c = { covered, &w };
	struct model *snap;

	assert_int_equal(model_snapshot_create(f->m, "s"), 0);
	assert_int_equal(model_snapshot_get(f->m, "s", &snap), 0);
	assert_int_equal(model_env_remove(snap, "dev", &c), -EROFS);
	assert_int_equal(model_runtime_remove(snap, "dev", "agent", &c),
			-EROFS);
	model_snapshot_put(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environment_whole,
				remove_setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_environment_uncovered_part,
				remove_setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_runtime_refuses,
				remove_setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_whole,
				remove_setup, teardown),
		cmocka_unit_test_setup_teardown(test_project_whole,
				remove_setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_refuses,
				remove_setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
