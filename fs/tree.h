/*
 * tree.h - the runtimefs tree as a table of node kinds.
 *
 * Every path resolves to one node kind and the names it binds (environment,
 * project, integration, runtime, attribute).  A kind is either a fixed name
 * under its parent ("environments", "critical") or a named object whose
 * `lookup` checks that the object exists.  A kind has only the handlers it
 * needs, the way a sysfs attribute has `show` and `store`:
 *
 *   show     a file's bytes and mtime; a directory's or link's mtime
 *            (a link's bytes are its target)
 *   store    apply a value written to a file (already stripped of blanks)
 *   list     the names of this kind under a directory
 *   mkdir    create an object of this kind under a directory
 *   rmdir    delete a directory of this kind
 *   unlink   delete a file or link of this kind
 *   symlink  make a link of this kind under a directory
 *   create   make a file of this kind under a directory (open(O_CREAT))
 *   write    a transaction file's handler: takes the bytes of one
 *            request and leaves the answer in `reply`, which is what
 *            reads of that open file return next; FS_MORE when the
 *            request is not complete yet (the next write() continues it)
 *
 * Handlers return 0 or -errno; on failure the reason is in fs_errmsg(),
 * which is the one message of the request that every layer writes
 * (store/errmsg.h): model_errmsg() is the same.  A missing handler means the
 * operation is not allowed there: EROFS inside a read-only scope, EPERM
 * elsewhere.
 */
#ifndef FS_TREE_H
#define FS_TREE_H

#include <stdint.h>
#include <sys/types.h>

#include "../model/model.h"
#include "buf.h"

enum fs_kind {
	FS_ROOT,
	FS_README,
	FS_LAST_ERROR,
	FS_ENVS,
	FS_ENV,
	FS_ENV_CRITICAL,
	FS_ENV_RUNTIMES,
	FS_RUNTIME,
	FS_RUNTIME_ATTR,
	FS_PROJECTS,
	FS_PROJECT,
	FS_PROJECT_RUNTIMES,
	FS_PROJECT_RUNTIMES_ENV,
	FS_PROJECT_RUNTIME_LINK,
	FS_INTEGRATIONS,
	FS_INTEGRATION,
	FS_INTEGRATION_TYPE,
	FS_INTEGRATION_RUNTIMES,
	FS_INTEGRATION_RUNTIMES_ENV,
	FS_INTEGRATION_RUNTIME_LINK,
	FS_SNAPSHOTS,
	FS_SNAPSHOT,
	FS_RUNTIME_SPEC,
	FS_RUNTIME_CTL,
	FS_RUNTIME_SERVICE_ACCOUNT,
	FS_VERSIONS,
	FS_VERSION,
	FS_ENDPOINTS,
	FS_ENDPOINT,
	FS_ENDPOINT_VERSION,
	FS_ENDPOINT_URL,
	FS_ENDPOINT_STATUS,
	FS_ENDPOINT_ID,
	FS_ENDPOINT_CREATED,
	FS_ENDPOINT_UPDATED,
	FS_HEARTBEAT,
	FS_ENV_SECRETS,
	FS_SECRET,
	FS_INTEGRATION_SECRETS,
	FS_INTEGRATION_SECRETS_ENV,
	FS_INTEGRATION_SECRET,
	FS_ARTIFACTS,
	FS_ARTIFACT_KIND,
	FS_ARTIFACT,
	FS_ARTIFACT_JSON,
	FS_ARTIFACT_CTL,
	FS_PROJECT_DISPLAY,
	FS_INTEGRATION_DISPLAY,
	FS_EVENTS,
	FS_AUDIT,
	FS_KIND_COUNT
};

/* The logs the tree shows (fs_node's stream). */
enum {
	FS_STREAM_NONE,
	FS_STREAM_EVENTS,     /* grows; a read at the end waits */
	FS_STREAM_AUDIT,      /* the lines kept, read as a plain file */
};

/* Where a path leads. */
struct fs_path {
	const struct fs_node *node;
	struct model *m;               /* the live model, or a snapshot's */
	struct model *live;            /* the live model */
	int readonly;                  /* a read-only scope: changes are EROFS */
	char env[MODEL_NAME_MAX];
	char project[MODEL_NAME_MAX];
	char integration[MODEL_NAME_MAX];
	char runtime[MODEL_NAME_MAX];
	int64_t runtime_id;            /* the row of the runtime it resolved */
	const struct fs_attr *attr;    /* FS_RUNTIME_ATTR */
	char snapshot[MODEL_NAME_MAX]; /* FS_SNAPSHOT and below */
	int64_t version;               /* FS_VERSION */
	char endpoint[MODEL_NAME_MAX]; /* FS_ENDPOINT and its files */
	char secret[MODEL_NAME_MAX];   /* FS_SECRET, FS_INTEGRATION_SECRET */
	char kind[MODEL_KIND_MAX];     /* FS_ARTIFACT_KIND and below */
	char artifact[MODEL_ARTIFACT_NAME_MAX]; /* FS_ARTIFACT and below */
};

/* What show() gives: a file's bytes (or a link's target) and its mtime;
 * its ctime when that is not the mtime (a heartbeat moves a runtime's
 * mtime, not its ctime: see fill_stat() in ops.c), and the moment after
 * which time alone changes the value (a status turning OFFLINE), 0 if
 * none. */
struct fs_value {
	struct buf buf;
	int64_t size;        /* a stream's length (fs_node's stream) */
	int64_t mtime_ns;
	int64_t ctime_ns;
	int64_t until_ns;
};

/* How a node takes part in a backup, a copy of the tree made with tar,
 * cp -a or rsync -a, which a restore mount (stage.h) reads back with each
 * node's `restore`, the inverse of its `show` (backup.h). */
enum fs_backup {
	FS_BACKUP_EXACT = 0,  /* restored from its bytes, shown back the same */
	FS_BACKUP_PRESENCE,   /* its bytes depend on the moment or on options:
				 read back for its presence only */
	FS_BACKUP_SKIP,       /* left out: a restore ignores it and below */
};

/* Reads what a backup holds at `p` (a file's bytes; NULL for a directory
 * or, for a link, its target) into the backup being read (backup.h): 0 or
 * -errno with the reason in fs_errmsg(). */
struct fs_restore;
typedef int (*fs_restore_fn)(struct fs_restore *r, const struct fs_path *p,
		const char *data, size_t len);

/* A runtime attribute file: its name, mode and how to show it; `present`
 * (NULL: always) says whether this runtime has it, `unlink` (NULL: not
 * allowed) what rm does. */
struct fs_attr {
	const char *name;
	mode_t mode;
	int (*show)(const struct model_runtime *rt, struct fs_value *v);
	int (*present)(const struct model_runtime *rt);
	int (*unlink)(const struct fs_path *p);
	/* in place of show, for a file that needs more than the runtime */
	int (*show_at)(const struct fs_path *p, struct fs_value *v);
	/* the inverse of show, for a backup; and the node's other words
	 * on backups (struct fs_node) */
	fs_restore_fn restore;
	enum fs_backup backup;
	int backup_required;
	unsigned depends;          /* what its value shows (as fs_node's) */
};

/* What of a runtime its ctime moves with (changed_ns() in org.c), and
 * with its heartbeats: what its directory, last_heartbeat, runtime.json
 * and ctl show. */
#define FS_RT_CHANGED (MODEL_RT_STATUS | MODEL_RT_INFO | MODEL_RT_ASSIGNED | \
		MODEL_RT_SECRET | MODEL_RT_VERSIONS)
#define FS_RT_ANY (MODEL_RT_HEARD | FS_RT_CHANGED)

/* What a runtime's file shows for what it never reported (its version,
 * platform, os); a backup's file saying it restores as nothing. */
#define FS_NOT_REPORTED "Not reported"

typedef int (*fs_fill_fn)(void *ctx, const char *name);

#define FS_MORE 1     /* a transaction file's request goes on */

struct fs_node {
	enum fs_kind kind;
	enum fs_kind parent;
	const char *name;          /* fixed name, or NULL for a named object */
	mode_t mode;               /* S_IFDIR | 0755, S_IFREG | 0444, ... */
	int direct_io;             /* content depends on the caller */
	int readonly;              /* starts a read-only scope (EROFS) */
	int frozen;                /* everything below is read-only */
	int root_alias;            /* its children are the root's */
	int live_only;             /* not in a snapshot's copy of the root */
	int unlisted;              /* there by name only, never listed */
	int stream;                /* a log (events.h), FS_STREAM_*: its
				      size is show's `size` */
	int document;              /* a JSON document: stored once complete */
	/* Below a runtime: what of it (MODEL_RT_*, model.h) this node's
	 * value and attributes show, and what changes the names it holds;
	 * when that changes the kernel forgets them, and nothing else
	 * (cache.c).  A runtime attribute says it in its fs_attr. */
	unsigned depends;
	unsigned lists;
	int (*lookup)(struct fs_path *p, const char *name);
	int (*list)(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
	int (*show)(const struct fs_path *p, struct fs_value *v);
	int (*store)(const struct fs_path *p, const char *value);
	int (*mkdir)(const struct fs_path *dir, const char *name);
	int (*rmdir)(const struct fs_path *p);
	int (*unlink)(const struct fs_path *p);
	int (*symlink)(const struct fs_path *dir, const char *name,
			const char *target);
	int (*create)(const struct fs_path *dir, const char *name);
	int (*write)(const struct fs_path *p, const char *data, size_t len,
			struct buf *reply);
	/* a fixed name that not every directory of its parent's kind
	 * holds: whether the one of `dir` does (NULL: always) */
	int (*present)(const struct fs_path *dir);
	/* backups: how it takes part, whether a backup of its directory
	 * must hold it, and how a restore reads it */
	enum fs_backup backup;
	int backup_required;
	fs_restore_fn restore;
};

/* The table, indexed by kind. */
extern const struct fs_node fs_nodes[FS_KIND_COUNT];

/* The runtime `p` names or is below, as the model has it now: -ESTALE
 * when a runtime of that name was made again since `p` resolved it (the
 * kernel then looks the name up anew). */
int fs_runtime(const struct fs_path *p, struct model_runtime *rt);

/* The kind an inode of a scratch file has (scratch.h): no node of the
 * tree. */
#define FS_SCRATCH FS_KIND_COUNT
/* The kind an inode of a restore mount has (stage.h): an entry staged. */
#define FS_STAGED (FS_KIND_COUNT + 1)

/* Steps from the directory `p` to its child `name`: one lookup of the
 * model at the most (none for a fixed name).  -ENOENT when nothing is
 * there, -ENOTDIR, or the model's error when it could not tell. */
int fs_step(struct fs_path *p, const char *name);

struct inode_link;
/* What the way `links[0..n)` from the root leads to (inode.h), as it was
 * resolved when the kernel looked it up: no lookup of the model but for
 * a snapshot's (its model is held until the request ends).  The names a
 * node kind binds (environment, runtime, ...) are taken from the links;
 * whether the object is still there is told when it is read. */
int fs_path_of(struct model *live, const struct inode_link *links, int n,
		struct fs_path *out);
/* One step of that: `p` goes to the child `l` names. */
int fs_path_add(struct fs_path *p, const struct inode_link *l);

/* The value of `p` (its node's show), in a buffer capped at `cap` bytes
 * (buf.h); times 0 where show sets none.  The caller releases v->buf. */
int fs_show(const struct fs_path *p, struct fs_value *v, size_t cap);

/* Resolves an absolute path of the mount.  -ENOENT when nothing is there. */
int fs_resolve(struct model *m, const char *path, struct fs_path *out);

/* Splits "/a/b/c" into the resolved parent "/a/b" and the last name "c";
 * `name` must hold NAME_MAX + 1 bytes.  -ENAMETOOLONG, -ENOENT. */
int fs_resolve_parent(struct model *m, const char *path, struct fs_path *dir,
		char *name);

/* The named-object kind that lives under `dir`, or NULL. */
const struct fs_node *fs_named_child(const struct fs_path *dir);

/* Lists a directory: fixed children first, then named ones. */
int fs_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx);
/* The same, giving each name's file type (S_IFDIR, S_IFREG, S_IFLNK). */
typedef int (*fs_fill_typed_fn)(void *ctx, const char *name, mode_t type);
int fs_list_typed(const struct fs_path *dir, fs_fill_typed_fn fill,
		void *ctx);

/* The mode of what `p` names. */
mode_t fs_mode(const struct fs_path *p);

/* Who may do what (access.c): the tree belongs to `owner` (the daemon's
 * user) and `group`; with -o admin_gid= the owner's rights go to that
 * group too; with -o heartbeat_gid= that group may write heartbeat.
 * (gid_t)-1: not given. */
struct fs_access {
	gid_t admin_gid;
	gid_t heartbeat_gid;
	uid_t owner;
	gid_t group;
};
extern struct fs_access fs_access;
/* The mode and group that `p` shows, from its kind's mode and `gid`, the
 * group it has without -o admin_gid (p may be NULL: a scratch file). */
mode_t fs_access_mode(const struct fs_path *p, mode_t mode);
gid_t fs_access_gid(const struct fs_path *p, gid_t gid);
/* Whether the caller of the current request may `mask` (R_OK, W_OK,
 * X_OK) a file of `mode` owned by `uid` and `gid`, as the kernel's
 * generic_permission() decides: 0 or -EACCES.  It holds with or without
 * -o default_permissions. */
int fs_access_allows(mode_t mode, uid_t uid, gid_t gid, int mask);
/* The same for what `p` names, with a message for .last_error. */
int fs_access_check(const struct fs_path *p, int mask);
/* Whether the caller owns a file of `uid` (root does): chmod, chown and
 * setting times; 0 or -EPERM with a message. */
int fs_access_owns(uid_t uid);

/* Sets the request's message (store/errmsg.h) and returns err; reads and
 * clears it. */
int fs_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *fs_errmsg(void);
void fs_errclear(void);

/* Node handlers, by part of the tree (fs/org.c, fs/project.c). */
extern const struct fs_attr fs_runtime_attrs[];
extern int64_t fs_started_ns;

/* The base of endpoint URLs (-o endpoint_base=URL), without a final '/'. */
#define FS_ENDPOINT_BASE_DEFAULT "https://runtimes.example"
extern const char *fs_endpoint_base;

/* The URL runtimes reach ICP's runtime API at, for the secrets' snippets
 * (`serverUrl` / `icp_url`): -o icp_url=URL, else what -o icp_listen
 * advertises (main.c); NULL without either: no URL line. */
extern const char *fs_icp_url;

#endif
