/*
 * walk.h - recursive removals of object directories, all or nothing.
 *
 * `rm -r`, `rm -rf`, `find -delete`, Python's shutil.rmtree and
 * `rsync --delete` remove a directory by removing what is in it, one
 * entry at a time, deepest first, and the directory last.  Inside an
 * object directory (an environment, a runtime, an endpoint, a project,
 * an integration, a snapshot) those entries have meanings of their own
 * (`rm versions/1` deletes a version, `rm secrets/s` revokes a secret),
 * so taken one by one a removal that fails at the end (a RUNNING
 * runtime) would leave the object half gone.  Instead, what such a walk
 * removes inside the object changes nothing yet: it is staged, and the
 * walk's last step, the removal of the object directory itself, removes
 * the object whole in one transaction (model_*_remove()), or nothing.
 *
 * A walk is recognised by how these tools work: they open every
 * directory on the way down before they remove anything in it.  A
 * removal of PATH by process P is part of a walk when P has opened the
 * directories above PATH, one after the other, up to an object
 * directory; the outermost such object is the walk's root.  A removal
 * by a process that did not open its way there (`rm versions/1`, a
 * glob's `rm versions/N...`, `find versions -delete` run inside a
 * runtime's directory) keeps its meaning and is applied at once.  A walk that ends without
 * removing its root (the tool was stopped, or only some entries were
 * removed, as `find DIR -name X -delete` does) changes nothing; the
 * staged removals are dropped and said so in .last_error and the log.
 *
 * Every function takes the module's own lock.
 */
#ifndef FS_WALK_H
#define FS_WALK_H

#include <sys/types.h>

/* What to do with a removal. */
enum walk_verdict {
	WALK_NOW,     /* no walk: apply it as it means on its own */
	WALK_STAGE,   /* part of the walk of an object above: staged */
	WALK_ROOT,    /* the root of a walk: remove the object whole */
};

/* Process `pid` (of user `uid`) opened the directory `path`, an object
 * directory if `object`. */
void walk_opened(pid_t pid, uid_t uid, const char *path, int object);

/* Process `pid` removes `path`: an object directory if `object`; `counts`
 * when the object above must find it removed (model_cover).  Returns the
 * verdict, or -ENOSPC when too much is staged. */
int walk_removing(pid_t pid, uid_t uid, const char *path, int object,
		int counts);

/* Whether the walk of `pid` removed `path`. */
int walk_covered(pid_t pid, const char *path);

/* The walk of `pid` rooted at `path` ended, applied or refused: what it
 * staged is forgotten. */
void walk_done(pid_t pid, const char *path);

/* Forgets every walk (at unmount). */
void walk_fini(void);

#endif
