/*
 * test_tree.c - the node table (fs/tree.c, and the runtime attributes of
 * fs/org.c): its shape, and that what it says each file of a runtime
 * shows (depends) and each directory lists (lists) covers what a change
 * of the model changes.  Every change below is made on a real model; the
 * bytes, times and listings of every file and directory of the runtime
 * are taken before and after, and each one that moved must declare a
 * facet of the change the model told its watcher about.  A facet left out
 * of the table is a stale file in the kernel's cache (fs/cache.c); here
 * it fails by the file's name.
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
#include "../../fs/tree.h"

#include "fixture.h"
#include "backup.h"

/* -- the table's shape ------------------------------------------------- */

static void test_shape(void **state)
{
	(void)state;
	for (int k = 0; k < FS_KIND_COUNT; k++) {
		const struct fs_node *n = &fs_nodes[k];
		int steps = 0, named = 0;

		assert_int_equal(n->kind, k);
		/* every kind reaches the root */
		for (int p = k; p != FS_ROOT; p = fs_nodes[p].parent) {
			assert_true(p >= 0 && p < FS_KIND_COUNT);
			assert_true(++steps < FS_KIND_COUNT);
		}
		if (!S_ISDIR(n->mode)) {
			assert_int_equal(n->lists, 0);
			continue;
		}
		/* its children: distinct fixed names, one named kind at most */
		for (int c = 0; c < FS_KIND_COUNT; c++) {
			if ((int)fs_nodes[c].parent != k || c == FS_ROOT)
				continue;
			if (!fs_nodes[c].name) {
				named++;
				continue;
			}
			for (int d = c + 1; d < FS_KIND_COUNT; d++)
				if ((int)fs_nodes[d].parent == k && fs_nodes[d].name)
					assert_string_not_equal(
						fs_nodes[c].name,
						fs_nodes[d].name);
		}
		assert_true(named <= 1);
	}
	/* a runtime's attributes: distinct, and none a fixed child's name */
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++) {
		for (const struct fs_attr *b = a + 1; b->name; b++)
			assert_string_not_equal(a->name, b->name);
		for (int c = 0; c < FS_KIND_COUNT; c++)
			if (fs_nodes[c].parent == FS_RUNTIME &&
			    fs_nodes[c].name)
				assert_string_not_equal(a->name,
						fs_nodes[c].name);
	}
}

/* -- what each file shows ---------------------------------------------- */

#define ENTRIES_MAX 128

/* One entry of a runtime's subtree as the tree shows it. */
struct seen {
	char path[PATH_MAX];
	unsigned depends, lists;
	char *bytes;               /* a file's bytes; a directory's names */
	size_t len;
	int64_t mtime_ns, ctime_ns;
};

struct picture {
	struct seen e[ENTRIES_MAX];
	int n;
};

static int gather(void *ctx, const char *name)
{
	return buf_add(ctx, name, strlen(name) + 1);
}

static void take(struct picture *pic, struct model *m, const char *path)
{
	struct seen *s = &pic->e[pic->n++];
	struct fs_value v;
	struct fs_path p;
	struct buf names;

	assert_true(pic->n <= ENTRIES_MAX);
	assert_int_equal(fs_resolve(m, path, &p), 0);
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->depends = p.attr ? p.attr->depends : p.node->depends;
	s->lists = p.node->lists;
	assert_int_equal(fs_show(&p, &v, 1 << 20), 0);
	s->mtime_ns = v.mtime_ns;
	s->ctime_ns = v.ctime_ns ? v.ctime_ns : v.mtime_ns;
	if (S_ISDIR(fs_mode(&p))) {
		buf_release(&v.buf);
		buf_init(&names, 1 << 20);
		assert_int_equal(fs_list(&p, gather, &names), 0);
		s->bytes = malloc(names.len + 1);
		memcpy(s->bytes, names.data ? names.data : "", names.len);
		s->len = names.len;
		for (size_t off = 0; off < names.len;
				off += strlen(names.data + off) + 1) {
			char child[PATH_MAX];

			snprintf(child, sizeof(child), "%s/%s", path,
					names.data + off);
			take(pic, m, child);
		}
		buf_release(&names);
		return;
	}
	s->bytes = malloc(v.buf.len + 1);
	memcpy(s->bytes, v.buf.data ? v.buf.data : "", v.buf.len);
	s->len = v.buf.len;
	buf_release(&v.buf);
}

static void picture_of(struct picture *pic, struct model *m,
		const char *runtime)
{
	pic->n = 0;
	take(pic, m, runtime);
}

static void picture_free(struct picture *pic)
{
	for (int i = 0; i < pic->n; i++)
		free(pic->e[i].bytes);
	pic->n = 0;
}

/* The facets of a runtime's changes the watcher heard. */
static void heard_what(void *ctx, const struct model_event *ev)
{
	if (ev->kind == MODEL_EV_RUNTIME)
		*(unsigned *)ctx |= ev->what;
	else if (ev->kind == MODEL_EV_ALL)
		*(unsigned *)ctx |= ~0u;
}

/* Every entry of `before` still there `after` whose bytes, times or
 * names moved declares a facet of `what`. */
static void covered(const char *change, const struct picture *before,
		const struct picture *after, unsigned what)
{
	for (int i = 0; i < before->n; i++) {
		const struct seen *b = &before->e[i], *a = NULL;
		int bytes, times;

		for (int j = 0; j < after->n && !a; j++)
			if (!strcmp(after->e[j].path, b->path))
				a = &after->e[j];
		if (!a)
			continue;
		bytes = a->len != b->len || memcmp(a->bytes, b->bytes, a->len);
		times = a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns;
		if (bytes && b->lists == 0 && b->depends == 0)
			fail_msg("%s: %s changed but shows nothing of a"
					" change", change, b->path);
		if ((bytes || times) && !((b->depends | b->lists) & what))
			fail_msg("%s: %s changed (%s) but declares %#x, the"
					" change was %#x", change, b->path,
					bytes ? "bytes or names" : "times",
					b->depends | b->lists, what);
	}
}

/* The pictures of a change, off the stack (they are large). */
static struct picture before, after;

/* One change of the model: what it moved must be covered. */
#define CHANGE(f, rt, call) do { \
	unsigned what = 0; \
	picture_of(&before, (f)->m, rt); \
	model_watch((f)->m, heard_what, &what); \
	assert_int_equal((call), 0); \
	model_watch((f)->m, NULL, NULL); \
	picture_of(&after, (f)->m, rt); \
	covered(#call, &before, &after, what); \
	picture_free(&before); \
	picture_free(&after); \
} while (0)

static int heartbeat_of(struct fixture *f, const char *json)
{
	struct model_heartbeat_reply r;

	f->now += SEC;
	return model_heartbeat(f->m, json, strlen(json), &r);
}

static void test_depends_cover_changes(void **state)
{
	struct fixture *f = *state;
	struct model_service_account sa;
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX], json[512];
	char spec[512];
	const char *chat = "/environments/prod/runtimes/chat";
	const char *mi = "/environments/prod/runtimes/orders-1";

	make_source(f, cred, spare);
	assert_int_equal(model_project_create(f->m, "lab"), 0);
	assert_int_equal(model_integration_create(f->m, "lab", "bot"), 0);
	snprintf(spec, sizeof(spec), SPEC_FMT, 7);
	f->now += SEC;
	CHANGE(f, chat, model_deploy(f->m, "prod", "chat", spec,
			strlen(spec), NULL));
	CHANGE(f, chat, model_endpoint_pin(f->m, "prod", "chat", "canary",
			"3"));
	CHANGE(f, chat, model_endpoint_pin(f->m, "prod", "chat", "DEFAULT",
			"1"));
	CHANGE(f, chat, model_endpoint_create(f->m, "prod", "chat", "blue"));
	CHANGE(f, chat, model_endpoint_delete(f->m, "prod", "chat", "blue"));
	CHANGE(f, chat, model_runtime_ctl(f->m, "prod", "chat", "stop"));
	CHANGE(f, chat, model_runtime_ctl(f->m, "prod", "chat", "start"));
	CHANGE(f, chat, model_runtime_ctl(f->m, "prod", "chat",
			"reset-service-account"));
	CHANGE(f, chat, model_runtime_assign(f->m, "prod", "chat", "lab",
			"bot"));
	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	snprintf(json, sizeof(json), "{\"serviceAccount\": \"%s\","
			" \"runtime\": \"chat\", \"environment\": \"prod\"}",
			sa.credential);
	/* the first heartbeat runs it; the next only moves time */
	CHANGE(f, chat, heartbeat_of(f, json));
	CHANGE(f, chat, heartbeat_of(f, json));
	CHANGE(f, chat, model_endpoint_pin(f->m, "prod", "chat", "canary",
			"4"));
	CHANGE(f, chat, model_version_delete(f->m, "prod", "chat", 3));
	/* an MI runtime: what it reports, where it belongs, its secret */
	hb_json(json, sizeof(json), cred);
	CHANGE(f, mi, heartbeat_of(f, json));
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
			" \"orders-1\", \"runtimeType\": \"MI\", \"environment\":"
			" \"prod\", \"project\": \"shop\", \"component\":"
			" \"orders\", \"version\": \"4.5.0\", \"nodeInfo\":"
			" {\"platformName\": \"MI\", \"platformVersion\":"
			" \"4.5.0\", \"osName\": \"Linux\"}}", cred);
	CHANGE(f, mi, heartbeat_of(f, json));
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
			" \"orders-1\", \"runtimeType\": \"MI\", \"environment\":"
			" \"prod\", \"project\": \"shop\", \"component\":"
			" \"billing\"}", cred);
	CHANGE(f, mi, heartbeat_of(f, json));
	/* its artifacts: reported, some gone, one changed */
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
			" \"orders-1\", \"runtimeType\": \"MI\", \"environment\":"
			" \"prod\", \"project\": \"shop\", \"component\":"
			" \"billing\", \"artifacts\": {\"apis\": [{\"name\":"
			" \"Pay\"}, {\"name\": \"Re fund\"}], \"tasks\":"
			" [{\"name\": \"t\"}]}}", cred);
	CHANGE(f, mi, heartbeat_of(f, json));
	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
			" \"orders-1\", \"runtimeType\": \"MI\", \"environment\":"
			" \"prod\", \"project\": \"shop\", \"component\":"
			" \"billing\", \"artifacts\": {\"apis\": [{\"name\":"
			" \"Pay\", \"state\": \"disabled\"}]}}", cred);
	CHANGE(f, mi, heartbeat_of(f, json));
	CHANGE(f, mi, model_runtime_secret_revoke(f->m, "prod", "orders-1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test_setup_teardown(test_depends_cover_changes,
				setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
