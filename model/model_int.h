/*
 * model_int.h - what the model's own files share and its unit tests may
 * see; not part of the interface the filesystem uses.
 */
#ifndef MODEL_INT_H
#define MODEL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <sodium.h>

#include "model.h"
#include "../store/store.h"

/* The endpoint every agent runtime has, following each deploy. */
#define MODEL_DEFAULT_ENDPOINT "DEFAULT"
#define MODEL_EVENTS_MAX 16     /* notes of one change; more: MODEL_EV_ALL */

struct model {
	pthread_mutex_t lock;
	struct store *store;
	struct model_config cfg;
	unsigned char key[crypto_secretbox_KEYBYTES];   /* see seal.c */
	struct liveness *live;                          /* see liveness.c */
	struct model_rows *rows;                        /* see rows.c */
	struct model_keys *keys;                        /* see keys.c */
	struct model_known_table *known;                /* see known.c */
	struct model_events *ev;                        /* see events.c */
	/* What the change under way changed, for its audit line: the
	 * event lines' kinds, paths and fields (audit.c). */
	char *audit_changes;
	size_t audit_len, audit_cap;
	int audit_cut;
	int64_t audit_pruned_ns;      /* the flusher dropped old lines */
	/* refusals to write, under a lock of their own: a refusal never
	 * waits for the store (audit.c) */
	struct model_audit_queue *audit_q;
	pthread_mutex_t audit_qlock;
	int audit_written;            /* the change's line is written */
	int changing;            /* in a change: rows read are not kept */
	char *db;                  /* the store's locator (store.h) */

	/* Changes noted in the current change (under the lock), given to
	 * the watcher when the lock is released (model_note()). */
	model_watch_fn watch;
	void *watch_ctx;
	struct model_event events[MODEL_EVENTS_MAX];
	int nevents;
	int events_overflow;
	/* What this model announces to other hosts and what they
	 * announced to it (feed.c). */
	struct feed *feed;
	/* Another writer changed the store (store_watch()): the watcher
	 * hears MODEL_EV_ALL at the next unlock, whatever became of the
	 * change under way. */
	int foreign;
	/* The events of the change under way went out in it (feed.c). */
	int fed;
	/* The endpoint the change under way moved, as it will be once
	 * committed: kept then (model_end()), for the next read of it. */
	struct store_endpoint moved;
	int moved_set;
	/* The secret the change under way made, kept the same way: an ICP
	 * runtime reads its snippet next. */
	struct store_secret made;
	int made_set;

	/* Snapshots (snapshot.c).  On the live model: the snapshot models
	 * open now.  On a snapshot: its live model, name, the moment it was
	 * taken (its clock stands still there) and who holds it. */
	struct model *snaps;
	struct model *parent;
	struct model *next;
	char snap_name[MODEL_NAME_MAX];
	int64_t snap_ns;
	int refs;
	int deleted;
};

/* The event log (events.c).  model_event() writes one line in the change
 * under way: `kind` ("runtime.status"), what it is about, its moment (0:
 * now), the key of the moment two hosts may both tell (NULL: none), and
 * its own fields as JSON members (printf-style, NULL: none), which the
 * caller makes of names and numbers only.  _settle() after the change's
 * commit (1) or rollback (0); _foreign() when another host may have
 * written; _take_appended() whether lines were committed since it was
 * asked last; _tick() each flush interval, under the lock: statuses
 * changed by time, and old lines dropped. */
int model_events_start(struct model *m);
void model_events_free(struct model *m);
int model_event(struct model *m, const char *kind, const struct model_at *at,
		int64_t at_ns, const char *dedup, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* What an event is about, for model_event(). */
#define AT_ENV(e) (&(struct model_at){ .where = MODEL_AT_ENV, .env = (e) })
#define AT_PROJECT(p) \
	(&(struct model_at){ .where = MODEL_AT_PROJECT, .project = (p) })
#define AT_INTEGRATION(p, i) (&(struct model_at){ \
	.where = MODEL_AT_INTEGRATION, .project = (p), .integration = (i) })
#define AT_RUNTIME(rt) (&(struct model_at){ .where = MODEL_AT_RUNTIME, \
	.env = (rt)->env, .runtime = (rt)->name })
#define AT_VERSION(rt, n) (&(struct model_at){ .where = MODEL_AT_VERSION, \
	.env = (rt)->env, .runtime = (rt)->name, .version = (n) })
#define AT_ENDPOINT(rt, ep) (&(struct model_at){ \
	.where = MODEL_AT_ENDPOINT, .env = (rt)->env, \
	.runtime = (rt)->name, .name = (ep) })
#define AT_SNAPSHOT(n) \
	(&(struct model_at){ .where = MODEL_AT_SNAPSHOT, .name = (n) })
/* Copies bytes of a log from stream offset c->off + c->n on, until
 * c->size or the end (events.c). */
struct model_log_copy {
	char *out;
	size_t size, n;
	int64_t off;
};
int model_log_copy_one(void *ctx, const struct store_event *ev,
		const char *line);
int model_log_copy(struct model *m, enum store_log log,
		struct model_log_copy *c);

/* The path of what an event is about, as model_config's path_of gives
 * it (events.c). */
void model_path_of(struct model *m, const struct model_at *at, char *buf,
		size_t size);

/* A moment as RFC 3339 in UTC with microseconds; `s` as the inside of
 * a JSON string, ASCII only (events.c). */
void model_time_micro(int64_t ns, char *buf, size_t size);
void model_json_text(char *out, size_t size, const char *s);

/* The audit log (audit.c).  _note() keeps an event line's kind, path
 * and fields for the change's audit line; _change() writes that line,
 * in the change, under the lock (`op` and what it is about when the
 * thread serves no one: a runtime's heartbeat; NULL: none is written
 * then); _forget() drops what was noted;
 * _tick() drops old lines. */
void model_audit_note(struct model *m, const char *fields);
int model_audit_change(struct model *m, const char *op,
		const struct model_at *at);
void model_audit_forget(struct model *m);
int model_audit_tick(struct model *m);
/* A restore's audit lines: those of the backup's log (`text`, NULL:
 * none) numbered anew, then one that says the restore happened, which
 * stands for the change's own line; in the change. */
int model_audit_restore(struct model *m, const char *text, size_t len,
		const char *src);
/* Writes the refusals that wait and frees the queue (model_close()). */
void model_audit_close(struct model *m);

/* runtime.status, when the change from `before` to `after` changes the
 * runtime's status now. */
int model_event_status(struct model *m, const struct store_runtime *before,
		const struct store_runtime *after);
/* runtime.status for the moment the last heartbeat of `row` went out
 * of date, if that has come and changed its status (said once: two
 * callers, or two hosts, write one line). */
int model_event_expired(struct model *m, const struct store_runtime *row);
/* One line in a transaction of its own, under the lock, for what is no
 * transaction (a snapshot). */
int model_event_alone(struct model *m, const char *kind,
		const struct model_at *at);
void model_events_settle(struct model *m, int committed);
void model_events_foreign(struct model *m);
int model_events_take_appended(struct model *m);
int model_events_tick(struct model *m);

/* Rows read outside a change, kept until the next commit (rows.c), all
 * under the lock: model_rows_env()/_runtime()/_endpoint()/_secret()/
 * _account()/_version() give a kept row (1) or nothing (0); _keep_ keeps
 * one read from the store;
 * model_rows_forget() makes every kept row stale (another writer
 * committed), model_rows_forget_committed() every one a change that
 * committed may have made stale (environments only when it wrote one),
 * and model_rows_forget_endpoints() every endpoint, after a change that
 * only moved endpoints.  A version given has its own copy of the spec
 * (store_version_release() frees it) and no password. */
int model_rows_env(struct model *m, const char *name, struct store_env *out);
void model_rows_keep_env(struct model *m, const struct store_env *row);
int model_rows_runtime(struct model *m, int64_t env_id, const char *name,
		struct store_runtime *out);
void model_rows_keep_runtime(struct model *m, const struct store_runtime *row);
int model_rows_endpoint(struct model *m, int64_t runtime_id,
		const char *name, struct store_endpoint *out);
void model_rows_keep_endpoint(struct model *m,
		const struct store_endpoint *row);
int model_rows_secret(struct model *m, int64_t env_id, const char *name,
		struct store_secret *out);
void model_rows_keep_secret(struct model *m, const struct store_secret *row);
int model_rows_account(struct model *m, int64_t runtime_id,
		struct store_service_account *out);
void model_rows_keep_account(struct model *m,
		const struct store_service_account *row);
int model_rows_version(struct model *m, int64_t runtime_id, int64_t number,
		struct store_version *out);
void model_rows_keep_version(struct model *m, const struct store_version *row);
/* Keeps that environment `env_id` has no secret `name`: a kept row of id
 * 0, which model_rows_secret() gives as it gives others (a runtime's
 * secret is made after a lookup and a check that find none). */
void model_rows_keep_no_secret(struct model *m, int64_t env_id,
		const char *name);
void model_rows_forget(struct model *m);
void model_rows_forget_committed(struct model *m);
void model_rows_forget_endpoints(struct model *m);
void model_rows_free(struct model *m);
/* The hash the tables of what the model keeps place entries by (FNV-1a
 * of `name`, seeded with `id`). */
size_t model_rows_hash(int64_t id, const char *name);

/* ICP's signing keys opened, kept until rows are forgotten (keys.c),
 * under the lock: model_keys_row() gives the kept row of a key id (1) or
 * nothing (0), model_keys_material() its key text into `out` (1) or
 * nothing; model_keys_keep() keeps a row read from the store with its
 * key text; model_keys_forget() drops and wipes them all
 * (model_forget() calls it). */
int model_keys_row(struct model *m, const char *key_id,
		struct store_secret *out);
int model_keys_material(struct model *m, const char *key_id, char *out,
		size_t cap);
void model_keys_keep(struct model *m, const struct store_secret *row,
		const char *key);
void model_keys_forget(struct model *m);
void model_keys_free(struct model *m);

/* An ICP runtime whose delta changes nothing but its time (known.c):
 * what a delta with the same hash needs to be answered. */
struct model_known {
	int64_t id;                 /* 0: a free slot */
	char uuid[STORE_UUID_LEN];
	int64_t env_id;
	char env[STORE_NAME_MAX];
	char name[STORE_NAME_MAX];
	int64_t integration_id;
	char key_id[STORE_KEY_ID_LEN];
	char hash[STORE_HASH_MAX];
	int64_t heartbeat_ns;       /* its last heartbeat, as far as known */
	int named;                  /* kept by environment and name, with */
	unsigned char cred[32];     /* the digest of its service account */
};

/* Under the lock: model_known_get() gives the runtime of that runtimeId
 * (to update its heartbeat_ns in place) or NULL; model_known_keep()
 * keeps `rt`, which the caller found in that state; model_known_forget()
 * drops them all (model_forget() calls it). */
struct model_known *model_known_get(struct model *m, const char *uuid);
/* The same for an agent runtime that heartbeats with its service account,
 * by environment and name: given only for the credential it was kept
 * with (a keyed digest, compared in constant time). */
struct model_known *model_known_get_named(struct model *m, const char *env,
		const char *name, const char *cred);
void model_known_keep_named(struct model *m, const struct store_runtime *rt,
		const char *cred);
void model_known_keep(struct model *m, const struct store_runtime *rt);
void model_known_forget(struct model *m);
void model_known_free(struct model *m);

/* What the model keeps of the store (rows, keys, known runtimes)
 * dropped, under the lock: model_forget() all of it, when another
 * writer committed a change; model_forget_committed() what a change of
 * its own that committed may have made stale. */
void model_forget(struct model *m);
void model_forget_committed(struct model *m);

/* The change feed between hosts (feed.c), all under the lock but start,
 * listen and stop: model_feed_note() adds a noted event of this model's
 * to what it announces, model_feed_heard() a heartbeat time a flush
 * wrote; model_feed_announce() sends them (store_announce()).
 * model_feed_heard_from() is the store's watcher: another host's
 * announcement, kept (NULL or "*": anything changed); model_feed_take()
 * turns what was kept into events (malloc'd; free()), or sets
 * m->foreign when they cannot be told exactly.  model_feed_listen()
 * starts the thread that waits on the store's connection for news. */
#define MODEL_ANNOUNCE_MAX 7900     /* PostgreSQL's NOTIFY takes < 8000 */
int model_feed_start(struct model *m);
int model_feed_listen(struct model *m);
void model_feed_stop(struct model *m);
void model_feed_note(struct model *m, const struct model_event *ev);
/* The change under way wrote to the event log: say so to the others. */
void model_feed_events(struct model *m);
void model_feed_heard(struct model *m, const char *uuid);
void model_feed_announce(struct model *m);
/* Inside a change about to commit: its noted events and what else waits,
 * announced in the change itself, which then goes out with the commit
 * and only with it; 0, or -errno, and the change must roll back. */
int model_feed_change(struct model *m);
void model_feed_heard_from(struct model *m, const char *news);
size_t model_feed_take(struct model *m, struct model_event **out);

/* Closes the snapshot models still open (model_close() calls it). */
void model_snapshot_close_all(struct model *m);

/* Records the reason for model_errmsg() and returns `err` (a -errno), so
 * that error paths stay one line: return model_fail(-EINVAL, "..."). */
int model_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Passes a store failure on with the store's words. */
int model_fail_store(int err);

/* The lock; model_unlock() then gives the changes noted under it, and a
 * change another writer made (MODEL_EV_ALL), to the watcher, outside the
 * lock. */
void model_lock(struct model *m);
void model_unlock(struct model *m);

/* Notes a change for the watcher (see model_watch() for what each part
 * says), under the lock; model_end() forgets the notes of a change rolled
 * back, model_discard() those of one that failed by other means.  NULL
 * names are "". */
void model_note(struct model *m, enum model_event_kind kind, unsigned what,
		const char *a, const char *b, const char *c, const char *d);
/* MODEL_EV_RUNTIME of runtime `rt`. */
void model_note_runtime(struct model *m, const struct store_runtime *rt,
		unsigned what, const char *c);
/* The secrets listed for environment `env` and, when they are scoped to
 * one, for integration `integration` of `project` changed; `gone` (NULL:
 * none) is one that went. */
void model_note_secrets(struct model *m, const char *env,
		const char *project, const char *integration, const char *gone);
/* MODEL_EV_VIEW of the project and integration `rt` is assigned to (none
 * when it is not), `leaving` (NULL: none) the runtime that left them. */
void model_note_views(struct model *m, const struct store_runtime *rt,
		const char *leaving);
void model_discard(struct model *m);

/* A change: model_begin() takes the lock and opens a write transaction
 * (and on failure releases the lock again); model_end() commits when ret
 * is 0, rolls back otherwise, releases the lock and returns the result of
 * the whole change. */
int model_begin(struct model *m);
int model_end(struct model *m, int ret);

/* Fills `out` with a random (version 4) UUID. */
void model_uuid(char out[MODEL_UUID_LEN]);

/* Key material at rest (seal.c).  model_seal_init(), once the store is
 * open, reads the key file at `key_path` and checks that it opens what
 * the store holds sealed (-EKEYREJECTED when not); a missing one is
 * created (0600) only when the store holds nothing sealed (else
 * -ENOKEY); NULL gives a key in memory only.  model_seal() writes nonce + ciphertext + MAC to `out`
 * (MODEL_SEAL_OVERHEAD more bytes than `len`); model_unseal() reverses it,
 * -EIO when the value was not sealed with this key. */
#define MODEL_SEAL_OVERHEAD \
	(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
int model_seal_init(struct model *m, const char *key_path);
int model_seal(struct model *m, const void *plain, size_t len,
		unsigned char *out, size_t cap, size_t *outlen);
int model_unseal(struct model *m, const unsigned char *in, size_t len,
		void *plain, size_t cap, size_t *outlen);

/* Lookups by name, with the model's messages, for use under the lock. */
int model_env_row(struct model *m, const char *name, struct store_env *out);
int model_project_row(struct model *m, const char *name,
		struct store_project *out);
int model_integration_row(struct model *m, const char *project,
		const char *name, struct store_integration *out);

/* Secrets' credentials (secret.c): 32 random bytes, handed out as
 * KEYID.BASE64.  model_secret_parse() splits a credential (-EINVAL when it
 * is not of that form); model_secret_open() unseals a stored secret's
 * bytes (-EIO when they do not open with this key file or belong to
 * another key id).  Callers wipe `raw` after use. */
#define MODEL_SECRET_BYTES 32
int model_secret_parse(const char *cred, char key_id[MODEL_KEY_ID_LEN],
		unsigned char raw[MODEL_SECRET_BYTES]);
int model_secret_open(struct model *m, const struct store_secret *row,
		unsigned char raw[MODEL_SECRET_BYTES]);

/* model_json_state() for a document called `what` ("spec"; NULL for
 * none), whose messages then start "WHAT: "; on -EINVAL *bad (when not
 * NULL) receives the index of the first bad byte. */
int model_json_check(const char *what, const char *data, size_t len,
		size_t *bad);

/* The canonical text of a spec document, checked as a deploy checks it
 * (deploy.c): fields in a fixed order, no image password; *out is
 * released with cJSON_free(). */
int model_spec_canonical(const char *text, size_t len, char **out);

/* Pretty JSON of `o` with a final newline, two spaces of indent as jq
 * gives, malloc'd into *out (deploy.c): spec, versions/N, artifacts. */
struct cJSON;
int model_json_pretty(struct cJSON *o, char **out);

/* The artifacts of a full heartbeat (artifact.c), parsed from ICP's
 * Artifacts object: one store row per artifact (its doc malloc'd, the
 * compact JSON of the artifact as reported), in the order reported,
 * with the set's digest; `reported` is how many the body held. */
struct model_artifact_set {
	struct store_artifact *items;
	size_t n, cap;
	char sum[MODEL_HASH_MAX];
};
int model_artifacts_parse(const struct cJSON *artifacts,
		struct model_artifact_set *set);
void model_artifacts_release(struct model_artifact_set *set);
/* Replaces runtime `runtime_id`'s artifacts with `set` inside the
 * caller's transaction; an artifact reported the same as before keeps
 * its time, any other takes `now`. */
int model_artifacts_store(struct model *m, int64_t runtime_id,
		struct model_artifact_set *set, int64_t now);
/* Queues ICP's START or STOP for listener `name` of BI runtime `rt`
 * (every listener when NULL), inside the caller's transaction, as
 * ICP's buildBICollector() builds it. */
int model_artifact_queue(struct model *m, const struct store_runtime *rt,
		const char *name, const char *action);

/* The status of a stored runtime at `now`, and since when it has had it.
 * Pure: neither lock nor store. */
const char *model_runtime_status(const struct store_runtime *row,
		int64_t now, int64_t offline_after_ns, int64_t *since_ns);

/* Heartbeat times held in memory between flushes (liveness.c), all under
 * the model's lock but model_liveness_start/stop/flush/pending, which
 * take it.  A snapshot's model has none.
 * model_liveness_note() records a heartbeat of a runtime whose stored row
 * is otherwise current; model_liveness_overlay() puts the newest known
 * heartbeat into a row read from the store. */
int model_liveness_start(struct model *m);
void model_liveness_stop(struct model *m);
int model_liveness_flush(struct model *m);
int model_liveness_flush_locked(struct model *m);
int model_liveness_note(struct model *m, const struct store_runtime *rt,
		int64_t heartbeat_ns);
void model_liveness_overlay(struct model *m, struct store_runtime *row);
/* How many heartbeats are waiting to be written. */
size_t model_liveness_pending(struct model *m);

/* A runtime by environment and name, with the newest heartbeat time, for
 * use under the lock. */
int model_runtime_row(struct model *m, const char *env, const char *name,
		struct store_runtime *out);
/* The same as the first read of a change, before it wrote anything: the
 * rows kept before it are the store's as the change sees it (what
 * another writer committed was heard at model_begin(), which forgot
 * them), so they serve it too. */
int model_runtime_row_first(struct model *m, const char *env,
		const char *name, struct store_runtime *out);

/* -ENOTEMPTY, naming them, while the runtime has endpoints other than
 * DEFAULT (endpoint.c); for use under the lock. */
int model_endpoint_others(struct model *m, const struct store_runtime *rt);

/* Service accounts (service_account.c), for use inside a change (under
 * the lock, in a transaction).  create gives the runtime a new client id
 * and secret, replacing any it had; verify checks a credential
 * "CLIENTID.SECRET": 0, or -EACCES with a message. */
int model_service_account_create(struct model *m, int64_t runtime_id);
int model_service_account_verify(struct model *m, int64_t runtime_id,
		const char *cred);

#endif
