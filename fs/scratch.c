/*
 * scratch.c - in-memory scratch files for editors and tools that write a
 * temporary file beside a value file (see scratch.h for the why).
 */
#include "clock.h"
#include "scratch.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCRATCH_HIDDEN 8

struct scratch {
	char *path;
	struct scratch_owner owner;
	struct buf data;
	mode_t mode;
	int64_t mtime_ns;
	int refs;                 /* the table's, plus one per open file */
	int linked;               /* still in the table */
};

static struct scratch *table[SCRATCH_FILES];
static scratch_valid_fn validator;

static struct {
	char path[PATH_MAX];
	int64_t until_ns;
} hidden[SCRATCH_HIDDEN];
static int64_t hidden_until_ns;       /* the latest until_ns ever set */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;


int scratch_dir_ok(const struct fs_path *dir)
{
	if (dir->readonly)
		return 0;
	for (int k = 0; k < FS_KIND_COUNT; k++)
		if (fs_nodes[k].parent == dir->node->kind &&
		    fs_nodes[k].name && fs_nodes[k].store)
			return 1;
	return 0;
}

static int all_of(const char *s, size_t n, int (*is)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)s[i]))
			return 0;
	return n > 0;
}

static int is_temp_char(int c)
{
	return isalnum(c) || c == '_';
}

static int ends_with(const char *s, size_t n, const char *end)
{
	size_t e = strlen(end);

	return n > e && !strcmp(s + n - e, end);
}

int scratch_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX || strchr(name, '/'))
		return 0;
	/* vim: .NAME.swp, and .swo, .swn ... when that one is taken */
	if (name[0] == '.' && n > 5 && name[n - 4] == '.' &&
	    name[n - 3] == 's' && all_of(name + n - 2, 2, islower))
		return 1;
	/* vim's test of the directory: 4913, then 5036, ... */
	if (all_of(name, n, isdigit))
		return 1;
	/* backups: vim, emacs, cp and mv --backup (NAME~, NAME.~1~) */
	if (n > 1 && name[n - 1] == '~')
		return 1;
	/* sed -i */
	if (n == 9 && !strncmp(name, "sed", 3) && all_of(name + 3, 6, isalnum))
		return 1;
	/* rsync, and mkstemp("X.XXXXXX") in general */
	if (name[0] == '.' && n > 8 && name[n - 7] == '.' &&
	    all_of(name + n - 6, 6, isalnum))
		return 1;
	/* emacs's auto-save */
	if (n > 2 && name[0] == '#' && name[n - 1] == '#')
		return 1;
	/* Python's tempfile, and tools that write X.tmp or X.new first */
	if (n == 11 && !strncmp(name, "tmp", 3) &&
	    all_of(name + 3, 8, is_temp_char))
		return 1;
	return ends_with(name, n, ".tmp") || ends_with(name, n, ".new");
}

void scratch_set_validator(scratch_valid_fn fn)
{
	validator = fn;
}

/* Drops one reference; under the lock. */
static void unref(struct scratch *s)
{
	if (--s->refs > 0)
		return;
	buf_release(&s->data);
	free(s->path);
	free(s);
}

/* Takes slot `i` out of the table; under the lock. */
static void drop_slot(int i)
{
	table[i]->linked = 0;
	unref(table[i]);
	table[i] = NULL;
}

/* The slot of `path`, or -1; one of another directory object than
 * `dir_id` is stale and goes.  Under the lock. */
static int find(const char *path, uint64_t dir_id)
{
	for (int i = 0; i < SCRATCH_FILES; i++) {
		if (!table[i] || strcmp(table[i]->path, path))
			continue;
		if (table[i]->owner.dir_id == dir_id)
			return i;
		drop_slot(i);
		return -1;
	}
	return -1;
}

/* The slot of `path` whatever its object; under the lock. */
static int find_any(const char *path)
{
	for (int i = 0; i < SCRATCH_FILES; i++)
		if (table[i] && !strcmp(table[i]->path, path))
			return i;
	return -1;
}

/* Reclaims the slots of scratch files whose directory object went. */
static void sweep(void)
{
	struct { char *dir; uint64_t id; } seen[SCRATCH_FILES] = { { 0 } };

	if (!validator)
		return;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_FILES; i++) {
		char *slash;

		if (!table[i] || !(seen[i].dir = strdup(table[i]->path)))
			continue;
		if ((slash = strrchr(seen[i].dir, '/')))
			*slash = '\0';
		seen[i].id = table[i]->owner.dir_id;
	}
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < SCRATCH_FILES; i++) {
		if (!seen[i].dir)
			continue;
		if (validator(*seen[i].dir ? seen[i].dir : "/", seen[i].id)) {
			free(seen[i].dir);
			seen[i].dir = NULL;
		}
	}
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_FILES; i++) {
		size_t n;

		if (!seen[i].dir || !table[i])
			continue;
		n = strlen(seen[i].dir);
		if (table[i]->owner.dir_id == seen[i].id &&
		    !strncmp(table[i]->path, seen[i].dir, n) &&
		    table[i]->path[n] == '/')
			drop_slot(i);
		free(seen[i].dir);
	}
	pthread_mutex_unlock(&lock);
}

static int insert(const char *path, const struct scratch_owner *o,
		mode_t mode, struct scratch **out)
{
	struct scratch *s;
	int slot = -1;

	if (find(path, o->dir_id) >= 0)
		return -EEXIST;
	for (int i = 0; i < SCRATCH_FILES && slot < 0; i++)
		if (!table[i])
			slot = i;
	if (slot < 0)
		return fs_fail(-ENOSPC, "at most %d temporary files at once",
				SCRATCH_FILES);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	buf_init(&s->data, SCRATCH_SIZE);
	s->owner = *o;
	s->mode = mode & 07777;
	s->mtime_ns = fs_now_ns();
	s->refs = 1;
	s->linked = 1;
	table[slot] = s;
	*out = s;
	return 0;
}

/* insert(), reclaiming the slots of gone objects when all are taken. */
static int insert_or_sweep(const char *path, const struct scratch_owner *o,
		mode_t mode, struct scratch **out, const void *data,
		size_t len)
{
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		if (tries)
			sweep();
		pthread_mutex_lock(&lock);
		ret = insert(path, o, mode, out);
		if (!ret && data && (ret = buf_add(&(*out)->data, data, len)))
			drop_slot(find(path, o->dir_id));
		else if (!ret && !data)
			(*out)->refs++;
		pthread_mutex_unlock(&lock);
		if (ret != -ENOSPC)
			break;
	}
	return ret;
}

int scratch_create(const char *path, const struct scratch_owner *o,
		mode_t mode, struct scratch **out)
{
	return insert_or_sweep(path, o, mode, out, NULL, 0);
}

int scratch_create_with(const char *path, const struct scratch_owner *o,
		mode_t mode, const void *data, size_t len)
{
	struct scratch *s;

	return insert_or_sweep(path, o, mode, &s, data ? data : "", len);
}

struct scratch *scratch_open(const char *path, uint64_t dir_id)
{
	struct scratch *s = NULL;
	int i;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0) {
		s = table[i];
		s->refs++;
	}
	pthread_mutex_unlock(&lock);
	return s;
}

void scratch_put(struct scratch *s)
{
	pthread_mutex_lock(&lock);
	unref(s);
	pthread_mutex_unlock(&lock);
}

/* Under the lock. */
static void stat_locked(struct scratch *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | s->mode;
	st->st_nlink = s->linked;
	st->st_uid = s->owner.uid;
	st->st_gid = s->owner.gid;
	st->st_size = (off_t)s->data.len;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = s->mtime_ns / 1000000000LL;
	st->st_mtim.tv_nsec = s->mtime_ns % 1000000000LL;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

void scratch_stat(struct scratch *s, struct stat *st)
{
	pthread_mutex_lock(&lock);
	stat_locked(s, st);
	pthread_mutex_unlock(&lock);
}

int scratch_stat_path(const char *path, uint64_t dir_id, struct stat *st)
{
	int i, ret = -ENOENT;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0) {
		stat_locked(table[i], st);
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int scratch_read(struct scratch *s, char *out, size_t size, off_t off)
{
	size_t n = 0;

	pthread_mutex_lock(&lock);
	if (off >= 0 && (size_t)off < s->data.len) {
		n = s->data.len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(out, s->data.data + off, n);
	}
	pthread_mutex_unlock(&lock);
	return (int)n;
}

int scratch_write(struct scratch *s, const char *data, size_t size,
		off_t off)
{
	int ret;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	ret = buf_put(&s->data, (size_t)off, data, size);
	if (ret == -EFBIG)
		ret = fs_fail(-EFBIG, "a temporary file is at most %d bytes",
				SCRATCH_SIZE);
	s->mtime_ns = fs_now_ns();
	pthread_mutex_unlock(&lock);
	return ret ? ret : (int)size;
}

int scratch_truncate(struct scratch *s, off_t size)
{
	int ret = 0;

	if (size < 0)
		return -EINVAL;
	if (size > SCRATCH_SIZE)
		return fs_fail(-EFBIG, "a temporary file is at most %d bytes",
				SCRATCH_SIZE);
	pthread_mutex_lock(&lock);
	if ((size_t)size <= s->data.len) {
		s->data.len = (size_t)size;
		if (s->data.data)
			s->data.data[size] = '\0';
	} else {
		ret = buf_put(&s->data, (size_t)size, "", 0);
	}
	s->mtime_ns = fs_now_ns();
	pthread_mutex_unlock(&lock);
	return ret;
}

int scratch_chmod(const char *path, uint64_t dir_id, mode_t mode)
{
	int i;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0)
		table[i]->mode = mode & 07777;
	pthread_mutex_unlock(&lock);
	return i >= 0 ? 0 : -ENOENT;
}

int scratch_chown(const char *path, uint64_t dir_id, uid_t uid, gid_t gid)
{
	int i;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0 && uid != (uid_t)-1)
		table[i]->owner.uid = uid;
	if (i >= 0 && gid != (gid_t)-1)
		table[i]->owner.gid = gid;
	pthread_mutex_unlock(&lock);
	return i >= 0 ? 0 : -ENOENT;
}

int scratch_content(const char *path, uint64_t dir_id, struct buf *out)
{
	int i, ret = -ENOENT;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0)
		ret = buf_add(out, table[i]->data.data, table[i]->data.len);
	pthread_mutex_unlock(&lock);
	return ret;
}

int scratch_unlink(const char *path, uint64_t dir_id)
{
	int i;

	pthread_mutex_lock(&lock);
	i = find(path, dir_id);
	if (i >= 0)
		drop_slot(i);
	pthread_mutex_unlock(&lock);
	return i >= 0 ? 0 : -ENOENT;
}

int scratch_rename(const char *from, const char *to, uint64_t to_dir_id)
{
	char *copy = strdup(to);
	int i, old, ret = -ENOENT;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	i = find_any(from);
	if (i >= 0 && strcmp(from, to)) {
		struct scratch *s = table[i];

		if ((old = find_any(to)) >= 0)
			drop_slot(old);
		free(s->path);
		s->path = copy;
		s->owner.dir_id = to_dir_id;
		copy = NULL;
		ret = 0;
	} else if (i >= 0) {
		ret = 0;
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	return ret;
}

void scratch_forget_under(const char *dir)
{
	size_t n = strlen(dir);

	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_FILES; i++)
		if (table[i] && !strncmp(table[i]->path, dir, n) &&
		    table[i]->path[n] == '/')
			drop_slot(i);
	pthread_mutex_unlock(&lock);
}

/* The name of `path` when it lies directly in `dir`, else NULL. */
static const char *child_name(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		n = 0;
	if (strncmp(path, dir, n) || path[n] != '/' ||
	    strchr(path + n + 1, '/'))
		return NULL;
	return path + n + 1;
}

int scratch_list(const char *dir, uint64_t dir_id, fs_fill_fn fill,
		void *ctx)
{
	char names[SCRATCH_FILES][NAME_MAX + 1];
	int count = 0, ret = 0;

	/* fill() outside the lock: it may block on the kernel */
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_FILES; i++) {
		const char *name = table[i] ?
			child_name(table[i]->path, dir) : NULL;

		if (name && table[i]->owner.dir_id != dir_id)
			drop_slot(i);
		else if (name && strlen(name) <= NAME_MAX)
			strcpy(names[count++], name);
	}
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < count && !ret; i++)
		ret = fill(ctx, names[i]);
	return ret;
}

void scratch_hide(const char *path)
{
	int64_t now = fs_now_ns();
	int slot = 0;

	if (strlen(path) >= PATH_MAX)
		return;
	pthread_mutex_lock(&lock);
	/* the same path again, or else the entry that expires first */
	for (int i = 1; i < SCRATCH_HIDDEN; i++)
		if (hidden[i].until_ns < hidden[slot].until_ns)
			slot = i;
	for (int i = 0; i < SCRATCH_HIDDEN; i++)
		if (!strcmp(hidden[i].path, path))
			slot = i;
	strcpy(hidden[slot].path, path);
	hidden[slot].until_ns = now + SCRATCH_HIDE_SEC * 1000000000LL;
	hidden_until_ns = hidden[slot].until_ns;
	pthread_mutex_unlock(&lock);
}

int64_t scratch_hidden_until(void)
{
	int64_t t;

	pthread_mutex_lock(&lock);
	t = hidden_until_ns;
	pthread_mutex_unlock(&lock);
	return t;
}

int scratch_hidden(const char *path)
{
	int64_t now = fs_now_ns();
	int ret = 0;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_HIDDEN && !ret; i++)
		ret = hidden[i].until_ns > now &&
			!strcmp(hidden[i].path, path);
	pthread_mutex_unlock(&lock);
	return ret;
}

void scratch_unhide(const char *path)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SCRATCH_HIDDEN; i++)
		if (!strcmp(hidden[i].path, path))
			hidden[i].until_ns = 0;
	pthread_mutex_unlock(&lock);
}
