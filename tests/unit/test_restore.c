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

#define SPEC_FMT "{\"imageUrl\": \"registry.example/chat:%d\"," \
	" \"flavorId\": \"g1-small\", \"command\": [\"python\"]," \
	" \"args\": [\"app.py\"], \"environmentVariables\": {}," \
	" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 3," \
	" \"cpuUtilization\": 70, \"memoryUtilization\": 80}," \
	" \"description\": \"chat agent\"}"

/* The spec's fields without their braces, for a version's file. */
#define SPEC_FIELDS "\"imageUrl\": \"registry.example/chat:1\"," \
	" \"flavorId\": \"g1-small\", \"command\": [], \"args\": []," \
	" \"environmentVariables\": {}, \"autoscaling\": {\"minReplicas\": 1," \
	" \"maxReplicas\": 3, \"cpuUtilization\": 70," \
	" \"memoryUtilization\": 80}, \"description\": \"\""

#define MAX_ENTRIES 64

/* A backup being written: entries and the text they own. */
struct backup {
	struct model_restore_entry e[MAX_ENTRIES];
	char *owned[MAX_ENTRIES];
	size_t n;
};

static void add(struct backup *b, char type, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(struct backup *b, char type, const char *path,
		const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	assert_true(b->n < MAX_ENTRIES);
	va_start(ap, fmt);
	assert_true(vasprintf(&text, fmt, ap) >= 0);
	va_end(ap);
	b->owned[b->n] = text;
	b->e[b->n] = (struct model_restore_entry){ path, type, text,
		strlen(text), 0 };
	b->n++;
}

static void backup_release(struct backup *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->owned[i]);
}

/* A secret's snippet as the tree shows it (the lines a restore reads). */
static void add_snippet(struct backup *b, const char *path, const char *env,
		const char *runtime, const char *cred)
{
	add(b, 'f', path, "[wso2.icp.runtime.bridge]\nenvironment = \"%s\"\n"
			"project = \"<project name>\"\n"
			"integration = \"<integration name>\"\n"
			"runtime = \"%s\"\nsecret = \"%s\"\n", env, runtime,
			cred);
}

/* The second, empty model, beside the fixture's. */
static struct model *open_target(struct fixture *f, const char *name)
{
	struct model_config cfg = { .offline_after_ns = 30 * SEC,
		.now = fake_now, .now_ctx = f, .flush_interval_ns = -1 };
	char db[128];
	struct model *m = NULL;

	snprintf(db, sizeof(db), "%s/%s", f->dir, name);
	assert_int_equal(model_open(&m, db, &cfg), 0);
	return m;
}

static const char *hb_json(char *out, size_t cap, const char *cred)
{
	snprintf(out, cap, "{\"secret\": \"%s\", \"runtime\": \"orders-1\","
			" \"runtimeType\": \"MI\", \"environment\": \"prod\","
			" \"project\": \"shop\", \"component\": \"orders\"}",
			cred);
	return out;
}

/* The source: prod (critical), shop/orders, an MI runtime registered by
 * heartbeat, an agent runtime with versions 1 and 3 and a canary on 1,
 * and an unbound secret.  Written out as a backup's entries. */
static void make_backup(struct fixture *f, struct backup *b, char *cred,
		char *spare)
{
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_secret sec;
	struct model_heartbeat_reply r;
	struct model_runtime rt, mi;
	struct model_service_account sa;
	struct model_endpoint ep;
	char json[512], spec[512], t[3][MODEL_TIME_MAX], *text;
	int64_t created, v;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_secret_create(f->m, &sc, "orders-1"), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "orders-1", &sec), 0);
	strcpy(cred, sec.secret);
	hb_json(json, sizeof(json), cred);
	if (model_heartbeat(f->m, json, strlen(json), &r))
		fail_msg("heartbeat: %s", model_errmsg());
	assert_int_equal(model_secret_create(f->m, &sc, "spare"), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "spare", &sec), 0);
	strcpy(spare, sec.secret);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	for (int i = 1; i <= 3; i++) {
		f->now += SEC;
		snprintf(spec, sizeof(spec), SPEC_FMT, i);
		assert_int_equal(model_deploy(f->m, "prod", "chat", spec,
				strlen(spec), &v), 0);
	}
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 2), 0);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_int_equal(model_runtime_get(f->m, "prod", "orders-1", &mi), 0);

	add(b, 'd', "environments", "%s", "");
	add(b, 'd', "environments/prod", "%s", "");
	add(b, 'f', "environments/prod/critical", "1\n");
	add(b, 'd', "environments/prod/runtimes", "%s", "");
	add(b, 'd', "environments/prod/secrets", "%s", "");
	add_snippet(b, "environments/prod/secrets/spare", "prod",
			"<unique runtime name>", spare);
	add(b, 'd', "projects", "%s", "");
	add(b, 'd', "projects/shop", "%s", "");
	add(b, 'd', "projects/shop/integrations", "%s", "");
	add(b, 'd', "projects/shop/integrations/orders", "%s", "");
	add(b, 'f', "projects/shop/integrations/orders/type", "MI\n");
	add(b, 'l', "projects/shop/runtimes/prod/orders-1",
			"../../../../environments/prod/runtimes/orders-1");
	add(b, 'l', "projects/shop/integrations/orders/runtimes/prod/"
			"orders-1", "../../../../../../environments/prod/"
			"runtimes/orders-1");

	model_time_format(mi.registered_ns, t[0]);
	model_time_format(mi.heartbeat_ns, t[1]);
	add(b, 'd', "environments/prod/runtimes/orders-1", "%s", "");
	add(b, 'f', "environments/prod/runtimes/orders-1/id", "%s\n", mi.uuid);
	add(b, 'f', "environments/prod/runtimes/orders-1/type", "MI\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/registered", "%s\n",
			t[0]);
	add(b, 'f', "environments/prod/runtimes/orders-1/last_heartbeat",
			"%s\n", t[1]);
	add(b, 'f', "environments/prod/runtimes/orders-1/project", "shop\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/integration",
			"orders\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/secret", "%s\n",
			mi.secret);
	add_snippet(b, "environments/prod/runtimes/orders-1/secret.toml",
			"prod", "orders-1", cred);

	model_time_format(rt.registered_ns, t[0]);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	add(b, 'd', "environments/prod/runtimes/chat", "%s", "");
	add(b, 'f', "environments/prod/runtimes/chat/id", "%s\n", rt.uuid);
	add(b, 'f', "environments/prod/runtimes/chat/type", "agent\n");
	add(b, 'f', "environments/prod/runtimes/chat/registered", "%s\n",
			t[0]);
	add(b, 'f', "environments/prod/runtimes/chat/status", "STARTING\n");
	add(b, 'f', "environments/prod/runtimes/chat/service_account", "%s\n",
			sa.credential);
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &text,
			&created), 0);
	add(b, 'f', "environments/prod/runtimes/chat/spec", "%s", text);
	free(text);
	for (int i = 1; i <= 3; i += 2) {
		static const char *const paths[] = { NULL,
			"environments/prod/runtimes/chat/versions/1", NULL,
			"environments/prod/runtimes/chat/versions/3" };

		assert_int_equal(model_version_get(f->m, "prod", "chat", i,
				&text, &created), 0);
		add(b, 'f', paths[i], "%s", text);
		free(text);
	}
	for (int i = 0; i < 2; i++) {
		static const char *const names[] = { "DEFAULT", "canary" };
		static const char *const files[2][4] = {
			{ "environments/prod/runtimes/chat/endpoints/DEFAULT",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/version",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/id",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/created" },
			{ "environments/prod/runtimes/chat/endpoints/canary",
			  "environments/prod/runtimes/chat/endpoints/canary/version",
			  "environments/prod/runtimes/chat/endpoints/canary/id",
			  "environments/prod/runtimes/chat/endpoints/canary/created" },
		};
		static const char *const updated[] = {
			"environments/prod/runtimes/chat/endpoints/DEFAULT/updated",
			"environments/prod/runtimes/chat/endpoints/canary/updated",
		};

		assert_int_equal(model_endpoint_get(f->m, "prod", "chat",
				names[i], &ep), 0);
		model_time_format(ep.created_ns, t[0]);
		model_time_format(ep.updated_ns, t[1]);
		add(b, 'd', files[i][0], "%s", "");
		add(b, 'f', files[i][1], "%lld\n", (long long)ep.version);
		add(b, 'f', files[i][2], "%s\n", ep.id);
		add(b, 'f', files[i][3], "%s\n", t[0]);
		add(b, 'f', updated[i], "%s\n", t[1]);
	}
}

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
