/*
 * snapshot.c - point-in-time, read-only copies of the model.
 *
 * `mkdir snapshots/NAME` copies the database with SQLite's VACUUM INTO
 * (one read transaction: consistent while heartbeats and writes go on) to
 * DB.snapshots/.NAME.tmp, then renames it to DB.snapshots/NAME.db, so a
 * crash never leaves half a snapshot.  A snapshot is opened as a model of
 * its own, read-only, with the live model's key (its secrets still open)
 * and a clock that stands at the moment it was taken.
 */
#include "model_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAPSHOTS_OPEN_MAX 8   /* unreferenced snapshot models kept open */
#define SNAPSHOTS_LIST_MAX 4096

static int snapshot_dir(const struct model *m, char *buf, size_t n)
{
	if (!strcmp(m->db, ":memory:"))
		return model_fail(-EOPNOTSUPP, "an in-memory database has no"
				" snapshots");
	if ((size_t)snprintf(buf, n, "%s.snapshots", m->db) >= n)
		return model_fail(-ENAMETOOLONG, "database path too long");
	return 0;
}

static int snapshot_path(const struct model *m, const char *name,
		const char *fmt, char *buf, size_t n)
{
	char dir[4096];
	int ret = snapshot_dir(m, dir, sizeof(dir));

	if (ret)
		return ret;
	if ((size_t)snprintf(buf, n, fmt, dir, name) >= n)
		return model_fail(-ENAMETOOLONG, "database path too long");
	return 0;
}

static int64_t frozen_clock(void *ctx)
{
	return ((struct model *)ctx)->snap_ns;
}

int64_t model_snapshot_time(const struct model *m)
{
	return m->parent ? m->snap_ns : 0;
}

static void snapshot_free(struct model *snap)
{
	store_close(snap->store);
	model_rows_free(snap);
	sodium_memzero(snap->key, sizeof(snap->key));
	pthread_mutex_destroy(&snap->lock);
	free(snap->db);
	free(snap);
}

/* Unlinks `snap` from its parent's list; under the parent's lock. */
static void snapshot_unlink(struct model *snap)
{
	struct model **pp = &snap->parent->snaps;

	while (*pp && *pp != snap)
		pp = &(*pp)->next;
	if (*pp)
		*pp = snap->next;
	snap->next = NULL;
}

void model_snapshot_tidy(struct model *m)
{
	char dir[4096], path[4352];
	struct dirent *d;
	DIR *dh;

	if (snapshot_dir(m, dir, sizeof(dir)) || !(dh = opendir(dir))) {
		model_errclear();
		return;
	}
	/* .NAME.tmp and its journal: a copy a crash cut short */
	while ((d = readdir(dh))) {
		if (d->d_name[0] != '.' || (!strstr(d->d_name, ".tmp") &&
				!strstr(d->d_name, ".tmp-journal")))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				d->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(dh);
}

void model_snapshot_close_all(struct model *m)
{
	while (m->snaps) {
		struct model *snap = m->snaps;

		m->snaps = snap->next;
		snapshot_free(snap);
	}
}

int model_snapshot_create(struct model *m, const char *name)
{
	char dir[4096], tmp[4352], path[4352];
	int ret = model_name_check("snapshot", name);
	int fd;

	if (ret || (ret = snapshot_dir(m, dir, sizeof(dir))) ||
	    (ret = snapshot_path(m, name, "%s/.%s.tmp", tmp, sizeof(tmp))) ||
	    (ret = snapshot_path(m, name, "%s/%s.db", path, sizeof(path))))
		return ret;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return model_fail(-errno, "cannot make %s: %s", dir,
				strerror(errno));
	model_lock(m);
	if (!access(path, F_OK)) {
		model_unlock(m);
		return model_fail(-EEXIST, "snapshot '%s' already exists",
				name);
	}
	unlink(tmp);
	/* heartbeat times waiting in memory belong to this moment too */
	ret = model_liveness_flush_locked(m);
	if (!ret && (ret = store_snapshot_into(m->store, tmp))) {
		ret = model_fail_store(ret);
	} else if (!ret && rename(tmp, path)) {
		ret = model_fail(-errno, "cannot rename %s: %s", tmp,
				strerror(errno));
	} else if (!ret && (fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);       /* the rename is part of the snapshot */
		close(fd);
	}
	if (ret)
		unlink(tmp);
	else
		model_note(m, MODEL_EV_SNAPSHOT, MODEL_OBJ_MADE, name, NULL,
				NULL, NULL);
	model_unlock(m);
	return ret;
}

int model_snapshot_delete(struct model *m, const char *name)
{
	char path[4352];
	struct model *snap;
	int ret = model_name_check("snapshot", name);

	if (ret || (ret = snapshot_path(m, name, "%s/%s.db", path,
			sizeof(path))))
		return ret;
	model_lock(m);
	if (unlink(path)) {
		ret = errno == ENOENT ?
			model_fail(-ENOENT, "no snapshot '%s'", name) :
			model_fail(-errno, "cannot remove %s: %s", path,
					strerror(errno));
		model_unlock(m);
		return ret;
	}
	for (snap = m->snaps; snap; snap = snap->next)
		if (!strcmp(snap->snap_name, name))
			break;
	if (snap) {
		snapshot_unlink(snap);
		snap->deleted = 1;
		if (snap->refs == 0)
			snapshot_free(snap);
	}
	model_note(m, MODEL_EV_SNAPSHOT, MODEL_OBJ_GONE, name, NULL, NULL,
			NULL);
	model_unlock(m);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int model_snapshot_list(struct model *m, model_snapshot_cb cb, void *ctx)
{
	char dir[4096], path[4352];
	char *names[SNAPSHOTS_LIST_MAX];
	size_t n = 0;
	struct dirent *d;
	DIR *dh;
	int ret = snapshot_dir(m, dir, sizeof(dir));

	if (ret == -EOPNOTSUPP)
		return 0;
	if (ret)
		return ret;
	model_lock(m);
	dh = opendir(dir);
	while (dh && n < SNAPSHOTS_LIST_MAX && (d = readdir(dh))) {
		size_t len = strlen(d->d_name);

		if (len < 4 || strcmp(d->d_name + len - 3, ".db"))
			continue;
		d->d_name[len - 3] = '\0';
		if (model_name_check("snapshot", d->d_name))
			continue;
		names[n] = strdup(d->d_name);
		if (names[n])
			n++;
	}
	if (dh)
		closedir(dh);
	model_unlock(m);
	model_errclear();
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (!ret && !snapshot_path(m, names[i], "%s/%s.db", path,
				sizeof(path)) && !stat(path, &st))
			ret = cb(ctx, names[i], (int64_t)st.st_mtim.tv_sec *
					1000000000LL + st.st_mtim.tv_nsec);
		free(names[i]);
	}
	return ret;
}

/* Opens snapshot `name` of `m` as a model; under m's lock. */
static int snapshot_open(struct model *m, const char *name,
		struct model **out)
{
	char path[4352];
	struct model *snap;
	struct stat st;
	int ret = snapshot_path(m, name, "%s/%s.db", path, sizeof(path));

	if (ret)
		return ret;
	if (stat(path, &st))
		return model_fail(-ENOENT, "no snapshot '%s'", name);
	snap = calloc(1, sizeof(*snap));
	if (!snap || !(snap->db = strdup(path))) {
		free(snap);
		return model_fail(-ENOMEM, "out of memory");
	}
	ret = store_open_readonly(&snap->store, path);
	if (ret) {
		free(snap->db);
		free(snap);
		return model_fail(ret, "snapshot '%s': %s", name,
				store_errmsg());
	}
	pthread_mutex_init(&snap->lock, NULL);
	memcpy(snap->key, m->key, sizeof(snap->key));
	snap->cfg = m->cfg;
	snap->cfg.now = frozen_clock;
	snap->cfg.now_ctx = snap;
	snap->parent = m;
	snprintf(snap->snap_name, sizeof(snap->snap_name), "%s", name);
	snap->snap_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
		st.st_mtim.tv_nsec;
	snap->next = m->snaps;
	m->snaps = snap;
	*out = snap;
	return 0;
}

int model_snapshot_get(struct model *m, const char *name,
		struct model **out)
{
	struct model *snap;
	int ret = model_name_check("snapshot", name);

	if (ret)
		return ret;
	model_lock(m);
	for (snap = m->snaps; snap; snap = snap->next)
		if (!strcmp(snap->snap_name, name))
			break;
	if (!snap)
		ret = snapshot_open(m, name, &snap);
	if (!ret) {
		snap->refs++;
		*out = snap;
	}
	model_unlock(m);
	return ret;
}

void model_snapshot_put(struct model *snap)
{
	struct model *m = snap->parent;
	struct model *s;
	int open = 0;

	model_lock(m);
	snap->refs--;
	if (snap->refs == 0 && snap->deleted) {
		snapshot_free(snap);
	} else if (snap->refs == 0) {
		for (s = m->snaps; s; s = s->next)
			open++;
		if (open > SNAPSHOTS_OPEN_MAX) {
			snapshot_unlink(snap);
			snapshot_free(snap);
		}
	}
	model_unlock(m);
}
