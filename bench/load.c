/*
 * load.c - drives a mounted runtimefs the way a fleet would, through plain
 * file calls, and says how fast it went.  Used by bench/run.sh.
 *
 *   load populate MNT ENVS PER_ENV       environments e00.., agent runtimes
 *                                        r00000.. in each, 3 deploys, a
 *                                        canary endpoint, one heartbeat
 *   load heartbeats MNT SECONDS WRITERS  heartbeats of those runtimes, each
 *                                        writer on its own open heartbeat
 *                                        file; prints heartbeats/s
 *   load repoints MNT SECONDS            echo N > .../endpoints/canary/version,
 *                                        each one durable; prints repoints/s
 *
 * Everything goes through open/read/write/close on the mount: no SDK, no
 * shortcut into the database.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *mnt;

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

static void get(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die("open", path);
	n = read(fd, buf, cap - 1);
	if (n < 0)
		die("read", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
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
	char cred[128];
};

static struct runtime *fleet;
static size_t fleet_len;

static void runtime_dir(char *buf, size_t n, const char *env,
		const char *name)
{
	snprintf(buf, n, "%s/environments/%s/runtimes/%s", mnt, env, name);
}

static int heartbeat_json(char *buf, size_t n, const struct runtime *rt)
{
	return snprintf(buf, n, "{\"serviceAccount\": \"%s\", \"runtime\":"
		" \"%s\", \"environment\": \"%s\", \"version\": \"1.0\","
		" \"status\": \"RUNNING\", \"nodeInfo\": {\"platformName\":"
		" \"AgentBase\", \"platformVersion\": \"1\", \"osName\":"
		" \"Linux\", \"osVersion\": \"6.1\"}}", rt->cred, rt->name,
		rt->env);
}

/* Reads back the fleet a populate made: every runtime and its account. */
static void load_fleet(void)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/../fleet.txt", mnt);
	f = fopen(path, "r");
	if (!f)
		die("open", path);
	fleet = calloc(1 << 20, sizeof(*fleet));
	while (fleet_len < (1 << 20) &&
	       fscanf(f, "%15s %15s %127s", fleet[fleet_len].env,
			fleet[fleet_len].name, fleet[fleet_len].cred) == 3)
		fleet_len++;
	fclose(f);
	if (!fleet_len) {
		fprintf(stderr, "load: %s is empty: populate first\n", path);
		exit(1);
	}
}

static int populate(int envs, int per_env)
{
	char path[1024], dir[512], spec[1024], json[1024], reply[512];
	char fleetpath[512];
	FILE *out;
	int hb;

	snprintf(fleetpath, sizeof(fleetpath), "%s/../fleet.txt", mnt);
	out = fopen(fleetpath, "w");
	if (!out)
		die("open", fleetpath);
	snprintf(path, sizeof(path), "%s/heartbeat", mnt);
	hb = open(path, O_RDWR);
	if (hb < 0)
		die("open", path);
	for (int e = 0; e < envs; e++) {
		struct runtime rt;

		snprintf(rt.env, sizeof(rt.env), "e%02d", e);
		snprintf(path, sizeof(path), "%s/environments/%s", mnt,
				rt.env);
		mkdir_p(path);
		for (int r = 0; r < per_env; r++) {
			snprintf(rt.name, sizeof(rt.name), "r%05d", r);
			runtime_dir(dir, sizeof(dir), rt.env, rt.name);
			mkdir_p(dir);
			for (int v = 1; v <= 3; v++) {
				snprintf(spec, sizeof(spec), "{\"imageUrl\":"
					" \"registry.example/%s:%d\","
					" \"flavorId\": \"g1-small\","
					" \"command\": [\"python\"], \"args\":"
					" [\"app.py\"], \"environmentVariables\":"
					" {\"LOG_LEVEL\": \"info\"},"
					" \"autoscaling\": {\"minReplicas\": 1,"
					" \"maxReplicas\": 3, \"cpuUtilization\":"
					" 70, \"memoryUtilization\": 80},"
					" \"description\": \"bench\"}", rt.name,
					v);
				snprintf(path, sizeof(path), "%s/spec", dir);
				put(path, spec);
			}
			snprintf(path, sizeof(path), "%s/endpoints/canary",
					dir);
			mkdir_p(path);
			snprintf(path, sizeof(path), "%s/service_account",
					dir);
			get(path, rt.cred, sizeof(rt.cred));
			heartbeat_json(json, sizeof(json), &rt);
			if (write(hb, json, strlen(json)) < 0)
				die("heartbeat for", rt.name);
			if (read(hb, reply, sizeof(reply)) < 0)
				die("reply for", rt.name);
			fprintf(out, "%s %s %s\n", rt.env, rt.name, rt.cred);
		}
	}
	close(hb);
	fclose(out);
	return 0;
}

struct writer {
	size_t first;
	double until;
	long count;
};

static void *heartbeat_writer(void *arg)
{
	struct writer *w = arg;
	char path[512], json[1024];
	size_t i = w->first;
	int fd;

	snprintf(path, sizeof(path), "%s/heartbeat", mnt);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die("open", path);
	while (now_s() < w->until) {
		for (int k = 0; k < 100; k++) {
			int n = heartbeat_json(json, sizeof(json),
					&fleet[i]);

			if (write(fd, json, (size_t)n) != n)
				die("heartbeat for", fleet[i].name);
			w->count++;
			i = (i + 1) % fleet_len;
		}
	}
	close(fd);
	return NULL;
}

static int heartbeats(double seconds, int writers)
{
	pthread_t t[64];
	struct writer w[64];
	double start = now_s();
	long total = 0;

	load_fleet();
	if (writers < 1 || writers > 64)
		writers = 1;
	for (int i = 0; i < writers; i++) {
		w[i] = (struct writer){ fleet_len * i / writers,
			start + seconds, 0 };
		pthread_create(&t[i], NULL, heartbeat_writer, &w[i]);
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

	load_fleet();
	runtime_dir(dir, sizeof(dir), fleet[0].env, fleet[0].name);
	snprintf(path, sizeof(path), "%s/endpoints/canary/version", dir);
	start = now_s();
	until = start + seconds;
	while (now_s() < until) {
		put(path, n % 2 ? "1\n" : "2\n");
		n++;
	}
	printf("%.0f\n", n / (now_s() - start));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "populate")) {
		mnt = argv[2];
		return populate(atoi(argv[3]), atoi(argv[4]));
	}
	if (argc == 5 && !strcmp(argv[1], "heartbeats")) {
		mnt = argv[2];
		return heartbeats(atof(argv[3]), atoi(argv[4]));
	}
	if (argc == 4 && !strcmp(argv[1], "repoints")) {
		mnt = argv[2];
		return repoints(atof(argv[3]));
	}
	fprintf(stderr, "usage: load populate MNT ENVS PER_ENV\n"
		"       load heartbeats MNT SECONDS WRITERS\n"
		"       load repoints MNT SECONDS\n");
	return 2;
}
