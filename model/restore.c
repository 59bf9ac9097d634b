/*
 * restore.c - building an empty model from a backup: the tree as tar,
 * cp -a or rsync -a copied it, given back as a list of entries.
 *
 * What the server assigned (runtime ids, registration times, version
 * numbers and their createdAt, endpoint ids and times, service accounts,
 * secrets' key material) is taken as written, so that the restored tree
 * shows the same bytes; everything else is checked as the live tree
 * checks it.  The whole backup goes in in one transaction or not at all,
 * a bulk load of the store (store_load_begin()) that finds it empty.
 * Entries may come in any order (tar, cp and rsync each walk the tree in
 * their own): they are sorted by path first, and read by path.
 */
#define _GNU_SOURCE               /* strptime, timegm */
#include "model_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define PATH_CAP 512
#define DEPTH_MAX 8
#define VALUE_CAP 256            /* a one-line value at the most */
#define SA_SECRET_BYTES 32

/* What an entry of a backup is. */
enum restore_kind {
	RK_IGNORED,
	RK_DIR,                  /* a directory that holds nothing itself */
	RK_ENV,
	RK_CRITICAL,
	RK_RUNTIME,
	RK_ATTR,                 /* a runtime's file */
	RK_VERSION,
	RK_ENDPOINT,
	RK_ENDPOINT_FILE,
	RK_SECRET,
	RK_PROJECT,
	RK_INTEGRATION,
	RK_TYPE,
	RK_PROJECT_LINK,
	RK_INTEGRATION_LINK,
	RK_INTEGRATION_SECRET,
	RK_PLACEHOLDER,          /* a file where a link will be */
};

/* The layout of a tree: '*' a name, '#' a version number, '=' a runtime
 * file, '+' an endpoint file. */
static const struct restore_shape {
	const char *pattern;
	char type;
	enum restore_kind kind;
} shapes[] = {
	{ "environments", 'd', RK_DIR },
	{ "environments/*", 'd', RK_ENV },
	{ "environments/*/critical", 'f', RK_CRITICAL },
	{ "environments/*/runtimes", 'd', RK_DIR },
	{ "environments/*/runtimes/*", 'd', RK_RUNTIME },
	{ "environments/*/runtimes/*/=", 'f', RK_ATTR },
	{ "environments/*/runtimes/*/versions", 'd', RK_DIR },
	{ "environments/*/runtimes/*/versions/#", 'f', RK_VERSION },
	{ "environments/*/runtimes/*/endpoints", 'd', RK_DIR },
	{ "environments/*/runtimes/*/endpoints/*", 'd', RK_ENDPOINT },
	{ "environments/*/runtimes/*/endpoints/*/+", 'f', RK_ENDPOINT_FILE },
	{ "environments/*/secrets", 'd', RK_DIR },
	{ "environments/*/secrets/*", 'f', RK_SECRET },
	{ "projects", 'd', RK_DIR },
	{ "projects/*", 'd', RK_PROJECT },
	{ "projects/*/runtimes", 'd', RK_DIR },
	{ "projects/*/runtimes/*", 'd', RK_DIR },
	{ "projects/*/runtimes/*/*", 'l', RK_PROJECT_LINK },
	{ "projects/*/integrations", 'd', RK_DIR },
	{ "projects/*/integrations/*", 'd', RK_INTEGRATION },
	{ "projects/*/integrations/*/type", 'f', RK_TYPE },
	{ "projects/*/integrations/*/runtimes", 'd', RK_DIR },
	{ "projects/*/integrations/*/runtimes/*", 'd', RK_DIR },
	{ "projects/*/integrations/*/runtimes/*/*", 'l',
		RK_INTEGRATION_LINK },
	{ "projects/*/integrations/*/secrets", 'd', RK_DIR },
	{ "projects/*/integrations/*/secrets/*", 'd', RK_DIR },
	{ "projects/*/integrations/*/secrets/*/*", 'f',
		RK_INTEGRATION_SECRET },
};

static const char *const runtime_files[] = { "id", "type", "project",
	"integration", "environment", "status", "runtime_version", "platform",
	"os", "registered", "last_heartbeat", "runtime.json", "secret",
	"secret.toml", "spec", "ctl", "service_account", NULL };
static const char *const endpoint_files[] = { "version", "url", "status",
	"id", "created", "updated", NULL };

/* A path taken apart: its kind, the names its '*' matched in order, and
 * the last component where it is a file of a runtime or endpoint. */
struct restore_path {
	enum restore_kind kind;
	char names[4][MODEL_NAME_MAX];
	int nnames;
	char leaf[MODEL_NAME_MAX];
	int64_t number;
};

/* Fails with the last message prefixed by `what` (copied first: the
 * message is written over by model_fail()). */
static int prefixed(int err, const char *what)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", model_errmsg());
	return model_fail(err, "%s: %s", what, why);
}

static int among(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* A version's number as a file name: digits, no leading zero. */
static int number_name(const char *s, int64_t *out)
{
	int64_t n = 0;

	if (!*s || *s == '0' || strlen(s) > 12)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return 0;
}

/* Splits `path` into at most DEPTH_MAX components of `copy`. */
static int split(char *copy, char **comp)
{
	int n = 0;

	for (char *c = strtok(copy, "/"); c; c = strtok(NULL, "/")) {
		if (n == DEPTH_MAX)
			return -1;
		comp[n++] = c;
	}
	return n;
}

/* Matches `comp` against one shape; 0, or -1 and *bad set to the error
 * of a name that fits the layout but not the rules of names. */
static int shape_match(const struct restore_shape *sh, char **comp, int n,
		struct restore_path *out, int *bad)
{
	char pat[PATH_CAP], *pc[DEPTH_MAX];
	int np;

	snprintf(pat, sizeof(pat), "%s", sh->pattern);
	np = split(pat, pc);
	if (np != n)
		return -1;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++) {
		if (!strcmp(pc[i], "*")) {
			int ret = model_name_check("a", comp[i]);

			if (ret) {
				*bad = ret;
				return -1;
			}
			snprintf(out->names[out->nnames++], MODEL_NAME_MAX,
					"%s", comp[i]);
		} else if (!strcmp(pc[i], "#")) {
			if (number_name(comp[i], &out->number))
				return -1;
		} else if (!strcmp(pc[i], "=") || !strcmp(pc[i], "+")) {
			if (!among(pc[i][0] == '=' ? runtime_files :
					endpoint_files, comp[i]))
				return -1;
			snprintf(out->leaf, sizeof(out->leaf), "%s", comp[i]);
		} else if (strcmp(pc[i], comp[i])) {
			return -1;
		}
	}
	out->kind = sh->kind;
	return 0;
}

/* What `path` is in a backup; 1 for what a restore skips. */
static int classify(const char *path, char type, struct restore_path *out)
{
	char copy[PATH_CAP], *comp[DEPTH_MAX];
	int n, bad = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(path) >= sizeof(copy))
		return model_fail(-ENAMETOOLONG, "'%.40s...' is too long for a"
				" runtimefs tree", path);
	if (strncmp(path, "environments", 12) && strncmp(path, "projects", 8))
		return 1;
	snprintf(copy, sizeof(copy), "%s", path);
	n = split(copy, comp);
	if (n == 0)
		return model_fail(-EPERM, "an empty path is not an entry");
	if (n > 0 && (strcmp(comp[0], "environments") &&
			strcmp(comp[0], "projects")))
		return 1;
	for (int i = 0; i < n; i++)
		if (comp[i][0] == '.')
			return 1;
	for (size_t k = 0; n > 0 && k < sizeof(shapes) / sizeof(*shapes);
			k++) {
		if (shape_match(&shapes[k], comp, n, out, &bad))
			continue;
		/* tar makes an empty file where a link with ".." goes, and
		 * the link in its place at the end */
		if (shapes[k].type == 'l' && type == 'f') {
			out->kind = RK_PLACEHOLDER;
			return 0;
		}
		if (shapes[k].type != type)
			return model_fail(-EPERM, "'%s' is a %s in a runtimefs"
					" tree", path, shapes[k].type == 'd' ?
					"directory" : shapes[k].type == 'l' ?
					"symlink" : "file");
		return 0;
	}
	if (bad)
		return prefixed(bad, path);
	return model_fail(-EPERM, "'%s' is not part of a runtimefs tree",
			path);
}

int model_restore_path(const char *path, char type)
{
	struct restore_path rp;

	return classify(path, type, &rp);
}

int model_restore_secret(const char *path)
{
	struct restore_path rp;

	if (classify(path, 'f', &rp))
		return 0;
	return rp.kind == RK_SECRET || rp.kind == RK_INTEGRATION_SECRET ||
		(rp.kind == RK_ATTR && (!strcmp(rp.leaf, "secret.toml") ||
			!strcmp(rp.leaf, "service_account")));
}

/* -- values ------------------------------------------------------------ */

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The one-line value in `data` without surrounding blanks, into `out`. */
static int value_text(const char *path, const char *data, size_t len,
		char *out, size_t cap)
{
	while (len && blank(*data)) {
		data++;
		len--;
	}
	while (len && blank(data[len - 1]))
		len--;
	if (len >= cap)
		return model_fail(-EINVAL, "%s: a value of at most %zu bytes"
				" is expected", path, cap - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f)
			return model_fail(-EINVAL, "%s: a one-line value"
					" without control characters is"
					" expected", path);
	memcpy(out, data, len);
	out[len] = '\0';
	return 0;
}

/* The times runtimefs holds: nanoseconds since the epoch in an int64_t,
 * 0 meaning none, so whole seconds from 1 to INT64_MAX / 10^9. */
#define TIME_FIRST 1                            /* 1970-01-01T00:00:01Z */
#define TIME_LAST (INT64_MAX / 1000000000LL)    /* 2262-04-11T23:47:16Z */

/* RFC 3339 UTC as runtimefs writes it: 2026-11-23T12:17:48Z. */
static int parse_time(const char *path, const char *s, int64_t *ns)
{
	char back[MODEL_TIME_MAX];
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || strlen(s) != 20)
		return model_fail(-EINVAL, "%s: '%s' is not a time as"
				" 2026-11-23T12:17:48Z", path, s);
	/* %Y takes 0 to 9999: far within time_t, not within int64_t ns */
	t = timegm(&tm);
	if (t < TIME_FIRST || t > TIME_LAST)
		return model_fail(-EINVAL, "%s: '%s' is out of range: a time"
				" is from 1970-01-01T00:00:01Z to"
				" 2262-04-11T23:47:16Z", path, s);
	*ns = (int64_t)t * 1000000000LL;
	/* what strptime let through (February 30th) does not read back */
	model_time_format(*ns, back);
	if (strcmp(back, s))
		return model_fail(-EINVAL, "%s: '%s' is not a time as"
				" 2026-11-23T12:17:48Z", path, s);
	return 0;
}

static int parse_uuid(const char *path, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			n = 0;
	}
	return n == 36 ? 0 : model_fail(-EINVAL, "%s: '%s' is not a UUID"
			" (36 characters, lower-case hex)", path, s);
}

static int one_of(const char *path, const char *s, const char *const *list)
{
	if (among(list, s))
		return 0;
	return model_fail(-EINVAL, "%s: '%s' is not one of the values this"
			" file takes", path, s);
}

/* A service account: CLIENTID.SECRET. */
static int parse_service_account(const char *path, const char *s,
		char client_id[MODEL_UUID_LEN],
		unsigned char raw[SA_SECRET_BYTES])
{
	const char *dot = strchr(s, '.');
	size_t n = 0;
	int ret;

	if (!dot || dot - s != MODEL_UUID_LEN - 1)
		return model_fail(-EINVAL, "%s: a service account is"
				" CLIENTID.SECRET", path);
	memcpy(client_id, s, MODEL_UUID_LEN - 1);
	client_id[MODEL_UUID_LEN - 1] = '\0';
	if ((ret = parse_uuid(path, client_id)))
		return ret;
	if (sodium_base642bin(raw, SA_SECRET_BYTES, dot + 1, strlen(dot + 1),
			NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
			|| n != SA_SECRET_BYTES)
		return model_fail(-EINVAL, "%s: a service account's secret is"
				" 32 bytes in URL-safe base64", path);
	return 0;
}

/* What a secret's snippet says. */
struct snippet {
	char env[MODEL_NAME_MAX];
	char project[MODEL_NAME_MAX];      /* "" when not scoped */
	char integration[MODEL_NAME_MAX];
	char runtime[MODEL_NAME_MAX];      /* "" when not bound */
	char key_id[MODEL_KEY_ID_LEN];
	unsigned char raw[MODEL_SECRET_BYTES];
};

/* The first `key = "value"` line of a snippet, into `out`. */
static int snippet_value(const char *path, const char *text,
		const char *key, const char *placeholder, char *out,
		size_t cap)
{
	char want[32];
	const char *at = text, *end;
	size_t klen = (size_t)snprintf(want, sizeof(want), "%s = \"", key);

	while (at && strncmp(at, want, klen))
		if ((at = strchr(at, '\n')))
			at++;
	if (!at || !(end = strchr(at + klen, '"')) ||
	    (size_t)(end - at - klen) >= cap)
		return model_fail(-EINVAL, "%s: the snippet has no %s line",
				path, key);
	memcpy(out, at + klen, (size_t)(end - at - klen));
	out[end - at - klen] = '\0';
	if (placeholder && !strcmp(out, placeholder))
		*out = '\0';
	else if (placeholder && model_name_check(key, out))
		return prefixed(-EINVAL, path);
	return 0;
}

static int parse_snippet(const char *path, const char *data, size_t len,
		struct snippet *sn)
{
	char text[4096], cred[MODEL_SECRET_MAX];
	int ret;

	memset(sn, 0, sizeof(*sn));
	if (len >= sizeof(text) || memchr(data, '\0', len))
		return model_fail(-EINVAL, "%s: not a secret's snippet", path);
	memcpy(text, data, len);
	text[len] = '\0';
	if ((ret = snippet_value(path, text, "environment", NULL, sn->env,
			sizeof(sn->env))) ||
	    (ret = snippet_value(path, text, "project", "<project name>",
			sn->project, sizeof(sn->project))) ||
	    (ret = snippet_value(path, text, "integration",
			"<integration name>", sn->integration,
			sizeof(sn->integration))) ||
	    (ret = snippet_value(path, text, "runtime",
			"<unique runtime name>", sn->runtime,
			sizeof(sn->runtime))) ||
	    (ret = snippet_value(path, text, "secret", NULL, cred,
			sizeof(cred))))
		return ret;
	if (model_name_check("environment", sn->env))
		return prefixed(-EINVAL, path);
	if (!*sn->project != !*sn->integration)
		return model_fail(-EINVAL, "%s: a secret is scoped to a project"
				" and an integration, or to neither", path);
	ret = model_secret_parse(cred, sn->key_id, sn->raw);
	sodium_memzero(cred, sizeof(cred));
	return ret ? prefixed(ret, path) : 0;
}

/* versions/N: the spec fields with agentRuntimeId, version (which must be
 * N) and createdAt; the canonical spec into *canon (cJSON_free()). */
static int parse_version(const char *path, const char *data, size_t len,
		int64_t number, char uuid[MODEL_UUID_LEN], int64_t *created,
		char **canon)
{
	cJSON *o, *id, *v, *at;
	int ret;

	*canon = NULL;
	if ((ret = model_spec_canonical(data, len, canon)))
		return prefixed(ret, path);
	o = cJSON_ParseWithLength(data, len);
	id = cJSON_GetObjectItemCaseSensitive(o, "agentRuntimeId");
	v = cJSON_GetObjectItemCaseSensitive(o, "version");
	at = cJSON_GetObjectItemCaseSensitive(o, "createdAt");
	if (!cJSON_IsString(id) || strlen(id->valuestring) >= MODEL_UUID_LEN)
		ret = model_fail(-EINVAL, "%s: field 'agentRuntimeId' is"
				" missing", path);
	else if (!cJSON_IsNumber(v) || v->valuedouble != (double)number)
		ret = model_fail(-EINVAL, "%s: field 'version' must be %lld,"
				" the file's name", path, (long long)number);
	else if (!cJSON_IsString(at))
		ret = model_fail(-EINVAL, "%s: field 'createdAt' is missing",
				path);
	if (!ret && !(ret = parse_uuid(path, id->valuestring)))
		snprintf(uuid, MODEL_UUID_LEN, "%s", id->valuestring);
	if (!ret)
		ret = parse_time(path, at->valuestring, created);
	cJSON_Delete(o);
	if (ret) {
		cJSON_free(*canon);
		*canon = NULL;
	}
	return ret;
}

static const char *const statuses[] = { "CREATING", "STARTING", "RUNNING",
	"STOPPING", "STOPPED", "OFFLINE", NULL };
static const char *const runtime_types[] = { "default", "MI", "agent",
	NULL };
static const char *const integration_types[] = { "default", "MI", NULL };
static const char *const flags[] = { "0", "1", NULL };

/* A runtime's one-line file, checked by its name. */
static int check_runtime_value(const char *path, const char *leaf,
		const char *s)
{
	int64_t ns;

	if (!strcmp(leaf, "id"))
		return parse_uuid(path, s);
	if (!strcmp(leaf, "type"))
		return one_of(path, s, runtime_types);
	if (!strcmp(leaf, "status"))
		return one_of(path, s, statuses);
	if (!strcmp(leaf, "registered"))
		return parse_time(path, s, &ns);
	if (!strcmp(leaf, "last_heartbeat"))
		return strcmp(s, "never") ? parse_time(path, s, &ns) : 0;
	if (!strcmp(leaf, "environment") ||
	    ((!strcmp(leaf, "project") || !strcmp(leaf, "integration")) &&
			*s))
		return model_name_check(leaf, s) ?
			prefixed(-EINVAL, path) : 0;
	if (!strcmp(leaf, "secret") && (strlen(s) != MODEL_KEY_ID_LEN - 1 ||
			strspn(s, "0123456789abcdef") != strlen(s)))
		return model_fail(-EINVAL, "%s: a key id is 8 hex digits",
				path);
	return 0;
}

int model_restore_check(const char *path, const char *data, size_t len)
{
	struct restore_path rp;
	struct snippet sn;
	char value[VALUE_CAP], uuid[MODEL_UUID_LEN], cid[MODEL_UUID_LEN];
	unsigned char raw[SA_SECRET_BYTES];
	char *canon = NULL;
	int64_t ns;
	int ret = classify(path, 'f', &rp);

	if (ret)
		return ret < 0 ? ret : 0;
	switch (rp.kind) {
	case RK_CRITICAL:
	case RK_TYPE:
		if ((ret = value_text(path, data, len, value, sizeof(value))))
			return ret;
		return one_of(path, value, rp.kind == RK_TYPE ?
				integration_types : flags);
	case RK_VERSION:
		ret = parse_version(path, data, len, rp.number, uuid, &ns,
				&canon);
		cJSON_free(canon);
		return ret;
	case RK_SECRET:
	case RK_INTEGRATION_SECRET:
		ret = parse_snippet(path, data, len, &sn);
		sodium_memzero(&sn, sizeof(sn));
		return ret;
	case RK_ENDPOINT_FILE:
		if (!strcmp(rp.leaf, "url") || !strcmp(rp.leaf, "status"))
			return 0;
		if ((ret = value_text(path, data, len, value, sizeof(value))))
			return ret;
		if (!strcmp(rp.leaf, "version"))
			return number_name(value, &ns) ? model_fail(-EINVAL,
				"%s: '%s' is not a version number", path,
				value) : 0;
		if (!strcmp(rp.leaf, "id"))
			return parse_uuid(path, value);
		return parse_time(path, value, &ns);
	case RK_ATTR:
		if (!strcmp(rp.leaf, "runtime.json") ||
		    !strcmp(rp.leaf, "ctl"))
			return 0;
		if (!strcmp(rp.leaf, "secret.toml")) {
			ret = parse_snippet(path, data, len, &sn);
			sodium_memzero(&sn, sizeof(sn));
			return ret;
		}
		if (!strcmp(rp.leaf, "spec")) {
			if (!len)
				return 0;
			ret = model_spec_canonical(data, len, &canon);
			cJSON_free(canon);
			return ret ? prefixed(ret, path) : 0;
		}
		if ((ret = value_text(path, data, len, value, sizeof(value))))
			return ret;
		if (!strcmp(rp.leaf, "service_account")) {
			ret = parse_service_account(path, value, cid, raw);
			sodium_memzero(raw, sizeof(raw));
			sodium_memzero(value, sizeof(value));
			return ret;
		}
		return check_runtime_value(path, rp.leaf, value);
	default:
		return 0;
	}
}

/* -- the model must be empty ------------------------------------------ */

/* The model's words for what the store said of its emptiness. */
static int empty_or_why(int ret, const struct store_holdings *h)
{
	if (ret == -ENOTEMPTY)
		return model_fail(-ENOTEMPTY, "a restore goes into an empty"
				" database only; this one holds %lld"
				" environment(s), %lld project(s) and %lld"
				" snapshot(s)", (long long)h->envs,
				(long long)h->projects,
				(long long)h->snapshots);
	return ret ? model_fail_store(ret) : 0;
}

int model_restore_empty(struct model *m)
{
	struct store_holdings h = { 0, 0, 0 };
	int ret;

	model_lock(m);
	ret = store_is_empty(m->store, &h);
	model_unlock(m);
	return empty_or_why(ret, &h);
}

/* -- building ---------------------------------------------------------- */

struct restore {
	struct model *m;
	const struct model_restore_entry **ents;   /* sorted by path */
	size_t n;
	int64_t now;
};

static int by_path(const void *a, const void *b)
{
	return strcmp((*(const struct model_restore_entry *const *)a)->path,
		(*(const struct model_restore_entry *const *)b)->path);
}

/* The entry at the path `fmt` makes, or NULL. */
static const struct model_restore_entry *entry(struct restore *r,
		const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const struct model_restore_entry *entry(struct restore *r,
		const char *fmt, ...)
{
	struct model_restore_entry key = { 0 };
	const struct model_restore_entry *kp = &key, *const *hit;
	char path[PATH_CAP];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	key.path = path;
	hit = bsearch(&kp, r->ents, r->n, sizeof(*r->ents), by_path);
	return hit ? *hit : NULL;
}

/* The first entry whose path starts with `prefix`. */
static size_t lower_bound(struct restore *r, const char *prefix)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(r->ents[mid]->path, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t mtime(struct restore *r, const struct model_restore_entry *e)
{
	return e && e->mtime_ns > 0 ? e->mtime_ns : r->now;
}

/* The one-line value of the file `base`/`leaf` into `out` ("" when there
 * is none and it is not required). */
static int value_of(struct restore *r, const char *base, const char *leaf,
		int required, char *out, size_t cap,
		const struct model_restore_entry **found)
{
	const struct model_restore_entry *e = entry(r, "%s/%s", base, leaf);
	char path[PATH_CAP];

	snprintf(path, sizeof(path), "%s/%s", base, leaf);
	if (found)
		*found = e;
	*out = '\0';
	if (!e && required)
		return model_fail(-EINVAL, "%s is missing", path);
	if (!e)
		return 0;
	if (e->type != 'f')
		return model_fail(-EINVAL, "%s is not a file", path);
	return value_text(path, e->data, e->len, out, cap);
}

static int store_failed(const char *path, int err)
{
	if (err == -EEXIST)
		return model_fail(-EEXIST, "%s: its name, id or key is taken"
				" by another entry of the backup", path);
	return model_fail(err, "%s: %s", path, store_errmsg());
}

static int restore_env(struct restore *r, const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	const struct model_restore_entry *ce;
	struct store_env env;
	char value[VALUE_CAP];
	int ret = value_of(r, e->path, "critical", 1, value, sizeof(value),
			&ce);

	if (!ret)
		ret = model_restore_check(ce->path, ce->data, ce->len);
	if (ret)
		return ret;
	if ((ret = store_env_insert(r->m->store, rp->names[0], mtime(r, e))) ||
	    (ret = store_env_get(r->m->store, rp->names[0], &env)) ||
	    (ret = store_env_set_critical(r->m->store, env.id,
			value[0] == '1', mtime(r, ce))))
		return store_failed(e->path, ret);
	return 0;
}

static int restore_project(struct restore *r,
		const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	int ret = store_project_insert(r->m->store, rp->names[0], mtime(r, e));

	return ret ? store_failed(e->path, ret) : 0;
}

static int restore_integration(struct restore *r,
		const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	const struct model_restore_entry *te;
	struct store_project p;
	struct store_integration in;
	char type[VALUE_CAP];
	int ret = value_of(r, e->path, "type", 1, type, sizeof(type), &te);

	if (!ret)
		ret = one_of(te->path, type, integration_types);
	if (!ret)
		ret = model_project_row(r->m, rp->names[0], &p);
	if (ret)
		return ret;
	if ((ret = store_integration_insert(r->m->store, p.id, rp->names[1],
			type, mtime(r, e))) ||
	    (ret = store_integration_get(r->m->store, p.id, rp->names[1],
			&in)) ||
	    (ret = store_integration_set_type(r->m->store, in.id, type,
			mtime(r, te))))
		return store_failed(e->path, ret);
	return 0;
}

/* A runtime's one-line file, checked, into `out`. */
static int runtime_value(struct restore *r, const char *base,
		const char *leaf, int required, char *out, size_t cap,
		const struct model_restore_entry **found)
{
	char path[PATH_CAP];
	int ret = value_of(r, base, leaf, required, out, cap, found);

	snprintf(path, sizeof(path), "%s/%s", base, leaf);
	if (!ret && *out)
		ret = check_runtime_value(path, leaf, out);
	return ret;
}

/* What a runtime reports, "Not reported" being nothing. */
static int runtime_reported(struct restore *r, const char *base,
		const char *leaf, char *out, size_t cap,
		const struct model_restore_entry **found)
{
	char value[VALUE_CAP];
	int ret = value_of(r, base, leaf, 0, value, sizeof(value), found);

	if (ret)
		return ret;
	if (strlen(value) >= cap)
		return model_fail(-EINVAL, "%s/%s: at most %zu bytes", base,
				leaf, cap - 1);
	snprintf(out, cap, "%s", strcmp(value, "Not reported") ? value : "");
	return 0;
}

/* The runtime's service account, or a new one when the backup has none
 * (a runtime from before service accounts). */
static int restore_service_account(struct restore *r, const char *base,
		int64_t runtime_id)
{
	const struct model_restore_entry *e;
	struct store_service_account sa;
	unsigned char raw[SA_SECRET_BYTES];
	char value[VALUE_CAP];
	int ret = value_of(r, base, "service_account", 0, value,
			sizeof(value), &e);

	if (ret || !e)
		return ret ? ret :
			model_service_account_create(r->m, runtime_id);
	memset(&sa, 0, sizeof(sa));
	sa.runtime_id = runtime_id;
	sa.created_ns = mtime(r, e);
	ret = parse_service_account(e->path, value, sa.client_id, raw);
	sodium_memzero(value, sizeof(value));
	if (!ret)
		ret = model_seal(r->m, raw, sizeof(raw), sa.secret,
				sizeof(sa.secret), &sa.secret_len);
	sodium_memzero(raw, sizeof(raw));
	if (!ret && (ret = store_service_account_put(r->m->store, &sa)))
		ret = store_failed(e->path, ret);
	return ret;
}

/* A secret from its snippet: inserted into environment `env_id`,
 * scoped as the snippet says. */
static int restore_secret_row(struct restore *r, const char *path,
		const struct snippet *sn, const char *name, int64_t env_id,
		int64_t created_ns, int64_t *id)
{
	unsigned char plain[8 + MODEL_SECRET_BYTES];
	struct store_integration in = { 0 };
	struct store_secret row;
	int ret = 0;

	if (*sn->project && (ret = model_integration_row(r->m, sn->project,
			sn->integration, &in)))
		return prefixed(ret, path);
	memset(&row, 0, sizeof(row));
	snprintf(row.key_id, sizeof(row.key_id), "%s", sn->key_id);
	row.env_id = env_id;
	row.integration_id = in.id;
	snprintf(row.name, sizeof(row.name), "%s", name);
	row.created_ns = created_ns;
	memcpy(plain, sn->key_id, 8);
	memcpy(plain + 8, sn->raw, MODEL_SECRET_BYTES);
	ret = model_seal(r->m, plain, sizeof(plain), row.sealed,
			sizeof(row.sealed), &row.sealed_len);
	sodium_memzero(plain, sizeof(plain));
	if (!ret && (ret = store_secret_insert(r->m->store, &row)))
		ret = store_failed(path, ret);
	*id = row.id;
	return ret;
}

/* The runtime's bound secret, from secret.toml (whose key id `secret`
 * must name). */
static int restore_bound_secret(struct restore *r, const char *base,
		const struct restore_path *rp, const struct store_runtime *rt)
{
	const struct model_restore_entry *e = entry(r, "%s/secret.toml", base);
	char key_id[VALUE_CAP];
	struct snippet sn;
	int64_t id = 0;
	int ret = runtime_value(r, base, "secret", 0, key_id, sizeof(key_id),
			NULL);

	if (ret)
		return ret;
	if (!e)
		return *key_id ? model_fail(-EINVAL, "%s/secret.toml is"
				" missing: the bound secret's key material"
				" is in it", base) : 0;
	if ((ret = parse_snippet(e->path, e->data, e->len, &sn)))
		return ret;
	if (strcmp(sn.key_id, key_id))
		ret = model_fail(-EINVAL, "%s/secret.toml: key id %s, but"
				" %s/secret says '%s'", base, sn.key_id, base,
				key_id);
	else if (strcmp(sn.env, rp->names[0]) || strcmp(sn.runtime,
			rp->names[1]))
		ret = model_fail(-EINVAL, "%s: the snippet is for runtime"
				" '%s' of environment '%s'", e->path,
				sn.runtime, sn.env);
	if (!ret)
		ret = restore_secret_row(r, e->path, &sn, rp->names[1],
				rt->env_id, mtime(r, e), &id);
	sodium_memzero(&sn, sizeof(sn));
	if (!ret && (ret = store_secret_bind(r->m->store, id, rt->id,
			rt->registered_ns)))
		ret = store_failed(e->path, ret);
	return ret;
}

/* versions/N of a runtime, in order; *latest the highest number. */
static int restore_versions(struct restore *r, const char *base,
		const struct store_runtime *rt, int64_t *latest,
		char **latest_spec)
{
	char prefix[PATH_CAP];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/versions/",
			base);
	int ret = 0;

	*latest = 0;
	for (size_t i = lower_bound(r, prefix); !ret && i < r->n &&
			!strncmp(r->ents[i]->path, prefix, plen); i++) {
		const struct model_restore_entry *e = r->ents[i];
		struct store_version v = { 0 };
		struct restore_path rp;
		char uuid[MODEL_UUID_LEN];

		if (classify(e->path, e->type, &rp) || rp.kind != RK_VERSION)
			continue;
		if (strcmp(rt->type, "agent"))
			return model_fail(-EINVAL, "%s: runtime of type %s has"
					" no versions", e->path, rt->type);
		ret = parse_version(e->path, e->data, e->len, rp.number, uuid,
				&v.created_ns, &v.spec);
		if (!ret && strcmp(uuid, rt->uuid))
			ret = model_fail(-EINVAL, "%s: agentRuntimeId %s is not"
					" the runtime's id %s", e->path, uuid,
					rt->uuid);
		v.runtime_id = rt->id;
		v.number = rp.number;
		if (!ret && (ret = store_version_insert(r->m->store, &v)))
			ret = store_failed(e->path, ret);
		if (!ret && rp.number > *latest) {
			*latest = rp.number;
			cJSON_free(*latest_spec);
			*latest_spec = v.spec;
			v.spec = NULL;
		}
		cJSON_free(v.spec);
	}
	return ret;
}

/* endpoints/NAME of a runtime, each pinned to a version it has. */
static int restore_endpoints(struct restore *r, const char *base,
		const struct store_runtime *rt, int64_t latest)
{
	char prefix[PATH_CAP], value[VALUE_CAP];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/endpoints/",
			base);
	int has_default = 0, ret = 0;

	for (size_t i = lower_bound(r, prefix); !ret && i < r->n &&
			!strncmp(r->ents[i]->path, prefix, plen); i++) {
		const struct model_restore_entry *e = r->ents[i], *f;
		struct store_version v = { 0 };
		struct store_endpoint ep;
		struct restore_path rp;

		if (classify(e->path, e->type, &rp) || rp.kind != RK_ENDPOINT)
			continue;
		if (!latest)
			return model_fail(-EINVAL, "%s: a runtime without"
					" versions has no endpoints", e->path);
		memset(&ep, 0, sizeof(ep));
		ep.runtime_id = rt->id;
		snprintf(ep.name, sizeof(ep.name), "%s", rp.names[2]);
		has_default |= !strcmp(ep.name, "DEFAULT");
		if ((ret = value_of(r, e->path, "version", 1, value,
				sizeof(value), &f)))
			break;
		if (number_name(value, &ep.version))
			return model_fail(-EINVAL, "%s: '%s' is not a version"
					" number", f->path, value);
		ret = store_version_get(r->m->store, rt->id, ep.version, &v);
		store_version_release(&v);
		if (ret == -ENOENT)
			return model_fail(-ENOENT, "%s: the runtime has no"
					" version %s", f->path, value);
		if (ret)
			return store_failed(f->path, ret);
		if ((ret = value_of(r, e->path, "id", 1, ep.uuid,
				sizeof(ep.uuid), &f)) ||
		    (ret = parse_uuid(f->path, ep.uuid)) ||
		    (ret = value_of(r, e->path, "created", 1, value,
				sizeof(value), &f)) ||
		    (ret = parse_time(f->path, value, &ep.created_ns)) ||
		    (ret = value_of(r, e->path, "updated", 1, value,
				sizeof(value), &f)) ||
		    (ret = parse_time(f->path, value, &ep.updated_ns)))
			break;
		if ((ret = store_endpoint_insert(r->m->store, &ep)))
			ret = store_failed(e->path, ret);
	}
	if (!ret && latest && !has_default)
		ret = model_fail(-EINVAL, "%s/endpoints/DEFAULT is missing:"
				" every runtime with a version has one", base);
	return ret;
}

/* The runtime's place in the views: both links, as the tree makes them. */
static int runtime_links(struct restore *r, const struct restore_path *rp,
		const struct store_runtime *rt)
{
	const struct model_restore_entry *e;

	if (!rt->integration_id)
		return 0;
	e = entry(r, "projects/%s/runtimes/%s/%s", rt->project, rp->names[0],
			rp->names[1]);
	if (!e || e->type != 'l')
		return model_fail(-EINVAL, "projects/%s/runtimes/%s/%s is"
				" missing", rt->project, rp->names[0],
				rp->names[1]);
	e = entry(r, "projects/%s/integrations/%s/runtimes/%s/%s",
			rt->project, rt->integration, rp->names[0],
			rp->names[1]);
	if (!e || e->type != 'l')
		return model_fail(-EINVAL, "projects/%s/integrations/%s/"
				"runtimes/%s/%s is missing", rt->project,
				rt->integration, rp->names[0], rp->names[1]);
	return 0;
}

static int restore_runtime(struct restore *r,
		const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	const char *base = e->path;
	const struct model_restore_entry *f;
	struct store_runtime rt;
	struct store_env env;
	struct store_integration in;
	char value[VALUE_CAP], status[VALUE_CAP], *latest_spec = NULL;
	int64_t latest = 0;
	int ret;

	memset(&rt, 0, sizeof(rt));
	snprintf(rt.name, sizeof(rt.name), "%s", rp->names[1]);
	if ((ret = model_env_row(r->m, rp->names[0], &env)))
		return ret;
	rt.env_id = env.id;
	if ((ret = runtime_value(r, base, "id", 1, rt.uuid, sizeof(rt.uuid),
			NULL)) ||
	    (ret = runtime_value(r, base, "type", 1, rt.type, sizeof(rt.type),
			NULL)) ||
	    (ret = runtime_value(r, base, "registered", 1, value,
			sizeof(value), &f)) ||
	    (ret = parse_time(f->path, value, &rt.registered_ns)) ||
	    (ret = runtime_value(r, base, "environment", 0, value,
			sizeof(value), &f)))
		return ret;
	if (f && strcmp(value, rp->names[0]))
		return model_fail(-EINVAL, "%s: '%s' is not the environment"
				" it is in", f->path, value);
	if ((ret = runtime_value(r, base, "last_heartbeat", 0, value,
			sizeof(value), NULL)))
		return ret;
	if (*value && strcmp(value, "never") &&
	    (ret = parse_time(base, value, &rt.heartbeat_ns)))
		return ret;
	if ((ret = runtime_value(r, base, "status", 0, status, sizeof(status),
			NULL)))
		return ret;
	snprintf(rt.desired, sizeof(rt.desired), "%s",
			!strncmp(status, "STOP", 4) ? "stop" : "run");
	rt.desired_ns = rt.registered_ns;
	/* STARTING waits for a heartbeat; anything else has had one */
	rt.running_ns = strcmp(status, "STARTING") ? rt.heartbeat_ns : 0;
	if ((ret = runtime_reported(r, base, "runtime_version",
			rt.runtime_version, sizeof(rt.runtime_version), NULL)) ||
	    (ret = runtime_reported(r, base, "os", rt.os, sizeof(rt.os),
			NULL)) ||
	    (ret = runtime_reported(r, base, "platform", rt.platform,
			sizeof(rt.platform), &f)))
		return ret;
	rt.info_ns = f ? mtime(r, f) : rt.registered_ns;
	if ((ret = runtime_value(r, base, "project", 0, rt.project,
			sizeof(rt.project), &f)) ||
	    (ret = runtime_value(r, base, "integration", 0, rt.integration,
			sizeof(rt.integration), NULL)))
		return ret;
	rt.assigned_ns = f ? mtime(r, f) : rt.registered_ns;
	if (!*rt.project != !*rt.integration)
		return model_fail(-EINVAL, "%s: a runtime has a project and an"
				" integration, or neither", base);
	if (*rt.project) {
		if ((ret = model_integration_row(r->m, rt.project,
				rt.integration, &in)))
			return prefixed(ret, base);
		rt.integration_id = in.id;
	}
	if ((ret = store_runtime_insert(r->m->store, &rt)))
		return store_failed(base, ret);
	if ((ret = restore_service_account(r, base, rt.id)) ||
	    (ret = restore_versions(r, base, &rt, &latest, &latest_spec)) ||
	    (ret = restore_endpoints(r, base, &rt, latest)) ||
	    (ret = runtime_links(r, rp, &rt)) ||
	    (ret = restore_bound_secret(r, base, rp, &rt)))
		goto out;
	if (latest && (ret = store_runtime_set_latest(r->m->store, rt.id,
			latest))) {
		ret = store_failed(base, ret);
		goto out;
	}
	/* spec is the latest version's */
	f = entry(r, "%s/spec", base);
	if (f && (f->len || latest)) {
		char *canon = NULL;

		ret = f->len ? model_spec_canonical(f->data, f->len, &canon) :
			-EINVAL;
		if (ret || !latest_spec || strcmp(canon, latest_spec))
			ret = model_fail(-EINVAL, "%s: not the spec of the"
					" latest version (%lld)", f->path,
					(long long)latest);
		cJSON_free(canon);
	}
out:
	cJSON_free(latest_spec);
	return ret;
}

/* An unbound secret, at environment level; its copy at integration level
 * must be the same bytes. */
static int restore_secret(struct restore *r,
		const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	struct store_env env;
	struct snippet sn;
	int64_t id;
	int ret = parse_snippet(e->path, e->data, e->len, &sn);

	if (!ret && (strcmp(sn.env, rp->names[0]) || *sn.runtime))
		ret = model_fail(-EINVAL, "%s: the snippet is not that of an"
				" unbound secret of environment '%s'", e->path,
				rp->names[0]);
	if (!ret)
		ret = model_env_row(r->m, rp->names[0], &env);
	if (!ret)
		ret = restore_secret_row(r, e->path, &sn, rp->names[1], env.id,
				mtime(r, e), &id);
	sodium_memzero(&sn, sizeof(sn));
	return ret;
}

static int check_integration_secret(struct restore *r,
		const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	const struct model_restore_entry *twin = entry(r,
			"environments/%s/secrets/%s", rp->names[2],
			rp->names[3]);
	struct snippet sn;
	int ret;

	if (!twin || twin->len != e->len || memcmp(twin->data, e->data,
			e->len))
		return model_fail(-EINVAL, "%s: not the same as"
				" environments/%s/secrets/%s", e->path,
				rp->names[2], rp->names[3]);
	ret = parse_snippet(e->path, e->data, e->len, &sn);
	if (!ret && (strcmp(sn.project, rp->names[0]) ||
			strcmp(sn.integration, rp->names[1])))
		ret = model_fail(-EINVAL, "%s: the secret is not scoped to"
				" this integration", e->path);
	sodium_memzero(&sn, sizeof(sn));
	return ret;
}

/* A link of a view: the target the tree gives, to a runtime of that
 * project (and integration). */
static int check_link(struct restore *r, const struct model_restore_entry *e,
		const struct restore_path *rp)
{
	int in_integration = rp->kind == RK_INTEGRATION_LINK;
	const char *env = rp->names[in_integration ? 2 : 1];
	const char *name = rp->names[in_integration ? 3 : 2];
	char want[PATH_CAP];
	struct store_runtime rt;
	int ret;

	snprintf(want, sizeof(want), "%s../../../../environments/%s/"
			"runtimes/%s", in_integration ? "../../" : "", env,
			name);
	if (e->len != strlen(want) || memcmp(e->data, want, e->len))
		return model_fail(-EINVAL, "%s: a link of this view points to"
				" %s", e->path, want);
	ret = model_runtime_row(r->m, env, name, &rt);
	if (!ret && (strcmp(rt.project, rp->names[0]) || (in_integration &&
			strcmp(rt.integration, rp->names[1]))))
		ret = model_fail(-EINVAL, "%s: runtime '%s' is not in this"
				" %s", e->path, name, in_integration ?
				"integration" : "project");
	return ret;
}

/* One pass over the sorted entries, building the kinds of this pass. */
static int restore_pass(struct restore *r, int pass)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < r->n; i++) {
		const struct model_restore_entry *e = r->ents[i];
		struct restore_path rp;

		ret = classify(e->path, e->type, &rp);
		if (ret) {
			ret = ret < 0 ? ret : 0;
			continue;
		}
		if (pass == 0 && rp.kind == RK_ENV)
			ret = restore_env(r, e, &rp);
		else if (pass == 0 && rp.kind == RK_PROJECT)
			ret = restore_project(r, e, &rp);
		else if (pass == 0 && rp.kind == RK_INTEGRATION)
			ret = restore_integration(r, e, &rp);
		else if (pass == 1 && rp.kind == RK_RUNTIME)
			ret = restore_runtime(r, e, &rp);
		else if (pass == 2 && rp.kind == RK_SECRET)
			ret = restore_secret(r, e, &rp);
		else if (pass == 2 && rp.kind == RK_INTEGRATION_SECRET)
			ret = check_integration_secret(r, e, &rp);
		else if (pass == 2 && (rp.kind == RK_PROJECT_LINK ||
				rp.kind == RK_INTEGRATION_LINK))
			ret = check_link(r, e, &rp);
		else if (pass == 2 && e->type == 'f')
			ret = model_restore_check(e->path, e->data, e->len);
	}
	return ret;
}

int model_restore_apply(struct model *m,
		const struct model_restore_entry *entries, size_t n)
{
	struct restore r = { m, NULL, n, model_now(m) };
	struct store_holdings h = { 0, 0, 0 };
	int ret;

	if (m->parent)
		return model_fail(-EROFS, "snapshot '%s' is read-only",
				m->snap_name);
	r.ents = malloc((n ? n : 1) * sizeof(*r.ents));
	if (!r.ents)
		return model_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		r.ents[i] = &entries[i];
	qsort(r.ents, n, sizeof(*r.ents), by_path);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(r.ents[i]->path, r.ents[i - 1]->path)) {
			ret = model_fail(-EINVAL, "%s appears twice",
					r.ents[i]->path);
			free(r.ents);
			return ret;
		}
	/* one transaction into a store found empty inside it */
	model_lock(m);
	if ((ret = store_load_begin(m->store, &h))) {
		model_unlock(m);
		free(r.ents);
		return empty_or_why(ret, &h);
	}
	for (int pass = 0; !ret && pass < 3; pass++)
		ret = restore_pass(&r, pass);
	free(r.ents);
	return model_end(m, ret);
}
