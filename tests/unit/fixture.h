/*
 * fixture.h - what the model's unit tests share: a model on a real SQLite
 * database in a temporary directory, with a clock the test sets
 * (f->now), offline after 30 s.  Include after cmocka.h and model_int.h.
 */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#define SEC 1000000000LL

struct fixture {
	char dir[64];
	char db[96];
	int64_t now;               /* the model's clock */
	int64_t flush_ns;          /* model_config.flush_interval_ns */
	struct model *m;
};

static int64_t fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static int open_model(struct fixture *f)
{
	struct model_config cfg = {
		.offline_after_ns = 30 * SEC, .now = fake_now, .now_ctx = f,
		.flush_interval_ns = f->flush_ns,
	};

	return model_open(&f->m, f->db, &cfg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/rtfs-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->now = 1700000000 * SEC;
	if (open_model(f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
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

static int count_cb(void *ctx, const void *row)
{
	(void)row;
	(*(int *)ctx)++;
	return 0;
}

#endif
