/*
 * main.c - runtimefs: mount the control plane.
 *
 *   runtimefs [--db PATH] [-o OPTIONS] [-f] MOUNTPOINT
 *   runtimefs DB MOUNTPOINT [-o OPTIONS]      (the form mount.fuse3 uses)
 *
 * Options of our own: offline_after=SECONDS (30), endpoint_base=URL
 * (https://runtimes.example), admin_gid=GID and heartbeat_gid=GID (see
 * access.c), cache_timeout=SECONDS (cache.h), restore and
 * restore_max=MIB (stage.h), key_file=PATH (model/seal.c; where the
 * store keeps it by default: DB.key beside the database), test_clock=FILE
 * (clock.h, tests only), icp_listen=ADDR:PORT with tls_cert=FILE and
 * tls_key=FILE, or icp_plain (icp_http.h, https.h; by default a
 * self-signed pair beside the database, tlscert.h), icp_url=URL (what the
 * secrets' snippets give runtimes as the server's URL; by default what
 * icp_listen advertises, advertised_url()), spin_us=N (loop.c).
 * Everything else goes to libfuse (allow_other, default_permissions, -f,
 * -d, -s, ...).
 *
 * Built with -DSTORE_FAULTS (build/tests/runtimefs-faults, for the mount
 * tests), it takes RUNTIMEFS_FAULT=N:ERRNO from the environment: the N-th
 * store call of the first change after the mount is up (1 is its BEGIN,
 * or a snapshot's copy) fails with ERRNO (a name such as ENOSPC, or a
 * number), once; see store.h.
 */
#ifdef STORE_FAULTS
#define _GNU_SOURCE             /* strerrorname_np() */
#endif
#include "clock.h"
#include "fs.h"
#include "cache.h"
#include "events.h"
#include "request.h"
#include "icp_http.h"
#include "inode.h"
#include "stage.h"
#include "tlscert.h"
#include "tree.h"
#include "../store/errmsg.h"
#include "../store/store.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef STORE_FAULTS
#include "../store/store.h"
#endif

struct options {
	char *locator;            /* --db: where the store is */
	char *key_file;
	unsigned offline_after;
	unsigned events_keep;
	unsigned audit_keep;
	char *endpoint_base;
	unsigned admin_gid;
	unsigned heartbeat_gid;
	char *cache_timeout;
	char *nonopt[2];
	int nnonopt;
	int help;
	int version;
	int restore;
	unsigned restore_max;
	char *test_clock;
	char *icp_listen;
	char *tls_cert;
	char *tls_key;
	int icp_plain;
	char *icp_url;
	int spin_us;
};

#define SPIN_US_DEFAULT 100
#define STR_(x) #x
#define STR(x) STR_(x)

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("--db=%s", locator),
	OPT("--db %s", locator),
	OPT("offline_after=%u", offline_after),
	OPT("events_keep=%u", events_keep),
	OPT("audit_keep=%u", audit_keep),
	OPT("endpoint_base=%s", endpoint_base),
	OPT("admin_gid=%u", admin_gid),
	OPT("heartbeat_gid=%u", heartbeat_gid),
	OPT("cache_timeout=%s", cache_timeout),
	OPT("restore", restore),
	OPT("restore_max=%u", restore_max),
	OPT("key_file=%s", key_file),
	OPT("test_clock=%s", test_clock),
	OPT("icp_listen=%s", icp_listen),
	OPT("tls_cert=%s", tls_cert),
	OPT("tls_key=%s", tls_key),
	OPT("icp_plain", icp_plain),
	OPT("icp_url=%s", icp_url),
	OPT("spin_us=%d", spin_us),
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_END
};

static int take_nonopt(void *data, const char *arg, int key,
		struct fuse_args *args)
{
	struct options *o = data;

	(void)args;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->nnonopt == 2) {
		fprintf(stderr, "runtimefs: too many arguments: '%s'\n", arg);
		return -1;
	}
	o->nonopt[o->nnonopt++] = strdup(arg);
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [--db PATH] [-o OPTIONS] [-f] MOUNTPOINT\n"
	       "       %s DB MOUNTPOINT [-o OPTIONS]\n"
	       "\n"
	       "runtimefs options:\n"
	       "    --db PATH              the database (./%s)\n"
	       "    -o offline_after=SECS  a runtime is OFFLINE this long after\n"
	       "                           its last heartbeat (30)\n"
	       "    -o events_keep=N       MOUNT/events keeps the newest N\n"
	       "                           lines (10000)\n"
	       "    -o audit_keep=DAYS     MOUNT/audit keeps lines this long (90)\n"
	       "    -o endpoint_base=URL   the base of endpoint URLs\n"
	       "                           (" FS_ENDPOINT_BASE_DEFAULT ")\n"
	       "    -o admin_gid=GID       this group administers the tree too\n"
	       "    -o heartbeat_gid=GID   this group may write heartbeat\n"
	       "                           (with allow_other,default_permissions)\n"
	       "    -o cache_timeout=SECS  the kernel keeps names and attributes\n"
	       "                           this long, told of every change (60;\n"
	       "                           0 keeps nothing)\n"
	       "    -o restore             take a backup into this empty database;\n"
	       "                           it is committed at unmount\n"
	       "    -o restore_max=MIB     the most memory a restore stages (1024)\n"
	       "    -o key_file=PATH       the key that seals secrets at rest\n"
	       "                           (DB.key, beside the database)\n"
	       "    -o test_clock=FILE     for tests only: the time is the seconds\n"
	       "                           since the epoch written in FILE\n"
	       "    -o icp_listen=ADDR:PORT  serve WSO2 ICP's runtime API over\n"
	       "                           HTTPS (POST /icp/heartbeat, ...);\n"
	       "                           [IPV6]:PORT, *:PORT for every address\n"
	       "    -o tls_cert=FILE,tls_key=FILE  its certificate and key (PEM);\n"
	       "                           by default a self-signed pair made once,\n"
	       "                           DB.tls.crt and DB.tls.key\n"
	       "    -o icp_plain           plain HTTP instead, for tests or behind\n"
	       "                           a proxy that ends TLS\n"
	       "    -o icp_url=URL         the server URL the secrets' snippets\n"
	       "                           give runtimes (https://HOST:PORT of\n"
	       "                           icp_listen; this host's name for *)\n"
	       "    -o spin_us=N           an idle request thread polls for the\n"
	       "                           next request this long before it\n"
	       "                           sleeps (" STR(SPIN_US_DEFAULT) "; 0: never)\n"
	       "\n", prog, prog, store_default_locator());
}

/* The file `given` as an absolute path (the daemon goes to / in the
 * background) into `buf`; -1, said to standard error as option `what`,
 * when it cannot be. */
static int absolute_into(const char *given, char *buf, size_t size,
		const char *what)
{
	char cwd[PATH_MAX];
	int n;

	if (given[0] == '/') {
		n = snprintf(buf, size, "%s", given);
	} else if (getcwd(cwd, sizeof(cwd))) {
		n = snprintf(buf, size, "%s/%s", cwd, given);
	} else {
		fprintf(stderr, "runtimefs: %s '%s': %s\n", what, given,
				strerror(errno));
		return -1;
	}
	if (!*given || n < 0 || (size_t)n >= size) {
		fprintf(stderr, "runtimefs: %s must be a path of 1 to %zu"
				" bytes\n", what, size - 1);
		return -1;
	}
	return 0;
}

/* The key file's path, absolute, into `buf`: `given`, or where the store
 * at `locator` keeps it. */
static int key_path(const char *given, const char *locator, char *buf,
		size_t size)
{
	if (given)
		return absolute_into(given, buf, size, "key_file");
	if (!store_default_key_path(locator, buf, size))
		return 0;
	fprintf(stderr, "runtimefs: %s\n", store_errmsg());
	return -1;
}

/* -o spin_us=: how long an idle request thread polls the device (loop.c) */
static unsigned spin_us = SPIN_US_DEFAULT;

/* Serves `se` until it ends, on one thread (-s), on libfuse's pool (-o
 * clone_fd, which only it has) or on ours, as the command line says: 0,
 * or 1 when it failed.  A loop that SIGTERM, SIGINT or SIGHUP ended
 * (systemctl stop) is a clean stop: libfuse returns the signal's number. */
static int loop(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	struct fuse_loop_config *cfg;
	int ret = 1;

	if (opts->singlethread) {
		ret = fuse_session_loop(se);
	} else if (!opts->clone_fd) {
		ret = fs_loop(se, opts->max_threads, opts->max_idle_threads,
				spin_us);
	} else if ((cfg = fuse_loop_cfg_create())) {
		fuse_loop_cfg_set_clone_fd(cfg, opts->clone_fd);
		fuse_loop_cfg_set_max_threads(cfg, opts->max_threads);
		fuse_loop_cfg_set_idle_threads(cfg, opts->max_idle_threads);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	if (ret == SIGTERM || ret == SIGINT || ret == SIGHUP)
		ret = 0;
	return ret;
}

/* Mounts and serves until unmounted: libfuse's low-level session.  The
 * daemon that goes on after fuse_daemonize() is a child: it records its
 * pid in the claim. */
static int serve(struct fuse_args *args, struct fs *fs,
		struct store_claim *claim)
{
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(args, &opts))
		return 1;
	if (!opts.mountpoint) {
		fprintf(stderr, "runtimefs: no mountpoint given\n");
		return 1;
	}
	se = fuse_session_new(args, &fs_operations, sizeof(fs_operations), fs);
	if (!se)
		goto out;
	fs->se = se;
	if (inode_init() || fuse_set_signal_handlers(se))
		goto destroy;
	if (fuse_session_mount(se, opts.mountpoint))
		goto handlers;
	fuse_daemonize(opts.foreground);
	store_claim_refresh(claim);
	ret = loop(se, &opts);
	fuse_session_unmount(se);
handlers:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
	inode_fini();
out:
	free(opts.mountpoint);
	return ret || fs->failed ? 1 : 0;
}

/* The options of the listener, checked before anything is claimed. */
static int listener_options(const struct options *o)
{
	const char *why = NULL;

	if (!o->icp_listen && (o->tls_cert || o->tls_key || o->icp_plain))
		why = "tls_cert, tls_key and icp_plain go with icp_listen";
	else if (!o->tls_cert != !o->tls_key)
		why = "give both tls_cert and tls_key, or neither for a"
			" self-signed pair";
	else if (o->icp_plain && o->tls_cert)
		why = "icp_plain serves plain HTTP, without tls_cert and tls_key";
	else if (o->icp_listen && o->restore)
		why = "a restore mount serves no icp_listen";
	if (why)
		fprintf(stderr, "runtimefs: %s\n", why);
	return why ? -1 : 0;
}

/* -o icp_url: an http:// or https:// URL with a host, of 1 to 512
 * printable characters that a TOML string holds as they are (no blank,
 * `"` or `\`); a final '/' dropped, as both clients append /icp/...
 * to it.  -1, said, when it is not one. */
static int check_icp_url(char *url)
{
	size_t n = strlen(url), scheme;

	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	scheme = !strncmp(url, "https://", 8) ? 8 :
		!strncmp(url, "http://", 7) ? 7 : 0;
	for (size_t i = 0; scheme && i < n; i++)
		if (url[i] <= ' ' || url[i] > '~' || url[i] == '"' ||
		    url[i] == '\\')
			scheme = 0;
	if (!scheme || n == scheme || n > 512 || url[scheme] == '/' ||
	    url[scheme] == ':') {
		fprintf(stderr, "runtimefs: icp_url must be an https:// or"
				" http:// URL with a host, of at most 512"
				" characters, without blanks, '\"' or '\\'\n");
		return -1;
	}
	return 0;
}

/* The URL -o icp_listen advertises to runtimes when no icp_url is given:
 * https://HOST:PORT (http:// with icp_plain), HOST as icp_listen names
 * it, this host's name for every address (*, an empty host, 0.0.0.0,
 * [::]), PORT the one bound (the one chosen for port 0).  NULL when
 * there is no listener or no memory. */
static char *advertised_url(const struct options *o, const struct fs *fs)
{
	char host[300], *url;
	const char *l = o->icp_listen, *end;
	size_t n;

	if (!l || !fs->icp)
		return NULL;
	if (*l == '[') {
		end = strchr(l, ']');
		n = end ? (size_t)(end - l) + 1 : 0;
	} else {
		end = strrchr(l, ':');
		n = end ? (size_t)(end - l) : 0;
	}
	if (n >= sizeof(host))
		n = 0;
	memcpy(host, l, n);
	host[n] = '\0';
	if (!*host || !strcmp(host, "*") || !strcmp(host, "0.0.0.0") ||
	    !strcmp(host, "[::]")) {
		if (gethostname(host, 256) || !*host)
			strcpy(host, "localhost");
		host[255] = '\0';
	}
	url = malloc(strlen(host) + 32);
	if (url)
		sprintf(url, "%s://%s:%u", o->icp_plain ? "http" : "https",
				host, https_port(fs->icp));
	return url;
}

/* -o icp_listen: the port bound and the certificate read, made on the
 * first start, before the daemon forks, so that a port in use or a bad
 * certificate keeps it from mounting at all.  -1 when it cannot be. */
static int open_listener(const struct options *o, const char *locator,
		struct fs *fs)
{
	struct https_cfg cfg = { .listen = o->icp_listen,
		.plain = o->icp_plain, .cert_file = o->tls_cert,
		.key_file = o->tls_key };
	char cert[PATH_MAX], key[PATH_MAX], fp[TLSCERT_FINGERPRINT_MAX];
	int made;

	if (!o->icp_listen)
		return 0;
	if (!o->icp_plain && !o->tls_cert) {
		if (store_default_tls_paths(locator, cert, key, sizeof(cert)) ||
		    tlscert_ensure(cert, key, &made))
			goto fail;
		if (made && !tlscert_fingerprint(cert, fp, sizeof(fp)))
			fprintf(stderr, "runtimefs: made a self-signed TLS"
					" certificate for localhost, 127.0.0.1,"
					" ::1 and this host's name: %s (SHA-256"
					" %s), its key %s\n", cert, fp, key);
		cfg.cert_file = cert;
		cfg.key_file = key;
	}
	if (icp_http_open(fs, &cfg))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "runtimefs: icp_listen: %s\n", errmsg());
	return -1;
}

static void help(const char *prog)
{
	usage(prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Seconds, as libfuse takes them: a number from 0 to a day. */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 86400))
		return -EINVAL;
	*out = v;
	return 0;
}

#ifdef STORE_FAULTS
/* Arms the fault RUNTIMEFS_FAULT=N:ERRNO names, if any, for the first
 * change to come; -1 when it is not of that form. */
static int fault_from_env(void)
{
	const char *v = getenv("RUNTIMEFS_FAULT"), *name;
	char *end;
	long n, err = 0;

	if (!v || !*v)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != ':' || n < 1 || n > 1000000)
		goto bad;
	name = end + 1;
	for (int e = 1; e < 4096 && !err; e++)
		if (strerrorname_np(e) && !strcmp(strerrorname_np(e), name))
			err = e;
	if (!err) {
		err = strtol(name, &end, 10);
		if (end == name || *end || err < 1 || err > 4095)
			goto bad;
	}
	store_fault_install_at_begin((int)n, (int)-err);
	fprintf(stderr, "runtimefs: a test build: store call %ld of the first"
			" change will fail with %s\n", n,
			strerrorname_np((int)err) ? strerrorname_np((int)err) :
			name);
	return 0;
bad:
	fprintf(stderr, "runtimefs: RUNTIMEFS_FAULT is N:ERRNO (3:ENOSPC),"
			" not '%s'\n", v);
	return -1;
}
#endif

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .offline_after = 30, .admin_gid = (unsigned)-1,
		.heartbeat_gid = (unsigned)-1, .spin_us = SPIN_US_DEFAULT };
	struct fs fs = { .cache_timeout = CACHE_TIMEOUT_DEFAULT,
		.restore_max = STAGE_MAX_DEFAULT };
	struct store_claim *claim = NULL;
	char locator[PATH_MAX], key[PATH_MAX], clock_file[PATH_MAX];
	char *advertised = NULL;       /* fs_icp_url made of icp_listen */
	char shown[PATH_MAX];
	int ret = 1, err;

	if (fuse_opt_parse(&args, &o, option_spec, take_nonopt) == -1)
		goto out;
	if (o.version) {
		printf("runtimefs, libfuse %s\n", fuse_pkgversion());
		ret = 0;
		goto out;
	}
	if (o.help) {
		help(argv[0]);
		ret = 0;
		goto out;
	}
	if (o.nnonopt == 2 && o.locator) {
		fprintf(stderr, "runtimefs: give the database either with"
				" --db or as the first argument\n");
		goto out;
	}
	if (o.nnonopt == 0) {
		fprintf(stderr, "runtimefs: no mountpoint given\n");
		usage(argv[0]);
		goto out;
	}
	if (o.nnonopt == 2) {
		o.locator = o.nonopt[0];
		o.nonopt[0] = NULL;
	}
	if (o.cache_timeout && parse_seconds(o.cache_timeout,
			&fs.cache_timeout)) {
		fprintf(stderr, "runtimefs: cache_timeout must be a number of"
				" seconds from 0 to 86400\n");
		goto out;
	}
	if (o.restore_max) {
		if (o.restore_max > 1024 * 1024) {
			fprintf(stderr, "runtimefs: restore_max must be a number"
					" of MiB from 1 to 1048576\n");
			goto out;
		}
		fs.restore_max = (size_t)o.restore_max << 20;
	}
	if (listener_options(&o))
		goto out;
	if (o.offline_after == 0) {
		fprintf(stderr, "runtimefs: offline_after must be at least"
				" 1 second\n");
		goto out;
	}
	if (o.endpoint_base) {
		size_t n = strlen(o.endpoint_base);

		while (n > 0 && o.endpoint_base[n - 1] == '/')
			o.endpoint_base[--n] = '\0';
		if (n == 0 || n > 512 || strpbrk(o.endpoint_base, " \t\n")) {
			fprintf(stderr, "runtimefs: endpoint_base must be a URL"
					" of 1 to 512 characters\n");
			goto out;
		}
		fs_endpoint_base = o.endpoint_base;
	}
	if (o.icp_url && check_icp_url(o.icp_url))
		goto out;
	if (o.spin_us < 0 || o.spin_us > 100000) {
		fprintf(stderr, "runtimefs: spin_us must be a number of"
				" microseconds from 0 to 100000\n");
		goto out;
	}
	spin_us = (unsigned)o.spin_us;
	/* the daemon goes to / in the background: a locator that names a
	 * file relative to here would then name another */
	if (store_locator_resolve(o.locator ? o.locator :
			store_default_locator(), locator, sizeof(locator))) {
		fprintf(stderr, "runtimefs: %s\n", store_errmsg());
		goto out;
	}
	if (key_path(o.key_file, locator, key, sizeof(key)))
		goto out;
	fs.cfg.key_path = key;
	fuse_opt_add_arg(&args, o.nonopt[o.nnonopt - 1]);
	/* A bounded pool of request threads; naming max_idle_threads also
	 * keeps libfuse 3.14 from warning about its own default on start. */
	fuse_opt_insert_arg(&args, 1, "-omax_threads=16,max_idle_threads=8");
	/* `findmnt` and `df` name the database as the mount's source, and
	 * every message names it, without a password */
	store_locator_shown(locator, shown, sizeof(shown));
	if (!strchr(shown, ',')) {
		char *opt = malloc(strlen(shown) + 40);

		if (opt) {
			sprintf(opt, "-ofsname=%s,subtype=runtimefs", shown);
			fuse_opt_insert_arg(&args, 1, opt);
			free(opt);
		}
	}
	/* One daemon per database, for its whole life: claimed before
	 * anything is opened, kept across fuse_daemonize()'s fork. */
	err = store_claim(&claim, locator, o.restore ? STORE_CLAIM_RESTORE :
			0);
	if (err == -EINPROGRESS) {
		fprintf(stderr, "runtimefs: a restore into %s is going on;"
				" waiting for it to finish\n", shown);
		err = store_claim(&claim, locator, STORE_CLAIM_WAIT);
	}
	if (err) {
		fprintf(stderr, "runtimefs: %s\n", store_errmsg());
		goto out;
	}
	if (store_claim_warning(claim))
		fprintf(stderr, "runtimefs: warning: %s\n",
				store_claim_warning(claim));
	/* The schema is created or migrated here, in the foreground, so
	 * that a bad database is reported before anything is mounted; the
	 * daemon opens it again once it has forked (a store's connection
	 * does not cross fork()). */
	fs.locator = locator;
	fs.shown = shown;
#ifdef STORE_FAULTS
	if (fault_from_env())
		goto out;
#endif
	fs.cfg.offline_after_ns = (int64_t)o.offline_after * 1000000000LL;
	fs.cfg.events_keep = o.events_keep;
	fs.cfg.path_of = fs_event_path;
	fs.cfg.actor = request_actor;
	fs.cfg.audit_keep_ns = (int64_t)o.audit_keep * 86400LL * 1000000000LL;
	if (o.test_clock) {
		if (absolute_into(o.test_clock, clock_file, sizeof(clock_file),
				"test_clock"))
			goto out;
		fs_clock_use(clock_file);
		fs.cfg.now = fs_clock_model;
	}
	if (model_open(&fs.m, locator, &fs.cfg)) {
		fprintf(stderr, "runtimefs: %s\n", model_errmsg());
		goto out;
	}
	if (o.restore && model_restore_empty(fs.m)) {
		fprintf(stderr, "runtimefs: %s\n", model_errmsg());
		model_close(fs.m);
		fs.m = NULL;
		goto out;
	}
	/* a restore killed before it committed left the database empty */
	if (!o.restore && store_claim_interrupted(claim)) {
		err = model_restore_empty(fs.m);
		if (!err)
			fprintf(stderr, "runtimefs: an interrupted restore left"
					" %s empty; mount with -o restore and"
					" copy the backup in again\n", shown);
		else if (err == -ENOTEMPTY)
			store_claim_restore_done(claim);    /* it had committed */
	}
	model_close(fs.m);
	fs.m = NULL;
	if (open_listener(&o, locator, &fs))
		goto out;
	/* the URL the secrets' snippets give runtimes */
	if (o.icp_url)
		fs_icp_url = o.icp_url;
	else if (o.icp_listen && !o.restore &&
		 !(fs_icp_url = advertised = advertised_url(&o, &fs))) {
		fprintf(stderr, "runtimefs: out of memory\n");
		goto out;
	}
	fs_started_ns = fs_now_ns();
	fs.uid = getuid();
	fs.gid = getgid();
	fs_access.owner = fs.uid;
	fs_access.group = fs.gid;
	fs_access.admin_gid = (gid_t)o.admin_gid;
	fs_access.heartbeat_gid = (gid_t)o.heartbeat_gid;
	/* a restore serves a staging tree (stage.h) through the same
	 * operations, committed at unmount */
	fs.restore = o.restore;
	ret = serve(&args, &fs, claim);
	/* stopped at the session's end; here if it never began */
	icp_http_stop(&fs);
	/* committed or given up: not interrupted */
	if (o.restore)
		store_claim_restore_done(claim);
	model_close(fs.m);
out:
	store_claim_release(claim);
	free(o.locator);
	free(o.key_file);
	free(o.test_clock);
	free(o.endpoint_base);
	free(o.cache_timeout);
	free(o.icp_listen);
	free(o.icp_url);
	free(advertised);
	fs_icp_url = NULL;
	free(o.tls_cert);
	free(o.tls_key);
	free(o.nonopt[0]);
	free(o.nonopt[1]);
	fuse_opt_free_args(&args);
	return ret;
}
