/*
 * stage.c - the staged tree of a restore mount (stage.h): entries in
 * memory, found by id (what the kernel's inodes keep) and by directory
 * and name, each knowing the node kind of the tree it stands for.
 */
#include "stage.h"
#include "backup.h"
#include "fs.h"
#include "inode.h"
#include "lasterr.h"
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALLOC_OVERHEAD 16           /* malloc's header and rounding */
#define BUCKETS_MIN 1024
#define DEPTH_MAX 32                /* a tree is 8 deep; cp's temporaries more */

/* A staged entry.  Type 'e' is the root's .last_error. */
struct entry {
	uint64_t id;
	struct entry *parent;
	struct entry *child, *last;         /* its entries, in order made */
	struct entry *prev, *next;          /* its siblings */
	struct entry *by_id, *by_key;       /* hash chains */
	char *name;
	char type;                          /* 'd', 'f', 'l' or 'e' */
	int kind;                           /* node kind, or FS_IGNORED */
	const struct fs_attr *attr;
	mode_t mode;
	struct buf data;                    /* a file's bytes, a link's target */
	int64_t mtime_ns;
};

struct stage {
	pthread_mutex_t lock;               /* recursive: the check walks */
	struct fs *fs;
	size_t max;
	/* what the entries hold, counted as allocated: each entry, its
	 * name and its data's allocation (not its length) with malloc's
	 * overhead; whatever grows it counts against `max` */
	size_t held;
	size_t count;                       /* entries, the root aside */
	uint64_t next_id;
	struct entry **by_id, **by_key;
	size_t nbuckets;
	struct entry *root;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* -- memory -------------------------------------------------------------- */

static size_t alloc_cost(size_t n)
{
	return n ? n + ALLOC_OVERHEAD : 0;
}

static size_t entry_cost(const char *name)
{
	return alloc_cost(sizeof(struct entry)) + alloc_cost(strlen(name) + 1);
}

/* Room for `more` bytes more: 0, or -ENOSPC. */
static int reserve(struct stage *s, size_t more)
{
	if (more <= s->max && s->held <= s->max - more)
		return 0;
	return fs_fail(-ENOSPC, "a restore stages at most %zu MiB in memory"
			" (entries, names and data as allocated; -o"
			" restore_max=MIB)", s->max >> 20);
}

/* Writes `len` bytes at `off` into an entry's data, counting what it
 * grows by. */
static int put(struct stage *s, struct entry *e, size_t off,
		const void *data, size_t len)
{
	size_t before = alloc_cost(e->data.alloc), after;
	int ret;

	if (off > STAGE_FILE_MAX || len > STAGE_FILE_MAX - off)
		return fs_fail(-EFBIG, "a file of a backup is at most %d"
				" bytes", STAGE_FILE_MAX);
	after = alloc_cost(buf_alloc_for(&e->data, off + len));
	if (after > before && (ret = reserve(s, after - before)))
		return ret;
	ret = buf_put(&e->data, off, data, len);
	s->held = s->held - before + alloc_cost(e->data.alloc);
	return ret;
}

/* Cuts an entry's data to `len` bytes, giving back what it no longer
 * needs. */
static int cut(struct stage *s, struct entry *e, size_t len)
{
	struct buf b;
	int ret = 0;

	buf_init(&b, STAGE_FILE_MAX);
	if (len && (ret = buf_add(&b, e->data.data, len)))
		return ret;
	s->held = s->held - alloc_cost(e->data.alloc) + alloc_cost(b.alloc);
	buf_release(&e->data);
	e->data = b;
	return 0;
}

/* -- the tables ---------------------------------------------------------- */

static size_t hash_id(const struct stage *s, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 11) % s->nbuckets;
}

static size_t hash_key(const struct stage *s, uint64_t dir,
		const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (dir * 0x9e3779b97f4a7c15ULL);

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return (size_t)(h % s->nbuckets);
}

static void hash_in(struct stage *s, struct entry *e)
{
	size_t k;

	k = hash_id(s, e->id);
	e->by_id = s->by_id[k];
	s->by_id[k] = e;
	if (!e->parent)
		return;
	k = hash_key(s, e->parent->id, e->name);
	e->by_key = s->by_key[k];
	s->by_key[k] = e;
}

static void hash_out(struct stage *s, struct entry *e)
{
	struct entry **pp = &s->by_id[hash_id(s, e->id)];

	while (*pp != e)
		pp = &(*pp)->by_id;
	*pp = e->by_id;
	if (!e->parent)
		return;
	pp = &s->by_key[hash_key(s, e->parent->id, e->name)];
	while (*pp != e)
		pp = &(*pp)->by_key;
	*pp = e->by_key;
}

/* Rehashes every entry into `n` buckets; keeps the old ones if memory
 * runs out. */
static void rehash(struct stage *s, struct entry *e)
{
	hash_in(s, e);
	for (struct entry *c = e->child; c; c = c->next)
		rehash(s, c);
}

static void grow(struct stage *s)
{
	struct entry **id = calloc(s->nbuckets * 2, sizeof(*id));
	struct entry **key = calloc(s->nbuckets * 2, sizeof(*key));

	if (!id || !key) {
		free(id);
		free(key);
		return;
	}
	free(s->by_id);
	free(s->by_key);
	s->by_id = id;
	s->by_key = key;
	s->nbuckets *= 2;
	rehash(s, s->root);
}

static struct entry *find(struct stage *s, uint64_t id)
{
	struct entry *e = s->by_id[hash_id(s, id)];

	while (e && e->id != id)
		e = e->by_id;
	return e;
}

static struct entry *child(struct stage *s, const struct entry *dir,
		const char *name)
{
	struct entry *e = s->by_key[hash_key(s, dir->id, name)];

	while (e && (e->parent != dir || strcmp(e->name, name)))
		e = e->by_key;
	return e;
}

static void link_child(struct entry *dir, struct entry *e)
{
	e->parent = dir;
	e->prev = dir->last;
	e->next = NULL;
	if (dir->last)
		dir->last->next = e;
	else
		dir->child = e;
	dir->last = e;
}

static void unlink_child(struct entry *e)
{
	struct entry *dir = e->parent;

	if (e->prev)
		e->prev->next = e->next;
	else
		dir->child = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		dir->last = e->prev;
}

/* -- what an entry is ------------------------------------------------------ */

/* The path of `e` from the root, "" for the root; -ENAMETOOLONG. */
static int path_of(const struct entry *e, char *buf, size_t cap)
{
	size_t len;

	if (!e->parent) {
		*buf = '\0';
		return 0;
	}
	if (path_of(e->parent, buf, cap))
		return -ENAMETOOLONG;
	len = strlen(buf);
	if (len + 1 + strlen(e->name) + 1 > cap)
		return -ENAMETOOLONG;
	snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", e->name);
	return 0;
}

/* The path of child `name` of `dir`. */
static int child_path(const struct entry *dir, const char *name, char *buf,
		size_t cap)
{
	size_t len;

	if (path_of(dir, buf, cap))
		return -ENAMETOOLONG;
	len = strlen(buf);
	if (len + 1 + strlen(name) + 1 > cap)
		return -ENAMETOOLONG;
	snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", name);
	return 0;
}

static int depth(const struct entry *e)
{
	int n = 0;

	for (; e->parent; e = e->parent)
		n++;
	return n;
}

/* Where `e` stands in the tree (its kind must be a node kind). */
static int tree_path(const struct entry *e, struct fs_path *p)
{
	struct inode_link links[DEPTH_MAX];
	int n = depth(e), i = n;

	if (n > DEPTH_MAX)
		return -ENAMETOOLONG;
	for (const struct entry *x = e; x->parent; x = x->parent) {
		struct inode_link *l = &links[--i];

		memset(&l->obj, 0, sizeof(l->obj));
		l->obj.kind = x->kind;
		l->obj.attr = x->attr;
		snprintf(l->name, sizeof(l->name), "%s", x->name);
	}
	return fs_path_of(NULL, links, n, p);
}

/* Whether the caller may change what is staged: root, the daemon's user
 * and the admin group, as in the live tree. */
static int may_change(void)
{
	uid_t uid = request_uid();

	return uid == 0 || uid == fs_access.owner ||
		request_in_group(fs_access.admin_gid);
}

/* The refusal of a change to a caller who may not make it. */
static int denied(int err)
{
	if (fs_access.admin_gid != (gid_t)-1)
		return fs_fail(err, "only root, uid %u (the daemon's user) and"
				" group %u may change a restore",
				(unsigned)fs_access.owner,
				(unsigned)fs_access.admin_gid);
	return fs_fail(err, "only root and uid %u (the daemon's user) may"
			" change a restore", (unsigned)fs_access.owner);
}

/* The mode `e` shows: key material (what the tree shows without a read
 * bit for others) is the admins' whatever the tool gave it, and the
 * admin group has the owner's rights, as in the live tree. */
static mode_t mode_of(const struct entry *e)
{
	mode_t mode;

	switch (e->type) {
	case 'd':
		mode = S_IFDIR | e->mode;
		break;
	case 'l':
		return S_IFLNK | 0777;
	case 'e':
		mode = S_IFREG | 0444;
		break;
	default:
		mode = S_IFREG | e->mode;
		if (e->kind != FS_IGNORED && !((e->attr ? e->attr->mode :
				fs_nodes[e->kind].mode) & S_IROTH))
			mode &= ~(mode_t)077;
	}
	if (fs_access.admin_gid != (gid_t)-1)
		mode |= (mode & 0700) >> 3;
	return mode;
}

static gid_t gid_of(const struct entry *e)
{
	return e->type == 'l' ? fs_access.group :
		fs_access_gid(NULL, fs_access.group);
}

/* -- staging ------------------------------------------------------------- */

static void drop(struct stage *s, struct entry *e)
{
	hash_out(s, e);
	unlink_child(e);
	s->count--;
	s->held -= entry_cost(e->name) + alloc_cost(e->data.alloc);
	buf_release(&e->data);
	free(e->name);
	free(e);
}

/* Stages child `name` of `dir`, of `type`: the layout of a tree must
 * allow it.  'f' named .last_error in the root is that file again. */
static int add(struct stage *s, struct entry *dir, const char *name,
		char type, mode_t mode, struct entry **out)
{
	const struct fs_attr *attr = NULL;
	char path[PATH_MAX];
	struct entry *e;
	int kind, ret;

	if (dir->type != 'd')
		return -ENOTDIR;
	if (child(s, dir, name))
		return -EEXIST;
	if (strlen(name) > NAME_MAX || child_path(dir, name, path,
			sizeof(path)) || depth(dir) >= DEPTH_MAX)
		return fs_fail(-ENAMETOOLONG, "'%.40s...' is too long for a"
				" runtimefs tree", path);
	if ((ret = fs_backup_kind(dir->kind, name, type, path, &kind,
			&attr)))
		return ret;
	if (!dir->parent && type == 'f' &&
	    !strcmp(name, fs_nodes[FS_LAST_ERROR].name))
		type = 'e';
	if ((ret = reserve(s, entry_cost(name))))
		return ret;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return fs_fail(-ENOMEM, "out of memory");
	}
	e->id = s->next_id++;
	e->type = type;
	e->kind = kind;
	e->attr = attr;
	e->mode = mode & 07777;
	e->mtime_ns = now_ns();
	buf_init(&e->data, STAGE_FILE_MAX);
	link_child(dir, e);
	hash_in(s, e);
	s->count++;
	s->held += entry_cost(name);
	if (s->count >= s->nbuckets)
		grow(s);
	if (out)
		*out = e;
	return 0;
}

int stage_new(struct stage **out, struct fs *fs, size_t max)
{
	struct stage *s = calloc(1, sizeof(*s));
	pthread_mutexattr_t ma;
	struct entry *root = calloc(1, sizeof(*root));

	*out = NULL;
	if (s) {
		s->nbuckets = BUCKETS_MIN;
		s->by_id = calloc(s->nbuckets, sizeof(*s->by_id));
		s->by_key = calloc(s->nbuckets, sizeof(*s->by_key));
	}
	if (!s || !root || !s->by_id || !s->by_key ||
	    !(root->name = strdup(""))) {
		if (s) {
			free(s->by_id);
			free(s->by_key);
		}
		free(root);
		free(s);
		return -ENOMEM;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	s->fs = fs;
	s->max = max;
	s->next_id = STAGE_ROOT;
	root->id = s->next_id++;
	root->type = 'd';
	root->kind = FS_ROOT;
	root->mode = 0755;
	root->mtime_ns = now_ns();
	buf_init(&root->data, 0);
	s->root = root;
	hash_in(s, root);
	/* the caller's last error, as in the live tree */
	if (add(s, root, fs_nodes[FS_LAST_ERROR].name, 'f', 0444, NULL)) {
		stage_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static void free_tree(struct entry *e)
{
	while (e->child) {
		struct entry *c = e->child;

		e->child = c->next;
		free_tree(c);
	}
	buf_release(&e->data);
	free(e->name);
	free(e);
}

void stage_free(struct stage *s)
{
	if (!s)
		return;
	free_tree(s->root);
	free(s->by_id);
	free(s->by_key);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* -- the operations -------------------------------------------------------- */

static void lock(struct stage *s)
{
	pthread_mutex_lock(&s->lock);
}

static void unlock(struct stage *s)
{
	pthread_mutex_unlock(&s->lock);
}

int stage_exists(struct stage *s, uint64_t id)
{
	int ret;

	lock(s);
	ret = find(s, id) != NULL;
	unlock(s);
	return ret;
}

uint64_t stage_lookup(struct stage *s, uint64_t dir, const char *name)
{
	struct entry *d = NULL, *e = NULL;
	uint64_t id;

	lock(s);
	if ((d = find(s, dir)))
		e = child(s, d, name);
	id = e ? e->id : 0;
	unlock(s);
	return id;
}

/* The entry `id`, or -ENOENT: callers hold the lock. */
static int entry_of(struct stage *s, uint64_t id, struct entry **out)
{
	*out = find(s, id);
	return *out ? 0 : -ENOENT;
}

/* What the caller's .last_error holds now. */
static int last_error(struct buf *b)
{
	buf_init(b, 4096);
	if (lasterr_show(request_uid(), b))
		buf_reset(b);
	return 0;
}

int stage_stat(struct stage *s, uint64_t id, struct stat *st,
		int *volatile_attr)
{
	struct entry *e;
	struct buf b;
	int ret;

	lock(s);
	if (!(ret = entry_of(s, id, &e))) {
		memset(st, 0, sizeof(*st));
		st->st_mode = mode_of(e);
		st->st_nlink = e->type == 'd' ? 2 : 1;
		st->st_uid = fs_access.owner;
		st->st_gid = gid_of(e);
		st->st_size = e->type == 'd' ? 0 : (off_t)e->data.len;
		if (e->type == 'e') {
			last_error(&b);
			st->st_size = (off_t)b.len;
			buf_release(&b);
		}
		st->st_blksize = 4096;
		st->st_blocks = (st->st_size + 511) / 512;
		st->st_mtim.tv_sec = e->mtime_ns / 1000000000LL;
		st->st_mtim.tv_nsec = e->mtime_ns % 1000000000LL;
		st->st_ctim = st->st_mtim;
		st->st_atim = st->st_mtim;
		*volatile_attr = e->type == 'e';
	}
	unlock(s);
	return ret;
}

int stage_list(struct stage *s, uint64_t dir,
		int (*fill)(void *ctx, const char *name, mode_t type),
		void *ctx)
{
	struct entry *d = NULL;
	int ret;

	lock(s);
	ret = entry_of(s, dir, &d);
	if (!ret && d->type != 'd')
		ret = -ENOTDIR;
	for (struct entry *e = ret ? NULL : d->child; e && !ret; e = e->next)
		ret = fill(ctx, e->name, mode_of(e) & S_IFMT);
	unlock(s);
	return ret;
}

int stage_access(struct stage *s, uint64_t id, int mask)
{
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && mask != F_OK)
		ret = fs_access_allows(mode_of(e), fs_access.owner, gid_of(e),
				mask);
	if (!ret && (mask & W_OK) && !may_change())
		ret = denied(-EACCES);
	unlock(s);
	return ret;
}

int stage_open(struct stage *s, uint64_t id, int flags)
{
	char path[PATH_MAX];
	struct entry *e;
	int acc = flags & O_ACCMODE, ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && e->type == 'd')
		ret = -EISDIR;
	if (!ret && (acc != O_RDONLY || (flags & O_TRUNC)) && !may_change())
		ret = denied(-EACCES);
	/* key material stays the admins' whatever mode the tool gave it */
	if (!ret && acc != O_WRONLY && !(mode_of(e) & S_IROTH) &&
	    !may_change()) {
		path_of(e, path, sizeof(path));
		ret = fs_fail(-EACCES, "%s is read by root, the daemon's user"
				" and the admin group only", path);
	}
	unlock(s);
	return ret;
}

int stage_read(struct stage *s, uint64_t id, char *out, size_t size,
		off_t off)
{
	struct entry *e;
	struct buf b = { 0 };
	const struct buf *from;
	size_t n = 0;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	from = ret ? NULL : e->type == 'e' ? (last_error(&b), &b) : &e->data;
	if (from && off >= 0 && (size_t)off < from->len) {
		n = from->len - (size_t)off < size ? from->len - (size_t)off :
			size;
		memcpy(out, from->data + off, n);
	}
	buf_release(&b);
	unlock(s);
	return ret ? ret : (int)n;
}

int stage_write(struct stage *s, uint64_t id, const char *data, size_t size,
		off_t off)
{
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && off < 0)
		ret = -EINVAL;
	/* what a tool writes to .last_error goes nowhere */
	if (!ret && e->type != 'e' && !(ret = put(s, e, (size_t)off, data,
			size)))
		e->mtime_ns = now_ns();
	unlock(s);
	return ret ? ret : (int)size;
}

int stage_flush(struct stage *s, uint64_t id)
{
	char path[PATH_MAX];
	struct fs_path p;
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && e->type == 'f' && e->kind != FS_IGNORED &&
	    !(ret = tree_path(e, &p)) && !(ret = path_of(e, path,
			sizeof(path))))
		ret = fs_backup_check(&p, path, e->data.data ? e->data.data :
				"", e->data.len);
	unlock(s);
	return ret;
}

int stage_truncate(struct stage *s, uint64_t id, off_t size)
{
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && !may_change())
		ret = denied(-EACCES);
	else if (!ret && e->type == 'd')
		ret = -EISDIR;
	else if (!ret && (e->type == 'l' || size < 0))
		ret = -EINVAL;
	else if (!ret && e->type == 'f' && (size_t)size < e->data.len)
		ret = cut(s, e, (size_t)size);
	else if (!ret && e->type == 'f' && (size_t)size > e->data.len)
		ret = put(s, e, (size_t)size, "", 0);
	if (!ret && e->type == 'f')
		e->mtime_ns = now_ns();
	unlock(s);
	return ret;
}

int stage_readlink(struct stage *s, uint64_t id, char *out, size_t size)
{
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && e->type != 'l')
		ret = -EINVAL;
	if (!ret && size > 0)
		snprintf(out, size, "%.*s", (int)e->data.len,
				e->data.data ? e->data.data : "");
	unlock(s);
	return ret;
}

/* Starts a change in directory `dir`: the caller may make it, and the
 * directory is there. */
static int change_in(struct stage *s, uint64_t dir, struct entry **d)
{
	if (!may_change())
		return denied(-EACCES);
	return entry_of(s, dir, d);
}

int stage_mkdir(struct stage *s, uint64_t dir, const char *name,
		mode_t mode)
{
	struct entry *d = NULL;
	int ret;

	lock(s);
	ret = change_in(s, dir, &d);
	if (!ret)
		ret = add(s, d, name, 'd', mode, NULL);
	unlock(s);
	return ret;
}

int stage_create(struct stage *s, uint64_t dir, const char *name,
		mode_t mode, uint64_t *id)
{
	struct entry *d = NULL, *e = NULL;
	int ret;

	lock(s);
	ret = change_in(s, dir, &d);
	if (!ret)
		ret = add(s, d, name, 'f', mode, &e);
	*id = ret ? 0 : e->id;
	unlock(s);
	return ret;
}

int stage_symlink(struct stage *s, uint64_t dir, const char *name,
		const char *target)
{
	struct entry *d = NULL, *e = NULL;
	int ret;

	lock(s);
	ret = change_in(s, dir, &d);
	if (!ret)
		ret = add(s, d, name, 'l', 0777, &e);
	if (!ret && (ret = put(s, e, 0, target, strlen(target))))
		drop(s, e);
	unlock(s);
	return ret;
}

/* Removes child `name` of `dir`: with `want_dir` an empty directory,
 * else a file or link. */
static int remove_child(struct stage *s, uint64_t dir, const char *name,
		int want_dir)
{
	struct entry *d = NULL, *e = NULL;
	int ret;

	lock(s);
	ret = change_in(s, dir, &d);
	if (!ret && !(e = child(s, d, name)))
		ret = -ENOENT;
	if (!ret && (e->type == 'd') != want_dir)
		ret = want_dir ? -ENOTDIR : -EISDIR;
	if (!ret && e->child)
		ret = -ENOTEMPTY;
	if (!ret)
		drop(s, e);
	unlock(s);
	return ret;
}

int stage_unlink(struct stage *s, uint64_t dir, const char *name)
{
	return remove_child(s, dir, name, 0);
}

int stage_rmdir(struct stage *s, uint64_t dir, const char *name)
{
	return remove_child(s, dir, name, 1);
}

/* rsync writes .NAME.XXXXXX and renames it over NAME: the file is checked
 * under its new name, and refused as a close would be. */
int stage_rename(struct stage *s, uint64_t dir, const char *name,
		uint64_t newdir, const char *newname, unsigned int flags)
{
	const struct fs_attr *attr = NULL;
	struct entry *d = NULL, *nd = NULL, *e = NULL, *old = NULL;
	char path[PATH_MAX], *copy = NULL;
	struct fs_path p;
	size_t grow_by, freed;
	int kind, ret;

	lock(s);
	ret = change_in(s, dir, &d);
	if (!ret)
		ret = entry_of(s, newdir, &nd);
	if (!ret && !(e = child(s, d, name)))
		ret = -ENOENT;
	if (!ret && nd->type != 'd')
		ret = -ENOTDIR;
	if (!ret)
		old = child(s, nd, newname);
	if (ret || e == old)
		goto out;
	if (flags & ~1u)                      /* RENAME_NOREPLACE */
		ret = fs_fail(-EINVAL, "only plain renames are supported"
				" here");
	else if (e->type == 'd' || (old && old->type == 'd'))
		ret = fs_fail(-EPERM, "directories are not renamed in a"
				" restore");
	else if (e->type == 'e' || (old && old->type == 'e'))
		ret = fs_fail(-EPERM, "the restore's .last_error is not"
				" renamed");
	else if (old && flags)
		ret = -EEXIST;
	else if (strlen(newname) > NAME_MAX || child_path(nd, newname, path,
			sizeof(path)) || depth(nd) >= DEPTH_MAX)
		ret = -ENAMETOOLONG;
	else
		ret = fs_backup_kind(nd->kind, newname, e->type, path, &kind,
				&attr);
	if (ret)
		goto out;
	/* checked where it goes, before it goes there */
	if (e->type == 'f' && kind != FS_IGNORED) {
		struct entry probe = *e;
		struct entry parent = *nd;

		probe.parent = &parent;
		probe.name = (char *)newname;
		probe.kind = kind;
		probe.attr = attr;
		if (!(ret = tree_path(&probe, &p)))
			ret = fs_backup_check(&p, path, e->data.data ?
					e->data.data : "", e->data.len);
		if (ret)
			goto out;
	}
	/* the entry moves: only its name's length changes what the tree
	 * holds, less what it replaces */
	grow_by = strlen(newname) > strlen(name) ?
		strlen(newname) - strlen(name) : 0;
	freed = old ? entry_cost(old->name) + alloc_cost(old->data.alloc) : 0;
	ret = grow_by > freed ? reserve(s, grow_by - freed) : 0;
	if (!ret && !(copy = strdup(newname)))
		ret = fs_fail(-ENOMEM, "out of memory");
	if (ret)
		goto out;
	if (old)
		drop(s, old);
	hash_out(s, e);
	unlink_child(e);
	s->held = s->held - entry_cost(e->name) + entry_cost(copy);
	free(e->name);
	e->name = copy;
	e->kind = kind;
	e->attr = attr;
	link_child(nd, e);
	hash_in(s, e);
out:
	unlock(s);
	return ret;
}

/* The model holds times as nanoseconds in an int64_t. */
static int time_of(const struct timespec *t, int64_t *ns)
{
	if (t->tv_nsec == UTIME_NOW) {
		*ns = now_ns();
		return 0;
	}
	if (t->tv_sec < 1 || t->tv_sec > INT64_MAX / 1000000000LL ||
	    (t->tv_sec == INT64_MAX / 1000000000LL &&
	     t->tv_nsec > INT64_MAX % 1000000000LL))
		return fs_fail(-EINVAL, "a time is from 1970-01-01T00:00:01Z"
				" to 2262-04-11T23:47:16Z");
	*ns = (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
	return 0;
}

int stage_utimens(struct stage *s, uint64_t id, const struct timespec tv[2])
{
	struct entry *e;
	int64_t t = now_ns();
	int ret, omit = tv && tv[1].tv_nsec == UTIME_OMIT;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && !may_change())
		ret = denied(-EACCES);
	if (!ret && e->type == 'e')
		goto out;
	if (!ret && tv && !omit)
		ret = time_of(&tv[1], &t);
	/* the root's times, what the tools set last: the whole check */
	if (!ret && e == s->root)
		ret = fs_backup_build(s, s->fs, 0);
	if (!ret && !omit)
		e->mtime_ns = t;
out:
	unlock(s);
	return ret;
}

int stage_chmod(struct stage *s, uint64_t id, mode_t mode)
{
	struct entry *e;
	int ret;

	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && !may_change())
		ret = denied(-EPERM);
	if (!ret && e->type != 'l' && e->type != 'e')
		e->mode = mode & 07777;
	unlock(s);
	return ret;
}

int stage_chown(struct stage *s, uint64_t id, uid_t uid, gid_t gid)
{
	struct entry *e;
	int ret;

	(void)uid;
	(void)gid;
	lock(s);
	ret = entry_of(s, id, &e);
	if (!ret && !may_change())
		ret = denied(-EPERM);
	unlock(s);
	return ret;
}

int stage_commit(struct stage *s)
{
	int ret;

	lock(s);
	ret = fs_backup_build(s, s->fs, 1);
	if (ret)
		fprintf(stderr, "runtimefs: restore refused, %s is left empty:"
				" %s (%s)\n", s->fs->shown, fs_errmsg(),
				strerror(-ret));
	else
		fprintf(stderr, "runtimefs: restore of %zu entries committed"
				" to %s\n", s->count, s->fs->shown);
	unlock(s);
	return ret;
}

int stage_put(struct stage *s, const char *path, char type, mode_t mode,
		const char *data, size_t len, int64_t mtime_ns, uint64_t *id)
{
	char name[NAME_MAX + 1];
	struct entry *d = NULL, *e = NULL;
	int ret = 0;

	lock(s);
	d = s->root;
	while (!ret && *path) {
		size_t n = strcspn(path, "/");
		int last = !path[n];

		if (n > NAME_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(name, path, n);
		name[n] = '\0';
		path += n + !last;
		if (!n)
			continue;
		e = child(s, d, name);
		if (last && e)
			ret = -EEXIST;
		else if (last)
			ret = add(s, d, name, type, mode, &e);
		else if (!e)
			ret = add(s, d, name, 'd', 0755, &e);
		d = e;
	}
	if (!ret && !e)
		ret = -EEXIST;
	if (!ret && type != 'd' && len && (ret = put(s, e, 0, data, len)))
		drop(s, e);
	if (!ret && mtime_ns)
		e->mtime_ns = mtime_ns;
	if (id)
		*id = ret ? 0 : e->id;
	unlock(s);
	return ret;
}

/* stage_walk() from `e` down: `path` holds its path, `p` where it is. */
static int walk(struct entry *e, char *path, size_t cap,
		const struct fs_path *p,
		int (*enter)(void *ctx, const struct stage_item *it),
		int (*leave)(void *ctx, const struct stage_item *it),
		void *ctx)
{
	struct stage_item it = { path, e->name, e->type == 'e' ? 'f' :
		e->type, e->type == 'e' ? FS_IGNORED : e->kind, p,
		e->data.data ? e->data.data : "", e->data.len, e->mtime_ns };
	size_t len = strlen(path);
	int ret = enter ? enter(ctx, &it) : 0;

	for (struct entry *c = e->child; c && !ret; c = c->next) {
		struct inode_link l;
		struct fs_path cp = *p;

		if (len + 1 + strlen(c->name) + 1 > cap)
			return -ENAMETOOLONG;
		snprintf(path + len, cap - len, "%s%s", len ? "/" : "",
				c->name);
		memset(&l.obj, 0, sizeof(l.obj));
		l.obj.kind = c->kind;
		l.obj.attr = c->attr;
		snprintf(l.name, sizeof(l.name), "%s", c->name);
		if (c->kind != FS_IGNORED && c->type != 'e' &&
		    (ret = fs_path_add(&cp, &l)))
			break;
		ret = walk(c, path, cap, &cp, enter, leave, ctx);
		path[len] = '\0';
	}
	return ret ? ret : leave ? leave(ctx, &it) : 0;
}

int stage_walk(struct stage *s,
		int (*enter)(void *ctx, const struct stage_item *it),
		int (*leave)(void *ctx, const struct stage_item *it),
		void *ctx)
{
	char path[PATH_MAX] = "";
	struct fs_path p;
	int ret;

	lock(s);
	ret = fs_path_of(NULL, NULL, 0, &p);
	if (!ret)
		ret = walk(s->root, path, sizeof(path), &p, enter, leave, ctx);
	unlock(s);
	return ret;
}

int stage_has(struct stage *s, const char *path)
{
	char name[NAME_MAX + 1];
	struct entry *e;

	lock(s);
	e = s->root;
	while (e && *path) {
		size_t n = strcspn(path, "/");

		if (n > NAME_MAX) {
			e = NULL;
			break;
		}
		memcpy(name, path, n);
		name[n] = '\0';
		path += n + (path[n] == '/');
		if (n)
			e = child(s, e, name);
	}
	unlock(s);
	return e != NULL;
}

size_t stage_count(struct stage *s)
{
	size_t n;

	lock(s);
	n = s->count;
	unlock(s);
	return n;
}
