/*
 * backend.h - what a backend of store.h provides, and what store.c gives
 * every backend; for store/ only, never for callers of store.h.
 *
 * As git's refs/refs-internal.h has struct ref_storage_be for its files
 * and reftable backends, a backend here is a table of functions, one for
 * each function of store.h that reaches the database.  store.c holds the
 * functions of store.h themselves: it picks the backend a locator names
 * (store_backend_of()), counts each call for the fault hook of a test
 * build, and passes the call on.  A handle (struct store) and a claim
 * (struct store_claim) start with the table of the backend that made
 * them; a backend puts its own state after it.
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include "store.h"

struct store {
	const struct store_backend *be;
	int wrote_envs;         /* store_wrote_envs(), kept by store.c */
};

struct store_claim {
	const struct store_backend *be;
};

struct store_backend {
	const char *name;
	/* Whether this backend takes `locator` (the embedded one takes
	 * whatever no other does). */
	int (*takes)(const char *locator);
	const char *(*default_locator)(void);
	int (*locator_resolve)(const char *locator, char *buf, size_t size);
	int (*default_key_path)(const char *locator, char *buf, size_t size);
	int (*default_tls_paths)(const char *locator, char *cert, char *key,
			size_t size);
	void (*locator_shown)(const char *locator, char *buf, size_t size);

	int (*claim)(struct store_claim **out, const char *locator, int flags);
	void (*claim_refresh)(struct store_claim *c);
	const char *(*claim_warning)(const struct store_claim *c);
	int (*claim_interrupted)(const struct store_claim *c);
	void (*claim_restore_done)(struct store_claim *c);
	void (*claim_release)(struct store_claim *c);
	int (*restore_scratch)(const char *locator, char *scratch, size_t cap);
	int (*restore_commit)(const char *locator);
	void (*restore_discard)(const char *locator);

	int (*open)(struct store **out, const char *locator);
	/* NULL: store_open_another() is -ENOTSUP */
	int (*open_another)(struct store *s, struct store **out);
	void (*close)(struct store *s);
	int (*schema_version)(struct store *s);
	int (*dump)(struct store *s, store_dump_cb cb, void *ctx);

	int (*snapshot_create)(struct store *s, const char *name,
			int64_t *taken_ns);
	int (*snapshot_list)(struct store *s, store_snapshot_cb cb, void *ctx);
	int (*snapshot_open)(struct store *s, const char *name,
			struct store **snap);
	int64_t (*taken_at)(const struct store *s);
	int (*snapshot_drop)(struct store *s, const char *name);
	void (*snapshot_tidy)(struct store *s);

	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	void (*busy_timeout)(struct store *s, int ms);
	int (*is_empty)(struct store *s, struct store_holdings *held);
	int (*load_begin)(struct store *s, struct store_holdings *held);
	void (*watch)(struct store *s, store_watch_fn fn, void *ctx);
	int (*poll)(struct store *s);
	int (*announce)(struct store *s, const char *news);
	int (*log_append)(struct store *s, enum store_log log,
			const char *head, const char *tail, int64_t at_ns,
			const char *dedup, struct store_event *out);
	/* NULL: log_append() without a dedup key */
	int (*log_append_late)(struct store *s, enum store_log log,
			const char *head, const char *tail, int64_t at_ns,
			struct store_event *out);
	int (*log_bounds)(struct store *s, enum store_log log,
			struct store_event *first, struct store_event *last);
	int (*log_read)(struct store *s, enum store_log log, int64_t off,
			int limit, store_event_cb cb, void *ctx);
	int (*log_prune)(struct store *s, enum store_log log, int64_t keep,
			int64_t before_ns);
	int (*watch_fd)(struct store *s);
	int (*watch_read)(struct store *s);

	int (*env_insert)(struct store *s, const char *name, int64_t now);
	int (*env_get)(struct store *s, const char *name,
			struct store_env *out);
	int (*env_delete)(struct store *s, int64_t id);
	int (*env_set_critical)(struct store *s, int64_t id, int critical,
			int64_t now);
	int (*env_list)(struct store *s, store_env_cb cb, void *ctx);
	int (*env_children)(struct store *s, int64_t id, int64_t *count);

	int (*project_insert)(struct store *s, const char *name, int64_t now);
	int (*project_get)(struct store *s, const char *name,
			struct store_project *out);
	int (*project_delete)(struct store *s, int64_t id);
	int (*project_list)(struct store *s, store_project_cb cb, void *ctx);
	int (*project_children)(struct store *s, int64_t id, int64_t *count);
	int (*project_set_display)(struct store *s, int64_t id,
			const char *display);

	int (*integration_insert)(struct store *s, int64_t project_id,
			const char *name, const char *type, int64_t now);
	int (*integration_get)(struct store *s, int64_t project_id,
			const char *name, struct store_integration *out);
	int (*integration_delete)(struct store *s, int64_t id);
	int (*integration_set_type)(struct store *s, int64_t id,
			const char *type, int64_t now);
	int (*integration_list)(struct store *s, int64_t project_id,
			store_integration_cb cb, void *ctx);
	int (*integration_children)(struct store *s, int64_t id,
			int64_t *count);
	int (*integration_set_display)(struct store *s, int64_t id,
			const char *display);

	int (*runtime_insert)(struct store *s, struct store_runtime *rt);
	int (*runtime_get)(struct store *s, int64_t env_id, const char *name,
			struct store_runtime *out);
	int (*runtime_get_uuid)(struct store *s, const char *uuid,
			struct store_runtime *out);
	int (*runtime_delete)(struct store *s, int64_t id);
	int (*runtime_set_integration)(struct store *s, int64_t id,
			int64_t integration_id, int64_t now);
	int (*runtime_list)(struct store *s,
			const struct store_runtime_filter *f,
			store_runtime_cb cb, void *ctx);
	int (*runtime_report)(struct store *s, const struct store_runtime *rt);
	int (*runtime_set_hash)(struct store *s, int64_t id, const char *hash);
	int (*runtime_set_reported)(struct store *s, int64_t id,
			const char *json, int64_t now);
	int (*runtime_get_reported)(struct store *s, int64_t id, char **out);
	int (*runtime_revoke_key)(struct store *s, const char *key_id,
			int64_t now);
	int (*runtime_heartbeat)(struct store *s, int64_t id, const char *uuid,
			int64_t ns);
	int (*runtime_heartbeats)(struct store *s,
			const struct store_beat *beats, size_t n);
	int (*runtime_set_revoked)(struct store *s, int64_t id, int64_t now);
	int (*runtime_set_desired)(struct store *s, int64_t id,
			const char *desired, int clear_running, int64_t now);
	int (*runtime_set_latest)(struct store *s, int64_t id,
			int64_t version);

	int (*secret_insert)(struct store *s, struct store_secret *sec);
	int (*secret_get)(struct store *s, int64_t env_id, const char *name,
			struct store_secret *out);
	int (*secret_get_key)(struct store *s, const char *key_id,
			struct store_secret *out);
	int (*secret_delete)(struct store *s, int64_t id);
	int (*secret_bind)(struct store *s, int64_t id,
			int64_t integration_id, const char *runtime_type,
			int64_t now);
	int (*secret_list)(struct store *s,
			const struct store_secret_filter *f,
			store_secret_cb cb, void *ctx);

	int (*version_insert)(struct store *s, const struct store_version *v);
	int (*version_get)(struct store *s, int64_t runtime_id, int64_t number,
			struct store_version *out);
	int (*version_delete)(struct store *s, int64_t runtime_id,
			int64_t number);
	int (*version_list)(struct store *s, int64_t runtime_id,
			store_version_cb cb, void *ctx);

	int (*endpoint_insert)(struct store *s, struct store_endpoint *e);
	int (*endpoint_get)(struct store *s, int64_t runtime_id,
			const char *name, struct store_endpoint *out);
	int (*endpoint_delete)(struct store *s, int64_t id);
	int (*endpoint_set_version)(struct store *s, int64_t id,
			int64_t version, int64_t now);
	/* optional: endpoint_get() and version_get() in turn, and
	 * endpoint_set_version() at once, without them */
	int (*endpoint_get_pin)(struct store *s, int64_t runtime_id,
			const char *name, int64_t number,
			struct store_endpoint *out, int *has_version);
	int (*endpoint_set_version_late)(struct store *s, int64_t id,
			int64_t version, int64_t now);
	int (*endpoint_list)(struct store *s, int64_t runtime_id,
			store_endpoint_cb cb, void *ctx);
	int (*endpoint_serving)(struct store *s, int64_t runtime_id,
			int64_t version, int64_t *count);

	int (*command_insert)(struct store *s, struct store_command *c);
	int (*command_list)(struct store *s, int64_t runtime_id,
			const char *status, size_t max, store_command_cb cb,
			void *ctx);
	int (*command_set_status)(struct store *s, int64_t id,
			const char *status, int64_t sent);
	int (*command_result)(struct store *s, const char *uuid,
			const char *key_id, const char *status,
			const char *result, int64_t now, int *found);

	int (*artifact_replace)(struct store *s, int64_t runtime_id,
			const struct store_artifact *items, size_t n,
			const char *sum, int64_t now);
	int (*artifact_list)(struct store *s, int64_t runtime_id,
			const char *kind, store_artifact_cb cb, void *ctx);
	int (*artifact_get)(struct store *s, int64_t runtime_id,
			const char *kind, const char *name,
			struct store_artifact *out, char **doc);
	int (*artifact_kinds)(struct store *s, int64_t runtime_id,
			store_kind_cb cb, void *ctx);
	int (*key_check_put)(struct store *s, const unsigned char *sealed,
			size_t len);
	int (*sealed_sample)(struct store *s, unsigned char *out, size_t cap,
			size_t *len);
	int (*service_account_put)(struct store *s,
			const struct store_service_account *sa);
	int (*service_account_get)(struct store *s, int64_t runtime_id,
			struct store_service_account *out);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/* -- what store.c gives every backend ------------------------------------ */

/* Records a message for store_errmsg() (errmsg.h) and returns `err`. */
int store_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Counts one statement that only reads, for store_reads(). */
void store_count_read(void);

/* Whether `name` can name a snapshot (store.h): 0 or -EINVAL. */
int store_snapshot_name_check(const char *name);

/* A line of a dump being built, with no cap: a dump is for tests only. */
struct store_line {
	char *s;
	size_t len, cap;
};

int store_line_add(struct store_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Gives the line to `cb` and starts the next one: what `cb` returned. */
int store_line_give(struct store_line *l, store_dump_cb cb, void *ctx);

#endif
