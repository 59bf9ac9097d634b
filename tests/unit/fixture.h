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
#include <string.h>
#include <sqlite3.h>

#define SEC 1000000000LL

struct fixture {
	char dir[64];
	char db[96];
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
		.flush_interval_ns = f->flush_ns,
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
	/* the rows the model keeps (rows.c) know nothing of it */
	if (f->m)
		model_rows_forget(f->m);
}

/* What a watcher hears (model_watch()): each change's kind, what of it
 * changed (hexadecimal), its names, "#" when it carries a runtime's row,
 * all on one line. */
struct heard {
	char text[1024];
};

static inline void hear(void *ctx, const struct model_event *ev)
{
	static const char *const kinds[] = { "runtime", "env", "project",
		"integration", "view", "snapshot", "all" };
	const char *names[] = { ev->a, ev->b, ev->c, ev->d };
	struct heard *h = ctx;
	size_t n = strlen(h->text);
	int last = 3;

	while (last >= 0 && !*names[last])
		last--;
	n += (size_t)snprintf(h->text + n, sizeof(h->text) - n, "%s%s/%x%s",
			n ? " " : "", kinds[ev->kind], ev->what,
			ev->id ? "#" : "");
	for (int i = 0; i <= last && n < sizeof(h->text); i++)
		n += (size_t)snprintf(h->text + n, sizeof(h->text) - n, ":%s",
				names[i]);
}

#endif
