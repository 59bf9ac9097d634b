/*
 * backup.h - a backup to restore, for the unit tests: a source model built
 * through its ordinary calls (prod, critical; shop/orders of type MI; an
 * MI runtime registered by heartbeat with its secret bound; an agent
 * runtime with versions 1 and 3 and a canary pinned to 1; an unbound
 * secret), by make_source(); make_backup() writes it out entry by entry
 * as tar would give it back to a restore mount (test_backup.c), and
 * make_typed() describes it as the filesystem reads a backup
 * (struct model_backup, for the model's tests).  Include after
 * fixture.h.
 */
#ifndef TEST_BACKUP_H
#define TEST_BACKUP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_FMT AGENT_SPEC_FMT

#define MAX_ENTRIES 512

/* An entry of a backup: a path from the mount's root, its type ('d',
 * 'f', 'l'), a file's bytes or a link's target. */
struct tree_entry {
	const char *path;
	char type;
	const char *data;
	size_t len;
	int64_t mtime_ns;
};

/* A backup being written: entries and the text they own. */
struct backup {
	struct tree_entry e[MAX_ENTRIES];
	char *owned[MAX_ENTRIES];
	size_t n;
};

static inline void add(struct backup *b, char type, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline void add(struct backup *b, char type, const char *path,
		const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	assert_true(b->n < MAX_ENTRIES);
	va_start(ap, fmt);
	assert_true(vasprintf(&text, fmt, ap) >= 0);
	va_end(ap);
	b->owned[b->n] = text;
	b->e[b->n] = (struct tree_entry){ path, type, text, strlen(text), 0 };
	b->n++;
}

static inline void backup_release(struct backup *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->owned[i]);
}

/* A secret's snippet as the tree shows it (the lines a restore reads). */
static inline void add_snippet(struct backup *b, const char *path, const char *env,
		const char *runtime, const char *cred)
{
	add(b, 'f', path, "[wso2.icp.runtime.bridge]\nenvironment = \"%s\"\n"
			"project = \"<project name>\"\n"
			"integration = \"<integration name>\"\n"
			"runtime = \"%s\"\nsecret = \"%s\"\n", env, runtime,
			cred);
}

/* The second, empty model, beside the fixture's. */
static inline struct model *open_target(struct fixture *f, const char *name)
{
	struct model_config cfg = { .offline_after_ns = 30 * SEC,
		.now = fake_now, .now_ctx = f, .flush_interval_ns = -1 };
	char db[128], key[160];
	struct model *m = NULL;

	snprintf(db, sizeof(db), "%s/%s", f->dir, name);
	assert_int_equal(store_default_key_path(db, key, sizeof(key)), 0);
	cfg.key_path = key;
	assert_int_equal(model_open(&m, db, &cfg), 0);
	return m;
}

static inline const char *hb_json(char *out, size_t cap, const char *cred)
{
	snprintf(out, cap, "{\"secret\": \"%s\", \"runtime\": \"orders-1\","
			" \"runtimeType\": \"MI\", \"environment\": \"prod\","
			" \"project\": \"shop\", \"component\": \"orders\"}",
			cred);
	return out;
}

/* The source: prod (critical), shop/orders, an MI runtime registered by
 * heartbeat, an agent runtime with versions 1 and 3 and a canary on 1,
 * and an unbound secret; `cred` and `spare` receive the two secrets. */
static inline void make_source(struct fixture *f, char *cred, char *spare)
{
	struct model_secret_scope sc = { "prod", NULL, NULL };
	struct model_secret sec;
	struct model_heartbeat_reply r;
	char json[512], spec[512];
	int64_t v;

	assert_int_equal(model_env_create(f->m, "prod"), 0);
	assert_int_equal(model_env_set_critical(f->m, "prod", "1"), 0);
	assert_int_equal(model_secret_create(f->m, &sc, "orders-1"), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "orders-1", &sec), 0);
	strcpy(cred, sec.secret);
	hb_json(json, sizeof(json), cred);
	if (model_heartbeat(f->m, json, strlen(json), &r))
		fail_msg("heartbeat: %s", model_errmsg());
	assert_int_equal(model_secret_create(f->m, &sc, "spare"), 0);
	assert_int_equal(model_secret_get(f->m, &sc, "spare", &sec), 0);
	strcpy(spare, sec.secret);
	assert_int_equal(model_runtime_create(f->m, "prod", "chat", NULL,
			NULL), 0);
	for (int i = 1; i <= 3; i++) {
		f->now += SEC;
		snprintf(spec, sizeof(spec), SPEC_FMT, i);
		assert_int_equal(model_deploy(f->m, "prod", "chat", spec,
				strlen(spec), &v), 0);
	}
	assert_int_equal(model_endpoint_create(f->m, "prod", "chat",
			"canary"), 0);
	assert_int_equal(model_endpoint_pin(f->m, "prod", "chat", "canary",
			"1"), 0);
	assert_int_equal(model_version_delete(f->m, "prod", "chat", 2), 0);
}

/* The source, written out as a backup's entries. */
static inline void make_backup(struct fixture *f, struct backup *b, char *cred,
		char *spare)
{
	struct model_runtime rt, mi;
	struct model_service_account sa;
	struct model_endpoint ep;
	char t[3][MODEL_TIME_MAX], *text;
	int64_t created;

	make_source(f, cred, spare);
	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &rt), 0);
	assert_int_equal(model_runtime_get(f->m, "prod", "orders-1", &mi), 0);

	add(b, 'd', "environments", "%s", "");
	add(b, 'd', "environments/prod", "%s", "");
	add(b, 'f', "environments/prod/critical", "1\n");
	add(b, 'd', "environments/prod/runtimes", "%s", "");
	add(b, 'd', "environments/prod/secrets", "%s", "");
	add_snippet(b, "environments/prod/secrets/spare", "prod",
			"<unique runtime name>", spare);
	add(b, 'd', "projects", "%s", "");
	add(b, 'd', "projects/shop", "%s", "");
	add(b, 'd', "projects/shop/integrations", "%s", "");
	add(b, 'd', "projects/shop/integrations/orders", "%s", "");
	add(b, 'f', "projects/shop/integrations/orders/type", "MI\n");
	add(b, 'l', "projects/shop/runtimes/prod/orders-1",
			"../../../../environments/prod/runtimes/orders-1");
	add(b, 'l', "projects/shop/integrations/orders/runtimes/prod/"
			"orders-1", "../../../../../../environments/prod/"
			"runtimes/orders-1");

	model_time_format(mi.registered_ns, t[0]);
	model_time_format(mi.heartbeat_ns, t[1]);
	add(b, 'd', "environments/prod/runtimes/orders-1", "%s", "");
	add(b, 'f', "environments/prod/runtimes/orders-1/id", "%s\n", mi.uuid);
	add(b, 'f', "environments/prod/runtimes/orders-1/type", "MI\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/registered", "%s\n",
			t[0]);
	add(b, 'f', "environments/prod/runtimes/orders-1/last_heartbeat",
			"%s\n", t[1]);
	add(b, 'f', "environments/prod/runtimes/orders-1/project", "shop\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/integration",
			"orders\n");
	add(b, 'f', "environments/prod/runtimes/orders-1/secret", "%s\n",
			mi.secret);
	add_snippet(b, "environments/prod/runtimes/orders-1/secret.toml",
			"prod", "orders-1", cred);

	model_time_format(rt.registered_ns, t[0]);
	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	add(b, 'd', "environments/prod/runtimes/chat", "%s", "");
	add(b, 'f', "environments/prod/runtimes/chat/id", "%s\n", rt.uuid);
	add(b, 'f', "environments/prod/runtimes/chat/type", "agent\n");
	add(b, 'f', "environments/prod/runtimes/chat/registered", "%s\n",
			t[0]);
	add(b, 'f', "environments/prod/runtimes/chat/status", "STARTING\n");
	add(b, 'f', "environments/prod/runtimes/chat/service_account", "%s\n",
			sa.credential);
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &text,
			&created), 0);
	add(b, 'f', "environments/prod/runtimes/chat/spec", "%s", text);
	free(text);
	for (int i = 1; i <= 3; i += 2) {
		static const char *const paths[] = { NULL,
			"environments/prod/runtimes/chat/versions/1", NULL,
			"environments/prod/runtimes/chat/versions/3" };

		assert_int_equal(model_version_get(f->m, "prod", "chat", i,
				&text, &created), 0);
		add(b, 'f', paths[i], "%s", text);
		free(text);
	}
	for (int i = 0; i < 2; i++) {
		static const char *const names[] = { "DEFAULT", "canary" };
		static const char *const files[2][4] = {
			{ "environments/prod/runtimes/chat/endpoints/DEFAULT",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/version",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/id",
			  "environments/prod/runtimes/chat/endpoints/DEFAULT/created" },
			{ "environments/prod/runtimes/chat/endpoints/canary",
			  "environments/prod/runtimes/chat/endpoints/canary/version",
			  "environments/prod/runtimes/chat/endpoints/canary/id",
			  "environments/prod/runtimes/chat/endpoints/canary/created" },
		};
		static const char *const updated[] = {
			"environments/prod/runtimes/chat/endpoints/DEFAULT/updated",
			"environments/prod/runtimes/chat/endpoints/canary/updated",
		};

		assert_int_equal(model_endpoint_get(f->m, "prod", "chat",
				names[i], &ep), 0);
		model_time_format(ep.created_ns, t[0]);
		model_time_format(ep.updated_ns, t[1]);
		add(b, 'd', files[i][0], "%s", "");
		add(b, 'f', files[i][1], "%lld\n", (long long)ep.version);
		add(b, 'f', files[i][2], "%s\n", ep.id);
		add(b, 'f', files[i][3], "%s\n", t[0]);
		add(b, 'f', updated[i], "%s\n", t[1]);
	}
}

/* A typed backup of the source (make_source()), as the filesystem reads
 * one: what the tree shows, taken apart. */
struct typed {
	struct model_backup b;
	struct model_backup_env env;
	struct model_backup_project project;
	struct model_backup_integration in;
	struct model_backup_runtime rt[2];       /* orders-1, chat */
	struct model_backup_version v[2];
	struct model_backup_endpoint ep[2];      /* DEFAULT, canary */
	struct model_backup_secret spare;
	struct model_backup_link links[2];
	char *texts[3];
};

static inline void make_typed(struct fixture *f, struct typed *t, char *cred,
		char *spare)
{
	struct model_runtime mi, chat;
	struct model_service_account sa;
	struct model_endpoint e;
	int64_t created;

	memset(t, 0, sizeof(*t));
	make_source(f, cred, spare);
	t->env = (struct model_backup_env){ "environments/prod", "prod", 1,
		0, 0 };
	t->project = (struct model_backup_project){ .src = "projects/shop",
		.name = "shop", .display = "Shop" };
	t->in = (struct model_backup_integration){
		.src = "projects/shop/integrations/orders", .project = "shop",
		.name = "orders", .type = "MI", .display = "Orders" };
	assert_int_equal(model_runtime_get(f->m, "prod", "orders-1", &mi), 0);
	t->rt[0].src = "environments/prod/runtimes/orders-1";
	strcpy(t->rt[0].env, "prod");
	strcpy(t->rt[0].name, "orders-1");
	strcpy(t->rt[0].id, mi.uuid);
	strcpy(t->rt[0].type, "MI");
	t->rt[0].registered_ns = mi.registered_ns;
	t->rt[0].heartbeat_ns = mi.heartbeat_ns;
	strcpy(t->rt[0].project, "shop");
	strcpy(t->rt[0].integration, "orders");
	strcpy(t->rt[0].secret_key_id, mi.secret);
	t->rt[0].bound = (struct model_backup_secret){
		"environments/prod/runtimes/orders-1/secret.toml", "prod",
		"orders-1", "", "", "", 0 };
	strcpy(t->rt[0].bound.credential, cred);

	assert_int_equal(model_runtime_get(f->m, "prod", "chat", &chat), 0);
	t->rt[1].src = "environments/prod/runtimes/chat";
	strcpy(t->rt[1].env, "prod");
	strcpy(t->rt[1].name, "chat");
	strcpy(t->rt[1].id, chat.uuid);
	strcpy(t->rt[1].type, "agent");
	t->rt[1].registered_ns = chat.registered_ns;
	strcpy(t->rt[1].status, "STARTING");
	assert_int_equal(model_service_account_get(f->m, "prod", "chat", &sa),
			0);
	strcpy(t->rt[1].service_account, sa.credential);
	assert_int_equal(model_spec_get(f->m, "prod", "chat", &t->texts[0],
			&created), 0);
	t->rt[1].spec_src = "environments/prod/runtimes/chat/spec";
	t->rt[1].spec = t->texts[0];
	t->rt[1].spec_len = strlen(t->texts[0]);
	for (int i = 0; i < 2; i++) {
		struct model_backup_version *v = &t->v[i];

		v->src = "environments/prod/runtimes/chat/versions/N";
		v->number = i ? 3 : 1;
		strcpy(v->runtime_id, chat.uuid);
		assert_int_equal(model_version_get(f->m, "prod", "chat",
				v->number, &t->texts[1 + i], &v->created_ns),
				0);
		v->spec = t->texts[1 + i];
		v->spec_len = strlen(v->spec);
	}
	t->rt[1].versions = t->v;
	t->rt[1].nversions = 2;
	for (int i = 0; i < 2; i++) {
		struct model_backup_endpoint *ep = &t->ep[i];

		assert_int_equal(model_endpoint_get(f->m, "prod", "chat",
				i ? "canary" : "DEFAULT", &e), 0);
		ep->src = i ? "environments/prod/runtimes/chat/endpoints/"
			"canary" : "environments/prod/runtimes/chat/"
			"endpoints/DEFAULT";
		ep->version_src = i ? "environments/prod/runtimes/chat/"
			"endpoints/canary/version" : NULL;
		strcpy(ep->name, e.name);
		strcpy(ep->id, e.id);
		ep->version = e.version;
		ep->created_ns = e.created_ns;
		ep->updated_ns = e.updated_ns;
	}
	t->rt[1].endpoints = t->ep;
	t->rt[1].nendpoints = 2;
	t->spare = (struct model_backup_secret){
		"environments/prod/secrets/spare", "prod", "spare", "", "", "",
		0 };
	strcpy(t->spare.credential, spare);
	t->links[0] = (struct model_backup_link){
		"projects/shop/runtimes/prod/orders-1", "shop", "", "prod",
		"orders-1" };
	t->links[1] = (struct model_backup_link){
		"projects/shop/integrations/orders/runtimes/prod/orders-1",
		"shop", "orders", "prod", "orders-1" };
	t->b = (struct model_backup){ .envs = &t->env, .nenvs = 1,
		.projects = &t->project, .nprojects = 1,
		.integrations = &t->in, .nintegrations = 1,
		.runtimes = t->rt, .nruntimes = 2, .secrets = &t->spare,
		.nsecrets = 1, .links = t->links, .nlinks = 2 };
}

static inline void typed_release(struct typed *t)
{
	for (int i = 0; i < 3; i++)
		free(t->texts[i]);
}

#endif
