/*
 * test_faults.c - fault injection, as SQLite does it (test_malloc.c,
 * SQLITE_TESTCTRL_FAULT_INSTALL): every model operation that changes
 * state runs again and again with the n-th store call failing, for n = 1,
 * 2, 3, ... until it runs through, once with each of ENOMEM, EIO and
 * ENOSPC.  A refused change must fail with the injected errno and say so
 * in model_errmsg(), leave the store as it was (everything store_dump()
 * gives, read through a handle of its own, byte for byte) and the
 * model's view as it was (its listings), release the model's lock, tell
 * the watcher nothing, and leave the model serving: a read and a small
 * change succeed at once.  The output gives each operation's fault points
 * (the store calls it makes).
 *
 * Built against the core compiled with -DSTORE_FAULTS (build/faults/),
 * on a real store in a temporary directory with a fake clock
 * (fixture.h).
 *
 * To add an operation (a new model call that changes something, such as
 * the whole-object deletes of `rm -r`): write its setup, the state it
 * needs built with ordinary model calls on c->m (compose the s_*
 * functions), and its run, the one call returning the model's result;
 * then add a line to ops[] at the end.  The walk, the checks and the
 * report are the same for every operation.  Only an operation of two
 * steps, whose first may go through when the second fails (a heartbeat
 * and its flush), needs a `partial` check.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../model/model_int.h"

#include "fixture.h"
#include "backup.h"

#ifndef STORE_FAULTS
#error "test_faults.c needs the store's fault hook: build with -DSTORE_FAULTS"
#endif

#define OK(call) do { \
		int ok_ = (call); \
		if (ok_) \
			fail_msg("%s: %d (%s)", #call, ok_, model_errmsg()); \
	} while (0)

/* A spec with a password (version 1), the same without it (the password
 * carried over: no new version when nothing else changed), another image
 * (a new version, the password carried over). */
#define AUTH_SPEC_FMT "{\"imageUrl\": \"registry.example/chat:%d\"," \
	" \"flavorId\": \"g1-small\", \"command\": [\"python\"]," \
	" \"args\": [\"app.py\"], \"environmentVariables\": {\"A\": \"1\"}," \
	" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\": 3," \
	" \"cpuUtilization\": 70, \"memoryUtilization\": 80}," \
	" \"description\": \"chat agent\", \"imageAuth\": {\"enabled\": true," \
	" \"username\": \"u\"%s}}"

/* -- growing text ------------------------------------------------------ */

struct text {
	char *s;
	size_t len, cap;
};

static void tadd(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tadd(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ?
				t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	t->len += (size_t)n;
}

static void tfree(struct text *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* -- one operation's world --------------------------------------------- */

struct ctx {
	struct fixture *f;
	struct model *m;              /* under test: f->m, or a restore's
				       * target */
	char db[160];                 /* its database */
	char cred[MODEL_CREDENTIAL_MAX];   /* a secret's or service
					    * account's credential */
	struct typed backup;          /* what a restore restores */
	int stage;                    /* how far the run came (partial) */
	int64_t beat_ns;              /* the time of the run's heartbeat */
	int events;                   /* what the watcher heard */
	char where[128];              /* "OP: ERRNO at store call N" */
	struct text db0, view0;       /* the database and the view after
				       * setup */
};

struct fault_op {
	const char *name;
	void (*setup)(struct ctx *c);
	int (*run)(struct ctx *c);
	/* For an operation of two steps: after a fault, checks what the
	 * first step left if it went through and returns 1, the model then
	 * being set up again; returns 0 when it did not, and the checks of
	 * a refused change follow. */
	int (*partial)(struct ctx *c);
};

static void heard(void *ctx, const struct model_event *ev)
{
	(void)ev;
	((struct ctx *)ctx)->events++;
}

/* A fresh fixture whose heartbeat times wait for a flush by hand (no
 * flusher thread to make store calls of its own), watched. */
static void ctx_open(struct ctx *c, const struct fault_op *op)
{
	void *state = NULL;

	memset(c, 0, sizeof(*c));
	assert_int_equal(setup(&state), 0);
	c->f = state;
	model_close(c->f->m);
	c->f->flush_ns = -1;
	OK(open_model(c->f));
	c->m = c->f->m;
	snprintf(c->db, sizeof(c->db), "%s", c->f->db);
	op->setup(c);
	model_watch(c->m, heard, c);
}

static void ctx_close(struct ctx *c)
{
	void *state = c->f;

	if (c->m != c->f->m)
		model_close(c->m);
	typed_release(&c->backup);
	assert_int_equal(teardown(&state), 0);
}

/* -- what must not change ---------------------------------------------- */

/* Everything the store at `path` holds (store_dump()), read through a
 * handle of its own: what was committed, byte for byte. */
static void dump_db(const char *path, struct text *t)
{
	char *d = dump_store(path);

	tadd(t, "%s", d);
	free(d);
}

#define NAMES_MAX 16

struct names {
	char v[NAMES_MAX][MODEL_NAME_MAX];
	int n;
};

struct walk {
	struct text *t;
	struct names *names;
	struct model *m;
};

static void keep(struct names *names, const char *name)
{
	assert_true(names->n < NAMES_MAX);
	snprintf(names->v[names->n++], MODEL_NAME_MAX, "%s", name);
}

static int view_env(void *ctx, const struct model_env *e)
{
	struct walk *w = ctx;

	tadd(w->t, "env %s critical=%d created=%lld mtime=%lld\n", e->name,
			e->critical, (long long)e->created_ns,
			(long long)e->mtime_ns);
	keep(w->names, e->name);
	return 0;
}

static int view_project(void *ctx, const struct model_project *p)
{
	struct walk *w = ctx;

	tadd(w->t, "project %s created=%lld\n", p->name,
			(long long)p->created_ns);
	keep(w->names, p->name);
	return 0;
}

static int view_integration(void *ctx, const struct model_integration *in)
{
	struct walk *w = ctx;

	tadd(w->t, "integration %s/%s type=%s created=%lld mtime=%lld\n",
			in->project, in->name, in->type,
			(long long)in->created_ns, (long long)in->mtime_ns);
	return 0;
}

static int view_runtime(void *ctx, const struct model_runtime *rt)
{
	struct walk *w = ctx;

	tadd(w->t, "runtime %s/%s uuid=%s type=%s in=%s/%s status=%s"
			" since=%lld until=%lld version='%s' platform='%s'"
			" os='%s' registered=%lld heartbeat=%lld info=%lld"
			" assigned=%lld latest=%lld deployed=%lld"
			" revoked=%lld secret=%s\n", rt->env, rt->name, rt->uuid,
			rt->type, rt->project, rt->integration, rt->status,
			(long long)rt->status_ns,
			(long long)rt->status_until_ns, rt->runtime_version,
			rt->platform, rt->os, (long long)rt->registered_ns,
			(long long)rt->heartbeat_ns, (long long)rt->info_ns,
			(long long)rt->assigned_ns,
			(long long)rt->latest_version,
			(long long)rt->deployed_ns, (long long)rt->revoked_ns,
			rt->secret);
	keep(w->names, rt->name);
	return 0;
}

static int view_secret(void *ctx, const struct model_secret *s)
{
	struct walk *w = ctx;

	tadd(w->t, "secret %s/%s key=%s scope=%s/%s created=%lld\n", s->env,
			s->name, s->key_id, s->project, s->integration,
			(long long)s->created_ns);
	keep(w->names, s->name);
	return 0;
}

static int view_version(void *ctx, int64_t number, int64_t created_ns)
{
	struct walk *w = ctx;

	tadd(w->t, "  version %lld created=%lld\n", (long long)number,
			(long long)created_ns);
	return 0;
}

static int view_endpoint(void *ctx, const struct model_endpoint *e)
{
	struct walk *w = ctx;

	tadd(w->t, "  endpoint %s id=%s version=%lld created=%lld"
			" updated=%lld\n", e->name, e->id,
			(long long)e->version, (long long)e->created_ns,
			(long long)e->updated_ns);
	return 0;
}

static int view_snapshot(void *ctx, const char *name, int64_t taken_ns)
{
	struct walk *w = ctx;

	tadd(w->t, "snapshot %s taken=%lld\n", name, (long long)taken_ns);
	return 0;
}

/* Everything of one runtime the model shows, but its service account:
 * reading that may write one (an old runtime's), and the database's dump
 * holds it. */
static void view_runtime_whole(struct ctx *c, struct text *t,
		const char *env, const char *name)
{
	struct walk w = { t, NULL, c->m };
	struct model_runtime rt;
	struct model_secret sec;
	char *text;
	int64_t ns;

	OK(model_runtime_get(c->m, env, name, &rt));
	OK(model_spec_get(c->m, env, name, &text, &ns));
	tadd(t, "  spec at %lld: %s", (long long)ns, text);
	free(text);
	OK(model_version_list(c->m, env, name, view_version, &w));
	for (int64_t v = 1; v <= rt.latest_version; v++) {
		if (model_version_get(c->m, env, name, v, &text, &ns))
			continue;
		tadd(t, "  versions/%lld: %s", (long long)v, text);
		free(text);
	}
	OK(model_endpoint_list(c->m, env, name, view_endpoint, &w));
	if (*rt.secret) {
		OK(model_runtime_secret_get(c->m, env, name, &sec));
		tadd(t, "  bound secret %s %s\n", sec.name, sec.secret);
	}
}

/* The model as its listings show it: every environment, runtime (with
 * spec, versions, endpoints, bound secret), unbound secret, project,
 * integration and snapshot, and the heartbeat times waiting.  (What the
 * store keeps beside, a failed copy's leftovers too, is in its dump.) */
static void dump_view(struct ctx *c, struct text *t)
{
	struct names envs = { .n = 0 }, projects = { .n = 0 };
	struct walk w = { t, &envs, c->m };

	OK(model_env_list(c->m, view_env, &w));
	for (int i = 0; i < envs.n; i++) {
		struct model_runtime_filter flt = { envs.v[i], NULL, NULL };
		struct model_secret_scope sc = { envs.v[i], NULL, NULL };
		struct names rts = { .n = 0 }, secs = { .n = 0 };
		struct model_secret sec;

		w.names = &rts;
		OK(model_runtime_list(c->m, &flt, view_runtime, &w));
		for (int k = 0; k < rts.n; k++)
			view_runtime_whole(c, t, envs.v[i], rts.v[k]);
		w.names = &secs;
		OK(model_secret_list(c->m, &sc, view_secret, &w));
		for (int k = 0; k < secs.n; k++) {
			OK(model_secret_get(c->m, &sc, secs.v[k], &sec));
			tadd(t, "  %s\n", sec.secret);
		}
	}
	w.names = &projects;
	OK(model_project_list(c->m, view_project, &w));
	for (int i = 0; i < projects.n; i++)
		OK(model_integration_list(c->m, projects.v[i],
				view_integration, &w));
	OK(model_snapshot_list(c->m, view_snapshot, &w));
	tadd(t, "heartbeats waiting %zu\n", model_liveness_pending(c->m));
}

/* The first line where `now` differs from `was`, as a test failure. */
static void same(struct ctx *c, const char *what, const struct text *was,
		const struct text *now)
{
	const char *a = was->s, *b = now->s;

	if (!strcmp(a, b))
		return;
	while (*a && *a == *b) {
		const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');

		if (!na || !nb || na - a != nb - b || memcmp(a, b,
				(size_t)(na - a)))
			break;
		a = na + 1;
		b = nb + 1;
	}
	fail_msg("%s changed the %s:\n  was: %.*s\n  now: %.*s", c->where,
			what, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"),
			b);
}

/* The database is as it was after setup. */
static void same_db(struct ctx *c)
{
	struct text db = { 0 };

	dump_db(c->db, &db);
	same(c, "database", &c->db0, &db);
	tfree(&db);
}

/* The model's view is as it was after setup. */
static void same_view(struct ctx *c)
{
	struct text view = { 0 };

	dump_view(c, &view);
	same(c, "model's view", &c->view0, &view);
	tfree(&view);
}

/* The model serves: a read, and a small change undone, which the event
 * log keeps: the database the next try must leave as it was is this. */
static void serving(struct ctx *c)
{
	struct model_env e;
	int n = 0;

	OK(model_env_list(c->m, (model_env_cb)count_cb, &n));
	OK(model_env_create(c->m, "fault-probe"));
	OK(model_env_get(c->m, "fault-probe", &e));
	OK(model_env_delete(c->m, "fault-probe"));
	c->events = 0;
	tfree(&c->db0);
	dump_db(c->db, &c->db0);
}

/* -- the walk ------------------------------------------------------------ */

static const int errs[] = { -ENOMEM, -EIO, -ENOSPC };

/* Where the walk is, for a hang's report. */
static char walking[128];

static void hung(int sig)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "test_faults: %s: hangs; a lock"
			" not released?\n", walking);

	(void)sig;
	if (write(2, msg, (size_t)n) < 0)
		_exit(3);
	_exit(2);
}

/* A fresh model set up for `op`, and what it shows. */
static void walk_setup(struct ctx *c, const struct fault_op *op)
{
	ctx_open(c, op);
	dump_db(c->db, &c->db0);
	dump_view(c, &c->view0);
}

static void walk_teardown(struct ctx *c)
{
	tfree(&c->db0);
	tfree(&c->view0);
	ctx_close(c);
}

/* Runs `op` with a fault at n = 1, 2, ... until it runs through; returns
 * its number of fault points. */
static int walk_one(const struct fault_op *op, int err)
{
	struct ctx c;
	int n, ret;

	walk_setup(&c, op);
	for (n = 1;; n++) {
		snprintf(c.where, sizeof(c.where), "%s: %s at store call %d",
				op->name, strerrorname_np(-err), n);
		memcpy(walking, c.where, sizeof(walking));
		alarm(60);
		model_errclear();
		c.events = 0;
		c.stage = 0;
		store_fault_install(n, err);
		ret = op->run(&c);
		if (!store_fault_fired()) {
			store_fault_install(0, 0);
			if (ret)
				fail_msg("%s: ran through with no fault and"
						" failed: %d (%s)", op->name, ret,
						model_errmsg());
			break;
		}
		store_fault_install(0, 0);
		if (ret != err)
			fail_msg("%s gave %d (%s)", c.where, ret,
					model_errmsg());
		if (!strstr(model_errmsg(), "injected fault"))
			fail_msg("%s: the message '%s' does not tell of it",
					c.where, model_errmsg());
		if (pthread_mutex_trylock(&c.m->lock))
			fail_msg("%s left the model locked", c.where);
		pthread_mutex_unlock(&c.m->lock);
		if (op->partial && op->partial(&c)) {
			/* new ids, keys and secrets: new dumps */
			walk_teardown(&c);
			walk_setup(&c, op);
			continue;
		}
		same_db(&c);
		if (c.events)
			fail_msg("%s: the watcher heard of a change that was"
					" refused", c.where);
		same_view(&c);
		serving(&c);
	}
	serving(&c);
	alarm(0);
	walk_teardown(&c);
	return n - 1;
}

static void test_walk(void **state)
{
	const struct fault_op *op = *state;
	int points[3];

	for (int i = 0; i < 3; i++) {
		points[i] = walk_one(op, errs[i]);
		if (points[i] != points[0])
			fail_msg("%s: %d fault points with %s, %d with %s",
					op->name, points[0],
					strerrorname_np(-errs[0]), points[i],
					strerrorname_np(-errs[i]));
	}
	print_message("%-28s %2d fault points\n", op->name, points[0]);
}

/* -- setups: the state each operation needs ----------------------------- */

/* prod; shop/orders. */
static void s_base(struct ctx *c)
{
	OK(model_env_create(c->m, "prod"));
	OK(model_project_create(c->m, "shop"));
	OK(model_integration_create(c->m, "shop", "orders"));
}

static void s_env_dev(struct ctx *c)
{
	s_base(c);
	OK(model_env_create(c->m, "dev"));
}

static void s_project_web(struct ctx *c)
{
	s_base(c);
	OK(model_project_create(c->m, "web"));
}

static void s_integration_billing(struct ctx *c)
{
	s_base(c);
	OK(model_integration_create(c->m, "shop", "billing"));
}

/* An agent runtime prod/chat, in no integration. */
static void s_agent(struct ctx *c)
{
	s_base(c);
	OK(model_runtime_create(c->m, "prod", "chat", NULL, NULL));
}

static int deploy(struct ctx *c, int image, int password)
{
	char spec[1024];

	snprintf(spec, sizeof(spec), AUTH_SPEC_FMT, image, password ?
			", \"password\": \"p\"" : "");
	return model_deploy(c->m, "prod", "chat", spec, strlen(spec), NULL);
}

/* chat with version 1 (an image password), DEFAULT on it. */
static void s_deployed(struct ctx *c)
{
	s_agent(c);
	c->f->now += SEC;
	OK(deploy(c, 1, 1));
	c->f->now += SEC;
}

/* chat with versions 1 and 2, DEFAULT on 2. */
static void s_deployed2(struct ctx *c)
{
	s_deployed(c);
	OK(deploy(c, 2, 0));
	c->f->now += SEC;
}

/* chat with versions 1, 2 and 3, DEFAULT on 3, canary on 1. */
static void s_three_versions(struct ctx *c)
{
	s_deployed2(c);
	OK(deploy(c, 3, 0));
	OK(model_endpoint_create(c->m, "prod", "chat", "canary"));
	OK(model_endpoint_pin(c->m, "prod", "chat", "canary", "1"));
	c->f->now += SEC;
}

static void s_canary(struct ctx *c)
{
	s_deployed(c);
	OK(model_endpoint_create(c->m, "prod", "chat", "canary"));
	c->f->now += SEC;
}

static void s_stopped(struct ctx *c)
{
	s_deployed(c);
	OK(model_runtime_ctl(c->m, "prod", "chat", "stop"));
	c->f->now += SEC;
}

/* chat deployed, c->cred its service account's credential. */
static void s_service_account(struct ctx *c)
{
	struct model_service_account sa;

	s_deployed(c);
	OK(model_service_account_get(c->m, "prod", "chat", &sa));
	snprintf(c->cred, sizeof(c->cred), "%s", sa.credential);
}

/* chat deployed, with no service account, as a runtime from before
 * service accounts: the next read makes one. */
static void s_no_service_account(struct ctx *c)
{
	s_base(c);
	runtime_without_account(c->f, "prod", "chat");
	c->f->now += SEC;
	OK(deploy(c, 1, 1));
	c->f->now += SEC;
}

static const struct model_secret_scope PROD = { "prod", NULL, NULL };
static const struct model_secret_scope ORDERS = { "prod", "shop", "orders" };

/* prod's secret s1, unbound; c->cred its credential. */
static void s_secret_alone(struct ctx *c)
{
	struct model_secret s;

	OK(model_secret_create(c->m, &PROD, "s1"));
	OK(model_secret_get(c->m, &PROD, "s1", &s));
	snprintf(c->cred, sizeof(c->cred), "%s", s.secret);
}

/* prod, and its secret s1: no project yet. */
static void s_secret_no_project(struct ctx *c)
{
	OK(model_env_create(c->m, "prod"));
	s_secret_alone(c);
}

static void s_secret(struct ctx *c)
{
	s_base(c);
	s_secret_alone(c);
}

static int beat(struct ctx *c, const char *version)
{
	struct model_heartbeat_reply r;
	char json[512];

	snprintf(json, sizeof(json), "{\"secret\": \"%s\", \"runtime\":"
			" \"orders-1\", \"runtimeType\": \"MI\","
			" \"environment\": \"prod\", \"project\": \"shop\","
			" \"component\": \"orders\", \"version\": \"%s\"}",
			c->cred, version);
	return model_heartbeat(c->m, json, strlen(json), &r);
}

/* MI runtime orders-1 registered by its heartbeat, s1 bound to it; a
 * second later. */
static void s_registered(struct ctx *c)
{
	s_secret(c);
	OK(beat(c, "4.4.0"));
	c->f->now += SEC;
}

/* orders-1 as above, gone OFFLINE: it may be deleted. */
static void s_registered_offline(struct ctx *c)
{
	s_registered(c);
	c->f->now += 60 * SEC;
}

static void s_snapshot(struct ctx *c)
{
	s_base(c);
	OK(model_snapshot_create(c->m, "snap"));
}

/* A backup of the fixture's model (backup.h), and an empty model beside
 * it to restore it into: the model under test. */
static void s_backup(struct ctx *c)
{
	char cred[MODEL_SECRET_MAX], spare[MODEL_SECRET_MAX];

	make_typed(c->f, &c->backup, cred, spare);
	c->m = open_target(c->f, "target.db");
	snprintf(c->db, sizeof(c->db), "%s/target.db", c->f->dir);
}

/* What `rm -r` of an object removes whole (remove.c): chat with three
 * versions and a canary, orders-1 registered and gone OFFLINE, an unbound
 * secret of prod and one of the integration. */
static void s_whole(struct ctx *c)
{
	s_three_versions(c);
	s_secret_alone(c);
	OK(beat(c, "4.4.0"));
	OK(model_secret_create(c->m, &PROD, "spare"));
	OK(model_secret_create(c->m, &ORDERS, "key"));
	c->f->now += 60 * SEC;
}

/* A walk that removed every part it is asked about. */
static int covers_all(void *ctx, const struct model_part *part)
{
	(void)ctx;
	(void)part;
	return 1;
}

static const struct model_cover ALL = { covers_all, NULL };

/* -- runs: the operations ----------------------------------------------- */

static int r_env_create(struct ctx *c)
{
	return model_env_create(c->m, "dev");
}

static int r_env_delete(struct ctx *c)
{
	return model_env_delete(c->m, "dev");
}

static int r_env_set_critical(struct ctx *c)
{
	return model_env_set_critical(c->m, "prod", "1");
}

static int r_project_create(struct ctx *c)
{
	return model_project_create(c->m, "web");
}

static int r_project_delete(struct ctx *c)
{
	return model_project_delete(c->m, "web");
}

static int r_integration_create(struct ctx *c)
{
	return model_integration_create(c->m, "shop", "billing");
}

static int r_integration_delete(struct ctx *c)
{
	return model_integration_delete(c->m, "shop", "billing");
}

static int r_integration_set_type(struct ctx *c)
{
	return model_integration_set_type(c->m, "shop", "orders", "MI");
}

static int r_runtime_create(struct ctx *c)
{
	return model_runtime_create(c->m, "prod", "chat", "shop", "orders");
}

static int r_runtime_assign(struct ctx *c)
{
	return model_runtime_assign(c->m, "prod", "chat", "shop", "orders");
}

static int r_runtime_delete(struct ctx *c)
{
	return model_runtime_delete(c->m, "prod", "chat");
}

static int r_runtime_delete_bound(struct ctx *c)
{
	return model_runtime_delete(c->m, "prod", "orders-1");
}

static int r_secret_create(struct ctx *c)
{
	return model_secret_create(c->m, &PROD, "s2");
}

static int r_secret_create_scoped(struct ctx *c)
{
	return model_secret_create(c->m, &ORDERS, "s3");
}

static int r_secret_revoke(struct ctx *c)
{
	return model_secret_revoke(c->m, &PROD, "s1");
}

static int r_secret_revoke_bound(struct ctx *c)
{
	return model_runtime_secret_revoke(c->m, "prod", "orders-1");
}

static int r_heartbeat_register(struct ctx *c)
{
	return beat(c, "4.4.0");
}

static int r_heartbeat_new_version(struct ctx *c)
{
	return beat(c, "4.5.0");
}

static int r_heartbeat_service_account(struct ctx *c)
{
	struct model_heartbeat_reply r;
	char json[512];

	snprintf(json, sizeof(json), "{\"serviceAccount\": \"%s\","
			" \"runtime\": \"chat\", \"environment\": \"prod\"}",
			c->cred);
	return model_heartbeat(c->m, json, strlen(json), &r);
}

/* A heartbeat that only moves time, then the flush that writes it. */
static int r_heartbeat_liveness(struct ctx *c)
{
	int ret = beat(c, "4.4.0");

	if (ret)
		return ret;
	c->stage = 1;
	c->beat_ns = c->f->now;
	return model_liveness_flush(c->m);
}

/* The stored row of prod's runtime `name`, read through a handle of its
 * own: what was committed. */
static struct store_runtime stored(struct ctx *c, const char *name)
{
	struct store_runtime rt;
	struct store_env e;
	struct store *s;

	OK(store_open(&s, c->db));
	OK(store_env_get(s, "prod", &e));
	OK(store_runtime_get(s, e.id, name, &rt));
	store_close(s);
	return rt;
}

/* Whether prod's runtime `name` has a service account, as committed. */
static int has_account(struct ctx *c, const char *name)
{
	struct store_service_account sa;
	int64_t id = stored(c, name).id;
	struct store *s;
	int ret;

	OK(store_open(&s, c->db));
	ret = store_service_account_get(s, id, &sa);
	store_close(s);
	if (ret && ret != -ENOENT)
		fail_msg("%s: reading the service account: %d", c->where,
				ret);
	return ret == 0;
}

/* The heartbeat went through and its flush failed: nothing is written,
 * and its time waits for the next flush, seen meanwhile, not lost. */
static int p_heartbeat_liveness(struct ctx *c)
{
	struct model_runtime rt;

	if (!c->stage)
		return 0;
	same_db(c);
	if (model_liveness_pending(c->m) != 1)
		fail_msg("%s: the failed flush lost the heartbeat time",
				c->where);
	OK(model_runtime_get(c->m, "prod", "orders-1", &rt));
	if (rt.heartbeat_ns != c->beat_ns)
		fail_msg("%s: after the failed flush the last heartbeat"
				" reads %lld, not %lld", c->where,
				(long long)rt.heartbeat_ns,
				(long long)c->beat_ns);
	OK(model_liveness_flush(c->m));
	if (stored(c, "orders-1").heartbeat_ns != c->beat_ns)
		fail_msg("%s: the next flush did not write the time that"
				" waited", c->where);
	serving(c);
	return 1;
}

static int r_deploy_first(struct ctx *c)
{
	return deploy(c, 1, 1);
}

static int r_deploy_later(struct ctx *c)
{
	return deploy(c, 2, 0);
}

static int r_deploy_same(struct ctx *c)
{
	return deploy(c, 1, 0);
}

static int r_endpoint_create(struct ctx *c)
{
	return model_endpoint_create(c->m, "prod", "chat", "canary");
}

static int r_endpoint_pin(struct ctx *c)
{
	return model_endpoint_pin(c->m, "prod", "chat", "DEFAULT", "1");
}

static int r_endpoint_delete(struct ctx *c)
{
	return model_endpoint_delete(c->m, "prod", "chat", "canary");
}

static int r_version_delete(struct ctx *c)
{
	return model_version_delete(c->m, "prod", "chat", 2);
}

static int r_ctl_start(struct ctx *c)
{
	return model_runtime_ctl(c->m, "prod", "chat", "start");
}

static int r_ctl_stop(struct ctx *c)
{
	return model_runtime_ctl(c->m, "prod", "chat", "stop");
}

static int r_ctl_reset(struct ctx *c)
{
	return model_runtime_ctl(c->m, "prod", "chat",
			"reset-service-account");
}

static int r_service_account_add(struct ctx *c)
{
	struct model_service_account sa;

	return model_service_account_get(c->m, "prod", "chat", &sa);
}

/* The account was made and committed, and the read that follows failed:
 * a lazy upgrade, done once, not a refused change.  The next read shows
 * the account made. */
static int p_service_account_add(struct ctx *c)
{
	struct model_service_account sa;
	struct store_service_account first, now;
	struct store *s;
	int64_t id;

	if (!has_account(c, "chat"))
		return 0;
	id = stored(c, "chat").id;
	OK(store_open(&s, c->db));
	OK(store_service_account_get(s, id, &first));
	store_close(s);
	OK(model_service_account_get(c->m, "prod", "chat", &sa));
	OK(store_open(&s, c->db));
	OK(store_service_account_get(s, id, &now));
	store_close(s);
	if (strcmp(first.client_id, now.client_id))
		fail_msg("%s: a second service account was made", c->where);
	serving(c);
	return 1;
}

static int r_snapshot_create(struct ctx *c)
{
	return model_snapshot_create(c->m, "snap");
}

/* snapshot.deleted is logged before the drop, as a snapshot is no
 * transaction: a drop that fails after it leaves that line (README,
 * "Events"), and only that. */
static int p_snapshot_delete(struct ctx *c)
{
	(void)c;
	return strstr(model_errmsg(), "in store_snapshot_drop") != NULL;
}

static int r_snapshot_delete(struct ctx *c)
{
	return model_snapshot_delete(c->m, "snap");
}

static int r_restore(struct ctx *c)
{
	return model_restore_apply(c->m, &c->backup.b);
}

/* Every model operation that changes state: name, setup, run[, partial]. */
static int r_env_remove(struct ctx *c)
{
	return model_env_remove(c->m, "prod", &ALL);
}

static int r_runtime_remove(struct ctx *c)
{
	return model_runtime_remove(c->m, "prod", "chat", &ALL);
}

static int r_integration_remove(struct ctx *c)
{
	return model_integration_remove(c->m, "shop", "orders", &ALL);
}

static int r_project_remove(struct ctx *c)
{
	return model_project_remove(c->m, "shop", &ALL);
}

static const struct fault_op ops[] = {
	{ "env_create", s_base, r_env_create, NULL },
	{ "env_delete", s_env_dev, r_env_delete, NULL },
	{ "env_set_critical", s_base, r_env_set_critical, NULL },
	{ "project_create", s_base, r_project_create, NULL },
	{ "project_delete", s_project_web, r_project_delete, NULL },
	{ "integration_create", s_base, r_integration_create, NULL },
	{ "integration_delete", s_integration_billing, r_integration_delete,
	  NULL },
	{ "integration_set_type", s_base, r_integration_set_type, NULL },
	{ "runtime_create", s_base, r_runtime_create, NULL },
	{ "runtime_assign", s_agent, r_runtime_assign, NULL },
	{ "runtime_delete", s_deployed, r_runtime_delete, NULL },
	{ "runtime_delete_bound", s_registered_offline,
	  r_runtime_delete_bound, NULL },
	{ "secret_create", s_base, r_secret_create, NULL },
	{ "secret_create_scoped", s_base, r_secret_create_scoped, NULL },
	{ "secret_revoke", s_secret, r_secret_revoke, NULL },
	{ "secret_revoke_bound", s_registered, r_secret_revoke_bound, NULL },
	{ "heartbeat_register", s_secret_no_project, r_heartbeat_register,
	  NULL },
	{ "heartbeat_new_version", s_registered, r_heartbeat_new_version,
	  NULL },
	{ "heartbeat_service_account", s_service_account,
	  r_heartbeat_service_account, NULL },
	{ "heartbeat_liveness_flush", s_registered, r_heartbeat_liveness,
	  p_heartbeat_liveness },
	{ "deploy_first", s_agent, r_deploy_first, NULL },
	{ "deploy_later", s_deployed, r_deploy_later, NULL },
	{ "deploy_same", s_deployed, r_deploy_same, NULL },
	{ "endpoint_create", s_deployed, r_endpoint_create, NULL },
	{ "endpoint_pin", s_deployed2, r_endpoint_pin, NULL },
	{ "endpoint_delete", s_canary, r_endpoint_delete, NULL },
	{ "version_delete", s_three_versions, r_version_delete, NULL },
	{ "ctl_start", s_stopped, r_ctl_start, NULL },
	{ "ctl_stop", s_deployed, r_ctl_stop, NULL },
	{ "ctl_reset_service_account", s_deployed, r_ctl_reset, NULL },
	{ "service_account_add", s_no_service_account, r_service_account_add,
	  p_service_account_add },
	{ "snapshot_create", s_base, r_snapshot_create, NULL },
	{ "snapshot_delete", s_snapshot, r_snapshot_delete,
		p_snapshot_delete },
	{ "restore", s_backup, r_restore, NULL },
	{ "env_remove_whole", s_whole, r_env_remove, NULL },
	{ "runtime_remove_whole", s_whole, r_runtime_remove, NULL },
	{ "integration_remove_whole", s_whole, r_integration_remove, NULL },
	{ "project_remove_whole", s_whole, r_project_remove, NULL },
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* -- the hook itself ---------------------------------------------------- */

/* The n-th call fails once, with its message; n <= 0 is off; a failed
 * commit rolls back; the count can wait for the next change. */
static void test_hook(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->m->store;
	struct store_env e;
	struct model *m;
	int64_t n;

	store_fault_install(2, -EIO);
	assert_int_equal(store_env_get(s, "prod", &e), -ENOENT);
	assert_int_equal(store_fault_fired(), 0);
	assert_int_equal(store_env_get(s, "prod", &e), -EIO);
	assert_string_equal(store_errmsg(), "injected fault (EIO in"
			" store_env_get)");
	assert_int_equal(store_fault_fired(), 1);
	assert_int_equal(store_env_children(s, 1, &n), 0);
	store_fault_install(0, 0);
	assert_int_equal(store_fault_fired(), 0);

	/* a commit that fails leaves nothing, and no transaction open */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_env_insert(s, "prod", f->now), 0);
	store_fault_install(1, -ENOSPC);
	assert_int_equal(store_commit(s), -ENOSPC);
	assert_string_equal(store_errmsg(), "injected fault (ENOSPC in"
			" store_commit)");
	assert_int_equal(store_env_get(s, "prod", &e), -ENOENT);
	assert_int_equal(store_begin(s), 0);
	store_rollback(s);

	/* counting from the next change: reads before it do not count */
	store_fault_install_at_begin(2, -ENOMEM);
	assert_int_equal(store_env_get(s, "prod", &e), -ENOENT);
	assert_int_equal(store_env_get(s, "prod", &e), -ENOENT);
	assert_int_equal(model_env_create(f->m, "prod"), -ENOMEM);
	assert_string_equal(model_errmsg(), "injected fault (ENOMEM in"
			" store_env_insert)");
	assert_int_equal(model_env_create(f->m, "prod"), 0);
	/* and a snapshot's copy starts a change too */
	store_fault_install_at_begin(1, -ENOSPC);
	assert_int_equal(model_snapshot_create(f->m, "snap"), -ENOSPC);
	assert_string_equal(model_errmsg(), "injected fault (ENOSPC in"
			" store_snapshot_create)");
	store_fault_install(0, 0);

	/* opening fails cleanly */
	m = f->m;
	store_fault_install(1, -EIO);
	assert_int_equal(open_model(f), -EIO);
	assert_string_equal(model_errmsg(), "injected fault (EIO in"
			" store_open)");
	assert_null(f->m);
	store_fault_install(0, 0);
	assert_int_equal(open_model(f), 0);
	model_close(f->m);
	f->m = m;
}

/* The audit log's caller, in test_refusals_wait: none (refusals carry
 * their own). */
static int no_caller(void *ctx, struct model_actor *out)
{
	(void)ctx;
	(void)out;
	return -1;
}

static char *audit_all(struct model *m)
{
	struct model_events_stat st;
	char *buf;
	int n = 0, got;

	assert_int_equal(model_audit_stat(m, &st), 0);
	buf = calloc(1, (size_t)(st.end - st.start) + 1);
	assert_non_null(buf);
	while ((got = model_audit_read(m, st.start + n, buf + n,
			(size_t)(st.end - st.start - n))) > 0)
		n += got;
	assert_int_equal(got, 0);
	return buf;
}

/* Refusals that the store would not take wait for the flusher's next
 * try, in the order they came, with those made meanwhile behind them;
 * a refusal itself never waits for the store (its queue has a lock of
 * its own, free while the flusher writes). */
static void test_refusals_wait(void **state)
{
	struct fixture *f = *state;
	struct model_actor a = { 1001, 100, 77, "sh", "write",
		"environments/a" };
	struct model_actor b = { 1002, 100, 78, "sh", "write",
		"environments/b" };
	char *all, *second;

	model_close(f->m);
	f->flush_ns = -1;                     /* no flusher of its own */
	assert_int_equal(open_model(f), 0);
	f->m->cfg.actor = no_caller;
	assert_int_equal(model_audit_refused(f->m, &a, -EINVAL, "first"), 0);
	for (int n = 1; n <= 3; n++) {        /* begin, append, commit */
		store_fault_install(n, -EIO);
		model_lock(f->m);
		assert_int_equal(model_audit_tick(f->m), -EIO);
		model_unlock(f->m);
		assert_int_equal(store_fault_fired(), 1);
		store_fault_install(0, 0);
		all = audit_all(f->m);
		assert_string_equal(all, "");
		free(all);
	}
	/* held by the flusher's lock, a refusal is still taken */
	model_lock(f->m);
	assert_int_equal(model_audit_refused(f->m, &b, -EPERM, "second"), 0);
	assert_int_equal(model_audit_tick(f->m), 0);
	model_unlock(f->m);
	all = audit_all(f->m);
	assert_non_null(strstr(all, "\"uid\":1001"));
	assert_non_null(strstr(all, "\"error\":\"first\"}\n{\"seq\":2,"));
	second = strchr(all, '\n') + 1;
	assert_non_null(strstr(second, "\"uid\":1002"));
	assert_string_equal(strchr(second, '\n'), "\n");
	free(all);
	f->m->cfg.actor = NULL;
}

int main(void)
{
	struct CMUnitTest tests[NOPS + 2];
	int fails;

	signal(SIGALRM, hung);
	tests[0] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
			test_hook, setup, teardown);
	tests[NOPS + 1] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
			test_refusals_wait, setup, teardown);
	for (size_t i = 0; i < NOPS; i++)
		tests[i + 1] = (struct CMUnitTest){ ops[i].name, test_walk,
			NULL, NULL, (void *)&ops[i] };
	fails = cmocka_run_group_tests(tests, NULL, NULL);
	store_fault_install(0, 0);
	return fails;
}
