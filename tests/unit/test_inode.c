/*
 * test_inode.c - the table of inodes the kernel knows (fs/inode.c):
 * lookups counted and forgotten, paths, renames, objects, the steps and
 * walks the cache uses to find what a change touched, and listings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/inode.h"

#define ROOT 1

static int setup(void **state)
{
	(void)state;
	return inode_init();
}

static int teardown(void **state)
{
	(void)state;
	inode_fini();
	return 0;
}

static const char *path(uint64_t ino)
{
	static char buf[256];

	if (inode_path(ino, buf, sizeof(buf)))
		return "(none)";
	return buf;
}

/* The entry at `p` ("/a/b"), stepping from the root as the cache does;
 * 0 if the kernel holds none. */
static uint64_t find(const char *p)
{
	char copy[256], *save = NULL;
	uint64_t ino = ROOT;

	snprintf(copy, sizeof(copy), "%s", p);
	for (char *n = strtok_r(copy, "/", &save); n && ino;
			n = strtok_r(NULL, "/", &save))
		ino = inode_child(ino, n, NULL);
	return ino;
}

static void test_lookups_and_forgets(void **state)
{
	uint64_t envs, prod, again;

	(void)state;
	assert_string_equal(path(ROOT), "/");
	envs = inode_ref(ROOT, "environments", NULL);
	prod = inode_ref(envs, "prod", NULL);
	assert_true(envs > ROOT && prod > envs);
	assert_string_equal(path(prod), "/environments/prod");
	/* the same name again: the same inode, one lookup more */
	again = inode_ref(envs, "prod", NULL);
	assert_int_equal(again, prod);
	assert_int_equal(inode_count(), 3);
	inode_forget(prod, 1);
	assert_string_equal(path(prod), "/environments/prod");
	inode_forget(prod, 1);
	assert_int_equal(inode_path(prod, (char[64]){ 0 }, 64), -ESTALE);
	/* a parent stays while a child is held, then goes with it */
	prod = inode_ref(envs, "prod", NULL);
	inode_forget(envs, 1);
	assert_string_equal(path(envs), "/environments");
	inode_forget(prod, 1);
	assert_int_equal(inode_count(), 1);
	assert_int_equal(find("/environments"), 0);
	/* a name that comes back gets a new id */
	assert_true(inode_ref(ROOT, "environments", NULL) > prod);
	/* an unknown parent */
	assert_int_equal(inode_ref(9999, "x", NULL), 0);
}

static void test_child_paths(void **state)
{
	uint64_t envs = inode_ref(ROOT, "environments", NULL);
	char buf[32];

	(void)state;
	assert_int_equal(inode_child_path(envs, "prod", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/environments/prod");
	assert_int_equal(inode_child_path(ROOT, "README", buf, sizeof(buf)),
			0);
	assert_string_equal(buf, "/README");
	assert_int_equal(inode_child_path(envs, "a-name-too-long-to-fit",
			buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(inode_child_path(4242, "x", buf, sizeof(buf)),
			-ESTALE);
	assert_int_equal(find("/environments"), envs);
	assert_int_equal(find("/"), ROOT);
}

static void test_rename(void **state)
{
	uint64_t dir = inode_ref(ROOT, "chat", NULL);
	uint64_t spec = inode_ref(dir, "spec", NULL);
	uint64_t tmp = inode_ref(dir, "sed1234", NULL);

	(void)state;
	/* sed -i: the scratch file goes over spec, which is known by id */
	assert_int_equal(inode_move(dir, "sed1234", dir, "spec", NULL), 0);
	assert_string_equal(path(tmp), "/chat/spec");
	assert_int_equal(find("/chat/spec"), tmp);
	assert_int_equal(find("/chat/sed1234"), 0);
	assert_string_equal(path(spec), "/chat/spec");
	assert_int_equal(inode_ref(dir, "spec", NULL), tmp);
	inode_forget(spec, 1);
	assert_int_equal(inode_path(spec, (char[64]){ 0 }, 64), -ESTALE);
	assert_int_equal(find("/chat/spec"), tmp);
}

struct seen {
	char text[512];
};

static void see(void *ctx, const struct inode_seen *s)
{
	struct seen *w = ctx;
	size_t n = strlen(w->text);

	snprintf(w->text + n, sizeof(w->text) - n, "%s%s", n ? " " : "",
			s->name);
}

static void test_walks(void **state)
{
	struct inode_obj rt = { 7, NULL, 42 }, obj = { 0 };
	uint64_t envs = inode_ref(ROOT, "environments", NULL);
	uint64_t prod = inode_ref(envs, "prod", NULL);
	uint64_t rts = inode_ref(prod, "runtimes", NULL);
	uint64_t chat = inode_ref(rts, "chat", &rt);
	struct seen w = { "" };

	(void)state;
	inode_ref(chat, "status", NULL);
	inode_ref(inode_ref(chat, "endpoints", NULL), "DEFAULT", NULL);
	/* a step gives what the entry names */
	assert_int_equal(inode_child(rts, "chat", &obj), chat);
	assert_int_equal(obj.kind, 7);
	assert_int_equal(obj.id, 42);
	assert_int_equal(inode_child(rts, "mail", &obj), 0);
	assert_int_equal(inode_child(4242, "chat", &obj), 0);
	/* parents before children; a depth stops the walk */
	assert_int_equal(inode_walk_under(chat, 0, see, &w), 0);
	assert_string_equal(w.text, "chat endpoints DEFAULT status");
	w.text[0] = '\0';
	assert_int_equal(inode_walk_under(chat, 1, see, &w), 0);
	assert_string_equal(w.text, "chat endpoints status");
	w.text[0] = '\0';
	assert_int_equal(inode_walk_under(4242, 0, see, &w), 0);
	assert_string_equal(w.text, "");
	assert_int_equal(inode_walk_all(see, &w), 0);
	assert_int_equal(strncmp(w.text, "environments prod", 17), 0);
	/* a name known by its id only is no longer a step */
	inode_unlinked(rts, "chat");
	assert_int_equal(inode_child(rts, "chat", NULL), 0);
}

/* A listing given and settled: its open asked again. */
static void given(uint64_t ino, uint64_t start, int64_t ns)
{
	inode_listing_given(ino, start, ns);
	inode_listing_settled(ino);
}

/* A listing is kept while no change of its names came after it was
 * given, whatever the order of the reading and the change. */
static void test_listings(void **state)
{
	uint64_t envs = inode_ref(ROOT, "environments", NULL);
	uint64_t projs = inode_ref(ROOT, "projects", NULL);
	uint64_t start;
	int64_t ns = 0;

	(void)state;
	/* never given */
	assert_false(inode_listing_kept(envs, &ns));
	start = inode_listing_start();
	given(envs, start, 1000);
	given(projs, start, 2000);
	assert_true(inode_listing_kept(envs, &ns));
	assert_int_equal(ns, 1000);
	/* a change of one directory leaves the other's listing */
	inode_listing_changed(envs);
	assert_false(inode_listing_kept(envs, &ns));
	assert_true(inode_listing_kept(projs, &ns));
	assert_int_equal(ns, 2000);
	/* a change that came while the listing was read: not kept */
	start = inode_listing_start();
	inode_listing_changed(envs);
	given(envs, start, 3000);
	assert_false(inode_listing_kept(envs, &ns));
	/* one read after it is, once the open that dropped the kernel's
	 * listing says so */
	given(envs, inode_listing_start(), 4000);
	assert_false(inode_listing_kept(envs, &ns));
	assert_int_equal(inode_listing_reset(envs), 0);
	given(envs, inode_listing_start(), 4000);
	assert_true(inode_listing_kept(envs, &ns));
	/* read again on the same open after a change: the kernel keeps the
	 * first listing it was given, which the change made stale */
	inode_listing_changed(envs);
	given(envs, inode_listing_start(), 5000);
	assert_false(inode_listing_kept(envs, &ns));
	/* a listing read before a change and not yet filed by the kernel:
	 * an open that drops the cache says it may be filed yet, and
	 * whatever is given after, the cache is not kept until it settled
	 * and a reset forgot it */
	start = inode_listing_start();
	inode_listing_given(projs, start, 6000);
	inode_listing_changed(projs);
	assert_int_equal(inode_listing_reset(projs), 1);
	given(projs, inode_listing_start(), 7000);
	assert_false(inode_listing_kept(projs, &ns));
	inode_listing_settled(projs);
	assert_false(inode_listing_kept(projs, &ns));
	assert_int_equal(inode_listing_reset(projs), 0);
	given(projs, inode_listing_start(), 8000);
	assert_true(inode_listing_kept(projs, &ns));
	assert_int_equal(ns, 8000);
	/* everything */
	inode_listings_changed();
	assert_false(inode_listing_kept(envs, &ns));
	assert_false(inode_listing_kept(projs, &ns));
	assert_false(inode_listing_kept(4242, &ns));
}

/* Many entries: the tables grow and every one is still found. */
static void test_many(void **state)
{
	uint64_t dir = inode_ref(ROOT, "runtimes", NULL), first = 0;
	char name[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		uint64_t ino = inode_ref(dir, name, NULL);

		if (!first)
			first = ino;
		assert_int_equal(ino, first + (uint64_t)i);
	}
	assert_int_equal(inode_count(), 5002);
	assert_int_equal(find("/runtimes/r4999"), first + 4999);
	assert_string_equal(path(first + 1234), "/runtimes/r1234");
	for (int i = 0; i < 5000; i++)
		inode_forget(first + (uint64_t)i, 1);
	assert_int_equal(inode_count(), 2);
}

struct tally {
	int n;
	uint64_t r1, r3;           /* the parents to look for */
	int in_r1, in_r3;
};

static void count(void *ctx, const struct inode_seen *s)
{
	struct tally *t = ctx;

	if (strcmp(s->name, "status"))
		return;
	t->n++;
	t->in_r1 += s->parent == t->r1;
	t->in_r3 += s->parent == t->r3;
}

/* One name under many parents (every runtime has a `status`): each
 * leaves its chain whatever its place in it, and the others stay found. */
static void test_same_name_everywhere(void **state)
{
	uint64_t dirs[3000], files[3000];
	char name[32];
	struct tally t = { 0 };

	(void)state;
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		dirs[i] = inode_ref(ROOT, name, NULL);
		files[i] = inode_ref(dirs[i], "status", NULL);
	}
	/* forget every other one, from both ends of the chain */
	for (int i = 0; i < 1500; i += 2) {
		inode_forget(files[i], 1);
		inode_forget(files[2999 - i], 1);
	}
	assert_int_equal(find("/r0/status"), 0);
	assert_int_equal(find("/r1/status"), files[1]);
	assert_int_equal(find("/r2998/status"), files[2998]);
	assert_int_equal(find("/r2999/status"), 0);
	assert_int_equal(inode_count(), 1 + 3000 + 1500);
	inode_forget(files[1], 1);
	t.r1 = dirs[1];
	t.r3 = dirs[3];
	assert_int_equal(inode_walk_all(count, &t), 0);
	assert_int_equal(t.n, 1499);
	assert_int_equal(t.in_r1, 0);
	assert_int_equal(t.in_r3, 1);
}

/* An inode is the object it names: the way to it gives each step's
 * kind, attribute and row id, and a name that now names another object
 * (made again since) gets a new inode, the old one known by its id. */
static void test_objects(void **state)
{
	static const int attr;
	struct inode_obj env = { 4, NULL, 0 }, rt1 = { 7, NULL, 11 },
		rt2 = { 7, NULL, 12 }, status = { 8, &attr, 0 };
	struct inode_link way[INODE_DEPTH_MAX];
	uint64_t envs, prod, chat, st, chat2;

	(void)state;
	envs = inode_ref(ROOT, "environments", NULL);
	prod = inode_ref(envs, "prod", &env);
	chat = inode_ref(prod, "chat", &rt1);
	st = inode_ref(chat, "status", &status);
	assert_int_equal(inode_chain(st, way, INODE_DEPTH_MAX), 4);
	assert_string_equal(way[0].name, "environments");
	assert_int_equal(way[1].obj.kind, 4);
	assert_string_equal(way[2].name, "chat");
	assert_int_equal(way[2].obj.id, 11);
	assert_ptr_equal(way[3].obj.attr, &attr);
	assert_int_equal(inode_chain(ROOT, way, INODE_DEPTH_MAX), 0);
	assert_int_equal(inode_chain(st, way, 3), -ENAMETOOLONG);
	assert_int_equal(inode_chain(4242, way, INODE_DEPTH_MAX), -ESTALE);
	/* the same object again: the same inode */
	assert_int_equal(inode_ref(prod, "chat", &rt1), chat);
	/* made again under that name: a new inode; the old one answers by
	 * its id, with the way it had */
	chat2 = inode_ref(prod, "chat", &rt2);
	assert_true(chat2 != chat);
	assert_int_equal(find("/environments/prod/chat"), chat2);
	assert_int_equal(inode_chain(st, way, INODE_DEPTH_MAX), 4);
	assert_int_equal(way[2].obj.id, 11);
	inode_forget(chat, 2);
	inode_forget(st, 1);
	assert_int_equal(inode_chain(chat, way, INODE_DEPTH_MAX), -ESTALE);
	assert_int_equal(inode_chain(chat2, way, INODE_DEPTH_MAX), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookups_and_forgets,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_paths, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listings, setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_name_everywhere,
				setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
