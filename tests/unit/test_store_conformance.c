/*
 * test_store_conformance.c - the contract of store.h, for every backend:
 * each function does what the header says, seen through store.h alone
 * (no SQL, no model).  Missing rows are -ENOENT, unique keys -EEXIST,
 * deleting a runtime takes what hangs on it, lists come in their order
 * and through their filters, transactions roll back, heartbeats never
 * move back, a busy database is -EAGAIN, and a claim is exclusive.
 *
 * The suite is the same for every backend; only how to make a fresh,
 * empty store differs.  Without RUNTIMEFS_TEST_LOCATOR in the
 * environment it runs on the embedded backend, a file in the test's
 * directory; with it, on the database that connection string names
 * (tests/pg.sh starts a private PostgreSQL and gives one), each test in
 * a schema of its own, as git runs its test suite once per ref backend.
 * `make test` runs it both ways.
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
#include <time.h>
#include <unistd.h>

#include "../../store/store.h"

/* How to make a store for one test. */
struct conformance_backend {
	const char *name;
	/* Writes to `locator` one that store_open() takes for a new, empty
	 * store of this backend; `dir` is an empty directory of the test's,
	 * removed when the test ends.  0 or -errno. */
	int (*fresh)(const char *dir, char *locator, size_t size);
	/* Gives up what fresh() made beyond `dir` (NULL: nothing). */
	void (*drop)(const char *locator);
	/* Several daemons (hosts) may serve one store, and a watching
	 * handle's commits reach the others as what it announced. */
	int several;
};

/* The embedded backend: a path in the test's directory. */
static int sqlite_fresh(const char *dir, char *locator, size_t size)
{
	return (size_t)snprintf(locator, size, "%s/conformance.db", dir) <
		size ? 0 : -ENAMETOOLONG;
}

/* A PostgreSQL database (RUNTIMEFS_TEST_LOCATOR, a key=value string or a
 * URI): a new schema for each test, named by the process and a count,
 * as the connection's search_path. */
static int pg_fresh(const char *dir, char *locator, size_t size)
{
	const char *base = getenv("RUNTIMEFS_TEST_LOCATOR");
	static int count;
	int n, uri = strstr(base, "://") != NULL;

	(void)dir;
	count++;
	n = uri ? snprintf(locator, size, "%s%soptions=-csearch_path%%3Dc%d_%d",
			base, strchr(base, '?') ? "&" : "?", (int)getpid(),
			count) :
		snprintf(locator, size, "%s options='-csearch_path=c%d_%d'",
				base, (int)getpid(), count);
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

static const struct conformance_backend sqlite_backend = {
	"sqlite", sqlite_fresh, NULL, 0,
};

static const struct conformance_backend pg_backend = {
	"postgresql", pg_fresh, NULL, 1,
};

static struct conformance_backend B;

/* -- the fixture ------------------------------------------------------- */

struct cf {
	char dir[64];
	char loc[512];
	struct store *s;
};

#define OK(call) do { \
		int ok_ = (call); \
		if (ok_) \
			fail_msg("%s: %d (%s)", #call, ok_, store_errmsg()); \
	} while (0)

static int setup(void **state)
{
	struct cf *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/rtfs-conf-XXXXXX");
	if (!mkdtemp(c->dir) || B.fresh(c->dir, c->loc, sizeof(c->loc)) ||
	    store_open(&c->s, c->loc))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cf *c = *state;
	char cmd[128];

	store_close(c->s);
	if (B.drop)
		B.drop(c->loc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	if (system(cmd) != 0)
		return -1;
	free(c);
	return 0;
}

/* A second handle on the fixture's store, as another process has. */
static struct store *second(struct cf *c)
{
	struct store *s = NULL;

	OK(store_open(&s, c->loc));
	return s;
}

/* -- rows a test needs --------------------------------------------------- */

static int64_t env(struct store *s, const char *name)
{
	struct store_env e;

	OK(store_env_insert(s, name, 10));
	OK(store_env_get(s, name, &e));
	return e.id;
}

static int64_t project(struct store *s, const char *name)
{
	struct store_project p;

	OK(store_project_insert(s, name, 10));
	OK(store_project_get(s, name, &p));
	return p.id;
}

static int64_t integration(struct store *s, int64_t project_id,
		const char *name)
{
	struct store_integration in;

	OK(store_integration_insert(s, project_id, name, "default", 10));
	OK(store_integration_get(s, project_id, name, &in));
	return in.id;
}

/* Runtime NAME of env_id (in integration_id, 0: none), UUID ending in
 * `tag`. */
static int64_t runtime(struct store *s, int64_t env_id, const char *name,
		int64_t integration_id, int tag)
{
	struct store_runtime rt;

	memset(&rt, 0, sizeof(rt));
	snprintf(rt.uuid, sizeof(rt.uuid),
			"00000000-0000-4000-8000-%012d", tag);
	rt.env_id = env_id;
	snprintf(rt.name, sizeof(rt.name), "%s", name);
	strcpy(rt.type, "agent");
	rt.integration_id = integration_id;
	strcpy(rt.desired, "run");
	rt.registered_ns = 20;
	OK(store_runtime_insert(s, &rt));
	assert_true(rt.id > 0);
	return rt.id;
}

static struct store_runtime get_runtime(struct store *s, int64_t env_id,
		const char *name)
{
	struct store_runtime rt;

	OK(store_runtime_get(s, env_id, name, &rt));
	return rt;
}

/* Runtime `name` of env_id heartbeats with `key_id` from now on. */
static void use_key(struct store *s, int64_t env_id, const char *name,
		const char *key_id)
{
	struct store_runtime rt = get_runtime(s, env_id, name);

	snprintf(rt.key_id, sizeof(rt.key_id), "%s", key_id);
	OK(store_runtime_report(s, &rt));
}

/* A secret of env_id (scoped to integration_id when not 0). */
static int64_t secret(struct store *s, int64_t env_id, int64_t integration_id,
		const char *key_id, const char *name)
{
	struct store_secret sec;

	memset(&sec, 0, sizeof(sec));
	snprintf(sec.key_id, sizeof(sec.key_id), "%s", key_id);
	sec.env_id = env_id;
	sec.integration_id = integration_id;
	snprintf(sec.name, sizeof(sec.name), "%s", name);
	memcpy(sec.sealed, "sealed:", 7);
	memcpy(sec.sealed + 7, key_id, strlen(key_id));
	sec.sealed_len = 7 + strlen(key_id);
	sec.created_ns = 30;
	OK(store_secret_insert(s, &sec));
	assert_true(sec.id > 0);
	return sec.id;
}

/* Names a list gave, space-separated. */
struct names {
	char s[512];
};

static void names_add(struct names *n, const char *name)
{
	snprintf(n->s + strlen(n->s), sizeof(n->s) - strlen(n->s), "%s ",
			name);
}

static int env_name(void *ctx, const struct store_env *e)
{
	names_add(ctx, e->name);
	return 0;
}

static int project_name(void *ctx, const struct store_project *p)
{
	names_add(ctx, p->name);
	return 0;
}

static int integration_name(void *ctx, const struct store_integration *in)
{
	names_add(ctx, in->name);
	return 0;
}

static int runtime_name(void *ctx, const struct store_runtime *rt)
{
	char both[2 * STORE_NAME_MAX];

	snprintf(both, sizeof(both), "%s/%s", rt->env, rt->name);
	names_add(ctx, both);
	return 0;
}

static int secret_name(void *ctx, const struct store_secret *sec)
{
	names_add(ctx, sec->name);
	return 0;
}

static int version_number(void *ctx, const struct store_version *v)
{
	char n[24];

	assert_null(v->spec);
	assert_null(v->password);
	snprintf(n, sizeof(n), "%lld", (long long)v->number);
	names_add(ctx, n);
	return 0;
}

static int endpoint_name(void *ctx, const struct store_endpoint *e)
{
	names_add(ctx, e->name);
	return 0;
}

/* A list callback that stops the walk at the first row. */
static int stop_env(void *ctx, const struct store_env *e)
{
	(void)e;
	(*(int *)ctx)++;
	return -ECANCELED;
}

static int snapshot_name(void *ctx, const char *name, int64_t taken_ns)
{
	char both[STORE_NAME_MAX + 24];

	snprintf(both, sizeof(both), "%s@%lld", name, (long long)taken_ns);
	names_add(ctx, both);
	return 0;
}

static int64_t real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* -- the tests ----------------------------------------------------------- */

/* A new store is at a schema version; what is committed is there when
 * the store is opened again. */
static void test_open_and_reopen(void **state)
{
	struct cf *c = *state;
	struct store_env e;

	assert_true(store_schema_version(c->s) >= 1);
	env(c->s, "prod");
	store_close(c->s);
	c->s = NULL;
	OK(store_open(&c->s, c->loc));
	OK(store_env_get(c->s, "prod", &e));
	assert_int_equal(e.created_ns, 10);
}

/* Environments: unique by name, critical and its mtime, the count of what
 * lives in one, lists by name, a callback that stops a walk. */
static void test_environments(void **state)
{
	struct cf *c = *state;
	struct store_env e;
	struct names n = { "" };
	int64_t id, count = -1;
	int calls = 0;

	OK(store_env_insert(c->s, "prod", 42));
	assert_int_equal(store_env_insert(c->s, "prod", 43), -EEXIST);
	assert_non_null(strstr(store_errmsg(), "already exists"));
	OK(store_env_get(c->s, "prod", &e));
	assert_string_equal(e.name, "prod");
	assert_int_equal(e.critical, 0);
	assert_int_equal(e.created_ns, 42);
	assert_int_equal(e.mtime_ns, 42);
	id = e.id;
	OK(store_env_set_critical(c->s, id, 1, 50));
	OK(store_env_get(c->s, "prod", &e));
	assert_int_equal(e.critical, 1);
	assert_int_equal(e.created_ns, 42);
	assert_int_equal(e.mtime_ns, 50);
	assert_int_equal(store_env_get(c->s, "dev", &e), -ENOENT);
	assert_non_null(strstr(store_errmsg(), "dev"));
	assert_int_equal(store_env_set_critical(c->s, id + 100, 1, 1),
			-ENOENT);
	env(c->s, "dev");
	env(c->s, "acc");
	OK(store_env_list(c->s, env_name, &n));
	assert_string_equal(n.s, "acc dev prod ");
	assert_int_equal(store_env_list(c->s, stop_env, &calls), -ECANCELED);
	assert_int_equal(calls, 1);
	OK(store_env_children(c->s, id, &count));
	assert_int_equal(count, 0);
	runtime(c->s, id, "chat", 0, 1);
	secret(c->s, id, 0, "0000000a", "s1");
	OK(store_env_children(c->s, id, &count));
	assert_int_equal(count, 2);
	/* a runtime still lives in it */
	assert_int_equal(store_env_delete(c->s, id), -ENOTEMPTY);
	OK(store_env_get(c->s, "dev", &e));
	OK(store_env_delete(c->s, e.id));
	assert_int_equal(store_env_delete(c->s, e.id), -ENOENT);
	assert_int_equal(store_env_get(c->s, "dev", &e), -ENOENT);
}

/* Projects and their integrations: unique names (an integration's within
 * its project), type and its mtime, children, lists by name, deletes
 * refused while referred to. */
static void test_projects_and_integrations(void **state)
{
	struct cf *c = *state;
	struct store_project p;
	struct store_integration in;
	struct names n = { "" };
	int64_t shop, web, orders, count = -1;

	shop = project(c->s, "shop");
	web = project(c->s, "web");
	assert_int_equal(store_project_insert(c->s, "shop", 1), -EEXIST);
	OK(store_project_get(c->s, "shop", &p));
	assert_int_equal(p.created_ns, 10);
	assert_int_equal(store_project_get(c->s, "nope", &p), -ENOENT);
	OK(store_project_list(c->s, project_name, &n));
	assert_string_equal(n.s, "shop web ");

	OK(store_integration_insert(c->s, shop, "orders", "MI", 11));
	assert_int_equal(store_integration_insert(c->s, shop, "orders",
			"default", 12), -EEXIST);
	OK(store_integration_insert(c->s, web, "orders", "default", 12));
	OK(store_integration_insert(c->s, shop, "billing", "default", 13));
	OK(store_integration_get(c->s, shop, "orders", &in));
	assert_string_equal(in.name, "orders");
	assert_string_equal(in.project, "shop");
	assert_int_equal(in.project_id, shop);
	assert_string_equal(in.type, "MI");
	assert_int_equal(in.created_ns, 11);
	assert_int_equal(in.mtime_ns, 11);
	orders = in.id;
	OK(store_integration_set_type(c->s, orders, "default", 20));
	OK(store_integration_get(c->s, shop, "orders", &in));
	assert_string_equal(in.type, "default");
	assert_int_equal(in.mtime_ns, 20);
	assert_int_equal(in.created_ns, 11);
	assert_int_equal(store_integration_set_type(c->s, orders + 100,
			"MI", 1), -ENOENT);
	assert_int_equal(store_integration_get(c->s, web, "billing", &in),
			-ENOENT);
	n.s[0] = '\0';
	OK(store_integration_list(c->s, shop, integration_name, &n));
	assert_string_equal(n.s, "billing orders ");

	OK(store_project_children(c->s, shop, &count));
	assert_int_equal(count, 2);
	assert_int_equal(store_project_delete(c->s, shop), -ENOTEMPTY);
	/* an integration's children: its runtimes and unbound secrets */
	runtime(c->s, env(c->s, "prod"), "chat", orders, 1);
	OK(store_integration_children(c->s, orders, &count));
	assert_int_equal(count, 1);
	assert_int_equal(store_integration_delete(c->s, orders), -ENOTEMPTY);
	OK(store_integration_get(c->s, shop, "billing", &in));
	OK(store_integration_delete(c->s, in.id));
	assert_int_equal(store_integration_delete(c->s, in.id), -ENOENT);
	OK(store_project_children(c->s, shop, &count));
	assert_int_equal(count, 1);
	OK(store_integration_get(c->s, web, "orders", &in));
	OK(store_integration_delete(c->s, in.id));
	OK(store_project_delete(c->s, web));
	assert_int_equal(store_project_delete(c->s, web), -ENOENT);
}

/* Runtimes: every stored field comes back as written, with the joined
 * names; unique by environment and name and by UUID; each setter changes
 * its fields only. */
static void test_runtimes(void **state)
{
	struct cf *c = *state;
	struct store_runtime rt, got;
	int64_t prod = env(c->s, "prod"), dev = env(c->s, "dev");
	int64_t shop = project(c->s, "shop");
	int64_t orders = integration(c->s, shop, "orders");

	memset(&rt, 0, sizeof(rt));
	strcpy(rt.uuid, "00000000-0000-4000-8000-000000000001");
	rt.env_id = prod;
	strcpy(rt.name, "orders-1");
	strcpy(rt.type, "MI");
	rt.integration_id = orders;
	strcpy(rt.desired, "run");
	rt.desired_ns = 3;
	strcpy(rt.runtime_version, "4.4.0");
	strcpy(rt.platform, "WSO2 Micro Integrator 4.4.0");
	strcpy(rt.os, "Linux 6.1.0");
	rt.registered_ns = 7;
	rt.heartbeat_ns = 8;
	rt.running_ns = 9;
	rt.info_ns = 10;
	rt.assigned_ns = 11;
	OK(store_runtime_insert(c->s, &rt));
	assert_true(rt.id > 0);
	assert_int_equal(store_runtime_insert(c->s, &rt), -EEXIST);
	/* the same name in another environment is another runtime; the same
	 * UUID is not */
	rt.env_id = dev;
	assert_int_equal(store_runtime_insert(c->s, &rt), -EEXIST);
	strcpy(rt.uuid, "00000000-0000-4000-8000-000000000002");
	OK(store_runtime_insert(c->s, &rt));

	OK(store_runtime_get(c->s, prod, "orders-1", &got));
	assert_string_equal(got.uuid, "00000000-0000-4000-8000-000000000001");
	assert_int_equal(got.env_id, prod);
	assert_string_equal(got.env, "prod");
	assert_string_equal(got.name, "orders-1");
	assert_string_equal(got.type, "MI");
	assert_int_equal(got.integration_id, orders);
	assert_string_equal(got.project, "shop");
	assert_string_equal(got.integration, "orders");
	assert_string_equal(got.desired, "run");
	assert_int_equal(got.desired_ns, 3);
	assert_string_equal(got.runtime_version, "4.4.0");
	assert_string_equal(got.platform, "WSO2 Micro Integrator 4.4.0");
	assert_string_equal(got.os, "Linux 6.1.0");
	assert_int_equal(got.registered_ns, 7);
	assert_int_equal(got.heartbeat_ns, 8);
	assert_int_equal(got.running_ns, 9);
	assert_int_equal(got.info_ns, 10);
	assert_int_equal(got.assigned_ns, 11);
	assert_int_equal(got.latest_version, 0);
	assert_int_equal(got.revoked_ns, 0);
	assert_string_equal(got.secret, "");
	assert_int_equal(got.deployed_ns, 0);
	assert_int_equal(store_runtime_get(c->s, prod, "nope", &got),
			-ENOENT);

	OK(store_runtime_set_integration(c->s, got.id, 0, 12));
	got = get_runtime(c->s, prod, "orders-1");
	assert_int_equal(got.integration_id, 0);
	assert_string_equal(got.project, "");
	assert_string_equal(got.integration, "");
	assert_int_equal(got.assigned_ns, 12);

	OK(store_runtime_set_desired(c->s, got.id, "stop", 0, 13));
	got = get_runtime(c->s, prod, "orders-1");
	assert_string_equal(got.desired, "stop");
	assert_int_equal(got.desired_ns, 13);
	assert_int_equal(got.running_ns, 9);
	OK(store_runtime_set_desired(c->s, got.id, "run", 1, 14));
	got = get_runtime(c->s, prod, "orders-1");
	assert_string_equal(got.desired, "run");
	assert_int_equal(got.desired_ns, 14);
	assert_int_equal(got.running_ns, 0);

	OK(store_runtime_set_revoked(c->s, got.id, 15));
	assert_int_equal(get_runtime(c->s, prod, "orders-1").revoked_ns, 15);
	OK(store_runtime_set_revoked(c->s, got.id, 0));
	assert_int_equal(get_runtime(c->s, prod, "orders-1").revoked_ns, 0);

	/* a report writes what a heartbeat reports, nothing else */
	got.integration_id = orders;
	got.assigned_ns = 16;
	strcpy(got.runtime_version, "4.5.0");
	strcpy(got.platform, "p");
	strcpy(got.os, "o");
	got.info_ns = 17;
	got.heartbeat_ns = 18;
	got.running_ns = 19;
	got.revoked_ns = 21;
	strcpy(got.desired, "stop");
	got.registered_ns = 99;
	OK(store_runtime_report(c->s, &got));
	got = get_runtime(c->s, prod, "orders-1");
	assert_int_equal(got.integration_id, orders);
	assert_string_equal(got.integration, "orders");
	assert_int_equal(got.assigned_ns, 16);
	assert_string_equal(got.runtime_version, "4.5.0");
	assert_string_equal(got.platform, "p");
	assert_string_equal(got.os, "o");
	assert_int_equal(got.info_ns, 17);
	assert_int_equal(got.heartbeat_ns, 18);
	assert_int_equal(got.running_ns, 19);
	assert_int_equal(got.revoked_ns, 21);
	assert_string_equal(got.desired, "run");
	assert_int_equal(got.registered_ns, 7);

	OK(store_runtime_set_latest(c->s, got.id, 3));
	assert_int_equal(get_runtime(c->s, prod, "orders-1").latest_version,
			3);

	OK(store_runtime_delete(c->s, got.id));
	assert_int_equal(store_runtime_delete(c->s, got.id), -ENOENT);
	assert_int_equal(store_runtime_get(c->s, prod, "orders-1", &got),
			-ENOENT);
	assert_int_equal(store_runtime_set_desired(c->s, got.id, "run", 0, 1),
			-ENOENT);
	assert_int_equal(store_runtime_report(c->s, &got), -ENOENT);
	assert_int_equal(store_runtime_set_latest(c->s, got.id, 1), -ENOENT);
	assert_int_equal(store_runtime_set_revoked(c->s, got.id, 1), -ENOENT);
	assert_int_equal(store_runtime_set_integration(c->s, got.id, 0, 1),
			-ENOENT);
}

/* store_runtime_list(): by environment name then runtime name, and each
 * filter field narrows it. */
static void test_runtime_list_filters(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod"), dev = env(c->s, "dev");
	int64_t shop = project(c->s, "shop"), web = project(c->s, "web");
	int64_t orders = integration(c->s, shop, "orders");
	int64_t billing = integration(c->s, shop, "billing");
	int64_t site = integration(c->s, web, "site");
	struct store_runtime_filter f;
	struct names n;

	runtime(c->s, prod, "b", orders, 1);
	runtime(c->s, prod, "a", billing, 2);
	runtime(c->s, dev, "c", site, 3);
	runtime(c->s, dev, "a", 0, 4);
	runtime(c->s, prod, "z", 0, 5);

	memset(&f, 0, sizeof(f));
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "dev/a dev/c prod/a prod/b prod/z ");
	f.env_id = prod;
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "prod/a prod/b prod/z ");
	f.project_id = shop;
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "prod/a prod/b ");
	f.integration_id = orders;
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "prod/b ");
	memset(&f, 0, sizeof(f));
	f.project_id = web;
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "dev/c ");
}

/* Versions and endpoints of a runtime. */
static void test_versions_and_endpoints(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod");
	int64_t id = runtime(c->s, prod, "chat", 0, 1);
	struct store_version v = { 0 }, got = { 0 };
	struct store_endpoint e, ge;
	struct names n = { "" };
	int64_t count = -1;
	int has = -1, ret;

	v.runtime_id = id;
	v.number = 2;
	v.created_ns = 40;
	v.spec = "{\"imageUrl\": \"two\"}";
	v.password = (unsigned char *)"sealed-pw";
	v.password_len = 9;
	OK(store_version_insert(c->s, &v));
	assert_int_equal(store_version_insert(c->s, &v), -EEXIST);
	v.number = 1;
	v.spec = "{\"imageUrl\": \"one\"}";
	v.password = NULL;
	v.password_len = 0;
	OK(store_version_insert(c->s, &v));
	v.number = 10;
	OK(store_version_insert(c->s, &v));
	OK(store_version_get(c->s, id, 2, &got));
	assert_int_equal(got.runtime_id, id);
	assert_int_equal(got.number, 2);
	assert_int_equal(got.created_ns, 40);
	assert_string_equal(got.spec, "{\"imageUrl\": \"two\"}");
	assert_int_equal(got.password_len, 9);
	assert_memory_equal(got.password, "sealed-pw", 9);
	store_version_release(&got);
	OK(store_version_get(c->s, id, 1, &got));
	assert_null(got.password);
	assert_int_equal(got.password_len, 0);
	store_version_release(&got);
	assert_int_equal(store_version_get(c->s, id, 3, &got), -ENOENT);
	OK(store_version_list(c->s, id, version_number, &n));
	assert_string_equal(n.s, "1 2 10 ");
	OK(store_runtime_set_latest(c->s, id, 10));
	assert_int_equal(get_runtime(c->s, prod, "chat").deployed_ns, 40);
	OK(store_version_delete(c->s, id, 1));
	assert_int_equal(store_version_delete(c->s, id, 1), -ENOENT);

	memset(&e, 0, sizeof(e));
	e.runtime_id = id;
	strcpy(e.name, "DEFAULT");
	strcpy(e.uuid, "00000000-0000-4000-8000-0000000000e1");
	e.version = 2;
	e.created_ns = 50;
	e.updated_ns = 50;
	OK(store_endpoint_insert(c->s, &e));
	assert_true(e.id > 0);
	strcpy(e.uuid, "00000000-0000-4000-8000-0000000000e2");
	assert_int_equal(store_endpoint_insert(c->s, &e), -EEXIST);
	strcpy(e.name, "canary");
	OK(store_endpoint_insert(c->s, &e));
	OK(store_endpoint_get(c->s, id, "canary", &ge));
	assert_int_equal(ge.id, e.id);
	assert_int_equal(ge.runtime_id, id);
	assert_string_equal(ge.uuid, "00000000-0000-4000-8000-0000000000e2");
	assert_int_equal(ge.version, 2);
	assert_int_equal(ge.created_ns, 50);
	OK(store_endpoint_serving(c->s, id, 2, &count));
	assert_int_equal(count, 2);
	OK(store_endpoint_set_version(c->s, e.id, 10, 60));
	OK(store_endpoint_get(c->s, id, "canary", &ge));
	assert_int_equal(ge.version, 10);
	assert_int_equal(ge.updated_ns, 60);
	assert_int_equal(ge.created_ns, 50);
	OK(store_endpoint_serving(c->s, id, 2, &count));
	assert_int_equal(count, 1);
	OK(store_endpoint_list(c->s, id, endpoint_name, &n));
	assert_string_equal(n.s, "1 2 10 DEFAULT canary ");
	/* a pin's reads in one */
	OK(store_endpoint_get_pin(c->s, id, "canary", 2, &ge, &has));
	assert_int_equal(ge.id, e.id);
	assert_int_equal(ge.version, 10);
	assert_int_equal(has, 1);
	OK(store_endpoint_get_pin(c->s, id, "canary", 1, &ge, &has));
	assert_int_equal(has, 0);
	assert_int_equal(store_endpoint_get_pin(c->s, id, "blue", 2, &ge,
			&has), -ENOENT);
	/* its write, which may go with the COMMIT */
	OK(store_begin(c->s));
	OK(store_endpoint_set_version_late(c->s, e.id, 2, 70));
	OK(store_commit(c->s));
	OK(store_endpoint_get(c->s, id, "canary", &ge));
	assert_int_equal(ge.version, 2);
	assert_int_equal(ge.updated_ns, 70);
	/* one of no row fails its change, at once or at the COMMIT, and
	 * the change's other writes with it */
	OK(store_begin(c->s));
	OK(store_endpoint_set_version(c->s, e.id, 10, 80));
	ret = store_endpoint_set_version_late(c->s, e.id + 1000, 2, 80);
	if (ret)
		store_rollback(c->s);
	else
		ret = store_commit(c->s);
	assert_true(ret < 0);
	OK(store_endpoint_get(c->s, id, "canary", &ge));
	assert_int_equal(ge.version, 2);
	assert_int_equal(ge.updated_ns, 70);
	OK(store_endpoint_delete(c->s, e.id));
	assert_int_equal(store_endpoint_delete(c->s, e.id), -ENOENT);
	assert_int_equal(store_endpoint_get(c->s, id, "canary", &ge),
			-ENOENT);
	assert_int_equal(store_endpoint_set_version(c->s, e.id, 2, 1),
			-ENOENT);
}

/* Secrets: unique key ids, unbound names unique in their environment,
 * binding takes one off the list and frees its name, lists filter by
 * environment and scope, and by name. */
static void test_secrets(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod"), dev = env(c->s, "dev");
	int64_t shop = project(c->s, "shop");
	int64_t orders = integration(c->s, shop, "orders");
	struct store_secret_filter f = { prod, 0 };
	struct store_secret got;
	struct names n = { "" };
	int64_t a, rt;

	a = secret(c->s, prod, 0, "0000000a", "s-a");
	secret(c->s, prod, orders, "0000000b", "s-b");
	secret(c->s, dev, 0, "0000000c", "s-a");
	assert_int_equal(store_secret_insert(c->s, &(struct store_secret){
			.key_id = "0000000a", .env_id = dev, .name = "x",
			.sealed_len = 1 }), -EEXIST);
	assert_int_equal(store_secret_insert(c->s, &(struct store_secret){
			.key_id = "0000000d", .env_id = prod, .name = "s-a",
			.sealed_len = 1 }), -EEXIST);
	OK(store_secret_get(c->s, prod, "s-a", &got));
	assert_int_equal(got.id, a);
	assert_string_equal(got.key_id, "0000000a");
	assert_string_equal(got.env, "prod");
	assert_int_equal(got.integration_id, 0);
	assert_string_equal(got.project, "");
	assert_int_equal(got.sealed_len, 15);
	assert_memory_equal(got.sealed, "sealed:0000000a", 15);
	assert_int_equal(got.created_ns, 30);
	assert_int_equal(got.bound_ns, 0);
	assert_string_equal(got.runtime_type, "");
	OK(store_secret_get(c->s, prod, "s-b", &got));
	assert_int_equal(got.integration_id, orders);
	assert_string_equal(got.project, "shop");
	assert_string_equal(got.integration, "orders");
	OK(store_secret_list(c->s, &f, secret_name, &n));
	assert_string_equal(n.s, "s-a s-b ");
	f.integration_id = orders;
	n.s[0] = '\0';
	OK(store_secret_list(c->s, &f, secret_name, &n));
	assert_string_equal(n.s, "s-b ");

	/* bound to an integration and a runtime type: off the list and
	 * the name, found by key id, on every runtime that uses it; a
	 * second bind finds no unbound secret */
	rt = runtime(c->s, prod, "orders-1", orders, 1);
	runtime(c->s, prod, "orders-2", orders, 2);
	OK(store_secret_bind(c->s, a, orders, "MI", 70));
	assert_int_equal(store_secret_bind(c->s, a, orders, "MI", 71),
			-ENOENT);
	assert_int_equal(store_secret_get(c->s, prod, "s-a", &got), -ENOENT);
	OK(store_secret_get_key(c->s, "0000000a", &got));
	assert_int_equal(got.integration_id, orders);
	assert_string_equal(got.integration, "orders");
	assert_string_equal(got.runtime_type, "MI");
	assert_int_equal(got.bound_ns, 70);
	assert_string_equal(get_runtime(c->s, prod, "orders-1").secret, "");
	use_key(c->s, prod, "orders-1", "0000000a");
	use_key(c->s, prod, "orders-2", "0000000a");
	assert_string_equal(get_runtime(c->s, prod, "orders-1").secret,
			"0000000a");
	assert_string_equal(get_runtime(c->s, prod, "orders-2").key_id,
			"0000000a");
	{
		struct store_runtime_filter rf = { .key_id = "0000000a" };
		struct names rn = { "" };

		OK(store_runtime_list(c->s, &rf, runtime_name, &rn));
		assert_string_equal(rn.s, "prod/orders-1 prod/orders-2 ");
	}
	(void)rt;
	f.integration_id = 0;
	n.s[0] = '\0';
	OK(store_secret_list(c->s, &f, secret_name, &n));
	assert_string_equal(n.s, "s-b ");
	secret(c->s, prod, 0, "0000000e", "s-a");
	assert_int_equal(store_secret_get_key(c->s, "ffffffff", &got),
			-ENOENT);

	/* unbinding is deleting: the runtimes have no secret then; revoking
	 * the key marks every runtime that used it */
	OK(store_secret_delete(c->s, a));
	assert_int_equal(store_secret_delete(c->s, a), -ENOENT);
	assert_string_equal(get_runtime(c->s, prod, "orders-1").secret, "");
	OK(store_runtime_revoke_key(c->s, "0000000a", 90));
	assert_int_equal(get_runtime(c->s, prod, "orders-1").revoked_ns, 90);
	assert_int_equal(get_runtime(c->s, prod, "orders-2").revoked_ns, 90);
	OK(store_runtime_revoke_key(c->s, "0000000f", 91));
}

/* What ICP's protocol keeps (issue 12): a runtime by its runtimeId, its
 * last full heartbeat's hash, what it reported, the display names of
 * projects and integrations, and the commands queued for it. */
static int command_line(void *ctx, const struct store_command *cmd)
{
	struct names *n = ctx;
	size_t len = strlen(n->s);

	snprintf(n->s + len, sizeof(n->s) - len, "%s:%s:%s:%s:%lld ",
			cmd->uuid + 34, cmd->runtime_uuid + 34, cmd->action,
			cmd->status, (long long)cmd->sent_ns);
	return 0;
}

static void test_icp_rows(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod"), shop = project(c->s, "shop");
	int64_t orders = integration(c->s, shop, "orders");
	int64_t id = runtime(c->s, prod, "orders-1", orders, 7);
	struct store_runtime got;
	struct store_project p;
	struct store_integration in;
	struct store_command cmd = { 0 };
	struct names n = { "" };
	char *text = NULL;
	int64_t first;
	int found = 0;

	OK(store_runtime_get_uuid(c->s, "00000000-0000-4000-8000-000000000007",
			&got));
	assert_int_equal(got.id, id);
	assert_int_equal(store_runtime_get_uuid(c->s,
			"00000000-0000-4000-8000-000000000008", &got), -ENOENT);
	assert_string_equal(got.hash, "");
	OK(store_runtime_set_hash(c->s, id, "q83vEjRWeJq83vEjRWeJqw=="));
	OK(store_runtime_get_uuid(c->s, got.uuid, &got));
	assert_string_equal(got.hash, "q83vEjRWeJq83vEjRWeJqw==");
	assert_int_equal(store_runtime_set_hash(c->s, 999, "x"), -ENOENT);

	OK(store_runtime_get_reported(c->s, id, &text));
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(got.reported_ns, 0);
	OK(store_runtime_set_reported(c->s, id, "{\"nodeInfo\":{}}", 40));
	OK(store_runtime_get_reported(c->s, id, &text));
	assert_string_equal(text, "{\"nodeInfo\":{}}");
	free(text);
	OK(store_runtime_get_uuid(c->s, got.uuid, &got));
	assert_int_equal(got.reported_ns, 40);
	assert_int_equal(store_runtime_get_reported(c->s, 999, &text),
			-ENOENT);

	OK(store_project_get(c->s, "shop", &p));
	assert_string_equal(p.display, "");
	OK(store_project_set_display(c->s, shop, "Shop & Co"));
	OK(store_project_get(c->s, "shop", &p));
	assert_string_equal(p.display, "Shop & Co");
	OK(store_integration_set_display(c->s, orders, "Order Management"));
	OK(store_integration_get(c->s, shop, "orders", &in));
	assert_string_equal(in.display, "Order Management");
	assert_int_equal(store_integration_set_display(c->s, 999, "x"),
			-ENOENT);

	/* commands: queued, listed by status, marked, answered only by
	 * the key of the runtime they are for */
	strcpy(cmd.uuid, "00000000-0000-4000-8000-0000000000a1");
	cmd.runtime_id = id;
	strcpy(cmd.target, "httpListener");
	strcpy(cmd.action, "STOP");
	cmd.issued_ns = 50;
	strcpy(cmd.status, "PENDING");
	OK(store_command_insert(c->s, &cmd));
	first = cmd.id;
	assert_int_equal(store_command_insert(c->s, &cmd), -EEXIST);
	strcpy(cmd.uuid, "00000000-0000-4000-8000-0000000000a2");
	strcpy(cmd.action, "START");
	OK(store_command_insert(c->s, &cmd));
	OK(store_command_list(c->s, id, "PENDING", 1, command_line, &n));
	assert_string_equal(n.s, "a1:07:STOP:PENDING:0 ");
	/* ids grow but need not be dense: a refused insert may use one */
	OK(store_command_set_status(c->s, first, "SENT", 60));
	n.s[0] = '\0';
	OK(store_command_list(c->s, id, NULL, 0, command_line, &n));
	assert_string_equal(n.s, "a1:07:STOP:SENT:60 a2:07:START:PENDING:0 ");
	OK(store_command_result(c->s, "00000000-0000-4000-8000-0000000000a1",
			"0000000a", "COMPLETED", "{}", 70, &found));
	assert_int_equal(found, 0);
	got.id = id;
	OK(store_runtime_get_uuid(c->s, got.uuid, &got));
	strcpy(got.key_id, "0000000a");
	OK(store_runtime_report(c->s, &got));
	OK(store_command_result(c->s, "00000000-0000-4000-8000-0000000000a1",
			"0000000a", "COMPLETED", "{}", 70, &found));
	assert_int_equal(found, 1);
	n.s[0] = '\0';
	OK(store_command_list(c->s, id, "COMPLETED", 0, command_line, &n));
	assert_string_equal(n.s, "a1:07:STOP:COMPLETED:60 ");
	/* they go with their runtime */
	OK(store_runtime_delete(c->s, id));
	n.s[0] = '\0';
	OK(store_command_list(c->s, id, NULL, 0, command_line, &n));
	assert_string_equal(n.s, "");
}

/* The artifacts a runtime reported: a set replaced whole, listed by
 * kind and name, got one by one, with its digest and time on the
 * runtime; they go with their runtime. */
static int artifact_line(void *ctx, const struct store_artifact *a)
{
	struct names *n = ctx;
	size_t len = strlen(n->s);

	snprintf(n->s + len, sizeof(n->s) - len, "%s/%s=%s@%lld ", a->kind,
			a->name, a->doc, (long long)a->changed_ns);
	return 0;
}

static int kind_line(void *ctx, const char *kind)
{
	names_add(ctx, kind);
	return 0;
}

static void test_artifacts(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod"), shop = project(c->s, "shop");
	int64_t orders = integration(c->s, shop, "orders");
	int64_t id = runtime(c->s, prod, "orders-1", orders, 7);
	int64_t other = runtime(c->s, prod, "orders-2", orders, 8);
	struct store_artifact set[3] = {
		{ 0, "listeners", "http", "{\"name\":\"http\"}", 10 },
		{ 0, "services", "orders", "{\"name\":\"orders\"}", 11 },
		{ 0, "listeners", "admin", "{\"name\":\"admin\"}", 12 },
	};
	struct store_artifact a;
	struct store_runtime got;
	struct names n = { "" };
	char *doc = NULL;

	OK(store_runtime_get_uuid(c->s, "00000000-0000-4000-8000-000000000007",
			&got));
	assert_string_equal(got.artifacts_sum, "");
	assert_int_equal(got.artifacts_ns, 0);
	OK(store_artifact_list(c->s, id, NULL, artifact_line, &n));
	assert_string_equal(n.s, "");
	OK(store_artifact_replace(c->s, id, set, 3, "sum1", 20));
	OK(store_artifact_replace(c->s, other, set, 1, "sum2", 21));
	OK(store_artifact_list(c->s, id, NULL, artifact_line, &n));
	assert_string_equal(n.s, "listeners/admin={\"name\":\"admin\"}@12"
			" listeners/http={\"name\":\"http\"}@10"
			" services/orders={\"name\":\"orders\"}@11 ");
	n.s[0] = '\0';
	OK(store_artifact_list(c->s, id, "services", artifact_line, &n));
	assert_string_equal(n.s, "services/orders={\"name\":\"orders\"}@11 ");
	n.s[0] = '\0';
	OK(store_artifact_kinds(c->s, id, kind_line, &n));
	assert_string_equal(n.s, "listeners services ");
	OK(store_runtime_get_uuid(c->s, got.uuid, &got));
	assert_string_equal(got.artifacts_sum, "sum1");
	assert_int_equal(got.artifacts_ns, 20);
	OK(store_artifact_get(c->s, id, "listeners", "http", &a, &doc));
	assert_string_equal(doc, "{\"name\":\"http\"}");
	assert_int_equal(a.changed_ns, 10);
	assert_null(a.doc);
	free(doc);
	assert_int_equal(store_artifact_get(c->s, id, "services", "http", &a,
			&doc), -ENOENT);
	assert_null(doc);
	/* replaced whole: fewer, and one of a name twice is refused */
	OK(store_artifact_replace(c->s, id, set + 1, 1, "sum3", 30));
	n.s[0] = '\0';
	OK(store_artifact_list(c->s, id, NULL, artifact_line, &n));
	assert_string_equal(n.s, "services/orders={\"name\":\"orders\"}@11 ");
	set[2] = set[1];
	OK(store_begin(c->s));
	assert_int_equal(store_artifact_replace(c->s, id, set + 1, 2, "x", 40),
			-EEXIST);
	store_rollback(c->s);
	n.s[0] = '\0';
	OK(store_artifact_list(c->s, id, NULL, artifact_line, &n));
	assert_string_equal(n.s, "services/orders={\"name\":\"orders\"}@11 ");
	assert_int_equal(store_artifact_replace(c->s, 999, NULL, 0, "", 1),
			-ENOENT);
	/* the other runtime's are its own, and they go with it */
	OK(store_runtime_delete(c->s, other));
	n.s[0] = '\0';
	OK(store_artifact_list(c->s, other, NULL, artifact_line, &n));
	assert_string_equal(n.s, "");
	n.s[0] = '\0';
	OK(store_artifact_list(c->s, id, NULL, artifact_line, &n));
	assert_string_equal(n.s, "services/orders={\"name\":\"orders\"}@11 ");
}

/* Deleting a runtime deletes its versions, endpoints, service account
 * and the bound secret it used when no other runtime uses it; nothing
 * else. */
static void test_runtime_delete_cascades(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod");
	int64_t id = runtime(c->s, prod, "chat", 0, 1);
	int64_t other = runtime(c->s, prod, "other", 0, 2);
	struct store_version v = { id, 1, 5, "{}", NULL, 0 }, gv;
	struct store_endpoint e = { 0 };
	struct store_service_account sa = { 0 }, gsa;
	struct store_secret gs;
	int64_t sec, count;

	OK(store_version_insert(c->s, &v));
	e.runtime_id = id;
	strcpy(e.name, "DEFAULT");
	strcpy(e.uuid, "00000000-0000-4000-8000-0000000000e1");
	e.version = 1;
	OK(store_endpoint_insert(c->s, &e));
	sa.runtime_id = id;
	strcpy(sa.client_id, "00000000-0000-4000-8000-0000000000c1");
	memcpy(sa.secret, "sa-sealed", 9);
	sa.secret_len = 9;
	sa.created_ns = 6;
	OK(store_service_account_put(c->s, &sa));
	sa.runtime_id = other;
	strcpy(sa.client_id, "00000000-0000-4000-8000-0000000000c2");
	OK(store_service_account_put(c->s, &sa));
	sec = secret(c->s, prod, 0, "0000000a", "s1");
	OK(store_secret_bind(c->s, sec, 0, "default", 7));
	use_key(c->s, prod, "chat", "0000000a");
	use_key(c->s, prod, "other", "0000000a");
	secret(c->s, prod, 0, "0000000b", "s2");

	/* a replica still uses it: it stays */
	OK(store_runtime_delete(c->s, other));
	OK(store_secret_get_key(c->s, "0000000a", &gs));
	other = runtime(c->s, prod, "other", 0, 2);
	sa.runtime_id = other;
	OK(store_service_account_put(c->s, &sa));
	OK(store_runtime_delete(c->s, id));
	assert_int_equal(store_version_get(c->s, id, 1, &gv), -ENOENT);
	assert_int_equal(store_endpoint_get(c->s, id, "DEFAULT", &e),
			-ENOENT);
	assert_int_equal(store_service_account_get(c->s, id, &gsa), -ENOENT);
	assert_int_equal(store_secret_get_key(c->s, "0000000a", &gs),
			-ENOENT);
	OK(store_service_account_get(c->s, other, &gsa));
	OK(store_secret_get(c->s, prod, "s2", &gs));
	OK(store_env_children(c->s, prod, &count));
	assert_int_equal(count, 2);     /* other, s2 */
}

/* A service account is put (inserted or replaced) and got back. */
static void test_service_accounts(void **state)
{
	struct cf *c = *state;
	int64_t id = runtime(c->s, env(c->s, "prod"), "chat", 0, 1);
	struct store_service_account sa = { 0 }, got;

	assert_int_equal(store_service_account_get(c->s, id, &got), -ENOENT);
	sa.runtime_id = id;
	strcpy(sa.client_id, "00000000-0000-4000-8000-0000000000c1");
	memcpy(sa.secret, "one", 3);
	sa.secret_len = 3;
	sa.created_ns = 8;
	OK(store_service_account_put(c->s, &sa));
	strcpy(sa.client_id, "00000000-0000-4000-8000-0000000000c2");
	memcpy(sa.secret, "two!", 4);
	sa.secret_len = 4;
	sa.created_ns = 9;
	OK(store_service_account_put(c->s, &sa));
	OK(store_service_account_get(c->s, id, &got));
	assert_int_equal(got.runtime_id, id);
	assert_string_equal(got.client_id,
			"00000000-0000-4000-8000-0000000000c2");
	assert_int_equal(got.secret_len, 4);
	assert_memory_equal(got.secret, "two!", 4);
	assert_int_equal(got.created_ns, 9);
}

/* One sealed value, whichever the store holds. */
static void test_sealed_sample(void **state)
{
	struct cf *c = *state;
	unsigned char buf[64];
	size_t len = 0;

	assert_int_equal(store_sealed_sample(c->s, buf, sizeof(buf), &len),
			-ENOENT);
	secret(c->s, env(c->s, "prod"), 0, "0000000a", "s1");
	OK(store_sealed_sample(c->s, buf, sizeof(buf), &len));
	assert_int_equal(len, 15);
	assert_memory_equal(buf, "sealed:0000000a", 15);
	assert_int_equal(store_sealed_sample(c->s, buf, 4, &len),
			-EOVERFLOW);
}

/* A rollback undoes everything since store_begin(); a commit is seen by
 * another handle, and an open transaction is not. */
static void test_transactions(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct store_env e;
	int64_t prod;

	OK(store_begin(c->s));
	OK(store_env_insert(c->s, "prod", 1));
	OK(store_env_get(c->s, "prod", &e));
	OK(store_project_insert(c->s, "shop", 1));
	store_rollback(c->s);
	assert_int_equal(store_env_get(c->s, "prod", &e), -ENOENT);
	assert_int_equal(store_project_get(c->s, "shop",
			&(struct store_project){ 0 }), -ENOENT);
	store_rollback(c->s);           /* none open: nothing */

	OK(store_begin(c->s));
	prod = env(c->s, "prod");
	assert_int_equal(store_env_get(other, "prod", &e), -ENOENT);
	OK(store_commit(c->s));
	OK(store_env_get(other, "prod", &e));
	assert_int_equal(e.id, prod);

	/* a failed statement inside a transaction leaves the rest of it,
	 * before and after, however many fail */
	OK(store_begin(c->s));
	assert_int_equal(store_env_insert(c->s, "prod", 1), -EEXIST);
	OK(store_env_set_critical(c->s, prod, 1, 5));
	assert_int_equal(store_env_insert(c->s, "prod", 1), -EEXIST);
	assert_int_equal(store_env_insert(c->s, "prod", 1), -EEXIST);
	OK(store_env_insert(c->s, "stage", 6));
	assert_int_equal(store_env_insert(c->s, "stage", 7), -EEXIST);
	OK(store_commit(c->s));
	OK(store_env_get(other, "prod", &e));
	assert_int_equal(e.critical, 1);
	OK(store_env_get(other, "stage", &e));
	assert_int_equal(e.created_ns, 6);
	store_close(other);
}

/* store_runtime_heartbeat() moves the time forward only, and only on the
 * runtime that still has the UUID. */
static void test_heartbeat_never_back(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod");
	int64_t id = runtime(c->s, prod, "chat", 0, 1);
	struct store_runtime rt = get_runtime(c->s, prod, "chat");

	OK(store_runtime_heartbeat(c->s, id, rt.uuid, 100));
	assert_int_equal(get_runtime(c->s, prod, "chat").heartbeat_ns, 100);
	OK(store_runtime_heartbeat(c->s, id, rt.uuid, 90));
	assert_int_equal(get_runtime(c->s, prod, "chat").heartbeat_ns, 100);
	OK(store_runtime_heartbeat(c->s, id, "00000000-0000-4000-8000-"
			"00000000ffff", 200));
	assert_int_equal(get_runtime(c->s, prod, "chat").heartbeat_ns, 100);
	OK(store_runtime_delete(c->s, id));
	OK(store_runtime_heartbeat(c->s, id, rt.uuid, 300));
}

/* A batch of heartbeat times is written as each one alone would be, in
 * the caller's transaction: forward only, on the runtime that still has
 * the UUID, a deleted one no error; a rollback undoes the whole batch. */
static void test_heartbeat_batch(void **state)
{
	struct cf *c = *state;
	int64_t prod = env(c->s, "prod");
	struct store_beat beats[4];
	int64_t a = runtime(c->s, prod, "a", 0, 1);
	int64_t b = runtime(c->s, prod, "b", 0, 2);
	int64_t gone = runtime(c->s, prod, "gone", 0, 3);
	struct store_runtime ra = get_runtime(c->s, prod, "a");
	struct store_runtime rb = get_runtime(c->s, prod, "b");
	struct store_runtime rg = get_runtime(c->s, prod, "gone");

	OK(store_runtime_heartbeat(c->s, b, rb.uuid, 500));
	OK(store_runtime_delete(c->s, gone));
	memset(beats, 0, sizeof(beats));
	beats[0] = (struct store_beat){ a, "", 100 };
	memcpy(beats[0].uuid, ra.uuid, sizeof(ra.uuid));
	beats[1] = (struct store_beat){ b, "", 400 };      /* back: kept */
	memcpy(beats[1].uuid, rb.uuid, sizeof(rb.uuid));
	beats[2] = (struct store_beat){ gone, "", 100 };   /* deleted */
	memcpy(beats[2].uuid, rg.uuid, sizeof(rg.uuid));
	beats[3] = (struct store_beat){ a, "", 900 };      /* not its UUID */
	memcpy(beats[3].uuid, rb.uuid, sizeof(rb.uuid));

	OK(store_begin(c->s));
	OK(store_runtime_heartbeats(c->s, beats, 4));
	store_rollback(c->s);
	assert_int_equal(get_runtime(c->s, prod, "a").heartbeat_ns, 0);
	OK(store_begin(c->s));
	OK(store_runtime_heartbeats(c->s, beats, 4));
	OK(store_runtime_heartbeats(c->s, beats, 0));
	OK(store_commit(c->s));
	assert_int_equal(get_runtime(c->s, prod, "a").heartbeat_ns, 100);
	assert_int_equal(get_runtime(c->s, prod, "b").heartbeat_ns, 500);
	assert_int_equal(store_runtime_get(c->s, prod, "gone", &rg), -ENOENT);
}

/* Empty is no environment, project or snapshot; each counts. */
static void test_is_empty(void **state)
{
	struct cf *c = *state;
	struct store_holdings h;
	int64_t prod;

	memset(&h, 0xff, sizeof(h));
	OK(store_is_empty(c->s, &h));
	assert_int_equal(h.envs + h.projects + h.snapshots, 0);
	OK(store_is_empty(c->s, NULL));
	OK(store_snapshot_create(c->s, "s", NULL));
	assert_int_equal(store_is_empty(c->s, &h), -ENOTEMPTY);
	assert_int_equal(h.snapshots, 1);
	assert_int_equal(h.envs + h.projects, 0);
	OK(store_snapshot_drop(c->s, "s"));
	prod = env(c->s, "prod");
	env(c->s, "dev");
	project(c->s, "shop");
	assert_int_equal(store_is_empty(c->s, &h), -ENOTEMPTY);
	assert_int_equal(h.envs, 2);
	assert_int_equal(h.projects, 1);
	assert_int_equal(h.snapshots, 0);
	assert_non_null(strstr(store_errmsg(), "2 environment(s)"));
	(void)prod;
}

/* A change begun as the model begins one: store_begin() and its first
 * statement (a read).  The lock is taken by one or the other (PostgreSQL
 * sends BEGIN and the lock with the first statement), so -EAGAIN may
 * come from either; the change is then given up (store_rollback()). */
static int begin_and_read(struct store *s)
{
	struct store_env e;
	int ret = store_begin(s);

	if (!ret && (ret = store_env_get(s, "prod", &e)) == -ENOENT)
		ret = 0;
	if (ret)
		store_rollback(s);
	return ret;
}

/* A load goes into an empty store only, in one transaction that holds the
 * write lock throughout. */
static void test_load(void **state)
{
	struct cf *c = *state;
	struct store_holdings h;
	struct store *other = second(c);
	int64_t prod, shop, orders;

	OK(store_load_begin(c->s, &h));
	assert_int_equal(h.envs + h.projects + h.snapshots, 0);
	shop = project(c->s, "shop");
	orders = integration(c->s, shop, "orders");
	prod = env(c->s, "prod");
	runtime(c->s, prod, "chat", orders, 1);
	/* one serialized unit: another writer waits */
	store_busy_timeout(other, 20);
	assert_int_equal(begin_and_read(other), -EAGAIN);
	OK(store_commit(c->s));
	assert_string_equal(get_runtime(c->s, prod, "chat").project, "shop");

	/* not empty now: refused, nothing left open */
	assert_int_equal(store_load_begin(c->s, &h), -ENOTEMPTY);
	assert_int_equal(h.envs, 1);
	assert_int_equal(h.projects, 1);
	OK(store_begin(c->s));
	store_rollback(c->s);
	store_close(other);
}

/* In a load, a row may refer to one that is not there yet: the check
 * waits for the commit, which fails, leaving the store empty, when the
 * row it refers to never came. */
static void test_load_dangling(void **state)
{
	struct cf *c = *state;

	OK(store_load_begin(c->s, NULL));
	OK(store_integration_insert(c->s, 7, "orders", "MI", 5));
	assert_true(store_commit(c->s) < 0);
	OK(store_is_empty(c->s, NULL));
	/* and rolled back: a new transaction begins */
	OK(store_begin(c->s));
	store_rollback(c->s);
	/* a rollback undoes a load */
	OK(store_load_begin(c->s, NULL));
	OK(store_env_insert(c->s, "prod", 5));
	store_rollback(c->s);
	OK(store_is_empty(c->s, NULL));
}

static int stop_line(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
	return -ECANCELED;
}

/* A dump, gathered. */
struct dump {
	char s[16384];
	int lines;
};

static int dump_line(void *ctx, const char *line)
{
	struct dump *d = ctx;

	snprintf(d->s + strlen(d->s), sizeof(d->s) - strlen(d->s), "%s\n",
			line);
	d->lines++;
	return 0;
}

static void dump_of(struct store *s, struct dump *d)
{
	d->s[0] = '\0';
	d->lines = 0;
	OK(store_dump(s, dump_line, d));
	assert_true(strlen(d->s) + 1 < sizeof(d->s));
}

/* A dump tells two stores apart exactly when they hold something else:
 * what a rollback undid leaves it as it was; a row, a changed value, a
 * snapshot change it; another handle reads the same. */
static void test_dump(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct dump *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	int64_t prod;

	assert_non_null(a);
	assert_non_null(b);
	prod = env(c->s, "prod");
	dump_of(c->s, a);
	assert_true(a->lines > 0);
	dump_of(other, b);
	assert_string_equal(a->s, b->s);
	OK(store_begin(c->s));
	env(c->s, "dev");
	OK(store_env_set_critical(c->s, prod, 1, 99));
	store_rollback(c->s);
	dump_of(c->s, b);
	assert_string_equal(a->s, b->s);
	OK(store_env_set_critical(c->s, prod, 0, 99));
	dump_of(c->s, b);
	assert_string_not_equal(a->s, b->s);
	OK(store_env_set_critical(c->s, prod, 0, 10));
	dump_of(c->s, b);
	assert_string_equal(a->s, b->s);
	OK(store_snapshot_create(c->s, "s", NULL));
	dump_of(c->s, b);
	assert_string_not_equal(a->s, b->s);
	OK(store_snapshot_drop(c->s, "s"));
	dump_of(c->s, b);
	assert_string_equal(a->s, b->s);
	assert_int_equal(store_dump(c->s, stop_line, NULL), -ECANCELED);
	free(a);
	free(b);
	store_close(other);
}

static void heard(void *ctx, const char *news)
{
	(void)news;
	(*(int *)ctx)++;
}

/* What a watcher heard last: NULL, or what another announced. */
struct news {
	int told;
	char last[64];
};

static void heard_news(void *ctx, const char *news)
{
	struct news *n = ctx;

	n->told++;
	snprintf(n->last, sizeof(n->last), "%s", news ? news : "(anything)");
}

/* The change feed tells a watching handle of what another committed, at
 * its next store_begin() once the news reached it (PostgreSQL's
 * notifications come a moment after the other's commit, and its BEGIN
 * goes with the change's first statement: no round trip waits for them)
 * or store_poll(), once; never of its own commits, nor of what it does
 * not watch. */
static void test_watch(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	int told = 0;

	store_watch(c->s, heard, &told);
	OK(store_poll(c->s));
	assert_int_equal(told, 0);
	/* its own commits: nothing */
	OK(store_begin(c->s));
	env(c->s, "prod");
	OK(store_commit(c->s));
	OK(store_begin(c->s));
	store_rollback(c->s);
	OK(store_poll(c->s));
	assert_int_equal(told, 0);
	/* another's: at a begin, once */
	OK(store_begin(other));
	env(other, "dev");
	OK(store_commit(other));
	for (int i = 0; i < 2000 && !told; i++) {
		OK(store_begin(c->s));
		store_rollback(c->s);
		if (!told)
			usleep(1000);
	}
	assert_int_equal(told, 1);
	OK(store_begin(c->s));
	store_rollback(c->s);
	OK(store_poll(c->s));
	assert_int_equal(told, 1);
	/* and at a poll */
	project(other, "shop");
	OK(store_poll(c->s));
	assert_int_equal(told, 2);
	OK(store_poll(c->s));
	assert_int_equal(told, 2);
	/* unsubscribed: nothing more */
	store_watch(c->s, NULL, NULL);
	project(other, "web");
	OK(store_begin(c->s));
	store_rollback(c->s);
	OK(store_poll(c->s));
	assert_int_equal(told, 2);
	store_close(other);
}

/* A watching handle's commits reach the other watchers as what it
 * announced, once, not as "anything changed"; never its own.  A backend
 * served by one host (SQLite) announces nothing: its watchers hear
 * "anything" of another's commit, as ever. */
static void test_announce(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct news n = { 0, "" }, mine = { 0, "" };

	store_watch(c->s, heard_news, &n);
	store_watch(other, heard_news, &mine);
	OK(store_begin(other));
	env(other, "prod");
	OK(store_commit(other));
	OK(store_announce(other, "e/1/1/0/prod////"));
	OK(store_poll(c->s));
	assert_int_equal(n.told, 1);
	assert_string_equal(n.last, B.several ? "e/1/1/0/prod////" :
			"(anything)");
	OK(store_poll(c->s));
	assert_int_equal(n.told, 1);
	OK(store_poll(other));
	assert_int_equal(mine.told, 0);
	/* one that does not watch (psql, a tool) still tells "anything" */
	store_watch(other, NULL, NULL);
	project(other, "shop");
	OK(store_poll(c->s));
	assert_int_equal(n.told, 2);
	assert_string_equal(n.last, "(anything)");
	store_watch(c->s, NULL, NULL);
	store_close(other);
}

/* An announcement made inside a change goes with its commit, in it:
 * nobody hears it before, and nobody ever hears that of a change rolled
 * back (PostgreSQL delivers a notification when, and only if, its
 * transaction commits). */
static void test_announce_in_change(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct news n = { 0, "" };

	store_watch(c->s, heard_news, &n);
	store_watch(other, heard_news, &(struct news){ 0, "" });
	OK(store_begin(other));
	OK(store_env_insert(other, "prod", 1));
	OK(store_announce(other, "e/1/1/0/prod////"));
	OK(store_poll(c->s));
	assert_int_equal(n.told, 0);
	OK(store_commit(other));
	OK(store_poll(c->s));
	assert_int_equal(n.told, 1);
	assert_string_equal(n.last, B.several ? "e/1/1/0/prod////" :
			"(anything)");
	OK(store_begin(other));
	OK(store_env_insert(other, "dev", 1));
	OK(store_announce(other, "e/1/1/0/dev////"));
	store_rollback(other);
	OK(store_poll(c->s));
	assert_int_equal(n.told, 1);
	store_watch(c->s, NULL, NULL);
	store_watch(other, NULL, NULL);
	store_close(other);
}

/* A writer that holds the lock makes another's change wait for the busy
 * timeout and give -EAGAIN, never -EBUSY, having done nothing; reads go
 * on; once the lock is given up, the other begins. */
static void test_busy_is_eagain(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct store_env e;

	env(c->s, "prod");
	store_busy_timeout(other, 50);
	OK(store_begin(c->s));
	OK(store_env_insert(c->s, "dev", 1));
	assert_int_equal(begin_and_read(other), -EAGAIN);
	assert_non_null(strstr(store_errmsg(), "busy"));
	OK(store_env_get(other, "prod", &e));
	assert_int_equal(store_env_get(other, "dev", &e), -ENOENT);
	/* no transaction was left open on `other` by the refusal */
	store_rollback(c->s);
	OK(store_begin(other));
	OK(store_env_insert(other, "dev", 2));
	OK(store_commit(other));
	OK(store_env_get(c->s, "dev", &e));
	assert_int_equal(e.created_ns, 2);
	store_close(other);
}

/* Another handle on the same data, where the backend gives one (a
 * backend that serves several hosts does): what either commits, the
 * other reads; else -ENOTSUP. */
static void test_another_handle(void **state)
{
	struct cf *c = *state;
	struct store *other = (struct store *)c, *third;
	struct store_runtime r;
	int told = 0;
	struct store_beat beat = { 0 };
	struct store_env e;
	int64_t prod = env(c->s, "prod");
	int64_t a = runtime(c->s, prod, "a", 0, 1);
	int ret = store_open_another(c->s, &other);

	if (!B.several) {
		assert_int_equal(ret, -ENOTSUP);
		assert_null(other);
		return;
	}
	OK(ret);
	r = get_runtime(c->s, prod, "a");
	beat.id = a;
	memcpy(beat.uuid, r.uuid, sizeof(r.uuid));
	beat.heartbeat_ns = 700;
	store_watch(c->s, heard, &told);
	OK(store_begin(other));
	OK(store_runtime_heartbeats(other, &beat, 1));
	OK(store_commit(other));
	assert_int_equal(get_runtime(c->s, prod, "a").heartbeat_ns, 700);
	/* its commits are the first handle's owner's to announce: the
	 * first does not hear them as another writer's */
	for (int i = 0; i < 100; i++) {
		OK(store_poll(c->s));
		usleep(1000);
	}
	assert_int_equal(told, 0);
	/* as it hears a third handle's, which no one announces */
	third = second(c);
	env(third, "qa");
	for (int i = 0; i < 2000 && !told; i++) {
		OK(store_poll(c->s));
		if (!told)
			usleep(1000);
	}
	assert_int_equal(told, 1);
	store_close(third);
	store_watch(c->s, NULL, NULL);
	/* and the other way */
	OK(store_begin(c->s));
	OK(store_env_insert(c->s, "dev", 2));
	OK(store_commit(c->s));
	OK(store_env_get(other, "dev", &e));
	store_close(other);
}

/* One claim at a time, to serve or to restore; a restore makes a daemon
 * wait (or hear -EINPROGRESS) and, given up unfinished, is seen as
 * interrupted until its leftovers are cleared. */
static void test_claims(void **state)
{
	struct cf *c = *state;
	struct store_claim *a, *b;

	OK(store_claim(&a, c->loc, 0));
	if (B.several) {
		/* a second host serves it too; a restore waits for none */
		OK(store_claim(&b, c->loc, 0));
		assert_int_equal(store_claim_interrupted(b), 0);
		store_claim_release(b);
	} else {
		assert_int_equal(store_claim(&b, c->loc, 0), -EBUSY);
		assert_null(b);
		assert_non_null(strstr(store_errmsg(), "already served"));
		assert_int_equal(store_claim(&b, c->loc, STORE_CLAIM_WAIT),
				-EBUSY);
	}
	assert_int_equal(store_claim(&b, c->loc, STORE_CLAIM_RESTORE),
			-EBUSY);
	assert_non_null(strstr(store_errmsg(), "already served"));
	assert_int_equal(store_claim_interrupted(a), 0);
	store_claim_release(a);

	OK(store_claim(&a, c->loc, STORE_CLAIM_RESTORE));
	assert_int_equal(store_claim(&b, c->loc, 0), -EINPROGRESS);
	assert_int_equal(store_claim(&b, c->loc, STORE_CLAIM_RESTORE),
			-EBUSY);
	store_claim_release(a);         /* as kill -9 would */
	OK(store_claim(&b, c->loc, 0));
	assert_int_equal(store_claim_interrupted(b), 1);
	store_claim_restore_done(b);
	assert_int_equal(store_claim_interrupted(b), 0);
	store_claim_release(b);
	OK(store_claim(&b, c->loc, 0));
	assert_int_equal(store_claim_interrupted(b), 0);
	store_claim_release(b);
}

/* A snapshot holds what was committed when it was taken, and says when
 * that was; it is listed by name, read-only (-EROFS for every change),
 * kept across a reopen, and dropped; a name is taken once. */
static void test_snapshots(void **state)
{
	struct cf *c = *state;
	struct store *snap, *held;
	struct store_env e;
	struct names n = { "" }, want = { "" };
	int64_t before = real_now(), t1, t2, prod, count;
	char line[80];

	prod = env(c->s, "prod");
	OK(store_snapshot_list(c->s, snapshot_name, &n));
	assert_string_equal(n.s, "");
	assert_int_equal(store_snapshot_open(c->s, "one", &snap), -ENOENT);
	assert_null(snap);
	OK(store_snapshot_create(c->s, "one", &t1));
	assert_true(t1 >= before && t1 <= real_now());
	assert_int_equal(store_snapshot_create(c->s, "one", &t2), -EEXIST);
	/* what comes after is not in it */
	OK(store_env_set_critical(c->s, prod, 1, 11));
	env(c->s, "dev");
	OK(store_snapshot_create(c->s, "a-two", &t2));
	assert_true(t2 >= t1);
	OK(store_snapshot_list(c->s, snapshot_name, &n));
	snprintf(line, sizeof(line), "a-two@%lld one@%lld ", (long long)t2,
			(long long)t1);
	assert_string_equal(n.s, line);

	OK(store_snapshot_open(c->s, "one", &snap));
	assert_int_equal(store_taken_at(snap), t1);
	assert_int_equal(store_taken_at(c->s), 0);
	OK(store_env_get(snap, "prod", &e));
	assert_int_equal(e.critical, 0);
	assert_int_equal(store_env_get(snap, "dev", &e), -ENOENT);
	assert_true(store_schema_version(snap) >= 1);
	/* read-only, transactions too, and it has no snapshots itself */
	assert_int_equal(store_env_insert(snap, "x", 1), -EROFS);
	assert_int_equal(store_env_set_critical(snap, prod, 1, 2), -EROFS);
	assert_int_equal(store_env_delete(snap, prod), -EROFS);
	assert_int_equal(store_begin(snap), -EROFS);
	assert_int_equal(store_snapshot_create(snap, "nested", NULL),
			-EROFS);
	OK(store_snapshot_list(snap, snapshot_name, &want));
	assert_string_equal(want.s, "");
	OK(store_env_children(snap, prod, &count));
	assert_int_equal(count, 0);
	store_close(snap);

	/* dropped while open: the handle reads on until closed */
	OK(store_snapshot_open(c->s, "a-two", &held));
	OK(store_snapshot_drop(c->s, "a-two"));
	assert_int_equal(store_snapshot_drop(c->s, "a-two"), -ENOENT);
	assert_int_equal(store_snapshot_open(c->s, "a-two", &snap),
			-ENOENT);
	OK(store_env_get(held, "dev", &e));
	store_close(held);

	/* kept, with its time, across a reopen of the store */
	store_close(c->s);
	c->s = NULL;
	OK(store_open(&c->s, c->loc));
	n.s[0] = '\0';
	OK(store_snapshot_list(c->s, snapshot_name, &n));
	snprintf(line, sizeof(line), "one@%lld ", (long long)t1);
	assert_string_equal(n.s, line);
	OK(store_snapshot_open(c->s, "one", &snap));
	assert_int_equal(store_taken_at(snap), t1);
	store_close(snap);
	/* a name dropped can be taken again */
	OK(store_snapshot_drop(c->s, "one"));
	OK(store_snapshot_create(c->s, "one", &t2));
	OK(store_snapshot_open(c->s, "one", &snap));
	OK(store_env_get(snap, "dev", &e));
	store_close(snap);
	store_snapshot_tidy(c->s);
	n.s[0] = '\0';
	OK(store_snapshot_list(c->s, snapshot_name, &n));
	snprintf(line, sizeof(line), "one@%lld ", (long long)t2);
	assert_string_equal(n.s, line);
}

/* A list's callback that returns an error stops the walk with it. */
static int stop_snapshot(void *ctx, const char *name, int64_t taken_ns)
{
	(void)name;
	(void)taken_ns;
	(*(int *)ctx)++;
	return -ECANCELED;
}

static void test_snapshot_list_stops(void **state)
{
	struct cf *c = *state;
	int calls = 0;

	OK(store_snapshot_create(c->s, "a", NULL));
	OK(store_snapshot_create(c->s, "b", NULL));
	assert_int_equal(store_snapshot_list(c->s, stop_snapshot, &calls),
			-ECANCELED);
	assert_int_equal(calls, 1);
}

/* The event log: numbered lines at byte offsets that go on after the
 * lines dropped, the same moment told twice kept once, a rolled back
 * line never there, and what another handle reads. */
struct lines {
	char text[1024];
	int n;
};

static int add_line(void *ctx, const struct store_event *ev,
		const char *line)
{
	struct lines *l = ctx;
	size_t len = strlen(l->text);

	assert_int_equal((int64_t)strlen(line), ev->len);
	snprintf(l->text + len, sizeof(l->text) - len, "%lld@%lld:%s",
			(long long)ev->seq, (long long)ev->off, line);
	l->n++;
	return 0;
}

#define EV STORE_LOG_EVENTS

static void test_event_log(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct store_event a, b, first, last;
	struct lines l = { "", 0 };

	OK(store_log_bounds(c->s, EV, &first, &last));
	assert_int_equal(first.seq, 0);
	assert_int_equal(last.seq, 0);
	OK(store_begin(c->s));
	OK(store_log_append(c->s, EV, "<", ">\n", 7, NULL, &a));
	OK(store_log_append(c->s, EV, "<", "|x>\n", 8, "k1", &b));
	OK(store_commit(c->s));
	assert_int_equal(a.seq, 1);
	assert_int_equal(a.off, 0);
	assert_int_equal(a.len, 4);            /* "<1>\n" */
	assert_int_equal(a.at_ns, 7);
	assert_int_equal(b.seq, 2);
	assert_int_equal(b.off, 4);
	assert_int_equal(b.len, 6);            /* "<2|x>\n" */
	/* the same key again: kept once */
	OK(store_begin(c->s));
	assert_int_equal(store_log_append(c->s, EV, "<", ">\n", 9, "k1", &a),
			1);
	OK(store_log_append(c->s, EV, "<", ">\n", 9, NULL, &a));
	store_rollback(c->s);
	OK(store_log_bounds(other, EV, &first, &last));
	assert_int_equal(first.seq, 1);
	assert_int_equal(last.seq, 2);
	assert_int_equal(last.off + last.len, 10);
	assert_int_equal(last.at_ns, 8);
	/* from any byte of a line, that line on */
	OK(store_log_read(other, EV, 5, 10, add_line, &l));
	assert_string_equal(l.text, "2@4:<2|x>\n");
	l.text[0] = '\0';
	OK(store_log_read(other, EV, 0, 1, add_line, &l));
	assert_string_equal(l.text, "1@0:<1>\n");
	/* dropped lines: numbers and offsets go on */
	for (int i = 0; i < 10; i++) {
		OK(store_begin(c->s));
		OK(store_log_append(c->s, EV, "<", ">\n", 10 + i, NULL, &a));
		OK(store_commit(c->s));
	}
	assert_int_equal(a.seq, 12);
	OK(store_begin(c->s));
	OK(store_log_prune(c->s, EV, 3, 0));
	OK(store_commit(c->s));
	OK(store_log_bounds(other, EV, &first, &last));
	assert_int_equal(first.seq, 10);
	assert_int_equal(last.seq, 12);
	assert_int_equal(first.off, 4 + 6 + 7 * 4);    /* 1, 2, 3..9 */
	l.text[0] = '\0';
	OK(store_log_read(other, EV, 0, 10, add_line, &l));
	assert_string_equal(l.text, "10@38:<10>\n11@43:<11>\n12@48:<12>\n");
	store_close(other);
	/* across a reopen */
	store_close(c->s);
	OK(store_open(&c->s, c->loc));
	OK(store_begin(c->s));
	OK(store_log_append(c->s, EV, "<", ">\n", 30, NULL, &a));
	OK(store_commit(c->s));
	assert_int_equal(a.seq, 13);
	assert_int_equal(a.off, 53);
	/* the audit log is one of its own, its lines dropped by age; the
	 * newest stays, for the offsets to go on from */
	OK(store_begin(c->s));
	for (int i = 1; i <= 3; i++)
		OK(store_log_append(c->s, STORE_LOG_AUDIT, "<", ">\n",
				100 * i, NULL, &a));
	OK(store_commit(c->s));
	assert_int_equal(a.seq, 3);
	assert_int_equal(a.off, 8);
	OK(store_begin(c->s));
	OK(store_log_prune(c->s, STORE_LOG_AUDIT, 0, 250));
	OK(store_commit(c->s));
	OK(store_log_bounds(c->s, STORE_LOG_AUDIT, &first, &last));
	assert_int_equal(first.seq, 3);
	assert_int_equal(first.off, 8);
	OK(store_begin(c->s));
	OK(store_log_prune(c->s, STORE_LOG_AUDIT, 0, 1000));
	OK(store_commit(c->s));
	OK(store_log_bounds(c->s, STORE_LOG_AUDIT, &first, &last));
	assert_int_equal(first.seq, 3);
	OK(store_log_bounds(c->s, EV, &first, &last));
	assert_int_equal(last.seq, 13);
	/* lines no one waits for (out NULL): after the ones before them,
	 * in order, with the commit; a rollback takes them too */
	OK(store_begin(c->s));
	OK(store_log_append(c->s, STORE_LOG_AUDIT, "<", "|it's>\n", 400, NULL,
			NULL));
	store_rollback(c->s);
	OK(store_begin(c->s));
	OK(store_log_append(c->s, STORE_LOG_AUDIT, "<", "|a>\n", 500, NULL,
			NULL));
	OK(store_log_append(c->s, STORE_LOG_AUDIT, "<", "|b's>\n", 501, NULL,
			NULL));
	OK(store_commit(c->s));
	l.text[0] = '\0';
	OK(store_log_read(c->s, STORE_LOG_AUDIT, 8, 10, add_line, &l));
	assert_string_equal(l.text, "3@8:<3>\n4@12:<4|a>\n5@18:<5|b's>\n");
	OK(store_log_bounds(c->s, STORE_LOG_AUDIT, &first, &last));
	assert_int_equal(last.seq, 5);
	assert_int_equal(last.at_ns, 501);
}

/* store_log_append_late(): the places of lines appended in a change,
 * among lines no one waits for and lines awaited at once, are each
 * line's once the change committed; a rollback takes them all. */
static void test_event_log_late(void **state)
{
	struct cf *c = *state;
	struct store *other = second(c);
	struct store_event a, b, d, first, last;
	struct lines l = { "", 0 };

	OK(store_begin(c->s));
	OK(store_log_append_late(c->s, EV, "<", "|a>\n", 5, &a));
	OK(store_log_append(c->s, STORE_LOG_AUDIT, "<", "|x>\n", 5, NULL,
			NULL));
	OK(store_log_append_late(c->s, EV, "<", "|bb>\n", 6, &b));
	OK(store_commit(c->s));
	assert_int_equal(a.seq, 1);
	assert_int_equal(a.off, 0);
	assert_int_equal(a.len, 6);            /* "<1|a>\n" */
	assert_int_equal(a.at_ns, 5);
	assert_int_equal(b.seq, 2);
	assert_int_equal(b.off, 6);
	assert_int_equal(b.len, 7);            /* "<2|bb>\n" */
	assert_int_equal(b.at_ns, 6);
	/* after one awaited at once, in the order they were appended */
	OK(store_begin(c->s));
	OK(store_log_append(c->s, EV, "<", "|k>\n", 7, "k", &d));
	OK(store_log_append_late(c->s, EV, "<", "|c>\n", 8, &a));
	OK(store_commit(c->s));
	assert_int_equal(d.seq, 3);
	assert_int_equal(a.seq, 4);
	assert_int_equal(a.off, 6 + 7 + 6);
	/* a rollback: neither line nor number stays */
	OK(store_begin(c->s));
	OK(store_log_append_late(c->s, EV, "<", "|gone>\n", 9, &b));
	store_rollback(c->s);
	OK(store_log_bounds(other, EV, &first, &last));
	assert_int_equal(first.seq, 1);
	assert_int_equal(last.seq, 4);
	assert_int_equal(last.off, a.off);
	assert_int_equal(last.at_ns, 8);
	OK(store_log_read(other, EV, 0, 10, add_line, &l));
	assert_string_equal(l.text, "1@0:<1|a>\n2@6:<2|bb>\n3@13:<3|k>\n"
			"4@19:<4|c>\n");
	store_close(other);
}

/* store_runtime_list() of those last heard in a span of time. */
static void test_runtimes_heard_between(void **state)
{
	struct cf *c = *state;
	struct store_runtime_filter f = { .heard_after_ns = 100,
		.heard_upto_ns = 200 };
	int64_t prod = env(c->s, "prod");
	const char *names[] = { "early", "in", "edge", "late", "never" };
	const int64_t heard[] = { 100, 150, 200, 201, 0 };
	struct names n = { "" };

	for (int i = 0; i < 5; i++) {
		struct store_runtime rt;

		runtime(c->s, prod, names[i], 0, i + 1);
		rt = get_runtime(c->s, prod, names[i]);
		rt.heartbeat_ns = heard[i];
		OK(store_runtime_report(c->s, &rt));
	}
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "prod/edge prod/in ");
	f.heard_after_ns = 0;
	f.heard_upto_ns = 0;             /* no span: every runtime */
	n.s[0] = '\0';
	OK(store_runtime_list(c->s, &f, runtime_name, &n));
	assert_string_equal(n.s, "prod/early prod/edge prod/in prod/late"
			" prod/never ");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_and_reopen),
		T(test_environments),
		T(test_projects_and_integrations),
		T(test_runtimes),
		T(test_runtime_list_filters),
		T(test_versions_and_endpoints),
		T(test_secrets),
		T(test_runtime_delete_cascades),
		T(test_icp_rows),
		T(test_artifacts),
		T(test_service_accounts),
		T(test_sealed_sample),
		T(test_transactions),
		T(test_heartbeat_never_back),
		T(test_heartbeat_batch),
		T(test_busy_is_eagain),
		T(test_another_handle),
		T(test_watch),
		T(test_announce),
		T(test_announce_in_change),
		T(test_is_empty),
		T(test_load),
		T(test_load_dangling),
		T(test_dump),
		T(test_claims),
		T(test_snapshots),
		T(test_snapshot_list_stops),
		T(test_event_log),
		T(test_event_log_late),
		T(test_runtimes_heard_between),
	};
	const char *loc = getenv("RUNTIMEFS_TEST_LOCATOR");
	char name[64];

	B = loc && *loc ? pg_backend : sqlite_backend;
	snprintf(name, sizeof(name), "store conformance (%s)", B.name);
	return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
