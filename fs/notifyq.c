/*
 * notifyq.c - the queue between changes and the notifier (notifyq.h).
 * `queued` counts the events ever put in, `told` those given to `tell`;
 * a barrier waits for `told` to reach the `queued` it saw.
 */
#include "notifyq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 64

struct notifyq {
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* the thread: something to do */
	pthread_cond_t done;          /* barriers: `told` moved */
	struct model_event *ring;
	unsigned cap, head, n;
	int overflow;                 /* too much queued: tell everything */
	uint64_t queued, told;
	int stop;
	pthread_t thread;
	notifyq_tell_fn tell;
	void *ctx;
};

static void *run(void *arg)
{
	struct notifyq *q = arg;
	struct model_event batch[BATCH];
	unsigned n;
	uint64_t upto;
	int all;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->n && !q->overflow && !q->stop)
			pthread_cond_wait(&q->wake, &q->lock);
		if (!q->n && !q->overflow && q->stop)
			break;
		all = q->overflow;
		n = 0;
		if (all) {
			q->n = 0;
			q->overflow = 0;
		}
		while (q->n && n < BATCH) {
			batch[n++] = q->ring[q->head];
			q->head = (q->head + 1) % q->cap;
			q->n--;
		}
		upto = q->queued - q->n;
		pthread_mutex_unlock(&q->lock);
		if (all)
			q->tell(q->ctx, &(struct model_event){
					.kind = MODEL_EV_ALL });
		for (unsigned i = 0; i < n; i++)
			q->tell(q->ctx, &batch[i]);
		pthread_mutex_lock(&q->lock);
		q->told = upto;
		pthread_cond_broadcast(&q->done);
	}
	q->told = q->queued;
	pthread_cond_broadcast(&q->done);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int notifyq_start(struct notifyq **out, unsigned cap, notifyq_tell_fn tell,
		void *ctx)
{
	struct notifyq *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!q || !cap || !(q->ring = calloc(cap, sizeof(*q->ring)))) {
		free(q);
		return -ENOMEM;
	}
	q->cap = cap;
	q->tell = tell;
	q->ctx = ctx;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&q->thread, NULL, run, q);
	if (err) {
		pthread_cond_destroy(&q->done);
		pthread_cond_destroy(&q->wake);
		pthread_mutex_destroy(&q->lock);
		free(q->ring);
		free(q);
		return -err;
	}
	*out = q;
	return 0;
}

void notifyq_stop(struct notifyq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

void notifyq_put(struct notifyq *q, const struct model_event *ev)
{
	pthread_mutex_lock(&q->lock);
	if (ev->kind == MODEL_EV_ALL || q->n == q->cap) {
		q->overflow = 1;
	} else {
		q->ring[(q->head + q->n) % q->cap] = *ev;
		q->n++;
	}
	q->queued++;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

int notifyq_barrier(struct notifyq *q, int64_t wait_ns)
{
	struct timespec now, at;
	uint64_t want;
	int64_t until;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	until = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec + wait_ns;
	at.tv_sec = until / 1000000000LL;
	at.tv_nsec = until % 1000000000LL;
	pthread_mutex_lock(&q->lock);
	want = q->queued;
	while (q->told < want && !ret)
		if (pthread_cond_timedwait(&q->done, &q->lock, &at) ==
				ETIMEDOUT && q->told < want)
			ret = -ETIMEDOUT;
	pthread_mutex_unlock(&q->lock);
	return ret;
}
