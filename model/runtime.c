/*
 * runtime.c - runtimes: creation of agent runtimes, deletion, lookups and
 * the status each one has at a given moment.
 *
 * Status is never stored: it is computed from stored times (the last
 * heartbeat, the last start/stop command, the first heartbeat after it),
 * so it is right at every moment without a sweeper.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *model_runtime_status(const struct store_runtime *row,
		int64_t now, int64_t offline_after_ns, int64_t *since_ns)
{
	int64_t hb = row->heartbeat_ns;
	int64_t gone = hb + offline_after_ns;   /* OFFLINE from this moment */
	int live = hb > 0 && now <= gone && !row->revoked_ns;

	/* a revoked secret cuts the runtime off at once */
	if (row->revoked_ns && row->revoked_ns < gone)
		gone = row->revoked_ns;

	if (!strcmp(row->type, "agent") && row->latest_version == 0) {
		*since_ns = row->registered_ns;
		return "CREATING";
	}
	if (!strcmp(row->desired, "stop")) {
		if (live) {
			*since_ns = row->desired_ns;
			return "STOPPING";
		}
		*since_ns = hb > row->desired_ns ? gone : row->desired_ns;
		return "STOPPED";
	}
	if (row->running_ns == 0 && !row->revoked_ns) {
		*since_ns = row->desired_ns;
		return "STARTING";
	}
	if (live) {
		*since_ns = row->running_ns;
		return "RUNNING";
	}
	*since_ns = gone;
	return "OFFLINE";
}

static void runtime_copy(struct model *m, struct model_runtime *out,
		const struct store_runtime *row)
{
	int64_t now = model_now(m), gone = row->heartbeat_ns +
		m->cfg.offline_after_ns;

	out->id = row->id;
	memcpy(out->uuid, row->uuid, sizeof(out->uuid));
	memcpy(out->env, row->env, sizeof(out->env));
	memcpy(out->name, row->name, sizeof(out->name));
	memcpy(out->type, row->type, sizeof(out->type));
	memcpy(out->project, row->project, sizeof(out->project));
	memcpy(out->integration, row->integration, sizeof(out->integration));
	memcpy(out->runtime_version, row->runtime_version,
			sizeof(out->runtime_version));
	memcpy(out->platform, row->platform, sizeof(out->platform));
	memcpy(out->os, row->os, sizeof(out->os));
	out->registered_ns = row->registered_ns;
	out->heartbeat_ns = row->heartbeat_ns;
	out->info_ns = row->info_ns;
	out->reported_ns = row->reported_ns;
	out->artifacts_ns = row->artifacts_ns;
	out->assigned_ns = row->assigned_ns;
	out->latest_version = row->latest_version;
	out->deployed_ns = row->deployed_ns;
	out->revoked_ns = row->revoked_ns;
	memcpy(out->secret, row->secret, sizeof(out->secret));
	out->status = model_runtime_status(row, now, m->cfg.offline_after_ns,
			&out->status_ns);
	/* a live runtime's status goes by itself after `gone`; a snapshot's
	 * clock stands still */
	out->status_until_ns = !m->parent && row->heartbeat_ns > 0 &&
		now <= gone && !row->revoked_ns ? gone : 0;
}

int model_runtime_row(struct model *m, const char *env, const char *name,
		struct store_runtime *out)
{
	struct store_env e;
	int ret = model_env_row(m, env, &e);

	if (!ret)
		ret = model_name_check("runtime", name);
	if (ret)
		return ret;
	if (model_rows_runtime(m, e.id, name, out)) {
		model_liveness_overlay(m, out);
		return 0;
	}
	ret = store_runtime_get(m->store, e.id, name, out);
	if (!ret) {
		model_rows_keep_runtime(m, out);
		model_liveness_overlay(m, out);
	}
	if (ret == -ENOENT)
		return model_fail(ret, "no runtime '%s' in environment '%s'",
				name, env);
	return ret ? model_fail_store(ret) : 0;
}

int model_runtime_row_first(struct model *m, const char *env,
		const char *name, struct store_runtime *out)
{
	int changing = m->changing, ret;

	m->changing = 0;
	ret = model_runtime_row(m, env, name, out);
	m->changing = changing;
	return ret;
}

int model_runtime_create(struct model *m, const char *env, const char *name,
		const char *project, const char *integration)
{
	struct store_runtime rt;
	struct store_env e = { 0 };
	struct store_integration in = { 0 };
	int64_t now;
	int ret = model_name_check("runtime", name);

	if (ret || (ret = model_begin(m)))
		return ret;
	now = model_now(m);
	memset(&rt, 0, sizeof(rt));
	ret = model_env_row(m, env, &e);
	if (!ret && project && integration) {
		ret = model_integration_row(m, project, integration, &in);
		rt.integration_id = in.id;
		rt.assigned_ns = now;
	}
	if (!ret) {
		model_uuid(rt.uuid);
		rt.env_id = e.id;
		snprintf(rt.name, sizeof(rt.name), "%s", name);
		snprintf(rt.type, sizeof(rt.type), "agent");
		snprintf(rt.desired, sizeof(rt.desired), "run");
		rt.desired_ns = now;
		rt.registered_ns = now;
		rt.info_ns = now;
		if (!rt.assigned_ns)
			rt.assigned_ns = now;
		ret = store_runtime_insert(m->store, &rt);
		if (ret == -EEXIST)
			ret = model_fail(ret, "runtime '%s' already exists in"
					" environment '%s'", name, env);
		else if (ret)
			ret = model_fail_store(ret);
	}
	if (!ret)
		ret = model_service_account_create(m, rt.id);
	if (!ret) {
		snprintf(rt.env, sizeof(rt.env), "%s", env);
		if (in.id) {
			snprintf(rt.project, sizeof(rt.project), "%s",
					project);
			snprintf(rt.integration, sizeof(rt.integration),
					"%s", integration);
		}
		model_note_runtime(m, &rt, MODEL_RT_MADE, NULL);
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_MEMBERS, env, NULL,
				NULL, NULL);
		model_note_views(m, &rt, NULL);
		ret = model_event(m, "runtime.created", AT_RUNTIME(&rt), 0,
				NULL, "\"type\":\"%s\"", rt.type);
	}
	return model_end(m, ret);
}

int model_runtime_assign(struct model *m, const char *env, const char *name,
		const char *project, const char *integration)
{
	struct store_runtime rt;
	struct store_integration in;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && strcmp(rt.type, "agent"))
		ret = model_fail(-EPERM, "runtime '%s' is of type %s: its"
				" integration comes from its heartbeats", name,
				rt.type);
	if (!ret)
		ret = model_integration_row(m, project, integration, &in);
	if (!ret && rt.integration_id == in.id)
		ret = model_fail(-EEXIST, "runtime '%s' already belongs to"
				" integration '%s'", name, integration);
	if (!ret && (ret = store_runtime_set_integration(m->store, rt.id,
			in.id, model_now(m))))
		ret = model_fail_store(ret);
	/* its link in the old integration's views goes, one comes in the
	 * new one's */
	if (!ret) {
		model_note_runtime(m, &rt, MODEL_RT_ASSIGNED, NULL);
		model_note_views(m, &rt, rt.name);
		model_note(m, MODEL_EV_VIEW, 0, project, integration, rt.env,
				NULL);
		ret = model_event(m, "runtime.assigned", AT_RUNTIME(&rt), 0,
				NULL, "\"project\":\"%s\",\"integration\":"
				"\"%s\"", project, integration);
	}
	return model_end(m, ret);
}

int model_runtime_delete(struct model *m, const char *env, const char *name)
{
	struct store_runtime rt;
	int64_t since;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && !strcmp(model_runtime_status(&rt, model_now(m),
			m->cfg.offline_after_ns, &since), "RUNNING"))
		ret = model_fail(-EBUSY, "runtime '%s' is RUNNING; stop it"
				" first (echo stop > ctl)", name);
	if (!ret)
		ret = model_endpoint_others(m, &rt);
	if (!ret && (ret = store_runtime_delete(m->store, rt.id)))
		ret = model_fail_store(ret);
	if (!ret) {
		model_note_runtime(m, &rt, MODEL_RT_GONE, NULL);
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_MEMBERS, env, NULL,
				NULL, NULL);
		model_note_views(m, &rt, rt.name);
		ret = model_event(m, "runtime.deleted", AT_RUNTIME(&rt), 0,
				NULL, NULL);
	}
	return model_end(m, ret);
}

int model_runtime_get(struct model *m, const char *env, const char *name,
		struct model_runtime *out)
{
	struct store_runtime rt;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		runtime_copy(m, out, &rt);
	model_unlock(m);
	return ret;
}

struct runtime_walk {
	struct model *m;
	model_runtime_cb cb;
	void *ctx;
};

static int runtime_each(void *ctx, const struct store_runtime *row)
{
	struct runtime_walk *w = ctx;
	struct model_runtime out;
	struct store_runtime r = *row;

	model_liveness_overlay(w->m, &r);
	runtime_copy(w->m, &out, &r);
	return w->cb(w->ctx, &out);
}

int model_runtime_list(struct model *m, const struct model_runtime_filter *f,
		model_runtime_cb cb, void *ctx)
{
	struct runtime_walk w = { m, cb, ctx };
	struct store_runtime_filter sf = { 0 };
	struct store_env e = { 0 };
	struct store_project p = { 0 };
	struct store_integration in = { 0 };
	int ret;

	model_lock(m);
	ret = model_env_row(m, f->env, &e);
	sf.env_id = e.id;
	if (!ret && f->project && !f->integration) {
		ret = model_project_row(m, f->project, &p);
		sf.project_id = p.id;
	}
	if (!ret && f->project && f->integration) {
		ret = model_integration_row(m, f->project, f->integration,
				&in);
		sf.integration_id = in.id;
	}
	if (!ret)
		ret = store_runtime_list(m->store, &sf, runtime_each, &w);
	model_unlock(m);
	return ret;
}
