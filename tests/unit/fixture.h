/*
 * fixture.h - what the model's unit tests share: a model on a real SQLite
 * database in a temporary directory, with a clock the test sets
 * (f->now), offline after 30 s; and sql() to change it behind the
 * model's back.  Include after cmocka.h and model_int.h.
 */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>

#define SEC 1000000000LL

struct fixture {
	char dir[64];
	char db[96];
	char key[128];             /* its key file: where the store keeps it */
	int64_t now;               /* the model's clock */
	int64_t flush_ns;          /* model_config.flush_interval_ns */
	struct model *m;
};

static inline int64_t fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static inline int open_model(struct fixture *f)
{
	struct model_config cfg = {
		.offline_after_ns = 30 * SEC, .now = fake_now, .now_ctx = f,
		.flush_interval_ns = f->flush_ns, .key_path = f->key,
	};

	return model_open(&f->m, f->db, &cfg);
}

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/rtfs-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	if (store_default_key_path(f->db, f->key, sizeof(f->key)))
		return -1;
	f->now = 1700000000 * SEC;
	if (open_model(f))
		return -1;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	model_close(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static inline int count_cb(void *ctx, const void *row)
{
	(void)row;
	(*(int *)ctx)++;
	return 0;
}

/* Runs one SQL statement on the database through a connection of its
 * own, behind the model's back, as another process would. */
static inline void sql(struct fixture *f, const char *stmt)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	assert_int_equal(sqlite3_exec(h, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

#endif
