/*
 * icp.c - handlers for what integration runtimes use: MOUNT/heartbeat,
 * the secrets directories (environments/ENV/secrets/ and
 * projects/P/integrations/I/secrets/ENV/) and a runtime's `secret` file.
 *
 * A secret file shows the snippet a runtime's configuration needs, for the
 * Ballerina default profile (Config.toml) and for Micro Integrator
 * (deployment.toml), with the project and integration filled in when the
 * secret is scoped to one.
 */
#include "nodes.h"
#include "icp_api.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>
#include <cjson/cJSON.h>

/* -- heartbeat --------------------------------------------------------- */

/* The answer to a refused heartbeat: why, in words. */
static int reply_refusal(struct buf *reply, int err)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int ret = -ENOMEM;

	if (o && cJSON_AddFalseToObject(o, "acknowledged") &&
	    cJSON_AddStringToObject(o, "error", strerror(-err)) &&
	    cJSON_AddStringToObject(o, "reason", model_errmsg()) &&
	    (text = cJSON_PrintUnformatted(o)))
		ret = buf_addf(reply, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
	return ret;
}

int fs_heartbeat_write(const struct fs_path *p, const char *data,
		size_t len, struct buf *reply)
{
	struct model_heartbeat_reply r;
	int ret;

	buf_reset(reply);
	/* bash's printf writes a multi-line object line by line; what no
	 * more lines can make an object is refused at once */
	ret = model_json_state(data, len);
	if (ret == MODEL_JSON_MORE)
		return FS_MORE;
	if (!ret)
		ret = model_heartbeat(p->m, data, len, &r);
	if (ret) {
		/* the refusal's reason stays in model_errmsg() for the log */
		if (reply_refusal(reply, ret))
			buf_reset(reply);
		return ret;
	}
	return icp_reply_json(reply, &r, 1, NULL);
}

/* -- secrets ----------------------------------------------------------- */

static void secret_wipe(struct model_secret *sec)
{
	sodium_memzero(sec->secret, sizeof(sec->secret));
}

/* The secrets a directory (or a file in it) sees: its environment's, or
 * at integration level that integration's. */
static void secret_scope(const struct fs_path *p,
		struct model_secret_scope *sc)
{
	int scoped = p->node->kind == FS_INTEGRATION_SECRET ||
		p->node->kind == FS_INTEGRATION_SECRETS_ENV;

	sc->env = p->env;
	sc->project = scoped ? p->project : NULL;
	sc->integration = scoped ? p->integration : NULL;
}

int fs_secret_lookup(struct fs_path *p, const char *name)
{
	struct model_secret_scope sc;
	struct model_secret sec;
	int ret;

	secret_scope(p, &sc);
	ret = model_secret_get(p->m, &sc, name, &sec);
	if (!ret)
		memcpy(p->secret, sec.name, sizeof(p->secret));
	secret_wipe(&sec);
	return ret;
}

struct fill_ctx {
	fs_fill_fn fill;
	void *ctx;
};

static int fill_secret(void *ctx, const struct model_secret *sec)
{
	struct fill_ctx *f = ctx;

	return f->fill(f->ctx, sec->name);
}

int fs_secret_list(const struct fs_path *dir, fs_fill_fn fill, void *ctx)
{
	struct model_secret_scope sc;
	struct fill_ctx f = { fill, ctx };

	secret_scope(dir, &sc);
	return model_secret_list(dir->m, &sc, fill_secret, &f);
}

/* One TOML table of the snippet. */
static int snippet_table(struct buf *b, const char *comment,
		const char *table, int enabled, const struct model_secret *sec,
		const char *runtime)
{
	return buf_addf(b, "# %s\n[%s]\n%s"
			"environment = \"%s\"\n"
			"project = \"%s\"\n"
			"integration = \"%s\"\n"
			"runtime = \"%s\"\n"
			"secret = \"%s\"\n",
			comment, table, enabled ? "enabled = true\n" : "",
			sec->env,
			*sec->project ? sec->project : "<project name>",
			*sec->integration ? sec->integration :
				"<integration name>",
			runtime ? runtime : "<unique runtime name>", sec->secret);
}

/* Both tables of a secret's snippet; `runtime` NULL while unbound. */
static int snippet(struct fs_value *v, struct model_secret *sec,
		const char *runtime)
{
	int ret = snippet_table(&v->buf, "Ballerina integration (default"
			" profile): add to Config.toml",
			"wso2.icp.runtime.bridge", 0, sec, runtime);

	if (!ret)
		ret = buf_add(&v->buf, "\n", 1);
	if (!ret)
		ret = snippet_table(&v->buf, "WSO2 Micro Integrator: add to"
				" conf/deployment.toml", "icp_config", 1, sec,
				runtime);
	v->mtime_ns = sec->created_ns;
	secret_wipe(sec);
	return ret;
}

int fs_secret_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_secret_scope sc;
	struct model_secret sec;
	int ret;

	secret_scope(p, &sc);
	ret = model_secret_get(p->m, &sc, p->secret, &sec);
	return ret ? ret : snippet(v, &sec, NULL);
}

int fs_secret_store(const struct fs_path *p, const char *value)
{
	(void)p;
	(void)value;
	return fs_fail(-EPERM, "a secret is generated, not written: rm it"
			" and create a new one");
}

int fs_secret_unlink(const struct fs_path *p)
{
	struct model_secret_scope sc;

	secret_scope(p, &sc);
	return model_secret_revoke(p->m, &sc, p->secret);
}

int fs_secret_create(const struct fs_path *dir, const char *name)
{
	struct model_secret_scope sc;

	secret_scope(dir, &sc);
	return model_secret_create(dir->m, &sc, name);
}

/* -- a runtime's bound secret ------------------------------------------ */

int fs_runtime_secret_present(const struct model_runtime *rt)
{
	return *rt->secret != '\0';
}

int fs_runtime_secret_show(const struct model_runtime *rt,
		struct fs_value *v)
{
	v->mtime_ns = rt->registered_ns;
	return buf_addf(&v->buf, "%s\n", rt->secret);
}

int fs_runtime_secret_unlink(const struct fs_path *p)
{
	return model_runtime_secret_revoke(p->m, p->env, p->runtime);
}

int fs_runtime_secret_toml_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_secret sec;
	int ret = model_runtime_secret_get(p->m, p->env, p->runtime, &sec);

	return ret ? ret : snippet(v, &sec, p->runtime);
}
