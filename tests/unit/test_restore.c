/*
 * test_restore.c - restores in the model, on real SQLite databases in a
 * temporary directory: a model built through its ordinary calls is
 * described as a typed backup (struct model_backup, as fs/backup.c reads
 * one), restored into a second, empty model, and read back value for
 * value; then what a restore refuses, and that a refused restore leaves
 * nothing behind.
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

/* Everything the backup holds comes back: ids, times, versions byte for
 * byte, pins, the service account, and both secrets still work. */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct typed t;
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

	make_typed(f, &t, cred, spare);
	m = open_target(f, "restored.db");
	f->now += 3600 * SEC;
	if (model_restore_apply(m, &t.b))
		fail_msg("%s", model_errmsg());

	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &a), 0);
	assert_int_equal(model_runtime_get(m, "prod", "chat", &c), 0);
	assert_string_equal(a.uuid, c.uuid);
	assert_int_equal(a.registered_ns, c.registered_ns);
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
	assert_string_equal(c.secret, t.rt[0].secret_key_id);

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
	typed_release(&t);
}

/* The parts come in any order: reversed, the same model. */
static void test_any_order(void **state)
{
	struct fixture *f = *state;
	struct typed t;
	struct model_backup_runtime rev[2];
	struct model_backup_version vrev[2];
	struct model_backup_link lrev[2];
	struct model_endpoint e;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];
	struct model *m;

	make_typed(f, &t, cred, spare);
	rev[0] = t.rt[1];
	rev[1] = t.rt[0];
	vrev[0] = t.v[1];
	vrev[1] = t.v[0];
	rev[0].versions = vrev;
	lrev[0] = t.links[1];
	lrev[1] = t.links[0];
	t.b.runtimes = rev;
	t.b.links = lrev;
	m = open_target(f, "reversed.db");
	if (model_restore_apply(m, &t.b))
		fail_msg("%s", model_errmsg());
	assert_int_equal(model_endpoint_get(m, "prod", "chat", "DEFAULT", &e),
			0);
	assert_int_equal(e.version, 3);
	model_close(m);
	typed_release(&t);
}

static int count_env(void *ctx, const struct model_env *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

/* Each broken rule is refused with its errno, and a message that starts
 * with where the part came from; the target is left as empty as it was. */
static void test_refusals_leave_nothing(void **state)
{
	static const struct {
		const char *why;
		int err;
	} cases[] = {
		{ "environments/prod/runtimes/chat/endpoints/canary/version:"
		  " the runtime has no version 9", -ENOENT },
		{ "environments/prod: critical is 0 or 1, not 2", -EINVAL },
		{ "environments/prod/runtimes/chat: 'not-a-uuid' is not a"
		  " UUID", -EINVAL },
		{ "but the runtime's secret is '00000000'", -EINVAL },
		{ "environments/prod/runtimes/chat/endpoints/DEFAULT: the"
		  " runtime has no version 2", -ENOENT },
		{ "a service account is CLIENTID.SECRET", -EINVAL },
		{ "environments/prod/runtimes/orders-1: no project 'nope'",
		  -ENOENT },
		{ "environments/prod: its name, id or key is taken", -EEXIST },
		{ "environments/prod/runtimes/orders-1: it is in integration"
		  " 'orders' of project 'shop', but the integration's view"
		  " does not link it", -EINVAL },
		{ "is not the runtime's id", -EINVAL },
		{ "environments/prod/runtimes/chat/spec: not the spec of the"
		  " latest version (3)", -EINVAL },
		{ "projects/shop/integrations/orders: 'XX' is not an"
		  " integration's type", -EINVAL },
		{ "environments/prod/runtimes/orders-1/secret.toml: secret",
		  -EINVAL },
		{ "endpoint DEFAULT is missing", -EINVAL },
		{ "projects/shop/runtimes/prod/orders-1: runtime 'chat' is"
		  " not in this project", -EINVAL },
	};
	struct fixture *f = *state;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];
	struct model_backup_env twice[2];
	struct typed t;

	make_typed(f, &t, cred, spare);
	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		struct typed c = t;
		struct model_backup_runtime rts[2] = { t.rt[0], t.rt[1] };
		struct model_backup_endpoint eps[2] = { t.ep[0], t.ep[1] };
		struct model_backup_version vs[2] = { t.v[0], t.v[1] };
		struct model_backup_integration in = t.in;
		struct model_backup_link links[2] = { t.links[0],
			t.links[1] };
		char name[32];
		struct model *m;
		int envs = 0;

		rts[1].endpoints = eps;
		rts[1].versions = vs;
		c.b.runtimes = rts;
		c.b.integrations = &in;
		c.b.links = links;
		c.env.critical = 1;
		c.b.envs = &c.env;
		switch (k) {
		case 0: eps[1].version = 9; break;
		case 1: c.env.critical = 2; break;
		case 2: strcpy(rts[1].id, "not-a-uuid"); break;
		case 3: strcpy(rts[0].secret_key_id, "00000000"); break;
		case 4: eps[0].version = 2; break;
		case 5: strcpy(rts[1].service_account, "x.y"); break;
		case 6: strcpy(rts[0].project, "nope"); break;
		case 7:
			twice[0] = twice[1] = t.env;
			c.b.envs = twice;
			c.b.nenvs = 2;
			break;
		case 8: c.b.nlinks = 1; break;
		case 9: strcpy(vs[0].runtime_id,
				"12a5be26-990e-4340-9ac4-35dad14b407a"); break;
		case 10: rts[1].spec = vs[0].spec;
			rts[1].spec_len = vs[0].spec_len; break;
		case 11: strcpy(in.type, "XX"); break;
		case 12: strcpy(rts[0].bound.credential + 8, ".AAAA"); break;
		case 13: strcpy(eps[0].name, "other"); break;
		case 14: strcpy(links[0].project, "shop");
			strcpy(rts[0].project, "shop");
			/* a runtime of another project: none; the link is
			 * of a runtime not assigned at all */
			strcpy(links[0].runtime, "chat"); break;
		}
		snprintf(name, sizeof(name), "bad%zu.db", k);
		m = open_target(f, name);
		model_errclear();
		if (model_restore_apply(m, &c.b) != cases[k].err ||
		    !strstr(model_errmsg(), cases[k].why))
			fail_msg("case %zu: '%s', not '%s'", k,
					model_errmsg(), cases[k].why);
		assert_int_equal(model_env_list(m, count_env, &envs), 0);
		assert_int_equal(envs, 0);
		model_close(m);
	}
	typed_release(&t);
}

static void test_refuses_non_empty(void **state)
{
	struct fixture *f = *state;
	struct model_backup_env e = { "environments/dev", "dev", 0, 0, 0 };
	struct model_backup b = { .envs = &e, .nenvs = 1 };

	assert_int_equal(model_restore_empty(f->m), 0);
	assert_int_equal(model_env_create(f->m, "x"), 0);
	assert_int_equal(model_restore_empty(f->m), -ENOTEMPTY);
	assert_int_equal(model_restore_apply(f->m, &b), -ENOTEMPTY);
	assert_string_equal(model_errmsg(), "a restore goes into an empty"
			" database only; this one holds 1 environment(s), 0"
			" project(s) and 0 snapshot(s)");
	/* a snapshot alone is something a restore would lose */
	assert_int_equal(model_env_delete(f->m, "x"), 0);
	assert_int_equal(model_snapshot_create(f->m, "s"), 0);
	assert_int_equal(model_restore_apply(f->m, &b), -ENOTEMPTY);
	assert_string_equal(model_errmsg(), "a restore goes into an empty"
			" database only; this one holds 0 environment(s), 0"
			" project(s) and 1 snapshot(s)");
	assert_int_equal(model_snapshot_delete(f->m, "s"), 0);
	assert_int_equal(model_restore_empty(f->m), 0);
}

/* Values checked on their own, without a model, as a closed file of a
 * restore mount is; and the one parser of version numbers. */
static void test_values(void **state)
{
	static const struct {
		enum model_value what;
		const char *text;
		int ret;
	} values[] = {
		{ MODEL_VALUE_UUID, "12a5be26-990e-4340-9ac4-35dad14b407a", 0 },
		{ MODEL_VALUE_UUID, "12A5BE26-990E-4340-9AC4-35DAD14B407A",
		  -EINVAL },
		{ MODEL_VALUE_UUID, "12a5be26", -EINVAL },
		{ MODEL_VALUE_RUNTIME_TYPE, "agent", 0 },
		{ MODEL_VALUE_RUNTIME_TYPE, "Agent", -EINVAL },
		{ MODEL_VALUE_INTEGRATION_TYPE, "MI", 0 },
		{ MODEL_VALUE_INTEGRATION_TYPE, "agent", -EINVAL },
		{ MODEL_VALUE_STATUS, "OFFLINE", 0 },
		{ MODEL_VALUE_STATUS, "READY", -EINVAL },
		{ MODEL_VALUE_KEY_ID, "0123abcd", 0 },
		{ MODEL_VALUE_KEY_ID, "0123abc", -EINVAL },
		{ MODEL_VALUE_KEY_ID, "0123abcg", -EINVAL },
		{ MODEL_VALUE_SECRET, "0123abcd.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAA=", 0 },
		{ MODEL_VALUE_SECRET, "0123abcd.AAAA", -EINVAL },
		{ MODEL_VALUE_SERVICE_ACCOUNT,
		  "12a5be26-990e-4340-9ac4-35dad14b407a.AAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAA", 0 },
		{ MODEL_VALUE_SERVICE_ACCOUNT, "x.y", -EINVAL },
		{ MODEL_VALUE_SPEC, "{}", -EINVAL },
	};
	int64_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		int ret = model_value_check(values[i].what, values[i].text,
				strlen(values[i].text));

		if (ret != values[i].ret)
			fail_msg("%s: %d '%s'", values[i].text, ret,
					model_errmsg());
	}
	assert_int_equal(model_value_check(MODEL_VALUE_STATUS, "RUNNING\0",
			8), -EINVAL);
	assert_int_equal(model_version_parse("12", &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(model_version_parse("0", &n), -EINVAL);
	assert_int_equal(model_version_parse("", &n), -EINVAL);
	assert_int_equal(model_version_parse("1x", &n), -EINVAL);
	assert_int_equal(model_version_parse("9999999999999", &n), -EINVAL);
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
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
