/*
 * liveness.c - heartbeat times held in memory and written to the database
 * in batches, so that the hot path costs no fsync.
 *
 * A heartbeat that changes nothing but the time of the last heartbeat
 * opens no transaction: its time is kept here, every read sees it through
 * model_liveness_overlay(), and a flusher thread writes all the waiting
 * times in one transaction each flush interval (500 ms by default, so
 * that the database is less than a second behind).  At most
 * LIVENESS_BATCH_MAX runtimes wait at a time: the heartbeat that would
 * pass that flushes the batch itself.  Closing the model flushes.  The
 * flusher also asks the store, each interval, whether another writer
 * changed it (store_poll()), so that the watcher hears of it in time.
 *
 * Where the store gives the flusher a handle of its own
 * (store_open_another(): PostgreSQL), the flusher writes there with the
 * model's lock let go: it takes the waiting times away (`fly`), unlocks,
 * writes and commits them, and locks again, so heartbeats and reads go
 * on while PostgreSQL writes thousands of rows and waits for its WAL.
 * Reads see the times in flight as they see the waiting ones; a flight
 * that fails puts its times back to wait for the next.  On SQLite, whose
 * connections would share one writer lock, the flusher writes on the
 * model's handle under the lock, as every other change.
 *
 * What a crash can lose: the heartbeat times of one interval, never more.
 * After a restart those runtimes show an older last_heartbeat (and may
 * turn OFFLINE a little early) until their next heartbeat.  Registration,
 * binding, revocation, a changed version/platform/os and the first
 * heartbeat after a start are state changes: they never wait here.
 *
 * The table is open addressing on the runtime's row id, checked against
 * its UUID, so a row id that the store reuses after a delete never
 * inherits another runtime's time.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVENESS_BATCH_MAX 65536
#define LIVENESS_WRITE_MAX 256     /* times given to the store per call */
#define LIVENESS_SLOTS_MIN 256
#define DEFAULT_FLUSH_NS (500LL * 1000000LL)

struct live_entry {
	int64_t id;                 /* 0: a free slot */
	int64_t heartbeat_ns;
	char uuid[STORE_UUID_LEN];
};

struct liveness {
	struct live_entry *slot;
	size_t cap;                 /* a power of two, or 0 */
	size_t n;
	struct live_entry *fly;     /* the times a flight writes, or NULL */
	size_t flycap;
	struct store *own;          /* the flusher's handle, or NULL */
	pthread_cond_t landed;      /* a flight ended */
	int64_t interval_ns;        /* <= 0: no flusher thread */
	pthread_t thread;
	pthread_cond_t wake;
	int running;
	int stop;
};

static size_t live_hash(int64_t id, size_t cap)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* The slot of `id` in `slot` (`cap` slots, at most half used), or the
 * free slot where it would go. */
static struct live_entry *slot_find(struct live_entry *slot, size_t cap,
		int64_t id)
{
	size_t i = live_hash(id, cap);

	while (slot[i].id && slot[i].id != id)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static struct live_entry *live_find(struct liveness *l, int64_t id)
{
	return slot_find(l->slot, l->cap, id);
}

/* Doubles the table (or makes the first one), keeping it at most half
 * full. */
static int live_grow(struct liveness *l)
{
	size_t cap = l->cap ? l->cap * 2 : LIVENESS_SLOTS_MIN;
	struct live_entry *old = l->slot;
	size_t oldcap = l->cap;

	l->slot = calloc(cap, sizeof(*l->slot));
	if (!l->slot) {
		l->slot = old;
		return model_fail(-ENOMEM, "out of memory for heartbeats");
	}
	l->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].id)
			*live_find(l, old[i].id) = old[i];
	free(old);
	return 0;
}

/* Writes the times of `slot` (`cap` slots) in one transaction of store
 * `st`, some at a time. */
static int live_write(struct store *st, const struct live_entry *slot,
		size_t cap)
{
	struct store_beat batch[LIVENESS_WRITE_MAX];
	size_t n = 0;
	int ret;

	if ((ret = store_begin(st)))
		return ret;
	for (size_t i = 0; i < cap && !ret; i++) {
		if (!slot[i].id)
			continue;
		batch[n].id = slot[i].id;
		memcpy(batch[n].uuid, slot[i].uuid, sizeof(batch[n].uuid));
		batch[n].heartbeat_ns = slot[i].heartbeat_ns;
		if (++n == LIVENESS_WRITE_MAX) {
			ret = store_runtime_heartbeats(st, batch, n);
			n = 0;
		}
	}
	if (!ret && n)
		ret = store_runtime_heartbeats(st, batch, n);
	if (ret)
		store_rollback(st);
	else
		ret = store_commit(st);
	return ret;
}

/* Written: the rows kept show the times, and the other hosts hear of
 * each. */
static void live_written(struct model *m, const struct live_entry *slot,
		size_t cap)
{
	model_rows_forget_committed(m);
	for (size_t i = 0; i < cap; i++)
		if (slot[i].id)
			model_feed_heard(m, slot[i].uuid);
}

/* Writes what waits on the model's own handle, under the lock. */
static int live_write_locked(struct model *m)
{
	struct liveness *l = m->live;
	int ret;

	if (!l || !l->n)
		return 0;
	m->changing = 1;
	ret = live_write(m->store, l->slot, l->cap);
	m->changing = 0;
	if (ret)
		return model_fail_store(ret);
	live_written(m, l->slot, l->cap);
	memset(l->slot, 0, l->cap * sizeof(*l->slot));
	l->n = 0;
	return 0;
}

static int live_put(struct liveness *l, int64_t id, const char *uuid,
		int64_t heartbeat_ns, int newer);

/* Writes what waits on the flusher's handle with the lock let go (see
 * the top); called and returns under the lock. */
static int live_fly(struct model *m)
{
	struct liveness *l = m->live;
	struct live_entry *fly;
	size_t cap;
	int ret;

	if (!l->n)
		return 0;
	l->fly = fly = l->slot;
	l->flycap = cap = l->cap;
	l->slot = NULL;
	l->cap = l->n = 0;
	model_unlock(m);
	ret = live_write(l->own, fly, cap);
	model_lock(m);
	if (!ret)
		live_written(m, fly, cap);
	else
		/* back to wait, under what came meanwhile */
		for (size_t i = 0; i < cap; i++)
			if (fly[i].id && live_put(l, fly[i].id, fly[i].uuid,
					fly[i].heartbeat_ns, 0))
				break;
	l->fly = NULL;
	l->flycap = 0;
	free(fly);
	pthread_cond_broadcast(&l->landed);
	return ret ? model_fail_store(ret) : 0;
}

int model_liveness_flush_locked(struct model *m)
{
	struct liveness *l = m->live;

	/* what a flight writes is written once it lands */
	while (l && l->fly)
		pthread_cond_wait(&l->landed, &m->lock);
	return live_write_locked(m);
}

static void *live_flusher(void *arg)
{
	struct model *m = arg;
	struct liveness *l = m->live;
	struct timespec at;
	long failing = 0;         /* flushes failed in a row */
	long ev_failing = 0;      /* event log ticks failed */

	/* no test's injected fault is aimed at this thread's calls */
	store_fault_exempt_thread();
	model_lock(m);
	while (!l->stop) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += l->interval_ns / 1000000000LL;
		at.tv_nsec += l->interval_ns % 1000000000LL;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!l->stop && pthread_cond_timedwait(&l->wake, &m->lock,
				&at) != ETIMEDOUT)
			;
		/* said when it starts failing, once a minute while it does,
		 * and when it works again */
		if (l->own ? live_fly(m) : live_write_locked(m)) {
			if (failing++ % 120 == 0)
				fprintf(stderr, "runtimefs: writing heartbeat"
						" times: %s (they wait in"
						" memory)\n", model_errmsg());
		} else if (failing) {
			fprintf(stderr, "runtimefs: heartbeat times written"
					" again after %ld failed tries\n",
					failing);
			failing = 0;
		}
		/* statuses changed by time, told as they happen, and
		 * the event log kept to its size (events.c) */
		if ((model_events_tick(m) || model_audit_tick(m)) &&
		    ev_failing++ % 120 == 0)
			fprintf(stderr, "runtimefs: event or audit log: %s\n",
					model_errmsg());
		/* keys opened for ICP's tokens live a flush interval at
		 * most past their last use (keys.c) */
		model_keys_forget(m);
		/* what other writers committed: told outside the lock */
		if (!store_poll(m->store) && m->foreign) {
			model_unlock(m);
			model_lock(m);
		}
	}
	model_unlock(m);
	return NULL;
}

int model_liveness_start(struct model *m)
{
	struct liveness *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;
	int err;

	if (!l)
		return model_fail(-ENOMEM, "out of memory");
	l->interval_ns = m->cfg.flush_interval_ns ? m->cfg.flush_interval_ns :
		DEFAULT_FLUSH_NS;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&l->landed, NULL);
	m->live = l;
	if (l->interval_ns <= 0)
		return 0;
	/* without a handle of its own, it writes on the model's */
	err = store_open_another(m->store, &l->own);
	if (err && err != -ENOTSUP)
		fprintf(stderr, "runtimefs: the heartbeat flusher writes on the"
				" daemon's own connection: %s\n",
				store_errmsg());
	err = pthread_create(&l->thread, NULL, live_flusher, m);
	if (err) {
		store_close(l->own);
		pthread_cond_destroy(&l->wake);
		pthread_cond_destroy(&l->landed);
		free(l);
		m->live = NULL;
		return model_fail(-err, "cannot start the heartbeat flusher");
	}
	l->running = 1;
	return 0;
}

void model_liveness_stop(struct model *m)
{
	struct liveness *l = m->live;

	if (!l)
		return;
	if (l->running) {
		model_lock(m);
		l->stop = 1;
		pthread_cond_signal(&l->wake);
		model_unlock(m);
		pthread_join(l->thread, NULL);
	}
	store_close(l->own);
	if (model_liveness_flush(m))
		fprintf(stderr, "runtimefs: writing heartbeat times: %s\n",
				model_errmsg());
	pthread_cond_destroy(&l->wake);
	pthread_cond_destroy(&l->landed);
	free(l->slot);
	free(l);
	m->live = NULL;
}

int model_flush(struct model *m)
{
	return m->parent ? 0 : model_liveness_flush(m);
}

int model_liveness_flush(struct model *m)
{
	int ret;

	model_lock(m);
	ret = model_liveness_flush_locked(m);
	model_unlock(m);
	return ret;
}

size_t model_liveness_pending(struct model *m)
{
	struct liveness *l = m->live;
	size_t n = 0;

	model_lock(m);
	if (l) {
		n = l->n;
		for (size_t i = 0; i < l->flycap; i++)
			n += l->fly[i].id != 0;
	}
	model_unlock(m);
	return n;
}

/* Keeps `heartbeat_ns` as runtime `id`'s (`uuid`) time unless a later
 * one waits.  A time of another runtime under the same row id (the
 * store gave a deleted runtime's id again) gives way when `newer`: a
 * heartbeat noted now, not a flight's time put back. */
static int live_put(struct liveness *l, int64_t id, const char *uuid,
		int64_t heartbeat_ns, int newer)
{
	struct live_entry *e;
	int ret;

	if (l->cap && (e = live_find(l, id))->id) {
		if (strcmp(e->uuid, uuid)) {
			if (newer) {
				memcpy(e->uuid, uuid, sizeof(e->uuid));
				e->heartbeat_ns = heartbeat_ns;
			}
		} else if (heartbeat_ns > e->heartbeat_ns) {
			e->heartbeat_ns = heartbeat_ns;
		}
		return 0;
	}
	if ((l->n + 1) * 2 > l->cap && (ret = live_grow(l)))
		return ret;
	e = live_find(l, id);
	e->id = id;
	e->heartbeat_ns = heartbeat_ns;
	memcpy(e->uuid, uuid, sizeof(e->uuid));
	l->n++;
	return 0;
}

int model_liveness_note(struct model *m, const struct store_runtime *rt,
		int64_t heartbeat_ns)
{
	struct liveness *l = m->live;
	int ret;

	if (!l)
		return model_fail(-EROFS, "this model takes no heartbeats");
	/* a full table is written now; while a flight is out, it grows */
	if (l->n >= LIVENESS_BATCH_MAX && !l->fly &&
	    (!l->cap || !live_find(l, rt->id)->id) &&
	    (ret = live_write_locked(m)))
		return ret;
	return live_put(l, rt->id, rt->uuid, heartbeat_ns, 1);
}

/* Lays the time of `slot` (`cap` slots) over `row`'s if it is later. */
static void overlay(struct live_entry *slot, size_t cap,
		struct store_runtime *row)
{
	const struct live_entry *e;

	if (!cap)
		return;
	e = slot_find(slot, cap, row->id);
	if (e->id && !strcmp(e->uuid, row->uuid) &&
	    e->heartbeat_ns > row->heartbeat_ns)
		row->heartbeat_ns = e->heartbeat_ns;
}

void model_liveness_overlay(struct model *m, struct store_runtime *row)
{
	struct liveness *l = m->live;

	if (!l)
		return;
	if (l->n)
		overlay(l->slot, l->cap, row);
	overlay(l->fly, l->flycap, row);
}
