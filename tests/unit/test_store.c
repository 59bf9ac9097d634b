/*
 * test_store.c - what only the SQLite backend does: the files it keeps
 * beside the database (DB.lock with the holder's pid, DB.restore and
 * DB.restore-lock, -wal and -shm) and their modes.  What every backend
 * must do is tests/unit/test_store_conformance.c.
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

#include <fcntl.h>
#include <sqlite3.h>

#include "../../store/store.h"

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

static void touch_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The lock file names the daemon that holds the claim, so that a second
 * one says which pid serves the database. */
static void test_claim_names_the_holder(void **state)
{
	struct store_claim *a, *b;
	char dir[32], db[48], want[128];

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_claim(&a, db, 0), 0);
	assert_int_equal(store_claim(&b, db, 0), -EBUSY);
	snprintf(want, sizeof(want), "%s is already served by another"
			" runtimefs (pid %ld)", db, (long)getpid());
	assert_string_equal(store_errmsg(), want);
	assert_int_equal(store_claim(&b, db, STORE_CLAIM_RESTORE), -EBUSY);
	assert_string_equal(store_errmsg(), want);
	store_claim_release(a);
	claim_dir_remove(dir);
}

/* A restore builds beside the database, in DB.restore; one given up
 * unfinished is seen by what it left there until that is removed. */
static void test_claim_restore_files(void **state)
{
	struct store_claim *r, *c;
	char dir[32], db[48], scratch[64];

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_claim(&r, db, STORE_CLAIM_RESTORE), 0);
	assert_int_equal(store_restore_scratch(db, scratch, sizeof(scratch)),
			0);
	assert_string_equal(scratch + strlen(db), ".restore");
	touch_file(scratch, "half");
	store_claim_release(r);         /* as kill -9 would */
	assert_int_equal(store_claim(&c, db, 0), 0);
	assert_int_equal(store_claim_interrupted(c), 1);
	store_claim_restore_done(c);
	assert_int_equal(access(scratch, F_OK), -1);
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

/* A locator is a path, made absolute against the current directory so
 * that it names the same file after the daemon goes to /; its directory
 * must exist. */
static void test_locator_resolve(void **state)
{
	char dir[32], db[48], buf[256], cwd[256];

	(void)state;
	claim_dir(dir, db);
	assert_string_equal(store_default_locator(), "runtimefs.db");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(store_locator_resolve("t.db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, db);
	assert_int_equal(store_locator_resolve("./sub/../t.db", buf,
			sizeof(buf)), -ENOENT);
	assert_non_null(strstr(store_errmsg(), "./sub/../t.db"));
	assert_int_equal(store_locator_resolve(db, buf, sizeof(buf)), 0);
	assert_string_equal(buf, db);
	assert_int_equal(store_locator_resolve(":memory:", buf, sizeof(buf)),
			0);
	assert_string_equal(buf, ":memory:");
	assert_int_equal(store_locator_resolve("t.db", buf, 8),
			-ENAMETOOLONG);
	assert_int_equal(chdir(cwd), 0);
	claim_dir_remove(dir);
}

/* Messages show a locator without its password: a path as it is; a
 * PostgreSQL URI without the password of its user part or parameter; a
 * key=value string written again from its parts (one that does not
 * parse is no PostgreSQL locator but a path). */
static void test_locator_shown(void **state)
{
	char buf[256];

	(void)state;
	store_locator_shown("/var/lib/runtimefs.db", buf, sizeof(buf));
	assert_string_equal(buf, "/var/lib/runtimefs.db");
	store_locator_shown("postgresql://fleet:s3cret@db.example:5432/rtfs"
			"?sslmode=require&password=other&options=-cx%3Dy",
			buf, sizeof(buf));
	assert_string_equal(buf, "postgresql://fleet@db.example:5432/rtfs"
			"?sslmode=require&options=-cx%3Dy");
	store_locator_shown("postgresql:///rtfs?password=p&host=/tmp", buf,
			sizeof(buf));
	assert_string_equal(buf, "postgresql:///rtfs?host=/tmp");
	store_locator_shown("host=/tmp user=fleet password='a b' dbname=rtfs",
			buf, sizeof(buf));
	assert_null(strstr(buf, "password"));
	assert_non_null(strstr(buf, "user=fleet"));
	assert_non_null(strstr(buf, "dbname=rtfs"));
	store_locator_shown("postgresql://u:p@h/d", buf, 12);
	assert_string_equal(buf, "postgresql:");
}

/* Runs `sql` on the SQLite file at `path`, as another program would. */
static void sql_on(const char *path, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int taken_of(void *ctx, const char *name, int64_t taken_ns)
{
	(void)name;
	*(int64_t *)ctx = taken_ns;
	return 0;
}

/* A database a newer runtimefs wrote (a schema version past ours) is
 * refused, saying so, and opens again once back at ours. */
static void test_newer_schema_refused(void **state)
{
	struct store *s;
	char dir[32], db[48], sql[64];
	int v;

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_open(&s, db), 0);
	v = store_schema_version(s);
	store_close(s);
	sql_on(db, "PRAGMA user_version = 999");
	assert_int_equal(store_open(&s, db), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(store_errmsg(), "newer"));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	sql_on(db, sql);
	assert_int_equal(store_open(&s, db), 0);
	store_close(s);
	claim_dir_remove(dir);
}

/* Snapshots keep the layout of every runtimefs so far: DB.snapshots/
 * NAME.db, 0600, with the time taken recorded in it; names that cannot
 * be such a file are refused; what a crash cut short is tidied. */
static void test_snapshot_files(void **state)
{
	struct store *s, *snap;
	struct stat st;
	char dir[32], db[48], path[128], side[128];
	int64_t taken, listed = 0;

	(void)state;
	claim_dir(dir, db);
	umask(022);
	assert_int_equal(store_open(&s, db), 0);
	assert_int_equal(store_snapshot_create(s, "s", &taken), 0);
	snprintf(path, sizeof(path), "%s.snapshots/s.db", db);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s.snapshots", db);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(store_snapshot_create(s, "../x", NULL), -EINVAL);
	assert_int_equal(store_snapshot_create(s, ".x", NULL), -EINVAL);
	assert_int_equal(store_snapshot_create(s, "", NULL), -EINVAL);
	assert_int_equal(store_snapshot_drop(s, "../t"), -EINVAL);
	/* a copy cut short, and its journal */
	snprintf(path, sizeof(path), "%s.snapshots/.t.tmp", db);
	snprintf(side, sizeof(side), "%s.snapshots/.t.tmp-journal", db);
	touch_file(path, "half");
	touch_file(side, "half");
	assert_int_equal(store_snapshot_list(s, taken_of, &listed), 0);
	assert_int_equal(listed, taken);
	store_snapshot_tidy(s);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(side, F_OK), -1);
	snprintf(path, sizeof(path), "%s.snapshots/s.db", db);
	assert_int_equal(access(path, F_OK), 0);
	/* an in-memory store has none */
	store_close(s);
	assert_int_equal(store_open(&s, ":memory:"), 0);
	assert_int_equal(store_snapshot_create(s, "s", NULL), -EOPNOTSUPP);
	assert_int_equal(store_snapshot_open(s, "s", &snap), -ENOENT);
	listed = 0;
	assert_int_equal(store_snapshot_list(s, taken_of, &listed), 0);
	assert_int_equal(listed, 0);
	store_close(s);
	claim_dir_remove(dir);
}

/* A snapshot an older runtimefs made records no time: it is taken at its
 * file's mtime, written into it the first time it is read, so that it
 * stays so when the file is touched later. */
static void test_old_snapshot_takes_its_mtime_once(void **state)
{
	struct timespec times[2] = { { 1600000000, 5 }, { 1600000000, 5 } };
	struct store *s, *snap;
	char dir[32], db[48], path[128];
	int64_t listed = 0;

	(void)state;
	claim_dir(dir, db);
	assert_int_equal(store_open(&s, db), 0);
	assert_int_equal(store_env_insert(s, "prod", 1), 0);
	assert_int_equal(store_snapshot_create(s, "old", NULL), 0);
	snprintf(path, sizeof(path), "%s.snapshots/old.db", db);
	sql_on(path, "DROP TABLE snapshot_taken");
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(store_snapshot_list(s, taken_of, &listed), 0);
	assert_int_equal(listed, 1600000000LL * 1000000000LL + 5);
	times[0].tv_sec = times[1].tv_sec = 1700000000;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(store_snapshot_list(s, taken_of, &listed), 0);
	assert_int_equal(listed, 1600000000LL * 1000000000LL + 5);
	assert_int_equal(store_snapshot_open(s, "old", &snap), 0);
	assert_int_equal(store_taken_at(snap), 1600000000LL * 1000000000LL + 5);
	assert_int_equal(store_env_get(snap, "prod",
			&(struct store_env){ 0 }), 0);
	store_close(snap);
	store_close(s);
	claim_dir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_names_the_holder),
		cmocka_unit_test(test_claim_restore_files),
		cmocka_unit_test(test_claim_refuses_a_directory),
		cmocka_unit_test(test_restore_scratch_and_commit),
		cmocka_unit_test(test_new_database_mode),
		cmocka_unit_test(test_locator_resolve),
		cmocka_unit_test(test_locator_shown),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_snapshot_files),
		cmocka_unit_test(test_old_snapshot_takes_its_mtime_once),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
