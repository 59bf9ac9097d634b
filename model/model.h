/*
 * model.h - the rules of runtimefs: what exists, what may change, in which
 * state, and what a value may be.
 *
 * The model knows nothing of FUSE: it takes names and values (as strings a
 * user wrote, already stripped of surrounding blanks) and answers with
 * structs.  Every function returns 0 or a negative errno; on failure
 * model_errmsg() holds the reason in words, lower case, naming the thing it
 * is about ("environment 'prod' is not empty: 2 runtimes").  A refused
 * change changes nothing: each change is one store transaction, committed
 * before the function returns 0.
 *
 * A model is safe to share between threads: every call takes its lock.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_NAME_MAX 64         /* 63 characters + NUL */
#define MODEL_NAME_LEN_MAX 63
#define MODEL_TEXT_MAX 128
#define MODEL_UUID_LEN 37
#define MODEL_KEY_ID_LEN 9        /* a secret's key id: 8 hex digits + NUL */
#define MODEL_SECRET_MAX 64       /* "KEYID.BASE64" + NUL */
#define MODEL_HEARTBEAT_MAX 65536 /* one heartbeat through the mount */
#define MODEL_ICP_BODY_MAX (16 * 1024 * 1024) /* one over ICP's API */
#define MODEL_HASH_MAX 64         /* a runtimeHash (MD5 in base64: 24) */

struct model;

/* What an event is about, for its path in the tree (model_config's
 * path_of): the names that lead to it, set as the object needs. */
enum model_where {
	MODEL_AT_ENV,
	MODEL_AT_PROJECT,
	MODEL_AT_INTEGRATION,
	MODEL_AT_RUNTIME,
	MODEL_AT_VERSION,         /* runtime's version `version` */
	MODEL_AT_ENDPOINT,        /* runtime's endpoint `name` */
	MODEL_AT_SECRET,          /* env's (or integration's) secret `name` */
	MODEL_AT_RUNTIME_SECRET,  /* the secret bound to the runtime */
	MODEL_AT_SNAPSHOT,        /* snapshot `name` */
};

struct model_at {
	enum model_where where;
	const char *env;
	const char *project;
	const char *integration;
	const char *runtime;
	const char *name;
	int64_t version;
};

/* Who asks for the change under way, for the audit log (audit.c), as
 * the filesystem knows it: user, group, process and its command name,
 * the operation and the path it names. */
struct model_actor {
	int64_t uid;
	int64_t gid;
	int64_t pid;
	char comm[32];
	char op[24];
	char path[1024];
};

struct model_config {
	/* A runtime is OFFLINE when its last heartbeat is older than this. */
	int64_t offline_after_ns;
	/* The key file that seals secrets at rest (seal.c), which the
	 * caller names: the daemon's -o key_file, or where the store keeps
	 * it by default (store_default_key_path()).  NULL keeps a key in
	 * memory, which only a store that dies with the process may do
	 * (":memory:"); for any other model_open() refuses it (-EINVAL). */
	const char *key_path;
	/* The clock, for tests; NULL means the real one (CLOCK_REALTIME). */
	int64_t (*now)(void *ctx);
	void *now_ctx;
	/* How often heartbeat times held in memory are written to the
	 * database: 0 means every 500 ms; negative means never by itself
	 * (tests flush by hand). */
	int64_t flush_interval_ns;
	/* How many lines the event log keeps (0: 10,000). */
	int64_t events_keep;
	/* Writes the path of what an event is about into `buf`; NULL: the
	 * names joined with '/'. */
	int (*path_of)(void *ctx, const struct model_at *at, char *buf,
			size_t size);
	void *path_ctx;
	/* Fills in who asks for what the calling thread changes: 0, or
	 * nonzero when the thread serves no one (NULL: nobody, ever). */
	int (*actor)(void *ctx, struct model_actor *out);
	void *actor_ctx;
	/* How long the audit log keeps a line (0: 90 days). */
	int64_t audit_keep_ns;
};

struct model_env {
	char name[MODEL_NAME_MAX];
	int critical;
	int64_t created_ns;
	int64_t mtime_ns;
};

struct model_project {
	char name[MODEL_NAME_MAX];
	int64_t created_ns;
	char display[MODEL_TEXT_MAX];      /* the name a heartbeat sent, or
					      `name` when none did */
};

struct model_integration {
	char project[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char type[16];
	int64_t created_ns;
	int64_t mtime_ns;
	char display[MODEL_TEXT_MAX];      /* as for a project */
};

struct model_runtime {
	int64_t id;                         /* its row: tells one runtime of a
					       name from one made later */
	char uuid[MODEL_UUID_LEN];
	char env[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char type[16];                      /* default | MI | agent */
	char project[MODEL_NAME_MAX];       /* "" when not assigned */
	char integration[MODEL_NAME_MAX];   /* "" when not assigned */
	const char *status;                 /* CREATING ... OFFLINE */
	int64_t status_ns;                  /* when `status` took its value */
	int64_t status_until_ns;            /* time changes it after this
					       (0: only an event will) */
	char runtime_version[MODEL_TEXT_MAX];   /* "" when not reported */
	char platform[MODEL_TEXT_MAX];
	char os[MODEL_TEXT_MAX];
	int64_t registered_ns;
	int64_t heartbeat_ns;               /* 0: never */
	int64_t info_ns;                    /* last change of version/platform/os */
	int64_t reported_ns;                /* last change of what it reported
					       (model_runtime_reported()) */
	int64_t artifacts_ns;               /* last change of its artifacts */
	int64_t assigned_ns;                /* last change of project/integration */
	int64_t latest_version;             /* 0: none deployed */
	int64_t deployed_ns;                /* when it was deployed; 0: never */
	int64_t revoked_ns;                 /* its secret was revoked; 0: no */
	char secret[MODEL_KEY_ID_LEN];      /* bound secret's key id, or "" */
};

/* An unbound secret.  `secret` is the credential itself, KEYID.BASE64;
 * `project` and `integration` are "" unless it is scoped to one. */
struct model_secret {
	char env[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char project[MODEL_NAME_MAX];
	char integration[MODEL_NAME_MAX];
	char key_id[MODEL_KEY_ID_LEN];
	char secret[MODEL_SECRET_MAX];
	int64_t created_ns;
};

/* Where secrets are seen: `env` is required; with `project` and
 * `integration` set, only the secrets scoped to that integration. */
struct model_secret_scope {
	const char *env;
	const char *project;
	const char *integration;
};

/* A command for a runtime, as ICP's ControlCommand (types.bal):
 * commandId, runtimeId, targetArtifact {name}, action, issuedAt,
 * status. */
#define MODEL_COMMANDS_MAX 32      /* in one reply; the rest wait */
struct model_command {
	char id[MODEL_UUID_LEN];
	char runtime_id[MODEL_UUID_LEN];
	char target[MODEL_TEXT_MAX];
	char action[24];                   /* START | STOP */
	int64_t issued_ns;
	char status[16];                   /* PENDING as delivered */
};

/* What a heartbeat is answered with, as ICP's HeartbeatResponse: whether
 * it was acknowledged, whether a full heartbeat is wanted, the commands
 * for the runtime, and the runtime's id (""  when none); `http` is the
 * status ICP's runtime service answers it with (201 taken, 400, 401,
 * 409, 413; 503 for a failure that is not the runtime's, such as a busy
 * database). */
struct model_heartbeat_reply {
	char runtime_id[MODEL_UUID_LEN];
	int acknowledged;
	int full_required;
	int http;
	struct model_command commands[MODEL_COMMANDS_MAX];
	int ncommands;
};

/* The optional heartbeat fields advertised in every reply
 * (supportedHeartbeatFields), NULL-terminated. */
extern const char *const model_heartbeat_fields[];

/* Which runtimes model_runtime_list() walks: `env` is required; with
 * `project` set, only those of the project's integrations; with
 * `integration` set too, only that integration's. */
struct model_runtime_filter {
	const char *env;
	const char *project;
	const char *integration;
};

typedef int (*model_env_cb)(void *ctx, const struct model_env *env);
typedef int (*model_project_cb)(void *ctx, const struct model_project *p);
typedef int (*model_integration_cb)(void *ctx,
		const struct model_integration *in);
typedef int (*model_runtime_cb)(void *ctx, const struct model_runtime *rt);
typedef int (*model_secret_cb)(void *ctx, const struct model_secret *sec);

/* Opens the model on the database at `db` (created and migrated if need
 * be).  `cfg` is copied; NULL takes the defaults (offline after 30 s). */
int model_open(struct model **out, const char *db,
		const struct model_config *cfg);
void model_close(struct model *m);

/* The reason for the last failure on this thread, "" if none;
 * model_errclear() forgets it.  It is the one message every layer writes
 * (store/errmsg.h): a failure of the store keeps the store's words. */
const char *model_errmsg(void);
void model_errclear(void);

/* Writes what the model batches (heartbeat times, liveness.c) now: 0, or
 * -errno and the reason, the times still waiting. */
int model_flush(struct model *m);

/* How many reading statements the store has run in this process: what a
 * request cost, for the daemon's RUNTIMEFS_COUNT_READS (request.c). */
uint64_t model_reads(void);

/* The model's clock, in nanoseconds since the epoch. */
int64_t model_now(struct model *m);

/* Watching changes, for a cache of the tree (the kernel's, in fs/).
 * After each committed change, the watcher is called once per thing that
 * changed, saying exactly what: which object and which of its facets, or
 * which set of names gained or lost a member, so that a cache drops what
 * it shows of that and nothing else.  It is called on the thread that
 * made the change, before that change's function returns, and outside the
 * model's lock (it may read the model).  A change another writer of the
 * store committed (store.h, store_watch()) is told as MODEL_EV_ALL on the
 * thread that noticed it: the next change's, or the heartbeat flusher's,
 * which looks every flush interval.
 *
 *   MODEL_EV_RUNTIME      runtime b of environment a, row `id`; `what`
 *                         is a set of MODEL_RT_* below; `c` names the one
 *                         endpoint MODEL_RT_ENDPOINTS concerns (or that
 *                         came or went), or with MODEL_RT_VERSIONS and
 *                         MODEL_RT_DROPPED the version number that went
 *   MODEL_EV_ENV          environment a: MODEL_OBJ_MADE, _GONE, _VALUES
 *                         (critical), _MEMBERS (its runtimes came or
 *                         went), _SECRETS (its secrets; c: one that went)
 *   MODEL_EV_PROJECT      project a: _MADE, _GONE, _MEMBERS (integrations)
 *   MODEL_EV_INTEGRATION  integration b of project a: _MADE, _GONE,
 *                         _VALUES (type), _SECRETS (those scoped to it in
 *                         environment c; d: one that went)
 *   MODEL_EV_VIEW         the runtimes project a and its integration b
 *                         show under environment c came or went; d: the
 *                         runtime that left, if one did
 *   MODEL_EV_SNAPSHOT     snapshot a: _MADE, _GONE
 *   MODEL_EV_EVENTS       the event log grew (model_events_read())
 *   MODEL_EV_ALL          too much to say, or another writer's change:
 *                         anything may have changed
 *
 * Time changes statuses too, with no event: model_runtime's
 * status_until_ns says when. */
enum model_event_kind {
	MODEL_EV_RUNTIME,
	MODEL_EV_ENV,
	MODEL_EV_PROJECT,
	MODEL_EV_INTEGRATION,
	MODEL_EV_VIEW,
	MODEL_EV_SNAPSHOT,
	MODEL_EV_EVENTS,
	MODEL_EV_ALL,
};

/* What of a runtime changed (MODEL_EV_RUNTIME). */
#define MODEL_RT_HEARD     0x001u  /* its heartbeat time, nothing else */
#define MODEL_RT_STATUS    0x002u  /* desired state, running, revoked */
#define MODEL_RT_INFO      0x004u  /* runtime version, platform, os */
#define MODEL_RT_ASSIGNED  0x008u  /* project and integration */
#define MODEL_RT_SECRET    0x010u  /* the secret bound to it */
#define MODEL_RT_VERSIONS  0x020u  /* versions, spec, latest version */
#define MODEL_RT_ENDPOINTS 0x040u  /* endpoints: made, gone, moved */
#define MODEL_RT_ACCOUNT   0x080u  /* its service account */
#define MODEL_RT_MADE      0x100u  /* it was made */
#define MODEL_RT_GONE      0x200u  /* it was deleted */
#define MODEL_RT_DROPPED   0x400u  /* version or endpoint `c` went */
#define MODEL_RT_ENDPOINT_NAMES 0x800u /* endpoint `c` came or went */
#define MODEL_RT_ARTIFACTS 0x1000u /* the artifacts it reported */

/* What of another object changed. */
#define MODEL_OBJ_MADE     0x01u
#define MODEL_OBJ_GONE     0x02u
#define MODEL_OBJ_VALUES   0x04u
#define MODEL_OBJ_MEMBERS  0x08u
#define MODEL_OBJ_SECRETS  0x10u

struct model_event {
	enum model_event_kind kind;
	unsigned what;
	int64_t id;
	char a[MODEL_NAME_MAX];
	char b[MODEL_NAME_MAX];
	char c[MODEL_NAME_MAX];
	char d[MODEL_NAME_MAX];
};

typedef void (*model_watch_fn)(void *ctx, const struct model_event *ev);

/* Sets the watcher (NULL: none).  Call before the model is shared. */
void model_watch(struct model *m, model_watch_fn fn, void *ctx);

/* The event log (events.c), as a stream of bytes: `start` is the offset
 * of the oldest line kept, `end` the stream's length (both go on across
 * drops of old lines and restarts), `mtime_ns` the newest line's moment.
 * A snapshot's are its live model's. */
struct model_events_stat {
	int64_t start;
	int64_t end;
	int64_t mtime_ns;
};
int model_events_stat(struct model *m, struct model_events_stat *out);
/* Copies bytes of the stream from offset `off` (at least `start`) into
 * `out`: how many (0 at the end), or -errno. */
int model_events_read(struct model *m, int64_t off, char *out, size_t size);

/* The audit log (audit.c): one line per change and per refusal, with
 * who asked, kept audit_keep_ns.  Its stream starts at the oldest line
 * kept (stat's start is 0, end its length).  A snapshot's is the one it
 * copied.  model_audit_refused() keeps a refusal of `actor` (err, why)
 * for the flusher to write, within its interval. */
int model_audit_stat(struct model *m, struct model_events_stat *out);
int model_audit_read(struct model *m, int64_t off, char *out, size_t size);
int model_audit_refused(struct model *m, const struct model_actor *actor,
		int err, const char *why);

/* Checks a name of an environment, project, integration, runtime, endpoint
 * or secret: 1 to 63 of [A-Za-z0-9._-], not starting with '.' or '-'.
 * `what` names the kind in the message.  -EINVAL, or -ENAMETOOLONG past
 * 255 bytes. */
int model_name_check(const char *what, const char *name);

/* Environments.  Deleting one that holds runtimes or secrets: -ENOTEMPTY.
 * `critical` takes "0" or "1". */
int model_env_create(struct model *m, const char *name);
int model_env_delete(struct model *m, const char *name);
int model_env_get(struct model *m, const char *name, struct model_env *out);
int model_env_list(struct model *m, model_env_cb cb, void *ctx);
int model_env_set_critical(struct model *m, const char *name,
		const char *value);

/* Projects.  Deleting one with integrations: -ENOTEMPTY. */
int model_project_create(struct model *m, const char *name);
int model_project_delete(struct model *m, const char *name);
int model_project_get(struct model *m, const char *name,
		struct model_project *out);
int model_project_list(struct model *m, model_project_cb cb, void *ctx);

/* Integrations of a project.  New ones are of type "default"; `type` takes
 * "default" or "MI".  Deleting one that still has runtimes or secrets:
 * -ENOTEMPTY. */
int model_integration_create(struct model *m, const char *project,
		const char *name);
int model_integration_delete(struct model *m, const char *project,
		const char *name);
int model_integration_get(struct model *m, const char *project,
		const char *name, struct model_integration *out);
int model_integration_list(struct model *m, const char *project,
		model_integration_cb cb, void *ctx);
int model_integration_set_type(struct model *m, const char *project,
		const char *name, const char *value);

/* Creates an agent runtime NAME in ENV, status CREATING.  With `project`
 * and `integration` non-NULL it is assigned to that integration, which
 * must exist. */
int model_runtime_create(struct model *m, const char *env, const char *name,
		const char *project, const char *integration);
/* Assigns an agent runtime to an integration (moving it if it had
 * another).  Integration runtimes take theirs from their heartbeats:
 * -EPERM. */
int model_runtime_assign(struct model *m, const char *env, const char *name,
		const char *project, const char *integration);
/* Deletes a runtime: -EBUSY while it is RUNNING. */
int model_runtime_delete(struct model *m, const char *env, const char *name);
int model_runtime_get(struct model *m, const char *env, const char *name,
		struct model_runtime *out);
int model_runtime_list(struct model *m, const struct model_runtime_filter *f,
		model_runtime_cb cb, void *ctx);

/* Secrets (secret.c).  Creating one generates a key id (8 hex digits) and
 * 32 random bytes, sealed at rest; created within an integration's scope
 * it can only register a runtime of that integration.  Only unbound
 * secrets can be got, listed and revoked by name: binding takes a secret
 * off the list.  Revoking deletes it. */
int model_secret_create(struct model *m, const struct model_secret_scope *sc,
		const char *name);
int model_secret_get(struct model *m, const struct model_secret_scope *sc,
		const char *name, struct model_secret *out);
int model_secret_list(struct model *m, const struct model_secret_scope *sc,
		model_secret_cb cb, void *ctx);
int model_secret_revoke(struct model *m, const struct model_secret_scope *sc,
		const char *name);
/* Revokes the secret bound to a runtime: its heartbeats are refused from
 * now on and it is OFFLINE at once.  -ENOENT when none is bound. */
int model_runtime_secret_revoke(struct model *m, const char *env,
		const char *name);

/* The secret bound to a runtime, with its credential, as
 * model_secret_get() gives an unbound one (its `name` is the name it had
 * before binding).  -ENOENT when none is bound. */
int model_runtime_secret_get(struct model *m, const char *env,
		const char *name, struct model_secret *out);

/* Takes one heartbeat, `len` bytes of JSON with ICP's field names
 * (heartbeat.c).  The first valid one from a runtime registers it;
 * later ones keep it alive.  -EINVAL malformed or missing field,
 * -EACCES unknown, revoked or misplaced credentials, -EEXIST the name
 * belongs to another runtime; a refused heartbeat changes nothing. */
int model_heartbeat(struct model *m, const char *json, size_t len,
		struct model_heartbeat_reply *out);

/* Takes one heartbeat from ICP's runtime API, of a runtime whose JWT
 * named key id `key_id` and verified with it: a full Heartbeat, or with
 * `delta` a DeltaHeartbeat (heartbeat.c).  The same rules as
 * model_heartbeat(), with ICP's required fields; a refusal is -errno
 * with out->http ICP's status for it, and a delta that is not taken
 * (unbound key, unknown runtime, another hash) is 0 with
 * out->full_required. */
int model_icp_heartbeat(struct model *m, const char *key_id, int delta,
		const char *json, size_t len, struct model_heartbeat_reply *out);

/* Records what a runtime posted to ICP's /icp/commandResult (a
 * WorkflowCommandResult: runtimeId, commandId, status, httpStatus,
 * body) on the command it names, when that command is one of a runtime
 * that heartbeats with `key_id`; a late, unknown or foreign one is
 * dropped.  0 (ICP's 202), -EINVAL for a body that is not one, -EACCES
 * for an unknown key id. */
int model_command_result(struct model *m, const char *key_id,
		const char *json, size_t len);

/* A secret's key material, the base64 text after "KEYID." (what both
 * ICP clients sign their JWTs with, as text), into `out` (`cap` bytes);
 * -EACCES for a key id unknown or revoked, -ENOSPC when it does not
 * fit.  The caller wipes it. */
int model_secret_material(struct model *m, const char *key_id, char *out,
		size_t cap);

/* Whether `token` (`len` bytes) is the last one verified with key id
 * `key_id` (model_token_keep()), that key is still the secret's and
 * `now_s` is inside the times the token is good for: 1, so that its
 * signature and claims need no new check, else 0.  The key is forgotten
 * whenever anything commits or another writer changes the database. */
int model_token_known(struct model *m, const char *key_id,
		const char *token, size_t len, int64_t now_s);

/* Keeps `token`, verified with `key` (the text model_secret_material()
 * gave) and good from `valid_from_s` to `valid_until_s` (seconds, both
 * included), as the last token of `key_id`, when `key` is still what is
 * kept for it. */
void model_token_keep(struct model *m, const char *key_id, const char *key,
		const char *token, size_t len, int64_t valid_from_s,
		int64_t valid_until_s);

/* ICP's toHandler(): `name` in lower case, every run of characters
 * other than a-z and 0-9 one '-', none at either end, into `out`;
 * -EINVAL when nothing is left or it is longer than 63 characters.
 * `what` names it in the message. */
int model_handle(const char *what, const char *name,
		char out[MODEL_NAME_MAX]);

/* Whether `len` bytes hold one whole JSON object, blanks around it
 * allowed (json.c): 0 when they do, MODEL_JSON_MORE while more bytes
 * could still complete one, -EINVAL when no bytes can (not JSON, a
 * second value after it, invalid UTF-8, a NUL raw or as \u0000, nesting
 * deeper than 64), with the first bad byte in the message.  An object it
 * calls whole is one cJSON parses. */
#define MODEL_JSON_MORE 1
int model_json_state(const char *data, size_t len);

/* Snapshots: point-in-time, read-only copies of the whole model, kept by
 * the store (store.h) where they survive a remount, each with the moment
 * it was taken.  A snapshot is itself a model: every change to it is -EROFS,
 * and its clock stands at the moment it was taken, so that nothing in it
 * changes, status included.  model_snapshot_get() takes a reference that
 * model_snapshot_put() gives back; a snapshot deleted meanwhile goes away
 * when the last reference does. */
typedef int (*model_snapshot_cb)(void *ctx, const char *name,
		int64_t taken_ns);
int model_snapshot_create(struct model *m, const char *name);
int model_snapshot_delete(struct model *m, const char *name);
int model_snapshot_list(struct model *m, model_snapshot_cb cb, void *ctx);
int model_snapshot_get(struct model *m, const char *name,
		struct model **snap);
void model_snapshot_put(struct model *snap);
/* When a snapshot was taken; 0 for the live model. */
int64_t model_snapshot_time(const struct model *m);

/* -- deploys (deploy.c, endpoint.c, service_account.c) --------------- */

#define MODEL_SPEC_MAX (64 * 1024)    /* a spec document at the most */

struct model_endpoint {
	char name[MODEL_NAME_MAX];
	char id[MODEL_UUID_LEN];
	int64_t version;
	int64_t created_ns;
	int64_t updated_ns;                 /* last change of `version` */
};

/* A service account: "CLIENTID.SECRET" is the credential a runtime
 * presents (client id a UUID, secret 32 random bytes, URL-safe base64). */
#define MODEL_CREDENTIAL_MAX 96
struct model_service_account {
	char client_id[MODEL_UUID_LEN];
	char credential[MODEL_CREDENTIAL_MAX];   /* CLIENTID.SECRET */
	int64_t created_ns;
};

typedef int (*model_version_cb)(void *ctx, int64_t number,
		int64_t created_ns);
typedef int (*model_endpoint_cb)(void *ctx, const struct model_endpoint *e);

/* Deploys version N+1 of an agent runtime from a spec document of `len`
 * bytes (JSON, checked field by field: -EINVAL naming the field).  The
 * first deploy creates the DEFAULT endpoint; each one moves DEFAULT to the
 * new version.  A spec equal to the latest one deploys nothing.  `version`
 * (may be NULL) receives the version that is latest afterwards. */
int model_deploy(struct model *m, const char *env, const char *name,
		const char *spec, size_t len, int64_t *version);
/* The spec of the latest version, pretty JSON ending with a newline,
 * malloc'd into *out ("" when none); *mtime_ns its deploy time. */
int model_spec_get(struct model *m, const char *env, const char *name,
		char **out, int64_t *mtime_ns);
/* versions/N as JSON (agentRuntimeId, version, spec fields, createdAt),
 * malloc'd into *out. */
int model_version_get(struct model *m, const char *env, const char *name,
		int64_t number, char **out, int64_t *created_ns);
int model_version_list(struct model *m, const char *env, const char *name,
		model_version_cb cb, void *ctx);
/* -EBUSY while an endpoint serves it or it is the latest. */
int model_version_delete(struct model *m, const char *env, const char *name,
		int64_t number);

/* Endpoints.  create pins the new endpoint to the latest version (-ENOENT
 * before the first deploy); pin takes a version number as text: -EINVAL
 * if it is not one, -ENOENT if there is no such version; DEFAULT cannot
 * be deleted (-EPERM). */
int model_endpoint_create(struct model *m, const char *env, const char *name,
		const char *endpoint);
int model_endpoint_delete(struct model *m, const char *env, const char *name,
		const char *endpoint);
int model_endpoint_get(struct model *m, const char *env, const char *name,
		const char *endpoint, struct model_endpoint *out);
int model_endpoint_list(struct model *m, const char *env, const char *name,
		model_endpoint_cb cb, void *ctx);
int model_endpoint_pin(struct model *m, const char *env, const char *name,
		const char *endpoint, const char *value);

/* ctl: "start", "stop" or "reset-service-account"; anything else
 * -EINVAL.  Start and stop of a BI runtime also queue ICP's START or
 * STOP for each of its listeners (model_artifact_ctl()). */
int model_runtime_ctl(struct model *m, const char *env, const char *name,
		const char *command);
int model_service_account_get(struct model *m, const char *env,
		const char *name, struct model_service_account *out);

/* -- what integration runtimes report (artifact.c) ------------------ */

/* What a runtime reported in its last full heartbeat but its artifacts,
 * hash, timestamp and credential (nodeInfo whole, runtimeHostname,
 * runtimePort, logLevels, ...), pretty JSON with a final newline,
 * malloc'd into *out ("{}" when it reported nothing); *mtime_ns when it
 * last changed. */
int model_runtime_reported(struct model *m, const char *env,
		const char *name, char **out, int64_t *mtime_ns);

/* An artifact a runtime reported (ICP's Artifacts, types.bal): its kind
 * as the tree names it ("listeners", "proxy-services"), its name as a
 * file name (the reported name, see model_artifact_dirname()), and when
 * it last changed. */
#define MODEL_KIND_MAX 24
#define MODEL_ARTIFACT_NAME_MAX 256
struct model_artifact {
	char kind[MODEL_KIND_MAX];
	char name[MODEL_ARTIFACT_NAME_MAX];
	int64_t changed_ns;
};
typedef int (*model_kind_cb)(void *ctx, const char *kind);
typedef int (*model_artifact_cb)(void *ctx, const struct model_artifact *a);

/* The file name of an artifact named `raw`: every byte but A-Z a-z 0-9
 * '.' '_' '-' as %XX (and '.' or '-' first), cut at 200 bytes, so that a
 * name that is a valid name anywhere else in the tree stays as it is and
 * any other stays readable and unique; `out` holds
 * MODEL_ARTIFACT_NAME_MAX.  -EINVAL for an empty name. */
int model_artifact_dirname(const char *raw, char out[MODEL_ARTIFACT_NAME_MAX]);

/* The kinds runtime NAME of ENV has artifacts of, in order. */
int model_artifact_kinds(struct model *m, const char *env, const char *name,
		model_kind_cb cb, void *ctx);
/* Its artifacts of `kind`, by name. */
int model_artifact_list(struct model *m, const char *env, const char *name,
		const char *kind, model_artifact_cb cb, void *ctx);
/* One artifact; with `doc` non-NULL the artifact as reported, pretty
 * JSON with a final newline, malloc'd into *doc.  -ENOENT. */
int model_artifact_get(struct model *m, const char *env, const char *name,
		const char *kind, const char *artifact,
		struct model_artifact *out, char **doc);
/* Whether ICP can act on artifacts of `kind` of a runtime of `type`:
 * MODEL_CTL_BI for a BI listener (START and STOP in the heartbeat
 * reply), MODEL_CTL_MI for the MI artifacts ICP drives through MI's
 * management API, 0 for none. */
#define MODEL_CTL_BI 1
#define MODEL_CTL_MI 2
int model_artifact_ctl_of(const char *type, const char *kind);
/* ctl of an artifact: "start" or "stop" (else -EINVAL) of a BI listener
 * queues ICP's START or STOP for it, which the runtime's next heartbeat
 * reply carries; -EOPNOTSUPP for an MI artifact (ICP calls MI's
 * management API, which runtimefs does not) and for a kind ICP cannot
 * act on. */
int model_artifact_ctl(struct model *m, const char *env, const char *name,
		const char *kind, const char *artifact, const char *command);

/* -- removing an object whole (remove.c) ------------------------------ */

/* What `rm -r` of an object (fs/walk.c) removed on its way down, asked
 * for each thing the object holds before it goes with it:
 *
 *   MODEL_PART_RUNTIME        env, name        environments/ENV/runtimes/NAME
 *   MODEL_PART_SECRET         env, name        environments/ENV/secrets/NAME
 *   MODEL_PART_VERSION        env, runtime, number
 *   MODEL_PART_ENDPOINT       env, runtime, name
 *   MODEL_PART_BOUND_SECRET   env, runtime     the runtime's `secret`
 *   MODEL_PART_INTEGRATION    project, name
 *   MODEL_PART_LINK           project, integration, env, name
 *   MODEL_PART_SCOPED_SECRET  project, integration, env, name
 */
enum model_part_kind {
	MODEL_PART_RUNTIME,
	MODEL_PART_SECRET,
	MODEL_PART_VERSION,
	MODEL_PART_ENDPOINT,
	MODEL_PART_BOUND_SECRET,
	MODEL_PART_INTEGRATION,
	MODEL_PART_LINK,
	MODEL_PART_SCOPED_SECRET,
};

struct model_part {
	enum model_part_kind kind;
	const char *env;
	const char *project;
	const char *integration;
	const char *runtime;
	const char *name;
	int64_t number;
};

struct model_cover {
	/* 1 when the walk removed `part`, else 0 */
	int (*covered)(void *ctx, const struct model_part *part);
	void *ctx;
};

/* Removes an object and everything it holds in one transaction, or
 * nothing: -ENOTEMPTY when it holds something `c` did not cover (NULL
 * covers nothing), -EBUSY when a runtime that would go is RUNNING.  A
 * runtime takes its versions, endpoints (DEFAULT too) and bound secret;
 * an environment its runtimes and unbound secrets; an integration its
 * scoped secrets and the runtimes linked into it (deleted as `rm` of
 * their link deletes them: -ENOTEMPTY while one has endpoints besides
 * DEFAULT); a project its integrations. */
int model_runtime_remove(struct model *m, const char *env, const char *name,
		const struct model_cover *c);
int model_env_remove(struct model *m, const char *env,
		const struct model_cover *c);
int model_integration_remove(struct model *m, const char *project,
		const char *name, const struct model_cover *c);
int model_project_remove(struct model *m, const char *project,
		const struct model_cover *c);

/* -- restore (restore.c) --------------------------------------------- */

/* A backup, as the filesystem read it from what tar, cp -a or rsync -a
 * copied into a restore mount (fs/backup.c): typed, every value taken
 * apart, nothing of the tree's file names or formats left.  `src` of each
 * part says where it came from (the path of its file or directory), for
 * the model's messages, which start with it; the model never looks into
 * it.  A time of 0 is the moment of the restore, unless said otherwise.
 * What the server assigned is given as it was: ids, registration and
 * heartbeat times, version numbers and their createdAt, endpoint ids and
 * times, credentials. */
struct model_backup_env {
	const char *src;
	char name[MODEL_NAME_MAX];
	int critical;                       /* 0 or 1 */
	int64_t created_ns;
	int64_t critical_ns;                /* when critical took its value */
};

struct model_backup_project {
	const char *src;
	char name[MODEL_NAME_MAX];
	char display[MODEL_TEXT_MAX];       /* "": its name */
	int64_t created_ns;
};

struct model_backup_integration {
	const char *src;
	char project[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char type[16];                      /* default | MI */
	char display[MODEL_TEXT_MAX];       /* "": its name */
	int64_t created_ns;
	int64_t type_ns;                    /* when type took its value */
};

/* A secret: its credential KEYID.BASE64 (key material: whoever fills it
 * wipes it), the environment it registers runtimes of, and with
 * `project` and `integration` the one integration it is scoped to ("":
 * any). */
struct model_backup_secret {
	const char *src;
	char env[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char project[MODEL_NAME_MAX];
	char integration[MODEL_NAME_MAX];
	char credential[MODEL_SECRET_MAX];
	int64_t created_ns;
};

/* Version `number` of an agent runtime: its spec document (checked as a
 * deploy checks it), the runtime it names as its own, and when it was
 * made. */
struct model_backup_version {
	const char *src;
	int64_t number;
	char runtime_id[MODEL_UUID_LEN];
	const char *spec;
	size_t spec_len;
	int64_t created_ns;
};

struct model_backup_endpoint {
	const char *src;
	const char *version_src;            /* where `version` came from */
	char name[MODEL_NAME_MAX];
	char id[MODEL_UUID_LEN];
	int64_t version;                    /* the version it serves */
	int64_t created_ns;
	int64_t updated_ns;
};

struct model_backup_runtime {
	const char *src;
	char env[MODEL_NAME_MAX];
	char name[MODEL_NAME_MAX];
	char id[MODEL_UUID_LEN];
	char type[16];                      /* default | MI | agent */
	int64_t registered_ns;              /* required */
	int64_t heartbeat_ns;               /* 0: never */
	char status[16];                    /* as it was; "": not known */
	char runtime_version[MODEL_TEXT_MAX];   /* "": not reported */
	char platform[MODEL_TEXT_MAX];
	char os[MODEL_TEXT_MAX];
	int64_t info_ns;                    /* 0: registered_ns */
	char project[MODEL_NAME_MAX];       /* "": not assigned */
	char integration[MODEL_NAME_MAX];
	int64_t assigned_ns;                /* 0: registered_ns */
	/* CLIENTID.SECRET (key material); "": the backup has none, and the
	 * runtime gets a new one */
	const char *service_account_src;
	char service_account[MODEL_CREDENTIAL_MAX];
	int64_t service_account_ns;
	/* the key id of its bound secret ("": none), and that secret, named
	 * after the runtime (bound.src NULL: not in the backup) */
	char secret_key_id[MODEL_KEY_ID_LEN];
	struct model_backup_secret bound;
	/* the spec the backup shows as the latest version's (spec_src NULL:
	 * none shown); empty before the first version */
	const char *spec_src;
	const char *spec;
	size_t spec_len;
	struct model_backup_version *versions;
	size_t nversions;
	struct model_backup_endpoint *endpoints;
	size_t nendpoints;
};

/* Runtime `runtime` of `env` as a project's view shows it, and with
 * `integration` set ("" for the project's own view) as that
 * integration's does. */
struct model_backup_link {
	const char *src;
	char project[MODEL_NAME_MAX];
	char integration[MODEL_NAME_MAX];
	char env[MODEL_NAME_MAX];
	char runtime[MODEL_NAME_MAX];
};

struct model_backup {
	struct model_backup_env *envs;
	size_t nenvs;
	struct model_backup_project *projects;
	size_t nprojects;
	struct model_backup_integration *integrations;
	size_t nintegrations;
	struct model_backup_runtime *runtimes;
	size_t nruntimes;
	struct model_backup_secret *secrets;       /* unbound ones */
	size_t nsecrets;
	struct model_backup_link *links;
	size_t nlinks;
	/* The audit log it holds (MOUNT/audit's bytes), or NULL: its lines
	 * go on in the new log, numbered anew, after which one line says
	 * that a restore happened. */
	const char *audit;
	size_t audit_len;
	const char *audit_src;
};

/* 0 when the model holds nothing (no environment, project or snapshot),
 * else -ENOTEMPTY. */
int model_restore_empty(struct model *m);
/* Builds backup `b` into `m`, which must be empty, in one transaction:
 * everything, or nothing and an error that starts with the `src` of the
 * part it is about.  Every rule of the live model holds: names, values,
 * specs, credentials (sealed again with this model's key), and what
 * refers to what (an environment, project or integration that exists, a
 * version an endpoint serves, DEFAULT for every runtime with a version,
 * the latest version's spec, a key id bound once, each assigned runtime
 * linked in both views of its integration and no other link). */
int model_restore_apply(struct model *m, const struct model_backup *b);

/* The values of the model a backup holds, checked on their own, without
 * a model (a file of a restore mount, when it is closed): 0, or -EINVAL
 * with the reason (-EFBIG for a spec past MODEL_SPEC_MAX). */
enum model_value {
	MODEL_VALUE_UUID,                   /* a runtime's or endpoint's id */
	MODEL_VALUE_RUNTIME_TYPE,           /* default | MI | agent */
	MODEL_VALUE_INTEGRATION_TYPE,       /* default | MI */
	MODEL_VALUE_STATUS,                 /* CREATING ... OFFLINE */
	MODEL_VALUE_KEY_ID,                 /* a secret's key id */
	MODEL_VALUE_SECRET,                 /* KEYID.BASE64 */
	MODEL_VALUE_SERVICE_ACCOUNT,        /* CLIENTID.SECRET */
	MODEL_VALUE_SPEC,                   /* a spec document */
};
int model_value_check(enum model_value what, const char *text, size_t len);

/* A version number as text: digits, at least 1, at most 12 digits, into
 * *out; -EINVAL with the reason. */
int model_version_parse(const char *text, int64_t *out);

/* Formats `ns` as RFC 3339 UTC ("2026-11-23T12:17:48Z") into buf, which
 * must hold MODEL_TIME_MAX bytes; 0 gives "never". */
#define MODEL_TIME_MAX 32
void model_time_format(int64_t ns, char *buf);

#endif
