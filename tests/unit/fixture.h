/*
 * fixture.h - what the model's unit tests share: a model on a real store
 * in a temporary directory, with a clock the test sets (f->now), offline
 * after 30 s; the model's store for what no model call reaches (a runtime
 * as an older runtimefs left it, a time set by hand), under the model's
 * lock; and a dump of the whole store to compare.  Include after
 * cmocka.h and model_int.h.
 */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000LL

/* A full spec of an agent runtime, its image tag %d. */
#define AGENT_SPEC_FMT "{\"imageUrl\": \"registry.example/chat:%d\"," \
	" \"flavorId\": \"g1-small\", \"command\": [\"python\"]," \
	" \"args\": [\"app.py\"], \"environmentVariables\": {}," \
	" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 3," \
	" \"cpuUtilization\": 70, \"memoryUtilization\": 80}," \
	" \"description\": \"chat agent\"}"

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

/* setup(), with a model whose flusher never runs by itself: the test
 * flushes (model_flush()) and ticks (model_events_tick()) by hand. */
static inline int setup_by_hand(void **state)
{
	struct fixture *f;

	if (setup(state))
		return -1;
	f = *state;
	model_close(f->m);
	f->flush_ns = -1;
	return open_model(f);
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

/* The model's store, under the model's lock (its flusher shares the
 * handle): what a test reads or changes there is what the model's next
 * call finds.  store_unlock() gives the lock back. */
static inline struct store *store_lock(struct fixture *f)
{
	model_lock(f->m);
	return f->m->store;
}

static inline void store_unlock(struct fixture *f)
{
	/* the rows the model keeps (rows.c) know nothing of what the test
	 * changed there */
	model_rows_forget(f->m);
	model_unlock(f->m);
}

/* The stored row of runtime NAME of ENV, as the store has it (no
 * heartbeat time waiting in memory). */
static inline struct store_runtime stored_runtime(struct fixture *f,
		const char *env, const char *name)
{
	struct store *s = store_lock(f);
	struct store_runtime rt;
	struct store_env e;

	assert_int_equal(store_env_get(s, env, &e), 0);
	assert_int_equal(store_runtime_get(s, e.id, name, &rt), 0);
	store_unlock(f);
	return rt;
}

/* Writes `rt` back as a heartbeat report does (its integration, times,
 * version, platform, os and revocation). */
static inline void store_report(struct fixture *f,
		const struct store_runtime *rt)
{
	struct store *s = store_lock(f);

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_runtime_report(s, rt), 0);
	assert_int_equal(store_commit(s), 0);
	store_unlock(f);
}

/* An agent runtime NAME of ENV as a runtimefs from before service
 * accounts left it: none.  Its id. */
static inline int64_t runtime_without_account(struct fixture *f,
		const char *env, const char *name)
{
	struct store *s = store_lock(f);
	struct store_runtime rt;
	struct store_env e;

	memset(&rt, 0, sizeof(rt));
	assert_int_equal(store_env_get(s, env, &e), 0);
	model_uuid(rt.uuid);
	rt.env_id = e.id;
	snprintf(rt.name, sizeof(rt.name), "%s", name);
	strcpy(rt.type, "agent");
	strcpy(rt.desired, "run");
	rt.desired_ns = rt.registered_ns = rt.info_ns = rt.assigned_ns =
		f->now;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_runtime_insert(s, &rt), 0);
	assert_int_equal(store_commit(s), 0);
	store_unlock(f);
	return rt.id;
}

/* A dump being gathered. */
struct dump_text {
	char *s;
	size_t len;
};

static inline int dump_line(void *ctx, const char *line)
{
	struct dump_text *d = ctx;
	size_t n = strlen(line);

	d->s = realloc(d->s, d->len + n + 2);
	assert_non_null(d->s);
	memcpy(d->s + d->len, line, n);
	d->len += n;
	d->s[d->len++] = '\n';
	d->s[d->len] = '\0';
	return 0;
}

/* Everything the store at `locator` holds (store_dump()), through a
 * handle of its own, as another process would read it: what was
 * committed.  Released with free(). */
static inline char *dump_store(const char *locator)
{
	struct dump_text d = { NULL, 0 };
	struct store *s;

	assert_int_equal(store_open(&s, locator), 0);
	assert_int_equal(store_dump(s, dump_line, &d), 0);
	store_close(s);
	return d.s ? d.s : strdup("");
}

/* What a watcher hears (model_watch()): each change's kind, what of it
 * changed (hexadecimal), its names, "#" when it carries a runtime's row,
 * all on one line; that the event log grew is left out (test_events.c
 * hears it). */
struct heard {
	char text[1024];
};

static inline void hear(void *ctx, const struct model_event *ev)
{
	static const char *const kinds[] = { "runtime", "env", "project",
		"integration", "view", "snapshot", "events", "all" };
	const char *names[] = { ev->a, ev->b, ev->c, ev->d };
	struct heard *h = ctx;
	size_t n = strlen(h->text);
	int last = 3;

	if (ev->kind == MODEL_EV_EVENTS)
		return;
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
