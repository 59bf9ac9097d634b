/*
 * notifyq.h - the queue between the requests that make changes and the
 * thread that tells the kernel about them (cache.c), as libfuse's
 * example/notify_inval_entry.c and the kernel's kernfs_notify() hand
 * notifications to a thread of their own.
 *
 * A request puts the model's events in and returns at once; the queue's
 * thread takes them out in order, in batches, and gives each to `tell`
 * without the queue's lock.  A queue that fills up, or an event that says
 * anything may have changed (MODEL_EV_ALL), becomes one MODEL_EV_ALL: the
 * events queued then are dropped, since telling everything covers them.
 * notifyq_barrier() waits until everything put in before it was told, at
 * most `wait_ns`: a slow `tell` delays a barrier, never blocks it.
 */
#ifndef FS_NOTIFYQ_H
#define FS_NOTIFYQ_H

#include <stdint.h>

#include "../model/model.h"

struct notifyq;

typedef void (*notifyq_tell_fn)(void *ctx, const struct model_event *ev);

/* Starts a queue of `cap` events and its thread.  -errno. */
int notifyq_start(struct notifyq **out, unsigned cap, notifyq_tell_fn tell,
		void *ctx);
/* Tells what is queued, stops the thread and frees the queue; NULL is a
 * no-op. */
void notifyq_stop(struct notifyq *q);

/* Queues a copy of `ev`; never blocks on `tell`. */
void notifyq_put(struct notifyq *q, const struct model_event *ev);
/* Waits until every event put before this call was told, or `wait_ns`
 * passed: 0, or -ETIMEDOUT. */
int notifyq_barrier(struct notifyq *q, int64_t wait_ns);

#endif
