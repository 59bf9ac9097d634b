/*
 * test_model.c - the rules of the model, on a real SQLite database in a
 * temporary file: names, environments, projects, integrations, runtimes,
 * their status over time, and what survives a reopen.
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
#include <sys/stat.h>

#include "../../model/model_int.h"

#include "fixture.h"

static int count_envs(struct model *m)
{
	int n = 0;

	assert_int_equal(model_env_list(m, (model_env_cb)count_cb, &n), 0);
	return n;
}

static void test_names(void **state)
{
	char long63[64], long64[65], long256[257];

	(void)state;
	memset(long63, 'a', 63);
	long63[63] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';
	memset(long256, 'a', 256);
	long256[256] = '\0';
	assert_int_equal(model_name_check("environment", "prod"), 0);
	assert_int_equal(model_name_check("environment", "a.b_c-D9"), 0);
	assert_int_equal(model_name_check("environment", "_x"), 0);
	assert_int_equal(model_name_check("environment", long63), 0);
	assert_int_equal(model_name_check("environment", long64), -EINVAL);
	assert_int_equal(model_name_check("environment", long256),
			-ENAMETOOLONG);
	assert_int_equal(model_name_check("environment", ""), -EINVAL);
	assert_int_equal(model_name_check("environment", ".hidden"), -EINVAL);
	assert_int_equal(model_name_check("environment", "-x"), -EINVAL);
	assert_int_equal(model_name_check("environment", "bad name"),
			-EINVAL);
	assert_non_null(strstr(model_errmsg(), "bad name"));
	assert_int_equal(model_name_check("environment", "a/b"), -EINVAL);
	assert_int_equal(model_name_check("environment", "caf\xc3\xa9"),
			-EINVAL);
	assert_int_equal(model_name_check("environment", "x\n"), -EINVAL);
}

static void test_env_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct model_env e;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_create(f->m, "prod"), -EEXIST);
	assert_non_null(strstr(model_errmsg(), "already exists"));
	assert_int_equal(model_env_create(f->m, "bad name"), -EINVAL);
	assert_int_equal(count_envs(f->m), 1);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_string_equal(e.name, "prod");
	assert_int_equal(e.critical, 0);
	assert_int_equal(e.created_ns, f->now);
	assert_int_equal(model_env_get(f->m, "nope", &e), -ENOENT);
	assert_int_equal(model_env_delete(f->m, "nope"), -ENOENT);
	assert_int_equal(model_env_delete(f->m, "prod"), 0);
	assert_int_equal(count_envs(f->m), 0);
}

static void test_env_critical(void **state)
{
	struct fixture *f = *state;
	struct model_env e;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	f->now += 5 * SEC;
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(e.critical, 1);
	assert_int_equal(e.mtime_ns, f->now);
	/* the same value again is no change: mtime stays */
	f->now += 5 * SEC;
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(e.mtime_ns, f->now - 5 * SEC);
	assert_int_equal(model_env_set_critical(f->m, "prod", "2"), -EINVAL);
	assert_int_equal(model_env_set_critical(f->m, "prod", ""), -EINVAL);
	assert_int_equal(model_env_set_critical(f->m, "prod", "yes"),
			-EINVAL);
	assert_int_equal(model_env_set_critical(f->m, "nope", "1"), -ENOENT);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(e.critical, 1);
}

static void test_env_not_empty(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	assert_int_equal(model_env_delete(f->m, "prod"), -ENOTEMPTY);
	assert_non_null(strstr(model_errmsg(), "not empty"));
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"), 0);
	assert_int_equal(model_env_delete(f->m, "prod"), 0);
}

static void test_projects_integrations(void **state)
{
	struct fixture *f = *state;
	struct model_integration in;
	struct model_project p;

	assert_int_equal(model_project_create(f->m, "shop"), 0);
	assert_int_equal(model_project_create(f->m, "shop"), -EEXIST);
	assert_int_equal(model_project_create(f->m, ".x"), -EINVAL);
	assert_int_equal(model_project_get(f->m, "shop", &p), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "orders"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "orders"),
			-EEXIST);
	assert_int_equal(model_integration_create(f->m, "nope", "orders"),
			-ENOENT);
	assert_int_equal(model_integration_create(f->m, "shop", "a b"),
			-EINVAL);
	assert_int_equal(model_integration_get(f->m, "shop", "orders", &in),
			0);
	assert_string_equal(in.type, "default");
	assert_int_equal(model_integration_set_type(f->m, "shop", "orders",
			"MI"), 0);
	assert_int_equal(model_integration_set_type(f->m, "shop", "orders",
			"mi"), -EINVAL);
	assert_int_equal(model_integration_set_type(f->m, "shop", "orders",
			"agent"), -EINVAL);
	assert_int_equal(model_integration_get(f->m, "shop", "orders", &in),
			0);
	assert_string_equal(in.type, "MI");
	assert_int_equal(model_project_delete(f->m, "shop"), -ENOTEMPTY);
	assert_int_equal(model_integration_delete(f->m, "shop", "orders"), 0);
	assert_int_equal(model_integration_delete(f->m, "shop", "orders"),
			-ENOENT);
	assert_int_equal(model_project_delete(f->m, "shop"), 0);
	assert_int_equal(model_project_get(f->m, "shop", &p), -ENOENT);
}

static void test_runtime_create(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;

	assert_int_equal(model_runtime_create(f->m, "nope", "chat", NULL,
			NULL), -ENOENT);
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "bad/name",
			NULL, NULL), -EINVAL);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), -EEXIST);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_string_equal(rt.type, "agent");
	assert_string_equal(rt.status, "CREATING");
	assert_string_equal(rt.env, "prod");
	assert_string_equal(rt.project, "");
	assert_string_equal(rt.integration, "");
	assert_string_equal(rt.runtime_version, "");
	assert_int_equal(rt.registered_ns, f->now);
	assert_int_equal(rt.heartbeat_ns, 0);
	assert_int_equal(strlen(rt.uuid), 36);
	assert_int_equal(rt.uuid[14], '4');
	assert_non_null(strchr("89ab", rt.uuid[19]));
	/* the same name in another environment is another runtime */
	assert_int_equal(model_env_create(f->m, "dev"), 0);
	assert_int_equal(model_runtime_create(f->m, "dev", "chat", NULL,
			NULL), 0);
}

static void test_runtime_assign(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;
	struct model_runtime_filter flt = { "prod", "shop", "orders" };
	int n = 0;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_project_create(f->m, "shop"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "orders"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "billing"),
			0);
	assert_int_equal(model_runtime_create(f->m, "prod", "a", "shop",
			"orders"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "b", "shop",
			"nope"), -ENOENT);
	assert_int_equal(model_runtime_create(f->m, "prod", "b", NULL, NULL),
			0);
	assert_int_equal(model_runtime_assign(f->m, "prod", "b", "shop",
			"orders"), 0);
	assert_int_equal(model_runtime_assign(f->m, "prod", "b", "shop",
			"orders"), -EEXIST);
	assert_int_equal(model_runtime_list(f->m, &flt,
			(model_runtime_cb)count_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(model_runtime_assign(f->m, "prod", "b", "shop",
			"billing"), 0);
	assert_int_equal(model_runtime_get(f->m, "prod", "b", &rt), 0);
	assert_string_equal(rt.project, "shop");
	assert_string_equal(rt.integration, "billing");
	n = 0;
	assert_int_equal(model_runtime_list(f->m, &flt,
			(model_runtime_cb)count_cb, &n), 0);
	assert_int_equal(n, 1);
	/* the project view sees both integrations' runtimes */
	flt.integration = NULL;
	n = 0;
	assert_int_equal(model_runtime_list(f->m, &flt,
			(model_runtime_cb)count_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(model_integration_delete(f->m, "shop", "billing"),
			-ENOTEMPTY);
}

/* The status function at the edges of offline_after. */
static void test_status_boundaries(void **state)
{
	struct store_runtime row;
	int64_t since, t0 = 1000 * SEC, off = 30 * SEC;

	(void)state;
	memset(&row, 0, sizeof(row));
	strcpy(row.type, "agent");
	strcpy(row.desired, "run");
	row.registered_ns = t0;
	row.desired_ns = t0;
	assert_string_equal(model_runtime_status(&row, t0, off, &since),
			"CREATING");
	assert_int_equal(since, t0);
	row.latest_version = 1;
	assert_string_equal(model_runtime_status(&row, t0, off, &since),
			"STARTING");
	row.heartbeat_ns = t0 + SEC;
	row.running_ns = t0 + SEC;
	assert_string_equal(model_runtime_status(&row, t0 + SEC, off,
			&since), "RUNNING");
	assert_int_equal(since, t0 + SEC);
	/* exactly offline_after old is still RUNNING; a nanosecond more is
	 * OFFLINE, since the moment it crossed */
	assert_string_equal(model_runtime_status(&row, t0 + SEC + off, off,
			&since), "RUNNING");
	assert_string_equal(model_runtime_status(&row, t0 + SEC + off + 1,
			off, &since), "OFFLINE");
	assert_int_equal(since, t0 + SEC + off);
	strcpy(row.desired, "stop");
	row.desired_ns = t0 + 2 * SEC;
	assert_string_equal(model_runtime_status(&row, t0 + 2 * SEC, off,
			&since), "STOPPING");
	assert_string_equal(model_runtime_status(&row, t0 + SEC + off + 1,
			off, &since), "STOPPED");
	assert_int_equal(since, t0 + 2 * SEC);
	/* integration runtimes are never CREATING */
	strcpy(row.type, "MI");
	row.latest_version = 0;
	strcpy(row.desired, "run");
	assert_string_equal(model_runtime_status(&row, t0 + SEC, off,
			&since), "RUNNING");
}

static void test_runtime_delete_running(void **state)
{
	struct fixture *f = *state;
	struct store_runtime row;
	struct store_env e;

	/* a runtime that heartbeats is RUNNING and cannot be deleted */
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(store_env_get(f->m->store, "prod", &e), 0);
	memset(&row, 0, sizeof(row));
	model_uuid(row.uuid);
	row.env_id = e.id;
	strcpy(row.name, "orders-1");
	strcpy(row.type, "MI");
	strcpy(row.desired, "run");
	row.desired_ns = row.registered_ns = f->now;
	row.heartbeat_ns = row.running_ns = f->now;
	assert_int_equal(store_runtime_insert(f->m->store, &row), 0);
	assert_int_equal(model_runtime_delete(f->m, "prod", "orders-1"),
			-EBUSY);
	assert_non_null(strstr(model_errmsg(), "RUNNING"));
	assert_int_equal(model_runtime_assign(f->m, "prod", "orders-1",
			"x", "y"), -EPERM);
	/* once OFFLINE it can */
	f->now += 31 * SEC;
	assert_int_equal(model_runtime_delete(f->m, "prod", "orders-1"), 0);
}

static void test_survives_reopen(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;
	struct model_env e;
	char uuid[MODEL_UUID_LEN];

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	memcpy(uuid, rt.uuid, sizeof(uuid));
	model_close(f->m);
	f->m = NULL;
	assert_int_equal(open_model(f), 0);
	assert_int_equal(store_schema_version(f->m->store) > 0, 1);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(e.critical, 1);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_string_equal(rt.uuid, uuid);
}

static void test_time_format(void **state)
{
	char buf[MODEL_TIME_MAX];

	(void)state;
	model_time_format(0, buf);
	assert_string_equal(buf, "never");
	model_time_format(1700000000 * SEC + 999, buf);
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
}

static void test_seal_round_trip(void **state)
{
	struct fixture *f = *state;
	unsigned char sealed[64 + MODEL_SEAL_OVERHEAD], plain[64];
	size_t n, m;
	struct stat st;

	assert_int_equal(model_seal(f->m, "s3cret", 6, sealed,
			sizeof(sealed), &n), 0);
	assert_int_equal(n, 6 + MODEL_SEAL_OVERHEAD);
	assert_null(memmem(sealed, n, "s3cret", 6));
	assert_int_equal(model_unseal(f->m, sealed, n, plain, sizeof(plain),
			&m), 0);
	assert_int_equal(m, 6);
	assert_memory_equal(plain, "s3cret", 6);
	sealed[n - 1] ^= 1;
	assert_int_equal(model_unseal(f->m, sealed, n, plain, sizeof(plain),
			&m), -EIO);
	/* the key file is where the configuration says, readable by its
	 * owner only, and the same key comes back after a reopen */
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	sealed[n - 1] ^= 1;
	model_close(f->m);
	assert_int_equal(open_model(f), 0);
	assert_int_equal(model_unseal(f->m, sealed, n, plain, sizeof(plain),
			&m), 0);
}

/* Writes `n` bytes of `byte` as the key file of the fixture's database. */
static void write_key(struct fixture *f, int byte, size_t n, mode_t mode)
{
	const char *key = f->key;
	unsigned char buf[64];
	FILE *out;

	unlink(key);
	memset(buf, byte, sizeof(buf));
	out = fopen(key, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(out);
	assert_int_equal(chmod(key, mode), 0);
}

/* The key file must be the one that sealed what the database holds: a
 * missing one is not replaced, another one is refused, both naming the
 * file; the model opens again once the key is back. */
static void key_must_open_what_is_sealed(struct fixture *f)
{
	const char *key = f->key;
	char aside[140];

	snprintf(aside, sizeof(aside), "%s.aside", key);
	model_close(f->m);
	f->m = NULL;
	assert_int_equal(rename(key, aside), 0);
	assert_int_equal(open_model(f), -ENOKEY);
	assert_null(f->m);
	assert_non_null(strstr(model_errmsg(), key));
	assert_non_null(strstr(model_errmsg(), "is missing"));
	assert_int_equal(access(key, F_OK), -1);
	write_key(f, 7, 32, 0600);
	assert_int_equal(open_model(f), -EKEYREJECTED);
	assert_non_null(strstr(model_errmsg(), key));
	assert_non_null(strstr(model_errmsg(), "not the key"));
	assert_int_equal(rename(aside, key), 0);
	assert_int_equal(open_model(f), 0);
}

static void test_key_of_a_secret(void **state)
{
	struct fixture *f = *state;
	struct model_secret_scope sc = { "prod", NULL, NULL };

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_secret_create(f->m, &sc, "orders-1"), 0);
	key_must_open_what_is_sealed(f);
}

static void test_key_of_a_service_account(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	key_must_open_what_is_sealed(f);
}

static void test_key_of_an_image_password(void **state)
{
	static const char spec[] = "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [],"
		" \"environmentVariables\": {}, \"autoscaling\":"
		" {\"minReplicas\": 1, \"maxReplicas\": 1,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"\", \"imageAuth\": {\"enabled\": true,"
		" \"username\": \"bot\", \"password\": \"hunter2\"}}";
	struct fixture *f = *state;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	/* a runtime from before service accounts: the password is then
	 * the only sealed value */
	runtime_without_account(f, "prod", "chat");
	assert_int_equal(model_deploy(f->m, "prod", "chat", spec,
			strlen(spec), NULL), 0);
	key_must_open_what_is_sealed(f);
}

/* A key file that group or others may read or write, or that is not 32
 * bytes long, is refused with what fixes it; a database that cannot be
 * opened leaves no key file behind. */
static void test_key_file_form(void **state)
{
	struct fixture *f = *state;
	struct model_config cfg = { .flush_interval_ns = -1 };
	const char *key = f->key;
	char want[400], dir[128], dir_key[160];

	model_close(f->m);
	f->m = NULL;
	write_key(f, 7, 32, 0644);
	assert_int_equal(open_model(f), -EACCES);
	snprintf(want, sizeof(want), "key file %s may be read or written by"
			" group or others (mode 0644): chmod 600 %s", key, key);
	assert_string_equal(model_errmsg(), want);
	write_key(f, 7, 32, 0620);
	assert_int_equal(open_model(f), -EACCES);
	write_key(f, 7, 33, 0600);
	assert_int_equal(open_model(f), -EINVAL);
	snprintf(want, sizeof(want), "key file %s is 33 bytes long; a key"
			" file holds exactly 32 bytes", key);
	assert_string_equal(model_errmsg(), want);
	write_key(f, 7, 31, 0600);
	assert_int_equal(open_model(f), -EINVAL);
	write_key(f, 7, 32, 0400);
	assert_int_equal(open_model(f), 0);
	model_close(f->m);
	f->m = NULL;
	snprintf(dir, sizeof(dir), "%s/dir.db", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(store_default_key_path(dir, dir_key,
			sizeof(dir_key)), 0);
	cfg.key_path = dir_key;
	assert_true(model_open(&f->m, dir, &cfg) < 0);
	assert_null(f->m);
	assert_int_equal(access(dir_key, F_OK), -1);
	assert_int_equal(open_model(f), 0);
}

/* With nothing sealed in the database, a missing key file is made anew. */
static void test_key_made_when_nothing_is_sealed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	model_close(f->m);
	f->m = NULL;
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(open_model(f), 0);
	assert_int_equal(access(f->key, F_OK), 0);
	assert_int_equal(count_envs(f->m), 1);
}

/* The key file is where the configuration puts it, nothing is made
 * beside the database then; with none named, a database that outlives
 * the process is refused (its secrets would open with nothing after a
 * restart), and a store in memory keeps its key in memory. */
static void test_key_file_is_configured(void **state)
{
	struct fixture *f = *state;
	struct model_config cfg = { .flush_interval_ns = -1 };
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_secret a, b;
	char keys[128], key[160], db[128];
	struct model *m;

	snprintf(keys, sizeof(keys), "%s/keys", f->dir);
	assert_int_equal(mkdir(keys, 0700), 0);
	snprintf(key, sizeof(key), "%s/state.key", keys);
	snprintf(db, sizeof(db), "%s/elsewhere.db", f->dir);
	cfg.key_path = key;
	assert_int_equal(model_open(&m, db, &cfg), 0);
	assert_int_equal(model_env_create(m, "prod"), 0);
	assert_int_equal(model_secret_create(m, &sc, "s1"), 0);
	assert_int_equal(model_secret_get(m, &sc, "s1", &a), 0);
	model_close(m);
	assert_int_equal(access(key, F_OK), 0);
	assert_int_equal(store_default_key_path(db, keys, sizeof(keys)), 0);
	assert_int_equal(access(keys, F_OK), -1);
	assert_int_equal(model_open(&m, db, &cfg), 0);
	assert_int_equal(model_secret_get(m, &sc, "s1", &b), 0);
	assert_string_equal(a.secret, b.secret);
	model_close(m);

	cfg.key_path = NULL;
	assert_int_equal(model_open(&m, db, &cfg), -EINVAL);
	assert_null(m);
	assert_non_null(strstr(model_errmsg(), "no key file given"));
	assert_int_equal(access(keys, F_OK), -1);
	assert_int_equal(model_open(&m, ":memory:", &cfg), 0);
	assert_int_equal(model_env_create(m, "prod"), 0);
	assert_int_equal(model_secret_create(m, &sc, "s1"), 0);
	assert_int_equal(model_secret_get(m, &sc, "s1", &a), 0);
	model_close(m);
}

/* What the watcher heard. */
struct all_heard {
	pthread_mutex_t lock;
	int all, other;
};

static void count_all(void *ctx, const struct model_event *ev)
{
	struct all_heard *h = ctx;

	pthread_mutex_lock(&h->lock);
	if (ev->kind == MODEL_EV_ALL)
		h->all++;
	else
		h->other++;
	pthread_mutex_unlock(&h->lock);
}

static int all_heard(struct all_heard *h)
{
	int n;

	pthread_mutex_lock(&h->lock);
	n = h->all;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Commits environment `name` through a store handle of its own, as
 * another writer of the database would. */
static void other_writer(struct fixture *f, const char *name)
{
	struct store *s;

	assert_int_equal(store_open(&s, f->db), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_env_insert(s, name, f->now), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
}

/* What another writer commits reaches the watcher as MODEL_EV_ALL: with
 * the model's next change, or from the flusher, which looks every
 * interval, when no change comes. */
static void test_other_writers_heard(void **state)
{
	struct fixture *f = *state;
	struct all_heard h = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	struct model_env e;

	model_close(f->m);
	f->flush_ns = -1;
	assert_int_equal(open_model(f), 0);
	model_watch(f->m, count_all, &h);
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(all_heard(&h), 0);
	assert_true(h.other > 0);
	other_writer(f, "dev");
	assert_int_equal(model_env_get(f->m, "dev", &e), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(all_heard(&h), 1);
	/* a refused change still tells of it */
	other_writer(f, "acc");
	assert_int_equal(model_env_create(f->m, "prod"), -EEXIST);
	assert_int_equal(all_heard(&h), 2);
	assert_int_equal(model_env_set_critical(f->m, "prod", "0"), 0);
	assert_int_equal(all_heard(&h), 2);

	/* with no change of the model's own, the flusher tells */
	model_close(f->m);
	f->flush_ns = 10 * 1000000LL;
	assert_int_equal(open_model(f), 0);
	model_watch(f->m, count_all, &h);
	other_writer(f, "qa");
	for (int i = 0; i < 500 && all_heard(&h) == 2; i++)
		usleep(10000);
	assert_int_equal(all_heard(&h), 3);
}

static int64_t last_taken;

static int list_snap(void *ctx, const char *name, int64_t taken)
{
	char *out = ctx;

	last_taken = taken;
	strcat(out, name);
	strcat(out, " ");
	return 0;
}

static void test_snapshots(void **state)
{
	struct fixture *f = *state;
	struct model *snap, *again;
	struct model_runtime rt;
	struct model_env e;
	char names[256] = "";

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	assert_int_equal(model_snapshot_create(f->m, "before"), 0);
	assert_int_equal(model_snapshot_create(f->m, "before"), -EEXIST);
	assert_int_equal(model_snapshot_create(f->m, "bad name"), -EINVAL);
	assert_int_equal(model_snapshot_get(f->m, "nope", &snap), -ENOENT);
	/* the live model goes on; the snapshot does not move */
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_runtime_delete(f->m, "prod", "chat"), 0);
	assert_int_equal(model_snapshot_get(f->m, "before", &snap), 0);
	assert_int_equal(model_env_get(snap, "prod", &e), 0);
	assert_int_equal(e.critical, 0);
	assert_int_equal(model_runtime_get(snap, "prod", "chat", &rt), 0);
	assert_string_equal(rt.status, "CREATING");
	assert_true(model_snapshot_time(snap) > 0);
	assert_int_equal(model_snapshot_time(f->m), 0);
	/* and refuses every change */
	assert_int_equal(model_env_create(snap, "dev"), -EROFS);
	assert_non_null(strstr(model_errmsg(), "snapshot 'before' is"
			" read-only"));
	assert_int_equal(model_env_set_critical(snap, "prod", "1"), -EROFS);
	assert_int_equal(model_runtime_delete(snap, "prod", "chat"), -EROFS);
	/* a second get is the same model */
	assert_int_equal(model_snapshot_get(f->m, "before", &again), 0);
	assert_ptr_equal(again, snap);
	model_snapshot_put(again);
	assert_int_equal(model_snapshot_create(f->m, "after"), 0);
	assert_int_equal(model_snapshot_list(f->m, list_snap, names), 0);
	assert_string_equal(names, "after before ");
	/* deleting a snapshot in use: it stays readable until put */
	assert_int_equal(model_snapshot_delete(f->m, "before"), 0);
	assert_int_equal(model_snapshot_delete(f->m, "before"), -ENOENT);
	assert_int_equal(model_env_get(snap, "prod", &e), 0);
	model_snapshot_put(snap);
	assert_int_equal(model_snapshot_get(f->m, "before", &snap), -ENOENT);
	/* snapshots survive a reopen */
	model_close(f->m);
	assert_int_equal(open_model(f), 0);
	names[0] = '\0';
	assert_int_equal(model_snapshot_list(f->m, list_snap, names), 0);
	assert_string_equal(names, "after ");
	assert_int_equal(model_snapshot_get(f->m, "after", &snap), 0);
	/* its clock stands where the store says it was taken */
	assert_int_equal(model_snapshot_time(snap), last_taken);
	assert_int_equal(model_runtime_get(snap, "prod", "chat", &rt),
			-ENOENT);
	model_snapshot_put(snap);
}

/* The rows kept hold a fleet of 10,000 runtimes and their 20,000
 * endpoints, but for the few a set of eight cannot hold (with four ways
 * a set, 9% of the runtimes and 40% of the endpoints were pushed out and
 * read again at each open); a change forgets them all. */
static void test_rows_keep_a_fleet(void **state)
{
	struct fixture *f = *state;
	struct store_runtime rt, got;
	struct store_endpoint ep, got_ep;
	int runtimes = 0, endpoints = 0;

	memset(&rt, 0, sizeof(rt));
	memset(&ep, 0, sizeof(ep));
	for (int i = 0; i < 10000; i++) {
		rt.id = i + 1;
		rt.env_id = 1 + i % 10;
		snprintf(rt.name, sizeof(rt.name), "r%05d", i);
		model_rows_keep_runtime(f->m, &rt);
		for (int e = 0; e < 2; e++) {
			ep.id = 2 * i + e + 1;
			ep.runtime_id = rt.id;
			strcpy(ep.name, e ? "canary" : "DEFAULT");
			model_rows_keep_endpoint(f->m, &ep);
		}
	}
	for (int i = 0; i < 10000; i++) {
		snprintf(rt.name, sizeof(rt.name), "r%05d", i);
		if (model_rows_runtime(f->m, 1 + i % 10, rt.name, &got)) {
			assert_int_equal(got.id, i + 1);
			runtimes++;
		}
		endpoints += model_rows_endpoint(f->m, i + 1, "DEFAULT",
				&got_ep);
		endpoints += model_rows_endpoint(f->m, i + 1, "canary",
				&got_ep);
	}
	assert_in_range(runtimes, 9950, 10000);
	assert_in_range(endpoints, 19900, 20000);
	model_rows_forget(f->m);
	assert_false(model_rows_runtime(f->m, 1, "r00000", &got));
}

/* A committed change that wrote no environment leaves the kept rows of
 * environments kept: making a secret, then reading its environment,
 * reads nothing.  One that wrote an environment (its critical flag)
 * makes them stale: the next read reads it, and sees the flag. */
static void test_rows_keep_environments_over_changes(void **state)
{
	struct fixture *f = *state;
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_env e;
	uint64_t before;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(model_secret_create(f->m, &sc, "s1"), 0);
	before = store_reads();
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(store_reads(), before);
	assert_int_equal(e.critical, 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	before = store_reads();
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(e.critical, 1);
	assert_true(store_reads() > before);
	/* a refused change that tried to write one keeps them */
	assert_int_equal(model_env_create(f->m, "prod"), -EEXIST);
	before = store_reads();
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	assert_int_equal(store_reads(), before);
	assert_int_equal(e.critical, 1);
}

/* A secret made is kept as the store gives it: reading it right after
 * (as an ICP runtime reads its snippet) reads nothing, and gives what a
 * read of the store gives; one looked for and missing is kept as
 * missing until the next change. */
/* A version's file and a service account, read again with nothing
 * changed, are read from the store once; a change makes them read anew,
 * and what is read then is what the store has. */
static void test_rows_keep_versions_and_accounts(void **state)
{
	static const char spec[] = "{\"imageUrl\": \"i\", \"flavorId\":"
		" \"f\", \"command\": [], \"args\": [],"
		" \"environmentVariables\": {}, \"autoscaling\":"
		" {\"minReplicas\": 1, \"maxReplicas\": 1,"
		" \"cpuUtilization\": 5, \"memoryUtilization\": 5},"
		" \"description\": \"%s\"}";
	struct fixture *f = *state;
	struct model_service_account sa, again;
	char text[512], *one, *two, *cur;
	int64_t t1, t2, tc;
	uint64_t before;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	snprintf(text, sizeof(text), spec, "first");
	assert_int_equal(model_deploy(f->m, "prod", "chat", text,
			strlen(text), NULL), 0);
	snprintf(text, sizeof(text), spec, "second");
	assert_int_equal(model_deploy(f->m, "prod", "chat", text,
			strlen(text), NULL), 0);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &one,
			&t1), 0);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat",
			&sa), 0);
	before = store_reads();
	for (int i = 0; i < 3; i++) {
		char *o, *c;
		int64_t to, tcur;

		assert_int_equal(model_version_get(f->m, "prod", "chat", 1,
				&o, &to), 0);
		assert_string_equal(o, one);
		assert_int_equal(to, t1);
		free(o);
		assert_int_equal(model_service_account_get(f->m, "prod",
				"chat", &again), 0);
		assert_string_equal(again.credential, sa.credential);
		/* the runtime's spec is its latest version's, kept after
		 * the first read */
		assert_int_equal(model_spec_get(f->m, "prod", "chat", &c,
				&tcur), 0);
		assert_non_null(strstr(c, "\"second\""));
		free(c);
	}
	assert_int_equal(store_reads(), before + 1);
	/* a new version and a new secret: read anew */
	assert_int_equal(model_runtime_ctl(f->m, "prod", "chat",
			"reset-service-account"), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 1), 0);
	before = store_reads();
	assert_int_equal(model_version_get(f->m, "prod", "chat", 1, &cur,
			&tc), -ENOENT);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat",
			&again), 0);
	assert_string_not_equal(again.credential, sa.credential);
	assert_true(store_reads() > before);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 2, &two,
			&t2), 0);
	assert_non_null(strstr(two, "\"second\""));
	model_forget(f->m);
	assert_int_equal(model_version_get(f->m, "prod", "chat", 2, &cur,
			&tc), 0);
	assert_string_equal(cur, two);
	assert_int_equal(tc, t2);
	free(one);
	free(two);
	free(cur);
}

static void test_rows_keep_a_secret_made(void **state)
{
	struct fixture *f = *state;
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_secret_scope scoped = { "prod", "shop", "billing" };
	struct model_secret kept, read;
	struct model_env e;
	uint64_t before;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_get(f->m, "prod", &e), 0);
	/* missing, kept as missing: asked again (the kernel's lookup, then
	 * the create's own), read once */
	before = store_reads();
	assert_int_equal(model_secret_get(f->m, &sc, "s1", &kept), -ENOENT);
	assert_int_equal(store_reads(), before + 1);
	assert_int_equal(model_secret_get(f->m, &sc, "s1", &kept), -ENOENT);
	assert_int_equal(store_reads(), before + 1);
	assert_int_equal(model_secret_create(f->m, &sc, "s1"), 0);
	before = store_reads();
	assert_int_equal(model_secret_get(f->m, &sc, "s1", &kept), 0);
	assert_int_equal(store_reads(), before);
	model_forget(f->m);
	assert_int_equal(model_secret_get(f->m, &sc, "s1", &read), 0);
	assert_true(store_reads() > before);
	assert_string_equal(kept.env, read.env);
	assert_string_equal(kept.name, read.name);
	assert_string_equal(kept.project, read.project);
	assert_string_equal(kept.integration, read.integration);
	assert_string_equal(kept.key_id, read.key_id);
	assert_string_equal(kept.secret, read.secret);
	assert_int_equal(kept.created_ns, read.created_ns);
	/* one scoped to an integration, with its names */
	assert_int_equal(model_project_create(f->m, "shop"), 0);
	assert_int_equal(model_integration_create(f->m, "shop", "billing"),
			0);
	assert_int_equal(model_secret_create(f->m, &scoped, "s2"), 0);
	assert_int_equal(model_secret_get(f->m, &scoped, "s2", &kept), 0);
	model_forget(f->m);
	assert_int_equal(model_secret_get(f->m, &scoped, "s2", &read), 0);
	assert_string_equal(kept.project, "shop");
	assert_string_equal(kept.integration, "billing");
	assert_string_equal(read.project, "shop");
	assert_string_equal(read.integration, "billing");
	assert_string_equal(kept.secret, read.secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status_boundaries),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test_setup_teardown(test_rows_keep_a_fleet, setup,
				teardown),
		cmocka_unit_test_setup_teardown(
				test_rows_keep_environments_over_changes,
				setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_rows_keep_versions_and_accounts, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_rows_keep_a_secret_made,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_lifecycle, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_env_critical, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_env_not_empty, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_projects_integrations,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_create, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_runtime_assign, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_runtime_delete_running,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_reopen, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_seal_round_trip, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_key_of_a_secret, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_key_of_a_service_account,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_of_an_image_password,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_form, setup,
				teardown),
		cmocka_unit_test_setup_teardown(
				test_key_made_when_nothing_is_sealed, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_key_file_is_configured,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_other_writers_heard,
				setup, teardown),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
