/*
 * walk.c - recursive removals of object directories, all or nothing
 * (walk.h): which directories each process opened on its way down, and
 * what its walk staged.
 */
#include "walk.h"
#include "lasterr.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALKERS 64               /* processes followed at once */
#define MARKS 32                 /* directories of one process: its path */
#define STAGED_MAX (1L << 20)    /* removals staged by all walks */

struct mark {
	char *path;
	int object;
};

struct walker {
	pid_t pid;                 /* 0: a free slot */
	unsigned long long start;  /* when that process started (pids wrap) */
	uid_t uid;
	uint64_t used;             /* when it last did something, in turns */
	struct mark marks[MARKS];
	int nmarks;
	char *root;                /* the object its staged removals are in */
	char **staged;             /* a hash set of paths, open addressing */
	size_t nstaged, cap;
};

static struct walker walkers[WALKERS];
static uint64_t turn;
static long staged_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether `dir` is `path` or one of the directories above it. */
static int above_or_at(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return 1;
	return !strncmp(dir, path, n) && (path[n] == '/' || !path[n]);
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The slot of `path` in the staged set, or the free one where it goes. */
static char **staged_slot(struct walker *w, const char *path)
{
	size_t i = hash(path) & (w->cap - 1);

	while (w->staged[i] && strcmp(w->staged[i], path))
		i = (i + 1) & (w->cap - 1);
	return &w->staged[i];
}

static int staged_add(struct walker *w, const char *path)
{
	char **slot;

	if (w->cap && *staged_slot(w, path))
		return 0;
	if (staged_total >= STAGED_MAX)
		return -ENOSPC;
	if ((w->nstaged + 1) * 2 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		char **old = w->staged;
		size_t oldcap = w->cap;

		w->staged = calloc(cap, sizeof(*w->staged));
		if (!w->staged) {
			w->staged = old;
			return -ENOMEM;
		}
		w->cap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i])
				*staged_slot(w, old[i]) = old[i];
		free(old);
	}
	slot = staged_slot(w, path);
	if (!(*slot = strdup(path)))
		return -ENOMEM;
	w->nstaged++;
	staged_total++;
	return 0;
}

/* Forgets what `w` staged, saying so when that was anything and `why`
 * is given: a walk that did not reach its root changed nothing. */
static void drop_staged(struct walker *w, const char *why)
{
	char msg[512];

	if (w->nstaged && why) {
		snprintf(msg, sizeof(msg), "%s: the %zu removal%s made inside"
				" it on the way down %s dropped, and nothing"
				" was removed (a recursive removal takes"
				" effect when the directory itself is"
				" removed)", why, w->nstaged,
				w->nstaged > 1 ? "s" : "",
				w->nstaged > 1 ? "are" : "is");
		lasterr_record(w->uid, "rm -r", w->root, -ECANCELED, msg);
	}
	for (size_t i = 0; i < w->cap; i++)
		free(w->staged[i]);
	free(w->staged);
	staged_total -= (long)w->nstaged;
	w->staged = NULL;
	w->nstaged = w->cap = 0;
	free(w->root);
	w->root = NULL;
}

static void forget(struct walker *w, const char *why)
{
	drop_staged(w, why);
	for (int i = 0; i < w->nmarks; i++)
		free(w->marks[i].path);
	memset(w, 0, sizeof(*w));
}

/* When process (or thread) `pid` started, in clock ticks since boot; 0 if
 * it is gone. */
static unsigned long long started(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long long t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
		/* after the command: state, then 18 fields, then starttime */
		sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
				" %*s %*s %*s %*s %*s %*s %*s %*s %llu", &t);
	fclose(f);
	return t;
}

/* Walks of processes that are gone end there. */
static void reap(pid_t self)
{
	for (int i = 0; i < WALKERS; i++)
		if (walkers[i].pid && walkers[i].pid != self &&
		    kill(walkers[i].pid, 0) && errno == ESRCH)
			forget(&walkers[i], walkers[i].root ?
					"the process ended before it removed"
					" the directory" : NULL);
}

static struct walker *walker(pid_t pid, uid_t uid, int create)
{
	struct walker *w = NULL, *oldest = NULL;

	for (int i = 0; i < WALKERS; i++)
		if (walkers[i].pid == pid)
			return &walkers[i];
	if (!create)
		return NULL;
	reap(pid);
	for (int i = 0; i < WALKERS && !w; i++)
		if (!walkers[i].pid)
			w = &walkers[i];
	for (int i = 0; i < WALKERS && !w; i++)
		if (!oldest || walkers[i].used < oldest->used)
			oldest = &walkers[i];
	if (!w) {
		w = oldest;
		forget(w, "too many processes walked the tree at once");
	}
	w->pid = pid;
	w->uid = uid;
	w->start = started(pid);
	return w;
}

/* Keeps the marks of `w` on the directories above `path` (or at it),
 * and its staged removals only while their root is one of them. */
static void prune(struct walker *w, const char *path)
{
	int kept = 0;

	for (int i = 0; i < w->nmarks; i++) {
		if (above_or_at(w->marks[i].path, path))
			w->marks[kept++] = w->marks[i];
		else
			free(w->marks[i].path);
	}
	w->nmarks = kept;
	if (w->root && !above_or_at(w->root, path))
		drop_staged(w, "the walk went elsewhere before it removed the"
				" directory");
}

static struct mark *marked(struct walker *w, const char *dir)
{
	for (int i = 0; i < w->nmarks; i++)
		if (!strcmp(w->marks[i].path, dir))
			return &w->marks[i];
	return NULL;
}

void walk_opened(pid_t pid, uid_t uid, const char *path, int object)
{
	struct walker *w;
	char *copy;

	pthread_mutex_lock(&lock);
	w = walker(pid, uid, 1);
	w->used = ++turn;
	prune(w, path);
	if (!marked(w, path) && w->nmarks < MARKS &&
	    (copy = strdup(path))) {
		w->marks[w->nmarks].path = copy;
		w->marks[w->nmarks++].object = object;
	}
	pthread_mutex_unlock(&lock);
}

/* The parent directory of `path` into `out` ("/" for "/x"). */
static void parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	if (n >= cap)
		n = cap - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

int walk_removing(pid_t pid, uid_t uid, const char *path, int object,
		int counts)
{
	char dir[4096];
	const char *root = NULL;
	struct walker *w;
	struct mark *mk;
	int ret = WALK_NOW;

	pthread_mutex_lock(&lock);
	w = walker(pid, uid, 0);
	/* a walk of another process that had this pid ends here */
	if (w && w->start != started(pid)) {
		forget(w, w->root ? "the process ended before it removed the"
				" directory" : NULL);
		w = NULL;
	}
	if (!w)
		goto out;
	w->used = ++turn;
	prune(w, path);
	/* up from the parent while each directory was opened on the way */
	parent_of(path, dir, sizeof(dir));
	while ((mk = marked(w, dir))) {
		if (mk->object)
			root = mk->path;
		if (!strcmp(dir, "/"))
			break;
		parent_of(mk->path, dir, sizeof(dir));
	}
	if (root) {
		if (w->root && strcmp(w->root, root))
			drop_staged(w, "another walk began before it removed"
					" the directory");
		if (!w->root && !(w->root = strdup(root))) {
			ret = -ENOMEM;
			goto out;
		}
		ret = counts ? staged_add(w, path) : 0;
		if (!ret)
			ret = WALK_STAGE;
	} else if (object && w->root && !strcmp(w->root, path)) {
		ret = WALK_ROOT;
	}
out:
	pthread_mutex_unlock(&lock);
	return ret;
}

int walk_covered(pid_t pid, const char *path)
{
	struct walker *w;
	int ret = 0;

	pthread_mutex_lock(&lock);
	w = walker(pid, 0, 0);
	if (w && w->cap)
		ret = *staged_slot(w, path) != NULL;
	pthread_mutex_unlock(&lock);
	return ret;
}

void walk_done(pid_t pid, const char *path)
{
	struct walker *w;

	pthread_mutex_lock(&lock);
	w = walker(pid, 0, 0);
	if (w && w->root && !strcmp(w->root, path))
		drop_staged(w, NULL);
	pthread_mutex_unlock(&lock);
}

void walk_fini(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < WALKERS; i++)
		if (walkers[i].pid)
			forget(&walkers[i], walkers[i].root ? "the mount went"
					" before the directory was removed" :
					NULL);
	pthread_mutex_unlock(&lock);
}
