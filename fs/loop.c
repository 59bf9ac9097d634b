/*
 * loop.c - the pool of threads that serve the kernel's requests.
 *
 * libfuse's own pool (fuse_session_loop_mt) has every idle thread asleep
 * in read() on the device, so each request starts with the scheduler
 * waking one: on a virtual machine that is most of a round trip (an
 * opendir() and close() of an empty directory took 60 us here, 25 us with
 * what follows; bench/results.md, "Request threads").  This pool keeps
 * one of its idle threads awake for a moment after the last request: it
 * reads the device, which is non-blocking, again and again for up to
 * `spin_us` microseconds before it sleeps, so that a request that follows
 * soon after another (a tree walk, a burst of heartbeats) is read at
 * once.  Between two reads it yields the CPU (sched_yield()): polling
 * gives way to any thread or process that has work on that CPU.
 * The others sleep in epoll_wait() with EPOLLEXCLUSIVE, which wakes one
 * of them per request, not all; the one woken finds the request taken or
 * takes it, and in either case becomes the next one awake.  An idle
 * daemon does not poll: after `spin_us` without a request every thread
 * sleeps.
 *
 * Threads come as libfuse's do: one more when the last idle one takes a
 * request (up to `max_threads`), and one goes when more than `max_idle`
 * are idle.  The loop ends when the kernel says the mount is gone (ENODEV,
 * libfuse then marks the session exited) or a signal handler of
 * fuse_set_signal_handlers() marks it: the main thread, which a signal to
 * the process reaches (the threads of the pool block signals), then wakes
 * every thread through an eventfd and waits for all of them to end.
 */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>

struct pool {
	struct fuse_session *se;
	int fd;                       /* the device, non-blocking */
	int stop;                     /* eventfd: readable once it ends */
	int64_t spin_ns;
	unsigned max_threads, max_idle;
	pthread_mutex_t lock;
	pthread_cond_t gone;          /* a thread ended */
	unsigned threads, idle;       /* under lock */
	int failed;                   /* a read failed: not a clean stop */
	int short_said;               /* "no more request threads" logged */
	atomic_int awake;             /* one thread polls the device */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Wakes every thread of the pool, for good. */
static void pool_stop(struct pool *p)
{
	uint64_t one = 1;

	if (write(p->stop, &one, sizeof(one)) < 0) {
		/* the counter is already near its end: it is readable */
	}
}

/* Reads the next request into `buf`: what fuse_session_receive_buf()
 * says (> 0, 0 at the end, -errno), polling for a while first when no
 * other thread does. */
static int receive(struct pool *p, struct fuse_buf *buf)
{
	int r = fuse_session_receive_buf(p->se, buf), none = 0;
	int64_t until;

	if (r != -EAGAIN || !p->spin_ns ||
	    !atomic_compare_exchange_strong(&p->awake, &none, 1))
		return r;
	until = mono_ns() + p->spin_ns;
	do {
		sched_yield();
		r = fuse_session_receive_buf(p->se, buf);
	} while (r == -EAGAIN && !fuse_session_exited(p->se) &&
			mono_ns() < until);
	atomic_store(&p->awake, 0);
	return r;
}

static void *worker(void *arg);

/* What a thread waits on: the device, which wakes one of the sleeping
 * threads per request, and the pool's end, which wakes all.  Made by the
 * thread that spawns it, so that a daemon short of descriptors only
 * grows no further (-errno), and no thread needs one to go on. */
static int waiter(struct pool *p)
{
	struct epoll_event dev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	struct epoll_event stop = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), err;

	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &dev) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, p->stop, &stop)) {
		err = -errno;
		close(ep);
		return err;
	}
	return ep;
}

struct thread {
	struct pool *p;
	int ep;                       /* waiter() */
};

/* One more thread, with the pool's lock held; 0 or -errno. */
static int spawn(struct pool *p)
{
	struct thread *t = malloc(sizeof(*t));
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t id;
	int err;

	if (!t)
		return -ENOMEM;
	t->p = p;
	t->ep = waiter(p);
	if (t->ep < 0) {
		err = t->ep;
		free(t);
		return err;
	}
	/* signals go to the main thread, which ends the loop (above) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&id, &attr, worker, t);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(t->ep);
		free(t);
		return -err;
	}
	p->threads++;
	p->idle++;
	return 0;
}

/* A pool that cannot grow serves with the threads it has; said once. */
static void grow(struct pool *p)
{
	int err = spawn(p);

	if (err && !p->short_said) {
		p->short_said = 1;
		fprintf(stderr, "runtimefs: no more request threads than %u:"
				" %s\n", p->threads, strerror(-err));
	}
}

static void *worker(void *arg)
{
	struct thread *t = arg;
	struct pool *p = t->p;
	struct fuse_buf buf = { 0 };
	struct epoll_event ev;
	int ep = t->ep, r, surplus = 0;

	free(t);
	while (!fuse_session_exited(p->se)) {
		r = receive(p, &buf);
		if (r == -EAGAIN) {
			if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
				break;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			if (r < 0) {
				pthread_mutex_lock(&p->lock);
				p->failed = 1;
				pthread_mutex_unlock(&p->lock);
			}
			break;
		}
		pthread_mutex_lock(&p->lock);
		p->idle--;
		if (!p->idle && p->threads < p->max_threads)
			grow(p);
		pthread_mutex_unlock(&p->lock);

		fuse_session_process_buf(p->se, &buf);

		pthread_mutex_lock(&p->lock);
		surplus = p->idle >= p->max_idle;
		if (!surplus)
			p->idle++;
		pthread_mutex_unlock(&p->lock);
		if (surplus)
			break;
	}
	close(ep);
	free(buf.mem);
	/* the session ended: the others wake and end too */
	if (!surplus) {
		fuse_session_exit(p->se);
		pool_stop(p);
	}
	pthread_mutex_lock(&p->lock);
	if (!surplus)
		p->idle--;
	p->threads--;
	pthread_cond_broadcast(&p->gone);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int fs_loop(struct fuse_session *se, unsigned max_threads,
		unsigned max_idle, unsigned spin_us)
{
	struct pool p = {
		.se = se,
		.fd = fuse_session_fd(se),
		.spin_ns = (int64_t)spin_us * 1000,
		.max_threads = max_threads ? max_threads : 1,
		.max_idle = max_idle ? max_idle : 1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.gone = PTHREAD_COND_INITIALIZER,
	};
	struct pollfd stop;
	int flags = fcntl(p.fd, F_GETFL), err;

	if (flags < 0 || fcntl(p.fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		fprintf(stderr, "runtimefs: the device: %s\n", strerror(errno));
		return -1;
	}
	p.stop = eventfd(0, EFD_CLOEXEC);
	if (p.stop < 0) {
		fprintf(stderr, "runtimefs: eventfd: %s\n", strerror(errno));
		fcntl(p.fd, F_SETFL, flags);
		return -1;
	}
	pthread_mutex_lock(&p.lock);
	err = spawn(&p);
	pthread_mutex_unlock(&p.lock);
	if (err) {
		fprintf(stderr, "runtimefs: no request thread: %s\n",
				strerror(-err));
		close(p.stop);
		fcntl(p.fd, F_SETFL, flags);
		return -1;
	}
	/* a signal to the process reaches this thread (the pool's block
	 * them) and interrupts poll(); an end the threads saw wakes it; and
	 * a signal that came between the test and poll() is seen within a
	 * second */
	stop.fd = p.stop;
	stop.events = POLLIN;
	while (!fuse_session_exited(se))
		if (poll(&stop, 1, 1000) < 0 && errno != EINTR)
			break;
	fuse_session_exit(se);
	pool_stop(&p);
	pthread_mutex_lock(&p.lock);
	while (p.threads)
		pthread_cond_wait(&p.gone, &p.lock);
	pthread_mutex_unlock(&p.lock);
	close(p.stop);
	fcntl(p.fd, F_SETFL, flags);
	return p.failed ? -1 : 0;
}
