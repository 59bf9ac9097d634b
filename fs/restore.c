/*
 * restore.c - the mount of `-o restore`: an empty tree that takes a backup
 * from tar, cp -a or rsync -a and becomes the database at unmount.
 *
 * What the tool writes is staged in memory as plain directories, files
 * and links, in whatever order it writes them.  model_restore_path()
 * refuses a name that cannot be part of a tree, and each file is checked
 * on its own when it is closed (model_restore_check()), so the tool sees
 * a bad value.  Setting the times of the mount's root, which tar, cp -a
 * and rsync -a do last, checks the whole restore as it is staged at that
 * moment: it is built into a scratch database (DB.restore) and read back
 * through the tree, file by file; a restore that would be refused fails
 * there.  That check is advice: edits may follow it.  At unmount what is
 * staged then is built and checked again, on its own, and, if it goes
 * through, renamed over the empty database; if not, the database stays
 * empty, the reason is logged and the daemon exits 1.
 *
 * MOUNT/.last_error answers as in the ordinary mount; a backup of the
 * live tree carries one, and writing it over is accepted and dropped.
 */
#include "fs.h"
#include "lasterr.h"
#include "request.h"
#include "restore.h"
#include "tree.h"
#include "../store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 4096
#define FILE_MAX (256 * 1024)              /* one staged file at the most */
#define ALLOC_OVERHEAD 16                  /* malloc's header and rounding */

int fs_restore_failed;
size_t fs_restore_max = FS_RESTORE_MAX_DEFAULT;

struct entry {
	char *path;               /* absolute: "/environments/prod" */
	char type;                /* 'd', 'f' or 'l' */
	mode_t mode;
	struct buf data;          /* a file's bytes, a link's target */
	int64_t mtime_ns;
	struct entry *next;       /* in its bucket */
};

static struct entry *table[BUCKETS];
static long nentries;
/* The memory the staged tree holds, counted as allocated: each entry, its
 * path and its data's allocation (not its length), with malloc's
 * overhead; every way of growing it (create, mkdir, symlink, write,
 * truncate, rename) counts against fs_restore_max. */
static size_t held;
static int64_t root_mtime;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct fs *fs_ctx(void)
{
	return fuse_get_context()->private_data;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Records a refusal for .last_error and the log; returns err. */
static int refused(const char *op, const char *path, int err)
{
	const char *why = *fs_errmsg() ? fs_errmsg() : model_errmsg();

	if (err < 0)
		lasterr_record(fuse_get_context()->uid, op, path, err, why);
	return err;
}

/* -- who may change it -------------------------------------------------- */

#define GROUPS_INLINE 64

/* Whether the caller is in group `gid`, by its primary group or another. */
static int caller_in_group(gid_t gid)
{
	gid_t inline_groups[GROUPS_INLINE], *groups = inline_groups;
	int cap = GROUPS_INLINE, n, in = 0;

	if (gid == (gid_t)-1)
		return 0;
	if (fuse_get_context()->gid == gid)
		return 1;
	n = fuse_getgroups(cap, groups);
	if (n > cap) {
		cap = n;
		groups = calloc((size_t)cap, sizeof(*groups));
		n = groups ? fuse_getgroups(cap, groups) : 0;
	}
	for (int i = 0; i < n && i < cap; i++)
		in |= groups[i] == gid;
	if (groups != inline_groups)
		free(groups);
	return in;
}

/* The roles of the live tree hold here too, with or without
 * default_permissions: root, the daemon's user and the -o admin_gid
 * group change what is staged and read what only they may read (the
 * 0600 secrets, secret.toml and service_account); anyone else reads the
 * rest. */
static int may_change(void)
{
	uid_t uid = fuse_get_context()->uid;

	return uid == 0 || uid == fs_ctx()->uid ||
		caller_in_group(fs_access.admin_gid);
}

/* Refuses `op` to a caller who may not change the restore: `err`, with
 * the reason for .last_error and the log. */
static int denied(const char *op, const char *path, int err)
{
	fs_errclear();
	model_errclear();
	if (fs_access.admin_gid != (gid_t)-1)
		fs_fail(err, "only root, uid %u (the daemon's user) and group %u"
				" may change a restore", (unsigned)fs_ctx()->uid,
				(unsigned)fs_access.admin_gid);
	else
		fs_fail(err, "only root and uid %u (the daemon's user) may"
				" change a restore", (unsigned)fs_ctx()->uid);
	return refused(op, path, err);
}

/* What an allocation of `n` bytes holds; nothing for none. */
static size_t alloc_cost(size_t n)
{
	return n ? n + ALLOC_OVERHEAD : 0;
}

/* What an entry with a path of `pathlen` bytes holds, its data aside. */
static size_t entry_cost(size_t pathlen)
{
	return alloc_cost(sizeof(struct entry)) + alloc_cost(pathlen + 1);
}

/* Room for `more` bytes more in the staged tree: 0, or -ENOSPC. */
static int reserve(size_t more)
{
	if (more <= fs_restore_max && held <= fs_restore_max - more)
		return 0;
	return fs_fail(-ENOSPC, "a restore stages at most %zu MiB in memory"
			" (entries, names and data as allocated; -o"
			" restore_max=MIB)", fs_restore_max >> 20);
}

static unsigned bucket(const char *path)
{
	unsigned h = 2166136261u;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h % BUCKETS;
}

static struct entry *find(const char *path)
{
	for (struct entry *e = table[bucket(path)]; e; e = e->next)
		if (!strcmp(e->path, path))
			return e;
	return NULL;
}

/* Whether the parent of `path` is a directory here. */
static int parent_ok(const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct entry *e;

	if (!slash || slash == path)
		return 0;
	if ((size_t)(slash - path) >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	e = find(parent);
	return !e ? -ENOENT : e->type != 'd' ? -ENOTDIR : 0;
}

/* Stages a new entry at `path`, which the layout of a tree must allow. */
static int add(const char *path, char type, mode_t mode, struct entry **out)
{
	struct entry *e;
	int ret;

	fs_errclear();
	model_errclear();
	if (!strcmp(path, "/") || find(path))
		return -EEXIST;
	if ((ret = parent_ok(path)))
		return ret;
	if ((ret = model_restore_path(path + 1, type)) < 0)
		return ret;
	if ((ret = reserve(entry_cost(strlen(path)))))
		return ret;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path))) {
		free(e);
		return -ENOMEM;
	}
	e->type = type;
	e->mode = mode & 07777;
	e->mtime_ns = now_ns();
	buf_init(&e->data, FILE_MAX);
	e->next = table[bucket(path)];
	table[bucket(path)] = e;
	nentries++;
	held += entry_cost(strlen(path));
	if (out)
		*out = e;
	return 0;
}

/* Takes `e` out of its bucket. */
static void unhash(struct entry *e)
{
	struct entry **pp = &table[bucket(e->path)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
}

static void drop(struct entry *e)
{
	unhash(e);
	nentries--;
	held -= entry_cost(strlen(e->path)) + alloc_cost(e->data.alloc);
	buf_release(&e->data);
	free(e->path);
	free(e);
}

/* Writes `len` bytes at `off` into a staged file or link, counting what
 * its data grows by. */
static int put(struct entry *e, size_t off, const void *data, size_t len)
{
	size_t before = alloc_cost(e->data.alloc), after;
	int ret;

	if (off > FILE_MAX || len > FILE_MAX - off)
		return fs_fail(-EFBIG, "a file of a backup is at most %d bytes",
				FILE_MAX);
	after = alloc_cost(buf_alloc_for(&e->data, off + len));
	if (after > before && (ret = reserve(after - before)))
		return ret;
	ret = buf_put(&e->data, off, data, len);
	held = held - before + alloc_cost(e->data.alloc);
	return ret;
}

/* Cuts a staged file to `len` bytes, giving back what it no longer needs. */
static int cut(struct entry *e, size_t len)
{
	struct buf b;
	int ret = 0;

	buf_init(&b, FILE_MAX);
	if (len && (ret = buf_add(&b, e->data.data, len)))
		return ret;
	held = held - alloc_cost(e->data.alloc) + alloc_cost(b.alloc);
	buf_release(&e->data);
	e->data = b;
	return 0;
}

/* Whether the directory `path` has an entry in it. */
static int has_children(const char *path)
{
	size_t n = strlen(path);

	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next)
			if (!strncmp(e->path, path, n) && e->path[n] == '/')
				return 1;
	return 0;
}

/* -- reading the build back -------------------------------------------- */

/* Files whose bytes depend on the moment or on options, not on the
 * backup: compared for presence only. */
static int live_file(const char *path)
{
	static const char *const live[] = { "/status", "/last_heartbeat",
		"/runtime.json", "/url", NULL };
	size_t n = strlen(path);

	for (const char *const *l = live; *l; l++)
		if (n > strlen(*l) && !strcmp(path + n - strlen(*l), *l))
			return 1;
	return 0;
}

static int show(const struct fs_path *p, struct fs_value *v)
{
	buf_init(&v->buf, 16 * FILE_MAX);
	v->mtime_ns = 0;
	return p->node->show ? p->node->show(p, v) : 0;
}

/* Each staged entry must be in the built tree, with the same bytes. */
static int verify_staged(struct model *m)
{
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next) {
			struct fs_path p;
			struct fs_value v;
			mode_t mode;
			int ret;

			if (model_restore_path(e->path + 1, e->type))
				continue;
			if (fs_resolve(m, e->path, &p))
				return fs_fail(-EINVAL, "%s: the restored tree"
						" would not have it (%s)",
						e->path + 1, model_errmsg());
			mode = fs_mode(&p);
			if ((e->type == 'd') != !!S_ISDIR(mode) ||
			    (e->type == 'l') != !!S_ISLNK(mode))
				return fs_fail(-EINVAL, "%s: of another type"
						" in the restored tree",
						e->path + 1);
			if (e->type == 'd' || live_file(e->path))
				continue;
			ret = show(&p, &v);
			if (!ret && (v.buf.len != e->data.len || (v.buf.len &&
				memcmp(v.buf.data, e->data.data, v.buf.len))))
				ret = fs_fail(-EINVAL, "%s: the restored tree"
						" would show other bytes (%zu"
						" instead of %zu)",
						e->path + 1, v.buf.len,
						e->data.len);
			buf_release(&v.buf);
			if (ret)
				return ret;
		}
	return 0;
}

/* The names of a directory of the built tree, gathered first: list
 * callbacks run under the model's lock. */
struct walk {
	struct buf names;         /* NUL-separated */
};

static int walk_fill(void *ctx, const char *name)
{
	struct walk *w = ctx;

	return buf_add(&w->names, name, strlen(name) + 1);
}

/* Each entry of the built tree must have been staged. */
static int walk_dir(struct model *m, const char *dir)
{
	struct walk w;
	struct fs_path p;
	int ret = fs_resolve(m, dir, &p);

	buf_init(&w.names, 64 * FILE_MAX);
	if (!ret)
		ret = fs_list(&p, walk_fill, &w);
	for (size_t off = 0; !ret && off < w.names.len;
			off += strlen(w.names.data + off) + 1) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, w.names.data + off);
		if (!find(path) && !live_file(path))
			ret = fs_fail(-EINVAL, "%s: the restored tree would"
					" have it, the backup does not",
					path + 1);
		else if (!fs_resolve(m, path, &p) && S_ISDIR(fs_mode(&p)))
			ret = walk_dir(m, path);
	}
	buf_release(&w.names);
	return ret;
}

/* Builds what is staged into a scratch database beside `db` and reads it
 * back; with `keep`, the build then takes the database's place. */
static int build(struct fs *fs, int keep)
{
	struct model_config cfg = fs->cfg;
	struct model_restore_entry *ents;
	struct model *m = NULL;
	char tmp[PATH_MAX], key[PATH_MAX];
	long n = 0;
	int ret;

	fs_errclear();
	model_errclear();
	snprintf(key, sizeof(key), "%s.key", fs->db);
	if ((ret = store_restore_scratch(fs->db, tmp, sizeof(tmp))))
		return fs_fail(ret, "restore: %s", store_errmsg());
	ents = calloc((size_t)nentries + 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next)
			ents[n++] = (struct model_restore_entry){ e->path + 1,
				e->type, e->data.data ? e->data.data : "",
				e->data.len, e->mtime_ns };
	cfg.key_path = key;
	cfg.flush_interval_ns = -1;
	ret = model_open(&m, tmp, &cfg);
	if (!ret)
		ret = model_restore_apply(m, ents, (size_t)n);
	if (!ret)
		ret = verify_staged(m);
	if (!ret)
		ret = walk_dir(m, "/environments");
	if (!ret)
		ret = walk_dir(m, "/projects");
	model_close(m);
	free(ents);
	if (!ret && keep && (ret = store_restore_commit(fs->db)))
		ret = fs_fail(ret, "restore: %s", store_errmsg());
	store_restore_discard(fs->db);
	return ret;
}

/* -- the operations ---------------------------------------------------- */

/* tar unlinks what exists before it creates it: MOUNT/.last_error is
 * then gone until the create, which writes nowhere. */
static int last_error_gone;

static int is_last_error(const char *path)
{
	return !strcmp(path, "/.last_error");
}

static void entry_stat(const struct entry *e, struct stat *st)
{
	struct fs *fs = fs_ctx();
	int64_t t = e ? e->mtime_ns : root_mtime;

	memset(st, 0, sizeof(*st));
	st->st_mode = !e || e->type == 'd' ? S_IFDIR | (e ? e->mode : 0755) :
		e->type == 'l' ? S_IFLNK | 0777 : S_IFREG | e->mode;
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	/* the admin group has the owner's rights, as in the live tree, so
	 * that default_permissions lets it do what may_change() does */
	if (fs_access.admin_gid != (gid_t)-1 && !S_ISLNK(st->st_mode)) {
		st->st_gid = fs_access.admin_gid;
		st->st_mode |= (st->st_mode & 0700) >> 3;
	}
	st->st_size = e && e->type != 'd' ? (off_t)e->data.len : 0;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = t / 1000000000LL;
	st->st_mtim.tv_nsec = t % 1000000000LL;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static int op_getattr(const char *path, struct stat *st,
		struct fuse_file_info *fi)
{
	struct entry *e;
	struct buf b;
	int ret = 0;

	(void)fi;
	if (is_last_error(path) && last_error_gone)
		return -ENOENT;
	if (is_last_error(path)) {
		buf_init(&b, 4096);
		if (lasterr_show(fuse_get_context()->uid, &b))
			b.len = 0;
		entry_stat(NULL, st);
		st->st_mode = S_IFREG | 0444;
		st->st_size = (off_t)b.len;
		buf_release(&b);
		return 0;
	}
	pthread_mutex_lock(&lock);
	e = find(path);
	if (e || !strcmp(path, "/"))
		entry_stat(e, st);
	else
		ret = -ENOENT;
	pthread_mutex_unlock(&lock);
	return ret;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		off_t off, struct fuse_file_info *fi,
		enum fuse_readdir_flags flags)
{
	size_t n = strcmp(path, "/") ? strlen(path) : 0;

	(void)off;
	(void)fi;
	(void)flags;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	if (!n && !last_error_gone)
		filler(buf, ".last_error", NULL, 0, 0);
	pthread_mutex_lock(&lock);
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next)
			if (!strncmp(e->path, path, n) && e->path[n] == '/' &&
			    !strchr(e->path + n + 1, '/'))
				filler(buf, e->path + n + 1, NULL, 0, 0);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	int ret;

	if (!may_change())
		return denied("mkdir", path, -EACCES);
	pthread_mutex_lock(&lock);
	ret = add(path, 'd', mode, NULL);
	pthread_mutex_unlock(&lock);
	return refused("mkdir", path, ret);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int ret;

	if (!may_change())
		return denied("create", path, -EACCES);
	if (is_last_error(path)) {
		last_error_gone = 0;
		return 0;
	}
	pthread_mutex_lock(&lock);
	ret = add(path, 'f', mode, NULL);
	pthread_mutex_unlock(&lock);
	fi->direct_io = 1;
	return refused("create", path, ret);
}

static int op_symlink(const char *target, const char *path)
{
	struct entry *e = NULL;
	int ret;

	if (!may_change())
		return denied("symlink", path, -EACCES);
	pthread_mutex_lock(&lock);
	ret = add(path, 'l', 0777, &e);
	if (!ret && (ret = put(e, 0, target, strlen(target))))
		drop(e);
	pthread_mutex_unlock(&lock);
	return refused("symlink", path, ret);
}

static int op_readlink(const char *path, char *out, size_t size)
{
	struct entry *e;
	int ret = 0;

	pthread_mutex_lock(&lock);
	e = find(path);
	if (!e || e->type != 'l')
		ret = e ? -EINVAL : -ENOENT;
	else if (size > 0)
		snprintf(out, size, "%.*s", (int)e->data.len, e->data.data);
	pthread_mutex_unlock(&lock);
	return ret;
}

/* The file or link at `path`: -ENOENT, -EISDIR for a directory. */
static int find_file(const char *path, struct entry **out)
{
	*out = find(path);
	return !*out ? -ENOENT : (*out)->type == 'd' ? -EISDIR : 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct entry *e;
	int ret, writing = (fi->flags & O_ACCMODE) != O_RDONLY;

	if (is_last_error(path))
		return writing ? -EACCES : 0;
	if (writing && !may_change())
		return denied("open", path, -EACCES);
	fs_errclear();
	model_errclear();
	pthread_mutex_lock(&lock);
	ret = find_file(path, &e);
	/* key material stays the admins' whatever mode the tool gave it */
	if (!ret && (!(e->mode & 0004) || model_restore_secret(path + 1)) &&
	    !may_change())
		ret = fs_fail(-EACCES, "%s is read by root, the daemon's user"
				" and the admin group only", path + 1);
	pthread_mutex_unlock(&lock);
	if (ret == -EACCES)
		return refused("open", path, ret);
	fi->direct_io = 1;
	return ret;
}

static int op_read(const char *path, char *out, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct entry *e;
	struct buf b;
	int n = 0;

	(void)fi;
	buf_init(&b, FILE_MAX);
	pthread_mutex_lock(&lock);
	if (is_last_error(path))
		n = lasterr_show(fuse_get_context()->uid, &b);
	else if ((e = find(path)))
		n = buf_add(&b, e->data.data, e->data.len);
	pthread_mutex_unlock(&lock);
	if (!n && off >= 0 && (size_t)off < b.len) {
		n = (int)(b.len - (size_t)off < size ? b.len - (size_t)off :
				size);
		memcpy(out, b.data + off, (size_t)n);
	}
	buf_release(&b);
	return n < 0 ? n : n;
}

static int op_write(const char *path, const char *data, size_t size,
		off_t off, struct fuse_file_info *fi)
{
	struct entry *e;
	int ret;

	(void)fi;
	if (!may_change())
		return denied("write", path, -EACCES);
	if (is_last_error(path))
		return (int)size;
	fs_errclear();
	pthread_mutex_lock(&lock);
	e = find(path);
	if (!e || e->type != 'f' || off < 0)
		ret = e ? -EINVAL : -ENOENT;
	else if (!(ret = put(e, (size_t)off, data, size)))
		e->mtime_ns = now_ns();
	pthread_mutex_unlock(&lock);
	return ret ? refused("write", path, ret) : (int)size;
}

/* Each file is checked on its own when it is closed. */
static int op_flush(const char *path, struct fuse_file_info *fi)
{
	struct entry *e;
	int ret = 0;

	(void)fi;
	fs_errclear();
	model_errclear();
	pthread_mutex_lock(&lock);
	e = find(path);
	if (e && e->type == 'f')
		ret = model_restore_check(path + 1, e->data.data ?
				e->data.data : "", e->data.len);
	pthread_mutex_unlock(&lock);
	return refused("close", path, ret);
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static int op_truncate(const char *path, off_t size,
		struct fuse_file_info *fi)
{
	struct entry *e;
	int ret = 0;

	(void)fi;
	if (!may_change())
		return denied("truncate", path, -EACCES);
	if (is_last_error(path))
		return 0;
	fs_errclear();
	pthread_mutex_lock(&lock);
	e = find(path);
	if (!e || e->type != 'f')
		ret = e ? -EINVAL : -ENOENT;
	else if (size < 0)
		ret = -EINVAL;
	else if ((size_t)size < e->data.len)
		ret = cut(e, (size_t)size);
	else if ((size_t)size > e->data.len)
		ret = put(e, (size_t)size, "", 0);
	pthread_mutex_unlock(&lock);
	return refused("truncate", path, ret);
}

static int op_unlink(const char *path)
{
	struct entry *e;
	int ret = 0;

	if (!may_change())
		return denied("unlink", path, -EACCES);
	if (is_last_error(path) && !last_error_gone) {
		last_error_gone = 1;
		return 0;
	}
	pthread_mutex_lock(&lock);
	if (!(ret = find_file(path, &e)))
		drop(e);
	pthread_mutex_unlock(&lock);
	return ret;
}

static int op_rmdir(const char *path)
{
	struct entry *e;
	int ret = 0;

	if (!may_change())
		return denied("rmdir", path, -EACCES);
	pthread_mutex_lock(&lock);
	e = find(path);
	if (!e)
		ret = -ENOENT;
	else if (e->type != 'd')
		ret = -ENOTDIR;
	else if (has_children(path))
		ret = -ENOTEMPTY;
	else
		drop(e);
	pthread_mutex_unlock(&lock);
	return ret;
}

/* rsync writes .NAME.XXXXXX and renames it over NAME: the file is
 * checked under its new name, and refused as a close would be. */
static int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct entry *e, *old;
	size_t grow, freed;
	char *copy = NULL;
	int ret;

	if (!may_change())
		return denied("rename", from, -EACCES);
	fs_errclear();
	model_errclear();
	pthread_mutex_lock(&lock);
	e = find(from);
	old = find(to);
	if (!e)
		ret = -ENOENT;
	else if (e == old)
		ret = 0;
	else if (e->type == 'd' || (old && old->type == 'd'))
		ret = fs_fail(-EPERM, "directories are not renamed in a"
				" restore");
	else if (old && flags)
		ret = -EEXIST;
	else if ((ret = parent_ok(to)))
		;
	else if ((ret = model_restore_path(to + 1, e->type)) >= 0 &&
		 (e->type != 'f' || !(ret = model_restore_check(to + 1,
			e->data.data ? e->data.data : "", e->data.len)))) {
		/* the entry moves: only its path's length changes what the
		 * tree holds, less what it replaces */
		grow = strlen(to) > strlen(from) ? strlen(to) - strlen(from) : 0;
		freed = old ? entry_cost(strlen(to)) +
			alloc_cost(old->data.alloc) : 0;
		ret = grow > freed ? reserve(grow - freed) : 0;
		if (!ret && !(copy = strdup(to)))
			ret = -ENOMEM;
		if (!ret) {
			if (old)
				drop(old);
			unhash(e);
			held = held - entry_cost(strlen(e->path)) +
				entry_cost(strlen(copy));
			free(e->path);
			e->path = copy;
			e->next = table[bucket(copy)];
			table[bucket(copy)] = e;
		}
	}
	pthread_mutex_unlock(&lock);
	return refused("rename", from, ret < 0 ? ret : 0);
}

/* Setting the root's times, what the tools do last, checks the whole
 * restore. */
static int op_utimens(const char *path, const struct timespec tv[2],
		struct fuse_file_info *fi)
{
	struct entry *e;
	int64_t t = now_ns();
	int ret = 0;

	(void)fi;
	if (!may_change())
		return denied("utimens", path, -EACCES);
	if (is_last_error(path))
		return 0;
	/* the model holds times as nanoseconds in an int64_t, as a restored
	 * time's text (model/restore.c) */
	if (tv && tv[1].tv_nsec != UTIME_NOW && tv[1].tv_nsec != UTIME_OMIT &&
	    (tv[1].tv_sec < 1 || tv[1].tv_sec > INT64_MAX / 1000000000LL))
		return refused("utimens", path, fs_fail(-EINVAL, "a time is"
				" from 1970-01-01T00:00:01Z to"
				" 2262-04-11T23:47:16Z"));
	if (tv && tv[1].tv_nsec != UTIME_NOW && tv[1].tv_nsec != UTIME_OMIT)
		t = (int64_t)tv[1].tv_sec * 1000000000LL + tv[1].tv_nsec;
	pthread_mutex_lock(&lock);
	e = find(path);
	if (!strcmp(path, "/")) {
		ret = build(fs_ctx(), 0);
		if (!ret)
			root_mtime = t;
	} else if (!e) {
		ret = -ENOENT;
	} else if (!tv || tv[1].tv_nsec != UTIME_OMIT) {
		e->mtime_ns = t;
	}
	pthread_mutex_unlock(&lock);
	return refused("utimens", path, ret);
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct entry *e;

	(void)fi;
	if (!may_change())
		return denied("chmod", path, -EPERM);
	pthread_mutex_lock(&lock);
	if ((e = find(path)) && e->type != 'l')
		e->mode = mode & 07777;
	pthread_mutex_unlock(&lock);
	return e || !strcmp(path, "/") || is_last_error(path) ? 0 : -ENOENT;
}

static int op_chown(const char *path, uid_t uid, gid_t gid,
		struct fuse_file_info *fi)
{
	(void)uid;
	(void)gid;
	(void)fi;
	return may_change() ? 0 : denied("chown", path, -EPERM);
}

static int op_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = MODEL_NAME_LEN_MAX;
	return 0;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->hard_remove = 1;
	root_mtime = now_ns();
	return fuse_get_context()->private_data;
}

/* Unmounting: the restore becomes the database, or nothing does. */
static void op_destroy(void *data)
{
	struct fs *fs = data;
	int ret;

	pthread_mutex_lock(&lock);
	ret = build(fs, 1);
	if (ret) {
		fs_restore_failed = 1;
		fprintf(stderr, "runtimefs: restore refused, %s is left empty:"
				" %s (%s)\n", fs->db, *fs_errmsg() ?
				fs_errmsg() : model_errmsg(), strerror(-ret));
	} else {
		fprintf(stderr, "runtimefs: restore of %ld entries committed"
				" to %s\n", nentries, fs->db);
	}
	for (int b = 0; b < BUCKETS; b++)
		while (table[b])
			drop(table[b]);
	pthread_mutex_unlock(&lock);
}

const struct fuse_operations fs_restore_operations = {
	.init = op_init,
	.destroy = op_destroy,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.truncate = op_truncate,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.unlink = op_unlink,
	.symlink = op_symlink,
	.readlink = op_readlink,
	.create = op_create,
	.rename = op_rename,
	.utimens = op_utimens,
	.chmod = op_chmod,
	.chown = op_chown,
	.statfs = op_statfs,
};
