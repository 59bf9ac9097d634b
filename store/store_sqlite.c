/*
 * store_sqlite.c - the embedded SQLite backend of store.h.
 *
 * One connection, WAL journal, foreign keys on, synchronous=FULL so that a
 * committed transaction survives a crash of the daemon or of the machine.
 * Statements are prepared once, on first use, and kept for the life of the
 * handle.  The schema is migrated forward in steps kept in `migrations[]`;
 * PRAGMA user_version records the step a database is at.
 */
#include "backend.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

/* store_fail() (backend.h), for the many one-line refusals */
#define fail store_fail

/* Each entry migrates from version i to i+1; never edit a shipped one,
 * append a new one. */
/* A log's table (store_log): its lines, each with its byte offset in
 * the stream (the key: lines go in its order, so one page a line and
 * no other index; the number goes up with it), its number, its length,
 * its moment, and a key that two hosts telling of one moment share. */
#define LOG_TABLE(t) "CREATE TABLE " t " (" \
	"  off INTEGER PRIMARY KEY," \
	"  seq INTEGER NOT NULL," \
	"  len INTEGER NOT NULL," \
	"  at_ns INTEGER NOT NULL," \
	"  dedup TEXT," \
	"  line TEXT NOT NULL);" \
	"CREATE UNIQUE INDEX " t "_dedup ON " t "(dedup)" \
	"  WHERE dedup IS NOT NULL;"

static const char *const migrations[] = {
	/* 0 -> 1: environments, projects, integrations, runtimes. */
	"CREATE TABLE env ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  critical INTEGER NOT NULL DEFAULT 0,"
	"  created_ns INTEGER NOT NULL,"
	"  mtime_ns INTEGER NOT NULL);"
	"CREATE TABLE project ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_ns INTEGER NOT NULL);"
	"CREATE TABLE integration ("
	"  id INTEGER PRIMARY KEY,"
	"  project_id INTEGER NOT NULL REFERENCES project(id),"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  created_ns INTEGER NOT NULL,"
	"  mtime_ns INTEGER NOT NULL,"
	"  UNIQUE (project_id, name));"
	"CREATE TABLE runtime ("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  env_id INTEGER NOT NULL REFERENCES env(id),"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  integration_id INTEGER REFERENCES integration(id),"
	"  desired TEXT NOT NULL,"
	"  desired_ns INTEGER NOT NULL,"
	"  runtime_version TEXT NOT NULL,"
	"  platform TEXT NOT NULL,"
	"  os TEXT NOT NULL,"
	"  registered_ns INTEGER NOT NULL,"
	"  heartbeat_ns INTEGER NOT NULL,"
	"  running_ns INTEGER NOT NULL,"
	"  info_ns INTEGER NOT NULL,"
	"  assigned_ns INTEGER NOT NULL,"
	"  latest_version INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (env_id, name));"
	"CREATE INDEX runtime_integration ON runtime(integration_id);",
	/* 1 -> 2: deployed versions, endpoints, service accounts. */
	"CREATE TABLE version ("
	"  id INTEGER PRIMARY KEY,"
	"  runtime_id INTEGER NOT NULL REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  number INTEGER NOT NULL,"
	"  spec TEXT NOT NULL,"
	"  image_password BLOB,"
	"  created_ns INTEGER NOT NULL,"
	"  UNIQUE (runtime_id, number));"
	"CREATE TABLE endpoint ("
	"  id INTEGER PRIMARY KEY,"
	"  runtime_id INTEGER NOT NULL REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  version INTEGER NOT NULL,"
	"  created_ns INTEGER NOT NULL,"
	"  updated_ns INTEGER NOT NULL,"
	"  UNIQUE (runtime_id, name));"
	"CREATE TABLE service_account ("
	"  runtime_id INTEGER PRIMARY KEY REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  client_id TEXT NOT NULL UNIQUE,"
	"  secret BLOB NOT NULL,"
	"  created_ns INTEGER NOT NULL);",
	/* 2 -> 3: secrets, bound to a runtime by its first heartbeat, and
	 * when a runtime's secret was revoked. */
	"ALTER TABLE runtime ADD COLUMN revoked_ns INTEGER NOT NULL"
	"  DEFAULT 0;"
	"CREATE TABLE secret ("
	"  id INTEGER PRIMARY KEY,"
	"  key_id TEXT NOT NULL UNIQUE,"
	"  env_id INTEGER NOT NULL REFERENCES env(id),"
	"  integration_id INTEGER REFERENCES integration(id),"
	"  name TEXT NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  created_ns INTEGER NOT NULL,"
	"  runtime_id INTEGER UNIQUE REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  bound_ns INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX secret_unbound_name ON secret(env_id, name)"
	"  WHERE runtime_id IS NULL;"
	"CREATE INDEX secret_env ON secret(env_id);"
	"CREATE INDEX secret_integration ON secret(integration_id);",
	/* 3 -> 4: ICP's identity and binding (issue 12).  A runtime is
	 * known by the runtimeId it sends (its uuid, kept) and records the
	 * key it heartbeats with; a secret binds to an integration and a
	 * runtime type, not to one runtime, so that replicas share it (the
	 * runtime it was bound to keeps it, its integration and type become
	 * the secret's); projects and integrations keep the display name a
	 * runtime sent; runtimes keep what they reported, the hash of their
	 * last full heartbeat, their artifacts and the commands queued for
	 * them.  The secret table is rebuilt without runtime_id. */
	"ALTER TABLE project ADD COLUMN display TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE integration ADD COLUMN display TEXT NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE runtime ADD COLUMN key_id TEXT;"
	"ALTER TABLE runtime ADD COLUMN hash TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runtime ADD COLUMN reported TEXT NOT NULL DEFAULT '';"
	"UPDATE runtime SET key_id = (SELECT s.key_id FROM secret s"
	"  WHERE s.runtime_id = runtime.id);"
	"CREATE TABLE secret4 ("
	"  id INTEGER PRIMARY KEY,"
	"  key_id TEXT NOT NULL UNIQUE,"
	"  env_id INTEGER NOT NULL REFERENCES env(id),"
	"  integration_id INTEGER REFERENCES integration(id),"
	"  name TEXT NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  created_ns INTEGER NOT NULL,"
	"  runtime_type TEXT NOT NULL DEFAULT '',"
	"  bound_ns INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO secret4 SELECT s.id, s.key_id, s.env_id,"
	"  CASE WHEN s.runtime_id IS NULL THEN s.integration_id"
	"    ELSE (SELECT r.integration_id FROM runtime r"
	"      WHERE r.id = s.runtime_id) END,"
	"  s.name, s.sealed, s.created_ns,"
	"  CASE WHEN s.runtime_id IS NULL THEN ''"
	"    ELSE (SELECT r.type FROM runtime r WHERE r.id = s.runtime_id)"
	"    END,"
	"  CASE WHEN s.runtime_id IS NULL THEN 0 ELSE max(s.bound_ns, 1) END"
	"  FROM secret s;"
	"DROP TABLE secret;"
	"ALTER TABLE secret4 RENAME TO secret;"
	"CREATE UNIQUE INDEX secret_unbound_name ON secret(env_id, name)"
	"  WHERE bound_ns = 0;"
	"CREATE INDEX secret_env ON secret(env_id);"
	"CREATE INDEX secret_integration ON secret(integration_id);"
	"CREATE INDEX runtime_key ON runtime(key_id);"
	/* the last runtime that used a bound secret takes it along */
	"CREATE TRIGGER runtime_secret_gone AFTER DELETE ON runtime"
	"  WHEN old.key_id IS NOT NULL BEGIN"
	"  DELETE FROM secret WHERE key_id = old.key_id AND bound_ns != 0"
	"    AND NOT EXISTS (SELECT 1 FROM runtime"
	"      WHERE key_id = old.key_id);"
	"  END;"
	"CREATE TRIGGER runtime_secret_left AFTER UPDATE OF key_id ON runtime"
	"  WHEN old.key_id IS NOT NULL"
	"  AND old.key_id IS NOT coalesce(new.key_id, '') BEGIN"
	"  DELETE FROM secret WHERE key_id = old.key_id AND bound_ns != 0"
	"    AND NOT EXISTS (SELECT 1 FROM runtime"
	"      WHERE key_id = old.key_id);"
	"  END;"
	"CREATE TABLE command ("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  runtime_id INTEGER NOT NULL REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  target TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  payload TEXT,"
	"  issued_ns INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  sent_ns INTEGER NOT NULL DEFAULT 0,"
	"  result TEXT,"
	"  result_ns INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX command_runtime ON command(runtime_id, status);"
	"CREATE TABLE artifact ("
	"  id INTEGER PRIMARY KEY,"
	"  runtime_id INTEGER NOT NULL REFERENCES runtime(id)"
	"    ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  doc TEXT NOT NULL,"
	"  UNIQUE (runtime_id, kind, name));",
	/* 4 -> 5: artifacts in the tree (issue 12).  Each artifact keeps
	 * when it last changed; a runtime keeps a digest of its set of
	 * artifacts and when that set last changed (so that a full
	 * heartbeat that changes nothing reads no artifact), and when what
	 * it reported last changed. */
	"ALTER TABLE artifact ADD COLUMN changed_ns INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE runtime ADD COLUMN artifacts TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runtime ADD COLUMN artifacts_ns INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE runtime ADD COLUMN reported_ns INTEGER NOT NULL"
	"  DEFAULT 0;",
	/* 5 -> 6: the logs of issue 14, what changed and who did what,
	 * the audit log's lines dropped by age. */
	LOG_TABLE("event") LOG_TABLE("audit"),
};

#define BUSY_TIMEOUT_MS 5000     /* store_busy_timeout()'s default */
#define MEMORY ":memory:"        /* the locator of a store in memory */

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#include "columns.h"

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_ENV_INSERT, S_ENV_GET, S_ENV_DELETE, S_ENV_SET_CRITICAL, S_ENV_LIST,
	S_ENV_CHILDREN,
	S_PROJECT_INSERT, S_PROJECT_GET, S_PROJECT_DELETE, S_PROJECT_LIST,
	S_PROJECT_CHILDREN,
	S_INTEGRATION_INSERT, S_INTEGRATION_GET, S_INTEGRATION_DELETE,
	S_INTEGRATION_SET_TYPE, S_INTEGRATION_LIST, S_INTEGRATION_CHILDREN,
	S_RUNTIME_INSERT, S_RUNTIME_GET, S_RUNTIME_DELETE, S_RUNTIME_LIST,
	S_RUNTIME_SET_INTEGRATION, S_RUNTIME_GET_UUID, S_RUNTIME_SET_HASH,
	S_RUNTIME_SET_REPORTED, S_RUNTIME_GET_REPORTED, S_RUNTIME_REVOKE_KEY,
	S_PROJECT_SET_DISPLAY, S_INTEGRATION_SET_DISPLAY,
	S_COMMAND_INSERT, S_COMMAND_LIST, S_COMMAND_SET_STATUS,
	S_COMMAND_RESULT,
	S_ARTIFACT_CLEAR, S_ARTIFACT_INSERT, S_ARTIFACT_SUM, S_ARTIFACT_LIST,
	S_ARTIFACT_GET, S_ARTIFACT_KINDS,
	S_RUNTIME_SET_DESIRED, S_RUNTIME_SET_LATEST,
	S_VERSION_INSERT, S_VERSION_GET, S_VERSION_DELETE, S_VERSION_LIST,
	S_ENDPOINT_INSERT, S_ENDPOINT_GET, S_ENDPOINT_DELETE,
	S_ENDPOINT_SET_VERSION, S_ENDPOINT_LIST, S_ENDPOINT_SERVING,
	S_SA_PUT, S_SA_GET,
	S_RUNTIME_REPORT, S_RUNTIME_HEARTBEAT, S_RUNTIME_SET_REVOKED,
	S_SECRET_INSERT, S_SECRET_GET, S_SECRET_GET_KEY, S_SECRET_DELETE,
	S_SECRET_BIND, S_SECRET_LIST, S_SEALED_SAMPLE, S_DATA_VERSION,
	S_HOLDINGS, S_DEFER_CHECKS,
	/* one set per log (store_log), in this order */
	S_EVENT_APPEND, S_EVENT_LAST, S_EVENT_BOUNDS, S_EVENT_READ,
	S_EVENT_PRUNE,
	S_AUDIT_APPEND, S_AUDIT_LAST, S_AUDIT_BOUNDS, S_AUDIT_READ,
	S_AUDIT_PRUNE,
	S_COUNT
};

/* A log's statements (store_log), for its table `t`: the newest line's
 * end is the next one's offset.  An append is the newest line's place
 * (the last page of the primary key) and a plain INSERT of a line made
 * in C: an INSERT ... SELECT from its own table with RETURNING would
 * fill three ephemeral tables a line, each a b-tree opened and freed. */
#define LOG_APPEND(t) "INSERT OR IGNORE INTO " t " (seq, off, len, at_ns," \
	" dedup, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define LOG_LAST(t) "SELECT seq, off + len FROM " t " ORDER BY off DESC" \
	" LIMIT 1"
#define LOG_BOUNDS(t) "SELECT f.seq, f.off, f.len, f.at_ns," \
	" l.seq, l.off, l.len, l.at_ns" \
	" FROM (SELECT * FROM " t " ORDER BY off LIMIT 1) f," \
	" (SELECT * FROM " t " ORDER BY off DESC LIMIT 1) l"
#define LOG_READ(t) "SELECT seq, off, len, at_ns, line FROM " t \
	" WHERE off >= coalesce((SELECT off FROM " t " WHERE off <= ?1" \
	" ORDER BY off DESC LIMIT 1), 0) ORDER BY off LIMIT ?2"
/* by count, and by age: the lines before the first one young enough,
 * found walking from the oldest (lines come nearly in time order), so
 * that no index of their moments costs each append a page */
#define LOG_PRUNE(t) "DELETE FROM " t \
	" WHERE off < (SELECT max(off) FROM " t ")" \
	" AND (?1 <= 0 OR off <= coalesce((SELECT off FROM " t \
	" ORDER BY off DESC LIMIT 1 OFFSET ?1), -1))" \
	" AND (?2 <= 0 OR off < coalesce((SELECT off FROM " t \
	" WHERE at_ns >= ?2 ORDER BY off LIMIT 1)," \
	" (SELECT max(off) FROM " t ")))"
#define LOG_STMT(first, log) ((enum stmt)((first) + 5 * (int)(log)))

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_EVENT_APPEND] = LOG_APPEND("event"),
	[S_EVENT_LAST] = LOG_LAST("event"),
	[S_EVENT_BOUNDS] = LOG_BOUNDS("event"),
	[S_EVENT_READ] = LOG_READ("event"),
	[S_EVENT_PRUNE] = LOG_PRUNE("event"),
	[S_AUDIT_APPEND] = LOG_APPEND("audit"),
	[S_AUDIT_LAST] = LOG_LAST("audit"),
	[S_AUDIT_BOUNDS] = LOG_BOUNDS("audit"),
	[S_AUDIT_READ] = LOG_READ("audit"),
	[S_AUDIT_PRUNE] = LOG_PRUNE("audit"),
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_ENV_INSERT] = "INSERT INTO env (name, created_ns, mtime_ns)"
		" VALUES (?1, ?2, ?2)",
	[S_ENV_GET] = "SELECT id, name, critical, created_ns, mtime_ns"
		" FROM env WHERE name = ?1",
	[S_ENV_DELETE] = "DELETE FROM env WHERE id = ?1",
	[S_ENV_SET_CRITICAL] = "UPDATE env SET critical = ?2, mtime_ns = ?3"
		" WHERE id = ?1",
	[S_ENV_LIST] = "SELECT id, name, critical, created_ns, mtime_ns"
		" FROM env ORDER BY name",
	[S_ENV_CHILDREN] = "SELECT (SELECT count(*) FROM runtime"
		" WHERE env_id = ?1) + (SELECT count(*) FROM secret"
		" WHERE env_id = ?1 AND bound_ns = 0)",
	[S_PROJECT_INSERT] = "INSERT INTO project (name, created_ns)"
		" VALUES (?1, ?2)",
	[S_PROJECT_GET] = "SELECT id, name, created_ns, display FROM project"
		" WHERE name = ?1",
	[S_PROJECT_DELETE] = "DELETE FROM project WHERE id = ?1",
	[S_PROJECT_LIST] = "SELECT id, name, created_ns, display FROM project"
		" ORDER BY name",
	[S_PROJECT_CHILDREN] = "SELECT count(*) FROM integration"
		" WHERE project_id = ?1",
	[S_INTEGRATION_INSERT] = "INSERT INTO integration"
		" (project_id, name, type, created_ns, mtime_ns)"
		" VALUES (?1, ?2, ?3, ?4, ?4)",
	[S_INTEGRATION_GET] = "SELECT i.id, i.project_id, i.name, p.name,"
		" i.type, i.created_ns, i.mtime_ns, i.display"
		" FROM integration i"
		" JOIN project p ON p.id = i.project_id"
		" WHERE i.project_id = ?1 AND i.name = ?2",
	[S_INTEGRATION_DELETE] = "DELETE FROM integration WHERE id = ?1",
	[S_INTEGRATION_SET_TYPE] = "UPDATE integration SET type = ?2,"
		" mtime_ns = ?3 WHERE id = ?1",
	[S_INTEGRATION_LIST] = "SELECT i.id, i.project_id, i.name, p.name,"
		" i.type, i.created_ns, i.mtime_ns, i.display"
		" FROM integration i"
		" JOIN project p ON p.id = i.project_id"
		" WHERE i.project_id = ?1 ORDER BY i.name",
	[S_INTEGRATION_CHILDREN] = "SELECT (SELECT count(*) FROM runtime"
		" WHERE integration_id = ?1) + (SELECT count(*) FROM secret"
		" WHERE integration_id = ?1 AND bound_ns = 0)",
	[S_RUNTIME_INSERT] = "INSERT INTO runtime (uuid, env_id, name, type,"
		" integration_id, desired, desired_ns, runtime_version,"
		" platform, os, registered_ns, heartbeat_ns, running_ns,"
		" info_ns, assigned_ns, latest_version, key_id, hash)"
		" VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, nullif(?17, ''), ?18)",
	[S_RUNTIME_GET] = "SELECT " RUNTIME_COLUMNS RUNTIME_FROM
		" WHERE r.env_id = ?1 AND r.name = ?2",
	[S_RUNTIME_GET_UUID] = "SELECT " RUNTIME_COLUMNS RUNTIME_FROM
		" WHERE r.uuid = ?1",
	[S_RUNTIME_SET_HASH] = "UPDATE runtime SET hash = ?2 WHERE id = ?1",
	[S_RUNTIME_SET_REPORTED] = "UPDATE runtime SET reported = ?2,"
		" reported_ns = ?3 WHERE id = ?1",
	[S_RUNTIME_GET_REPORTED] = "SELECT reported FROM runtime"
		" WHERE id = ?1",
	[S_RUNTIME_REVOKE_KEY] = "UPDATE runtime SET revoked_ns = ?2"
		" WHERE key_id = ?1",
	[S_COMMAND_INSERT] = "INSERT INTO command (uuid, runtime_id, target,"
		" action, issued_ns, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_COMMAND_LIST] = "SELECT c.id, c.uuid, c.runtime_id, r.uuid,"
		" c.target, c.action, c.issued_ns, c.status, c.sent_ns,"
		" c.result_ns FROM command c JOIN runtime r"
		" ON r.id = c.runtime_id WHERE c.runtime_id = ?1"
		" AND (?2 IS NULL OR c.status = ?2) ORDER BY c.id"
		" LIMIT CASE WHEN ?3 > 0 THEN ?3 ELSE -1 END",
	[S_COMMAND_SET_STATUS] = "UPDATE command SET status = ?2,"
		" sent_ns = CASE WHEN ?3 THEN ?3 ELSE sent_ns END"
		" WHERE id = ?1",
	[S_COMMAND_RESULT] = "UPDATE command SET status = ?3, result = ?4,"
		" result_ns = ?5 WHERE uuid = ?1 AND runtime_id IN"
		" (SELECT id FROM runtime WHERE key_id = ?2)",
	[S_ARTIFACT_CLEAR] = "DELETE FROM artifact WHERE runtime_id = ?1",
	[S_ARTIFACT_INSERT] = "INSERT INTO artifact (runtime_id, kind, name,"
		" doc, changed_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_ARTIFACT_SUM] = "UPDATE runtime SET artifacts = ?2,"
		" artifacts_ns = ?3 WHERE id = ?1",
	[S_ARTIFACT_LIST] = "SELECT runtime_id, kind, name, doc, changed_ns"
		" FROM artifact WHERE runtime_id = ?1"
		" AND (?2 IS NULL OR kind = ?2) ORDER BY kind, name",
	[S_ARTIFACT_GET] = "SELECT runtime_id, kind, name, doc, changed_ns"
		" FROM artifact WHERE runtime_id = ?1 AND kind = ?2"
		" AND name = ?3",
	[S_ARTIFACT_KINDS] = "SELECT DISTINCT kind FROM artifact"
		" WHERE runtime_id = ?1 ORDER BY kind",
	[S_PROJECT_SET_DISPLAY] = "UPDATE project SET display = ?2"
		" WHERE id = ?1",
	[S_INTEGRATION_SET_DISPLAY] = "UPDATE integration SET display = ?2"
		" WHERE id = ?1",
	[S_RUNTIME_DELETE] = "DELETE FROM runtime WHERE id = ?1",
	[S_RUNTIME_SET_INTEGRATION] = "UPDATE runtime SET"
		" integration_id = nullif(?2, 0), assigned_ns = ?3"
		" WHERE id = ?1",
	[S_RUNTIME_LIST] = "SELECT " RUNTIME_COLUMNS RUNTIME_FROM
		" WHERE (?1 = 0 OR r.env_id = ?1)"
		" AND (?2 = 0 OR i.project_id = ?2)"
		" AND (?3 = 0 OR r.integration_id = ?3)"
		" AND (?4 IS NULL OR r.key_id = ?4)"
		" AND (?6 = 0 OR (r.heartbeat_ns > ?5"
		" AND r.heartbeat_ns <= ?6))"
		" ORDER BY e.name, r.name",
	[S_RUNTIME_SET_DESIRED] = "UPDATE runtime SET desired = ?2,"
		" desired_ns = ?3,"
		" running_ns = CASE WHEN ?4 THEN 0 ELSE running_ns END"
		" WHERE id = ?1",
	[S_RUNTIME_SET_LATEST] = "UPDATE runtime SET latest_version = ?2"
		" WHERE id = ?1",
	[S_VERSION_INSERT] = "INSERT INTO version (runtime_id, number, spec,"
		" image_password, created_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_VERSION_GET] = "SELECT runtime_id, number, created_ns, spec,"
		" image_password FROM version"
		" WHERE runtime_id = ?1 AND number = ?2",
	[S_VERSION_DELETE] = "DELETE FROM version"
		" WHERE runtime_id = ?1 AND number = ?2",
	[S_VERSION_LIST] = "SELECT runtime_id, number, created_ns"
		" FROM version WHERE runtime_id = ?1 ORDER BY number",
	[S_ENDPOINT_INSERT] = "INSERT INTO endpoint (runtime_id, name, uuid,"
		" version, created_ns, updated_ns)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_ENDPOINT_GET] = "SELECT " ENDPOINT_COLUMNS " FROM endpoint"
		" WHERE runtime_id = ?1 AND name = ?2",
	[S_ENDPOINT_DELETE] = "DELETE FROM endpoint WHERE id = ?1",
	[S_ENDPOINT_SET_VERSION] = "UPDATE endpoint SET version = ?2,"
		" updated_ns = ?3 WHERE id = ?1",
	[S_ENDPOINT_LIST] = "SELECT " ENDPOINT_COLUMNS " FROM endpoint"
		" WHERE runtime_id = ?1 ORDER BY name",
	[S_ENDPOINT_SERVING] = "SELECT count(*) FROM endpoint"
		" WHERE runtime_id = ?1 AND version = ?2",
	[S_SA_PUT] = "INSERT OR REPLACE INTO service_account (runtime_id,"
		" client_id, secret, created_ns) VALUES (?1, ?2, ?3, ?4)",
	[S_SA_GET] = "SELECT runtime_id, client_id, secret, created_ns"
		" FROM service_account WHERE runtime_id = ?1",
	[S_RUNTIME_REPORT] = "UPDATE runtime SET"
		" integration_id = nullif(?2, 0), assigned_ns = ?3,"
		" runtime_version = ?4, platform = ?5, os = ?6, info_ns = ?7,"
		" heartbeat_ns = ?8, running_ns = ?9, revoked_ns = ?10,"
		" key_id = nullif(?11, ''), hash = ?12"
		" WHERE id = ?1",
	[S_RUNTIME_HEARTBEAT] = "UPDATE runtime SET"
		" heartbeat_ns = max(heartbeat_ns, ?3)"
		" WHERE id = ?1 AND uuid = ?2",
	[S_RUNTIME_SET_REVOKED] = "UPDATE runtime SET revoked_ns = ?2"
		" WHERE id = ?1",
	[S_SECRET_INSERT] = "INSERT INTO secret (key_id, env_id,"
		" integration_id, name, sealed, created_ns)"
		" VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6)",
	[S_SECRET_GET] = "SELECT " SECRET_COLUMNS SECRET_FROM
		" WHERE s.env_id = ?1 AND s.name = ?2"
		" AND s.bound_ns = 0",
	[S_SECRET_GET_KEY] = "SELECT " SECRET_COLUMNS SECRET_FROM
		" WHERE s.key_id = ?1",
	[S_SECRET_DELETE] = "DELETE FROM secret WHERE id = ?1",
	[S_SECRET_BIND] = "UPDATE secret SET integration_id = nullif(?2, 0),"
		" runtime_type = ?3, bound_ns = max(?4, 1)"
		" WHERE id = ?1 AND bound_ns = 0",
	[S_SECRET_LIST] = "SELECT " SECRET_COLUMNS SECRET_FROM
		" WHERE s.env_id = ?1 AND s.bound_ns = 0"
		" AND (?2 = 0 OR s.integration_id = ?2) ORDER BY s.name",
	[S_SEALED_SAMPLE] = "SELECT sealed FROM secret"
		" UNION ALL SELECT secret FROM service_account"
		" UNION ALL SELECT image_password FROM version"
		" WHERE image_password IS NOT NULL LIMIT 1",
	[S_DATA_VERSION] = "PRAGMA data_version",
	[S_HOLDINGS] = "SELECT (SELECT count(*) FROM env),"
		" (SELECT count(*) FROM project)",
	[S_DEFER_CHECKS] = "PRAGMA defer_foreign_keys = ON",
};

/* What store_snapshot_list() last read of a snapshot's file: its taken-at
 * time, good while the file is the same (inode, size, mtime). */
struct snap_seen {
	char name[STORE_NAME_MAX];
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int64_t taken_ns;
};

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	char *path;               /* the database's file; NULL in memory */
	int readonly;             /* a snapshot's handle */
	int64_t taken_ns;         /* a snapshot's: when it was taken */
	struct snap_seen *seen;   /* store_snapshot_list()'s last reading */
	size_t nseen;
	store_watch_fn watch;     /* store_watch() */
	void *watch_ctx;
	int64_t data_version;     /* PRAGMA data_version when last looked */
};

static struct sqlite_store *sq(struct store *s)
{
	return (struct sqlite_store *)s;
}

static void sqlite_close(struct store *base);
static void sqlite_rollback(struct store *base);

/* Maps a SQLite result of connection `db` to an errno, as store.h lists
 * them, with SQLite's words as the message. */
static int fail_db(sqlite3 *db, int rc, const char *what)
{
	int ext = sqlite3_extended_errcode(db);

	rc &= 0xff;               /* the primary code of an extended one */
	if (ext == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		return fail(-EEXIST, "%s: already exists", what);
	if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
		return fail(-ENOTEMPTY, "%s: still referenced", what);
	/* busy is not EBUSY: SPEC keeps that for an object's state */
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return fail(-EAGAIN, "%s: database is busy (another connection"
				" holds its lock); try again", what);
	if (rc == SQLITE_FULL)
		return fail(-ENOSPC, "%s: disk full", what);
	if (rc == SQLITE_READONLY)
		return fail(-EROFS, "%s: database is read-only", what);
	if (rc == SQLITE_NOMEM)
		return fail(-ENOMEM, "%s: out of memory", what);
	/* "unable to open database file" says not why; the system does */
	if (rc == SQLITE_CANTOPEN && sqlite3_system_errno(db))
		return fail(-EIO, "%s: %s: %s", what, sqlite3_errmsg(db),
				strerror(sqlite3_system_errno(db)));
	return fail(-EIO, "%s: %s", what, sqlite3_errmsg(db));
}

static int fail_sqlite(struct sqlite_store *s, int rc, const char *what)
{
	return fail_db(s->db, rc, what);
}

/* `db` followed by `suffix`, the name of a file beside the database. */
static int beside(char *out, size_t cap, const char *db, const char *suffix)
{
	if ((size_t)snprintf(out, cap, "%s%s", db, suffix) >= cap)
		return fail(-ENAMETOOLONG, "database path %s is too long", db);
	return 0;
}

/* Returns the prepared statement `id`, reset and with bindings cleared. */
static sqlite3_stmt *stmt(struct sqlite_store *s, enum stmt id)
{
	sqlite3_stmt *st = s->stmt[id];

	if (!st) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
				SQLITE_PREPARE_PERSISTENT, &st, NULL)
				!= SQLITE_OK) {
			fail_sqlite(s, sqlite3_errcode(s->db), "prepare");
			return NULL;
		}
		s->stmt[id] = st;
	}
	if (sqlite3_stmt_readonly(st))
		store_count_read();
	return st;
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows. */
static int exec_stmt(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_DONE ? 0 : fail_sqlite(s, rc, what);

	done(st);
	return ret;
}

/* Runs a statement that changes one row; -ENOENT when it changed none. */
static int exec_one(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int ret = exec_stmt(s, st, what);

	if (!ret && sqlite3_changes(s->db) == 0)
		ret = fail(-ENOENT, "%s: no such row", what);
	return ret;
}

/* Runs statement `id` with `key` bound as ?1, changing one row. */
static int exec_id(struct sqlite_store *s, enum stmt id, int64_t key,
		const char *what)
{
	sqlite3_stmt *st = stmt(s, id);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, key);
	return exec_one(s, st, what);
}

/* Steps a bound lookup: 0 with the row ready to read (the caller then
 * calls done()), -ENOENT "no KIND 'NAME'" when there is none, or another
 * -errno; on failure the statement is already reset. */
static int step_one(struct sqlite_store *s, sqlite3_stmt *st, const char *kind,
		const char *name)
{
	int rc = sqlite3_step(st);
	int ret;

	if (rc == SQLITE_ROW)
		return 0;
	ret = rc == SQLITE_DONE ? fail(-ENOENT, "no %s '%s'", kind, name) :
		fail_sqlite(s, rc, name);
	done(st);
	return ret;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static int count_stmt(struct sqlite_store *s, enum stmt id, int64_t key,
		int64_t *count, const char *what)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		int ret = fail_sqlite(s, rc, what);

		done(st);
		return ret;
	}
	*count = sqlite3_column_int64(st, 0);
	done(st);
	return 0;
}

/* PRAGMA user_version, or a negative errno. */
static int schema_version(struct sqlite_store *s)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)
			!= SQLITE_OK)
		return fail_sqlite(s, sqlite3_errcode(s->db), "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct sqlite_store *s)
{
	int v = schema_version(s);
	char *err = NULL;

	if (v < 0)
		return v;
	if (v > SCHEMA_VERSION)
		return fail(-EPROTO, "database schema version %d is newer than"
				" this runtimefs understands (%d)", v,
				SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		char sql[64];

		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
				!= SQLITE_OK)
			return fail_sqlite(s, sqlite3_errcode(s->db),
					"migrate");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(s->db, migrations[v], NULL, NULL, &err)
				!= SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err)
				!= SQLITE_OK) {
			int ret = fail(-EIO, "migrate to schema %d: %s",
					v + 1, err ? err : "?");

			sqlite3_free(err);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return ret;
		}
	}
	return 0;
}

/* Makes the file `path`, empty, readable by its owner only, unless it
 * exists: SQLite would make it 0644, and its -wal and -shm after it,
 * and a database holds sealed secrets.  Failures are left to SQLite to
 * report. */
static void create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			0600);

	if (fd >= 0)
		close(fd);
}

/* Opens `path` with SQLite `flags`; `pragmas` run before the migration. */
static int open_db(struct sqlite_store **out, const char *path, int flags,
		const char *pragmas)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	int ret, rc;

	*out = NULL;
	if (!s)
		return fail(-ENOMEM, "out of memory");
	s->base.be = &store_sqlite_backend;
	if (strcmp(path, MEMORY) && !(s->path = strdup(path))) {
		free(s);
		return fail(-ENOMEM, "out of memory");
	}
	if ((flags & SQLITE_OPEN_CREATE) && s->path)
		create_private(path);
	rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ret = s->db ? fail_db(s->db, rc, path) :
			fail(-ENOMEM, "open %s: out of memory", path);
		sqlite_close(&s->base);
		return ret;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		ret = fail_sqlite(s, sqlite3_errcode(s->db), path);
		sqlite_close(&s->base);
		return ret;
	}
	ret = (flags & SQLITE_OPEN_READWRITE) ? migrate(s) : 0;
	if (!ret && !(flags & SQLITE_OPEN_READWRITE) &&
	    schema_version(s) != SCHEMA_VERSION)
		ret = fail(-EPROTO, "%s is at schema version %d, not %d", path,
				schema_version(s), SCHEMA_VERSION);
	if (ret) {
		sqlite_close(&s->base);
		return ret;
	}
	*out = s;
	return 0;
}

static int sqlite_open(struct store **out, const char *locator)
{
	struct sqlite_store *s;
	int ret = open_db(&s, locator, SQLITE_OPEN_READWRITE |
			SQLITE_OPEN_CREATE,
			"PRAGMA journal_mode = WAL;"
			"PRAGMA synchronous = FULL;"
			"PRAGMA foreign_keys = ON;");

	*out = ret ? NULL : &s->base;
	return ret;
}

static void sqlite_close(struct store *base)
{
	struct sqlite_store *s = sq(base);

	if (!s)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s->seen);
	free(s->path);
	free(s);
}

static int sqlite_schema_version(struct store *base)
{
	struct sqlite_store *s = sq(base);

	return schema_version(s);
}

/* PRAGMA data_version: it moves when another connection commits. */
static int data_version(struct sqlite_store *s, int64_t *out)
{
	sqlite3_stmt *st = stmt(s, S_DATA_VERSION);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	done(st);
	return rc == SQLITE_ROW ? 0 : fail_sqlite(s, rc, "data version");
}

/* Tells the watcher when another connection committed since the last
 * look. */
static int look_for_others(struct sqlite_store *s)
{
	int64_t v;
	int ret;

	if (!s->watch)
		return 0;
	if ((ret = data_version(s, &v)))
		return ret;
	if (v != s->data_version) {
		s->data_version = v;
		s->watch(s->watch_ctx, NULL);
	}
	return 0;
}

static int sqlite_begin(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st;
	int ret;

	/* SQLite would begin, and refuse each write of it only */
	if (s->readonly)
		return fail(-EROFS, "begin: a snapshot is read-only");
	st = stmt(s, S_BEGIN);
	if (!st)
		return -EIO;
	if ((ret = exec_stmt(s, st, "begin")))
		return ret;
	/* what this change reads is what others committed so far */
	if ((ret = look_for_others(s)))
		sqlite_rollback(base);
	return ret;
}

static int sqlite_commit(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_COMMIT);
	int ret = st ? exec_stmt(s, st, "commit") : -EIO;

	if (ret)
		sqlite_rollback(base);
	return ret;
}

static void sqlite_watch(struct store *base, store_watch_fn fn, void *ctx)
{
	struct sqlite_store *s = sq(base);

	s->watch = fn;
	s->watch_ctx = ctx;
	if (fn && data_version(s, &s->data_version))
		s->data_version = -1;   /* the first look will tell */
}

/* The key file sits beside the one file it seals for, one host: the
 * values sealed in it are check enough. */
static int sqlite_key_check_put(struct store *base,
		const unsigned char *sealed, size_t len)
{
	(void)base;
	(void)sealed;
	(void)len;
	return 0;
}

/* One daemon per file: no one to tell, no socket to wait on. */
static int sqlite_announce(struct store *base, const char *news)
{
	(void)base;
	(void)news;
	return 0;
}

/* -- the logs ------------------------------------------------------- */

static void event_row(sqlite3_stmt *st, int col, struct store_event *ev)
{
	ev->seq = sqlite3_column_int64(st, col);
	ev->off = sqlite3_column_int64(st, col + 1);
	ev->len = sqlite3_column_int64(st, col + 2);
	ev->at_ns = sqlite3_column_int64(st, col + 3);
}

static int sqlite_log_append(struct store *base, enum store_log log,
		const char *head, const char *tail, int64_t at_ns,
		const char *dedup, struct store_event *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *last = stmt(s, LOG_STMT(S_EVENT_LAST, log)), *st;
	int64_t seq = 1, off = 0;
	char num[24], small[1024], *line = small;
	size_t hl, nl, tl;
	int rc;

	if (!last || !(st = stmt(s, LOG_STMT(S_EVENT_APPEND, log))))
		return -EIO;
	rc = sqlite3_step(last);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(last, 0) + 1;
		off = sqlite3_column_int64(last, 1);
	}
	done(last);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail_sqlite(s, rc, "append event");
	nl = (size_t)snprintf(num, sizeof(num), "%lld", (long long)seq);
	hl = strlen(head);
	tl = strlen(tail);
	if (hl + nl + tl >= sizeof(small) &&
	    !(line = malloc(hl + nl + tl + 1)))
		return fail(-ENOMEM, "append event: out of memory");
	memcpy(line, head, hl);
	memcpy(line + hl, num, nl);
	memcpy(line + hl + nl, tail, tl + 1);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, off);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(hl + nl + tl));
	sqlite3_bind_int64(st, 4, at_ns);
	if (dedup)
		sqlite3_bind_text(st, 5, dedup, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, line, (int)(hl + nl + tl), SQLITE_STATIC);
	rc = sqlite3_step(st);
	done(st);
	if (line != small)
		free(line);
	if (rc != SQLITE_DONE)
		return fail_sqlite(s, rc, "append event");
	/* ignored: a kept line has the same dedup key */
	if (!sqlite3_changes(s->db))
		return 1;
	if (out)
		*out = (struct store_event){ seq, off,
			(int64_t)(hl + nl + tl), at_ns };
	return 0;
}

static int sqlite_log_bounds(struct store *base, enum store_log log,
		struct store_event *first, struct store_event *last)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, LOG_STMT(S_EVENT_BOUNDS, log));
	int rc;

	memset(first, 0, sizeof(*first));
	memset(last, 0, sizeof(*last));
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		event_row(st, 0, first);
		event_row(st, 4, last);
	}
	done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
		fail_sqlite(s, rc, "event bounds");
}

static int sqlite_log_read(struct store *base, enum store_log log,
		int64_t off, int limit, store_event_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, LOG_STMT(S_EVENT_READ, log));
	struct store_event ev;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, off);
	sqlite3_bind_int(st, 2, limit);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		event_row(st, 0, &ev);
		ret = cb(ctx, &ev, (const char *)sqlite3_column_text(st, 4));
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "read events");
	done(st);
	return ret;
}

static int sqlite_log_prune(struct store *base, enum store_log log,
		int64_t keep, int64_t before_ns)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, LOG_STMT(S_EVENT_PRUNE, log));

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, keep);
	sqlite3_bind_int64(st, 2, before_ns);
	return exec_stmt(s, st, "prune events");
}

static int sqlite_watch_fd(struct store *base)
{
	(void)base;
	return -1;
}

static int sqlite_poll(struct store *base)
{
	struct sqlite_store *s = sq(base);

	return look_for_others(s);
}

static void sqlite_busy_timeout(struct store *base, int ms)
{
	struct sqlite_store *s = sq(base);

	sqlite3_busy_timeout(s->db, ms > 0 ? ms : 0);
}

static void sqlite_rollback(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st;

	if (sqlite3_get_autocommit(s->db))
		return;
	st = stmt(s, S_ROLLBACK);
	if (st)
		exec_stmt(s, st, "rollback");
}

/* -- environments ------------------------------------------------------ */

static void env_row(sqlite3_stmt *st, struct store_env *e)
{
	e->id = sqlite3_column_int64(st, 0);
	copy_text(e->name, sizeof(e->name), st, 1);
	e->critical = sqlite3_column_int(st, 2);
	e->created_ns = sqlite3_column_int64(st, 3);
	e->mtime_ns = sqlite3_column_int64(st, 4);
}

static int sqlite_env_insert(struct store *base, const char *name, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENV_INSERT);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return exec_stmt(s, st, name);
}

static int sqlite_env_get(struct store *base, const char *name,
		struct store_env *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENV_GET);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "environment", name)))
		return ret;
	env_row(st, out);
	done(st);
	return 0;
}

static int sqlite_env_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_ENV_DELETE, id, "delete environment");
}

static int sqlite_env_set_critical(struct store *base, int64_t id, int critical,
		int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENV_SET_CRITICAL);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, critical);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "set critical");
}

static int sqlite_env_list(struct store *base, store_env_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENV_LIST);
	struct store_env e;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		env_row(st, &e);
		ret = cb(ctx, &e);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list environments");
	done(st);
	return ret;
}

static int sqlite_env_children(struct store *base, int64_t id, int64_t *count)
{
	struct sqlite_store *s = sq(base);

	return count_stmt(s, S_ENV_CHILDREN, id, count, "environment");
}

/* -- projects ---------------------------------------------------------- */

static void project_row(sqlite3_stmt *st, struct store_project *p)
{
	p->id = sqlite3_column_int64(st, 0);
	copy_text(p->name, sizeof(p->name), st, 1);
	p->created_ns = sqlite3_column_int64(st, 2);
	copy_text(p->display, sizeof(p->display), st, 3);
}

static int sqlite_project_insert(struct store *base, const char *name,
		int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_PROJECT_INSERT);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return exec_stmt(s, st, name);
}

static int sqlite_project_get(struct store *base, const char *name,
		struct store_project *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_PROJECT_GET);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "project", name)))
		return ret;
	project_row(st, out);
	done(st);
	return 0;
}

static int sqlite_project_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_PROJECT_DELETE, id, "delete project");
}

static int sqlite_project_list(struct store *base, store_project_cb cb,
		void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_PROJECT_LIST);
	struct store_project p;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		project_row(st, &p);
		ret = cb(ctx, &p);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list projects");
	done(st);
	return ret;
}

static int sqlite_project_children(struct store *base, int64_t id,
		int64_t *count)
{
	struct sqlite_store *s = sq(base);

	return count_stmt(s, S_PROJECT_CHILDREN, id, count, "project");
}

/* -- integrations ------------------------------------------------------ */

static void integration_row(sqlite3_stmt *st, struct store_integration *in)
{
	in->id = sqlite3_column_int64(st, 0);
	in->project_id = sqlite3_column_int64(st, 1);
	copy_text(in->name, sizeof(in->name), st, 2);
	copy_text(in->project, sizeof(in->project), st, 3);
	copy_text(in->type, sizeof(in->type), st, 4);
	in->created_ns = sqlite3_column_int64(st, 5);
	in->mtime_ns = sqlite3_column_int64(st, 6);
	copy_text(in->display, sizeof(in->display), st, 7);
}

static int sqlite_integration_insert(struct store *base, int64_t project_id,
		const char *name, const char *type, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_INTEGRATION_INSERT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return exec_stmt(s, st, name);
}

static int sqlite_integration_get(struct store *base, int64_t project_id,
		const char *name, struct store_integration *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_INTEGRATION_GET);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "integration", name)))
		return ret;
	integration_row(st, out);
	done(st);
	return 0;
}

static int sqlite_integration_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_INTEGRATION_DELETE, id, "delete integration");
}

static int sqlite_integration_set_type(struct store *base, int64_t id,
		const char *type, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_INTEGRATION_SET_TYPE);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "set integration type");
}

static int sqlite_integration_list(struct store *base, int64_t project_id,
		store_integration_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_INTEGRATION_LIST);
	struct store_integration in;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, project_id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		integration_row(st, &in);
		ret = cb(ctx, &in);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list integrations");
	done(st);
	return ret;
}

static int sqlite_integration_children(struct store *base, int64_t id,
		int64_t *count)
{
	struct sqlite_store *s = sq(base);

	return count_stmt(s, S_INTEGRATION_CHILDREN, id, count,
			"integration");
}

/* -- runtimes ---------------------------------------------------------- */

static void runtime_row(sqlite3_stmt *st, struct store_runtime *rt)
{
	rt->id = sqlite3_column_int64(st, 0);
	copy_text(rt->uuid, sizeof(rt->uuid), st, 1);
	rt->env_id = sqlite3_column_int64(st, 2);
	copy_text(rt->env, sizeof(rt->env), st, 3);
	copy_text(rt->name, sizeof(rt->name), st, 4);
	copy_text(rt->type, sizeof(rt->type), st, 5);
	rt->integration_id = sqlite3_column_int64(st, 6);
	copy_text(rt->project, sizeof(rt->project), st, 7);
	copy_text(rt->integration, sizeof(rt->integration), st, 8);
	copy_text(rt->desired, sizeof(rt->desired), st, 9);
	rt->desired_ns = sqlite3_column_int64(st, 10);
	copy_text(rt->runtime_version, sizeof(rt->runtime_version), st, 11);
	copy_text(rt->platform, sizeof(rt->platform), st, 12);
	copy_text(rt->os, sizeof(rt->os), st, 13);
	rt->registered_ns = sqlite3_column_int64(st, 14);
	rt->heartbeat_ns = sqlite3_column_int64(st, 15);
	rt->running_ns = sqlite3_column_int64(st, 16);
	rt->info_ns = sqlite3_column_int64(st, 17);
	rt->assigned_ns = sqlite3_column_int64(st, 18);
	rt->latest_version = sqlite3_column_int64(st, 19);
	rt->revoked_ns = sqlite3_column_int64(st, 20);
	copy_text(rt->secret, sizeof(rt->secret), st, 21);
	rt->deployed_ns = sqlite3_column_int64(st, 22);
	copy_text(rt->key_id, sizeof(rt->key_id), st, 23);
	copy_text(rt->hash, sizeof(rt->hash), st, 24);
	copy_text(rt->artifacts_sum, sizeof(rt->artifacts_sum), st, 25);
	rt->artifacts_ns = sqlite3_column_int64(st, 26);
	rt->reported_ns = sqlite3_column_int64(st, 27);
}

static int sqlite_runtime_insert(struct store *base, struct store_runtime *rt)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_INSERT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, rt->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rt->env_id);
	sqlite3_bind_text(st, 3, rt->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rt->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rt->integration_id);
	sqlite3_bind_text(st, 6, rt->desired, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, rt->desired_ns);
	sqlite3_bind_text(st, 8, rt->runtime_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, rt->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, rt->os, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, rt->registered_ns);
	sqlite3_bind_int64(st, 12, rt->heartbeat_ns);
	sqlite3_bind_int64(st, 13, rt->running_ns);
	sqlite3_bind_int64(st, 14, rt->info_ns);
	sqlite3_bind_int64(st, 15, rt->assigned_ns);
	sqlite3_bind_int64(st, 16, rt->latest_version);
	sqlite3_bind_text(st, 17, rt->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, rt->hash, -1, SQLITE_STATIC);
	ret = exec_stmt(s, st, rt->name);
	if (!ret)
		rt->id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int sqlite_runtime_get(struct store *base, int64_t env_id,
		const char *name,
		struct store_runtime *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_GET);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, env_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "runtime", name)))
		return ret;
	runtime_row(st, out);
	done(st);
	return 0;
}

static int sqlite_runtime_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_RUNTIME_DELETE, id, "delete runtime");
}

static int sqlite_runtime_set_integration(struct store *base, int64_t id,
		int64_t integration_id, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_INTEGRATION);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, integration_id);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "assign runtime");
}

static int sqlite_runtime_list(struct store *base,
		const struct store_runtime_filter *f,
		store_runtime_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_LIST);
	struct store_runtime rt;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, f->env_id);
	sqlite3_bind_int64(st, 2, f->project_id);
	sqlite3_bind_int64(st, 3, f->integration_id);
	if (f->key_id)
		sqlite3_bind_text(st, 4, f->key_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, f->heard_after_ns);
	sqlite3_bind_int64(st, 6, f->heard_upto_ns);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		runtime_row(st, &rt);
		ret = cb(ctx, &rt);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list runtimes");
	done(st);
	return ret;
}

/* -- deploys: versions, endpoints, service accounts -------------------- */

static int sqlite_runtime_set_desired(struct store *base, int64_t id,
		const char *desired, int clear_running, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_DESIRED);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, desired, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, clear_running);
	return exec_one(s, st, "set desired state");
}

static int sqlite_runtime_set_latest(struct store *base, int64_t id,
		int64_t version)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_LATEST);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	return exec_one(s, st, "set latest version");
}

static int sqlite_version_insert(struct store *base,
		const struct store_version *v)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_VERSION_INSERT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, v->runtime_id);
	sqlite3_bind_int64(st, 2, v->number);
	sqlite3_bind_text(st, 3, v->spec, -1, SQLITE_STATIC);
	if (v->password)
		sqlite3_bind_blob(st, 4, v->password, (int)v->password_len,
				SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, v->created_ns);
	return exec_stmt(s, st, "insert version");
}

static void version_row(sqlite3_stmt *st, struct store_version *v)
{
	memset(v, 0, sizeof(*v));
	v->runtime_id = sqlite3_column_int64(st, 0);
	v->number = sqlite3_column_int64(st, 1);
	v->created_ns = sqlite3_column_int64(st, 2);
}

/* Copies the spec and the sealed password out of the current row. */
static int version_payload(sqlite3_stmt *st, struct store_version *v)
{
	const unsigned char *spec = sqlite3_column_text(st, 3);
	const void *pw = sqlite3_column_blob(st, 4);
	int pwlen = sqlite3_column_bytes(st, 4);

	v->spec = strdup(spec ? (const char *)spec : "");
	if (!v->spec)
		return fail(-ENOMEM, "out of memory");
	if (pw && pwlen > 0) {
		v->password = malloc((size_t)pwlen);
		if (!v->password) {
			store_version_release(v);
			return fail(-ENOMEM, "out of memory");
		}
		memcpy(v->password, pw, (size_t)pwlen);
		v->password_len = (size_t)pwlen;
	}
	return 0;
}

static int sqlite_version_get(struct store *base, int64_t runtime_id,
		int64_t number,
		struct store_version *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_VERSION_GET);
	int rc, ret = 0;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_int64(st, 2, number);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		version_row(st, out);
		ret = version_payload(st, out);
	} else if (rc == SQLITE_DONE) {
		ret = fail(-ENOENT, "no version %lld", (long long)number);
	} else {
		ret = fail_sqlite(s, rc, "get version");
	}
	done(st);
	return ret;
}

static int sqlite_version_delete(struct store *base, int64_t runtime_id,
		int64_t number)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_VERSION_DELETE);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_int64(st, 2, number);
	return exec_one(s, st, "delete version");
}

static int sqlite_version_list(struct store *base, int64_t runtime_id,
		store_version_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_VERSION_LIST);
	struct store_version v;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		version_row(st, &v);
		ret = cb(ctx, &v);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list versions");
	done(st);
	return ret;
}

static void endpoint_row(sqlite3_stmt *st, struct store_endpoint *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->runtime_id = sqlite3_column_int64(st, 1);
	copy_text(e->name, sizeof(e->name), st, 2);
	copy_text(e->uuid, sizeof(e->uuid), st, 3);
	e->version = sqlite3_column_int64(st, 4);
	e->created_ns = sqlite3_column_int64(st, 5);
	e->updated_ns = sqlite3_column_int64(st, 6);
}

static int sqlite_endpoint_insert(struct store *base, struct store_endpoint *e)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENDPOINT_INSERT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e->runtime_id);
	sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e->version);
	sqlite3_bind_int64(st, 5, e->created_ns);
	sqlite3_bind_int64(st, 6, e->updated_ns);
	ret = exec_stmt(s, st, e->name);
	if (!ret)
		e->id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int sqlite_endpoint_get(struct store *base, int64_t runtime_id,
		const char *name, struct store_endpoint *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENDPOINT_GET);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "endpoint", name)))
		return ret;
	endpoint_row(st, out);
	done(st);
	return 0;
}

static int sqlite_endpoint_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_ENDPOINT_DELETE, id, "delete endpoint");
}

static int sqlite_endpoint_set_version(struct store *base, int64_t id,
		int64_t version, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENDPOINT_SET_VERSION);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "pin endpoint");
}

static int sqlite_endpoint_list(struct store *base, int64_t runtime_id,
		store_endpoint_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENDPOINT_LIST);
	struct store_endpoint e;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		endpoint_row(st, &e);
		ret = cb(ctx, &e);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list endpoints");
	done(st);
	return ret;
}

static int sqlite_endpoint_serving(struct store *base, int64_t runtime_id,
		int64_t version, int64_t *count)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ENDPOINT_SERVING);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		ret = fail_sqlite(s, rc, "count endpoints");
	done(st);
	return ret;
}

static int sqlite_service_account_put(struct store *base,
		const struct store_service_account *sa)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SA_PUT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, sa->runtime_id);
	sqlite3_bind_text(st, 2, sa->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sa->secret, (int)sa->secret_len,
			SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, sa->created_ns);
	return exec_stmt(s, st, "put service account");
}

static int sqlite_service_account_get(struct store *base, int64_t runtime_id,
		struct store_service_account *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SA_GET);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 2);

		memset(out, 0, sizeof(*out));
		out->runtime_id = sqlite3_column_int64(st, 0);
		copy_text(out->client_id, sizeof(out->client_id), st, 1);
		if (n < 0 || (size_t)n > sizeof(out->secret))
			ret = fail(-EIO, "service account secret is damaged");
		else if (n > 0)
			memcpy(out->secret, sqlite3_column_blob(st, 2),
					(size_t)n);
		out->secret_len = (size_t)(n > 0 ? n : 0);
		out->created_ns = sqlite3_column_int64(st, 3);
	} else if (rc == SQLITE_DONE) {
		ret = fail(-ENOENT, "no service account");
	} else {
		ret = fail_sqlite(s, rc, "get service account");
	}
	done(st);
	return ret;
}

static int sqlite_sealed_sample(struct store *base, unsigned char *out,
		size_t cap,
		size_t *len)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SEALED_SAMPLE);
	int rc, n, ret = 0;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		if (n < 0 || (size_t)n > cap)
			ret = fail(-EOVERFLOW, "a sealed value of %d bytes", n);
		else if (n > 0)
			memcpy(out, sqlite3_column_blob(st, 0), (size_t)n);
		*len = n > 0 ? (size_t)n : 0;
	} else if (rc == SQLITE_DONE) {
		ret = fail(-ENOENT, "nothing sealed");
	} else {
		ret = fail_sqlite(s, rc, "sealed sample");
	}
	done(st);
	return ret;
}

static int sqlite_runtime_report(struct store *base,
		const struct store_runtime *rt)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_REPORT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, rt->id);
	sqlite3_bind_int64(st, 2, rt->integration_id);
	sqlite3_bind_int64(st, 3, rt->assigned_ns);
	sqlite3_bind_text(st, 4, rt->runtime_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rt->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rt->os, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, rt->info_ns);
	sqlite3_bind_int64(st, 8, rt->heartbeat_ns);
	sqlite3_bind_int64(st, 9, rt->running_ns);
	sqlite3_bind_int64(st, 10, rt->revoked_ns);
	sqlite3_bind_text(st, 11, rt->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, rt->hash, -1, SQLITE_STATIC);
	return exec_one(s, st, "runtime heartbeat");
}

/* One heartbeat time, on the prepared statement. */
static int heartbeat_one(struct sqlite_store *s, sqlite3_stmt *st, int64_t id,
		const char *uuid, int64_t ns)
{
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ns);
	return exec_stmt(s, st, "runtime heartbeat");
}

static int sqlite_runtime_heartbeat(struct store *base, int64_t id,
		const char *uuid,
		int64_t ns)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_HEARTBEAT);

	return st ? heartbeat_one(s, st, id, uuid, ns) : -EIO;
}

static int sqlite_runtime_heartbeats(struct store *base,
		const struct store_beat *beats,
		size_t n)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_HEARTBEAT);
	int ret = 0;

	if (!st)
		return -EIO;
	for (size_t i = 0; i < n && !ret; i++)
		ret = heartbeat_one(s, st, beats[i].id, beats[i].uuid,
				beats[i].heartbeat_ns);
	return ret;
}

static int sqlite_runtime_set_revoked(struct store *base, int64_t id,
		int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_REVOKED);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	return exec_one(s, st, "revoke runtime secret");
}

static int sqlite_runtime_revoke_key(struct store *base,
		const char *key_id, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_REVOKE_KEY);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return exec_stmt(s, st, "revoke runtimes' secret");
}

static int sqlite_runtime_get_uuid(struct store *base, const char *uuid,
		struct store_runtime *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_GET_UUID);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "runtime", uuid)))
		return ret;
	runtime_row(st, out);
	done(st);
	return 0;
}

static int sqlite_runtime_set_hash(struct store *base, int64_t id,
		const char *hash)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_HASH);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	return exec_one(s, st, "set runtime hash");
}

static int sqlite_runtime_set_reported(struct store *base, int64_t id,
		const char *json, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_SET_REPORTED);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "set what a runtime reported");
}

static int sqlite_runtime_get_reported(struct store *base, int64_t id,
		char **out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_RUNTIME_GET_REPORTED);
	const unsigned char *t;
	int ret;

	*out = NULL;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	if ((ret = step_one(s, st, "runtime", "reported")))
		return ret;
	t = sqlite3_column_text(st, 0);
	*out = strdup(t ? (const char *)t : "");
	done(st);
	return *out ? 0 : fail(-ENOMEM, "what a runtime reported");
}

/* -- commands ---------------------------------------------------------- */

static int sqlite_command_insert(struct store *base,
		struct store_command *c)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_COMMAND_INSERT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, c->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->runtime_id);
	sqlite3_bind_text(st, 3, c->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->issued_ns);
	sqlite3_bind_text(st, 6, c->status, -1, SQLITE_STATIC);
	ret = exec_stmt(s, st, "queue command");
	if (!ret)
		c->id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int sqlite_command_list(struct store *base, int64_t runtime_id,
		const char *status, size_t max, store_command_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_COMMAND_LIST);
	struct store_command c;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	if (status)
		sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		c.id = sqlite3_column_int64(st, 0);
		copy_text(c.uuid, sizeof(c.uuid), st, 1);
		c.runtime_id = sqlite3_column_int64(st, 2);
		copy_text(c.runtime_uuid, sizeof(c.runtime_uuid), st, 3);
		copy_text(c.target, sizeof(c.target), st, 4);
		copy_text(c.action, sizeof(c.action), st, 5);
		c.issued_ns = sqlite3_column_int64(st, 6);
		copy_text(c.status, sizeof(c.status), st, 7);
		c.sent_ns = sqlite3_column_int64(st, 8);
		c.result_ns = sqlite3_column_int64(st, 9);
		ret = cb(ctx, &c);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list commands");
	done(st);
	return ret;
}

static int sqlite_command_set_status(struct store *base, int64_t id,
		const char *status, int64_t sent)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_COMMAND_SET_STATUS);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sent);
	return exec_one(s, st, "set command status");
}

static int sqlite_command_result(struct store *base, const char *uuid,
		const char *key_id, const char *status, const char *result,
		int64_t now, int *found)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_COMMAND_RESULT);
	int ret;

	*found = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, result, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	ret = exec_stmt(s, st, "command result");
	if (!ret)
		*found = sqlite3_changes(s->db) > 0;
	return ret;
}

/* -- artifacts --------------------------------------------------------- */

static int sqlite_artifact_replace(struct store *base, int64_t runtime_id,
		const struct store_artifact *items, size_t n, const char *sum,
		int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ARTIFACT_CLEAR);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	if ((ret = exec_stmt(s, st, "clear artifacts")))
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt(s, S_ARTIFACT_INSERT)))
			return -EIO;
		sqlite3_bind_int64(st, 1, runtime_id);
		sqlite3_bind_text(st, 2, items[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, items[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, items[i].doc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, items[i].changed_ns);
		if ((ret = exec_stmt(s, st, "insert artifact")))
			return ret;
	}
	if (!(st = stmt(s, S_ARTIFACT_SUM)))
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_text(st, 2, sum, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	return exec_one(s, st, "set artifacts of a runtime");
}

static void artifact_row(sqlite3_stmt *st, struct store_artifact *a)
{
	const unsigned char *doc = sqlite3_column_text(st, 3);

	a->runtime_id = sqlite3_column_int64(st, 0);
	copy_text(a->kind, sizeof(a->kind), st, 1);
	copy_text(a->name, sizeof(a->name), st, 2);
	a->doc = doc ? (const char *)doc : "";
	a->changed_ns = sqlite3_column_int64(st, 4);
}

static int sqlite_artifact_list(struct store *base, int64_t runtime_id,
		const char *kind, store_artifact_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ARTIFACT_LIST);
	struct store_artifact a;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		artifact_row(st, &a);
		ret = cb(ctx, &a);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list artifacts");
	done(st);
	return ret;
}

static int sqlite_artifact_get(struct store *base, int64_t runtime_id,
		const char *kind, const char *name, struct store_artifact *out,
		char **doc)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ARTIFACT_GET);
	int ret;

	if (doc)
		*doc = NULL;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if ((ret = step_one(s, st, "artifact", name)))
		return ret;
	artifact_row(st, out);
	if (doc && !(*doc = strdup(out->doc)))
		ret = fail(-ENOMEM, "artifact %s", name);
	out->doc = NULL;
	done(st);
	return ret;
}

static int sqlite_artifact_kinds(struct store *base, int64_t runtime_id,
		store_kind_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_ARTIFACT_KINDS);
	char kind[STORE_KIND_MAX];
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, runtime_id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		copy_text(kind, sizeof(kind), st, 0);
		ret = cb(ctx, kind);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list artifact kinds");
	done(st);
	return ret;
}

/* Sets the display name of a project or an integration. */
static int set_display(struct sqlite_store *s, enum stmt which, int64_t id,
		const char *display)
{
	sqlite3_stmt *st = stmt(s, which);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, display, -1, SQLITE_STATIC);
	return exec_one(s, st, "set display name");
}

static int sqlite_project_set_display(struct store *base, int64_t id,
		const char *display)
{
	return set_display(sq(base), S_PROJECT_SET_DISPLAY, id, display);
}

static int sqlite_integration_set_display(struct store *base,
		int64_t id,
		const char *display)
{
	return set_display(sq(base), S_INTEGRATION_SET_DISPLAY, id, display);
}

/* -- secrets ----------------------------------------------------------- */

static void secret_row(sqlite3_stmt *st, struct store_secret *sec)
{
	int n = sqlite3_column_bytes(st, 8);
	const void *b = sqlite3_column_blob(st, 8);

	sec->id = sqlite3_column_int64(st, 0);
	copy_text(sec->key_id, sizeof(sec->key_id), st, 1);
	sec->env_id = sqlite3_column_int64(st, 2);
	copy_text(sec->env, sizeof(sec->env), st, 3);
	sec->integration_id = sqlite3_column_int64(st, 4);
	copy_text(sec->project, sizeof(sec->project), st, 5);
	copy_text(sec->integration, sizeof(sec->integration), st, 6);
	copy_text(sec->name, sizeof(sec->name), st, 7);
	/* a damaged value comes back empty, and will not unseal */
	sec->sealed_len = b && n > 0 && (size_t)n <= sizeof(sec->sealed) ?
		(size_t)n : 0;
	if (sec->sealed_len)
		memcpy(sec->sealed, b, sec->sealed_len);
	sec->created_ns = sqlite3_column_int64(st, 9);
	copy_text(sec->runtime_type, sizeof(sec->runtime_type), st, 10);
	sec->bound_ns = sqlite3_column_int64(st, 11);
}

static int sqlite_secret_insert(struct store *base, struct store_secret *sec)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SECRET_INSERT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, sec->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sec->env_id);
	sqlite3_bind_int64(st, 3, sec->integration_id);
	sqlite3_bind_text(st, 4, sec->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, sec->sealed, (int)sec->sealed_len,
			SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, sec->created_ns);
	ret = exec_stmt(s, st, sec->name);
	if (!ret)
		sec->id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

/* Steps a bound secret query for its one row, into `out`. */
static int secret_one(struct sqlite_store *s, sqlite3_stmt *st,
		struct store_secret *out, const char *what)
{
	int ret = step_one(s, st, "secret", what);

	if (ret)
		return ret;
	secret_row(st, out);
	done(st);
	return 0;
}

static int sqlite_secret_get(struct store *base, int64_t env_id,
		const char *name,
		struct store_secret *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SECRET_GET);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, env_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return secret_one(s, st, out, name);
}

static int sqlite_secret_get_key(struct store *base, const char *key_id,
		struct store_secret *out)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SECRET_GET_KEY);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	return secret_one(s, st, out, key_id);
}

static int sqlite_secret_delete(struct store *base, int64_t id)
{
	struct sqlite_store *s = sq(base);

	return exec_id(s, S_SECRET_DELETE, id, "delete secret");
}

static int sqlite_secret_bind(struct store *base, int64_t id,
		int64_t integration_id, const char *runtime_type, int64_t now)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SECRET_BIND);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, integration_id);
	sqlite3_bind_text(st, 3, runtime_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return exec_one(s, st, "bind secret");
}

static int sqlite_secret_list(struct store *base,
		const struct store_secret_filter *f,
		store_secret_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = stmt(s, S_SECRET_LIST);
	struct store_secret sec;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, f->env_id);
	sqlite3_bind_int64(st, 2, f->integration_id);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		secret_row(st, &sec);
		ret = cb(ctx, &sec);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "list secrets");
	done(st);
	return ret;
}

/* -- snapshots ------------------------------------------------------------ */

#define SNAPSHOTS ".snapshots"        /* DB.snapshots/ */

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* Makes a rename or an unlink in directory `dir` durable. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* DB.snapshots into `buf`; with `name`, the file of that snapshot in it
 * (NAME.db, or with `tmp` the copy being made, .NAME.tmp). */
static int snap_path(const struct sqlite_store *s, const char *name, int tmp,
		char *buf, size_t cap)
{
	int n = !name ? snprintf(buf, cap, "%s" SNAPSHOTS, s->path) :
		snprintf(buf, cap, "%s" SNAPSHOTS "/%s%s%s", s->path,
				tmp ? "." : "", name, tmp ? ".tmp" : ".db");

	if (n < 0 || (size_t)n >= cap)
		return fail(-ENAMETOOLONG, "database path %s is too long",
				s->path);
	return 0;
}

/* Removes a copy being made, and the journal SQLite may keep beside it. */
static void snap_remove_copy(const char *tmp)
{
	char side[PATH_MAX];

	unlink(tmp);
	if (!beside(side, sizeof(side), tmp, "-journal"))
		unlink(side);
}

/* Writes `taken_ns` into the snapshot file at `path`, once: a second
 * time changes nothing. */
static int snap_record(const char *path, int64_t taken_ns)
{
	char sql[256];
	sqlite3 *db = NULL;
	int rc, ret = 0;

	snprintf(sql, sizeof(sql), "PRAGMA synchronous = FULL;"
			" BEGIN IMMEDIATE;"
			" CREATE TABLE snapshot_taken (taken_ns INTEGER NOT NULL);"
			" INSERT INTO snapshot_taken VALUES (%lld);"
			" COMMIT;", (long long)taken_ns);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
			SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(db, 1);
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		ret = db ? fail_db(db, rc, "snapshot") :
			fail(-ENOMEM, "snapshot: out of memory");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return ret;
}

/* When the snapshot at `path` was taken: the time recorded in it, or for
 * a copy an older runtimefs made, which has none, its mtime, recorded
 * then with `record` (when it can be: a read-only copy keeps giving its
 * mtime).  -ENOENT when there is no such file. */
static int snap_taken(const char *path, int64_t *out, int record)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	struct stat sb;

	*out = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
			SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
		if (sqlite3_prepare_v2(db, "SELECT taken_ns FROM"
				" snapshot_taken", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	if (*out > 0)
		return 0;
	if (stat(path, &sb))
		return errno == ENOENT ? -ENOENT :
			fail(-errno, "snapshot %s: %s", path, strerror(errno));
	*out = ns_of(&sb.st_mtim);
	if (record)
		snap_record(path, *out);
	return 0;
}

static int sqlite_snapshot_create(struct store *base, const char *name,
		int64_t *taken_ns)
{
	struct sqlite_store *s = sq(base);
	char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	struct timespec now;
	sqlite3_stmt *st;
	int ret, rc;

	if (s->readonly)
		return fail(-EROFS, "snapshot: a snapshot is read-only");
	if (!s->path)
		return fail(-EOPNOTSUPP, "an in-memory database has no"
				" snapshots");
	if ((ret = store_snapshot_name_check(name)) ||
	    (ret = snap_path(s, NULL, 0, dir, sizeof(dir))) ||
	    (ret = snap_path(s, name, 1, tmp, sizeof(tmp))) ||
	    (ret = snap_path(s, name, 0, path, sizeof(path))))
		return ret;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(-errno, "cannot make %s: %s", dir, strerror(errno));
	if (!access(path, F_OK))
		return fail(-EEXIST, "snapshot '%s' already exists", name);
	snap_remove_copy(tmp);
	if (sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL)
			!= SQLITE_OK)
		return fail_sqlite(s, sqlite3_errcode(s->db), "snapshot");
	/* the moment of the copy, which is one read transaction */
	clock_gettime(CLOCK_REALTIME, &now);
	create_private(tmp);    /* VACUUM INTO takes an empty file */
	sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	ret = rc == SQLITE_DONE ? 0 : fail_sqlite(s, rc, "snapshot");
	sqlite3_finalize(st);
	/* recorded before the rename: a snapshot in place has its time; the
	 * commit of the record makes the whole copy durable */
	if (!ret)
		ret = snap_record(tmp, ns_of(&now));
	if (!ret && rename(tmp, path))
		ret = fail(-errno, "cannot rename %s: %s", tmp,
				strerror(errno));
	if (ret) {
		snap_remove_copy(tmp);
		return ret;
	}
	sync_dir(dir);          /* the rename is part of the snapshot */
	if (taken_ns)
		*taken_ns = ns_of(&now);
	return 0;
}

static int by_seen_name(const void *a, const void *b)
{
	return strcmp(((const struct snap_seen *)a)->name,
			((const struct snap_seen *)b)->name);
}

/* What the last list read of snapshot `name`, if the file is the same. */
static const struct snap_seen *snap_seen(const struct sqlite_store *s,
		const struct snap_seen *now)
{
	const struct snap_seen *old = s->seen ? bsearch(now, s->seen,
			s->nseen, sizeof(*now), by_seen_name) : NULL;

	if (old && old->ino == now->ino && old->size == now->size &&
	    old->mtime.tv_sec == now->mtime.tv_sec &&
	    old->mtime.tv_nsec == now->mtime.tv_nsec)
		return old;
	return NULL;
}

static int sqlite_snapshot_list(struct store *base, store_snapshot_cb cb,
		void *ctx)
{
	struct sqlite_store *s = sq(base);
	char dir[PATH_MAX], path[PATH_MAX];
	struct snap_seen *list = NULL, *grown;
	size_t n = 0, cap = 0, k = 0;
	struct dirent *d;
	DIR *dh;
	int ret;

	if (!s->path || s->readonly)
		return 0;
	if ((ret = snap_path(s, NULL, 0, dir, sizeof(dir))))
		return ret;
	if (!(dh = opendir(dir)))
		return errno == ENOENT ? 0 : fail(-errno, "cannot read %s: %s",
				dir, strerror(errno));
	while (n < STORE_SNAPSHOTS_MAX && (d = readdir(dh))) {
		size_t len = strlen(d->d_name);

		if (len < 4 || len - 3 >= STORE_NAME_MAX ||
		    d->d_name[0] == '.' || strcmp(d->d_name + len - 3, ".db"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(grown = realloc(list, cap * sizeof(*list)))) {
				ret = fail(-ENOMEM, "out of memory");
				break;
			}
			list = grown;
		}
		memset(&list[n], 0, sizeof(list[n]));
		memcpy(list[n].name, d->d_name, len - 3);
		n++;
	}
	closedir(dh);
	if (!ret && n)
		qsort(list, n, sizeof(*list), by_seen_name);
	/* each one's time, read again only from a file that changed */
	for (size_t i = 0; !ret && i < n; i++) {
		struct snap_seen *e = &list[k];
		const struct snap_seen *old;
		struct stat sb;

		*e = list[i];
		if (snap_path(s, e->name, 0, path, sizeof(path)) ||
		    stat(path, &sb))
			continue;       /* dropped meanwhile */
		e->ino = sb.st_ino;
		e->size = sb.st_size;
		e->mtime = sb.st_mtim;
		if ((old = snap_seen(s, e)))
			e->taken_ns = old->taken_ns;
		else if (snap_taken(path, &e->taken_ns, 1))
			continue;
		k++;
	}
	if (ret) {
		free(list);
		return ret;
	}
	free(s->seen);
	s->seen = list;
	s->nseen = k;
	for (size_t i = 0; !ret && i < k; i++)
		ret = cb(ctx, list[i].name, list[i].taken_ns);
	return ret;
}

static int sqlite_snapshot_open(struct store *base, const char *name,
		struct store **out)
{
	struct sqlite_store *s = sq(base);
	char path[PATH_MAX];
	struct sqlite_store *snap = NULL;
	int64_t taken;
	int ret;

	*out = NULL;
	if (!s->path || s->readonly)
		return fail(-ENOENT, "no snapshot '%s'", name);
	if ((ret = store_snapshot_name_check(name)) ||
	    (ret = snap_path(s, name, 0, path, sizeof(path))))
		return ret;
	if ((ret = snap_taken(path, &taken, 1)))
		return ret == -ENOENT ? fail(-ENOENT, "no snapshot '%s'", name) :
			ret;
	ret = open_db(&snap, path, SQLITE_OPEN_READONLY, "");
	if (ret == -EPROTO) {
		/* made by an older runtimefs: bring it forward once */
		if ((ret = open_db(&snap, path, SQLITE_OPEN_READWRITE, "")))
			return ret;
		sqlite_close(&snap->base);
		ret = open_db(&snap, path, SQLITE_OPEN_READONLY, "");
	}
	if (ret)
		return ret;
	snap->readonly = 1;
	snap->taken_ns = taken;
	*out = &snap->base;
	return 0;
}

static int64_t sqlite_taken_at(const struct store *base)
{
	const struct sqlite_store *s = (const struct sqlite_store *)base;

	return s->taken_ns;
}

static int sqlite_snapshot_drop(struct store *base, const char *name)
{
	struct sqlite_store *s = sq(base);
	char path[PATH_MAX];
	int ret;

	if (s->readonly)
		return fail(-EROFS, "snapshot: a snapshot is read-only");
	if (!s->path)
		return fail(-ENOENT, "no snapshot '%s'", name);
	if ((ret = store_snapshot_name_check(name)) ||
	    (ret = snap_path(s, name, 0, path, sizeof(path))))
		return ret;
	if (unlink(path))
		return errno == ENOENT ? fail(-ENOENT, "no snapshot '%s'", name) :
			fail(-errno, "cannot remove %s: %s", path,
					strerror(errno));
	return 0;
}

static void sqlite_snapshot_tidy(struct store *base)
{
	struct sqlite_store *s = sq(base);
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *d;
	DIR *dh;

	if (!s->path || s->readonly ||
	    snap_path(s, NULL, 0, dir, sizeof(dir)) || !(dh = opendir(dir)))
		return;
	/* .NAME.tmp and its journal: a copy a crash cut short */
	while ((d = readdir(dh))) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] != '.' || !((len > 4 &&
				!strcmp(d->d_name + len - 4, ".tmp")) ||
				(len > 12 && !strcmp(d->d_name + len - 12,
				".tmp-journal"))))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				d->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(dh);
}

/* -- loading a whole store ----------------------------------------------- */

/* What the store holds, snapshots counted by their files. */
static int holdings(struct sqlite_store *s, struct store_holdings *h)
{
	sqlite3_stmt *st = stmt(s, S_HOLDINGS);
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dh;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->envs = sqlite3_column_int64(st, 0);
		h->projects = sqlite3_column_int64(st, 1);
	}
	done(st);
	if (rc != SQLITE_ROW)
		return fail_sqlite(s, rc, "count what the store holds");
	if (!s->path || s->readonly ||
	    snap_path(s, NULL, 0, dir, sizeof(dir)) || !(dh = opendir(dir)))
		return 0;
	while ((d = readdir(dh))) {
		size_t len = strlen(d->d_name);

		if (len >= 4 && d->d_name[0] != '.' &&
		    !strcmp(d->d_name + len - 3, ".db"))
			h->snapshots++;
	}
	closedir(dh);
	return 0;
}

/* -ENOTEMPTY, saying what, when `h` holds anything. */
static int held_anything(const struct store_holdings *h)
{
	if (!h->envs && !h->projects && !h->snapshots)
		return 0;
	return fail(-ENOTEMPTY, "the store holds %lld environment(s), %lld"
			" project(s) and %lld snapshot(s)",
			(long long)h->envs, (long long)h->projects,
			(long long)h->snapshots);
}

static int sqlite_is_empty(struct store *base, struct store_holdings *held)
{
	struct sqlite_store *s = sq(base);
	struct store_holdings h;
	int ret;

	if ((ret = holdings(s, &h)))
		return ret;
	if (held)
		*held = h;
	return held_anything(&h);
}

static int sqlite_load_begin(struct store *base, struct store_holdings *held)
{
	struct sqlite_store *s = sq(base);
	struct store_holdings h;
	sqlite3_stmt *st;
	int ret;

	if (s->readonly)
		return fail(-EROFS, "begin: a snapshot is read-only");
	if (!(st = stmt(s, S_BEGIN)))
		return -EIO;
	if ((ret = exec_stmt(s, st, "begin")))
		return ret;
	if (!(ret = look_for_others(s)) && !(ret = holdings(s, &h))) {
		if (held)
			*held = h;
		ret = held_anything(&h);
	}
	/* for this transaction only: COMMIT and ROLLBACK turn it off */
	if (!ret)
		ret = (st = stmt(s, S_DEFER_CHECKS)) ?
			exec_stmt(s, st, "defer checks") : -EIO;
	if (ret)
		sqlite_rollback(base);
	return ret;
}

/* -- a dump, for tests ----------------------------------------------------- */

/* One column's value, as SQL would write it. */
static int dump_value(struct store_line *l, sqlite3_stmt *st, int i)
{
	const unsigned char *b;
	int n, ret = 0;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return store_line_add(l, " NULL");
	case SQLITE_INTEGER:
		return store_line_add(l, " %lld",
				(long long)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return store_line_add(l, " %.17g",
				sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		return store_line_add(l, " '%s'", sqlite3_column_text(st, i));
	default:
		b = sqlite3_column_blob(st, i);
		n = sqlite3_column_bytes(st, i);
		ret = store_line_add(l, " x'");
		for (int k = 0; !ret && k < n; k++)
			ret = store_line_add(l, "%02x", b[k]);
		return ret ? ret : store_line_add(l, "'");
	}
}

/* Every row of `table`, ordered by all its columns. */
static int dump_table(struct sqlite_store *s, const char *table,
		struct store_line *l,
		store_dump_cb cb, void *ctx)
{
	char sql[512];
	sqlite3_stmt *st;
	int ncol, rc, ret = 0;

	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail_sqlite(s, sqlite3_errcode(s->db), "dump");
	ncol = sqlite3_column_count(st);
	sqlite3_finalize(st);
	for (int i = 1; i <= ncol && strlen(sql) + 16 < sizeof(sql); i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s%d",
				i == 1 ? " ORDER BY " : ", ", i);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail_sqlite(s, sqlite3_errcode(s->db), "dump");
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = store_line_add(l, "  %s", table);
		for (int i = 0; !ret && i < ncol; i++)
			ret = dump_value(l, st, i);
		if (!ret)
			ret = store_line_give(l, cb, ctx);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail_sqlite(s, rc, "dump");
	sqlite3_finalize(st);
	return ret;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every file of DB.snapshots/, a snapshot with its time. */
static int dump_snapshots(struct sqlite_store *s, struct store_line *l,
		store_dump_cb cb,
		void *ctx)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent **ents;
	int n, ret = 0;

	if (!s->path || s->readonly || snap_path(s, NULL, 0, dir, sizeof(dir)))
		return 0;
	if ((n = scandir(dir, &ents, NULL, by_name)) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		int64_t taken = 0;

		if (!ret && strcmp(name, ".") && strcmp(name, "..")) {
			if (len > 3 && name[0] != '.' &&
			    !strcmp(name + len - 3, ".db") &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
					name) < sizeof(path))
				snap_taken(path, &taken, 0);
			ret = store_line_add(l, "file %s taken %lld", name,
					(long long)taken);
			if (!ret)
				ret = store_line_give(l, cb, ctx);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static int sqlite_dump(struct store *base, store_dump_cb cb, void *ctx)
{
	struct sqlite_store *s = sq(base);
	struct store_line l = { NULL, 0, 0 };
	sqlite3_stmt *st;
	int rc, ret;

	ret = store_line_add(&l, "schema version %d", schema_version(s));
	if (!ret)
		ret = store_line_give(&l, cb, ctx);
	if (!ret && sqlite3_prepare_v2(s->db, "SELECT type, name,"
			" coalesce(sql, '') FROM sqlite_master"
			" ORDER BY type, name", -1, &st, NULL) != SQLITE_OK)
		ret = fail_sqlite(s, sqlite3_errcode(s->db), "dump");
	else if (!ret) {
		while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *type = (const char *)
				sqlite3_column_text(st, 0);
			const char *name = (const char *)
				sqlite3_column_text(st, 1);

			ret = store_line_add(&l, "%s %s: %s", type, name,
					sqlite3_column_text(st, 2));
			if (!ret)
				ret = store_line_give(&l, cb, ctx);
			if (!ret && !strcmp(type, "table"))
				ret = dump_table(s, name, &l, cb, ctx);
		}
		if (!ret && rc != SQLITE_DONE)
			ret = fail_sqlite(s, rc, "dump");
		sqlite3_finalize(st);
	}
	if (!ret)
		ret = dump_snapshots(s, &l, cb, ctx);
	free(l.s);
	return ret;
}

/* -- where a store is ---------------------------------------------------- */

static const char *sqlite_default_locator(void)
{
	return "runtimefs.db";
}

/* A path holds no secret. */
static void sqlite_locator_shown(const char *locator, char *buf, size_t size)
{
	snprintf(buf, size, "%s", locator);
}

static int sqlite_locator_resolve(const char *locator, char *buf, size_t size)
{
	char *copy1, *copy2, dir[PATH_MAX];
	int ret = 0;

	if (!strcmp(locator, MEMORY))
		return (size_t)snprintf(buf, size, "%s", locator) < size ? 0 :
			fail(-ENAMETOOLONG, "database path too long");
	if (!*locator)
		return fail(-EINVAL, "the database path is empty");
	/* its directory, resolved: the file itself may not exist yet */
	copy1 = strdup(locator);
	copy2 = strdup(locator);
	if (!copy1 || !copy2)
		ret = fail(-ENOMEM, "out of memory");
	else if (!realpath(dirname(copy1), dir))
		ret = fail(-errno, "database '%s': %s", locator,
				strerror(errno));
	else if ((size_t)snprintf(buf, size, "%s/%s", strcmp(dir, "/") ?
			dir : "", basename(copy2)) >= size)
		ret = fail(-ENAMETOOLONG, "database path %s is too long",
				locator);
	free(copy1);
	free(copy2);
	return ret;
}

static int sqlite_default_key_path(const char *locator, char *buf, size_t size)
{
	if (!strcmp(locator, MEMORY))
		return fail(-ENOENT, "an in-memory database has no key file");
	if ((size_t)snprintf(buf, size, "%s.key", locator) >= size)
		return fail(-ENAMETOOLONG, "database path %s is too long",
				locator);
	return 0;
}

static int sqlite_default_tls_paths(const char *locator, char *cert,
		char *key, size_t size)
{
	if (!strcmp(locator, MEMORY))
		return fail(-ENOENT, "an in-memory database has no place for"
				" a certificate");
	if ((size_t)snprintf(cert, size, "%s.tls.crt", locator) >= size ||
	    (size_t)snprintf(key, size, "%s.tls.key", locator) >= size)
		return fail(-ENAMETOOLONG, "database path %s is too long",
				locator);
	return 0;
}

/* -- claiming the database --------------------------------------------- */

#define CLAIM_NAP_NS 10000000L    /* between two looks while waiting */
#define CLAIM_UNSURE_MAX 300      /* looks at a holder that is changing */

struct sqlite_claim {
	struct store_claim base;
	char *db;
	int fd;                   /* DB.lock, flock()ed LOCK_EX; -1: none */
	int restore_fd;           /* DB.restore-lock while restoring, or -1 */
	int restoring;            /* claimed with STORE_CLAIM_RESTORE */
	int interrupted;
	char warning[PATH_MAX + 160];
};

static struct sqlite_claim *sq_claim(struct store_claim *c)
{
	return (struct sqlite_claim *)c;
}

static void sqlite_claim_release(struct store_claim *base);
static void sqlite_restore_discard(const char *db);

static void nap(void)
{
	struct timespec ts = { 0, CLAIM_NAP_NS };

	nanosleep(&ts, NULL);
}

/* Writes "PID serve|restore" over the lock file's line, at one width, so
 * that a reader never sees half of two lines. */
static void claim_write(struct sqlite_claim *c)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%-10ld %-7s\n", (long)getpid(),
			c->restoring ? "restore" : "serve");

	if (pwrite(c->fd, line, (size_t)n, 0) != n)
		return;         /* only a message would lack the pid */
}

/* The holder the lock file names: its pid (0 when unknown), and whether
 * it restores. */
static long claim_holder(int fd, int *restoring)
{
	char line[32], mode[16] = "";
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	long pid = 0;

	line[n > 0 ? n : 0] = '\0';
	if (sscanf(line, "%ld %15s", &pid, mode) < 1 || pid <= 0)
		pid = 0;
	if (restoring)
		*restoring = !strcmp(mode, "restore");
	return pid;
}

static int claim_busy(struct sqlite_claim *c)
{
	long pid = claim_holder(c->fd, NULL);

	if (pid)
		return fail(-EBUSY, "%s is already served by another runtimefs"
				" (pid %ld)", c->db, pid);
	return fail(-EBUSY, "%s is already served by another runtimefs",
			c->db);
}

/* Whether a restore holds DB.restore-lock: 1; 0 when none does; 2 when
 * none does but the lock file still names one (it is exiting, or the
 * next holder has not written its line yet). */
static int restore_going_on(struct sqlite_claim *c, const char *marker)
{
	int fd = open(marker, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int held = 0, restoring;

	if (fd >= 0) {
		held = flock(fd, LOCK_SH | LOCK_NB) != 0;
		close(fd);
	}
	if (held)
		return 1;
	claim_holder(c->fd, &restoring);
	return restoring ? 2 : 0;
}

/* Blocks until the restore holding DB.restore-lock lets it go. */
static void restore_wait(const char *marker)
{
	int fd = open(marker, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	while (flock(fd, LOCK_SH) && errno == EINTR)
		;
	close(fd);
}

/* A daemon serving the database: the lock, or the wait for a restore
 * that holds it.  A restore gives DB.lock up before DB.restore-lock, so
 * the waiter wakes to a free DB.lock, and whoever takes it first has it:
 * nothing comes between the restore and the daemon that follows it. */
static int claim_serve(struct sqlite_claim *c, const char *marker, int wait)
{
	char scratch[PATH_MAX];
	int unsure = 0, ret;

	while (flock(c->fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return fail(-errno, "cannot lock %s.lock: %s", c->db,
					strerror(errno));
		ret = restore_going_on(c, marker);
		if (ret == 0 || (ret == 2 && ++unsure > CLAIM_UNSURE_MAX))
			return claim_busy(c);
		if (ret == 1 && !wait)
			return fail(-EINPROGRESS, "a restore into %s is going"
					" on", c->db);
		if (ret == 1)
			restore_wait(marker);
		nap();
	}
	claim_write(c);
	if ((ret = beside(scratch, sizeof(scratch), c->db, ".restore")))
		return ret;
	c->interrupted = !access(marker, F_OK) || !access(scratch, F_OK);
	return 0;
}

/* A restore: DB.lock, then DB.restore-lock, which it keeps until it has
 * committed or given up, and gives up after DB.lock. */
static int claim_restore(struct sqlite_claim *c, const char *marker)
{
	if (flock(c->fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? claim_busy(c) :
			fail(-errno, "cannot lock %s.lock: %s", c->db,
					strerror(errno));
	c->restoring = 1;
	claim_write(c);         /* so that a daemon starting now waits */
	c->restore_fd = open(marker, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (c->restore_fd < 0)
		return fail(-errno, "cannot make %s: %s", marker,
				strerror(errno));
	/* a daemon looking at it holds it shared for a moment only */
	while (flock(c->restore_fd, LOCK_EX) && errno == EINTR)
		;
	return 0;
}

static int sqlite_claim(struct store_claim **out, const char *db, int flags)
{
	char lock[PATH_MAX], marker[PATH_MAX];
	struct sqlite_claim *c;
	struct stat st;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->db = strdup(db))) {
		free(c);
		return fail(-ENOMEM, "out of memory");
	}
	c->base.be = &store_sqlite_backend;
	c->fd = -1;
	c->restore_fd = -1;
	if (!strcmp(db, MEMORY)) {
		*out = &c->base;
		return 0;
	}
	if ((ret = beside(lock, sizeof(lock), db, ".lock")) ||
	    (ret = beside(marker, sizeof(marker), db, ".restore-lock")))
		goto out;
	if (!stat(db, &st) && !S_ISREG(st.st_mode)) {
		ret = fail(-EISDIR, "database %s is not a file", db);
		goto out;
	}
	c->fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->fd < 0) {
		ret = fail(-errno, "cannot make lock file %s: %s", lock,
				strerror(errno));
		goto out;
	}
	ret = flags & STORE_CLAIM_RESTORE ? claim_restore(c, marker) :
		claim_serve(c, marker, flags & STORE_CLAIM_WAIT);
	if (!ret && !stat(db, &st) && (st.st_mode & 077))
		snprintf(c->warning, sizeof(c->warning), "database %s has mode"
				" %04o: group or others may read it (and its"
				" -wal and -shm, which SQLite makes with its"
				" mode); chmod 600 %s",
				db, (unsigned)(st.st_mode & 07777), db);
out:
	if (ret) {
		sqlite_claim_release(&c->base);
		return ret;
	}
	*out = &c->base;
	return 0;
}

static void sqlite_claim_refresh(struct store_claim *base)
{
	struct sqlite_claim *c = sq_claim(base);

	if (c && c->fd >= 0)
		claim_write(c);
}

static const char *sqlite_claim_warning(const struct store_claim *base)
{
	const struct sqlite_claim *c = (const struct sqlite_claim *)base;

	return c && *c->warning ? c->warning : NULL;
}

static int sqlite_claim_interrupted(const struct store_claim *base)
{
	const struct sqlite_claim *c = (const struct sqlite_claim *)base;

	return c ? c->interrupted : 0;
}

static void sqlite_claim_restore_done(struct store_claim *base)
{
	struct sqlite_claim *c = sq_claim(base);
	char marker[PATH_MAX];

	if (!c || c->fd < 0)
		return;
	sqlite_restore_discard(c->db);
	if (!beside(marker, sizeof(marker), c->db, ".restore-lock"))
		unlink(marker);
	c->interrupted = 0;
}

static void sqlite_claim_release(struct store_claim *base)
{
	struct sqlite_claim *c = sq_claim(base);

	if (!c)
		return;
	/* DB.lock first: a daemon waiting for this restore wakes when
	 * DB.restore-lock goes, and finds DB.lock free */
	if (c->fd >= 0)
		close(c->fd);
	if (c->restore_fd >= 0)
		close(c->restore_fd);
	free(c->db);
	free(c);
}

/* -- a restore's database ---------------------------------------------- */

/* Removes `path` and the -wal and -shm SQLite keeps beside it. */
static void remove_db_files(const char *path)
{
	char side[PATH_MAX];

	unlink(path);
	if (!beside(side, sizeof(side), path, "-wal"))
		unlink(side);
	if (!beside(side, sizeof(side), path, "-shm"))
		unlink(side);
}

static int sqlite_restore_scratch(const char *db, char *path, size_t cap)
{
	int ret = beside(path, cap, db, ".restore");

	if (!ret)
		remove_db_files(path);
	return ret;
}

static void sqlite_restore_discard(const char *db)
{
	char path[PATH_MAX];

	if (!beside(path, sizeof(path), db, ".restore"))
		remove_db_files(path);
}

static int sqlite_restore_commit(const char *db)
{
	char path[PATH_MAX], side[PATH_MAX], dir[PATH_MAX], *slash;
	int ret, fd;

	if ((ret = beside(path, sizeof(path), db, ".restore")))
		return ret;
	/* a -wal or -shm left beside the empty database would be taken for
	 * the new one's */
	if (!beside(side, sizeof(side), db, "-wal"))
		unlink(side);
	if (!beside(side, sizeof(side), db, "-shm"))
		unlink(side);
	if (rename(path, db))
		return fail(-errno, "cannot rename %s to %s: %s", path, db,
				strerror(errno));
	snprintf(dir, sizeof(dir), "%s", db);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);      /* the rename is the commit */
		close(fd);
	}
	return 0;
}

/* -- the backend ---------------------------------------------------------- */

/* The embedded backend takes every locator no other backend takes. */
static int sqlite_takes(const char *locator)
{
	(void)locator;
	return 1;
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.takes = sqlite_takes,
	.default_locator = sqlite_default_locator,
	.locator_resolve = sqlite_locator_resolve,
	.locator_shown = sqlite_locator_shown,
	.default_key_path = sqlite_default_key_path,
	.default_tls_paths = sqlite_default_tls_paths,
	.claim = sqlite_claim,
	.claim_refresh = sqlite_claim_refresh,
	.claim_warning = sqlite_claim_warning,
	.claim_interrupted = sqlite_claim_interrupted,
	.claim_restore_done = sqlite_claim_restore_done,
	.claim_release = sqlite_claim_release,
	.restore_scratch = sqlite_restore_scratch,
	.restore_commit = sqlite_restore_commit,
	.restore_discard = sqlite_restore_discard,
	.open = sqlite_open,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.dump = sqlite_dump,
	.snapshot_create = sqlite_snapshot_create,
	.snapshot_list = sqlite_snapshot_list,
	.snapshot_open = sqlite_snapshot_open,
	.taken_at = sqlite_taken_at,
	.snapshot_drop = sqlite_snapshot_drop,
	.snapshot_tidy = sqlite_snapshot_tidy,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.busy_timeout = sqlite_busy_timeout,
	.is_empty = sqlite_is_empty,
	.load_begin = sqlite_load_begin,
	.watch = sqlite_watch,
	.poll = sqlite_poll,
	.announce = sqlite_announce,
	.log_append = sqlite_log_append,
	.log_bounds = sqlite_log_bounds,
	.log_read = sqlite_log_read,
	.log_prune = sqlite_log_prune,
	.watch_fd = sqlite_watch_fd,
	.watch_read = sqlite_poll,
	.env_insert = sqlite_env_insert,
	.env_get = sqlite_env_get,
	.env_delete = sqlite_env_delete,
	.env_set_critical = sqlite_env_set_critical,
	.env_list = sqlite_env_list,
	.env_children = sqlite_env_children,
	.project_insert = sqlite_project_insert,
	.project_get = sqlite_project_get,
	.project_delete = sqlite_project_delete,
	.project_list = sqlite_project_list,
	.project_children = sqlite_project_children,
	.project_set_display = sqlite_project_set_display,
	.integration_insert = sqlite_integration_insert,
	.integration_get = sqlite_integration_get,
	.integration_delete = sqlite_integration_delete,
	.integration_set_type = sqlite_integration_set_type,
	.integration_list = sqlite_integration_list,
	.integration_children = sqlite_integration_children,
	.integration_set_display = sqlite_integration_set_display,
	.runtime_insert = sqlite_runtime_insert,
	.runtime_get = sqlite_runtime_get,
	.runtime_get_uuid = sqlite_runtime_get_uuid,
	.runtime_delete = sqlite_runtime_delete,
	.runtime_set_integration = sqlite_runtime_set_integration,
	.runtime_list = sqlite_runtime_list,
	.runtime_report = sqlite_runtime_report,
	.runtime_set_hash = sqlite_runtime_set_hash,
	.runtime_set_reported = sqlite_runtime_set_reported,
	.runtime_get_reported = sqlite_runtime_get_reported,
	.runtime_revoke_key = sqlite_runtime_revoke_key,
	.runtime_heartbeat = sqlite_runtime_heartbeat,
	.runtime_heartbeats = sqlite_runtime_heartbeats,
	.runtime_set_revoked = sqlite_runtime_set_revoked,
	.runtime_set_desired = sqlite_runtime_set_desired,
	.runtime_set_latest = sqlite_runtime_set_latest,
	.secret_insert = sqlite_secret_insert,
	.secret_get = sqlite_secret_get,
	.secret_get_key = sqlite_secret_get_key,
	.secret_delete = sqlite_secret_delete,
	.secret_bind = sqlite_secret_bind,
	.secret_list = sqlite_secret_list,
	.version_insert = sqlite_version_insert,
	.version_get = sqlite_version_get,
	.version_delete = sqlite_version_delete,
	.version_list = sqlite_version_list,
	.endpoint_insert = sqlite_endpoint_insert,
	.endpoint_get = sqlite_endpoint_get,
	.endpoint_delete = sqlite_endpoint_delete,
	.endpoint_set_version = sqlite_endpoint_set_version,
	.endpoint_list = sqlite_endpoint_list,
	.endpoint_serving = sqlite_endpoint_serving,
	.command_insert = sqlite_command_insert,
	.command_list = sqlite_command_list,
	.command_set_status = sqlite_command_set_status,
	.command_result = sqlite_command_result,
	.artifact_replace = sqlite_artifact_replace,
	.artifact_list = sqlite_artifact_list,
	.artifact_get = sqlite_artifact_get,
	.artifact_kinds = sqlite_artifact_kinds,
	.sealed_sample = sqlite_sealed_sample,
	.key_check_put = sqlite_key_check_put,
	.service_account_put = sqlite_service_account_put,
	.service_account_get = sqlite_service_account_get,
};
