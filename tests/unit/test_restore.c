/*
 * test_restore.c - restores in the model, on real SQLite databases in a
 * temporary directory: a model built through its ordinary calls is
 * written out as a backup's entries, restored into a second, empty
 * model, and read back value for value; then what a restore refuses, and
 * that a refused restore leaves nothing behind.
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

#include "../../model/model_int.h"

#include "fixture.h"
#include "backup.h"

/* The spec's fields without their braces, for a version's file. */
#define SPEC_FIELDS "\"imageUrl\": \"registry.example/chat:1\"," \
	" \"flavorId\": \"g1-small\", \"command\": [], \"args\": []," \
	" \"environmentVariables\": {}, \"autoscaling\": {\"minReplicas\": 1," \
	" \"maxReplicas\": 3, \"cpuUtilization\": 70," \
	" \"memoryUtilization\": 80}, \"description\": \"\""

/* Everything the backup holds comes back: ids, times, versions byte for
 * byte, pins, the service account, and both secrets still work. */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct backup b = { 0 };
	struct model_runtime a, c;
	struct model_endpoint e1, e2;
	struct model_service_account s1, s2;
	struct model_heartbeat_reply r;
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_secret sec;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX], json[512];
	char *v1, *v2;
	int64_t t1, t2;
	struct model *m;

	make_backup(f, &b, cred, spare);
	m = open_target(f, "restored.db");
	f->now += 3600 * SEC;
	assert_int_equal(model_restore_apply(m, b.e, b.n), 0);

	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &a), 0);
	assert_int_equal(model_runtime_get(m, "prod", "chat", &c), 0);
	assert_string_equal(a.uuid, c.uuid);
	assert_int_equal(a.registered_ns / SEC, c.registered_ns / SEC);
	assert_int_equal(c.latest_version, 3);
	for (int i = 1; i <= 3; i += 2) {
		assert_int_equal(model_version_get(f->m, "prod", "chat", i,
				&v1, &t1), 0);
		assert_int_equal(model_version_get(m, "prod", "chat", i, &v2,
				&t2), 0);
		assert_string_equal(v1, v2);
		free(v1);
		free(v2);
	}
	assert_int_equal(model_version_get(m, "prod", "chat", 2, &v2, &t2),
			-ENOENT);
	assert_int_equal(model_endpoint_get(f->m, "prod", "chat", "canary",
			&e1), 0);
	assert_int_equal(model_endpoint_get(m, "prod", "chat", "canary",
			&e2), 0);
	assert_string_equal(e1.id, e2.id);
	assert_int_equal(e2.version, 1);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat",
			&s1), 0);
	assert_int_equal(model_service_account_get(m, "prod", "chat", &s2),
			0);
	assert_string_equal(s1.credential, s2.credential);
	assert_int_equal(model_runtime_get(m, "prod", "orders-1", &c), 0);
	assert_string_equal(c.project, "shop");
	assert_string_equal(c.integration, "orders");
	assert_string_equal(c.type, "MI");

	/* the old secrets: the bound one heartbeats, the spare one shows */
	hb_json(json, sizeof(json), cred);
	assert_int_equal(model_heartbeat(m, json, strlen(json), &r), 0);
	assert_string_equal(r.runtime_id, c.uuid);
	assert_int_equal(model_runtime_get(m, "prod", "orders-1", &c), 0);
	assert_string_equal(c.status, "RUNNING");
	assert_int_equal(model_secret_get(m, &sc, "spare", &sec), 0);
	assert_string_equal(sec.secret, spare);
	/* numbering goes on after the latest version */
	{
		char spec[512];
		int64_t v = 0;

		snprintf(spec, sizeof(spec), SPEC_FMT, 4);
		assert_int_equal(model_deploy(m, "prod", "chat", spec,
				strlen(spec), &v), 0);
		assert_int_equal(v, 4);
	}
	model_close(m);
	backup_release(&b);
}

/* Entries come in any order: reversed, the same model. */
static void test_any_order(void **state)
{
	struct fixture *f = *state;
	struct backup b = { 0 };
	struct model_restore_entry rev[MAX_ENTRIES];
	struct model_endpoint e;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];
	struct model *m;

	make_backup(f, &b, cred, spare);
	for (size_t i = 0; i < b.n; i++)
		rev[i] = b.e[b.n - 1 - i];
	m = open_target(f, "reversed.db");
	assert_int_equal(model_restore_apply(m, rev, b.n), 0);
	assert_int_equal(model_endpoint_get(m, "prod", "chat", "DEFAULT", &e),
			0);
	assert_int_equal(e.version, 3);
	model_close(m);
	backup_release(&b);
}

static int count_env(void *ctx, const struct model_env *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

/* Replaces the bytes of the entry at `path`. */
static void replace(struct backup *b, const char *path, const char *text)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->e[i].path, path)) {
			free(b->owned[i]);
			b->owned[i] = strdup(text);
			b->e[i].data = b->owned[i];
			b->e[i].len = strlen(text);
			return;
		}
	fail_msg("no entry %s", path);
}

/* Each broken rule is refused with its errno, naming the file, and the
 * target is left as empty as it was. */
static void test_refusals_leave_nothing(void **state)
{
	static const struct {
		const char *path, *text, *why;
		int err;
	} cases[] = {
		{ "environments/prod/runtimes/chat/endpoints/canary/version",
		  "9\n", "the runtime has no version 9", -ENOENT },
		{ "environments/prod/critical", "2\n", "'2' is not one of",
		  -EINVAL },
		{ "environments/prod/runtimes/chat/id",
		  "not-a-uuid\n", "is not a UUID", -EINVAL },
		{ "environments/prod/runtimes/orders-1/secret", "00000000\n",
		  "key id", -EINVAL },
		{ "environments/prod/runtimes/chat/endpoints/DEFAULT/version",
		  "2\n", "no version 2", -ENOENT },
		{ "environments/prod/runtimes/chat/service_account",
		  "x.y\n", "CLIENTID.SECRET", -EINVAL },
		{ "environments/prod/runtimes/orders-1/project", "nope\n",
		  "no project 'nope'", -ENOENT },
	};
	struct fixture *f = *state;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];
	struct backup b = { 0 };

	make_backup(f, &b, cred, spare);
	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		struct backup c = { 0 };
		char name[32];
		struct model *m;
		int envs = 0;

		for (size_t i = 0; i < b.n; i++)
			add(&c, b.e[i].type, b.e[i].path, "%s", b.e[i].data);
		replace(&c, cases[k].path, cases[k].text);
		snprintf(name, sizeof(name), "bad%zu.db", k);
		m = open_target(f, name);
		assert_int_equal(model_restore_apply(m, c.e, c.n),
				cases[k].err);
		if (!strstr(model_errmsg(), cases[k].why))
			fail_msg("case %zu: '%s' lacks '%s'", k,
					model_errmsg(), cases[k].why);
		assert_int_equal(model_env_list(m, count_env, &envs), 0);
		assert_int_equal(envs, 0);
		model_close(m);
		backup_release(&c);
	}
	/* a secret twice, a path twice */
	{
		struct model *m = open_target(f, "twice.db");

		b.e[b.n - 1] = b.e[0];
		assert_int_equal(model_restore_apply(m, b.e, b.n), -EINVAL);
		assert_string_equal(model_errmsg(), "environments appears"
				" twice");
		model_close(m);
	}
	backup_release(&b);
}

static void test_refuses_non_empty(void **state)
{
	struct fixture *f = *state;
	struct model_restore_entry e = { "environments/dev", 'd', "", 0, 0 };

	assert_int_equal(model_restore_empty(f->m), 0);
	assert_int_equal(model_env_create(f->m, "x"), 0);
	assert_int_equal(model_restore_empty(f->m), -ENOTEMPTY);
	assert_int_equal(model_restore_apply(f->m, &e, 1), -ENOTEMPTY);
	assert_string_equal(model_errmsg(), "a restore goes into an empty"
			" database only; this one holds 1 environment(s), 0"
			" project(s) and 0 snapshot(s)");
	/* a snapshot alone is something a restore would lose */
	assert_int_equal(model_env_delete(f->m, "x"), 0);
	assert_int_equal(model_snapshot_create(f->m, "s"), 0);
	assert_int_equal(model_restore_apply(f->m, &e, 1), -ENOTEMPTY);
	assert_string_equal(model_errmsg(), "a restore goes into an empty"
			" database only; this one holds 0 environment(s), 0"
			" project(s) and 1 snapshot(s)");
	assert_int_equal(model_snapshot_delete(f->m, "s"), 0);
	assert_int_equal(model_restore_empty(f->m), 0);
}

/* The layout: what a backup may hold, what a restore skips. */
static void test_paths_and_values(void **state)
{
	char big[70000];

	(void)state;
	assert_int_equal(model_restore_path("environments", 'd'), 0);
	assert_int_equal(model_restore_path("environments/prod/runtimes/a/"
			"versions/12", 'f'), 0);
	assert_int_equal(model_restore_path("README", 'f'), 1);
	assert_int_equal(model_restore_path("snapshots/x/environments", 'd'),
			1);
	assert_int_equal(model_restore_path("environments/prod/.critical."
			"x1y2z3", 'f'), 1);
	assert_int_equal(model_restore_path("environments/prod/x", 'f'),
			-EPERM);
	assert_int_equal(model_restore_path("environments/prod/critical",
			'd'), -EPERM);
	assert_int_equal(model_restore_path("environments/bad name", 'd'),
			-EINVAL);
	assert_int_equal(model_restore_path("environments/prod/runtimes/a/"
			"versions/01", 'f'), -EPERM);
	assert_int_equal(model_restore_path("projects/p/runtimes/prod/a",
			'f'), 0);      /* tar's placeholder for a link */
	assert_int_equal(model_restore_check("environments/prod/critical",
			"1\n", 2), 0);
	assert_int_equal(model_restore_check("environments/prod/critical",
			"1\0", 2), -EINVAL);
	assert_int_equal(model_restore_check("environments/p/runtimes/a/"
			"registered", "2026-11-23T12:17:48Z\n", 21), 0);
	assert_int_equal(model_restore_check("environments/p/runtimes/a/"
			"registered", "2026-13-23T12:17:48Z\n", 21), -EINVAL);
	assert_int_equal(model_restore_check("environments/p/runtimes/a/"
			"versions/2", "{\"version\": 2}", 14), -EINVAL);
	memset(big, '{', sizeof(big));
	assert_int_equal(model_restore_check("environments/p/runtimes/a/"
			"versions/2", big, sizeof(big)), -EFBIG);
	assert_int_equal(model_restore_check("environments/p/secrets/s", big,
			sizeof(big)), -EINVAL);
	assert_int_equal(model_restore_check("environments/p/runtimes/a/"
			"secret.toml", "secret = \"x\n", 12), -EINVAL);
	/* what holds key material, whatever mode a tool gave it */
	assert_int_equal(model_restore_secret("environments/p/secrets/s"), 1);
	assert_int_equal(model_restore_secret("projects/p/integrations/i/"
			"secrets/prod/s"), 1);
	assert_int_equal(model_restore_secret("environments/p/runtimes/a/"
			"secret.toml"), 1);
	assert_int_equal(model_restore_secret("environments/p/runtimes/a/"
			"service_account"), 1);
	assert_int_equal(model_restore_secret("environments/p/runtimes/a/"
			"secret"), 0);
	assert_int_equal(model_restore_secret("environments/p/critical"), 0);
	assert_int_equal(model_restore_secret("environments/p/secrets"), 0);
}

/* Times a restore reads: RFC 3339 UTC within what an int64_t of
 * nanoseconds holds (the year 5026 overflowed it, found by libFuzzer). */
static void test_time_range(void **state)
{
	static const struct {
		const char *time;
		int ret;
	} times[] = {
		{ "1970-01-01T00:00:01Z", 0 },
		{ "2026-11-23T12:17:48Z", 0 },
		{ "2262-04-11T23:47:16Z", 0 },
		{ "2262-04-11T23:47:17Z", -ERANGE },
		{ "2263-01-01T00:00:00Z", -ERANGE },
		{ "5026-11-23T12:46:55Z", -ERANGE },
		{ "9999-12-31T23:59:59Z", -ERANGE },
		{ "1970-01-01T00:00:00Z", -ERANGE },
		{ "1969-12-31T23:59:59Z", -ERANGE },
		{ "0000-01-01T00:00:00Z", -ERANGE },
		{ "2026-02-30T12:00:00Z", -EINVAL },
		{ "2026-11-23T24:00:00Z", -EINVAL },
		{ "2026-11-23T12:17:60Z", -EINVAL },
		{ "12026-11-23T12:17:4Z", -EINVAL },
	};
	static const char *const files[] = {
		"environments/p/runtimes/a/registered",
		"environments/p/runtimes/a/last_heartbeat",
		"environments/p/runtimes/a/endpoints/DEFAULT/created",
		"environments/p/runtimes/a/endpoints/DEFAULT/updated",
	};
	char text[64], version[512];
	int ret;

	(void)state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
			snprintf(text, sizeof(text), "%s\n", times[i].time);
			ret = model_restore_check(files[k], text, strlen(text));
			if (times[i].ret == -ERANGE ?
			    ret != -EINVAL || !strstr(model_errmsg(),
					"is out of range: a time is from"
					" 1970-01-01T00:00:01Z to"
					" 2262-04-11T23:47:16Z") :
			    ret != times[i].ret)
				fail_msg("%s in %s: %d, '%s'", times[i].time,
						files[k], ret, model_errmsg());
		}
		/* and a version's createdAt */
		snprintf(version, sizeof(version), "{\"agentRuntimeId\":"
			" \"12a5be26-990e-4340-9ac4-35dad14b407a\","
			" \"version\": 2, " SPEC_FIELDS ","
			" \"createdAt\": \"%s\"}", times[i].time);
		ret = model_restore_check("environments/p/runtimes/a/"
				"versions/2", version, strlen(version));
		if (ret != (times[i].ret ? -EINVAL : 0))
			fail_msg("createdAt %s: %d, '%s'", times[i].time, ret,
					model_errmsg());
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_any_order, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_refusals_leave_nothing,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_empty, setup,
				teardown),
		cmocka_unit_test(test_paths_and_values),
		cmocka_unit_test(test_time_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
