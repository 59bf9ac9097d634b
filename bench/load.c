/*
 * load.c - drives a mounted runtimefs the way a fleet would, through plain
 * file calls, and says how fast it went.  Used by bench/run.sh.
 *
 *   load populate MNT ENVS PER_ENV THREADS FLEET
 *       agent runtimes: environments e00.., in each mkdir r00000.., three
 *       specs written (versions 1-3, DEFAULT on 3), mkdir endpoints/canary
 *       and echo 2 > its version, then a first heartbeat with the
 *       runtime's service account, which makes it RUNNING
 *   load register MNT ENVS PER_ENV THREADS FLEET
 *       integration runtimes (MI) registered the ICP way: touch
 *       secrets/r00000.., read the secret from its snippet, a first
 *       heartbeat with it creates the runtime (project bench, integrations
 *       svc0..svc15) and binds the secret
 *   load wake MNT THREADS FLEET
 *       one heartbeat for every runtime of FLEET, so that all are RUNNING
 *   load heartbeats MNT SECONDS WRITERS FLEET
 *       heartbeats of FLEET's runtimes, each writer on its own open
 *       heartbeat file; prints heartbeats/s
 *   load repoints MNT SECONDS FLEET
 *       echo N > .../endpoints/canary/version of the first runtime, each
 *       one durable; prints repoints/s
 *
 * populate and register name their environments e00.., or PREFIX00.. with
 * LOAD_ENV_PREFIX=PREFIX in the environment (a second fleet beside the
 * first, for bench/run.sh's registrations/s).
 *
 * FLEET is the file populate and register write: one line per runtime,
 * "ENV NAME KIND CREDENTIAL", KIND agent or MI.  Everything goes through
 * open/read/write/close on the mount: no SDK, no shortcut into the
 * database.  Any failure ends the program with a message and exit 1, so a
 * dead daemon (ENOTCONN) stops the benchmark at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOAD_THREADS_MAX 64
#define LOAD_FLEET_MAX (1 << 21)

static const char *mnt;

/* What the environments' names begin with (LOAD_ENV_PREFIX, else "e"). */
static const char *env_prefix(void)
{
	const char *p = getenv("LOAD_ENV_PREFIX");

	return p && *p && strlen(p) < 12 ? p : "e";
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "load: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void put(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	size_t n = strlen(data);

	if (fd < 0)
		die("open", path);
	if (write(fd, data, n) != (ssize_t)n)
		die("write", path);
	if (close(fd))
		die("close", path);
}

/* Reads the whole of `path` (at most cap - 1 bytes) into buf. */
static void get(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		die("open", path);
	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)))
		if (n < 0)
			die("read", path);
		else
			len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir", path);
}

struct runtime {
	char env[16];
	char name[16];
	char kind[8];            /* agent | MI */
	char cred[128];
};

static struct runtime *fleet;
static size_t fleet_len;

static void runtime_dir(char *buf, size_t n, const struct runtime *rt)
{
	snprintf(buf, n, "%s/environments/%s/runtimes/%s", mnt, rt->env,
			rt->name);
}

/* The heartbeat `rt` sends: with its service account (agent) or with its
 * secret and its project and integration (MI). */
static int heartbeat_json(char *buf, size_t n, const struct runtime *rt)
{
	static const char node[] = "\"status\": \"RUNNING\", \"nodeInfo\":"
		" {\"platformName\": \"AgentBase\", \"platformVersion\": \"1\","
		" \"osName\": \"Linux\", \"osVersion\": \"6.1\"}}";

	if (!strcmp(rt->kind, "agent"))
		return snprintf(buf, n, "{\"serviceAccount\": \"%s\","
			" \"runtime\": \"%s\", \"environment\": \"%s\","
			" \"version\": \"1.0\", %s", rt->cred, rt->name,
			rt->env, node);
	return snprintf(buf, n, "{\"secret\": \"%s\", \"runtime\": \"%s\","
		" \"runtimeType\": \"MI\", \"environment\": \"%s\","
		" \"project\": \"bench\", \"component\": \"svc%d\","
		" \"version\": \"4.4.0\", %s", rt->cred, rt->name, rt->env,
		atoi(rt->name + 1) % 16, node);
}

/* Sends one heartbeat on `fd`; when `reply` is set, reads the reply and
 * checks it was acknowledged. */
static void heartbeat_send(int fd, const struct runtime *rt, int reply)
{
	char json[1024], ack[512];
	int n = heartbeat_json(json, sizeof(json), rt);
	ssize_t got;

	if (write(fd, json, (size_t)n) != n)
		die("heartbeat for", rt->name);
	if (!reply)
		return;
	got = read(fd, ack, sizeof(ack) - 1);
	if (got < 0)
		die("reply for", rt->name);
	ack[got] = '\0';
	if (!strstr(ack, "\"acknowledged\":true")) {
		fprintf(stderr, "load: heartbeat for %s/%s refused: %s",
				rt->env, rt->name, ack);
		exit(1);
	}
}

static int heartbeat_open(void)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/heartbeat", mnt);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die("open", path);
	return fd;
}

/* Reads FLEET back: every runtime, its kind and its credential. */
static void fleet_read(const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		die("open", path);
	fleet = calloc(LOAD_FLEET_MAX, sizeof(*fleet));
	if (!fleet)
		die("calloc", path);
	while (fleet_len < LOAD_FLEET_MAX &&
	       fscanf(f, "%15s %15s %7s %127s", fleet[fleet_len].env,
			fleet[fleet_len].name, fleet[fleet_len].kind,
			fleet[fleet_len].cred) == 4)
		fleet_len++;
	fclose(f);
	if (!fleet_len) {
		fprintf(stderr, "load: %s is empty: populate first\n", path);
		exit(1);
	}
}

static void fleet_write(const char *path)
{
	char tmp[512];
	FILE *out;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = fopen(tmp, "w");
	if (!out)
		die("open", tmp);
	for (size_t i = 0; i < fleet_len; i++)
		fprintf(out, "%s %s %s %s\n", fleet[i].env, fleet[i].name,
				fleet[i].kind, fleet[i].cred);
	if (fclose(out) || rename(tmp, path))
		die("write", path);
}

/* -- building the tree ------------------------------------------------- */

/* Shared by the threads of a populate, register or wake: runtimes are
 * handed out one at a time from `next`. */
static struct {
	int per_env;
	size_t total;
	atomic_size_t next, done;
	double start;
	void (*make)(struct runtime *rt, int hb);
} job;

static void job_progress(void)
{
	size_t done = atomic_fetch_add(&job.done, 1) + 1;
	size_t step = job.total >= 10000 ? job.total / 20 : 1000;

	if (done % step == 0 || done == job.total)
		fprintf(stderr, "load: %zu/%zu runtimes, %.0f/s\n", done,
				job.total, done / (now_s() - job.start));
}

static void *job_thread(void *arg)
{
	int hb = heartbeat_open();
	size_t i;

	(void)arg;
	while ((i = atomic_fetch_add(&job.next, 1)) < job.total) {
		struct runtime *rt = &fleet[i];

		if (job.per_env) {
			snprintf(rt->env, sizeof(rt->env), "%s%02d",
					env_prefix(),
					(int)(i / (size_t)job.per_env));
			snprintf(rt->name, sizeof(rt->name), "r%05d",
					(int)(i % (size_t)job.per_env));
		}
		job.make(rt, hb);
		job_progress();
	}
	close(hb);
	return NULL;
}

/* Runs `make` on `total` runtimes with `threads` threads; prints the
 * rate. */
static void job_run(size_t total, int per_env, int threads,
		void (*make)(struct runtime *rt, int hb))
{
	pthread_t t[LOAD_THREADS_MAX];

	if (threads < 1 || threads > LOAD_THREADS_MAX)
		threads = 1;
	job.per_env = per_env;
	job.total = total;
	job.make = make;
	job.start = now_s();
	atomic_store(&job.next, 0);
	atomic_store(&job.done, 0);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, job_thread, NULL))
			die("pthread_create", "");
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%.0f\n", total / (now_s() - job.start));
}

static void make_agent(struct runtime *rt, int hb)
{
	char dir[256], path[512], spec[1024];

	snprintf(rt->kind, sizeof(rt->kind), "agent");
	runtime_dir(dir, sizeof(dir), rt);
	mkdir_p(dir);
	snprintf(path, sizeof(path), "%s/spec", dir);
	for (int v = 1; v <= 3; v++) {
		snprintf(spec, sizeof(spec), "{\"imageUrl\":"
			" \"registry.example/%s:%d\", \"flavorId\": \"g1-small\","
			" \"command\": [\"python\"], \"args\": [\"app.py\"],"
			" \"environmentVariables\": {\"LOG_LEVEL\": \"info\"},"
			" \"autoscaling\": {\"minReplicas\": 1, \"maxReplicas\":"
			" 3, \"cpuUtilization\": 70, \"memoryUtilization\":"
			" 80}, \"description\": \"bench\"}", rt->name, v);
		put(path, spec);
	}
	snprintf(path, sizeof(path), "%s/endpoints/canary", dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/endpoints/canary/version", dir);
	put(path, "2\n");
	snprintf(path, sizeof(path), "%s/service_account", dir);
	get(path, rt->cred, sizeof(rt->cred));
	rt->cred[strcspn(rt->cred, "\n")] = '\0';
	heartbeat_send(hb, rt, 1);
}

static void make_mi(struct runtime *rt, int hb)
{
	char path[512], snippet[4096], *s;
	int fd;

	snprintf(rt->kind, sizeof(rt->kind), "MI");
	snprintf(path, sizeof(path), "%s/environments/%s/secrets/%s", mnt,
			rt->env, rt->name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || close(fd))
		die("touch", path);
	get(path, snippet, sizeof(snippet));
	s = strstr(snippet, "secret = \"");
	if (!s || sscanf(s, "secret = \"%127[^\"]\"", rt->cred) != 1) {
		fprintf(stderr, "load: no secret in %s\n", path);
		exit(1);
	}
	heartbeat_send(hb, rt, 1);
}

static void make_wake(struct runtime *rt, int hb)
{
	heartbeat_send(hb, rt, 0);
}

/* populate (agent) or register (MI): environments, then the runtimes. */
static int build(int envs, int per_env, int threads, const char *fleet_path,
		void (*make)(struct runtime *rt, int hb))
{
	char path[512];

	if (envs < 1 || envs > 100 || per_env < 1 || per_env > 100000 ||
	    (size_t)envs * (size_t)per_env > LOAD_FLEET_MAX) {
		fprintf(stderr, "load: 1..100 environments of 1..100000"
				" runtimes\n");
		return 2;
	}
	fleet_len = (size_t)envs * (size_t)per_env;
	fleet = calloc(fleet_len, sizeof(*fleet));
	if (!fleet)
		die("calloc", "fleet");
	for (int e = 0; e < envs; e++) {
		snprintf(path, sizeof(path), "%s/environments/%s%02d", mnt,
				env_prefix(), e);
		mkdir_p(path);
	}
	job_run(fleet_len, per_env, threads, make);
	fleet_write(fleet_path);
	return 0;
}

/* -- measuring --------------------------------------------------------- */

struct writer {
	size_t first;
	double until;
	long count;
};

static void *heartbeat_writer(void *arg)
{
	struct writer *w = arg;
	int fd = heartbeat_open();
	size_t i = w->first;

	while (now_s() < w->until) {
		for (int k = 0; k < 100; k++) {
			heartbeat_send(fd, &fleet[i], 0);
			w->count++;
			i = (i + 1) % fleet_len;
		}
	}
	close(fd);
	return NULL;
}

static int heartbeats(double seconds, int writers)
{
	pthread_t t[LOAD_THREADS_MAX];
	struct writer w[LOAD_THREADS_MAX];
	double start = now_s();
	long total = 0;

	if (writers < 1 || writers > LOAD_THREADS_MAX)
		writers = 1;
	for (int i = 0; i < writers; i++) {
		w[i] = (struct writer){ fleet_len * i / writers,
			start + seconds, 0 };
		if (pthread_create(&t[i], NULL, heartbeat_writer, &w[i]))
			die("pthread_create", "");
	}
	for (int i = 0; i < writers; i++) {
		pthread_join(t[i], NULL);
		total += w[i].count;
	}
	printf("%.0f\n", total / (now_s() - start));
	return 0;
}

static int repoints(double seconds)
{
	char path[1024], dir[512];
	double start, until;
	long n = 0;

	if (strcmp(fleet[0].kind, "agent")) {
		fprintf(stderr, "load: repoints needs agent runtimes\n");
		return 2;
	}
	runtime_dir(dir, sizeof(dir), &fleet[0]);
	snprintf(path, sizeof(path), "%s/endpoints/canary/version", dir);
	start = now_s();
	until = start + seconds;
	while (now_s() < until) {
		put(path, n % 2 ? "2\n" : "1\n");
		n++;
	}
	/* leave it where populate pinned it */
	if (n % 2)
		put(path, "2\n");
	printf("%.0f\n", n / (now_s() - start));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc > 2)
		mnt = argv[2];
	if (argc == 7 && !strcmp(cmd, "populate"))
		return build(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
				argv[6], make_agent);
	if (argc == 7 && !strcmp(cmd, "register"))
		return build(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
				argv[6], make_mi);
	if (argc == 5 && !strcmp(cmd, "wake")) {
		fleet_read(argv[4]);
		job_run(fleet_len, 0, atoi(argv[3]), make_wake);
		return 0;
	}
	if (argc == 6 && !strcmp(cmd, "heartbeats")) {
		fleet_read(argv[5]);
		return heartbeats(atof(argv[3]), atoi(argv[4]));
	}
	if (argc == 5 && !strcmp(cmd, "repoints")) {
		fleet_read(argv[4]);
		return repoints(atof(argv[3]));
	}
	fprintf(stderr, "usage: load populate MNT ENVS PER_ENV THREADS FLEET\n"
		"       load register MNT ENVS PER_ENV THREADS FLEET\n"
		"       load wake MNT THREADS FLEET\n"
		"       load heartbeats MNT SECONDS WRITERS FLEET\n"
		"       load repoints MNT SECONDS FLEET\n");
	return 2;
}
