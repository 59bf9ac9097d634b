/*
 * test_notifyq.c - the queue between changes and the notifier
 * (fs/notifyq.c): order, a full queue becoming "everything", barriers
 * that wait for what came before them and never longer than they may,
 * and a stop that tells what is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../fs/notifyq.h"

#define MS 1000000LL

/* What the notifier was told, and a gate that holds it in `tell`. */
struct heard {
	pthread_mutex_t lock;
	pthread_cond_t open;
	int closed;
	int entered;               /* calls of tell() so far */
	int n, all;
	int64_t ids[4096];
};

static void tell(void *ctx, const struct model_event *ev)
{
	struct heard *h = ctx;

	pthread_mutex_lock(&h->lock);
	h->entered++;
	while (h->closed)
		pthread_cond_wait(&h->open, &h->lock);
	if (ev->kind == MODEL_EV_ALL)
		h->all++;
	else if (h->n < 4096)
		h->ids[h->n++] = ev->id;
	pthread_mutex_unlock(&h->lock);
}

static void gate(struct heard *h, int closed)
{
	pthread_mutex_lock(&h->lock);
	h->closed = closed;
	pthread_cond_broadcast(&h->open);
	pthread_mutex_unlock(&h->lock);
}

static struct model_event runtime(int64_t id)
{
	struct model_event ev = { .kind = MODEL_EV_RUNTIME, .id = id };

	return ev;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define HEARD_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, \
	0, 0, 0, 0, { 0 } }

/* Waits until the notifier has called tell() `n` times in all. */
static void entered(struct heard *h, int n)
{
	for (int i = 0; i < 10000; i++) {
		int in;

		pthread_mutex_lock(&h->lock);
		in = h->entered;
		pthread_mutex_unlock(&h->lock);
		if (in >= n)
			return;
		usleep(1000);
	}
	fail_msg("the notifier never took event %d", n);
}

static void test_in_order(void **state)
{
	static struct heard h = HEARD_INIT;
	struct notifyq *q;

	(void)state;
	assert_int_equal(notifyq_start(&q, 64, tell, &h), 0);
	for (int i = 1; i <= 1000; i++) {
		struct model_event ev = runtime(i);

		notifyq_put(q, &ev);
		/* the queue never fills while the notifier keeps up */
		if (i % 32 == 0)
			assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	}
	assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	assert_int_equal(h.n, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(h.ids[i], i + 1);
	assert_int_equal(h.all, 0);
	notifyq_stop(q);
}

static void test_full_queue_tells_everything(void **state)
{
	static struct heard h = HEARD_INIT;
	struct model_event first = runtime(1), ev;
	struct notifyq *q;

	(void)state;
	assert_int_equal(notifyq_start(&q, 8, tell, &h), 0);
	gate(&h, 1);
	notifyq_put(q, &first);
	/* the notifier took the first and waits at the gate: fill the
	 * queue and more */
	entered(&h, 1);
	for (int i = 2; i <= 20; i++) {
		ev = runtime(i);
		notifyq_put(q, &ev);
	}
	assert_int_equal(notifyq_barrier(q, 50 * MS), -ETIMEDOUT);
	gate(&h, 0);
	assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	/* the first, then one "everything" for the 19 that did not fit */
	assert_int_equal(h.n, 1);
	assert_int_equal(h.ids[0], 1);
	assert_int_equal(h.all, 1);
	notifyq_stop(q);
}

static void test_all_event(void **state)
{
	static struct heard h = HEARD_INIT;
	struct model_event all = { .kind = MODEL_EV_ALL }, ev = runtime(7);
	struct notifyq *q;

	(void)state;
	assert_int_equal(notifyq_start(&q, 8, tell, &h), 0);
	notifyq_put(q, &all);
	assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	notifyq_put(q, &ev);
	assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	assert_int_equal(h.all, 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.ids[0], 7);
	notifyq_stop(q);
}

/* A notifier held up delays a barrier for at most its wait. */
static void test_barrier_bounded(void **state)
{
	static struct heard h = HEARD_INIT;
	struct model_event ev = runtime(1);
	struct notifyq *q;
	int64_t t0, took;

	(void)state;
	assert_int_equal(notifyq_start(&q, 8, tell, &h), 0);
	/* nothing queued: at once */
	assert_int_equal(notifyq_barrier(q, 0), 0);
	gate(&h, 1);
	notifyq_put(q, &ev);
	t0 = now_ns();
	assert_int_equal(notifyq_barrier(q, 100 * MS), -ETIMEDOUT);
	took = now_ns() - t0;
	assert_true(took >= 90 * MS && took < 2000 * MS);
	gate(&h, 0);
	assert_int_equal(notifyq_barrier(q, 1000 * MS), 0);
	assert_int_equal(h.n, 1);
	notifyq_stop(q);
}

/* Stopping tells what was queued first. */
static void test_stop_tells_the_rest(void **state)
{
	static struct heard h = HEARD_INIT;
	struct notifyq *q;

	(void)state;
	assert_int_equal(notifyq_start(&q, 64, tell, &h), 0);
	for (int i = 1; i <= 50; i++) {
		struct model_event ev = runtime(i);

		notifyq_put(q, &ev);
	}
	notifyq_stop(q);
	assert_int_equal(h.n, 50);
	assert_int_equal(h.ids[49], 50);
	notifyq_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_full_queue_tells_everything),
		cmocka_unit_test(test_all_event),
		cmocka_unit_test(test_barrier_bounded),
		cmocka_unit_test(test_stop_tells_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
