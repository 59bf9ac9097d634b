/*
 * test_events.c - the event log (model/events.c) on a real SQLite file:
 * the lines each change writes, nothing for a change refused, statuses
 * that change by time written when the flusher looks and once only, the
 * newest `events_keep` kept, and reads of the stream from memory and
 * from the store alike.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "../../model/model_int.h"

#include "fixture.h"

/* The whole stream as a reader from its oldest kept line gets it. */
static char *stream(struct fixture *f)
{
	struct model_events_stat st;
	size_t cap, n = 0;
	char *buf;
	int got;

	assert_int_equal(model_events_stat(f->m, &st), 0);
	cap = (size_t)(st.end - st.start) + 1;
	buf = malloc(cap);
	assert_non_null(buf);
	while ((got = model_events_read(f->m, st.start + (int64_t)n,
			buf + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	assert_int_equal(got, 0);
	assert_int_equal(n, cap - 1);
	buf[n] = '\0';
	return buf;
}

/* The lines of the stream without their numbers and times: "KIND PATH
 * REST" each, REST the fields after the path. */
static void kinds(struct fixture *f, char *out, size_t size)
{
	char *all = stream(f), *line, *save = NULL;
	size_t n = 0;

	out[0] = '\0';
	for (line = strtok_r(all, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *kind = strstr(line, "\"kind\":\"");
		char *path = strstr(line, "\"path\":\"");
		char *rest;

		assert_non_null(kind);
		assert_non_null(path);
		kind += 8;
		path += 8;
		rest = strchr(path, '"') + 1;
		n += (size_t)snprintf(out + n, size - n, "%.*s %.*s%.*s\n",
				(int)(strchr(kind, '"') - kind), kind,
				(int)(strchr(path, '"') - path), path,
				(int)(strlen(rest) - 1), rest);
	}
	free(all);
}

static int heard_events;

static void hear_events(void *ctx, const struct model_event *ev)
{
	(void)ctx;
	if (ev->kind == MODEL_EV_EVENTS)
		heard_events++;
}

static void test_lines_of_changes(void **state)
{
	struct fixture *f = *state;
	char spec[512], out[4096];

	model_watch(f->m, hear_events, NULL);
	heard_events = 0;
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(heard_events, 1);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	snprintf(spec, sizeof(spec), AGENT_SPEC_FMT, 1);
	assert_int_equal(model_deploy(f->m, "prod", "chat", spec,
			strlen(spec), NULL), 0);
	snprintf(spec, sizeof(spec), AGENT_SPEC_FMT, 2);
	assert_int_equal(model_deploy(f->m, "prod", "chat", spec,
			strlen(spec), NULL), 0);
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	/* refused: no line */
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"9"), -ENOENT);
	assert_int_equal(model_env_create(f->m, "prod"), -EEXIST);
	kinds(f, out, sizeof(out));
	assert_string_equal(out,
		"environment.created prod\n"
		"environment.critical prod,\"from\":\"0\",\"to\":\"1\"\n"
		"runtime.created prod/chat,\"type\":\"agent\"\n"
		"version.deployed prod/chat/1,\"version\":1\n"
		"endpoint.created prod/chat/DEFAULT,\"version\":1\n"
		"runtime.status prod/chat,\"from\":\"CREATING\","
		"\"to\":\"STARTING\"\n"
		"version.deployed prod/chat/2,\"version\":2\n"
		"endpoint.pinned prod/chat/DEFAULT,\"from\":1,\"to\":2\n"
		"endpoint.created prod/chat/canary,\"version\":2\n"
		"endpoint.pinned prod/chat/canary,\"from\":2,\"to\":1\n");
	model_watch(f->m, NULL, NULL);
}

/* A line as a reader sees it: number, time with microseconds, kind,
 * path, fields; numbers and offsets go on across a reopen. */
static void test_line_format(void **state)
{
	struct fixture *f = *state;
	struct model_events_stat st;
	char *all;

	f->now = 1700000000 * SEC + 123456789;
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	all = stream(f);
	assert_string_equal(all, "{\"seq\":1,\"time\":\"2023-11-14T22:13:20"
			".123456Z\",\"kind\":\"environment.created\","
			"\"path\":\"prod\"}\n");
	assert_int_equal(model_events_stat(f->m, &st), 0);
	assert_int_equal(st.start, 0);
	assert_int_equal(st.end, (int64_t)strlen(all));
	assert_int_equal(st.mtime_ns, f->now);
	free(all);
	model_close(f->m);
	assert_int_equal(open_model(f), 0);
	assert_int_equal(model_env_delete(f->m, "prod"), 0);
	all = stream(f);
	assert_non_null(strstr(all, "\n{\"seq\":2,"));
	free(all);
}

/* Environment prod and runtime orders-1 in it, registered by the
 * heartbeat left in `json`, which the test may send again. */
static void registered(struct fixture *f, char *json, size_t size)
{
	const struct model_secret_scope prod = { "prod", NULL, NULL };
	struct model_heartbeat_reply r;
	struct model_secret s;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_secret_create(f->m, &prod, "s"), 0);
	assert_int_equal(model_secret_get(f->m, &prod, "s", &s), 0);
	snprintf(json, size, "{\"secret\": \"%s\", \"runtime\":"
		" \"orders-1\", \"runtimeType\": \"MI\", \"environment\":"
		" \"prod\", \"project\": \"shop\", \"component\": \"orders\","
		" \"version\": \"4.4.0\", \"status\": \"RUNNING\"}", s.secret);
	assert_int_equal(model_heartbeat(f->m, json, strlen(json), &r), 0);
}

/* RUNNING turns OFFLINE by time: written when the flusher looks, with
 * the moment it happened, once, though looked at again and though the
 * next heartbeat says it too; then OFFLINE -> RUNNING. */
static void test_status_by_time(void **state)
{
	struct fixture *f = *state;
	struct model_heartbeat_reply r;
	char json[1024], out[4096];
	int64_t t0 = f->now;

	registered(f, json, sizeof(json));
	f->now += 10 * SEC;
	model_lock(f->m);
	assert_int_equal(model_events_tick(f->m), 0);
	model_unlock(f->m);
	f->now = t0 + 45 * SEC;
	model_lock(f->m);
	assert_int_equal(model_events_tick(f->m), 0);
	assert_int_equal(model_events_tick(f->m), 0);
	model_unlock(f->m);
	f->now += SEC;
	assert_int_equal(model_heartbeat(f->m, json, strlen(json), &r), 0);
	kinds(f, out, sizeof(out));
	assert_true(!strncmp(out, "environment.created prod\n"
			"secret.created prod/s,\"key_id\":\"", 55));
	assert_non_null(strstr(out, "runtime.registered prod/orders-1,"
			"\"type\":\"MI\",\"project\":\"shop\","
			"\"integration\":\"orders\",\"status\":\"RUNNING\"\n"
			"runtime.status prod/orders-1,\"from\":\"RUNNING\","
			"\"to\":\"OFFLINE\"\n"
			"runtime.status prod/orders-1,\"from\":\"OFFLINE\","
			"\"to\":\"RUNNING\"\n"));
	/* the OFFLINE line has the moment the heartbeat went out of date */
	{
		char *all = stream(f);

		assert_non_null(strstr(all, "\"time\":\"2023-11-14T22:13:50"
				".000000Z\",\"kind\":\"runtime.status\""));
		free(all);
	}
}

/* Statuses by time that the flusher did not see first: the heartbeat
 * that ends them writes the OFFLINE line before its own, once. */
static void test_status_told_by_heartbeat(void **state)
{
	struct fixture *f = *state;
	struct model_heartbeat_reply r;
	char json[1024], out[4096];

	registered(f, json, sizeof(json));
	f->now += 60 * SEC;
	assert_int_equal(model_heartbeat(f->m, json, strlen(json), &r), 0);
	model_lock(f->m);
	assert_int_equal(model_events_tick(f->m), 0);
	model_unlock(f->m);
	kinds(f, out, sizeof(out));
	assert_non_null(strstr(out, "\"status\":\"RUNNING\"\n"
			"runtime.status prod/orders-1,\"from\":\"RUNNING\","
			"\"to\":\"OFFLINE\"\n"
			"runtime.status prod/orders-1,\"from\":\"OFFLINE\","
			"\"to\":\"RUNNING\"\n"));
	assert_null(strstr(strstr(out, "OFFLINE\"\n") + 1,
			"\"to\":\"OFFLINE\""));
}

/* The newest events_keep lines are kept, offsets going on; a read from
 * below the oldest kept starts there; old bytes come from the store
 * when the memory holds only the newest. */
static void test_kept(void **state)
{
	struct fixture *f = *state;
	struct model_config cfg = {
		.offline_after_ns = 30 * SEC, .now = fake_now, .now_ctx = f,
		.flush_interval_ns = -1, .key_path = f->key,
		.events_keep = 5,
	};
	struct model_events_stat st;
	char name[16], buf[64], out[4096];
	int64_t end;

	model_close(f->m);
	assert_int_equal(model_open(&f->m, f->db, &cfg), 0);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_int_equal(model_env_create(f->m, name), 0);
	}
	assert_int_equal(model_events_stat(f->m, &st), 0);
	assert_int_equal(st.start, 0);
	end = st.end;
	model_lock(f->m);
	assert_int_equal(model_events_tick(f->m), 0);
	model_unlock(f->m);
	assert_int_equal(model_events_stat(f->m, &st), 0);
	assert_int_equal(st.end, end);
	assert_true(st.start > 0);
	kinds(f, out, sizeof(out));
	assert_string_equal(out, "environment.created e3\n"
			"environment.created e4\n"
			"environment.created e5\n"
			"environment.created e6\n"
			"environment.created e7\n");
	/* the middle of a line, from the store after a reopen */
	model_close(f->m);
	assert_int_equal(model_open(&f->m, f->db, &cfg), 0);
	assert_int_equal(model_events_read(f->m, st.start + 2, buf, 6), 6);
	assert_memory_equal(buf, "seq\":4", 6);
	assert_int_equal(model_events_read(f->m, end, buf, sizeof(buf)), 0);
}

/* Snapshots, which are no transactions, are logged beside theirs; a
 * refused one is not. */
static void test_snapshot_lines(void **state)
{
	struct fixture *f = *state;
	char out[1024];

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_snapshot_create(f->m, "b"), 0);
	assert_int_equal(model_snapshot_create(f->m, "b"), -EEXIST);
	assert_int_equal(model_snapshot_delete(f->m, "nope"), -ENOENT);
	assert_int_equal(model_snapshot_delete(f->m, "b"), 0);
	kinds(f, out, sizeof(out));
	assert_string_equal(out, "environment.created prod\n"
			"snapshot.created b\n"
			"snapshot.deleted b\n");
}

/* -- the audit log ------------------------------------------------------ */

/* Who the test's caller is: uid 1000 writing `path`, while `acting`. */
static int acting;

static int fake_actor(void *ctx, struct model_actor *out)
{
	(void)ctx;
	if (!acting)
		return -1;
	memset(out, 0, sizeof(*out));
	out->uid = 1000;
	out->gid = 100;
	out->pid = 4242;
	snprintf(out->comm, sizeof(out->comm), "ba\"sh");
	snprintf(out->op, sizeof(out->op), "write");
	snprintf(out->path, sizeof(out->path), "environments/prod/critical");
	return 0;
}

static int audit_setup(void **state)
{
	struct fixture *f;
	struct model_config cfg;

	if (setup(state))
		return -1;
	f = *state;
	model_close(f->m);
	cfg = (struct model_config){ .offline_after_ns = 30 * SEC,
		.now = fake_now, .now_ctx = f, .flush_interval_ns = -1,
		.key_path = f->key, .actor = fake_actor,
		.audit_keep_ns = 2 * 86400 * SEC };
	acting = 1;
	return model_open(&f->m, f->db, &cfg);
}

/* The audit log as text, from its oldest kept line. */
static char *audit_text(struct model *m)
{
	struct model_events_stat st;
	char *buf;
	int n = 0, got;

	assert_int_equal(model_audit_stat(m, &st), 0);
	assert_int_equal(st.start, 0);
	buf = calloc(1, (size_t)st.end + 1);
	assert_non_null(buf);
	while ((got = model_audit_read(m, n, buf + n,
			(size_t)(st.end - n))) > 0)
		n += got;
	assert_int_equal(got, 0);
	assert_int_equal(n, st.end);
	return buf;
}

/* A change for someone: one line with who and what changed; one made
 * by no one (a runtime's heartbeat) as the runtime's; a refusal with
 * its errno and reason; the key material of a secret never. */
static void test_audit_lines(void **state)
{
	struct fixture *f = *state;
	struct model_actor who = { 1001, 100, 77, "sh", "write",
		"environments/prod/critical" };
	const struct model_secret_scope prod = { "prod", NULL, NULL };
	struct model_secret sec;
	char *all, *line2;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "7"), -EINVAL);
	assert_int_equal(model_audit_refused(f->m, &who, -EINVAL,
			model_errmsg()), 0);
	assert_string_equal(model_errmsg(), "critical takes 0 or 1, not '7'");
	/* refusals wait for the flusher */
	all = audit_text(f->m);
	assert_null(strstr(all, "EINVAL"));
	free(all);
	model_lock(f->m);
	assert_int_equal(model_audit_tick(f->m), 0);
	model_unlock(f->m);
	assert_int_equal(model_secret_create(f->m, &prod, "s"), 0);
	assert_int_equal(model_secret_get(f->m, &prod, "s", &sec), 0);
	all = audit_text(f->m);
	assert_true(!strncmp(all, "{\"seq\":1,\"time\":\"2023-11-14T22:13:20"
			".000000Z\",\"uid\":1000,\"gid\":100,\"pid\":4242,"
			"\"comm\":\"ba\\\"sh\",\"op\":\"write\",\"path\":"
			"\"environments/prod/critical\",\"result\":\"ok\","
			"\"changes\":[{\"kind\":\"environment.created\","
			"\"path\":\"prod\"}]}\n", 200));
	line2 = strchr(all, '\n') + 1;
	assert_true(!strncmp(strstr(line2, "\"result\""), "\"result\":\"ok\","
			"\"changes\":[{\"kind\":\"environment.critical\","
			"\"path\":\"prod\",\"from\":\"0\",\"to\":\"1\"}]}\n", 60));
	assert_non_null(strstr(all, "\"uid\":1001,\"gid\":100,\"pid\":77,"
			"\"comm\":\"sh\",\"op\":\"write\",\"path\":"
			"\"environments/prod/critical\",\"result\":\"EINVAL\","
			"\"error\":\"critical takes 0 or 1, not '7'\"}\n"));
	/* the key id, never the secret */
	assert_non_null(strstr(all, sec.key_id));
	assert_null(strstr(all, strchr(sec.secret, '.') + 1));
	free(all);
}

/* What no one asked for (the flusher) writes no audit line; a runtime's
 * heartbeat is the runtime's own. */
static void test_audit_of_no_one(void **state)
{
	struct fixture *f = *state;
	char json[1024], *all;

	acting = 0;
	registered(f, json, sizeof(json));
	f->now += 60 * SEC;
	model_lock(f->m);
	assert_int_equal(model_events_tick(f->m), 0);
	model_unlock(f->m);
	all = audit_text(f->m);
	acting = 1;
	assert_non_null(strstr(all, "\"uid\":null,\"gid\":null,"
			"\"pid\":null,\"comm\":null,\"op\":\"heartbeat\","
			"\"path\":\"prod/orders-1\",\"result\":\"ok\","));
	assert_null(strstr(all, "OFFLINE"));
	assert_null(strstr(all, "environment.created"));
	free(all);
}

/* Lines older than audit_keep go as the flusher ticks, the newest one
 * staying; the file starts at the oldest kept. */
static void test_audit_kept(void **state)
{
	struct fixture *f = *state;
	char *all;

	assert_int_equal(model_env_create(f->m, "old"), 0);
	f->now += 3 * 86400 * SEC;
	assert_int_equal(model_env_create(f->m, "new"), 0);
	model_lock(f->m);
	assert_int_equal(model_audit_tick(f->m), 0);
	model_unlock(f->m);
	all = audit_text(f->m);
	assert_null(strstr(all, "\"path\":\"old\""));
	assert_non_null(strstr(all, "{\"seq\":2,"));
	assert_int_equal(all[0], '{');
	free(all);
}

/* A restore goes on with the backup's audit lines, numbered anew, and
 * says that it happened; a line that is none refuses it, nothing built. */
static void test_audit_restored(void **state)
{
	struct fixture *f = *state;
	struct model_backup_env e = { "environments/dev", "dev", 0, 0, 0 };
	const char *old = "{\"seq\":41,\"time\":\"2023-11-01T00:00:00"
		".000000Z\",\"uid\":0,\"op\":\"mkdir\"}\n"
		"{\"seq\":42,\"time\":\"2023-11-02T00:00:00.000000Z\","
		"\"uid\":7}\n";
	struct model_backup b = { .envs = &e, .nenvs = 1, .audit = "x\n",
		.audit_len = 2, .audit_src = "audit" };
	char *all;

	acting = 0;
	assert_int_equal(model_restore_apply(f->m, &b), -EINVAL);
	assert_string_equal(model_errmsg(), "audit: line 1 is not a line of"
			" an audit log");
	assert_int_equal(model_restore_empty(f->m), 0);
	b.audit = old;
	b.audit_len = strlen(old);
	assert_int_equal(model_restore_apply(f->m, &b), 0);
	acting = 1;
	all = audit_text(f->m);
	assert_true(!strncmp(all, "{\"seq\":1,\"time\":\"2023-11-01T00:00:00"
			".000000Z\",\"uid\":0,\"op\":\"mkdir\"}\n{\"seq\":2,"
			"\"time\":\"2023-11-02T00:00:00.000000Z\",\"uid\":7}\n"
			"{\"seq\":3,", 120));
	assert_non_null(strstr(all, "\"uid\":null,\"gid\":null,\"pid\":null,"
			"\"comm\":null,\"op\":\"restore\",\"path\":\"\","
			"\"result\":\"ok\",\"restore\":true,"
			"\"lines_restored\":2}\n"));
	free(all);
}

/* A line's time, RFC 3339 with microseconds, as gmtime_r() and
 * strftime() would write it, from 1970 to the last nanosecond 64 bits
 * hold: leap days, centuries, and a spread of moments between. */
static void test_time_format(void **state)
{
	static const int64_t at[] = { 0, 999, 1000, 59999999999LL,
		951782400LL * SEC,                  /* 2000-02-29 */
		951868799LL * SEC + 999999999,      /* 2000-02-29T23:59:59 */
		4107542400LL * SEC,                 /* 2100-03-01 */
		1700000000LL * SEC + 123456789, INT64_MAX };
	uint64_t x = 88172645463325252ULL;
	char got[40], want[40];

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]) + 20000; i++) {
		int64_t ns;
		time_t t;
		struct tm tm;
		size_t n;

		if (i < sizeof(at) / sizeof(at[0])) {
			ns = at[i];
		} else {                        /* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ns = (int64_t)(x >> 1);
		}
		t = (time_t)(ns / 1000000000LL);
		gmtime_r(&t, &tm);
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%06dZ",
				(int)(ns % 1000000000LL / 1000));
		model_time_micro(ns, got, sizeof(got));
		assert_string_equal(got, want);
	}
	model_time_micro(INT64_MAX, got, sizeof(got));
	assert_string_equal(got, "2262-04-11T23:47:16.854775Z");
	model_time_micro(1700000000LL * SEC, got, 11);
	assert_string_equal(got, "2023-11-14");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format),
		cmocka_unit_test_setup_teardown(test_lines_of_changes, setup_by_hand,
				teardown),
		cmocka_unit_test_setup_teardown(test_line_format, setup_by_hand,
				teardown),
		cmocka_unit_test_setup_teardown(test_status_by_time, setup_by_hand,
				teardown),
		cmocka_unit_test_setup_teardown(test_status_told_by_heartbeat,
				setup_by_hand, teardown),
		cmocka_unit_test_setup_teardown(test_kept, setup_by_hand, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_lines, setup_by_hand,
				teardown),
		cmocka_unit_test_setup_teardown(test_audit_lines, audit_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_audit_of_no_one,
				audit_setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_kept, audit_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_audit_restored,
				audit_setup, teardown),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
