/*
 * cache.h - the kernel's caches of the tree, kept exact.
 *
 * The kernel keeps names (entries) and attributes for `timeout` seconds
 * (-o cache_timeout=, 60 by default) and directory listings until told
 * otherwise, so that `ls -lR`, `find` and `stat` run at the kernel's speed.
 * Nothing is served stale, because the model tells (model_watch()) what
 * each change touched, and this tells the kernel at once, before the
 * request that made the change returns:
 *
 *   a heartbeat       the runtime directory, last_heartbeat and
 *                     runtime.json: attributes and pages
 *   a runtime change  every file the kernel holds below the runtime: its
 *                     attributes, and its name if it went (a version, an
 *                     endpoint, the secret and its snippet)
 *   a removal         every name the kernel holds of that object, in the
 *                     tree and in the project and integration views
 *   any change        directory listings are given again (the kernel keeps
 *                     a listing only while no change came since it)
 *
 * What changes by time alone, a status turning OFFLINE, is kept only
 * until that moment.  .last_error (one per caller) and scratch files are
 * never kept.  Names are never kept as absent (no negative entries), so a
 * new object shows at once.
 *
 * A removal through the mount in the directory the request holds locked
 * is left to the kernel, which does it itself: telling it then would wait
 * on that very lock.
 */
#ifndef FS_CACHE_H
#define FS_CACHE_H

#include <stdint.h>

#include "tree.h"

#define CACHE_TIMEOUT_DEFAULT 60.0

struct fuse_session;

/* Starts telling the kernel about the changes of `m` over `se`, with
 * `timeout` seconds for names and attributes (0: the kernel keeps
 * nothing). */
void cache_start(struct fuse_session *se, struct model *m, double timeout);
void cache_stop(void);

/* How long the kernel may keep the name and the attributes of `p`, whose
 * value is `v`; 0 for a scratch file (p == NULL). */
double cache_entry_timeout(const struct fs_path *p);
double cache_attr_timeout(const struct fs_path *p, const struct fs_value *v);

/* The change generation: it moves with every change but heartbeats. */
uint64_t cache_generation(void);

/* The directories the current request holds locked in the kernel (0: none);
 * cache_busy(0, 0) when the request ends. */
void cache_busy(uint64_t dir1, uint64_t dir2);

#endif
