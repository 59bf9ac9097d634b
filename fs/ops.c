/*
 * ops.c - the FUSE operations: resolve the path in the node table, call the
 * node's handler, turn the answer into bytes and attributes.
 *
 * Reads are served from a copy of the content taken at open(), so a reader
 * sees one whole value even while it changes.  Writes to value files
 * gather the bytes of one open file and apply the value in the write()
 * call itself, so the shell sees the error.  Every refused change is
 * recorded for MOUNT/.last_error and the log.
 *
 * A transaction file (a node with `write`, MOUNT/heartbeat) is different:
 * each write() is one request, whole, and reads of the same open file
 * return the reply to the last one, from its start, whatever the file
 * offset (which the write moved).
 */
#include "fs.h"
#include "lasterr.h"
#include "nodes.h"
#include "scratch.h"
#include "tree.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

/* What an open file keeps. */
struct fs_file {
	struct fs_path p;
	struct buf content;        /* what reads return */
	struct buf written;        /* what writes have brought so far */
	struct scratch *scratch;   /* a scratch file (scratch.h), or NULL */
	int pending;               /* a document not yet complete */
	size_t pos;                /* transaction files: reply read so far */
	pthread_mutex_t lock;      /* transaction files: one request at once */
};

static struct fs *fs_ctx(void)
{
	return fuse_get_context()->private_data;
}

/* Records a refused change for .last_error and the log; returns err. */
static int refused(const char *op, const char *path, int err)
{
	const char *why = *fs_errmsg() ? fs_errmsg() : model_errmsg();

	if (err < 0)
		lasterr_record(fuse_get_context()->uid, op, path, err, why);
	return err;
}

static void clear_errors(void)
{
	fs_errclear();
	model_errclear();
}

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
	buf_init(&v->buf, VALUE_MAX * 16);
	v->mtime_ns = 0;
	if (!p->node->show)
		return 0;
	return p->node->show(p, v);
}

static void fill_stat(const struct fs_path *p, const struct fs_value *v,
		struct stat *st)
{
	struct fs *fs = fs_ctx();
	int64_t t = v->mtime_ns ? v->mtime_ns : fs_started_ns;

	memset(st, 0, sizeof(*st));
	st->st_mode = fs_mode(p);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs_access_gid(p, fs->gid);
	st->st_size = S_ISDIR(st->st_mode) ? 0 : (off_t)v->buf.len;
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
	struct fs_path p;
	struct fs_value v;
	int ret;

	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch) {
		scratch_stat(((struct fs_file *)(uintptr_t)fi->fh)->scratch,
				fs_ctx()->uid, fs_ctx()->gid, st);
		return 0;
	}
	if (scratch_hidden(path))
		return -ENOENT;
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (ret == -ENOENT &&
	    !scratch_stat_path(path, fs_ctx()->uid, fs_ctx()->gid, st))
		return 0;
	if (ret)
		return ret;
	ret = show(&p, &v);
	if (!ret)
		fill_stat(&p, &v, st);
	buf_release(&v.buf);
	return ret == -EINVAL ? -ENOENT : ret;
}

struct dir_fill {
	void *buf;
	fuse_fill_dir_t filler;
	const char *dir;
};

static int dir_fill(void *ctx, const char *name)
{
	struct dir_fill *d = ctx;
	char path[PATH_MAX];

	/* a value file hidden for a moment (scratch.h) is not listed */
	if (snprintf(path, sizeof(path), "%s/%s", strcmp(d->dir, "/") ?
			d->dir : "", name) < (int)sizeof(path) &&
	    scratch_hidden(path))
		return 0;
	return d->filler(d->buf, name, NULL, 0, 0) ? -ENOBUFS : 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		off_t off, struct fuse_file_info *fi,
		enum fuse_readdir_flags flags)
{
	struct dir_fill d = { buf, filler, path };
	struct fs_path p;
	int ret;

	(void)off;
	(void)fi;
	(void)flags;
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (ret)
		return ret;
	if (!S_ISDIR(fs_mode(&p)))
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	ret = fs_list(&p, dir_fill, &d);
	if (!ret)
		ret = scratch_list(path, dir_fill, &d);
	return ret == -ENOBUFS ? 0 : ret;
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

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs_file *f;
	struct fs_value v;
	int ret;

	clear_errors();
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	buf_init(&f->written, VALUE_MAX);
	pthread_mutex_init(&f->lock, NULL);
	f->scratch = scratch_open(path);
	if (f->scratch) {
		fi->fh = (uintptr_t)f;
		fi->direct_io = 1;
		return 0;
	}
	ret = fs_resolve(fs_ctx()->m, path, &f->p);
	if (!ret && S_ISDIR(fs_mode(&f->p)))
		ret = -EISDIR;
	/* credentials (no read bit for others) are the admins' even
	 * without -o default_permissions */
	if (!ret && !fs_access_may_open(&f->p, fs_ctx()->uid))
		ret = refused("open", path, fs_fail(-EACCES, "only the owner"
				" and the admins may open this file"));
	if (!ret && (fi->flags & O_ACCMODE) != O_RDONLY &&
	    (ret = writable(&f->p)))
		ret = refused("open", path, ret);
	if (!ret) {
		ret = show(&f->p, &v);
		f->content = v.buf;
	}
	if (ret) {
		buf_release(&f->content);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return ret;
	}
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
	ret = buf_add(&f->written, data, size);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a request is at most %d bytes",
				VALUE_MAX);
	if (!ret)
		ret = f->p.node->write(&f->p, f->written.data,
				f->written.len, &f->content);
	if (ret != FS_MORE)
		buf_reset(&f->written);
	pthread_mutex_unlock(&f->lock);
	if (ret == FS_MORE)
		ret = 0;
	return ret ? refused("write", path, ret) : (int)size;
}

static int op_read(const char *path, char *out, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	size_t n;

	(void)path;
	if (f->scratch)
		return scratch_read(f->scratch, out, size, off);
	if (f->p.node && f->p.node->write)
		return read_reply(f, out, size);
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

static int op_write(const char *path, const char *data, size_t size,
		off_t off, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	int ret;

	clear_errors();
	if (f->p.node && f->p.node->write)
		return transact(f, path, data, size);
	if (off < 0)
		return -EINVAL;
	if (f->scratch) {
		ret = scratch_write(f->scratch, data, size, off);
		return ret < 0 ? refused("write", path, ret) : ret;
	}
	f->pending = 0;
	ret = buf_put(&f->written, (size_t)off, data, size);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a value is at most %d bytes",
				VALUE_MAX);
	if (ret)
		return refused("write", path, ret);
	/* a document may come in several writes: apply it once whole */
	f->pending = f->p.node->document &&
		!memchr(f->written.data, '\0', f->written.len) &&
		!fs_json_complete(f->written.data, f->written.len);
	if (f->pending)
		return (int)size;
	ret = store_value(&f->p, f->written.data, f->written.len);
	return ret ? refused("write", path, ret) : (int)size;
}

/* A document left incomplete is refused at close, the last chance. */
static int op_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

	if (!f->pending)
		return 0;
	clear_errors();
	f->pending = 0;
	return refused("write", path, fs_fail(-EINVAL, "the JSON document"
			" is incomplete (%zu bytes written): nothing was"
			" applied", f->written.len));
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

	if (f->scratch)
		scratch_put(f->scratch);
	if (f->p.node && f->p.node->write && f->written.len)
		refused("close", path, fs_fail(-EINVAL, "an unfinished"
				" request of %zu bytes was dropped",
				f->written.len));
	buf_release(&f->content);
	buf_release(&f->written);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

/* O_TRUNC and truncate(2) on a value file are accepted and change nothing:
 * the value changes when one is written. */
static int op_truncate(const char *path, off_t size,
		struct fuse_file_info *fi)
{
	struct scratch *f;
	struct fs_path p;
	int ret;

	clear_errors();
	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch)
		return scratch_truncate(
			((struct fs_file *)(uintptr_t)fi->fh)->scratch, size);
	if (fi)
		return 0;
	if (!fi && (f = scratch_open(path))) {
		ret = scratch_truncate(f, size);
		scratch_put(f);
		return ret;
	}
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (!ret)
		ret = writable(&p);
	return ret ? refused("truncate", path, ret) : 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	char name[NAME_MAX + 1];
	const struct fs_node *n;
	struct fs_path dir;
	int ret;

	(void)mode;
	clear_errors();
	ret = fs_resolve_parent(fs_ctx()->m, path, &dir, name);
	if (ret)
		return refused("mkdir", path, ret);
	n = fs_named_child(&dir);
	if (!n || !n->mkdir || dir.readonly || !S_ISDIR(n->mode))
		ret = not_allowed(&dir, "mkdir");
	else
		ret = n->mkdir(&dir, name);
	return refused("mkdir", path, ret);
}

static int op_rmdir(const char *path)
{
	struct fs_path p;
	int ret;

	clear_errors();
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (!ret && !S_ISDIR(fs_mode(&p)))
		ret = -ENOTDIR;
	else if (!ret)
		ret = p.node->rmdir && !p.readonly ? p.node->rmdir(&p) :
			not_allowed(&p, "rmdir");
	if (!ret)
		scratch_forget_under(path);
	return refused("rmdir", path, ret);
}

static int op_unlink(const char *path)
{
	struct fs_path p;
	int ret;

	clear_errors();
	if (!scratch_unlink(path))
		return 0;
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (!ret && S_ISDIR(fs_mode(&p)))
		ret = -EISDIR;
	else if (!ret && p.node->store && !p.readonly && !p.node->unlink)
		scratch_hide(path);     /* mv from elsewhere: see scratch.h */
	else if (!ret)
		ret = p.node->unlink && !p.readonly ? p.node->unlink(&p) :
			not_allowed(&p, "removing this file");
	return refused("unlink", path, ret);
}

static int op_symlink(const char *target, const char *path)
{
	char name[NAME_MAX + 1];
	const struct fs_node *n;
	struct fs_path dir;
	int ret;

	clear_errors();
	ret = fs_resolve_parent(fs_ctx()->m, path, &dir, name);
	if (!ret) {
		n = fs_named_child(&dir);
		ret = n && n->symlink && !dir.readonly ?
			n->symlink(&dir, name, target) :
			not_allowed(&dir, "a symlink");
	}
	return refused("symlink", path, ret);
}

static int op_readlink(const char *path, char *out, size_t size)
{
	struct fs_path p;
	struct fs_value v;
	int ret;

	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (ret)
		return ret;
	if (!S_ISLNK(fs_mode(&p)))
		return -EINVAL;
	ret = show(&p, &v);
	if (!ret && size > 0) {
		size_t n = v.buf.len < size - 1 ? v.buf.len : size - 1;

		memcpy(out, v.buf.data, n);
		out[n] = '\0';
	}
	buf_release(&v.buf);
	return ret;
}

/* Creating a file: a value file that was just unlinked comes back (and
 * is opened for writing); any other new name in a directory of value
 * files is a scratch file. */
static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	char name[NAME_MAX + 1];
	const struct fs_node *n;
	struct fs_path dir, p;
	struct fs_file *f;
	int ret;

	clear_errors();
	ret = fs_resolve_parent(fs_ctx()->m, path, &dir, name);
	if (!ret && scratch_hidden(path)) {
		scratch_unhide(path);
		return op_open(path, fi);
	}
	/* a kind made by creating a file (a secret) */
	n = ret ? NULL : fs_named_child(&dir);
	if (n && n->create && !dir.readonly) {
		ret = n->create(&dir, name);
		return ret ? refused("create", path, ret) : op_open(path, fi);
	}
	if (!ret && !scratch_dir_ok(&dir))
		ret = not_allowed(&dir, "creating a file");
	if (!ret && fs_resolve(fs_ctx()->m, path, &p) != -ENOENT)
		ret = -EEXIST;
	if (ret)
		return refused("create", path, ret);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	buf_init(&f->written, VALUE_MAX);
	buf_init(&f->content, 0);
	pthread_mutex_init(&f->lock, NULL);
	ret = scratch_create(path, mode, &f->scratch);
	if (ret) {
		free(f);
		return refused("create", path, ret);
	}
	fi->fh = (uintptr_t)f;
	fi->direct_io = 1;
	return 0;
}

/* Whether `path` names a backup (vim's backupext, "~"). */
static int backup_name(const char *path)
{
	size_t n = strlen(path);

	return n > 1 && path[n - 1] == '~' && path[n - 2] != '/';
}

/* Renaming a scratch file over a value file applies its content, as a
 * write would, and the scratch file goes; between scratch names it is a
 * move.  A value file renamed to NAME~ (vim's backup) leaves a scratch
 * copy under that name and hides for a moment, see scratch.h. */
static int op_rename(const char *from, const char *to, unsigned int flags)
{
	char name[NAME_MAX + 1];
	struct fs_path p, dir;
	struct fs_value v;
	struct buf content;
	struct stat st;
	int ret, target;

	clear_errors();
	if (flags & ~RENAME_NOREPLACE)
		return refused("rename", from, fs_fail(-EINVAL, "only plain"
				" renames are supported here"));
	ret = fs_resolve_parent(fs_ctx()->m, to, &dir, name);
	target = ret ? ret : fs_resolve(fs_ctx()->m, to, &p);
	if (!ret && (flags & RENAME_NOREPLACE) && (!target ||
			!scratch_stat_path(to, 0, 0, &st)))
		ret = -EEXIST;
	if (ret)
		return refused("rename", from, ret);
	buf_init(&content, VALUE_MAX);
	if (!scratch_content(from, &content)) {
		if (target == -ENOENT && scratch_dir_ok(&dir))
			ret = scratch_rename(from, to);
		else if (target == -ENOENT)
			ret = not_allowed(&dir, "renaming");
		else if (target)
			ret = target;
		else if (!p.node->store || p.readonly)
			ret = p.readonly ? not_allowed(&p, "renaming") :
				fs_fail(-EACCES, "this file is read-only");
		else if (!(ret = store_value(&p, content.data, content.len)))
			scratch_unlink(from);
		if (!ret)
			scratch_unhide(to);
	} else if (!(ret = fs_resolve(fs_ctx()->m, from, &p)) &&
		   p.node->store && !p.readonly && target == -ENOENT &&
		   scratch_dir_ok(&dir) && backup_name(to)) {
		ret = show(&p, &v);
		if (!ret)
			ret = scratch_create_with(to, v.buf.data, v.buf.len);
		buf_release(&v.buf);
		if (!ret)
			scratch_hide(from);
	} else if (!ret) {
		ret = not_allowed(&p, "renaming");
	}
	buf_release(&content);
	return refused("rename", from, ret);
}

/* Times are the model's: setting them is accepted and changes nothing, so
 * that `touch` and `cp -a`/`rsync -a` into the tree work. */
static int op_utimens(const char *path, const struct timespec tv[2],
		struct fuse_file_info *fi)
{
	struct stat st;
	struct fs_path p;
	int ret;

	(void)tv;
	if (fi && fi->fh && ((struct fs_file *)(uintptr_t)fi->fh)->scratch)
		return 0;
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (ret == -ENOENT && !scratch_stat_path(path, 0, 0, &st))
		return 0;
	if (!ret && p.readonly)
		ret = not_allowed(&p, "setting times");
	return ret;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs_path p;
	int ret;

	(void)fi;
	clear_errors();
	if (!scratch_chmod(path, mode))
		return 0;
	ret = fs_resolve(fs_ctx()->m, path, &p);
	if (!ret && (mode & 07777) != (fs_mode(&p) & 07777))
		ret = fs_fail(-EPERM, "modes are fixed by the tree");
	return refused("chmod", path, ret);
}

/* Owners are the daemon's: giving a file to its owner again is accepted
 * (sed -i and cp -a do it), anything else is not. */
static int op_chown(const char *path, uid_t uid, gid_t gid,
		struct fuse_file_info *fi)
{
	struct stat st;
	struct fs_path p;
	int ret = 0;

	(void)fi;
	clear_errors();
	if (scratch_stat_path(path, 0, 0, &st) &&
	    (ret = fs_resolve(fs_ctx()->m, path, &p)))
		return ret;
	if ((uid != (uid_t)-1 && uid != fs_ctx()->uid) ||
	    (gid != (gid_t)-1 && gid != fs_ctx()->gid))
		ret = fs_fail(-EPERM, "every file belongs to the daemon's"
				" user");
	return refused("chown", path, ret);
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
	struct fs *fs = fuse_get_context()->private_data;

	(void)conn;
	if (model_open(&fs->m, fs->db, &fs->cfg)) {
		fprintf(stderr, "runtimefs: %s\n", model_errmsg());
		exit(1);
	}
	/* Values change behind the kernel's back (heartbeats, time), so the
	 * kernel must ask every time. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	/* unlink of an open file removes it at once, no .fuse_hidden files */
	cfg->hard_remove = 1;
	return fs;
}

static void op_destroy(void *data)
{
	struct fs *fs = data;

	model_close(fs->m);
	fs->m = NULL;
}

const struct fuse_operations fs_ops_inner = {
	.init = op_init,
	.destroy = op_destroy,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
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
	.flush = op_flush,
	.statfs = op_statfs,
};
