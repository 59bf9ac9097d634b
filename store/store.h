/*
 * store.h - persistence for runtimefs: rows in, rows out, transactions,
 * snapshots, and the files a backend keeps beside its data.
 *
 * The store knows tables and transactions, and nothing of the rules (which
 * names are valid, which state allows what) nor of FUSE.  Every function
 * returns 0 on success or a negative errno; on failure store_errmsg() tells
 * why in words.  The errnos mean the same from every backend:
 *
 *   -ENOENT     a get, set or delete found no such row (or snapshot)
 *   -EEXIST     an insert collides with a unique key: a name, a key id
 *   -ENOTEMPTY  a delete of a row that other rows still refer to
 *   -EAGAIN     the database is busy: another connection held the lock
 *               this call needed for longer than the busy timeout
 *               (store_busy_timeout()); the call did nothing
 *   -ENOSPC     the disk (or the database's quota) is full
 *   -EROFS      a change to a store opened read-only (a snapshot)
 *   -ENOMEM     out of memory
 *   -EPROTO     the database was written by a newer runtimefs
 *   -EIO        anything else the database refuses (an I/O error, damage)
 *
 * Never -EBUSY for a busy database: SPEC gives EBUSY to "the object is in a
 * state that forbids it", which is the model's to say (store_claim() alone
 * uses it, for a database another daemon serves).  The SQLite backend maps
 * its result codes so: SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY -EEXIST,
 * SQLITE_CONSTRAINT_FOREIGNKEY -ENOTEMPTY, SQLITE_BUSY and SQLITE_LOCKED
 * -EAGAIN, SQLITE_FULL -ENOSPC, SQLITE_READONLY -EROFS, SQLITE_NOMEM
 * -ENOMEM, every other code -EIO.  The PostgreSQL backend maps SQLSTATEs
 * so: 23505 -EEXIST, 23503 -ENOTEMPTY, 55P03 (lock_timeout), 40P01 and
 * 40001 -EAGAIN, 53100 -ENOSPC, 25006 -EROFS, 53200 -ENOMEM, a lost
 * connection and every other state -EIO.
 *
 * This header is the whole interface of a backend.  The embedded backend
 * is store_sqlite.c, the PostgreSQL one store_pg.c; store.c picks one by
 * the locator (a connection string is PostgreSQL's) and passes each call
 * on through a table of functions (backend.h), as git's refs.c does with
 * its ref_storage_be, and tests/unit/test_store_conformance.c runs
 * against each.
 *
 * A store handle is not thread-safe: callers serialize access (the model
 * holds a lock around every call).  Times are nanoseconds since the epoch;
 * 0 means "never".
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>
#include <stddef.h>

#define STORE_NAME_MAX 64     /* names: up to 63 bytes + NUL */
#define STORE_UUID_LEN 37     /* 36 characters + NUL */
#define STORE_TEXT_MAX 128    /* reported values (platform, os, ...) */
#define STORE_KEY_ID_LEN 9    /* a secret's key id: 8 hex digits + NUL */
#define STORE_SEALED_MAX 256  /* a sealed credential: secret, service account */
#define STORE_HASH_MAX 64     /* a runtime's runtimeHash */

struct store;

struct store_env {
	int64_t id;
	char name[STORE_NAME_MAX];
	int critical;
	int64_t created_ns;
	int64_t mtime_ns;         /* last change of `critical` */
};

struct store_project {
	int64_t id;
	char name[STORE_NAME_MAX];
	int64_t created_ns;
	char display[STORE_TEXT_MAX];     /* the name a runtime sent; "" */
};

struct store_integration {
	int64_t id;
	int64_t project_id;
	char name[STORE_NAME_MAX];
	char project[STORE_NAME_MAX];
	char type[16];            /* default | MI */
	int64_t created_ns;
	int64_t mtime_ns;         /* last change of `type` */
	char display[STORE_TEXT_MAX];     /* the name a runtime sent; "" */
};

struct store_runtime {
	int64_t id;
	char uuid[STORE_UUID_LEN];
	int64_t env_id;
	char env[STORE_NAME_MAX];          /* joined: environment name */
	char name[STORE_NAME_MAX];
	char type[16];                     /* default | MI | agent */
	int64_t integration_id;            /* 0: not assigned */
	char project[STORE_NAME_MAX];      /* joined: "" when unassigned */
	char integration[STORE_NAME_MAX];  /* joined: "" when unassigned */
	char desired[8];                   /* run | stop */
	int64_t desired_ns;                /* when `desired` last changed */
	char runtime_version[STORE_TEXT_MAX];
	char platform[STORE_TEXT_MAX];
	char os[STORE_TEXT_MAX];
	int64_t registered_ns;
	int64_t heartbeat_ns;              /* 0: never */
	int64_t running_ns;                /* first heartbeat after `desired_ns` */
	int64_t info_ns;                   /* last change of version/platform/os */
	int64_t assigned_ns;               /* last change of integration_id */
	int64_t latest_version;            /* 0: no version deployed */
	int64_t revoked_ns;                /* its secret was revoked; 0: no */
	char secret[STORE_KEY_ID_LEN];     /* joined: key_id while that
					    * secret exists, or "" */
	int64_t deployed_ns;               /* joined: when latest_version was
					    * made; 0: never (read only) */
	char key_id[STORE_KEY_ID_LEN];     /* the key it heartbeats with ("") */
	char hash[STORE_HASH_MAX];         /* runtimeHash of its last full
					    * heartbeat ("") */
	/* read only: written by store_artifact_replace() and
	 * store_runtime_set_reported() */
	char artifacts_sum[STORE_HASH_MAX]; /* digest of its artifacts ("") */
	int64_t artifacts_ns;              /* their last change; 0: never */
	int64_t reported_ns;               /* last change of what it
					    * reported; 0: never */
};

/* A secret: generated for an environment (and, when integration_id is
 * set, scoped to one integration), unbound until a runtime's first
 * heartbeat claims it, which binds it to an integration and a runtime
 * type; every runtime that heartbeats with it records its key id
 * (store_runtime.key_id).  `sealed` is what model_seal() made of it. */
struct store_secret {
	int64_t id;
	char key_id[STORE_KEY_ID_LEN];
	int64_t env_id;
	char env[STORE_NAME_MAX];          /* joined */
	int64_t integration_id;            /* 0: any integration */
	char project[STORE_NAME_MAX];      /* joined: "" when unscoped */
	char integration[STORE_NAME_MAX];  /* joined: "" when unscoped */
	char name[STORE_NAME_MAX];
	unsigned char sealed[STORE_SEALED_MAX];
	size_t sealed_len;
	int64_t created_ns;
	char runtime_type[16];             /* bound to this type; "" */
	int64_t bound_ns;                  /* 0: unbound */
};

/* Which unbound secrets store_secret_list() walks: those of `env_id`,
 * and with integration_id set only those scoped to it. */
struct store_secret_filter {
	int64_t env_id;
	int64_t integration_id;
};

/* Which runtimes store_runtime_list() walks; 0 fields match anything. */
struct store_runtime_filter {
	int64_t env_id;
	int64_t project_id;
	int64_t integration_id;
	const char *key_id;       /* NULL: any */
	/* Nonzero: only those last heard in (heard_after, heard_upto]. */
	int64_t heard_after_ns;
	int64_t heard_upto_ns;
};

/* List callbacks return 0 to go on, or a negative errno to stop the walk
 * (which the list function then returns). */
/* A deployed version of an agent runtime (immutable once inserted).
 * `spec` is the canonical spec JSON without the image password, which is
 * kept apart, sealed.  store_version_get() allocates spec and password;
 * store_version_release() frees them.  Lists give neither (NULL). */
struct store_version {
	int64_t runtime_id;
	int64_t number;
	int64_t created_ns;
	char *spec;
	unsigned char *password;           /* sealed; NULL when none */
	size_t password_len;
};

struct store_endpoint {
	int64_t id;
	int64_t runtime_id;
	char name[STORE_NAME_MAX];
	char uuid[STORE_UUID_LEN];
	int64_t version;
	int64_t created_ns;
	int64_t updated_ns;                /* last change of `version` */
};


struct store_service_account {
	int64_t runtime_id;
	char client_id[STORE_UUID_LEN];
	unsigned char secret[STORE_SEALED_MAX];   /* sealed */
	size_t secret_len;
	int64_t created_ns;
};

typedef int (*store_env_cb)(void *ctx, const struct store_env *env);
typedef int (*store_project_cb)(void *ctx, const struct store_project *p);
typedef int (*store_integration_cb)(void *ctx,
		const struct store_integration *in);
typedef int (*store_runtime_cb)(void *ctx, const struct store_runtime *rt);
typedef int (*store_version_cb)(void *ctx, const struct store_version *v);
typedef int (*store_endpoint_cb)(void *ctx, const struct store_endpoint *e);
typedef int (*store_secret_cb)(void *ctx, const struct store_secret *sec);

/* -- where a store is ---------------------------------------------------- */

/* A locator says where a store's data is.  For this backend (SQLite) it is
 * the path of the database file, or ":memory:" for a store that lives in
 * memory and dies with its handle.  For PostgreSQL it is a libpq
 * connection string, `postgresql://...`, `postgres://...` or
 * `host=... dbname=...`, and the store is one schema of that database:
 * the first of the connection's search_path, or `runtimefs`.  What a
 * backend keeps beside its data (a lock,
 * snapshots, a restore's scratch copy, the -wal and -shm of SQLite) it
 * names from the locator itself: callers never build a name from one. */

/* The locator a daemon serves when it is given none: "runtimefs.db", a
 * SQLite file in the current directory. */
const char *store_default_locator(void);

/* Writes to `buf` the locator for what `locator` names, in a form that
 * stays valid after the process changes its directory (the daemon goes
 * to / when it goes to the background): for this backend the absolute
 * path of the file, which need not exist but whose directory must;
 * ":memory:" as it is.  0, or -errno (-ENAMETOOLONG, or why the
 * directory cannot be resolved) with store_errmsg(). */
int store_locator_resolve(const char *locator, char *buf, size_t size);

/* Writes to `buf` the locator as messages may show it: for PostgreSQL
 * the connection string without its password (a URI keeps its form, a
 * `key=value` string is written again from its parsed parts); a path as
 * it is.  Never fails: what does not fit is cut, what cannot be parsed
 * is shown as "(a connection string that does not parse)". */
void store_locator_shown(const char *locator, char *buf, size_t size);

/* Where the key file that seals secrets at rest lives when the
 * configuration names none (the daemon's -o key_file): for this backend
 * LOCATOR.key, beside the database.  0; -ENOENT for a store that does not
 * outlive its handle (":memory:"), whose key may live in memory too;
 * -ENAMETOOLONG; -EINVAL for PostgreSQL, which has no file to keep one
 * beside: every host that serves it must be given the same key file. */
int store_default_key_path(const char *locator, char *buf, size_t size);

/* Where the certificate and the key of the daemon's HTTPS listener live
 * when the configuration names none (the daemon's -o tls_cert, tls_key),
 * so that the self-signed pair made on first start is found again: on
 * SQLite LOCATOR.tls.crt and LOCATOR.tls.key, beside the database; on
 * PostgreSQL none (-EINVAL: give them).  Each buffer holds `size` bytes.
 * 0; -ENOENT for a store that does not outlive its handle (":memory:");
 * -ENAMETOOLONG. */
int store_default_tls_paths(const char *locator, char *cert, char *key,
		size_t size);

/* -- claiming the database --------------------------------------------- */

/* A daemon claims its database for its whole life, so that no second
 * daemon serves it: two would each serve the other's changes late, and a
 * restore would put a new file in place under a live daemon.  The SQLite
 * backend keeps DB.lock beside the database (never renamed nor removed),
 * flock()ed by the daemon and holding its pid: flock and not fcntl,
 * because SQLite's own POSIX locks on the database go with any close()
 * of it, and an flock belongs to the open file, so that it survives the
 * fork() of a daemon going to the background.  A restore (-o restore)
 * also holds DB.restore-lock from its mount until it has committed or
 * given up; one that was killed leaves it behind, with DB.restore, the
 * database it was building. */
struct store_claim;

#define STORE_CLAIM_RESTORE 1   /* to restore into it: see store_restore_*() */
#define STORE_CLAIM_WAIT 2      /* wait while a restore into it goes on */

/* Claims the database at `locator` for this process: 0; -EBUSY when
 * another daemon serves it (store_errmsg() gives its pid); -EINPROGRESS
 * when a restore into it is going on and `flags` has no STORE_CLAIM_WAIT
 * (with it, the call returns once that restore has committed or given
 * up, and the claim is taken with no moment between the two); -EISDIR
 * when the locator names something that is not a file; another -errno
 * when the lock file cannot be made. */
int store_claim(struct store_claim **out, const char *locator, int flags)
	__attribute__((warn_unused_result));
/* Records the calling process as the holder: call it after fork() (the
 * lock goes to the child, the pid must too). */
void store_claim_refresh(struct store_claim *c);
/* A warning about the database for the operator (for this backend: a
 * mode that lets group or others read the file), or NULL. */
const char *store_claim_warning(const struct store_claim *c);
/* 1 when a restore into the database was interrupted before it committed
 * or gave up (a crash, kill -9): its files are still beside the database. */
int store_claim_interrupted(const struct store_claim *c);
/* Removes what a restore keeps beside the database: once it has committed
 * or given up, or when the database shows that an interrupted one had
 * committed. */
void store_claim_restore_done(struct store_claim *c);
/* Gives the claim up (NULL is a no-op); so does the process's exit. */
void store_claim_release(struct store_claim *c);

/* A restore builds a whole new database beside the one at `locator` and
 * puts it in its place at the end.  store_restore_scratch() removes what
 * an earlier build left (one killed half-way leaves DB.restore, its -wal
 * and -shm, for this backend) and gives the locator to build at;
 * store_restore_commit() puts that database in the place of the one at
 * `locator`, whole (a rename, made durable): killed before it, the
 * database is as it was; store_restore_discard() removes it. */
int store_restore_scratch(const char *locator, char *scratch, size_t cap);
int store_restore_commit(const char *locator);
void store_restore_discard(const char *locator);

/* -- opening a store ----------------------------------------------------- */

/* Opens the store at `locator`, creating it if need be (for this backend a
 * file of mode 0600, so that its -wal and -shm are too; WAL journal,
 * foreign keys on), and migrates its schema to the current version.
 * Refuses (-EPROTO) a database written by a newer runtimefs. */
int store_open(struct store **out, const char *locator);

/* Opens another handle on the database `s` is a handle of, for a thread
 * that writes beside the first one's transactions (the heartbeat
 * flusher, model/liveness.c), or -ENOTSUP when this backend gives none:
 * a second SQLite connection in this process would share the database's
 * one writer lock, and its commits would reach the first handle's watch
 * as another writer's. */
int store_open_another(struct store *s, struct store **out);

/* How many statements that only read (SELECTs) every handle of this
 * process has run, for counting what an operation costs. */
uint64_t store_reads(void);

/* Closes the handle; NULL is a no-op. */
void store_close(struct store *s);

/* -- snapshots ------------------------------------------------------------ */

/* A snapshot is a point-in-time, read-only copy of the whole store, kept
 * by the backend under a name, where it survives a restart, with the
 * moment it was taken.  Names are the model's to check; the store refuses
 * (-EINVAL) one it could not keep (for this backend: empty, longer than
 * 63 bytes, holding a '/', or starting with '.').  A store in memory has
 * none: create is -EOPNOTSUPP, the list is empty.  A snapshot's handle
 * takes none.
 *
 * For this backend, snapshot NAME is DB.snapshots/NAME.db, a SQLite
 * database of mode 0600 (the layout of every runtimefs so far): copied
 * with VACUUM INTO (one read transaction) to .NAME.tmp, its taken-at
 * time written into it (table snapshot_taken), then renamed into place
 * and the directory fsync()ed, so that a crash leaves the snapshot whole
 * or not at all.  A copy an older runtimefs made, which records no time,
 * is taken to have been taken at its file's mtime, written into it the
 * first time it is read so that it stays so. */

typedef int (*store_snapshot_cb)(void *ctx, const char *name,
		int64_t taken_ns);

/* Takes snapshot `name` of what is committed now: 0, and in *taken_ns (if
 * not NULL) the moment it was taken, on the real clock; -EEXIST when one
 * of that name exists; another -errno (-ENOSPC: "snapshot: disk full")
 * when it cannot be made, which then leaves nothing.  It starts a change
 * as store_begin() does (for store_fault_install_at_begin()); call it
 * outside a transaction. */
int store_snapshot_create(struct store *s, const char *name,
		int64_t *taken_ns);

/* Calls `cb` for each snapshot (at most STORE_SNAPSHOTS_MAX), in strcmp()
 * order of their names, with the moment each was taken. */
#define STORE_SNAPSHOTS_MAX 4096
int store_snapshot_list(struct store *s, store_snapshot_cb cb, void *ctx);

/* Opens snapshot `name` as a store of its own, for reading: every change
 * to it is -EROFS, store_begin() too.  -ENOENT when there is none.  A copy
 * an older runtimefs made is migrated first.  Close it with
 * store_close(); one dropped meanwhile reads on until then. */
int store_snapshot_open(struct store *s, const char *name,
		struct store **snap);

/* When the snapshot a handle reads was taken; 0 for a handle on a store
 * itself. */
int64_t store_taken_at(const struct store *s);

/* Removes snapshot `name`: 0, or -ENOENT when there is none.  It starts a
 * change as store_begin() does (for store_fault_install_at_begin()). */
int store_snapshot_drop(struct store *s, const char *name);

/* Removes what a snapshot cut short by a crash left (for this backend, a
 * .NAME.tmp copy and its journal).  For the one process that serves the
 * store, once it has claimed it: model_open() calls it. */
void store_snapshot_tidy(struct store *s);

/* The reason for the last failure on this thread: the one message of the
 * request that every layer writes (errmsg.h). */
const char *store_errmsg(void);

/* The schema version the store is at (SQLite: PRAGMA user_version). */
int store_schema_version(struct store *s);

/* Everything the store holds, for tests that compare a whole store before
 * and after (a refused change must change nothing): `cb` is given one
 * line at a time (no newline; a nonzero return stops the dump, and is
 * returned).  Two stores that hold the same give the same lines; what a
 * line says is the backend's.  For this backend: the schema version, the
 * schema, every row of every table in the order of its columns' values,
 * and every file in DB.snapshots/ with the time each snapshot was taken
 * (so that what a failed copy left shows too).  Not for the daemon: it
 * reads everything. */
typedef int (*store_dump_cb)(void *ctx, const char *line);
int store_dump(struct store *s, store_dump_cb cb, void *ctx);

/* Fault injection, compiled only into a test build (-DSTORE_FAULTS;
 * elsewhere none of this exists and it costs nothing), the way SQLite's
 * SQLITE_TESTCTRL_FAULT_INSTALL fails its Nth allocation or I/O: to prove
 * that a change refused anywhere changes nothing.
 *
 * Every store function that reaches the database counts as one call:
 * store_open, store_schema_version, store_begin, store_load_begin,
 * store_is_empty, store_commit, store_dump, the snapshots' create, list,
 * open and drop, and every get, insert, delete,
 * list, set, put, bind, report, heartbeat(s), children and serving (a
 * batch of heartbeats is one call).
 * store_rollback, store_close, store_errmsg, store_version_release,
 * store_snapshot_tidy and the functions on locators never fail by
 * injection and do not count.  The failing call returns `err` before it
 * runs, with store_errmsg() "injected fault (ENOSPC in store_env_insert)";
 * a failing store_commit rolls the transaction back first, as a real
 * failed COMMIT would.  The fault fires once.  One count serves every
 * handle and thread.
 *
 * store_fault_install() makes the n-th call from now fail with `err` (a
 * negative errno); n <= 0 turns faults off.  store_fault_install_at_begin()
 * starts the count at the next call that starts a change instead,
 * store_begin(), store_load_begin(), store_snapshot_create() or
 * store_snapshot_drop(), which is call 1, so that a test
 * can aim at the n-th call of the next change whatever reads come before
 * it (the daemon's RUNTIMEFS_FAULT).  store_fault_fired() is 1 once the
 * fault installed last has fired, else 0.  store_fault_exempt_thread(),
 * in every build (it does nothing without the hook), takes the calling
 * thread's calls out of the count: a background thread's (the model's
 * flusher), which runs at moments no test chooses. */
#ifdef STORE_FAULTS
void store_fault_install(int n, int err);
void store_fault_install_at_begin(int n, int err);
int store_fault_fired(void);
#endif
void store_fault_exempt_thread(void);

/* Write transactions: the discipline the model's rules rely on.
 *
 * store_begin() takes the database's write lock at once (SQLite: BEGIN
 * IMMEDIATE), or with the transaction's first statement (PostgreSQL sends
 * BEGIN and the lock with it, saving a round trip): nothing in the
 * transaction runs before the lock is held, and it is held until
 * store_commit() or store_rollback(): a change's reads, the checks the
 * caller makes on them and its writes are one serialized unit, and no
 * other writer commits between a check and the write it allowed.  A call
 * inside the transaction never waits for that lock again.  Reads outside
 * a transaction see what was committed.
 *
 * When another connection holds the lock for longer than the busy
 * timeout, store_begin() or the transaction's first statement returns
 * -EAGAIN having done nothing: the caller gives the whole change up
 * (store_rollback()) and may try it again from its first read; the model
 * passes -EAGAIN on, with the store's words.  store_commit() returns once the change is durable (it
 * survives a crash of the process or of the machine); when it fails, the
 * transaction is rolled back.  store_rollback() undoes everything since
 * store_begin(); with no transaction open it does nothing.  Transactions
 * do not nest. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* Whether the transaction begun last wrote an environment's row
 * (store_env_insert(), _delete(), _set_critical()): when it commits, what
 * a cache of environments must forget.  Nothing else writes one. */
int store_wrote_envs(const struct store *s);

/* How long a call waits for a lock another connection holds before it
 * gives -EAGAIN: `ms` milliseconds (5000 until set; 0 does not wait). */
void store_busy_timeout(struct store *s, int ms);

/* -- loading a whole store (a restore) ----------------------------------- */

/* What a store holds that a restore must not overwrite. */
struct store_holdings {
	int64_t envs;
	int64_t projects;
	int64_t snapshots;
};

/* Whether the store is empty, as a restore needs it: 0 when it holds no
 * environment, project or snapshot (everything else lives in one of the
 * first two); -ENOTEMPTY when it does, with how many of each in *held (if
 * not NULL); another -errno when it cannot tell. */
int store_is_empty(struct store *s, struct store_holdings *held);

/* Begins loading a whole store: a write transaction, as store_begin()
 * takes it, into a store checked empty inside it (-ENOTEMPTY and *held as
 * store_is_empty() gives them, no transaction left open), in which the
 * checks that a row refers to rows that exist wait for store_commit()
 * (SQLite: PRAGMA defer_foreign_keys), so that rows may come in any
 * order.  Ended by store_commit(), which fails and rolls back when a row
 * still refers to one that does not exist, or store_rollback(). */
int store_load_begin(struct store *s, struct store_holdings *held);

/* -- what other writers commit ------------------------------------------ */

/* The change feed: `fn` is told that another connection (another
 * process, another handle, another host) committed a change since this
 * handle last looked, so that its caller drops what it keeps of the
 * store: with `news` NULL, anything may have changed; else `news` is
 * what that writer announced (store_announce()), and only that changed.
 * It runs inside the store call that noticed, on that call's thread, and
 * must not call the store.  store_watch() subscribes `fn` (NULL: nobody)
 * from now on; the backend tells of a change at the latest at the next
 * store_begin() or store_poll(), never of the handle's own commits.
 *
 * For this backend with one daemon per database (store_claim()), only
 * tools and tests write beside the daemon; SQLite's PRAGMA data_version,
 * which moves with every commit of another connection, is read at each
 * store_begin() and store_poll(), and tells with `news` NULL.
 * PostgreSQL, which several hosts share, passes on what another daemon
 * announced, and `news` NULL for any other writer (psql, a restore). */
typedef void (*store_watch_fn)(void *ctx, const char *news);
void store_watch(struct store *s, store_watch_fn fn, void *ctx);

/* Tells the other handles that watch the store what this one committed:
 * `news` (text of at most 7999 bytes, the caller's own format) reaches
 * their watchers (store_watch()).  Sent at once outside a transaction,
 * at the commit inside one; a backend with no one to tell (SQLite)
 * does nothing.  0 or -errno; not counted by the fault hook. */
int store_announce(struct store *s, const char *news);

/* A file descriptor that becomes readable when news may have come (to
 * poll(2) on, then store_watch_read() under the caller's lock), or -1
 * when the backend has none (SQLite) or no connection now (store_poll()
 * then tries to reconnect).  store_watch_read() tells the watcher what
 * came on it, without a round trip to the server (a query of another
 * thread's may have been what made it readable).  0 or -errno. */
int store_watch_fd(struct store *s);
int store_watch_read(struct store *s);

/* Looks for changes other writers committed now, and tells the watcher:
 * for a caller that may not begin a transaction for a while (the model's
 * flusher polls every flush interval).  0 or -errno.  Not counted by the
 * fault hook, which it would fire at moments no test chooses. */
int store_poll(struct store *s);

/* -- the logs ----------------------------------------------------------- */

/* What the model tells of its changes (model/events.c): two logs, each
 * one stream of lines numbered from 1 in commit order, each line with
 * its byte offset in the stream (the first byte after the line before
 * it).  Only the newest are kept (store_log_prune()); the numbers and
 * offsets of those go on after them. */
enum store_log {
	STORE_LOG_EVENTS,       /* what changed (MOUNT/events) */
	STORE_LOG_AUDIT,        /* who did what (MOUNT/audit) */
};

struct store_event {
	int64_t seq;
	int64_t off;
	int64_t len;
	int64_t at_ns;
};

/* Appends the line `head` SEQ `tail` (SEQ: its number, in decimal; the
 * line is ASCII) in the transaction under way: 0 with its place in *out,
 * or 1 and nothing appended when a kept line has the same `dedup` (NULL:
 * none), which two hosts telling of one moment give.  With `out` NULL no
 * one waits for the answer: in a transaction the backend may send the
 * line with the commit (PostgreSQL does, saving a round trip), whose
 * failure is then the line's, and says 0 whatever its dedup finds. */
int store_log_append(struct store *s, enum store_log log, const char *head,
		const char *tail, int64_t at_ns, const char *dedup,
		struct store_event *out);
/* As store_log_append() without a dedup key, but *out may be filled only
 * when the transaction commits: it must stay where it is until
 * store_commit() returns, and is the line's place once that returned 0
 * (PostgreSQL sends the line with the COMMIT, saving a round trip; a
 * failure to append it is then the commit's). */
int store_log_append_late(struct store *s, enum store_log log,
		const char *head, const char *tail, int64_t at_ns,
		struct store_event *out);
/* The oldest and the newest line kept (seq 0: none). */
int store_log_bounds(struct store *s, enum store_log log,
		struct store_event *first, struct store_event *last);
/* Lines from the one holding byte `off` on, in order, at most `limit`;
 * `cb` gets each with its text (ev.len bytes, NUL-terminated). */
typedef int (*store_event_cb)(void *ctx, const struct store_event *ev,
		const char *line);
int store_log_read(struct store *s, enum store_log log, int64_t off,
		int limit, store_event_cb cb, void *ctx);
/* Drops the lines older than the newest `keep` (0: none for that) and
 * those before `before_ns` (0: none for that); the newest line stays. */
int store_log_prune(struct store *s, enum store_log log, int64_t keep,
		int64_t before_ns);

/* Environments. */
int store_env_insert(struct store *s, const char *name, int64_t now);
int store_env_get(struct store *s, const char *name, struct store_env *out);
int store_env_delete(struct store *s, int64_t id);
int store_env_set_critical(struct store *s, int64_t id, int critical,
		int64_t now);
int store_env_list(struct store *s, store_env_cb cb, void *ctx);
/* Number of runtimes and secrets that live in the environment. */
int store_env_children(struct store *s, int64_t id, int64_t *count);

/* Projects. */
int store_project_insert(struct store *s, const char *name, int64_t now);
int store_project_get(struct store *s, const char *name,
		struct store_project *out);
int store_project_delete(struct store *s, int64_t id);
int store_project_list(struct store *s, store_project_cb cb, void *ctx);
/* Number of integrations of the project. */
int store_project_children(struct store *s, int64_t id, int64_t *count);
/* The name a runtime's heartbeat gave it before normalisation. */
int store_project_set_display(struct store *s, int64_t id,
		const char *display);

/* Integrations. */
int store_integration_insert(struct store *s, int64_t project_id,
		const char *name, const char *type, int64_t now);
int store_integration_get(struct store *s, int64_t project_id,
		const char *name, struct store_integration *out);
int store_integration_delete(struct store *s, int64_t id);
int store_integration_set_type(struct store *s, int64_t id,
		const char *type, int64_t now);
int store_integration_list(struct store *s, int64_t project_id,
		store_integration_cb cb, void *ctx);
/* Number of runtimes and unbound secrets scoped to the integration. */
int store_integration_children(struct store *s, int64_t id, int64_t *count);
int store_integration_set_display(struct store *s, int64_t id,
		const char *display);

/* Runtimes.  store_runtime_insert() reads every stored field of `rt` but
 * `id` and the joined names, and sets rt->id. */
int store_runtime_insert(struct store *s, struct store_runtime *rt);
int store_runtime_get(struct store *s, int64_t env_id, const char *name,
		struct store_runtime *out);
/* A runtime by its uuid (ICP's runtimeId). */
int store_runtime_get_uuid(struct store *s, const char *uuid,
		struct store_runtime *out);
/* Deletes a runtime; the bound secret it heartbeats with goes with it
 * when no other runtime uses that key id, as it does when a runtime's
 * key_id moves away from it. */
int store_runtime_delete(struct store *s, int64_t id);
/* Sets integration_id (0: none) and assigned_ns. */
int store_runtime_set_integration(struct store *s, int64_t id,
		int64_t integration_id, int64_t now);
int store_runtime_list(struct store *s,
		const struct store_runtime_filter *f,
		store_runtime_cb cb, void *ctx);
/* What a heartbeat reports, in one statement: integration_id,
 * assigned_ns, runtime_version, platform, os, info_ns, heartbeat_ns,
 * running_ns, revoked_ns, key_id and hash of `rt` (found by rt->id). */
int store_runtime_report(struct store *s, const struct store_runtime *rt);
/* The runtimeHash of its last full heartbeat. */
int store_runtime_set_hash(struct store *s, int64_t id, const char *hash);
/* What the runtime reported, a JSON document the store keeps as text,
 * and when it changed (reported_ns); get allocates *out (free()), ""
 * when nothing was. */
int store_runtime_set_reported(struct store *s, int64_t id,
		const char *json, int64_t now);
int store_runtime_get_reported(struct store *s, int64_t id, char **out);
/* Marks every runtime that heartbeats with `key_id` revoked at `now`;
 * none is no error. */
int store_runtime_revoke_key(struct store *s, const char *key_id,
		int64_t now);
/* Moves heartbeat_ns forward to `ns` (never back) on the runtime `id`,
 * if it still has `uuid`; a runtime deleted since is no error. */
int store_runtime_heartbeat(struct store *s, int64_t id, const char *uuid,
		int64_t ns);

/* A runtime's heartbeat time, one of a batch. */
struct store_beat {
	int64_t id;
	char uuid[STORE_UUID_LEN];
	int64_t heartbeat_ns;
};

/* Writes `n` heartbeat times in one call, inside the caller's
 * transaction, each as store_runtime_heartbeat() does (forward only, on
 * the runtime that still has the UUID; one deleted since is no error):
 * liveness batched in memory, written every flush.  0, or the first
 * failure, after which the caller rolls the transaction back. */
int store_runtime_heartbeats(struct store *s, const struct store_beat *beats,
		size_t n);
/* Marks the runtime's secret revoked at `now` (0 clears the mark). */
int store_runtime_set_revoked(struct store *s, int64_t id, int64_t now);

/* Secrets.  store_secret_insert() reads every stored field of `sec` but
 * `id`, the joined names and the binding, and sets sec->id; a key id or
 * an unbound name taken in the environment gives -EEXIST.  Deleting a
 * runtime deletes the secret bound to it. */
int store_secret_insert(struct store *s, struct store_secret *sec);
/* The unbound secret NAME of an environment. */
int store_secret_get(struct store *s, int64_t env_id, const char *name,
		struct store_secret *out);
/* The secret with key id `key_id`, bound or not. */
int store_secret_get_key(struct store *s, const char *key_id,
		struct store_secret *out);
int store_secret_delete(struct store *s, int64_t id);
/* Binds an unbound secret to an integration and a runtime type at `now`
 * (-ENOENT when it is bound already). */
int store_secret_bind(struct store *s, int64_t id, int64_t integration_id,
		const char *runtime_type, int64_t now);
int store_secret_list(struct store *s, const struct store_secret_filter *f,
		store_secret_cb cb, void *ctx);

/* Start/stop: sets desired and desired_ns; with clear_running, also
 * running_ns = 0 (the runtime is STARTING until its next heartbeat). */
int store_runtime_set_desired(struct store *s, int64_t id,
		const char *desired, int clear_running, int64_t now);
int store_runtime_set_latest(struct store *s, int64_t id, int64_t version);

/* Versions of a runtime, by number; deleting a runtime deletes its
 * versions, endpoints and service account with it (ON DELETE CASCADE). */
int store_version_insert(struct store *s, const struct store_version *v);
int store_version_get(struct store *s, int64_t runtime_id, int64_t number,
		struct store_version *out);
void store_version_release(struct store_version *v);
int store_version_delete(struct store *s, int64_t runtime_id,
		int64_t number);
int store_version_list(struct store *s, int64_t runtime_id,
		store_version_cb cb, void *ctx);

/* Endpoints of a runtime, by name. */
int store_endpoint_insert(struct store *s, struct store_endpoint *e);
int store_endpoint_get(struct store *s, int64_t runtime_id,
		const char *name, struct store_endpoint *out);
int store_endpoint_delete(struct store *s, int64_t id);
int store_endpoint_set_version(struct store *s, int64_t id,
		int64_t version, int64_t now);
/* A pin's reads in one: endpoint `name` of the runtime as
 * store_endpoint_get(), and whether the runtime has version `number`
 * (*has_version 1 or 0).  -ENOENT when there is no such endpoint. */
int store_endpoint_get_pin(struct store *s, int64_t runtime_id,
		const char *name, int64_t number, struct store_endpoint *out,
		int *has_version);
/* store_endpoint_set_version() of a change, which a backend may send with
 * the change's COMMIT (PostgreSQL: no round trip of its own): its failure
 * then fails the commit, and nothing may read the endpoint in the change
 * after it.  No row of that id is a failure too (-ENOENT, or the
 * commit's). */
int store_endpoint_set_version_late(struct store *s, int64_t id,
		int64_t version, int64_t now);
int store_endpoint_list(struct store *s, int64_t runtime_id,
		store_endpoint_cb cb, void *ctx);
/* Number of endpoints of the runtime that serve `version`. */
int store_endpoint_serving(struct store *s, int64_t runtime_id,
		int64_t version, int64_t *count);

/* Keeps `sealed` (a value sealed with the key file) as the store's key
 * check when it holds none yet, in a transaction of its own, so that a
 * second host started with another key file is refused at start even
 * before any secret is sealed: store_sealed_sample() gives it first.
 * 0 also when one was there already (the caller samples again).  A
 * backend served by one host only (SQLite) keeps nothing. */
int store_key_check_put(struct store *s, const unsigned char *sealed,
		size_t len);

/* One sealed value the database holds, whichever comes first (the key
 * check, a secret, a service account's secret, an image password), into `out`:
 * 0; -ENOENT when it holds none; -EOVERFLOW when it is longer than
 * `cap`.  Enough to tell whether a key file is the one that sealed them. */
int store_sealed_sample(struct store *s, unsigned char *out, size_t cap,
		size_t *len);

/* Commands queued for runtimes (ICP's ControlCommand). */
struct store_command {
	int64_t id;
	char uuid[STORE_UUID_LEN];         /* commandId */
	int64_t runtime_id;
	char runtime_uuid[STORE_UUID_LEN]; /* joined */
	char target[STORE_TEXT_MAX];       /* targetArtifact.name */
	char action[24];
	int64_t issued_ns;
	char status[16];                   /* PENDING, SENT, COMPLETED, ... */
	int64_t sent_ns;
	int64_t result_ns;
};
typedef int (*store_command_cb)(void *ctx, const struct store_command *c);

/* Queues a command (status as given); sets c->id. */
int store_command_insert(struct store *s, struct store_command *c);
/* The commands of a runtime with status `status` (NULL: all), oldest
 * first, at most `max` (0: all). */
int store_command_list(struct store *s, int64_t runtime_id,
		const char *status, size_t max, store_command_cb cb, void *ctx);
/* Sets a command's status, and sent_ns when `sent` is not 0. */
int store_command_set_status(struct store *s, int64_t id,
		const char *status, int64_t sent);
/* Records the outcome a runtime posted for command `uuid`, if that
 * command is one of a runtime that heartbeats with `key_id`: its status,
 * the result document and when; *found 1 when it was, else 0. */
int store_command_result(struct store *s, const char *uuid,
		const char *key_id, const char *status, const char *result,
		int64_t now, int *found);

/* The artifacts a runtime reported (ICP's Artifacts): by kind (the
 * tree's directory name, "listeners", "proxy-services") and name (its
 * directory name, unique in the kind), the artifact as reported (JSON
 * text; borrowed: valid during a callback) and when it last changed.
 * Deleting a runtime deletes its artifacts (ON DELETE CASCADE). */
#define STORE_KIND_MAX 24
#define STORE_ARTIFACT_NAME_MAX 256   /* a file name: 255 bytes + NUL */
struct store_artifact {
	int64_t runtime_id;
	char kind[STORE_KIND_MAX];
	char name[STORE_ARTIFACT_NAME_MAX];
	const char *doc;
	int64_t changed_ns;
};
typedef int (*store_artifact_cb)(void *ctx, const struct store_artifact *a);
typedef int (*store_kind_cb)(void *ctx, const char *kind);

/* Replaces the runtime's artifacts with items[0..n) (each with its own
 * changed_ns) and records `sum`, the set's digest, and `now` as the
 * runtime's artifacts_sum and artifacts_ns; inside the caller's
 * transaction.  -EEXIST for two items of one kind and name. */
int store_artifact_replace(struct store *s, int64_t runtime_id,
		const struct store_artifact *items, size_t n, const char *sum,
		int64_t now);
/* The runtime's artifacts of `kind` (NULL: all), by kind then name. */
int store_artifact_list(struct store *s, int64_t runtime_id,
		const char *kind, store_artifact_cb cb, void *ctx);
/* One artifact, its document malloc'd into *doc (NULL: not wanted);
 * out->doc is NULL on return. */
int store_artifact_get(struct store *s, int64_t runtime_id,
		const char *kind, const char *name, struct store_artifact *out,
		char **doc);
/* The kinds the runtime has artifacts of, in order. */
int store_artifact_kinds(struct store *s, int64_t runtime_id,
		store_kind_cb cb, void *ctx);

/* The service account of a runtime: put inserts or replaces it. */
int store_service_account_put(struct store *s,
		const struct store_service_account *sa);
int store_service_account_get(struct store *s, int64_t runtime_id,
		struct store_service_account *out);

#endif
