/*
 * inode.c - the inodes the kernel knows (inode.h): two hash tables over
 * one set of entries (by id, by parent and name) and each entry's
 * children, for walks below an entry.
 */
#include "inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_ID 1                /* FUSE_ROOT_ID */
#define BUCKETS_MIN 1024

/* A link in a hash chain; pprev points at what points at this entry, so
 * that an entry leaves its chain at once however long the chain (every
 * runtime has a `status`: the chain of that name is as long as the
 * fleet). */
struct inode;
struct chain {
	struct inode *next;
	struct inode **pprev;
};

enum { BY_INO, BY_KEY, BY_COUNT };

struct inode {
	uint64_t ino;
	uint64_t nlookup;
	struct inode *parent;
	struct inode *child;               /* first child */
	struct inode *prev_sib, *next_sib;
	struct chain by[BY_COUNT];         /* hash chains: BY_INO, BY_KEY */
	uint64_t listed_seq;               /* its listing was given at */
	uint64_t changed_seq;              /* its listing changed at */
	int64_t listed_ns;
	unsigned unsettled;                /* listings the kernel may yet file */
	uint64_t unsettled_seq;            /* the oldest of them, given at */
	int64_t unsettled_ns;
	int orphan;                        /* renamed over: found by id only */
	struct inode_obj obj;
	char *name;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inode **by_ino, **by_key;
static size_t nbuckets, count;
static uint64_t seq = 1;                 /* listings: given and changed */
static uint64_t all_changed_seq;         /* every listing changed at */
static uint64_t next_id = ROOT_ID + 1;
static struct inode *root;

static size_t hash_name(const char *name)
{
	size_t h = 1469598103934665603ULL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return h;
}

static size_t hash_key(uint64_t parent, const char *name)
{
	return hash_name(name) ^ (parent * 0x9e3779b97f4a7c15ULL);
}

static size_t hash_ino(uint64_t ino)
{
	return ino * 0x9e3779b97f4a7c15ULL >> 7;
}

static void chain_add(struct inode **head, struct inode *n, int k)
{
	n->by[k].next = *head;
	if (*head)
		(*head)->by[k].pprev = &n->by[k].next;
	*head = n;
	n->by[k].pprev = head;
}

static void chain_del(struct inode *n, int k)
{
	if (!n->by[k].pprev)
		return;
	*n->by[k].pprev = n->by[k].next;
	if (n->by[k].next)
		n->by[k].next->by[k].pprev = n->by[k].pprev;
	n->by[k].next = NULL;
	n->by[k].pprev = NULL;
}

static void link_hashes(struct inode *n)
{
	chain_add(&by_ino[hash_ino(n->ino) & (nbuckets - 1)], n, BY_INO);
	if (!n->parent || n->orphan)
		return;
	chain_add(&by_key[hash_key(n->parent->ino, n->name) & (nbuckets - 1)],
			n, BY_KEY);
}

static void unlink_hashes(struct inode *n)
{
	chain_del(n, BY_INO);
	chain_del(n, BY_KEY);
}

/* Sizes the tables for `want` buckets, moving every entry. */
static int resize(size_t want)
{
	struct inode **a = calloc(want, sizeof(*a)), **b;
	struct inode **old = by_ino;
	size_t oldn = nbuckets;

	b = calloc(want, sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	free(by_key);
	by_ino = a;
	by_key = b;
	nbuckets = want;
	for (size_t i = 0; i < oldn; i++) {
		struct inode *n = old[i], *next;

		for (; n; n = next) {
			next = n->by[BY_INO].next;
			link_hashes(n);
		}
	}
	free(old);
	return 0;
}

static struct inode *find_ino(uint64_t ino)
{
	struct inode *n = by_ino[hash_ino(ino) & (nbuckets - 1)];

	while (n && n->ino != ino)
		n = n->by[BY_INO].next;
	return n;
}

static struct inode *find_child(struct inode *parent, const char *name)
{
	struct inode *n = by_key[hash_key(parent->ino, name) & (nbuckets - 1)];

	while (n && (n->parent != parent || strcmp(n->name, name)))
		n = n->by[BY_KEY].next;
	return n;
}

static void unlink_sibling(struct inode *n)
{
	if (n->prev_sib)
		n->prev_sib->next_sib = n->next_sib;
	else
		n->parent->child = n->next_sib;
	if (n->next_sib)
		n->next_sib->prev_sib = n->prev_sib;
	n->prev_sib = n->next_sib = NULL;
}

static void link_sibling(struct inode *n, struct inode *parent)
{
	n->parent = parent;
	n->next_sib = parent->child;
	if (parent->child)
		parent->child->prev_sib = n;
	parent->child = n;
}

static struct inode *make(struct inode *parent, const char *name)
{
	struct inode *n;

	if (count + 1 > nbuckets && resize(nbuckets * 2))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n && !(n->name = strdup(name))) {
		free(n);
		n = NULL;
	}
	if (!n)
		return NULL;
	n->ino = parent ? next_id++ : ROOT_ID;
	if (parent)
		link_sibling(n, parent);
	link_hashes(n);
	count++;
	return n;
}

/* Frees `n` and then its parents while nothing holds them. */
static void reap(struct inode *n)
{
	while (n && n != root && !n->nlookup && !n->child) {
		struct inode *parent = n->parent;

		unlink_hashes(n);
		unlink_sibling(n);
		free(n->name);
		free(n);
		count--;
		n = parent;
	}
}

int inode_init(void)
{
	int ret;

	pthread_mutex_lock(&lock);
	ret = resize(BUCKETS_MIN);
	if (!ret && !(root = make(NULL, "")))
		ret = -ENOMEM;
	pthread_mutex_unlock(&lock);
	return ret;
}

static void free_tree(struct inode *n)
{
	while (n) {
		struct inode *next = n->next_sib;

		free_tree(n->child);
		free(n->name);
		free(n);
		n = next;
	}
}

void inode_fini(void)
{
	pthread_mutex_lock(&lock);
	free_tree(root);
	root = NULL;
	free(by_ino);
	free(by_key);
	by_ino = by_key = NULL;
	nbuckets = count = 0;
	pthread_mutex_unlock(&lock);
}

/* Known by its id only from now on (the kernel holds it under a name that
 * now stands for something else); under the lock. */
static void orphan(struct inode *n)
{
	unlink_hashes(n);
	n->orphan = 1;
	link_hashes(n);
}

static int same_obj(const struct inode_obj *a, const struct inode_obj *b)
{
	return a->kind == b->kind && a->attr == b->attr && a->id == b->id;
}

uint64_t inode_ref(uint64_t parent, const char *name,
		const struct inode_obj *obj)
{
	static const struct inode_obj none;
	struct inode *p, *n = NULL;
	uint64_t ino = 0;

	if (!obj)
		obj = &none;
	pthread_mutex_lock(&lock);
	p = find_ino(parent);
	if (p && (n = find_child(p, name)) && !same_obj(&n->obj, obj)) {
		orphan(n);
		n = NULL;
	}
	if (p && !n && (n = make(p, name)))
		n->obj = *obj;
	if (n) {
		n->nlookup++;
		ino = n->ino;
	}
	pthread_mutex_unlock(&lock);
	return ino;
}

int inode_chain(uint64_t ino, struct inode_link *links, int max)
{
	struct inode *n, *way[INODE_DEPTH_MAX];
	int depth = 0, ret;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	for (; n && n != root && depth < INODE_DEPTH_MAX; n = n->parent)
		way[depth++] = n;
	if (!n)
		ret = -ESTALE;
	else if (n != root || depth > max)
		ret = -ENAMETOOLONG;
	else
		ret = depth;
	for (int i = 0; ret > 0 && i < depth; i++) {
		struct inode *w = way[depth - 1 - i];

		links[i].obj = w->obj;
		if (strlen(w->name) > INODE_NAME_MAX)
			ret = -ENAMETOOLONG;
		else
			strcpy(links[i].name, w->name);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int inode_move(uint64_t parent, const char *name, uint64_t newparent,
		const char *newname, const struct inode_obj *obj)
{
	struct inode *p, *np, *n, *over;
	char *copy = strdup(newname);
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	p = find_ino(parent);
	np = find_ino(newparent);
	n = p && np ? find_child(p, name) : NULL;
	if (n) {
		over = find_child(np, newname);
		if (over && over != n)
			orphan(over);
		unlink_hashes(n);
		unlink_sibling(n);
		free(n->name);
		n->name = copy;
		if (obj)
			n->obj = *obj;
		copy = NULL;
		link_sibling(n, np);
		link_hashes(n);
		reap(p);
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	return ret;
}

void inode_unlinked(uint64_t parent, const char *name)
{
	struct inode *p, *n;

	pthread_mutex_lock(&lock);
	p = find_ino(parent);
	n = p ? find_child(p, name) : NULL;
	if (n && !n->orphan)
		orphan(n);
	pthread_mutex_unlock(&lock);
}

void inode_forget(uint64_t ino, uint64_t nlookup)
{
	struct inode *n;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n && n != root) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		reap(n);
	}
	pthread_mutex_unlock(&lock);
}

/* Appends "/" and `s` to the path of `len` bytes in buf. */
static int append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t sl = strlen(s);

	if (*len + 1 + sl + 1 > size)
		return -ENAMETOOLONG;
	buf[(*len)++] = '/';
	memcpy(buf + *len, s, sl + 1);
	*len += sl;
	return 0;
}

/* Writes the path of `n` into buf, and `name` after it when not NULL. */
static int path_of(const struct inode *n, const char *name, char *buf,
		size_t size)
{
	const struct inode *parts[256];
	size_t len = 0, k = 0;
	int ret = 0;

	for (; n && n != root; n = n->parent) {
		if (k == sizeof(parts) / sizeof(parts[0]))
			return -ENAMETOOLONG;
		parts[k++] = n;
	}
	if (size < 2)
		return -ENAMETOOLONG;
	strcpy(buf, "/");
	while (!ret && k > 0)
		ret = append(buf, size, &len, parts[--k]->name);
	if (!ret && name)
		ret = append(buf, size, &len, name);
	return ret;
}

int inode_path(uint64_t ino, char *buf, size_t size)
{
	return inode_child_path(ino, NULL, buf, size);
}

int inode_child_path(uint64_t parent, const char *name, char *buf,
		size_t size)
{
	struct inode *n;
	int ret;

	pthread_mutex_lock(&lock);
	n = find_ino(parent);
	ret = n ? path_of(n, name, buf, size) : -ESTALE;
	pthread_mutex_unlock(&lock);
	return ret;
}

uint64_t inode_child(uint64_t parent, const char *name,
		struct inode_obj *obj)
{
	struct inode *p, *n = NULL;
	uint64_t ino = 0;

	pthread_mutex_lock(&lock);
	p = find_ino(parent);
	if (p && (n = find_child(p, name))) {
		ino = n->ino;
		if (obj)
			*obj = n->obj;
	}
	pthread_mutex_unlock(&lock);
	return ino;
}

/* -- listings -------------------------------------------------------------- */

uint64_t inode_listing_start(void)
{
	uint64_t s;

	pthread_mutex_lock(&lock);
	s = seq;
	pthread_mutex_unlock(&lock);
	return s;
}

int inode_listing_reset(uint64_t ino)
{
	struct inode *n;
	int stale = 0;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n) {
		n->listed_seq = n->unsettled ? n->unsettled_seq : 0;
		n->listed_ns = n->unsettled_ns;
		stale = n->unsettled && (n->changed_seq > n->unsettled_seq ||
				all_changed_seq > n->unsettled_seq);
	}
	pthread_mutex_unlock(&lock);
	return stale;
}

/* A listing given again while the kernel keeps an older one (a rewind,
 * a second reader of one open) does not make the older one newer; until
 * it is settled, it counts as given after every reset too. */
void inode_listing_given(uint64_t ino, uint64_t start, int64_t ns)
{
	struct inode *n;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n && (!n->listed_seq || start < n->listed_seq)) {
		n->listed_seq = start;
		n->listed_ns = ns;
	}
	if (n && (!n->unsettled || start < n->unsettled_seq)) {
		n->unsettled_seq = start;
		n->unsettled_ns = ns;
	}
	if (n)
		n->unsettled++;
	pthread_mutex_unlock(&lock);
}

void inode_listing_settled(uint64_t ino)
{
	struct inode *n;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n && n->unsettled && !--n->unsettled)
		n->unsettled_seq = 0;
	pthread_mutex_unlock(&lock);
}

int inode_listing_kept(uint64_t ino, int64_t *ns)
{
	struct inode *n;
	int kept = 0;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n && n->listed_seq && n->changed_seq <= n->listed_seq &&
	    all_changed_seq <= n->listed_seq) {
		kept = 1;
		*ns = n->listed_ns;
	}
	pthread_mutex_unlock(&lock);
	return kept;
}

void inode_listing_changed(uint64_t ino)
{
	struct inode *n;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n)
		n->changed_seq = ++seq;
	pthread_mutex_unlock(&lock);
}

void inode_listings_changed(void)
{
	pthread_mutex_lock(&lock);
	all_changed_seq = ++seq;
	pthread_mutex_unlock(&lock);
}

/* -- walks ----------------------------------------------------------------- */

/* What a walk collects under the lock: entries, and their names in one
 * growing block of text. */
struct walk {
	struct inode_seen *seen;
	size_t n, cap;
	char *text;
	size_t len, textcap;
	size_t *name_offs;
	int err;
};

static void walk_add(struct walk *w, const struct inode *n)
{
	size_t nl = strlen(n->name) + 1;

	if (w->err)
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		void *a = realloc(w->seen, cap * sizeof(*w->seen));
		void *b = a ? realloc(w->name_offs,
				cap * sizeof(*w->name_offs)) : NULL;

		if (a)
			w->seen = a;
		if (b)
			w->name_offs = b;
		if (!a || !b) {
			w->err = -ENOMEM;
			return;
		}
		w->cap = cap;
	}
	if (w->len + nl > w->textcap) {
		size_t cap = (w->textcap ? w->textcap * 2 : 4096) + nl;
		char *t = realloc(w->text, cap);

		if (!t) {
			w->err = -ENOMEM;
			return;
		}
		w->text = t;
		w->textcap = cap;
	}
	memcpy(w->text + w->len, n->name, nl);
	w->name_offs[w->n] = w->len;
	w->seen[w->n].ino = n->ino;
	w->seen[w->n].parent = n->parent ? n->parent->ino : 0;
	w->seen[w->n].obj = n->obj;
	w->len += nl;
	w->n++;
}

static void walk_down(struct walk *w, const struct inode *n, int depth,
		int max)
{
	walk_add(w, n);
	if (max && depth == max)
		return;
	for (const struct inode *c = n->child; c && !w->err; c = c->next_sib)
		walk_down(w, c, depth + 1, max);
}

/* Calls fn() for what `w` collected, then frees it. */
static int walk_finish(struct walk *w, inode_walk_fn fn, void *ctx)
{
	int err = w->err;

	for (size_t i = 0; !err && i < w->n; i++) {
		w->seen[i].name = w->text + w->name_offs[i];
		fn(ctx, &w->seen[i]);
	}
	free(w->seen);
	free(w->name_offs);
	free(w->text);
	return err;
}

int inode_walk_under(uint64_t ino, int depth, inode_walk_fn fn, void *ctx)
{
	struct walk w = { 0 };
	struct inode *n;

	pthread_mutex_lock(&lock);
	n = find_ino(ino);
	if (n)
		walk_down(&w, n, 0, depth);
	pthread_mutex_unlock(&lock);
	return walk_finish(&w, fn, ctx);
}

int inode_walk_all(inode_walk_fn fn, void *ctx)
{
	return inode_walk_under(ROOT_ID, 0, fn, ctx);
}

size_t inode_count(void)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = count;
	pthread_mutex_unlock(&lock);
	return n;
}
