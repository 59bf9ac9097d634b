/*
 * test_backup.c - reading a backup back on the filesystem's side (fs/
 * stage.c and fs/backup.c, the node table's restore handlers), on real
 * SQLite databases in a temporary directory: a live model's tree, copied
 * through the node table as tar copies it, is staged, checked file by
 * file, built into a new database and read back the same; what the
 * layout refuses, what each file's check refuses with the file's name,
 * and what the node table says of backups.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../model/model_int.h"
#include "../../fs/backup.h"
#include "../../fs/fs.h"
#include "../../fs/stage.h"

#include "fixture.h"
#include "backup.h"

static int show(const struct fs_path *p, struct fs_value *v)
{
	return fs_show(p, v, 1 << 22);
}

static int gather(void *ctx, const char *name)
{
	return buf_add(ctx, name, strlen(name) + 1);
}

/* What a walk of a model's tree meets: each entry below `dir`. */
typedef void (*tree_fn)(void *ctx, const char *path, const struct fs_path *p,
		const struct fs_value *v);

static void walk_tree(struct model *m, const char *dir, tree_fn fn, void *ctx)
{
	struct buf names;
	struct fs_path p;

	buf_init(&names, 1 << 22);
	assert_int_equal(fs_resolve(m, dir, &p), 0);
	assert_int_equal(fs_list(&p, gather, &names), 0);
	for (size_t off = 0; off < names.len;
			off += strlen(names.data + off) + 1) {
		char path[PATH_MAX];
		struct fs_value v;

		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir :
				"", names.data + off);
		assert_int_equal(fs_resolve(m, path, &p), 0);
		assert_int_equal(show(&p, &v), 0);
		fn(ctx, path, &p, &v);
		if (S_ISDIR(fs_mode(&p)) && p.node->kind != FS_SNAPSHOTS)
			walk_tree(m, path, fn, ctx);
		buf_release(&v.buf);
	}
	buf_release(&names);
}

/* The copy tar makes: every entry, in the order the tree lists them (or
 * the reverse), each staged as a tool writes it and checked at close. */
struct copy {
	struct stage *s;
	struct backup b;
};

static void copy_entry(void *ctx, const char *path, const struct fs_path *p,
		const struct fs_value *v)
{
	struct copy *c = ctx;
	mode_t mode = fs_mode(p);
	char type = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'f';

	add(&c->b, type, strdup(path + 1), "%.*s", (int)v->buf.len,
			v->buf.data ? v->buf.data : "");
	c->b.e[c->b.n - 1].mtime_ns = v->mtime_ns;
	c->b.e[c->b.n - 1].len = v->buf.len;
}

/* Stages `e`; a file is checked as a close checks it.  A directory made
 * already on the way to an entry below it, and the root's .last_error
 * (which tar removes and makes again), are there. */
static int stage_entry(struct stage *s, const struct tree_entry *e)
{
	uint64_t id = 0;
	int ret = stage_put(s, e->path, e->type, e->type == 'd' ? 0755 :
			0644, e->data, e->len, e->mtime_ns, &id);

	if (!ret && e->type == 'f')
		ret = stage_flush(s, id);
	if (ret == -EEXIST && (e->type == 'd' ||
			!strcmp(e->path, ".last_error")))
		ret = 0;
	return ret;
}

/* A listing of a tree: each entry with its bytes, those read back for
 * their presence only aside. */
static void list_entry(void *ctx, const char *path, const struct fs_path *p,
		const struct fs_value *v)
{
	FILE *out = ctx;
	enum fs_backup b = p->attr ? p->attr->backup : p->node->backup;

	if (b != FS_BACKUP_EXACT)
		fprintf(out, "%s\n", path);
	else
		fprintf(out, "%s %o [%.*s]\n", path, fs_mode(p), (int)v->buf.len,
				v->buf.data ? v->buf.data : "");
}

static char *listing(struct model *m, const char *dir)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	walk_tree(m, dir, list_entry, out);
	fclose(out);
	return text;
}

/* A mount's settings for a restore into `db`, sealed with the key the
 * store keeps beside it (`key`: PATH_MAX bytes, as main.c gives it). */
static void fs_for(struct fs *fs, struct fixture *f, const char *db,
		char *key)
{
	memset(fs, 0, sizeof(*fs));
	fs->locator = db;
	fs->shown = db;
	assert_int_equal(store_default_key_path(db, key, PATH_MAX), 0);
	fs->cfg.key_path = key;
	fs->cfg.offline_after_ns = 30 * SEC;
	fs->cfg.now = fake_now;
	fs->cfg.now_ctx = f;
	fs->restore_max = STAGE_MAX_DEFAULT;
}

static void free_paths(struct backup *b)
{
	for (size_t i = 0; i < b->n; i++)
		free((char *)b->e[i].path);
	backup_release(b);
}

/* The whole tree of a live model, copied in (in either order), built into
 * a new database and read back: the same bytes, file for file, and the
 * old secrets work. */
static void round_trip(struct fixture *f, int reversed)
{
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX], db[128];
	char *before, *after, json[512];
	struct model_heartbeat_reply r;
	struct copy c = { 0 };
	struct model *m = NULL;
	struct fs fs;
	char key[PATH_MAX];

	make_source(f, cred, spare);
	snprintf(db, sizeof(db), "%s/restored%d.db", f->dir, reversed);
	fs_for(&fs, f, db, key);
	assert_int_equal(stage_new(&c.s, &fs, STAGE_MAX_DEFAULT), 0);
	walk_tree(f->m, "/", copy_entry, &c);
	assert_true(c.b.n > 60);
	for (size_t i = 0; i < c.b.n; i++) {
		const struct tree_entry *e = &c.b.e[reversed ? c.b.n - 1 - i :
			i];
		int ret = stage_entry(c.s, e);

		if (ret)
			fail_msg("%s: %d %s", e->path, ret, fs_errmsg());
	}
	f->now += 3600 * SEC;
	if (fs_backup_build(c.s, &fs, 1))
		fail_msg("build: %s / %s", fs_errmsg(), model_errmsg());
	stage_free(c.s);
	free_paths(&c.b);

	assert_int_equal(model_open(&m, db, &fs.cfg), 0);
	before = listing(f->m, "/environments");
	after = listing(m, "/environments");
	assert_string_equal(before, after);
	free(before);
	free(after);
	before = listing(f->m, "/projects");
	after = listing(m, "/projects");
	assert_string_equal(before, after);
	free(before);
	free(after);
	hb_json(json, sizeof(json), cred);
	assert_int_equal(model_heartbeat(m, json, strlen(json), &r), 0);
	model_close(m);
}

static void test_round_trip_through_the_tree(void **state)
{
	round_trip(*state, 0);
}

static void test_any_order(void **state)
{
	round_trip(*state, 1);
}

static int count_env(void *ctx, const struct model_env *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

/* Replaces the bytes of the entry at `path` (NULL: drops it). */
static void replace(struct backup *b, const char *path, const char *text)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->e[i].path, path)) {
			free(b->owned[i]);
			if (!text) {
				b->n--;
				b->e[i] = b->e[b->n];
				b->owned[i] = b->owned[b->n];
				return;
			}
			b->owned[i] = strdup(text);
			b->e[i].data = b->owned[i];
			b->e[i].len = strlen(text);
			return;
		}
	fail_msg("no entry %s", path);
}

/* Each broken file is refused with its errno, naming the file: when it
 * is closed, when the staged tree is read, or when the model builds it;
 * and the model built into is left empty. */
static void test_refusals_name_the_file(void **state)
{
	static const struct {
		const char *path, *text, *why;
		int err;
	} cases[] = {
		{ "environments/prod/critical", "2\n",
		  "environments/prod/critical: '2' is not one of the values"
		  " this file takes", -EINVAL },
		{ "environments/prod/runtimes/chat/endpoints/canary/version",
		  "9\n", "environments/prod/runtimes/chat/endpoints/canary/"
		  "version: the runtime has no version 9", -ENOENT },
		{ "environments/prod/runtimes/chat/id", "not-a-uuid\n",
		  "environments/prod/runtimes/chat/id: 'not-a-uuid' is not a"
		  " UUID", -EINVAL },
		{ "environments/prod/runtimes/orders-1/secret", "00000000\n",
		  "but the runtime's secret is '00000000'", -EINVAL },
		{ "environments/prod/runtimes/chat/service_account", "x.y\n",
		  "environments/prod/runtimes/chat/service_account: a service"
		  " account is CLIENTID.SECRET", -EINVAL },
		{ "environments/prod/runtimes/orders-1/project", "nope\n",
		  "environments/prod/runtimes/orders-1: no project 'nope'",
		  -ENOENT },
		{ "environments/prod/critical", NULL,
		  "environments/prod/critical is missing", -EINVAL },
		{ "projects/shop/runtimes/prod/orders-1", "../x",
		  "projects/shop/runtimes/prod/orders-1: a link of this view"
		  " points to ../../../../environments/prod/runtimes/orders-1",
		  -EINVAL },
		{ "environments/prod/runtimes/chat/registered",
		  "2026-02-30T12:00:00Z\n", "'2026-02-30T12:00:00Z' is not a"
		  " time", -EINVAL },
		{ "environments/prod/runtimes/orders-1/environment", "dev\n",
		  "'dev' is not the environment it is in", -EINVAL },
	};
	struct fixture *f = *state;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];
	struct backup b = { 0 };
	struct fs fs;
	char key[PATH_MAX];

	make_backup(f, &b, cred, spare);
	add(&b, 'f', "environments/prod/runtimes/orders-1/environment",
			"prod\n");
	fs_for(&fs, f, f->db, key);
	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		struct backup c = { 0 };
		struct fs_restore r;
		struct stage *s;
		struct model *m;
		char name[32], why[512];
		int envs = 0, ret = 0;

		for (size_t i = 0; i < b.n; i++)
			add(&c, b.e[i].type, b.e[i].path, "%s", b.e[i].data);
		replace(&c, cases[k].path, cases[k].text);
		assert_int_equal(stage_new(&s, &fs, STAGE_MAX_DEFAULT), 0);
		for (size_t i = 0; i < c.n && !ret; i++)
			ret = stage_entry(s, &c.e[i]);
		fs_restore_init(&r);
		if (!ret)
			ret = fs_backup_read(s, &r);
		/* the request's one message: opening a model clears it */
		snprintf(why, sizeof(why), "%s", fs_errmsg());
		snprintf(name, sizeof(name), "bad%zu.db", k);
		m = open_target(f, name);
		if (!ret) {
			fs_errclear();
			ret = model_restore_apply(m, &r.b);
			snprintf(why, sizeof(why), "%s", fs_errmsg());
		}
		if (ret != cases[k].err || !strstr(why, cases[k].why))
			fail_msg("case %zu: %d '%s', not '%s'", k, ret, why,
					cases[k].why);
		assert_int_equal(model_env_list(m, count_env, &envs), 0);
		assert_int_equal(envs, 0);
		model_close(m);
		fs_restore_release(&r);
		stage_free(s);
		backup_release(&c);
	}
	backup_release(&b);
}

/* The layout: what a restore takes, skips and refuses, from the node
 * table alone. */
static void test_layout(void **state)
{
	static const struct {
		const char *path;
		char type;
		int ret;
	} paths[] = {
		{ "environments", 'd', 0 },
		{ "environments/prod/runtimes/a/versions/12", 'f', 0 },
		{ "README", 'f', 0 },
		{ "heartbeat", 'f', 0 },
		{ "snapshots/x/environments/prod/x", 'f', 0 },
		{ "environments/prod/.critical.x1y2z3", 'f', 0 },
		{ "environments/prod/x", 'f', -EPERM },
		{ "environments/prod/runtimes/a/x", 'd', -EPERM },
		{ "environments/dev/critical", 'd', -EPERM },
		{ "environments/bad name", 'd', -EINVAL },
		{ "environments/prod/runtimes/a/versions/01", 'f', -EPERM },
		{ "environments/prod/runtimes/a/versions/x", 'f', -EPERM },
		{ "projects/p/runtimes/prod/a", 'f', 0 },  /* tar's placeholder */
		{ "projects/p/runtimes/prod/b", 'l', 0 },
		{ "projects/p/runtimes/prod/c", 'd', -EPERM },
		{ "stray", 'd', -EPERM },
	};
	struct fixture *f = *state;
	struct stage *s;
	struct stat st;
	struct fs fs;
	char key[PATH_MAX];
	uint64_t id;
	int vol;

	fs_for(&fs, f, f->db, key);
	assert_int_equal(stage_new(&s, &fs, STAGE_MAX_DEFAULT), 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		int ret = stage_put(s, paths[i].path, paths[i].type, 0644, "",
				0, 0, NULL);

		if (ret != paths[i].ret)
			fail_msg("%s: %d, '%s'", paths[i].path, ret,
					fs_errmsg());
	}
	assert_string_equal(fs_errmsg(), "'stray' is not part of a runtimefs"
			" tree");
	/* key material is the admins' whatever mode the tool gave it */
	assert_int_equal(stage_put(s, "environments/prod/secrets/s", 'f',
			0644, "", 0, 0, &id), 0);
	assert_int_equal(stage_stat(s, id, &st, &vol), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0600);
	assert_int_equal(stage_put(s, "environments/prod/critical", 'f',
			0644, "1\n", 2, 0, &id), 0);
	assert_int_equal(stage_stat(s, id, &st, &vol), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0644);
	assert_int_equal(st.st_size, 2);
	stage_free(s);
}

/* One file on its own, as a close checks it. */
static int check(struct fixture *f, const char *path, const char *text,
		size_t len)
{
	struct stage *s;
	struct fs fs;
	char key[PATH_MAX];
	uint64_t id;
	int ret;

	fs_for(&fs, f, f->db, key);
	assert_int_equal(stage_new(&s, &fs, STAGE_MAX_DEFAULT), 0);
	ret = stage_put(s, path, 'f', 0644, text, len, 0, &id);
	if (!ret)
		ret = stage_flush(s, id);
	stage_free(s);
	return ret;
}

static void test_values(void **state)
{
	struct fixture *f = *state;
	char big[70000];

	assert_int_equal(check(f, "environments/prod/critical", "1\n", 2), 0);
	assert_int_equal(check(f, "environments/prod/critical", "1\0", 2),
			-EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/registered",
			"2026-11-23T12:17:48Z\n", 21), 0);
	assert_int_equal(check(f, "environments/p/runtimes/a/registered",
			"2026-13-23T12:17:48Z\n", 21), -EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/versions/2",
			"{\"version\": 2}", 14), -EINVAL);
	memset(big, '{', sizeof(big));
	assert_int_equal(check(f, "environments/p/runtimes/a/versions/2", big,
			sizeof(big)), -EFBIG);
	assert_int_equal(check(f, "environments/p/secrets/s", big, 8000),
			-EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/secret.toml",
			"secret = \"x\n", 12), -EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/status",
			"RUNNING\n", 8), 0);
	assert_int_equal(check(f, "environments/p/runtimes/a/status",
			"ASLEEP\n", 7), -EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/type",
			"agent\n", 6), 0);
	assert_int_equal(check(f, "projects/p/integrations/i/type", "agent\n",
			6), -EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/platform",
			"Not reported\n", 13), 0);
	assert_int_equal(check(f, "environments/p/runtimes/a/runtime.json",
			"anything", 8), 0);
	assert_int_equal(check(f, "environments/p/runtimes/a/endpoints/e/"
			"version", "0\n", 2), -EINVAL);
	assert_int_equal(check(f, "environments/p/runtimes/a/endpoints/e/"
			"version", "12\n", 3), 0);
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
	struct fixture *f = *state;
	char text[64], version[1024];
	int ret;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
			snprintf(text, sizeof(text), "%s\n", times[i].time);
			ret = check(f, files[k], text, strlen(text));
			if (times[i].ret == -ERANGE ?
			    ret != -EINVAL || !strstr(fs_errmsg(),
					"is out of range: a time is from"
					" 1970-01-01T00:00:01Z to"
					" 2262-04-11T23:47:16Z") :
			    ret != times[i].ret)
				fail_msg("%s in %s: %d, '%s'", times[i].time,
						files[k], ret, fs_errmsg());
		}
		/* and a version's createdAt */
		snprintf(version, sizeof(version), "{\"agentRuntimeId\":"
			" \"12a5be26-990e-4340-9ac4-35dad14b407a\","
			" \"version\": 2, \"imageUrl\": \"r/c:1\","
			" \"flavorId\": \"g1-small\", \"command\": [],"
			" \"args\": [], \"environmentVariables\": {},"
			" \"autoscaling\": {\"minReplicas\": 1,"
			" \"maxReplicas\": 3, \"cpuUtilization\": 70,"
			" \"memoryUtilization\": 80}, \"description\": \"\","
			" \"createdAt\": \"%s\"}", times[i].time);
		ret = check(f, "environments/p/runtimes/a/versions/2", version,
				strlen(version));
		if (ret != (times[i].ret ? -EINVAL : 0))
			fail_msg("createdAt %s: %d, '%s'", times[i].time, ret,
					fs_errmsg());
	}
}

/* What the node table says of backups, the only place that says it. */
static void test_flags_from_the_table(void **state)
{
	char presence[512] = "", skip[512] = "", required[512] = "";

	(void)state;
	for (int k = 0; k < FS_KIND_COUNT; k++) {
		const struct fs_node *n = &fs_nodes[k];
		char *to = n->backup == FS_BACKUP_PRESENCE ? presence :
			n->backup == FS_BACKUP_SKIP ? skip : NULL;

		if (to)
			snprintf(to + strlen(to), 512 - strlen(to), " %s",
					n->name);
		if (n->backup_required)
			snprintf(required + strlen(required),
					512 - strlen(required), " %s", n->name);
	}
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++) {
		if (a->backup == FS_BACKUP_PRESENCE)
			snprintf(presence + strlen(presence),
					512 - strlen(presence), " %s", a->name);
		if (a->backup_required)
			snprintf(required + strlen(required),
					512 - strlen(required), " %s", a->name);
	}
	assert_string_equal(presence, " url status audit status"
			" last_heartbeat runtime.json reported.json");
	assert_string_equal(skip, " README .last_error snapshots heartbeat"
			" artifacts events");
	assert_string_equal(required, " critical type version id created"
			" updated id type registered");
}

/* The memory cap: what is staged counts as allocated, and what goes is
 * given back. */
static void test_memory_cap(void **state)
{
	struct fixture *f = *state;
	static char data[200 * 1024];
	struct stage *s;
	struct fs fs;
	char key[PATH_MAX];

	fs_for(&fs, f, f->db, key);
	assert_int_equal(stage_new(&s, &fs, (size_t)1 << 20), 0);
	assert_int_equal(stage_put(s, "environments/.a", 'f', 0644, data,
			sizeof(data), 0, NULL), 0);
	assert_int_equal(stage_put(s, "environments/.b", 'f', 0644, data,
			sizeof(data), 0, NULL), 0);
	assert_int_equal(stage_put(s, "environments/.c", 'f', 0644, data,
			sizeof(data), 0, NULL), 0);
	assert_int_equal(stage_put(s, "environments/.d", 'f', 0644, data,
			sizeof(data), 0, NULL), -ENOSPC);
	assert_non_null(strstr(fs_errmsg(), "a restore stages at most 1 MiB"));
	assert_int_equal(stage_count(s), 5);   /* .last_error, environments */
	stage_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
				test_round_trip_through_the_tree, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_any_order, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_refusals_name_the_file,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_range, setup,
				teardown),
		cmocka_unit_test(test_flags_from_the_table),
		cmocka_unit_test_setup_teardown(test_memory_cap, setup,
				teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
