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

/* The slot of `id`, or the free slot where it would go. */
static struct live_entry *live_find(struct liveness *l, int64_t id)
{
	size_t i = live_hash(id, l->cap);

	while (l->slot[i].id && l->slot[i].id != id)
		i = (i + 1) & (l->cap - 1);
	return &l->slot[i];
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

int model_liveness_flush_locked(struct model *m)
{
	struct store_beat batch[LIVENESS_WRITE_MAX];
	struct liveness *l = m->live;
	size_t n = 0;
	int ret;

	if (!l || !l->n)
		return 0;
	if ((ret = store_begin(m->store)))
		return model_fail_store(ret);
	/* in one transaction, some at a time */
	m->changing = 1;
	for (size_t i = 0; i < l->cap && !ret; i++) {
		if (!l->slot[i].id)
			continue;
		batch[n].id = l->slot[i].id;
		memcpy(batch[n].uuid, l->slot[i].uuid, sizeof(batch[n].uuid));
		batch[n].heartbeat_ns = l->slot[i].heartbeat_ns;
		if (++n == LIVENESS_WRITE_MAX) {
			ret = store_runtime_heartbeats(m->store, batch, n);
			n = 0;
		}
	}
	if (!ret && n)
		ret = store_runtime_heartbeats(m->store, batch, n);
	if (ret)
		store_rollback(m->store);
	else if ((ret = store_commit(m->store)) == 0)
		model_rows_forget_committed(m);
	m->changing = 0;
	if (ret)
		return model_fail_store(ret);
	/* written: the other hosts hear of each time */
	for (size_t i = 0; i < l->cap; i++)
		if (l->slot[i].id)
			model_feed_heard(m, l->slot[i].uuid);
	memset(l->slot, 0, l->cap * sizeof(*l->slot));
	l->n = 0;
	return 0;
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
		if (model_liveness_flush_locked(m)) {
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
	m->live = l;
	if (l->interval_ns <= 0)
		return 0;
	err = pthread_create(&l->thread, NULL, live_flusher, m);
	if (err) {
		pthread_cond_destroy(&l->wake);
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
	if (model_liveness_flush(m))
		fprintf(stderr, "runtimefs: writing heartbeat times: %s\n",
				model_errmsg());
	pthread_cond_destroy(&l->wake);
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
	size_t n;

	model_lock(m);
	n = m->live ? m->live->n : 0;
	model_unlock(m);
	return n;
}

int model_liveness_note(struct model *m, const struct store_runtime *rt,
		int64_t heartbeat_ns)
{
	struct liveness *l = m->live;
	struct live_entry *e;
	int ret;

	if (!l)
		return model_fail(-EROFS, "this model takes no heartbeats");
	if (l->cap && (e = live_find(l, rt->id))->id) {
		if (strcmp(e->uuid, rt->uuid)) {
			/* a reused row id: the old runtime is gone */
			memcpy(e->uuid, rt->uuid, sizeof(e->uuid));
			e->heartbeat_ns = heartbeat_ns;
		} else if (heartbeat_ns > e->heartbeat_ns) {
			e->heartbeat_ns = heartbeat_ns;
		}
		return 0;
	}
	if (l->n >= LIVENESS_BATCH_MAX && (ret = model_liveness_flush_locked(m)))
		return ret;
	if ((l->n + 1) * 2 > l->cap && (ret = live_grow(l)))
		return ret;
	e = live_find(l, rt->id);
	e->id = rt->id;
	e->heartbeat_ns = heartbeat_ns;
	memcpy(e->uuid, rt->uuid, sizeof(e->uuid));
	l->n++;
	return 0;
}

void model_liveness_overlay(struct model *m, struct store_runtime *row)
{
	struct liveness *l = m->live;
	struct live_entry *e;

	if (!l || !l->n)
		return;
	e = live_find(l, row->id);
	if (e->id && !strcmp(e->uuid, row->uuid) &&
	    e->heartbeat_ns > row->heartbeat_ns)
		row->heartbeat_ns = e->heartbeat_ns;
}
