/*
 * ops.c - the FUSE operations: resolve the path in the node table, check
 * the caller's rights (access.c), call the node's handler, turn the answer
 * into bytes and attributes.
 *
 * libfuse's low-level API names files by inode, and an inode is the
 * object it names (inode.h keeps the kind and the row of each, and the
 * way to it): the ll_* functions at the end turn a request's inode into a
 * target, resolved in memory or one step from its directory, never
 * walked from the root; the op_* functions work on targets and reply
 * with the timeouts cache.h gives.
 *
 * Reads are served from a copy of the content taken at open(), so a reader
 * sees one whole value even while it changes.  Writes to value files
 * gather the bytes of one open file and apply the value in the write()
 * call itself, so the shell sees the error; a document (spec) is applied
 * in the write() that completes it and refused in the one that makes it
 * invalid.  Every refused change is recorded for MOUNT/.last_error and the
 * log.  What all open files hold together is capped (HELD_MAX), so that
 * no one can make the daemon grow by opening files.
 *
 * A transaction file (a node with `write`, MOUNT/heartbeat) is different:
 * each write() is one request, whole, and reads of the same open file
 * return the reply to the last one, from its start, whatever the file
 * offset (which the write moved).
 *
 * Removals inside an object directory by a process walking it (rm -r) are
 * staged and applied with the directory's own removal (walk.h).
 */
#define _GNU_SOURCE                  /* malloc_trim */
#include "clock.h"
#include "fs.h"
#include "cache.h"
#include "events.h"
#include "icp_http.h"
#include "inode.h"
#include "lasterr.h"
#include "nodes.h"
#include "request.h"
#include "scratch.h"
#include "stage.h"
#include "tree.h"
#include "walk.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)    /* linux/fs.h */
#endif

#define VALUE_MAX (64 * 1024)       /* a value file's content at the most */
#define HELD_MAX (64L * 1024 * 1024) /* what all open files hold at most */
#define TRIM_AFTER (16L * 1024 * 1024)
#define UNKNOWN_INO 0xffffffffu     /* a name's inode not yet looked up */

#define FILE_MAGIC 0x66696c65u      /* "file": fh is a struct fs_file */
#define DIR_MAGIC 0x64697220u       /* "dir ": fh is a struct fs_dir */

/* What an open file keeps. */
struct fs_file {
	unsigned magic;
	struct fs_path p;
	struct buf content;        /* what reads return */
	struct buf written;        /* what writes have brought so far */
	struct scratch *scratch;   /* a scratch file (scratch.h), or NULL */
	uint64_t staged;           /* a restore mount's entry (stage.h), or 0 */
	int pending;               /* a document not yet complete */
	size_t pos;                /* transaction files: reply read so far */
	long charged;              /* bytes of its buffers counted in `held` */
	uid_t uid;                 /* who opened it (release comes as root) */
	pthread_mutex_t lock;      /* transaction files: one request at once */
	struct fs_stream stream;   /* MOUNT/events: where it reads (events.h) */
};

static struct fs *self;         /* the session's userdata, from init */
static _Atomic long held;       /* bytes the buffers of open files hold */
static _Atomic long held_peak;  /* the most since the last trim */

static struct fs *fs_ctx(void)
{
	return self;
}

/* Records a refused change of `uid` for .last_error and the log; returns
 * err. */
static int refused_as(uid_t uid, const char *op, const char *path, int err)
{
	const char *why = fs_errmsg();
	struct model_actor a;

	if (err >= 0)
		return err;
	lasterr_record(uid, op, path, err, why);
	/* and in the audit log, as the caller's (not a restore's) */
	if (self && self->m && !request_actor(NULL, &a)) {
		/* another's (a release comes from the kernel): its uid only */
		if (a.uid != (int64_t)uid) {
			a.gid = -1;
			a.pid = -1;
			a.comm[0] = '\0';
		}
		a.uid = uid;
		snprintf(a.op, sizeof(a.op), "%s", op);
		snprintf(a.path, sizeof(a.path), "%s", path[0] == '/' &&
				path[1] ? path + 1 : path);
		model_audit_refused(self->m, &a, err, why);
	}
	return err;
}

static int refused(const char *op, const char *path, int err)
{
	return refused_as(request_uid(), op, path, err);
}

static void clear_errors(void)
{
	fs_errclear();
}

/* -- what open files hold ---------------------------------------------- */

/* Whether the buffers of `f` may grow to `want` bytes more than they
 * hold: -ENOBUFS when all open files together would pass HELD_MAX. */
static int budget(size_t want)
{
	long now = atomic_load(&held);

	if (now + (long)want <= HELD_MAX)
		return 0;
	return fs_fail(-ENOBUFS, "open files hold %ld KiB, at most %ld KiB:"
			" finish or close some", now / 1024, HELD_MAX / 1024);
}

/* Counts what the buffers of `f` hold now. */
static void charge(struct fs_file *f)
{
	long now = (long)(f->content.alloc + f->written.alloc);
	long total = atomic_fetch_add(&held, now - f->charged) +
		now - f->charged;

	f->charged = now;
	if (total > atomic_load(&held_peak))
		atomic_store(&held_peak, total);
}

/* Gives back what `f` held; once the files that held much are closed,
 * the memory goes back to the system too. */
static void discharge(struct fs_file *f)
{
	long total = atomic_fetch_sub(&held, f->charged) - f->charged;

	f->charged = 0;
	if (total < 1024 * 1024 && atomic_load(&held_peak) > TRIM_AFTER &&
	    atomic_exchange(&held_peak, total) > TRIM_AFTER)
		malloc_trim(0);
}


/* -- what a request is about ---------------------------------------------- */

/* A name in a directory, resolved from the kernel's inode of that
 * directory (or of the name itself): an inode is the object it names
 * (inode.h), so nothing is walked from the root, and a name the kernel
 * holds costs no lookup at all.  The path is for messages, and for the
 * keys of scratch files and walks. */
struct target {
	struct fs_path dir;        /* the directory it is in; the root: itself */
	struct fs_path p;          /* what it names, when err is 0 */
	int err;                   /* -ENOENT: no node of the tree there */
	int scratch;               /* the kernel holds it as a scratch file */
	int has_dir_id;
	uint64_t dir_id;           /* dir's identity, once asked (scratch.h) */
	const char *name;          /* its last name, in path; "" for the root */
	char path[PATH_MAX];
	/* a restore mount (stage.h): the staged directory and entry (0:
	 * none), which every operation hands to stage.c */
	uint64_t sdir, sid;
};

#define STAGED(t) ((t)->sdir != 0)

static struct stage *stage(void)
{
	return self->stage;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The identity of the object a directory of value files stands for, so
 * that scratch files made in it go with it (scratch.h). */
static uint64_t dir_identity(const struct fs_path *d)
{
	struct model_integration in;
	struct model_endpoint e;
	struct model_runtime rt;
	struct model_env env;

	switch (d->node->kind) {
	case FS_ENV:
		return model_env_get(d->m, d->env, &env) ? 0 :
			(uint64_t)env.created_ns;
	case FS_RUNTIME:
		return fs_runtime(d, &rt) ? 0 : hash_text(rt.uuid);
	case FS_ENDPOINT:
		return model_endpoint_get(d->m, d->env, d->runtime,
				d->endpoint, &e) ? 0 : hash_text(e.id);
	case FS_INTEGRATION:
		return model_integration_get(d->m, d->project, d->integration,
				&in) ? 0 : (uint64_t)in.created_ns;
	default:
		return 0;
	}
}

/* The identity of the directory of `t`, for its scratch files. */
static uint64_t dir_id(struct target *t)
{
	if (!t->has_dir_id) {
		t->dir_id = dir_identity(&t->dir);
		t->has_dir_id = 1;
	}
	return t->dir_id;
}

/* Whether `t` may be a scratch file: its directory takes them. */
static int scratch_place(const struct target *t)
{
	return *t->name && scratch_dir_ok(&t->dir);
}

/* The attributes of the scratch file `t` names: -ENOENT if none. */
static int scratch_at(struct target *t, struct stat *st)
{
	if (!scratch_place(t))
		return -ENOENT;
	return scratch_stat_path(t->path, dir_id(t), st);
}

static int scratch_valid(const char *dir, uint64_t id)
{
	struct fs_path p;

	return !fs_resolve(fs_ctx()->m, dir, &p) && scratch_dir_ok(&p) &&
		dir_identity(&p) == id;
}

/* Who a scratch file made now by the caller belongs to. */
static struct scratch_owner scratch_owner(uint64_t id)
{
	struct scratch_owner o = { id, request_uid(),
		fs_access_gid(NULL, fs_access.group) };

	return o;
}

/* Appends "/" and `name` to the path of `t`. */
static int path_add(struct target *t, size_t *len, const char *name)
{
	size_t n = strlen(name);

	if (n > NAME_MAX || *len + 1 + n + 1 > sizeof(t->path))
		return -ENAMETOOLONG;
	t->path[(*len)++] = '/';
	memcpy(t->path + *len, name, n + 1);
	t->name = t->path + *len;
	*len += n;
	return 0;
}

/* In a restore mount every name is a staged entry but the root, which is
 * the staged root: the inode keeps the entry's id. */
static int staged_target(struct target *t, const struct inode_link *links,
		int n)
{
	int ret = fs_path_of(NULL, links, 0, &t->dir);

	t->p = t->dir;
	t->sdir = n > 1 ? (uint64_t)links[n - 2].obj.id : STAGE_ROOT;
	t->sid = n ? (uint64_t)links[n - 1].obj.id : STAGE_ROOT;
	if (n && links[n - 1].obj.kind != FS_STAGED)
		return -ESTALE;
	t->err = stage_exists(stage(), t->sid) ? 0 : -ENOENT;
	return ret;
}

/* What the inode `ino` names, from its way from the root. */
static int target_of(fuse_ino_t ino, struct target *t)
{
	struct inode_link links[INODE_DEPTH_MAX];
	size_t len = 0;
	int n = inode_chain(ino, links, INODE_DEPTH_MAX), ret = 0;

	memset(t, 0, sizeof(*t));
	if (n < 0)
		return n;
	strcpy(t->path, "/");
	t->name = t->path + 1;
	for (int i = 0; i < n && !ret; i++)
		ret = path_add(t, &len, links[i].name);
	if (!ret && stage())
		return staged_target(t, links, n);
	if (!ret)
		ret = fs_path_of(fs_ctx()->m, links, n ? n - 1 : 0, &t->dir);
	if (ret)
		return ret == -ENOENT ? -ESTALE : ret;
	t->p = t->dir;
	if (n && links[n - 1].obj.kind == FS_SCRATCH) {
		t->scratch = 1;
		t->err = -ENOENT;
	} else if (n) {
		t->err = fs_path_add(&t->p, &links[n - 1]);
	}
	return 0;
}

/* The child `name` of the directory `dir` names: one step, one lookup of
 * the model at the most. */
static int target_child(const struct target *dir, const char *name,
		struct target *t)
{
	size_t len = strlen(dir->path);
	int ret;

	memset(t, 0, sizeof(*t));
	memcpy(t->path, dir->path, len + 1);
	if (len == 1)
		len = 0;
	if ((ret = path_add(t, &len, name)))
		return ret;
	if (dir->err)
		return dir->err == -ENOENT ? -ESTALE : dir->err;
	t->dir = dir->p;
	t->p = dir->p;
	if (STAGED(dir)) {
		t->sdir = dir->sid;
		t->sid = stage_lookup(stage(), dir->sid, name);
		t->err = t->sid ? 0 : -ENOENT;
		return 0;
	}
	t->err = fs_step(&t->p, name);
	return 0;
}

/* Looks the name of `t` up again in its directory, once a change made
 * or moved what it names. */
static void refresh(struct target *t)
{
	if (STAGED(t)) {
		t->sid = stage_lookup(stage(), t->sdir, t->name);
		t->err = t->sid ? 0 : -ENOENT;
		return;
	}
	t->p = t->dir;
	t->err = fs_step(&t->p, t->name);
}

/* -- the tree ------------------------------------------------------------ */

/* The errno for a change that the node does not allow. */
static int not_allowed(const struct fs_path *p, const char *what)
{
	if (p->readonly && p->snapshot[0])
		return fs_fail(-EROFS, "snapshot '%s' is read-only: %s is not"
				" allowed in it", p->snapshot, what);
	if (p->readonly)
		return fs_fail(-EROFS, "this is a read-only view: %s is not"
				" allowed here", what);
	return fs_fail(-EPERM, "%s is not allowed here", what);
}

static int show(const struct fs_path *p, struct fs_value *v)
{
	return fs_show(p, v, VALUE_MAX * 16);
}

static void fill_stat(const struct fs_path *p, const struct fs_value *v,
		struct stat *st)
{
	int64_t t = v->mtime_ns ? v->mtime_ns : fs_started_ns;

	memset(st, 0, sizeof(*st));
	st->st_mode = fs_mode(p);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = fs_access.owner;
	st->st_gid = fs_access_gid(p, fs_access.group);
	st->st_size = S_ISDIR(st->st_mode) ? 0 : p->node->stream ?
		(off_t)v->size : (off_t)v->buf.len;
	/* a log that grows: tail seeks from st_size (events.c) */
	st->st_blksize = p->node->stream == FS_STREAM_EVENTS ? 1 : 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = t / 1000000000LL;
	st->st_mtim.tv_nsec = t % 1000000000LL;
	st->st_atim = st->st_mtim;
	/* a heartbeat is no change of the runtime's files: it moves their
	 * mtime (liveness, for ls -lt and find -mmin) but not their ctime,
	 * so that a copy of the live tree (tar) does not see them change */
	t = v->ctime_ns ? v->ctime_ns : t;
	st->st_ctim.tv_sec = t / 1000000000LL;
	st->st_ctim.tv_nsec = t % 1000000000LL;
}

/* The attributes of what `t` names (of the open file `fi`, if a scratch
 * file), and how long the kernel may keep them and the name (cache.h). */
static int stat_target(struct target *t, struct fuse_file_info *fi,
		struct stat *st, double *attr_timeout, double *entry_timeout)
{
	struct fs_value v;
	int ret, vol = 0;

	*attr_timeout = *entry_timeout = 0;
	/* nothing staged changes behind the kernel's back: .last_error does */
	if (STAGED(t)) {
		ret = t->err ? t->err : stage_stat(stage(), t->sid, st, &vol);
		if (!ret && !vol)
			*attr_timeout = *entry_timeout =
				fs_ctx()->cache_timeout;
		return ret;
	}
	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch) {
		scratch_stat(((struct fs_file *)(uintptr_t)fi->fh)->scratch,
				st);
		return 0;
	}
	if (scratch_hidden(t->path))
		return -ENOENT;
	if (t->err == -ENOENT && !scratch_at(t, st))
		return 0;
	if (t->err)
		return t->err;
	ret = show(&t->p, &v);
	if (!ret) {
		fill_stat(&t->p, &v, st);
		*attr_timeout = cache_attr_timeout(&t->p, &v);
		*entry_timeout = cache_entry_timeout(&t->p);
	}
	buf_release(&v.buf);
	return ret == -EINVAL ? -ENOENT : ret;
}

static int writable(const struct fs_path *p)
{
	if (p->readonly && p->snapshot[0])
		return fs_fail(-EROFS, "snapshot '%s' is read-only",
				p->snapshot);
	if (p->readonly)
		return fs_fail(-EROFS, "this is a read-only view");
	if (!p->node->store && !p->node->write)
		return fs_fail(-EACCES, "this file is read-only");
	return 0;
}

/* The rights an open() with `flags` asks for. */
static int open_mask(int flags)
{
	int acc = flags & O_ACCMODE;
	int mask = acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK :
		R_OK | W_OK;

	return (flags & O_TRUNC) ? mask | W_OK : mask;
}

/* The caller's right to change what is in the directory of `t`. */
static int may_change_in(const struct target *t)
{
	return fs_access_check(&t->dir, W_OK | X_OK);
}

static void file_free(struct fs_file *f)
{
	/* freed before they are given back, so that a trim frees them */
	buf_release(&f->content);
	buf_release(&f->written);
	discharge(f);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static struct fs_file *file_new(void)
{
	struct fs_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->magic = FILE_MAGIC;
	f->uid = request_uid();
	buf_init(&f->written, VALUE_MAX);
	buf_init(&f->content, 0);
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

static int op_open(struct target *t, struct fuse_file_info *fi)
{
	struct fs_file *f;
	struct fs_value v;
	struct stat st;
	int ret;

	clear_errors();
	if (!(f = file_new()))
		return -ENOMEM;
	f->p = t->p;
	if (STAGED(t)) {
		ret = t->err ? t->err : stage_open(stage(), t->sid, fi->flags);
		if (ret) {
			file_free(f);
			return ret == -EACCES ? refused("open", t->path, ret) :
				ret;
		}
		f->staged = t->sid;
		fi->fh = (uintptr_t)f;
		fi->direct_io = 1;
		return 0;
	}
	if (t->err == -ENOENT && !scratch_at(t, &st)) {
		ret = fs_access_allows(st.st_mode, st.st_uid, st.st_gid,
				open_mask(fi->flags));
		if (ret || !(f->scratch = scratch_open(t->path, dir_id(t)))) {
			file_free(f);
			return ret ? refused("open", t->path, fs_fail(ret,
					"only its owner may open this"
					" temporary file")) : -ENOENT;
		}
		fi->fh = (uintptr_t)f;
		fi->direct_io = 1;
		return 0;
	}
	ret = t->err;
	f->p = t->p;
	if (!ret && S_ISDIR(fs_mode(&f->p)))
		ret = -EISDIR;
	/* the roles hold without -o default_permissions too (access.c) */
	if (!ret && (ret = fs_access_check(&f->p, open_mask(fi->flags))))
		ret = refused("open", t->path, ret);
	if (!ret && (fi->flags & O_ACCMODE) != O_RDONLY &&
	    (ret = writable(&f->p)))
		ret = refused("open", t->path, ret);
	if (!ret) {
		ret = show(&f->p, &v);
		buf_release(&f->content);
		f->content = v.buf;
	}
	if (!ret && (ret = budget(f->content.alloc)))
		ret = refused("open", t->path, ret);
	if (ret) {
		file_free(f);
		return ret;
	}
	charge(f);
	fi->fh = (uintptr_t)f;
	fi->direct_io = f->p.node->direct_io;
	fi->nonseekable = f->p.node->write != NULL;
	return 0;
}

/* A read of a transaction file: the rest of the last reply. */
static int read_reply(struct fs_file *f, char *out, size_t size)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->content.len - f->pos;
	if (n > size)
		n = size;
	if (n)
		memcpy(out, f->content.data + f->pos, n);
	f->pos += n;
	pthread_mutex_unlock(&f->lock);
	return (int)n;
}

/* A write to a transaction file: a request, or the next part of one
 * (bash's printf writes line by line), answered in the reply. */
static int transact(struct fs_file *f, const char *path, const char *data,
		size_t size)
{
	int ret;

	pthread_mutex_lock(&f->lock);
	f->pos = 0;
	buf_release(&f->content);
	buf_init(&f->content, VALUE_MAX);
	ret = f->written.len + size > f->written.alloc ?
		budget(2 * (f->written.len + size)) : 0;
	if (!ret)
		ret = buf_add(&f->written, data, size);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a request is at most %d bytes",
				VALUE_MAX);
	if (!ret)
		ret = f->p.node->write(&f->p, f->written.data,
				f->written.len, &f->content);
	if (ret != FS_MORE)
		buf_reset(&f->written);
	charge(f);
	pthread_mutex_unlock(&f->lock);
	if (ret == FS_MORE)
		ret = 0;
	return ret ? refused("write", path, ret) : (int)size;
}

static int op_read(struct fs_file *f, char *out, size_t size, off_t off)
{
	size_t n;

	if (f->staged)
		return stage_read(stage(), f->staged, out, size, off);
	if (f->scratch)
		return scratch_read(f->scratch, out, size, off);
	if (f->p.node && f->p.node->write)
		return read_reply(f, out, size);
	if (f->p.node && f->p.node->stream == FS_STREAM_AUDIT)
		return off < 0 ? -EINVAL : model_audit_read(f->p.m, off, out,
				size);
	if (f->p.node && f->p.node->stream)
		return -EIO;                   /* ll_read() serves it */
	if (off < 0 || (size_t)off >= f->content.len)
		return 0;
	n = f->content.len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(out, f->content.data + off, n);
	return (int)n;
}

/* The value in `b` without surrounding blanks, NUL-terminated in place. */
static char *trimmed(struct buf *b)
{
	char *s = b->data, *e = b->data + b->len;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* Applies `len` bytes written to the value file `p` through its store. */
static int store_value(const struct fs_path *p, const char *data,
		size_t len)
{
	struct buf value;
	int ret;

	if (len && memchr(data, '\0', len))
		return fs_fail(-EINVAL, "a value cannot contain a NUL byte");
	buf_init(&value, VALUE_MAX);
	ret = buf_add(&value, data, len);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a value is at most %d bytes",
				VALUE_MAX);
	if (!ret)
		ret = p->node->store(p, trimmed(&value));
	buf_release(&value);
	return ret;
}

static int op_write(struct fs_file *f, const char *path, const char *data,
		size_t size, off_t off)
{
	size_t end = (size_t)off + size;
	int ret;

	clear_errors();
	if (f->staged) {
		ret = stage_write(stage(), f->staged, data, size, off);
		return ret < 0 ? refused("write", path, ret) : ret;
	}
	if (f->p.node && f->p.node->write)
		return transact(f, path, data, size);
	if (off < 0)
		return -EINVAL;
	if (f->scratch) {
		ret = scratch_write(f->scratch, data, size, off);
		return ret < 0 ? refused("write", path, ret) : ret;
	}
	f->pending = 0;
	ret = end > f->written.alloc && end <= VALUE_MAX ?
		budget(2 * end) : 0;
	if (!ret)
		ret = buf_put(&f->written, (size_t)off, data, size);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a value is at most %d bytes",
				VALUE_MAX);
	charge(f);
	if (ret)
		return refused("write", path, ret);
	/* a document may come in several writes: apply it once whole, and
	 * refuse it in the write that spoils it */
	ret = f->p.node->document ?
		model_json_state(f->written.data, f->written.len) : 0;
	f->pending = ret == MODEL_JSON_MORE;
	if (f->pending)
		return (int)size;
	if (ret)
		return refused("write", path, ret);
	ret = store_value(&f->p, f->written.data, f->written.len);
	return ret ? refused("write", path, ret) : (int)size;
}

/* A document left incomplete is refused at close, the last chance. */
static int op_flush(struct fs_file *f, const char *path)
{
	/* a staged file is checked on its own when it is closed */
	if (f->staged) {
		clear_errors();
		return refused("close", path, stage_flush(stage(),
				f->staged));
	}
	if (!f->pending)
		return 0;
	clear_errors();
	f->pending = 0;
	return refused("write", path, fs_fail(-EINVAL, "the JSON document"
			" is incomplete (%zu bytes written): nothing was"
			" applied", f->written.len));
}

static void op_release(struct fs_file *f, const char *path)
{
	if (f->scratch)
		scratch_put(f->scratch);
	if (f->p.node && f->p.node->write && f->written.len)
		refused_as(f->uid, "close", path, fs_fail(-EINVAL, "an"
				" unfinished request of %zu bytes was dropped",
				f->written.len));
	file_free(f);
}

/* O_TRUNC and truncate(2) on a value file are accepted and change nothing:
 * the value changes when one is written. */
static int op_truncate(struct target *t, off_t size,
		struct fuse_file_info *fi)
{
	struct scratch *f;
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("truncate", t->path, t->err ? t->err :
				stage_truncate(stage(), t->sid, size));
	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch)
		return scratch_truncate(
			((struct fs_file *)(uintptr_t)fi->fh)->scratch, size);
	if (fi)
		return 0;
	if (t->err == -ENOENT && !scratch_at(t, &st)) {
		ret = fs_access_allows(st.st_mode, st.st_uid, st.st_gid, W_OK);
		if (!ret && (f = scratch_open(t->path, dir_id(t)))) {
			scratch_truncate(f, size);
			scratch_put(f);
		}
		return refused("truncate", t->path, ret);
	}
	ret = t->err;
	if (!ret)
		ret = fs_access_check(&t->p, W_OK);
	if (!ret)
		ret = writable(&t->p);
	return ret ? refused("truncate", t->path, ret) : 0;
}

static int op_mkdir(struct target *t, mode_t mode)
{
	const struct fs_node *n;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("mkdir", t->path, stage_mkdir(stage(), t->sdir,
				t->name, mode));
	ret = may_change_in(t);
	if (ret)
		return refused("mkdir", t->path, ret);
	n = fs_named_child(&t->dir);
	if (!n || !n->mkdir || t->dir.readonly || !S_ISDIR(n->mode))
		ret = not_allowed(&t->dir, "mkdir");
	else
		ret = n->mkdir(&t->dir, t->name);
	return refused("mkdir", t->path, ret);
}

/* -- removals ------------------------------------------------------------ */

/* Whether `p` is an object directory, which a walk removes whole. */
static int is_object(const struct fs_path *p)
{
	switch (p->node->kind) {
	case FS_ENV:
	case FS_RUNTIME:
	case FS_ENDPOINT:
	case FS_PROJECT:
	case FS_INTEGRATION:
	case FS_SNAPSHOT:
		return 1;
	default:
		return 0;
	}
}

/* Whether the removal of the object above `p` must find it removed: what
 * model_cover asks about (model.h). */
static int counts(const struct fs_path *p)
{
	switch (p->node->kind) {
	case FS_RUNTIME:
	case FS_SECRET:
	case FS_VERSION:
	case FS_ENDPOINT:
	case FS_INTEGRATION:
	case FS_INTEGRATION_RUNTIME_LINK:
	case FS_INTEGRATION_SECRET:
		return 1;
	case FS_RUNTIME_ATTR:             /* one that rm removes: secret */
		return p->attr->unlink != NULL;
	default:
		return 0;
	}
}

/* model_cover: the path of `part` in the tree, and whether the walk of
 * the caller removed it. */
static int covered(void *ctx, const struct model_part *part)
{
	char path[PATH_MAX];

	(void)ctx;
	switch (part->kind) {
	case MODEL_PART_RUNTIME:
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s",
				part->env, part->name);
		break;
	case MODEL_PART_SECRET:
		snprintf(path, sizeof(path), "/environments/%s/secrets/%s",
				part->env, part->name);
		break;
	case MODEL_PART_VERSION:
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s"
				"/versions/%lld", part->env, part->runtime,
				(long long)part->number);
		break;
	case MODEL_PART_ENDPOINT:
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s"
				"/endpoints/%s", part->env, part->runtime,
				part->name);
		break;
	case MODEL_PART_BOUND_SECRET:
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s"
				"/secret", part->env, part->runtime);
		break;
	case MODEL_PART_INTEGRATION:
		snprintf(path, sizeof(path), "/projects/%s/integrations/%s",
				part->project, part->name);
		break;
	case MODEL_PART_LINK:
		snprintf(path, sizeof(path), "/projects/%s/integrations/%s"
				"/runtimes/%s/%s", part->project,
				part->integration, part->env, part->name);
		break;
	case MODEL_PART_SCOPED_SECRET:
		snprintf(path, sizeof(path), "/projects/%s/integrations/%s"
				"/secrets/%s/%s", part->project,
				part->integration, part->env, part->name);
		break;
	}
	return walk_covered(request_pid(), path);
}

/* The last step of a walk: the object `p` and what it holds, whole. */
static int remove_whole(const struct fs_path *p)
{
	struct model_cover c = { covered, NULL };

	if (p->readonly)
		return not_allowed(p, "removing it");
	switch (p->node->kind) {
	case FS_ENV:
		return model_env_remove(p->m, p->env, &c);
	case FS_RUNTIME:
		return model_runtime_remove(p->m, p->env, p->runtime, &c);
	case FS_INTEGRATION:
		return model_integration_remove(p->m, p->project,
				p->integration, &c);
	case FS_PROJECT:
		return model_project_remove(p->m, p->project, &c);
	default:
		return p->node->rmdir(p);
	}
}

static int op_rmdir(struct target *t)
{
	int ret, verdict = WALK_NOW;

	clear_errors();
	if (STAGED(t))
		return refused("rmdir", t->path, stage_rmdir(stage(), t->sdir,
				t->name));
	ret = may_change_in(t);
	if (!ret)
		ret = t->err;
	if (!ret && !S_ISDIR(fs_mode(&t->p)))
		ret = -ENOTDIR;
	if (!ret && (verdict = walk_removing(request_pid(), request_uid(),
			t->path, is_object(&t->p), counts(&t->p))) < 0)
		ret = fs_fail(verdict, "too many removals are staged at once");
	if (!ret && verdict == WALK_STAGE)
		return 0;
	if (!ret && verdict == WALK_ROOT) {
		ret = remove_whole(&t->p);
		walk_done(request_pid(), t->path);
	} else if (!ret) {
		ret = t->p.node->rmdir && !t->p.readonly ?
			t->p.node->rmdir(&t->p) : not_allowed(&t->p, "rmdir");
	}
	if (!ret)
		scratch_forget_under(t->path);
	return refused("rmdir", t->path, ret);
}

static int op_unlink(struct target *t)
{
	int ret, verdict;

	clear_errors();
	if (STAGED(t))
		return refused("unlink", t->path, stage_unlink(stage(),
				t->sdir, t->name));
	ret = may_change_in(t);
	if (ret)
		return refused("unlink", t->path, ret);
	if (scratch_place(t) && !scratch_unlink(t->path, dir_id(t)))
		return 0;
	ret = t->err;
	if (!ret && S_ISDIR(fs_mode(&t->p)))
		ret = -EISDIR;
	if (!ret && (verdict = walk_removing(request_pid(), request_uid(),
			t->path, 0, counts(&t->p))) < 0)
		ret = fs_fail(verdict, "too many removals are staged at once");
	else if (!ret && verdict == WALK_STAGE)
		return 0;
	else if (!ret && t->p.node->store && !t->p.readonly &&
		 !t->p.node->unlink)
		scratch_hide(t->path);   /* mv from elsewhere: see scratch.h */
	else if (!ret)
		ret = t->p.node->unlink && !t->p.readonly ?
			t->p.node->unlink(&t->p) :
			not_allowed(&t->p, "removing this file");
	return refused("unlink", t->path, ret);
}

static int op_symlink(struct target *t, const char *link)
{
	const struct fs_node *n;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("symlink", t->path, stage_symlink(stage(),
				t->sdir, t->name, link));
	ret = may_change_in(t);
	if (!ret) {
		n = fs_named_child(&t->dir);
		ret = n && n->symlink && !t->dir.readonly ?
			n->symlink(&t->dir, t->name, link) :
			not_allowed(&t->dir, "a symlink");
	}
	return refused("symlink", t->path, ret);
}

static int op_readlink(struct target *t, char *out, size_t size)
{
	struct fs_value v;
	int ret = t->err;

	if (ret)
		return ret;
	if (STAGED(t))
		return stage_readlink(stage(), t->sid, out, size);
	if (!S_ISLNK(fs_mode(&t->p)))
		return -EINVAL;
	ret = show(&t->p, &v);
	if (!ret && size > 0) {
		size_t n = v.buf.len < size - 1 ? v.buf.len : size - 1;

		memcpy(out, v.buf.data, n);
		out[n] = '\0';
	}
	buf_release(&v.buf);
	return ret;
}

/* The refusal of a file name the tree does not know (scratch.h). */
static int unknown_name(const char *name)
{
	return fs_fail(-EPERM, "'%s' is not a name this tree knows; only"
			" editors' temporary files (.NAME.swp, NAME~, 4913,"
			" sedXXXXXX, .NAME.XXXXXX, NAME.tmp, ...) may be made"
			" here, and those are kept in memory only", name);
}

/* Creating a file: a value file that was just unlinked comes back (and
 * is opened for writing); a secret is made by creating it; an editor's
 * temporary name in a directory of value files is a scratch file; any
 * other name is refused.  On success `t` names what was made. */
static int op_create(struct target *t, mode_t mode, struct fuse_file_info *fi)
{
	struct scratch_owner owner;
	const struct fs_node *n;
	struct fs_file *f;
	uint64_t id;
	int ret;

	clear_errors();
	if (STAGED(t)) {
		ret = stage_create(stage(), t->sdir, t->name, mode, &id);
		if (ret)
			return refused("create", t->path, ret);
		if (!(f = file_new()))
			return -ENOMEM;
		f->p = t->dir;
		f->staged = t->sid = id;
		t->err = 0;
		fi->fh = (uintptr_t)f;
		fi->direct_io = 1;
		return 0;
	}
	ret = may_change_in(t);
	if (!ret && scratch_hidden(t->path)) {
		scratch_unhide(t->path);
		return op_open(t, fi);
	}
	/* a kind made by creating a file (a secret) */
	n = ret ? NULL : fs_named_child(&t->dir);
	if (n && n->create && !t->dir.readonly) {
		ret = n->create(&t->dir, t->name);
		if (!ret) {
			refresh(t);
			ret = t->err;
		}
		return ret ? refused("create", t->path, ret) : op_open(t, fi);
	}
	if (!ret && !scratch_dir_ok(&t->dir))
		ret = not_allowed(&t->dir, "creating a file");
	else if (!ret && !scratch_name_ok(t->name))
		ret = unknown_name(t->name);
	if (!ret && t->err != -ENOENT)
		ret = t->err ? t->err : -EEXIST;
	if (ret)
		return refused("create", t->path, ret);
	if (!(f = file_new()))
		return -ENOMEM;
	owner = scratch_owner(dir_id(t));
	ret = scratch_create(t->path, &owner, mode, &f->scratch);
	if (ret) {
		file_free(f);
		return refused("create", t->path, ret);
	}
	fi->fh = (uintptr_t)f;
	fi->direct_io = 1;
	return 0;
}

/* Whether `name` names a backup (vim's backupext, "~"). */
static int backup_name(const char *name)
{
	size_t n = strlen(name);

	return n > 1 && name[n - 1] == '~';
}

/* Renaming a scratch file over a value file applies its content, as a
 * write would, and the scratch file goes; between scratch names it is a
 * move.  A value file renamed to NAME~ (vim's backup) leaves a scratch
 * copy under that name, with the value file's mode, and hides for a
 * moment, see scratch.h. */
static int op_rename(struct target *from, struct target *to,
		unsigned int flags)
{
	struct scratch_owner owner;
	struct fs_value v;
	struct buf content;
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(from))
		return refused("rename", from->path, stage_rename(stage(),
				from->sdir, from->name, to->sdir, to->name,
				flags));
	if (flags & ~RENAME_NOREPLACE)
		return refused("rename", from->path, fs_fail(-EINVAL, "only"
				" plain renames are supported here"));
	ret = may_change_in(from);
	if (!ret)
		ret = may_change_in(to);
	if (ret)
		return refused("rename", from->path, ret);
	if ((flags & RENAME_NOREPLACE) && (!to->err || !scratch_at(to, &st)))
		return refused("rename", from->path, -EEXIST);
	buf_init(&content, VALUE_MAX);
	if (!scratch_at(from, &st)) {
		if (to->err == -ENOENT && scratch_place(to) &&
		    scratch_name_ok(to->name))
			ret = scratch_rename(from->path, to->path, dir_id(to));
		else if (to->err == -ENOENT && scratch_place(to))
			ret = unknown_name(to->name);
		else if (to->err == -ENOENT)
			ret = not_allowed(&to->dir, "renaming");
		else if (to->err)
			ret = to->err;
		else if (!to->p.node->store || to->p.readonly)
			ret = to->p.readonly ? not_allowed(&to->p, "renaming") :
				fs_fail(-EACCES, "this file is read-only");
		else if ((ret = scratch_content(from->path, dir_id(from),
				&content)) == -EFBIG)
			ret = fs_fail(-EFBIG, "a value is at most %d bytes",
					VALUE_MAX);
		else if (!ret && !(ret = store_value(&to->p, content.data,
				content.len)))
			scratch_unlink(from->path, dir_id(from));
		if (!ret)
			scratch_unhide(to->path);
	} else if (!(ret = from->err) && from->p.node->store &&
		   !from->p.readonly && to->err == -ENOENT &&
		   scratch_place(to) && backup_name(to->name) &&
		   (fs_mode(&from->p) & 0004)) {
		ret = show(&from->p, &v);
		owner = scratch_owner(dir_id(to));
		if (!ret)
			ret = scratch_create_with(to->path, &owner,
					fs_mode(&from->p) & 07777, v.buf.data,
					v.buf.len);
		buf_release(&v.buf);
		if (!ret)
			scratch_hide(from->path);
	} else if (!ret) {
		ret = not_allowed(&from->p, "renaming");
	}
	buf_release(&content);
	return refused("rename", from->path, ret);
}

/* Times are the model's: setting them is accepted and changes nothing, so
 * that `touch` and `cp -a`/`rsync -a` into the tree work, for those who
 * could set them on a file of their own (the owner; with the current
 * time, whoever may write it). */
static int op_utimens(struct target *t, const struct timespec tv[2],
		struct fuse_file_info *fi)
{
	int now = tv && tv[0].tv_nsec == UTIME_NOW &&
		tv[1].tv_nsec == UTIME_NOW;
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("utimens", t->path, t->err ? t->err :
				stage_utimens(stage(), t->sid, tv));
	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch)
		return 0;
	if (t->err == -ENOENT && !scratch_at(t, &st)) {
		ret = fs_access_owns(st.st_uid);
		if (ret && now)
			ret = fs_access_allows(st.st_mode, st.st_uid,
					st.st_gid, W_OK);
		return refused("utimens", t->path, ret);
	}
	ret = t->err;
	if (!ret && t->p.readonly)
		ret = not_allowed(&t->p, "setting times");
	if (!ret && (ret = fs_access_owns(fs_access.owner)) && now)
		ret = fs_access_check(&t->p, W_OK);
	return refused("utimens", t->path, ret);
}

static int op_chmod(struct target *t, mode_t mode)
{
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("chmod", t->path, t->err ? t->err :
				stage_chmod(stage(), t->sid, mode));
	if (t->err == -ENOENT && !scratch_at(t, &st)) {
		ret = fs_access_owns(st.st_uid);
		if (!ret)
			ret = scratch_chmod(t->path, dir_id(t), mode);
		return refused("chmod", t->path, ret);
	}
	ret = t->err;
	if (!ret)
		ret = fs_access_owns(fs_access.owner);
	if (!ret && (mode & 07777) != (fs_mode(&t->p) & 07777))
		ret = fs_fail(-EPERM, "modes are fixed by the tree");
	return refused("chmod", t->path, ret);
}

/* Owners are the daemon's: giving a file to its owner and group again is
 * accepted (sed -i and cp -a do it), anything else is not.  A scratch file
 * changes hands as the kernel would let it: to another user by root only,
 * to a group of the owner's. */
static int op_chown(struct target *t, uid_t uid, gid_t gid)
{
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(t))
		return refused("chown", t->path, t->err ? t->err :
				stage_chown(stage(), t->sid, uid, gid));
	if (t->err == -ENOENT && !scratch_at(t, &st)) {
		ret = fs_access_owns(st.st_uid);
		if (!ret && request_uid() != 0 &&
		    ((uid != (uid_t)-1 && uid != st.st_uid) ||
		     (gid != (gid_t)-1 && gid != st.st_gid &&
		      !request_in_group(gid))))
			ret = fs_fail(-EPERM, "only root gives a file away");
		if (!ret)
			ret = scratch_chown(t->path, dir_id(t), uid, gid);
		return refused("chown", t->path, ret);
	}
	if ((ret = t->err))
		return ret;
	ret = fs_access_owns(fs_access.owner);
	if (!ret && ((uid != (uid_t)-1 && uid != fs_access.owner) ||
	    (gid != (gid_t)-1 &&
	     gid != fs_access_gid(&t->p, fs_access.group))))
		ret = fs_fail(-EPERM, "every file belongs to the daemon's"
				" user");
	return refused("chown", t->path, ret);
}

/* access(2) and chdir without -o default_permissions: the same rights
 * every request is checked against. */
static int op_access(struct target *t, int mask)
{
	struct stat st;
	int ret;

	clear_errors();
	if (STAGED(t))
		return t->err ? t->err : stage_access(stage(), t->sid, mask);
	if (t->err == -ENOENT && !scratch_at(t, &st))
		return fs_access_allows(st.st_mode, st.st_uid, st.st_gid,
				mask);
	ret = t->err;
	if (!ret && mask != F_OK)
		ret = fs_access_check(&t->p, mask);
	if (!ret && (mask & W_OK) && t->p.readonly)
		ret = not_allowed(&t->p, "writing");
	return ret;
}

static int op_statfs(struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = MODEL_NAME_LEN_MAX;
	return 0;
}

/* -- the low-level operations: inodes to targets, answers to replies ---- */

/* A directory open for reading: its names, taken when read from the
 * start, with their file types. */
struct fs_dir {
	unsigned magic;
	char **names;
	mode_t *types;
	size_t n, cap;
	uint64_t start;            /* the names were read from this moment */
	int64_t read_ns;
	int unsettled;             /* a reply the kernel may not have filed */
};

static void dir_forget(struct fs_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->types);
	d->names = NULL;
	d->types = NULL;
	d->n = d->cap = 0;
}

static int dir_add(void *ctx, const char *name, mode_t type)
{
	struct fs_dir *d = ctx;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **names = realloc(d->names, cap * sizeof(*names));
		mode_t *types = names ? realloc(d->types,
				cap * sizeof(*types)) : NULL;

		if (names)
			d->names = names;
		if (types)
			d->types = types;
		if (!names || !types)
			return -ENOMEM;
		d->cap = cap;
	}
	if (!(d->names[d->n] = strdup(name)))
		return -ENOMEM;
	d->types[d->n++] = type;
	return 0;
}

struct scratch_fill {
	struct fs_dir *d;
	const char *dir;
};

static int add_scratch(void *ctx, const char *name)
{
	struct scratch_fill *f = ctx;

	return dir_add(f->d, name, S_IFREG);
}

/* Leaves out a value file hidden for a moment (scratch.h). */
static int add_listed(void *ctx, const char *name, mode_t type)
{
	struct scratch_fill *f = ctx;
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", strcmp(f->dir, "/") ?
			f->dir : "", name) < (int)sizeof(path) &&
	    scratch_hidden(path))
		return 0;
	return dir_add(f->d, name, type);
}

/* Whether `t` names a directory. */
static int dir_check(const struct target *t)
{
	struct stat st;
	int vol;

	if (t->err)
		return t->err;
	if (STAGED(t))
		return stage_stat(stage(), t->sid, &st, &vol) ? -ENOENT :
			S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	return S_ISDIR(fs_mode(&t->p)) ? 0 : -ENOTDIR;
}

/* Takes the names of the directory `t` into `d`. */
static int dir_read(struct fs_dir *d, struct target *t)
{
	struct scratch_fill f = { d, t->path };
	int ret;

	dir_forget(d);
	ret = dir_check(t);
	if (!ret)
		ret = dir_add(d, ".", S_IFDIR);
	if (!ret)
		ret = dir_add(d, "..", S_IFDIR);
	if (!ret && STAGED(t))
		return stage_list(stage(), t->sid, dir_add, d);
	if (!ret)
		ret = fs_list_typed(&t->p, add_listed, &f);
	if (!ret && scratch_dir_ok(&t->p))
		ret = scratch_list(t->path, dir_identity(&t->p), add_scratch,
				&f);
	if (ret)
		dir_forget(d);
	return ret;
}

static void reply_err(fuse_req_t req, int ret)
{
	request_end();
	fuse_reply_err(req, -ret);
}

/* Whether the inode `ino` no longer names anything: its object went
 * behind the kernel's back, which is told of it by attributes only
 * (cache.h). */
static int gone(fuse_ino_t ino)
{
	struct target t;
	struct fs_value v;
	struct stat st;
	int ret;

	if (ino == FUSE_ROOT_ID)
		return 0;
	if (target_of(ino, &t))
		return 1;
	if (STAGED(&t))
		return t.err != 0;
	if (t.err)
		return t.err == -ENOENT && scratch_at(&t, &st) == -ENOENT;
	ret = show(&t.p, &v);
	buf_release(&v.buf);
	return ret == -ENOENT || ret == -ESTALE;
}

/* Replies `ret` to a request on `ino` (or on a name in the directory
 * `ino`): a name that is not there in a directory that went is ESTALE,
 * so that the kernel looks the whole path up again rather than trust the
 * names it keeps. */
static void reply_err_on(fuse_req_t req, fuse_ino_t ino, int ret)
{
	if (ret == -ENOENT && gone(ino))
		ret = -ESTALE;
	reply_err(req, ret);
}

/* What the inode of `t` holds (inode.h). */
static struct inode_obj obj_of(const struct target *t)
{
	struct inode_obj o = { FS_SCRATCH, NULL, 0 };

	if (STAGED(t)) {
		o.kind = FS_STAGED;
		o.id = (int64_t)t->sid;
		return o;
	}
	if (!t->err) {
		o.kind = t->p.node->kind;
		o.attr = t->p.attr;
		o.id = t->p.runtime_id;
		/* only the runtime itself and its links tell a runtime from
		 * one made later; below it, its parent does */
		if (o.kind != FS_RUNTIME &&
		    o.kind != FS_PROJECT_RUNTIME_LINK &&
		    o.kind != FS_INTEGRATION_RUNTIME_LINK)
			o.id = 0;
	}
	return o;
}

/* Fills `e` for `t`, child of `parent`, and counts the kernel's lookup of
 * it. */
static int entry(fuse_ino_t parent, struct target *t,
		struct fuse_file_info *fi, struct fuse_entry_param *e)
{
	struct inode_obj o;
	int ret;

	memset(e, 0, sizeof(*e));
	ret = stat_target(t, fi, &e->attr, &e->attr_timeout,
			&e->entry_timeout);
	o = obj_of(t);
	if (!ret && !(e->ino = inode_ref(parent, t->name, &o)))
		ret = -ENOMEM;
	e->attr.st_ino = e->ino;
	return ret;
}

static void reply_entry(fuse_req_t req, fuse_ino_t parent, struct target *t)
{
	struct fuse_entry_param e;
	int ret = entry(parent, t, NULL, &e);

	if (ret)
		return reply_err_on(req, parent, ret);
	request_end();
	if (fuse_reply_entry(req, &e))
		inode_forget(e.ino, 1);
}

/* Replies to a request that made what `t` names (committed): its entry,
 * or, when reading it back fails, that failure, with a word in
 * .last_error that the change itself was made. */
static void reply_made(fuse_req_t req, fuse_ino_t parent, struct target *t,
		const char *op)
{
	struct fuse_entry_param e;
	char why[256];
	int ret;

	clear_errors();
	refresh(t);
	ret = entry(parent, t, NULL, &e);
	if (ret) {
		snprintf(why, sizeof(why), "%s", fs_errmsg());
		return reply_err(req, refused(op, t->path, fs_fail(ret, "it"
				" was made, but reading it back failed: %s",
				why)));
	}
	request_end();
	if (fuse_reply_entry(req, &e))
		inode_forget(e.ino, 1);
}

/* Starts a request on the name `name` in the directory `parent`. */
static int begin_child(fuse_req_t req, const char *op, fuse_ino_t parent,
		const char *name, struct target *dir, struct target *t)
{
	int ret;

	request_begin(req, op);
	ret = target_of(parent, dir);
	if (!ret)
		ret = target_child(dir, name, t);
	if (!ret)
		request_path(t->path);
	return ret;
}

/* Starts a request on the inode `ino`. */
static int begin_ino(fuse_req_t req, const char *op, fuse_ino_t ino,
		struct target *t)
{
	int ret;

	request_begin(req, op);
	if (!(ret = target_of(ino, t)))
		request_path(t->path);
	return ret;
}

/* The path of `ino`, for the log, even if it went since it was opened. */
static void path_for_log(fuse_ino_t ino, struct target *t)
{
	if (target_of(ino, t))
		strcpy(t->path, "(removed)");
	request_path(t->path);
}

/* A daemon that cannot start once it has mounted takes its mount with it
 * (lazily: the kernel waits for the INIT it will never answer), so that
 * it leaves a mountpoint, not "Transport endpoint is not connected". */
static void init_failed(const char *why)
{
	fprintf(stderr, "runtimefs: %s\n", why);
	fuse_session_unmount(self->se);
	exit(1);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	self = userdata;
	/* a restore serves what is staged, and no model until unmount */
	if (self->restore && stage_new(&self->stage, self,
			self->restore_max))
		init_failed("out of memory");
	if (!self->restore && model_open(&self->m, self->locator, &self->cfg))
		init_failed(model_errmsg());
	scratch_set_validator(scratch_valid);
	if (!self->restore && cache_start(self->se, self->m,
			self->cache_timeout))
		init_failed("cannot start the notifier");
	/* ICP's runtime API, once the model and the notifier are there */
	if (icp_http_start(self))
		init_failed(fs_errmsg());
	/* the kernel drops a file's pages when it finds its mtime or size
	 * moved: invalidations need only name attributes (cache.h) */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* writes go through to the model at once */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void ll_destroy(void *userdata)
{
	struct fs *fs = userdata;

	/* the restore becomes the database, or nothing does */
	if (fs->stage) {
		fs->failed |= stage_commit(fs->stage) != 0;
		stage_free(fs->stage);
		fs->stage = NULL;
		return;
	}
	/* no request from the listener may reach the model from here */
	icp_http_stop(fs);
	cache_stop();
	/* reads waiting for the event log end */
	fs_events_close();
	walk_fini();
	/* heartbeat times still waiting are acknowledged: if they cannot
	 * be written (a full disk), the unmount says so and fails */
	if (model_flush(fs->m)) {
		fprintf(stderr, "runtimefs: heartbeat times could not be"
				" written at unmount, and are lost: %s\n",
				model_errmsg());
		fs->failed = 1;
	}
	model_close(fs->m);
	fs->m = NULL;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct target dir, t;
	int ret = begin_child(req, "lookup", parent, name, &dir, &t);

	if (ret)
		return reply_err_on(req, parent, ret);
	reply_entry(req, parent, &t);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
		struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inode_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* `fi` if it names an open file, else NULL: getattr and setattr may come
 * with an open directory's handle (futimens on a directory). */
static struct fuse_file_info *file_only(struct fuse_file_info *fi)
{
	if (fi && fi->fh && *(unsigned *)(uintptr_t)fi->fh == FILE_MAGIC)
		return fi;
	return NULL;
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino, struct target *t,
		struct fuse_file_info *fi)
{
	double attr_timeout, entry_timeout;
	struct stat st;
	int ret = stat_target(t, fi, &st, &attr_timeout, &entry_timeout);

	if (ret)
		return fi ? reply_err(req, ret) : reply_err_on(req, ino, ret);
	st.st_ino = ino;
	request_end();
	fuse_reply_attr(req, &st, attr_timeout);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		struct fuse_file_info *fi)
{
	struct target t;
	int ret = begin_ino(req, "getattr", ino, &t);

	if (ret)
		return reply_err_on(req, ino, ret);
	fi = file_only(fi);
	/* lseek(SEEK_END) asks with the open file: a reader that goes by
	 * st_size (tail), whose offsets are the stream's (events.h) */
	if (fi && t.p.node && t.p.node->stream == FS_STREAM_EVENTS)
		fs_events_sized(&((struct fs_file *)(uintptr_t)fi->fh)->stream);
	reply_attr(req, ino, &t, fi);
}

/* The time `to_set` says of one of atime and mtime, as utimensat(2)
 * takes it. */
static struct timespec set_time(struct timespec t, int to_set, int set,
		int now)
{
	if (to_set & now)
		t.tv_nsec = UTIME_NOW;
	else if (!(to_set & set))
		t.tv_nsec = UTIME_OMIT;
	return t;
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		int to_set, struct fuse_file_info *fi)
{
	struct timespec tv[2] = {
		set_time(attr->st_atim, to_set, FUSE_SET_ATTR_ATIME,
			FUSE_SET_ATTR_ATIME_NOW),
		set_time(attr->st_mtim, to_set, FUSE_SET_ATTR_MTIME,
			FUSE_SET_ATTR_MTIME_NOW),
	};
	struct target t;
	int ret = begin_ino(req, "setattr", ino, &t);

	fi = file_only(fi);
	if (!ret && (to_set & FUSE_SET_ATTR_MODE))
		ret = op_chmod(&t, attr->st_mode);
	if (!ret && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		ret = op_chown(&t, to_set & FUSE_SET_ATTR_UID ?
				attr->st_uid : (uid_t)-1,
				to_set & FUSE_SET_ATTR_GID ?
				attr->st_gid : (gid_t)-1);
	if (!ret && (to_set & FUSE_SET_ATTR_SIZE))
		ret = op_truncate(&t, attr->st_size, fi);
	if (!ret && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)))
		ret = op_utimens(&t, tv, fi);
	if (ret)
		return fi ? reply_err(req, ret) : reply_err_on(req, ino, ret);
	reply_attr(req, ino, &t, fi);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char link[PATH_MAX];
	struct target t;
	int ret = begin_ino(req, "readlink", ino, &t);

	if (!ret)
		ret = op_readlink(&t, link, sizeof(link));
	if (ret)
		return reply_err_on(req, ino, ret);
	request_end();
	fuse_reply_readlink(req, link);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode)
{
	struct target dir, t;
	int ret = begin_child(req, "mkdir", parent, name, &dir, &t);

	if (!ret)
		ret = op_mkdir(&t, mode);
	if (ret)
		return reply_err_on(req, parent, ret);
	reply_made(req, parent, &t, "mkdir");
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct target dir, t;
	int ret = begin_child(req, "unlink", parent, name, &dir, &t);

	if (!ret && !(ret = op_unlink(&t)))
		inode_unlinked(parent, name);
	reply_err_on(req, parent, ret);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct target dir, t;
	int ret = begin_child(req, "rmdir", parent, name, &dir, &t);

	if (!ret && !(ret = op_rmdir(&t)))
		inode_unlinked(parent, name);
	reply_err_on(req, parent, ret);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name)
{
	struct target dir, t;
	int ret = begin_child(req, "symlink", parent, name, &dir, &t);

	if (!ret)
		ret = op_symlink(&t, link);
	if (ret)
		return reply_err_on(req, parent, ret);
	reply_made(req, parent, &t, "symlink");
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct target dir, from, newdir, to;
	struct inode_obj o;
	int ret = begin_child(req, "rename", parent, name, &dir, &from);

	if (!ret && !(ret = target_of(newparent, &newdir)))
		ret = target_child(&newdir, newname, &to);
	if (!ret)
		ret = op_rename(&from, &to, flags);
	/* the kernel moved its name: the inode now stands for what `to`
	 * names (a value file, or the scratch file moved) */
	if (!ret) {
		refresh(&to);
		o = obj_of(&to);
		inode_move(parent, name, newparent, newname, &o);
	}
	if (ret == -ENOENT && gone(newparent))
		ret = -ESTALE;
	reply_err_on(req, parent, ret);
}

/* How the kernel treats a file just opened (op_open() has set direct_io
 * where the content depends on the moment or the caller).  A read-only
 * file keeps its pages in the kernel: every change to it is told
 * (cache.h), and a read asks for the attributes when they are due, which
 * drops the pages if the mtime moved.  A value file's content is what
 * its store made of the last write, not the bytes written: writes go
 * straight through, and readers read it anew.  Only a document written
 * may need flush (op_flush). */
static void open_flags(struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	int reading = (fi->flags & O_ACCMODE) == O_RDONLY;

	fi->noflush = reading;
	if (!reading)
		fi->direct_io = 1;
	fi->keep_cache = reading && !fi->direct_io && !f->scratch &&
		!f->p.node->store && !f->p.node->write;
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct target t;
	int ret;

	request_begin(req, "open");
	/* what a change before this open touched is told first (cache.h) */
	cache_barrier();
	ret = target_of(ino, &t);
	if (!ret)
		ret = op_open(&t, fi);
	if (ret)
		return reply_err_on(req, ino, ret);
	open_flags(fi);
	request_end();
	if (fuse_reply_open(req, fi))
		op_release((struct fs_file *)(uintptr_t)fi->fh, t.path);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	char *out = malloc(size ? size : 1);
	struct fs_file *f;
	int ret;

	(void)ino;
	request_begin(req, "read");
	if (!out)
		return reply_err(req, -ENOMEM);
	f = (struct fs_file *)(uintptr_t)fi->fh;
	if (f->p.node && f->p.node->stream == FS_STREAM_EVENTS &&
	    !f->staged && !f->scratch) {
		/* answered now or when the log grows (events.h) */
		free(out);
		request_end();
		fs_events_read(req, f->p.live ? f->p.live : f->p.m, &f->stream,
				size, off, fi->flags);
		return;
	}
	ret = op_read(f, out, size, off);
	request_end();
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, out, (size_t)ret);
	free(out);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		size_t size, off_t off, struct fuse_file_info *fi)
{
	struct target t;
	int ret;

	request_begin(req, "write");
	path_for_log(ino, &t);
	ret = op_write((struct fs_file *)(uintptr_t)fi->fh, t.path, data,
			size, off);
	if (ret < 0)
		return reply_err(req, ret);
	request_end();
	fuse_reply_write(req, (size_t)ret);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino,
		struct fuse_file_info *fi)
{
	struct target t;

	request_begin(req, "flush");
	path_for_log(ino, &t);
	reply_err(req, op_flush((struct fs_file *)(uintptr_t)fi->fh, t.path));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		struct fuse_file_info *fi)
{
	struct target t;

	request_begin(req, "release");
	path_for_log(ino, &t);
	op_release((struct fs_file *)(uintptr_t)fi->fh, t.path);
	reply_err(req, 0);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct target dir, t;
	int ret = begin_child(req, "create", parent, name, &dir, &t);

	if (!ret)
		ret = op_create(&t, mode, fi);
	if (ret)
		return reply_err_on(req, parent, ret);
	/* what was made: a value file back, a secret, a scratch file */
	if (!((struct fs_file *)(uintptr_t)fi->fh)->scratch &&
	    t.err == -ENOENT)
		refresh(&t);
	ret = entry(parent, &t, fi, &e);
	if (ret) {
		op_release((struct fs_file *)(uintptr_t)fi->fh, t.path);
		return reply_err(req, ret);
	}
	open_flags(fi);
	request_end();
	if (fuse_reply_create(req, &e, fi)) {
		inode_forget(e.ino, 1);
		op_release((struct fs_file *)(uintptr_t)fi->fh, t.path);
	}
}

/* A directory's listing stays in the kernel while no change of its names
 * came since it was given (cache.h) and no value file hidden then is
 * back. */
static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		struct fuse_file_info *fi)
{
	struct fs_dir *d = calloc(1, sizeof(*d));
	struct target t;
	int64_t ns = 0;
	int kept, ret;

	request_begin(req, "opendir");
	if (!d)
		return reply_err(req, -ENOMEM);
	d->magic = DIR_MAGIC;
	cache_barrier();
	ret = target_of(ino, &t);
	if (!ret)
		ret = dir_check(&t);
	if (!ret)
		ret = STAGED(&t) ? stage_access(stage(), t.sid, R_OK) :
			fs_access_check(&t.p, R_OK);
	if (ret) {
		free(d);
		return reply_err_on(req, ino, ret);
	}
	/* a process that opens its way down may be removing it (walk.h) */
	if (!STAGED(&t))
		walk_opened(request_pid(), request_uid(), t.path,
				is_object(&t.p));
	kept = inode_listing_kept(ino, &ns);
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = fs_ctx()->cache_timeout > 0 && !STAGED(&t);
	fi->keep_cache = fi->cache_readdir && kept &&
		ns > scratch_hidden_until();
	/* a listing older than a change may still be filed into the cache
	 * this open would read (inode.h): this one reads past it */
	if (!fi->keep_cache && inode_listing_reset(ino))
		fi->cache_readdir = 0;
	request_end();
	if (fuse_reply_open(req, fi)) {
		dir_forget(d);
		free(d);
	}
}


#ifdef STORE_FAULTS
/* The test build's RUNTIMEFS_SLOW_LISTING=PATH:MS[,MS...]: the first
 * listings of directory PATH from its start wait MS each after they were
 * read and before they are sent, as a reader the scheduler put aside
 * between its reply and its filing would (t_cache.sh). */
static void slow_listing(const struct target *t, off_t off)
{
	static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
	static unsigned used;
	const char *v = getenv("RUNTIMEFS_SLOW_LISTING"), *colon, *ms;
	long wait = 0;
	unsigned i = 0;

	if (!v || off != 0 || !(colon = strchr(v, ':')) ||
	    strlen(t->path) != (size_t)(colon - v) ||
	    strncmp(t->path, v, (size_t)(colon - v)))
		return;
	pthread_mutex_lock(&slow_lock);
	for (ms = colon + 1; *ms; i++) {
		char *end;
		long n = strtol(ms, &end, 10);

		if (i == used) {
			wait = n;
			used++;
			break;
		}
		ms = *end == ',' ? end + 1 : end + strlen(end);
	}
	pthread_mutex_unlock(&slow_lock);
	if (wait > 0)
		usleep((useconds_t)wait * 1000);
}
#else
#define slow_listing(t, off) ((void)(t), (void)(off))
#endif

/* readdir and readdirplus: the names from `off` on, as many as fit, with
 * their attributes for readdirplus (each counts as a lookup, one step
 * from the directory). */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		off_t off, struct fuse_file_info *fi, int plus)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	char *out = malloc(size ? size : 1);
	struct target t, child;
	size_t len = 0;
	int ret = out ? 0 : -ENOMEM;

	request_begin(req, plus ? "readdirplus" : "readdir");
	/* the kernel has filed this open's last reply, or never will */
	if (d->unsettled)
		inode_listing_settled(ino);
	d->unsettled = 0;
	if (!ret)
		ret = target_of(ino, &t);
	/* from the start again (rewinddir): the names as they are now */
	if (!ret && (off == 0 || !d->names)) {
		d->start = inode_listing_start();
		d->read_ns = fs_now_ns();
		ret = dir_read(d, &t);
	}
	for (size_t i = (size_t)off; !ret && off >= 0 && i < d->n; i++) {
		const char *name = d->names[i];
		struct fuse_entry_param e = { 0 };
		size_t need;

		/* glibc skips a name of inode 0: say "unknown" (libfuse's
		 * high-level API does the same) until the kernel looks it up */
		e.attr.st_mode = d->types[i];
		e.attr.st_ino = i == 0 ? ino : UNKNOWN_INO;
		if (!plus) {
			need = fuse_add_direntry(req, out + len, size - len,
					name, &e.attr, (off_t)i + 1);
			if (need > size - len)
				break;
			len += need;
			continue;
		}
		need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
		if (need > size - len)
			break;
		/* "." and "..", and a name gone since: no attributes */
		if (i >= 2 && (target_child(&t, name, &child) ||
				entry(ino, &child, NULL, &e))) {
			memset(&e, 0, sizeof(e));
			e.attr.st_mode = d->types[i];
			e.attr.st_ino = UNKNOWN_INO;
		}
		len += fuse_add_direntry_plus(req, out + len, size - len, name,
				&e, (off_t)i + 1);
	}
	if (ret) {
		free(out);
		return reply_err(req, ret);
	}
	inode_listing_given(ino, d->start, d->read_ns);
	d->unsettled = 1;
	request_end();
	slow_listing(&t, off);
	fuse_reply_buf(req, out, len);
	free(out);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
		off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
		struct fuse_file_info *fi)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;

	if (d->unsettled)
		inode_listing_settled(ino);
	dir_forget(d);
	free(d);
	fuse_reply_err(req, 0);
}

static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct target t;
	int ret = begin_ino(req, "access", ino, &t);

	if (!ret)
		ret = op_access(&t, mask);
	reply_err_on(req, ino, ret);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	(void)ino;
	op_statfs(&st);
	fuse_reply_statfs(req, &st);
}

/* No getxattr or listxattr: the kernel hears ENOSYS once and asks no
 * more. */
const struct fuse_lowlevel_ops fs_operations = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.create = ll_create,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.statfs = ll_statfs,
	.access = ll_access,
};
