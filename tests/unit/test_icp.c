/*
 * test_icp.c - ICP's runtime API on a real SQLite database: the bodies
 * WSO2's runtimes send (tests/fixtures/, built from their sources)
 * through icp_serve() with ICP's status codes and replies; identity by
 * runtimeId, replicas of one secret, names as ICP normalises them, full
 * and delta heartbeats with their hash, command results, the material
 * a JWT is checked with, and the migration of a database of schema 3.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "../../model/model_int.h"
#include "../../fs/icp_api.h"
#include "../../model/jwt.h"

#include "fixture.h"

#define BI_ID "5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b"
#define MI_ID "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e1f"

static const struct model_secret_scope DEV = { "dev", NULL, NULL };

static int icp_setup(void **state)
{
	struct fixture *f;

	if (setup_by_hand(state))
		return -1;
	f = *state;
	if (model_env_create(f->m, "dev") || model_env_create(f->m, "prod"))
		return -1;
	return 0;
}

/* A fixture's text, malloc'd. */
static char *fixture_text(const char *name)
{
	char path[256], *text;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return text;
}

/* A fixture with `from` replaced by `to` once (NULL: as it is). */
static char *fixture(const char *name, const char *from, const char *to)
{
	char *t = fixture_text(name), *at, *out;

	if (!from)
		return t;
	at = strstr(t, from);
	assert_non_null(at);
	out = calloc(1, strlen(t) + strlen(to) + 1);
	memcpy(out, t, (size_t)(at - t));
	strcat(out, to);
	strcat(out, at + strlen(from));
	free(t);
	return out;
}

/* A new secret of `sc`: its key id into `kid`. */
static void new_key(struct fixture *f, const struct model_secret_scope *sc,
		const char *name, char kid[MODEL_KEY_ID_LEN])
{
	struct model_secret s;

	assert_int_equal(model_secret_create(f->m, sc, name), 0);
	assert_int_equal(model_secret_get(f->m, sc, name, &s), 0);
	memcpy(kid, s.key_id, MODEL_KEY_ID_LEN);
}

/* POSTs `body` to `url` as runtime key `kid`: the status, the reply
 * parsed into *out (cJSON_Delete()). */
static int post(struct fixture *f, const char *url, const char *kid,
		const char *body, cJSON **out)
{
	struct buf reply;
	int status;

	buf_init(&reply, 1 << 20);
	status = icp_serve(f->m, url, kid, body, strlen(body), &reply);
	*out = cJSON_Parse(reply.data ? reply.data : "");
	if (!*out)
		fail_msg("%s: reply is not JSON: %s", url,
				reply.data ? reply.data : "(none)");
	buf_release(&reply);
	return status;
}

static int jbool(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_non_null(v);
	assert_true(cJSON_IsBool(v));
	return cJSON_IsTrue(v);
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* A BI runtime's first full heartbeat: 201, ICP's HeartbeatResponse, the
 * runtime named by its runtimeId (it sent no `runtime`), in the project
 * and integration its names normalise to, their display names kept. */
static void test_bi_registers(void **state)
{
	struct fixture *f = *state;
	char kid[MODEL_KEY_ID_LEN], *body = fixture("bi-full-heartbeat.json",
			NULL, NULL), *reported = NULL;
	struct model_integration in;
	struct model_project p;
	struct model_runtime rt;
	struct store_runtime row;
	const cJSON *fields;
	cJSON *r;

	new_key(f, &DEV, "bi", kid);
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 201);
	assert_true(jbool(r, "acknowledged"));
	assert_false(jbool(r, "fullHeartbeatRequired"));
	assert_int_equal(cJSON_GetArraySize(
			cJSON_GetObjectItem(r, "commands")), 0);
	fields = cJSON_GetObjectItem(r, "supportedHeartbeatFields");
	assert_int_equal(cJSON_GetArraySize(fields), 3);
	assert_string_equal(cJSON_GetArrayItem(fields, 0)->valuestring,
			"tryItHost");
	assert_null(cJSON_GetObjectItem(r, "runtimeId"));
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt), 0);
	assert_string_equal(rt.uuid, BI_ID);
	assert_string_equal(rt.type, "default");
	assert_string_equal(rt.project, "order-management");
	assert_string_equal(rt.integration, "order-api");
	assert_string_equal(rt.platform, "ballerina 2201.13.2");
	assert_string_equal(rt.os, "Linux 6.1.0-18-amd64");
	assert_string_equal(rt.secret, kid);
	assert_string_equal(rt.status, "RUNNING");
	assert_int_equal(model_project_get(f->m, "order-management", &p), 0);
	assert_string_equal(p.display, "Order Management");
	assert_int_equal(model_integration_get(f->m, "order-management",
			"order-api", &in), 0);
	assert_string_equal(in.display, "Order API");
	assert_string_equal(in.type, "default");
	/* every field it sent is kept, but what is kept apart */
	row = stored_runtime(f, "dev", BI_ID);
	assert_string_equal(row.hash, "mB7bD9Yx2yq0mI6JcU2x5A==");
	assert_int_equal(store_runtime_get_reported(store_lock(f), row.id,
			&reported), 0);
	store_unlock(f);
	assert_non_null(strstr(reported, "\"logLevels\":{\"root\":\"INFO\","));
	assert_non_null(strstr(reported, "\"ballerinaHome\":"));
	assert_null(strstr(reported, "\"artifacts\""));
	assert_null(strstr(reported, "\"timestamp\""));
	free(reported);
	/* the secret is bound: off the list */
	assert_int_equal(model_secret_get(f->m, &DEV, "bi",
			&(struct model_secret){ 0 }), -ENOENT);
	free(body);
}

/* Three MI replicas with one secret are three runtimes of one
 * integration; a restart with the same runtimeId is the same runtime,
 * with a new one under the name of an OFFLINE one it replaces it. */
static void test_replicas(void **state)
{
	struct fixture *f = *state;
	const char *ids[] = { MI_ID, "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e20",
		"c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e21" };
	const char *names[] = { "mi-node-1", "mi-node-2", "mi-node-3" };
	char kid[MODEL_KEY_ID_LEN], *body, name[64], other[40];
	struct model_runtime rt;
	int n = 0;
	cJSON *r;

	new_key(f, &DEV, "mi", kid);
	for (int i = 0; i < 3; i++) {
		char *b1 = fixture("mi-full-heartbeat.json", MI_ID, ids[i]);

		snprintf(name, sizeof(name), "\"%s\"", names[i]);
		body = fixture_text("mi-full-heartbeat.json");
		free(body);
		body = b1;
		if (i) {
			char *at = strstr(body, "\"mi-node-1\"");

			memcpy(at, name, strlen(name));
		}
		assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r),
				201);
		assert_true(jbool(r, "acknowledged"));
		cJSON_Delete(r);
		free(body);
	}
	{
		struct model_runtime_filter all = { "dev", "shop",
			"payments" };

		assert_int_equal(model_runtime_list(f->m, &all,
			(model_runtime_cb)count_cb, &n), 0);
	}
	assert_int_equal(n, 3);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-2", &rt), 0);
	assert_string_equal(rt.uuid, ids[1]);
	assert_string_equal(rt.secret, kid);
	assert_string_equal(rt.type, "MI");
	/* the same runtimeId again: the same runtime */
	body = fixture("mi-full-heartbeat.json", NULL, NULL);
	f->now += SEC;
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 201);
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-1", &rt), 0);
	assert_string_equal(rt.uuid, MI_ID);
	free(body);
	/* a new runtimeId under a live runtime's name: named by its id */
	body = fixture("mi-full-heartbeat.json", MI_ID,
			"c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e99");
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 201);
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev",
			"c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e99", &rt), 0);
	free(body);
	/* once mi-node-2 is OFFLINE, a new runtimeId named so replaces it */
	f->now += 31 * SEC;
	snprintf(other, sizeof(other), "%s", "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e55");
	body = fixture("mi-full-heartbeat.json", MI_ID, other);
	memcpy(strstr(body, "\"mi-node-1\""), "\"mi-node-2\"", 11);
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 201);
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-2", &rt), 0);
	assert_string_equal(rt.uuid, other);
	assert_string_equal(rt.status, "RUNNING");
	free(body);
	/* revoking the secret of one of them cuts every replica off */
	assert_int_equal(model_runtime_secret_revoke(f->m, "dev",
			"mi-node-1"), 0);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-2", &rt), 0);
	assert_string_equal(rt.status, "OFFLINE");
	assert_string_equal(rt.secret, "");
	body = fixture("mi-full-heartbeat.json", NULL, NULL);
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 400);
	assert_non_null(strstr(jstr(r, "message"), "nknown key ID"));
	cJSON_Delete(r);
	free(body);
}

/* ICP's toHandler(). */
static void test_normalise(void **state)
{
	const struct { const char *in, *out; } ok[] = {
		{ "Order Management", "order-management" },
		{ "  --Shop__2  ", "shop-2" },
		{ "ALLCAPS", "allcaps" },
		{ "a.b.c", "a-b-c" },
		{ "caf\xc3\xa9 bar", "caf-bar" },
		{ "x", "x" },
	};
	char out[MODEL_NAME_MAX], long_name[80];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(model_handle("project", ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	assert_int_equal(model_handle("project", "  !! ", out), -EINVAL);
	assert_non_null(strstr(model_errmsg(), "no alphanumeric"));
	assert_int_equal(model_handle("project", "", out), -EINVAL);
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_int_equal(model_handle("project", long_name, out), -EINVAL);
	long_name[63] = '\0';
	assert_int_equal(model_handle("project", long_name, out), 0);
}

/* Every refusal with ICP's status: 400 for a bad heartbeatVersion,
 * runtimeId or name, an unknown key; 409 for another environment or
 * runtime type; 201 with acknowledged false where ICP's payload binding
 * fails; nothing changes. */
static void test_refusals(void **state)
{
	struct fixture *f = *state;
	char kid[MODEL_KEY_ID_LEN], pkid[MODEL_KEY_ID_LEN], *body;
	const struct { const char *from, *to; int status;
		const char *why; } bad[] = {
		{ "\"heartbeatVersion\":\"v1.0\"",
		  "\"heartbeatVersion\":\"v2.0\"", 400,
		  "nsupported heartbeat version" },
		{ MI_ID, "c2d4e6f8", 400, "36 characters" },
		{ MI_ID, "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e1/", 400,
		  "valid UUID" },
		{ "\"project\":\"Shop\"", "\"project\":\"!!\"", 400,
		  "no alphanumeric" },
		{ "\"runtimeHash\":\"3vQnTjYb0Jp9h8Qm1f6cGw==\",", "", 201,
		  "missing field 'runtimeHash'" },
		{ "\"timestamp\":[1764000000,0.5]", "\"timestamp\":\"now\"",
		  201, "time:Utc" },
		{ "\"environment\":\"dev\"", "\"environment\":\"prod\"", 409,
		  "is bound to a different environment" },
		{ "\"environment\":\"dev\"", "\"environment\":\"qa\"", 201,
		  "no environment 'qa'" },
		{ "{", "[", 400, "not a JSON object" },
	};
	cJSON *r;
	int n = 0;

	new_key(f, &DEV, "mi", kid);
	new_key(f, &(struct model_secret_scope){ "prod", NULL, NULL }, "p",
			pkid);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body = fixture("mi-full-heartbeat.json", bad[i].from,
				bad[i].to);
		assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r),
				bad[i].status);
		assert_false(jbool(r, "acknowledged"));
		if (bad[i].status == 201 && !strstr(cJSON_GetArrayItem(
				cJSON_GetObjectItem(r, "errors"),
				0)->valuestring, bad[i].why))
			fail_msg("%zu: errors do not say '%s'", i, bad[i].why);
		if (bad[i].status != 201 && !strstr(jstr(r, "message"),
				bad[i].why))
			fail_msg("%zu: '%s' does not say '%s'", i,
					jstr(r, "message"), bad[i].why);
		cJSON_Delete(r);
		free(body);
	}
	/* an unknown key id: 400, as ICP's "Unknown key ID" */
	body = fixture("mi-full-heartbeat.json", NULL, NULL);
	assert_int_equal(post(f, "/icp/heartbeat", "0badc0de", body, &r), 400);
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/nope", kid, body, &r), 404);
	cJSON_Delete(r);
	/* bound to MI, a BI heartbeat with it: 409 */
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 201);
	cJSON_Delete(r);
	free(body);
	body = fixture("bi-full-heartbeat.json", NULL, NULL);
	assert_int_equal(post(f, "/icp/heartbeat", kid, body, &r), 409);
	assert_non_null(strstr(jstr(r, "message"), "type mismatch"));
	cJSON_Delete(r);
	free(body);
	assert_int_equal(model_runtime_list(f->m,
			&(struct model_runtime_filter){ "dev", NULL, NULL },
			(model_runtime_cb)count_cb, &n), 0);
	assert_int_equal(n, 1);
	/* a body too big for ICP's API */
	{
		struct buf reply;

		buf_init(&reply, 4096);
		assert_int_equal(icp_serve(f->m, "/icp/heartbeat", kid, "{",
				MODEL_ICP_BODY_MAX + 1, &reply), 413);
		buf_release(&reply);
	}
}

/* Delta heartbeats: an unbound key, an unknown runtime, a wrong hash all
 * ask for a full heartbeat; the right hash does not; each delta of a
 * known runtime is liveness. */
static void test_delta(void **state)
{
	struct fixture *f = *state;
	char kid[MODEL_KEY_ID_LEN], *full = fixture("mi-full-heartbeat.json",
			NULL, NULL), *delta = fixture("mi-delta-heartbeat.json",
			NULL, NULL), *wrong;
	struct model_runtime rt;
	cJSON *r;

	new_key(f, &DEV, "mi", kid);
	/* unbound: acknowledged false, full wanted (runtime_service.bal) */
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, delta, &r), 201);
	assert_false(jbool(r, "acknowledged"));
	assert_true(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	cJSON_Delete(r);
	/* the right hash */
	f->now += 10 * SEC;
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, delta, &r), 201);
	assert_true(jbool(r, "acknowledged"));
	assert_false(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-1", &rt), 0);
	assert_int_equal(rt.heartbeat_ns, f->now);
	/* another hash: full wanted, and still alive */
	f->now += 10 * SEC;
	wrong = fixture("mi-delta-heartbeat.json", "3vQnTjYb", "AAAAAAAA");
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, wrong, &r), 201);
	assert_true(jbool(r, "acknowledged"));
	assert_true(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", "mi-node-1", &rt), 0);
	assert_int_equal(rt.heartbeat_ns, f->now);
	assert_string_equal(rt.status, "RUNNING");
	free(wrong);
	/* a runtime it does not know */
	wrong = fixture("mi-delta-heartbeat.json", MI_ID,
			"c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e77");
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, wrong, &r), 201);
	assert_true(jbool(r, "acknowledged"));
	assert_true(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	free(wrong);
	/* a delta ICP's binding refuses: 400 */
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid,
			"{\"runtimeId\":\"" MI_ID "\"}", &r), 400);
	cJSON_Delete(r);
	/* the hash survives a restart of the daemon */
	model_close(f->m);
	assert_int_equal(open_model(f), 0);
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, delta, &r), 201);
	assert_false(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	free(full);
	free(delta);
}

/* Commands: queued, delivered once as ICP's ControlCommand objects, a
 * result recorded when posted with the runtime's key. */
static void test_commands(void **state)
{
	struct fixture *f = *state;
	char kid[MODEL_KEY_ID_LEN], *full = fixture("bi-full-heartbeat.json",
			NULL, NULL), result[512];
	struct store_command cmd = { 0 };
	struct store_runtime row;
	const cJSON *c, *at;
	struct store *s;
	cJSON *r;

	new_key(f, &DEV, "bi", kid);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	cJSON_Delete(r);
	row = stored_runtime(f, "dev", BI_ID);
	strcpy(cmd.uuid, "8f1c3f52-6a47-11ef-9c1b-0242ac120002");
	cmd.runtime_id = row.id;
	strcpy(cmd.target, "httpListener");
	strcpy(cmd.action, "STOP");
	cmd.issued_ns = 1764000000LL * SEC + 500000000LL;
	strcpy(cmd.status, "PENDING");
	s = store_lock(f);
	assert_int_equal(store_command_insert(s, &cmd), 0);
	store_unlock(f);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "commands"), 0);
	assert_non_null(c);
	assert_string_equal(jstr(c, "commandId"), cmd.uuid);
	assert_string_equal(jstr(c, "runtimeId"), BI_ID);
	assert_string_equal(jstr(cJSON_GetObjectItem(c, "targetArtifact"),
			"name"), "httpListener");
	assert_string_equal(jstr(c, "action"), "STOP");
	assert_string_equal(jstr(c, "status"), "PENDING");
	at = cJSON_GetObjectItem(c, "issuedAt");
	assert_int_equal(cJSON_GetArraySize(at), 2);
	assert_int_equal((int64_t)cJSON_GetArrayItem(at, 0)->valuedouble,
			1764000000LL);
	assert_true(cJSON_GetArrayItem(at, 1)->valuedouble == 0.5);
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r,
			"commands")), 0);
	cJSON_Delete(r);
	/* the result, as the bridge posts a WorkflowCommandResult */
	snprintf(result, sizeof(result), "{\"runtimeId\":\"%s\",\"commandId\":"
			"\"%s\",\"status\":\"COMPLETED\",\"httpStatus\":200,"
			"\"body\":{}}", BI_ID, cmd.uuid);
	assert_int_equal(post(f, "/icp/commandResult", kid, result, &r), 202);
	assert_true(jbool(r, "accepted"));
	cJSON_Delete(r);
	{
		struct names { char s[256]; } n = { "" };
		int found = 0;

		(void)n;
		s = store_lock(f);
		assert_int_equal(store_command_result(s, cmd.uuid, kid,
				"COMPLETED", "{}", 1, &found), 0);
		store_unlock(f);
		assert_int_equal(found, 1);
	}
	/* a result for nothing known is still 202; a body that is not one
	 * is 400 */
	assert_int_equal(post(f, "/icp/commandResult", kid,
			"{\"runtimeId\":\"x\",\"commandId\":\"y\",\"status\":"
			"\"FAILED\",\"httpStatus\":500,\"body\":null}", &r), 202);
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/commandResult", kid, "{\"a\":1}", &r),
			400);
	cJSON_Delete(r);
	free(full);
}

/* The facets of a runtime's changes the watcher heard. */
static void heard(void *ctx, const struct model_event *ev)
{
	if (ev->kind == MODEL_EV_RUNTIME)
		*(unsigned *)ctx |= ev->what;
}

static int kind_name(void *ctx, const char *kind)
{
	strcat(ctx, kind);
	strcat(ctx, " ");
	return 0;
}

static int artifact_name(void *ctx, const struct model_artifact *a)
{
	strcat(ctx, a->name);
	strcat(ctx, " ");
	return 0;
}

/* The commands of a heartbeat reply: "ACTION:target ..." */
static void commands_of(const cJSON *r, char *out, size_t cap)
{
	const cJSON *c;

	*out = '\0';
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(r, "commands"))
		snprintf(out + strlen(out), cap - strlen(out), "%s:%s ",
				jstr(c, "action"), jstr(cJSON_GetObjectItem(c,
				"targetArtifact"), "name"));
}

/* Artifacts: a full heartbeat's set stored whole and replaced whole,
 * kept by one with none; listeners of a BI runtime stopped and started
 * one by one or all at once through ICP's commands; an MI artifact's
 * ctl refused. */
static void test_artifacts(void **state)
{
	struct fixture *f = *state;
	const char *admin = ",{\"name\":\"adminListener\",\"protocol\":"
		"\"HTTP\",\"package\":\"wso2/order_api:1.0.0\",\"state\":"
		"\"enabled\"}";
	char kid[MODEL_KEY_ID_LEN], mikid[MODEL_KEY_ID_LEN], names[512];
	char *full = fixture("bi-full-heartbeat.json", NULL, NULL);
	char *fewer = fixture("bi-full-heartbeat.json", admin, "");
	char *none = fixture("bi-full-heartbeat.json", "\"artifacts\":{",
			"\"artifacts\":{\"x\":[]},\"y\":{");
	char *mi = fixture("mi-full-heartbeat.json", NULL, NULL), *doc;
	struct model_artifact a;
	unsigned what = 0;
	int64_t t0;
	cJSON *r;

	new_key(f, &DEV, "bi", kid);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	assert_false(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	*names = '\0';
	assert_int_equal(model_artifact_kinds(f->m, "dev", BI_ID, kind_name,
			names), 0);
	assert_string_equal(names, "listeners main services ");
	*names = '\0';
	assert_int_equal(model_artifact_list(f->m, "dev", BI_ID, "listeners",
			artifact_name, names), 0);
	assert_string_equal(names, "adminListener httpListener ");
	assert_int_equal(model_artifact_get(f->m, "dev", BI_ID, "main",
			"order_api", &a, &doc), 0);
	assert_string_equal(doc, "{\n  \"packageOrg\": \"wso2\",\n"
			"  \"packageName\": \"order_api\",\n"
			"  \"packageVersion\": \"1.0.0\"\n}\n");
	free(doc);
	t0 = a.changed_ns;
	assert_int_equal(model_artifact_ctl_of("default", "listeners"),
			MODEL_CTL_BI);
	assert_int_equal(model_artifact_ctl_of("default", "services"), 0);
	assert_int_equal(model_artifact_ctl_of("MI", "apis"), MODEL_CTL_MI);
	assert_int_equal(model_artifact_ctl_of("MI", "listeners"), 0);

	/* the same set again changes nothing; fewer replace the set, and
	 * what stayed the same keeps its time */
	model_watch(f->m, heard, &what);
	f->now += SEC;
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	cJSON_Delete(r);
	assert_int_equal(what & MODEL_RT_ARTIFACTS, 0);
	f->now += SEC;
	assert_int_equal(post(f, "/icp/heartbeat", kid, fewer, &r), 201);
	cJSON_Delete(r);
	assert_true(what & MODEL_RT_ARTIFACTS);
	model_watch(f->m, NULL, NULL);
	*names = '\0';
	assert_int_equal(model_artifact_list(f->m, "dev", BI_ID, "listeners",
			artifact_name, names), 0);
	assert_string_equal(names, "httpListener ");
	assert_int_equal(model_artifact_get(f->m, "dev", BI_ID,
			"listeners", "httpListener", &a, NULL), 0);
	assert_int_equal(a.changed_ns, t0);
	assert_int_equal(model_artifact_get(f->m, "dev", BI_ID,
			"listeners", "adminListener", &a, NULL), -ENOENT);
	/* none reported (only kinds ICP does not know): kept, and a full
	 * heartbeat is asked for, as processHeartbeat() does */
	assert_int_equal(post(f, "/icp/heartbeat", kid, none, &r), 201);
	assert_true(jbool(r, "fullHeartbeatRequired"));
	cJSON_Delete(r);
	*names = '\0';
	assert_int_equal(model_artifact_kinds(f->m, "dev", BI_ID, kind_name,
			names), 0);
	assert_string_equal(names, "listeners main services ");

	/* ctl: a listener's STOP rides on the next reply, once; the
	 * runtime's stop is one per listener */
	assert_int_equal(model_artifact_ctl(f->m, "dev", BI_ID, "listeners",
			"httpListener", "stop"), 0);
	assert_int_equal(model_artifact_ctl(f->m, "dev", BI_ID, "listeners",
			"httpListener", "pause"), -EINVAL);
	assert_int_equal(model_artifact_ctl(f->m, "dev", BI_ID, "listeners",
			"nope", "stop"), -ENOENT);
	assert_int_equal(model_artifact_ctl(f->m, "dev", BI_ID, "services",
			"OrderService", "stop"), -EOPNOTSUPP);
	assert_int_equal(post(f, "/icp/heartbeat", kid, fewer, &r), 201);
	commands_of(r, names, sizeof(names));
	assert_string_equal(names, "STOP:httpListener ");
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	commands_of(r, names, sizeof(names));
	assert_string_equal(names, "");
	cJSON_Delete(r);
	assert_int_equal(model_runtime_ctl(f->m, "dev", BI_ID, "stop"), 0);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	commands_of(r, names, sizeof(names));
	assert_string_equal(names, "STOP:adminListener STOP:httpListener ");
	cJSON_Delete(r);
	assert_int_equal(model_runtime_ctl(f->m, "dev", BI_ID, "start"), 0);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	commands_of(r, names, sizeof(names));
	assert_string_equal(names, "START:adminListener START:httpListener ");
	cJSON_Delete(r);

	/* MI: ICP drives its artifacts through MI's management API */
	new_key(f, &DEV, "mi", mikid);
	assert_int_equal(post(f, "/icp/heartbeat", mikid, mi, &r), 201);
	cJSON_Delete(r);
	*names = '\0';
	assert_int_equal(model_artifact_kinds(f->m, "dev", "mi-node-1",
			kind_name, names), 0);
	assert_string_equal(names, "apis proxy-services ");
	assert_int_equal(model_artifact_ctl(f->m, "dev", "mi-node-1", "apis",
			"PaymentAPI", "stop"), -EOPNOTSUPP);
	assert_non_null(strstr(model_errmsg(), "management API"));
	/* they go with their runtime, once it is OFFLINE */
	f->now += 100 * SEC;
	assert_int_equal(model_runtime_delete(f->m, "dev", BI_ID), 0);
	assert_int_equal(model_artifact_kinds(f->m, "dev", BI_ID, kind_name,
			names), -ENOENT);
	free(full);
	free(fewer);
	free(none);
	free(mi);
}

/* An artifact's file name: a valid name as it is, any other byte as
 * %XX, cut at 200 bytes; names that meet are NAME~2, ... */
static void test_artifact_names(void **state)
{
	struct model_artifact_set set;
	char out[MODEL_ARTIFACT_NAME_MAX], long_name[400];
	cJSON *a;

	(void)state;
	assert_int_equal(model_artifact_dirname("httpListener", out), 0);
	assert_string_equal(out, "httpListener");
	assert_int_equal(model_artifact_dirname("Order API/v1:x", out), 0);
	assert_string_equal(out, "Order%20API%2Fv1%3Ax");
	assert_int_equal(model_artifact_dirname(".hidden-1", out), 0);
	assert_string_equal(out, "%2Ehidden-1");
	assert_int_equal(model_artifact_dirname("-x~%", out), 0);
	assert_string_equal(out, "%2Dx%7E%25");
	assert_int_equal(model_artifact_dirname("", out), -EINVAL);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(model_artifact_dirname(long_name, out), 0);
	assert_int_equal(strlen(out), 200);
	a = cJSON_Parse("{\"services\": [{\"name\": \"s\", \"package\":"
			" \"a\"}, {\"name\": \"s\", \"package\": \"b\"},"
			" {\"name\": \"s\", \"package\": \"c\"}, {\"basePath\":"
			" \"/\"}], \"listeners\": [{\"name\": \"s\"}],"
			" \"unknown\": [1]}");
	assert_int_equal(model_artifacts_parse(a, &set), 0);
	assert_int_equal(set.n, 4);
	assert_string_equal(set.items[0].name, "s");
	assert_string_equal(set.items[1].name, "s");
	assert_string_equal(set.items[1].kind, "services");
	assert_non_null(strstr(set.items[1].doc, "\"a\""));
	assert_string_equal(set.items[2].name, "s~2");
	assert_non_null(strstr(set.items[2].doc, "\"b\""));
	assert_string_equal(set.items[3].name, "s~3");
	model_artifacts_release(&set);
	cJSON_Delete(a);
	a = cJSON_Parse("{\"apis\": [1]}");
	assert_int_equal(model_artifacts_parse(a, &set), -EINVAL);
	cJSON_Delete(a);
}

/* The key material a JWT is checked with: the base64 text. */
static void test_material(void **state)
{
	struct fixture *f = *state;
	struct model_secret s;
	char material[64], small[8];

	assert_int_equal(model_secret_create(f->m, &DEV, "k"), 0);
	assert_int_equal(model_secret_get(f->m, &DEV, "k", &s), 0);
	assert_int_equal(model_secret_material(f->m, s.key_id, material,
			sizeof(material)), 0);
	assert_string_equal(material, s.secret + 9);
	assert_int_equal(model_secret_material(f->m, s.key_id, small,
			sizeof(small)), -ENOSPC);
	assert_int_equal(model_secret_material(f->m, "0badc0de", material,
			sizeof(material)), -EACCES);
	assert_int_equal(model_secret_revoke(f->m, &DEV, "k"), 0);
	assert_int_equal(model_secret_material(f->m, s.key_id, material,
			sizeof(material)), -EACCES);
}

/* A database of schema 3 (a runtime with a bound secret, an unbound
 * secret) opens migrated: the runtime keeps its id and its secret, which
 * is now bound to its integration and type. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	struct model_runtime rt;
	struct store_secret sec;
	sqlite3 *db;
	const char *sql =
		"PRAGMA user_version = 3;"
		"INSERT INTO env VALUES (9, 'old', 0, 1, 1);"
		"INSERT INTO project VALUES (9, 'shop', 1);"
		"INSERT INTO integration VALUES (9, 9, 'orders', 'MI', 1, 1);"
		"INSERT INTO runtime (id, uuid, env_id, name, type,"
		" integration_id, desired, desired_ns, runtime_version,"
		" platform, os, registered_ns, heartbeat_ns, running_ns,"
		" info_ns, assigned_ns) VALUES (9,"
		" '11111111-2222-4333-8444-555555555555', 9, 'legacy', 'MI', 9,"
		" 'run', 1, '4.2.0', '', '', 1, 1, 1, 1, 1);"
		"INSERT INTO secret VALUES (9, 'abcdef01', 9, NULL, 'legacy',"
		" x'00', 1, 9, 5);"
		"INSERT INTO secret VALUES (10, 'abcdef02', 9, NULL, 'free',"
		" x'00', 1, NULL, 0);";
	const char *schema3 =
		"CREATE TABLE env (id INTEGER PRIMARY KEY, name TEXT NOT NULL"
		" UNIQUE, critical INTEGER NOT NULL DEFAULT 0, created_ns"
		" INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);"
		"CREATE TABLE project (id INTEGER PRIMARY KEY, name TEXT NOT NULL"
		" UNIQUE, created_ns INTEGER NOT NULL);"
		"CREATE TABLE integration (id INTEGER PRIMARY KEY, project_id"
		" INTEGER NOT NULL REFERENCES project(id), name TEXT NOT NULL,"
		" type TEXT NOT NULL, created_ns INTEGER NOT NULL, mtime_ns"
		" INTEGER NOT NULL, UNIQUE (project_id, name));"
		"CREATE TABLE runtime (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL"
		" UNIQUE, env_id INTEGER NOT NULL REFERENCES env(id), name TEXT"
		" NOT NULL, type TEXT NOT NULL, integration_id INTEGER"
		" REFERENCES integration(id), desired TEXT NOT NULL, desired_ns"
		" INTEGER NOT NULL, runtime_version TEXT NOT NULL, platform TEXT"
		" NOT NULL, os TEXT NOT NULL, registered_ns INTEGER NOT NULL,"
		" heartbeat_ns INTEGER NOT NULL, running_ns INTEGER NOT NULL,"
		" info_ns INTEGER NOT NULL, assigned_ns INTEGER NOT NULL,"
		" latest_version INTEGER NOT NULL DEFAULT 0, UNIQUE (env_id,"
		" name));"
		"CREATE INDEX runtime_integration ON runtime(integration_id);"
		"CREATE TABLE version (id INTEGER PRIMARY KEY, runtime_id INTEGER"
		" NOT NULL REFERENCES runtime(id) ON DELETE CASCADE, number"
		" INTEGER NOT NULL, spec TEXT NOT NULL, image_password BLOB,"
		" created_ns INTEGER NOT NULL, UNIQUE (runtime_id, number));"
		"CREATE TABLE endpoint (id INTEGER PRIMARY KEY, runtime_id"
		" INTEGER NOT NULL REFERENCES runtime(id) ON DELETE CASCADE,"
		" name TEXT NOT NULL, uuid TEXT NOT NULL UNIQUE, version INTEGER"
		" NOT NULL, created_ns INTEGER NOT NULL, updated_ns INTEGER NOT"
		" NULL, UNIQUE (runtime_id, name));"
		"CREATE TABLE service_account (runtime_id INTEGER PRIMARY KEY"
		" REFERENCES runtime(id) ON DELETE CASCADE, client_id TEXT NOT"
		" NULL UNIQUE, secret BLOB NOT NULL, created_ns INTEGER NOT"
		" NULL);"
		"ALTER TABLE runtime ADD COLUMN revoked_ns INTEGER NOT NULL"
		" DEFAULT 0;"
		"CREATE TABLE secret (id INTEGER PRIMARY KEY, key_id TEXT NOT"
		" NULL UNIQUE, env_id INTEGER NOT NULL REFERENCES env(id),"
		" integration_id INTEGER REFERENCES integration(id), name TEXT"
		" NOT NULL, sealed BLOB NOT NULL, created_ns INTEGER NOT NULL,"
		" runtime_id INTEGER UNIQUE REFERENCES runtime(id) ON DELETE"
		" CASCADE, bound_ns INTEGER NOT NULL DEFAULT 0);"
		"CREATE UNIQUE INDEX secret_unbound_name ON secret(env_id, name)"
		" WHERE runtime_id IS NULL;";
	char path[160];
	struct store *st;

	snprintf(path, sizeof(path), "%s/v3.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema3, NULL, NULL, NULL),
			SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&st, path), 0);
	assert_int_equal(store_schema_version(st), 6);
	assert_int_equal(store_secret_get_key(st, "abcdef01", &sec), 0);
	assert_int_equal(sec.integration_id, 9);
	assert_string_equal(sec.runtime_type, "MI");
	assert_int_equal(sec.bound_ns, 5);
	assert_int_equal(store_secret_get(st, 9, "free", &sec), 0);
	assert_int_equal(sec.bound_ns, 0);
	{
		struct store_runtime row;

		assert_int_equal(store_runtime_get(st, 9, "legacy", &row), 0);
		assert_string_equal(row.uuid,
				"11111111-2222-4333-8444-555555555555");
		assert_string_equal(row.secret, "abcdef01");
		assert_string_equal(row.key_id, "abcdef01");
		assert_string_equal(row.runtime_version, "4.2.0");
		/* the last runtime that used it takes it along */
		assert_int_equal(store_runtime_delete(st, row.id), 0);
		assert_int_equal(store_secret_get_key(st, "abcdef01", &sec),
				-ENOENT);
	}
	store_close(st);
	(void)rt;
}

/* Over HTTP: the Authorization header is checked as runtime_service.bal
 * does before the body is looked at.  A token each client would make
 * with the secret registers; no header, another scheme, a token signed
 * with another key, an expired one or one of a revoked key are refused
 * with ICP's statuses (401, and 400 for a key id it does not know), and
 * leave no runtime behind. */
static void test_http_auth(void **state)
{
	struct fixture *f = *state;
	char *body = fixture("bi-full-heartbeat.json", NULL, NULL);
	char tok[2048], hdr[2100], wrong[64];
	const int64_t now = 1764600000;
	struct model_runtime rt;
	struct model_secret s;
	struct buf reply;
	size_t len = strlen(body);
	const char *key;

	buf_init(&reply, 1 << 20);
	assert_int_equal(model_secret_create(f->m, &DEV, "bi"), 0);
	assert_int_equal(model_secret_get(f->m, &DEV, "bi", &s), 0);
	key = s.secret + 9;

	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat", NULL, body,
			len, now, &reply), 401);
	assert_non_null(strstr(reply.data, "Authorization"));
	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat",
			"Basic dXNlcjpwYXNz", body, len, now, &reply), 401);
	/* signed with other material of the same length */
	memcpy(wrong, key, strlen(key) + 1);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	assert_true(jwt_sign(JWT_STYLE_BI, s.key_id, wrong, strlen(wrong),
			now, 300, tok, sizeof(tok)) > 0);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat", hdr, body,
			len, now, &reply), 401);
	/* expired well past ICP's 10 s of skew */
	assert_true(jwt_sign(JWT_STYLE_MI, s.key_id, key, strlen(key),
			now - 400, 300, tok, sizeof(tok)) > 0);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat", hdr, body,
			len, now, &reply), 401);
	/* a key id nobody issued */
	assert_true(jwt_sign(JWT_STYLE_BI, "0badc0de", key, strlen(key),
			now, 300, tok, sizeof(tok)) > 0);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat", hdr, body,
			len, now, &reply), 400);
	assert_non_null(strstr(reply.data, "Unknown key ID '0badc0de'"));
	assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt),
			-ENOENT);

	/* as the Ballerina client signs: registered */
	assert_true(jwt_sign(JWT_STYLE_BI, s.key_id, key, strlen(key), now,
			300, tok, sizeof(tok)) > 0);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	assert_int_equal(icp_serve_http(f->m, "/icp/heartbeat", hdr, body,
			len, now, &reply), 201);
	assert_non_null(strstr(reply.data, "\"acknowledged\":true"));
	assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt), 0);
	assert_int_equal(icp_serve_http(f->m, "/icp/other", hdr, body, len,
			now, &reply), 404);

	/* revoked (bound, it is the runtime's secret now): its key id is
	 * unknown from then on */
	assert_int_equal(model_runtime_secret_revoke(f->m, "dev", BI_ID), 0);
	assert_int_equal(icp_serve_http(f->m, "/icp/deltaHeartbeat", hdr,
			body, len, now, &reply), 400);
	buf_release(&reply);
	free(body);
}

/* An HTTP POST of `body` with `hdr` at `now_s`: the status, the reply in
 * `reply`. */
static int http_post(struct fixture *f, const char *url, const char *hdr,
		const char *body, int64_t now_s, struct buf *reply)
{
	return icp_serve_http(f->m, url, hdr, body, strlen(body), now_s,
			reply);
}

/* A delta POSTed with `hdr` at `now_s`, taken (201): whether its reply
 * asks for a full heartbeat. */
static int delta_wants_full(struct fixture *f, const char *hdr,
		const char *delta, int64_t now_s, struct buf *reply)
{
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta,
			now_s, reply), 201);
	return strstr(reply->data, "\"fullHeartbeatRequired\":true") != NULL;
}

/* A full heartbeat `full` and then a delta, both with `hdr` at `now_s`
 * and taken: whether the delta's reply asks for a full heartbeat. */
static int full_then_delta(struct fixture *f, const char *hdr,
		const char *full, const char *delta, int64_t now_s,
		struct buf *reply)
{
	assert_int_equal(http_post(f, "/icp/heartbeat", hdr, full, now_s,
			reply), 201);
	return delta_wants_full(f, hdr, delta, now_s, reply);
}

/* A new secret NAME of dev into `s`, and an Authorization header with
 * MI's token for it, made at `now` for 300 s, into `hdr`. */
static void new_bearer(struct fixture *f, const char *name, int64_t now,
		struct model_secret *s, char hdr[2100])
{
	char tok[2048];

	assert_int_equal(model_secret_create(f->m, &DEV, name), 0);
	assert_int_equal(model_secret_get(f->m, &DEV, name, s), 0);
	assert_true(jwt_sign(JWT_STYLE_MI, s->key_id, s->secret + 9,
			strlen(s->secret + 9), now, 300, tok, sizeof(tok)) > 0);
	snprintf(hdr, 2100, "Bearer %s", tok);
}

/* The key and token kept between requests (model/keys.c) change nothing
 * any request sees: a reused token is refused once it expired, as soon
 * as its secret is revoked, or deleted by another writer, and a runtime
 * bound anew is answered for its new key; a hash that changed between
 * requests asks for a full heartbeat at once. */
static void test_http_kept(void **state)
{
	struct fixture *f = *state;
	char *full = fixture("mi-full-heartbeat.json", NULL, NULL),
	     *delta = fixture("mi-delta-heartbeat.json", NULL, NULL),
	     *other = fixture("mi-full-heartbeat.json", "3vQnTjYb",
			"AAAAAAAA");
	char hdr[2100], hdr2[2100], sql[200];
	const int64_t now = 1764600000;
	struct model_secret s, s2;
	struct buf reply;
	uint64_t reads;
	sqlite3 *db;

	buf_init(&reply, 1 << 20);
	new_bearer(f, "mi", now, &s, hdr);
	assert_false(full_then_delta(f, hdr, full, delta, now, &reply));
	for (int i = 1; i < 3; i++)
		assert_false(delta_wants_full(f, hdr, delta, now + i, &reply));
	/* by then a reused token and the right hash read nothing */
	reads = model_reads();
	assert_false(delta_wants_full(f, hdr, delta, now + 3, &reply));
	assert_int_equal(model_reads(), reads);
	/* another hash between two deltas with the same token */
	assert_true(full_then_delta(f, hdr, other, delta, now, &reply));
	assert_false(full_then_delta(f, hdr, full, delta, now, &reply));
	/* the kept token expires as the token does: 300 s and 10 of skew */
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta,
			now + 310, &reply), 201);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta,
			now + 311, &reply), 401);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 201);

	/* bound anew: the runtime heartbeats with another secret, and the
	 * old key, kept a moment ago, no longer speaks for it */
	new_bearer(f, "mi2", now, &s2, hdr2);
	assert_true(delta_wants_full(f, hdr2, delta, now, &reply));
	assert_false(full_then_delta(f, hdr2, full, delta, now, &reply));
	/* the old secret left with its last runtime (runtime_secret_left) */
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 400);
	assert_non_null(strstr(reply.data, "Unknown key ID"));

	/* revoked: the very next request with the kept token is refused */
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr2, delta, now,
			&reply), 201);
	assert_int_equal(model_runtime_secret_revoke(f->m, "dev",
			"mi-node-1"), 0);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr2, delta, now,
			&reply), 400);
	assert_int_equal(http_post(f, "/icp/heartbeat", hdr2, full, now,
			&reply), 400);

	/* an unbound secret deleted: refused at once */
	new_bearer(f, "mi3", now, &s, hdr);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 201);
	assert_int_equal(model_secret_revoke(f->m, &DEV, "mi3"), 0);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 400);

	/* another writer deletes a secret the model keeps: refused once
	 * the model looked (the flusher's poll, every flush interval, as
	 * for the rows it keeps) */
	new_bearer(f, "mi4", now, &s, hdr);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 201);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM secret WHERE key_id = '%s'",
			s.key_id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	model_lock(f->m);
	assert_int_equal(store_poll(f->m->store), 0);
	model_unlock(f->m);
	assert_int_equal(http_post(f, "/icp/deltaHeartbeat", hdr, delta, now,
			&reply), 400);
	buf_release(&reply);
	free(full);
	free(delta);
	free(other);
}

/* A delta of the BI fixture's runtime with `hash`: its status; the reply
 * in `*r`, and whether it asks for a full heartbeat in `*full`. */
static int bi_delta(struct fixture *f, const char *kid, const char *hash,
		cJSON **r, int *full)
{
	char body[256];
	int status;

	snprintf(body, sizeof(body), "{\"heartbeatVersion\":\"v1.0\","
			"\"runtimeId\":\"%s\",\"runtimeHash\":\"%s\","
			"\"timestamp\":[1764000010,0.25]}", BI_ID, hash);
	status = post(f, "/icp/deltaHeartbeat", kid, body, r);
	*full = jbool(*r, "fullHeartbeatRequired");
	return status;
}

/* How many commands a reply carries. */
static int ncommands(const cJSON *r)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(r, "commands"));
}

/* A runtime whose deltas change nothing is answered from memory
 * (model/known.c), and what changes between two deltas shows in the
 * very next reply: a command queued, delivered once; going OFFLINE and
 * back; a removal; a hash another writer changed. */
static void test_delta_known(void **state)
{
	struct fixture *f = *state;
	char kid[MODEL_KEY_ID_LEN], *full = fixture("bi-full-heartbeat.json",
			NULL, NULL);
	const char *hash = "mB7bD9Yx2yq0mI6JcU2x5A==";
	struct model_runtime rt;
	int wants_full;
	sqlite3 *db;
	cJSON *r;

	new_key(f, &DEV, "bi", kid);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	cJSON_Delete(r);
	for (int i = 0; i < 3; i++) {
		f->now += SEC;
		assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
		assert_false(wants_full);
		assert_true(jbool(r, "acknowledged"));
		assert_int_equal(ncommands(r), 0);
		cJSON_Delete(r);
		assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt), 0);
		assert_int_equal(rt.heartbeat_ns, f->now);
	}
	/* a command queued between two deltas rides on the next, once */
	assert_int_equal(model_artifact_ctl(f->m, "dev", BI_ID, "listeners",
			"httpListener", "stop"), 0);
	assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
	assert_int_equal(ncommands(r), 1);
	cJSON_Delete(r);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
		assert_int_equal(ncommands(r), 0);
		cJSON_Delete(r);
	}
	/* OFFLINE, then RUNNING again at the next delta */
	f->now += 31 * SEC;
	assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt), 0);
	assert_string_equal(rt.status, "OFFLINE");
	assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
	assert_false(wants_full);
	cJSON_Delete(r);
	assert_int_equal(model_runtime_get(f->m, "dev", BI_ID, &rt), 0);
	assert_string_equal(rt.status, "RUNNING");
	assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
	cJSON_Delete(r);
	/* another writer changes the hash: a full heartbeat is asked for
	 * once the model looked (the flusher's poll) */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE runtime SET hash = 'x'",
			NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	model_lock(f->m);
	assert_int_equal(store_poll(f->m->store), 0);
	model_unlock(f->m);
	assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
	assert_true(wants_full);
	cJSON_Delete(r);
	assert_int_equal(post(f, "/icp/heartbeat", kid, full, &r), 201);
	cJSON_Delete(r);
	assert_int_equal(bi_delta(f, kid, hash, &r, &wants_full), 201);
	assert_false(wants_full);
	cJSON_Delete(r);
	/* removed once OFFLINE, and its secret with it: the next delta's
	 * key is unknown */
	f->now += 31 * SEC;
	assert_int_equal(model_runtime_delete(f->m, "dev", BI_ID), 0);
	assert_int_equal(post(f, "/icp/deltaHeartbeat", kid, "{\"runtimeId\":"
			"\"" BI_ID "\",\"runtimeHash\":\"mB7bD9Yx2yq0mI6JcU2x5A"
			"==\",\"timestamp\":[1764000010,0.25]}", &r), 400);
	cJSON_Delete(r);
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bi_registers, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_replicas, icp_setup,
				teardown),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test_setup_teardown(test_refusals, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_delta, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_commands, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_delta_known, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_http_kept, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_http_auth, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_artifacts, icp_setup,
				teardown),
		cmocka_unit_test(test_artifact_names),
		cmocka_unit_test_setup_teardown(test_material, icp_setup,
				teardown),
		cmocka_unit_test_setup_teardown(test_migration, icp_setup,
				teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
