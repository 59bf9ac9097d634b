/*
 * inode.h - the inodes the kernel knows: FUSE node ids and the paths they
 * stand for.
 *
 * The kernel names a file by a node id it got from a lookup (or from
 * readdirplus, mkdir, create, symlink); it counts those lookups and gives
 * them back with forget.  This table holds one entry per path the kernel
 * holds, from the root (FUSE_ROOT_ID, "/") down: an entry lives while the
 * kernel holds it or while it has children.  Paths in the tree never move
 * (no rename of directories), so a path is a stable name for an inode; a
 * path that comes back after the kernel forgot it gets a new id.
 *
 * The cache (cache.c) finds in the table what a change touched: an
 * object's entry by stepping from the root through the names the kernel
 * holds (inode_child()), then the files of it that show what changed, or
 * everything below it when it went.  Walks copy what they find and call
 * back without the table's lock, because the kernel may wait on a request
 * that needs it.  The table also keeps, per directory, whether the
 * listing the kernel was given is still true (inode_listing_kept()).
 *
 * Every function takes the table's own lock.
 */
#ifndef FS_INODE_H
#define FS_INODE_H

#include <stddef.h>
#include <stdint.h>

/* What an inode names, as the tree resolved it once (tree.h): its node
 * kind, the attribute of a runtime's file, and the row id of the object
 * when that tells one object of a name from another made later under it
 * (a runtime).  inode.c keeps it and never looks inside. */
struct inode_obj {
	int kind;
	const void *attr;
	int64_t id;
};

/* One step of an inode's way from the root: what it names and its name. */
#define INODE_NAME_MAX 255
struct inode_link {
	struct inode_obj obj;
	char name[INODE_NAME_MAX + 1];
};
#define INODE_DEPTH_MAX 16

/* Sets up the table with the root.  -ENOMEM. */
int inode_init(void);
void inode_fini(void);

/* The child `name` of `parent` naming `obj`, added if new, counting one
 * lookup by the kernel; 0 when `parent` is unknown or memory ran out.  A
 * child of that name that names another object (another kind, another
 * row: made again since) is known by its id only from now on, and the
 * name gets a new id. */
uint64_t inode_ref(uint64_t parent, const char *name,
		const struct inode_obj *obj);
/* The kernel renamed child `name` of `parent` to `newname` of
 * `newparent`, which names `obj` from now on; what was there before is
 * now known by its id only.  -ENOMEM. */
int inode_move(uint64_t parent, const char *name, uint64_t newparent,
		const char *newname, const struct inode_obj *obj);
/* The way from the root to `ino`: links[0] is the root's child, links[n-1]
 * is `ino` itself (n = 0 for the root).  The number of links, -ESTALE when
 * the kernel forgot `ino`, -ENAMETOOLONG deeper than `max`. */
int inode_chain(uint64_t ino, struct inode_link *links, int max);
/* The kernel removed child `name` of `parent` (unlink, rmdir): the inode
 * it held is known by its id only, and a new object of that name gets a
 * new id, not the one the kernel may still hold as deleted. */
void inode_unlinked(uint64_t parent, const char *name);
/* The kernel forgot `n` lookups of `ino`. */
void inode_forget(uint64_t ino, uint64_t n);

/* The path of `ino` ("/" for the root) into `buf`; -ESTALE when the
 * kernel forgot it, -ENAMETOOLONG when it does not fit. */
int inode_path(uint64_t ino, char *buf, size_t size);
/* The path of child `name` of `parent` (of `parent` itself if `name` is
 * NULL).  -ESTALE, -ENAMETOOLONG. */
int inode_child_path(uint64_t parent, const char *name, char *buf,
		size_t size);

/* The child `name` of `parent` as the kernel holds it (never one known by
 * its id only), with what it names in `obj` (NULL: not wanted); 0 if
 * none. */
uint64_t inode_child(uint64_t parent, const char *name,
		struct inode_obj *obj);

/* A directory's listing as the kernel may have cached it.  A listing
 * read from inode_listing_start()'s moment on is recorded with
 * inode_listing_given() for each reply that carries part of it;
 * inode_listing_changed() says its names changed after that (for every
 * entry: inode_listings_changed()); the kernel may keep it while
 * inode_listing_kept() says so, with the time `ns` it was given.  The
 * kernel keeps the first listing it files after an open that dropped its
 * cache (inode_listing_reset()), so the oldest of those given since is
 * recorded.  It files a reply in the reading process, after the reply
 * left, which may be after a later open dropped the cache (the kernel's
 * fuse_add_dirent_to_cache() only checks the position): a reply is
 * settled, filed or not, when the same open asks again or is released
 * (inode_listing_settled()), and one not yet settled counts as given
 * after every reset, which says (1) when such a listing is older than a
 * change of the names: the kernel's cache may get it yet. */
uint64_t inode_listing_start(void);
int inode_listing_reset(uint64_t ino);
void inode_listing_given(uint64_t ino, uint64_t start, int64_t ns);
void inode_listing_settled(uint64_t ino);
int inode_listing_kept(uint64_t ino, int64_t *ns);
void inode_listing_changed(uint64_t ino);
void inode_listings_changed(void);

/* What a walk finds: an entry, its parent, what it names, its name. */
struct inode_seen {
	uint64_t ino;
	uint64_t parent;
	struct inode_obj obj;
	const char *name;
};
typedef void (*inode_walk_fn)(void *ctx, const struct inode_seen *seen);

/* Calls fn() for the entry `ino` and every entry below it (depth 0: all
 * the way down, else that many levels), parents before their children,
 * or for every entry; none of it under the table's lock.  -ENOMEM. */
int inode_walk_under(uint64_t ino, int depth, inode_walk_fn fn, void *ctx);
int inode_walk_all(inode_walk_fn fn, void *ctx);

/* How many entries the table holds. */
size_t inode_count(void);

#endif
