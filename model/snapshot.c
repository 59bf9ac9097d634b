/*
 * snapshot.c - point-in-time, read-only copies of the model.
 *
 * The store makes, keeps, lists and drops the copies (store.h,
 * "snapshots"), each with the moment it was taken; this file holds the
 * rules: a snapshot's name, its messages, heartbeat times flushed into it
 * first, and who holds it.  A snapshot is opened as a model of its own,
 * read-only, with the live model's key (its secrets still open) and a
 * clock that stands at the moment it was taken.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPSHOTS_OPEN_MAX 8   /* unreferenced snapshot models kept open */

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
	int ret = model_name_check("snapshot", name);

	if (ret)
		return ret;
	model_lock(m);
	/* heartbeat times waiting in memory belong to this moment too */
	ret = model_liveness_flush_locked(m);
	if (!ret && (ret = store_snapshot_create(m->store, name, NULL)))
		ret = ret == -EEXIST ? model_fail(-EEXIST, "snapshot '%s'"
				" already exists", name) :
			model_fail_store(ret);
	/* logged just after, as a snapshot is no transaction: one that
	 * cannot be logged is dropped again (all or nothing) */
	if (!ret && (ret = model_event_alone(m, "snapshot.created",
			AT_SNAPSHOT(name))))
		store_snapshot_drop(m->store, name);
	if (!ret)
		model_note(m, MODEL_EV_SNAPSHOT, MODEL_OBJ_MADE, name, NULL,
				NULL, NULL);
	model_unlock(m);
	return ret;
}

static int snapshot_named(void *ctx, const char *name, int64_t taken_ns)
{
	(void)taken_ns;
	return !strcmp(ctx, name);
}

/* 0 when snapshot `name` is there, -ENOENT when not; under the lock. */
static int snapshot_there(struct model *m, const char *name)
{
	int ret = store_snapshot_list(m->store, snapshot_named, (void *)name);

	if (ret < 0)
		return ret;
	return ret == 1 ? 0 : -ENOENT;
}

int model_snapshot_delete(struct model *m, const char *name)
{
	struct model *snap;
	int ret = model_name_check("snapshot", name);

	if (ret)
		return ret;
	model_lock(m);
	/* logged just before, once it is known to be there: a drop that
	 * fails after that (a lost connection) leaves one line too many */
	ret = snapshot_there(m, name);
	if (ret == -ENOENT)
		ret = model_fail(-ENOENT, "no snapshot '%s'", name);
	else if (ret)
		ret = model_fail_store(ret);
	else if (!(ret = model_event_alone(m, "snapshot.deleted",
			AT_SNAPSHOT(name))) &&
		 (ret = store_snapshot_drop(m->store, name)))
		ret = ret == -ENOENT ? model_fail(-ENOENT, "no snapshot '%s'",
				name) : model_fail_store(ret);
	if (ret) {
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

/* The snapshots the store lists, kept to be given out of the lock. */
struct snap_list {
	struct snap_entry {
		char name[MODEL_NAME_MAX];
		int64_t taken_ns;
	} *v;
	size_t n, cap;
	int failed;               /* the model's own failure, with its words */
};

static int keep_snapshot(void *ctx, const char *name, int64_t taken_ns)
{
	struct snap_list *l = ctx;
	struct snap_entry *grown;

	if (model_name_check("snapshot", name))
		return 0;       /* not one of ours */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->v, l->cap * sizeof(*l->v));
		if (!grown) {
			l->failed = 1;
			return model_fail(-ENOMEM, "out of memory");
		}
		l->v = grown;
	}
	snprintf(l->v[l->n].name, MODEL_NAME_MAX, "%s", name);
	l->v[l->n++].taken_ns = taken_ns;
	return 0;
}

int model_snapshot_list(struct model *m, model_snapshot_cb cb, void *ctx)
{
	struct snap_list l = { NULL, 0, 0, 0 };
	int ret;

	/* read under the lock; the callbacks, which may read the model,
	 * run outside it */
	model_lock(m);
	ret = store_snapshot_list(m->store, keep_snapshot, &l);
	model_unlock(m);
	if (ret && !l.failed)
		ret = model_fail_store(ret);
	else if (!ret)
		model_errclear();       /* what the names skipped left */
	for (size_t i = 0; !ret && i < l.n; i++)
		ret = cb(ctx, l.v[i].name, l.v[i].taken_ns);
	free(l.v);
	return ret;
}

/* Opens snapshot `name` of `m` as a model; under m's lock. */
static int snapshot_open(struct model *m, const char *name,
		struct model **out)
{
	struct model *snap = calloc(1, sizeof(*snap));
	int ret;

	if (!snap)
		return model_fail(-ENOMEM, "out of memory");
	ret = store_snapshot_open(m->store, name, &snap->store);
	if (ret) {
		free(snap);
		return ret == -ENOENT ? model_fail(-ENOENT, "no snapshot '%s'",
				name) : model_fail(ret, "snapshot '%s': %s",
				name, store_errmsg());
	}
	pthread_mutex_init(&snap->lock, NULL);
	memcpy(snap->key, m->key, sizeof(snap->key));
	snap->cfg = m->cfg;
	snap->cfg.now = frozen_clock;
	snap->cfg.now_ctx = snap;
	snap->parent = m;
	snprintf(snap->snap_name, sizeof(snap->snap_name), "%s", name);
	snap->snap_ns = store_taken_at(snap->store);
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
