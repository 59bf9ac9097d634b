/*
 * cache.h - the kernel's caches of the tree, kept exact.
 *
 * The kernel keeps names (entries) and attributes for `timeout` seconds
 * (-o cache_timeout=, 60 by default), the pages of read-only files and
 * directory listings, so that `ls -lR`, `find` and `stat` run at the
 * kernel's speed.  Values change behind its back (heartbeats, deploys,
 * time), so the model tells (model_watch()) what each change touched and
 * the kernel is told in turn:
 *
 *   a runtime change  the files of the runtime that show what changed
 *                     (the node table's depends and lists, tree.h): for a
 *                     heartbeat the directory, last_heartbeat,
 *                     runtime.json and ctl; for a pin the one endpoint's
 *   a removal         the names the kernel holds of what went, and
 *                     everything below them
 *   names that change the listings that show them are given again (the
 *                     kernel keeps a listing only while no change of its
 *                     names came since it: inode_listing_kept())
 *
 * How, and why it can never hang: the request that made the change only
 * queues what it touched and replies; a notifier thread of its own tells
 * the kernel afterwards (libfuse's example/notify_inval_entry.c, the
 * kernel's kernfs_notify()).  It only ever invalidates attributes
 * (FUSE_NOTIFY_INVAL_INODE with a negative offset), which takes no lock
 * that a request in flight holds: no directory's i_rwsem (an entry
 * invalidation does, which is how two removals through two views used to
 * deadlock), no page lock (a page invalidation does).  The kernel drops a
 * file's pages itself when it next reads it and finds its mtime or size
 * moved (FUSE_CAP_AUTO_INVAL_DATA); a name whose object went answers
 * ESTALE to the next request on it, which makes the kernel look the name
 * up again (ops.c).  Names are never kept as absent (no negative
 * entries), so a new object shows at once.
 *
 * When a change is visible to another process: its listings and the
 * content of every file at the next opendir() or open() after the system
 * call that made the change returned (both wait for the notifier to have
 * sent what was queued before them: cache_barrier(); a listing read
 * before the change that the kernel may still file into its cache makes
 * the next opendir() read past the cache, inode.h); a stat() that the
 * kernel answers from its cache as soon as the notifier has run, a few
 * microseconds after that return, and always within the attribute
 * timeout.  What changes by time alone, a status turning OFFLINE, is kept
 * only until that moment.  .last_error (one per caller) and scratch files
 * are never kept.
 */
#ifndef FS_CACHE_H
#define FS_CACHE_H

#include <stdint.h>

#include "tree.h"

#define CACHE_TIMEOUT_DEFAULT 60.0

struct fuse_session;

/* Starts telling the kernel about the changes of `m` over `se` from a
 * notifier thread, with `timeout` seconds for names and attributes (0:
 * the kernel keeps nothing).  -errno when the thread cannot start. */
int cache_start(struct fuse_session *se, struct model *m, double timeout);
/* Sends what is queued, then stops the notifier. */
void cache_stop(void);

/* Waits until the notifier has told the kernel every change queued
 * before this call (at most a second: the notifier never blocks, but a
 * barrier must not either). */
void cache_barrier(void);

/* How long the kernel may keep the name and the attributes of `p`, whose
 * value is `v`; 0 for a scratch file (p == NULL). */
double cache_entry_timeout(const struct fs_path *p);
double cache_attr_timeout(const struct fs_path *p, const struct fs_value *v);

#endif
