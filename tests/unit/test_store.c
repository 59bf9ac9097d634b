/*
 * test_store.c - the SQLite backend on its own: schema, errno mapping,
 * transactions that roll back, and rows that come back as written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../store/store.h"

static int setup(void **state)
{
	struct store *s;

	if (store_open(&s, ":memory:"))
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

static void test_schema(void **state)
{
	assert_true(store_schema_version(*state) >= 1);
}

static void test_env_rows(void **state)
{
	struct store *s = *state;
	struct store_env e;

	assert_int_equal(store_env_insert(s, "prod", 42), 0);
	assert_int_equal(store_env_insert(s, "prod", 43), -EEXIST);
	assert_non_null(strstr(store_errmsg(), "already exists"));
	assert_int_equal(store_env_get(s, "prod", &e), 0);
	assert_string_equal(e.name, "prod");
	assert_int_equal(e.created_ns, 42);
	assert_int_equal(e.mtime_ns, 42);
	assert_int_equal(store_env_set_critical(s, e.id, 1, 50), 0);
	assert_int_equal(store_env_get(s, "prod", &e), 0);
	assert_int_equal(e.critical, 1);
	assert_int_equal(e.mtime_ns, 50);
	assert_int_equal(store_env_get(s, "dev", &e), -ENOENT);
	assert_int_equal(store_env_delete(s, e.id), 0);
	assert_int_equal(store_env_delete(s, e.id), -ENOENT);
}

static void test_rollback(void **state)
{
	struct store *s = *state;
	struct store_env e;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_env_insert(s, "prod", 1), 0);
	store_rollback(s);
	assert_int_equal(store_env_get(s, "prod", &e), -ENOENT);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_env_insert(s, "prod", 1), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_env_get(s, "prod", &e), 0);
}

static int count(void *ctx, const struct store_runtime *rt)
{
	(void)rt;
	(*(int *)ctx)++;
	return 0;
}

static void test_runtime_rows(void **state)
{
	struct store *s = *state;
	struct store_runtime rt, got;
	struct store_project p;
	struct store_integration in;
	struct store_env e;
	struct store_runtime_filter f = { 0, 0, 0 };
	int n = 0;

	assert_int_equal(store_env_insert(s, "prod", 1), 0);
	assert_int_equal(store_env_get(s, "prod", &e), 0);
	assert_int_equal(store_project_insert(s, "shop", 1), 0);
	assert_int_equal(store_project_get(s, "shop", &p), 0);
	assert_int_equal(store_integration_insert(s, p.id, "orders", "MI", 1),
			0);
	assert_int_equal(store_integration_get(s, p.id, "orders", &in), 0);
	memset(&rt, 0, sizeof(rt));
	strcpy(rt.uuid, "00000000-0000-4000-8000-000000000001");
	rt.env_id = e.id;
	strcpy(rt.name, "orders-1");
	strcpy(rt.type, "MI");
	rt.integration_id = in.id;
	strcpy(rt.desired, "run");
	strcpy(rt.platform, "WSO2 Micro Integrator 4.4.0");
	rt.registered_ns = 7;
	assert_int_equal(store_runtime_insert(s, &rt), 0);
	assert_true(rt.id > 0);
	assert_int_equal(store_runtime_insert(s, &rt), -EEXIST);
	assert_int_equal(store_runtime_get(s, e.id, "orders-1", &got), 0);
	assert_string_equal(got.env, "prod");
	assert_string_equal(got.project, "shop");
	assert_string_equal(got.integration, "orders");
	assert_string_equal(got.platform, "WSO2 Micro Integrator 4.4.0");
	assert_int_equal(got.registered_ns, 7);
	f.integration_id = in.id;
	assert_int_equal(store_runtime_list(s, &f, count, &n), 0);
	assert_int_equal(n, 1);
	/* an integration with runtimes cannot go: the foreign key holds */
	assert_int_equal(store_integration_children(s, in.id,
			&(int64_t){ 0 }), 0);
	assert_int_equal(store_integration_delete(s, in.id), -ENOTEMPTY);
	assert_int_equal(store_runtime_set_integration(s, rt.id, 0, 9), 0);
	assert_int_equal(store_runtime_get(s, e.id, "orders-1", &got), 0);
	assert_string_equal(got.integration, "");
	assert_int_equal(got.assigned_ns, 9);
	assert_int_equal(store_integration_delete(s, in.id), 0);
}

/* A directory for the claim tests, and the database path in it. */
static void claim_dir(char *dir, char *db)
{
	strcpy(dir, "/tmp/rtfs-claim-XXXXXX");
	assert_non_null(mkdtemp(dir));
	sprintf(db, "%s/t.db", dir);
}

static void claim_dir_remove(const char *dir)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* One claim at a time: a second, to serve or to restore, is refused
 * with the holder's pid; once given up, the database can be claimed. */
static void test_claim_is_exclusive(void **state)
{
	struct store_claim *a, *b;
	char dir[32], db[48], want[128];

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_claim(&a, db, 0), 0);
	assert_int_equal(store_claim(&b, db, 0), -EBUSY);
	assert_null(b);
	snprintf(want, sizeof(want), "%s is already served by another"
			" runtimefs (pid %ld)", db, (long)getpid());
	assert_string_equal(store_errmsg(), want);
	assert_int_equal(store_claim(&b, db, STORE_CLAIM_RESTORE), -EBUSY);
	assert_string_equal(store_errmsg(), want);
	assert_int_equal(store_claim(&b, db, STORE_CLAIM_WAIT), -EBUSY);
	assert_int_equal(store_claim_interrupted(a), 0);
	store_claim_release(a);
	assert_int_equal(store_claim(&b, db, STORE_CLAIM_RESTORE), 0);
	store_claim_release(b);
	claim_dir_remove(dir);
}

/* While a restore holds the database, a daemon to serve it is told to
 * wait; a restore given up without finishing is seen as interrupted
 * until its files are removed. */
static void test_claim_restore(void **state)
{
	struct store_claim *r, *c;
	char dir[32], db[48], scratch[64];

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_claim(&r, db, STORE_CLAIM_RESTORE), 0);
	assert_int_equal(store_claim(&c, db, 0), -EINPROGRESS);
	assert_int_equal(store_claim(&c, db, STORE_CLAIM_RESTORE), -EBUSY);
	assert_int_equal(store_restore_scratch(db, scratch, sizeof(scratch)),
			0);
	assert_string_equal(scratch + strlen(db), ".restore");
	store_claim_release(r);         /* as kill -9 would */
	assert_int_equal(store_claim(&c, db, 0), 0);
	assert_int_equal(store_claim_interrupted(c), 1);
	store_claim_release(c);
	assert_int_equal(store_claim(&c, db, 0), 0);
	assert_int_equal(store_claim_interrupted(c), 1);
	store_claim_restore_done(c);
	assert_int_equal(store_claim_interrupted(c), 0);
	store_claim_release(c);
	assert_int_equal(store_claim(&c, db, 0), 0);
	assert_int_equal(store_claim_interrupted(c), 0);
	store_claim_release(c);
	claim_dir_remove(dir);
}

/* A new database is its owner's only, and so are the -wal and -shm that
 * SQLite makes with its mode. */
static void test_new_database_mode(void **state)
{
	struct store *s;
	struct stat st;
	char dir[32], db[48], wal[56];

	(void)state;
	claim_dir(dir, db);
	umask(022);
	assert_int_equal(store_open(&s, db), 0);
	assert_int_equal(store_env_insert(s, "prod", 1), 0);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	store_close(s);
	claim_dir_remove(dir);
}

static void touch_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A restore's scratch database starts clean (a -wal a killed build left
 * is not taken for the next one's) and its commit replaces the database
 * and whatever -wal and -shm were beside it. */
static void test_restore_scratch_and_commit(void **state)
{
	char dir[32], db[48], path[64], side[80], text[8] = "";
	FILE *f;

	(void)state;
	claim_dir(dir, db);
	snprintf(path, sizeof(path), "%s.restore", db);
	touch_file(path, "old");
	snprintf(side, sizeof(side), "%s.restore-wal", db);
	touch_file(side, "old");
	assert_int_equal(store_restore_scratch(db, path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(side, F_OK), -1);
	touch_file(path, "new");
	touch_file(db, "empty");
	snprintf(side, sizeof(side), "%s-wal", db);
	touch_file(side, "stale");
	assert_int_equal(store_restore_commit(db), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(side, F_OK), -1);
	f = fopen(db, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "new");
	assert_int_equal(store_restore_commit(db), -ENOENT);
	claim_dir_remove(dir);
}

/* A database path that is a directory is refused before any file is
 * made beside it. */
static void test_claim_refuses_a_directory(void **state)
{
	struct store_claim *c;
	char dir[32], db[48], lock[64];

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(mkdir(db, 0700), 0);
	assert_int_equal(store_claim(&c, db, 0), -EISDIR);
	snprintf(lock, sizeof(lock), "%s.lock", db);
	assert_int_equal(access(lock, F_OK), -1);
	claim_dir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_rows, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_runtime_rows, setup,
				teardown),
		cmocka_unit_test(test_claim_is_exclusive),
		cmocka_unit_test(test_claim_restore),
		cmocka_unit_test(test_claim_refuses_a_directory),
		cmocka_unit_test(test_restore_scratch_and_commit),
		cmocka_unit_test(test_new_database_mode),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
