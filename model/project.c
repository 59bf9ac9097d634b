/*
 * project.c - projects and their integrations.  Both are plain containers:
 * created empty, deleted only when empty.
 */
#include "model_int.h"

#include <errno.h>
#include <string.h>

int model_project_row(struct model *m, const char *name,
		struct store_project *out)
{
	int ret = model_name_check("project", name);

	if (ret)
		return ret;
	ret = store_project_get(m->store, name, out);
	if (ret == -ENOENT)
		return model_fail(ret, "no project '%s'", name);
	return ret ? model_fail_store(ret) : 0;
}

int model_integration_row(struct model *m, const char *project,
		const char *name, struct store_integration *out)
{
	struct store_project p;
	int ret = model_project_row(m, project, &p);

	if (!ret)
		ret = model_name_check("integration", name);
	if (ret)
		return ret;
	ret = store_integration_get(m->store, p.id, name, out);
	if (ret == -ENOENT)
		return model_fail(ret, "no integration '%s' in project '%s'",
				name, project);
	return ret ? model_fail_store(ret) : 0;
}

int model_project_create(struct model *m, const char *name)
{
	int ret = model_name_check("project", name);

	if (ret || (ret = model_begin(m)))
		return ret;
	ret = store_project_insert(m->store, name, model_now(m));
	if (ret == -EEXIST)
		ret = model_fail(ret, "project '%s' already exists", name);
	else if (ret)
		ret = model_fail_store(ret);
	else
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_MADE, name, NULL,
				NULL, NULL);
	if (!ret)
		ret = model_event(m, "project.created", AT_PROJECT(name), 0,
				NULL, NULL);
	return model_end(m, ret);
}

int model_project_delete(struct model *m, const char *name)
{
	struct store_project p;
	int64_t n = 0;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_project_row(m, name, &p);
	if (!ret && (ret = store_project_children(m->store, p.id, &n)))
		ret = model_fail_store(ret);
	if (!ret && n > 0)
		ret = model_fail(-ENOTEMPTY, "project '%s' is not empty: it"
				" has %lld integration(s)", name,
				(long long)n);
	if (!ret && (ret = store_project_delete(m->store, p.id)))
		ret = model_fail_store(ret);
	if (!ret)
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_GONE, name, NULL,
				NULL, NULL);
	if (!ret)
		ret = model_event(m, "project.deleted", AT_PROJECT(name), 0,
				NULL, NULL);
	return model_end(m, ret);
}

int model_project_get(struct model *m, const char *name,
		struct model_project *out)
{
	struct store_project p;
	int ret;

	model_lock(m);
	ret = model_project_row(m, name, &p);
	model_unlock(m);
	if (!ret) {
		memcpy(out->name, p.name, sizeof(out->name));
		out->created_ns = p.created_ns;
		snprintf(out->display, sizeof(out->display), "%s",
				*p.display ? p.display : p.name);
	}
	return ret;
}

struct project_walk {
	model_project_cb cb;
	void *ctx;
};

static int project_each(void *ctx, const struct store_project *p)
{
	struct project_walk *w = ctx;
	struct model_project out;

	memcpy(out.name, p->name, sizeof(out.name));
	out.created_ns = p->created_ns;
	snprintf(out.display, sizeof(out.display), "%s",
			*p->display ? p->display : p->name);
	return w->cb(w->ctx, &out);
}

int model_project_list(struct model *m, model_project_cb cb, void *ctx)
{
	struct project_walk w = { cb, ctx };
	int ret;

	model_lock(m);
	ret = store_project_list(m->store, project_each, &w);
	model_unlock(m);
	return ret;
}

static void integration_copy(struct model_integration *out,
		const struct store_integration *in)
{
	memcpy(out->project, in->project, sizeof(out->project));
	memcpy(out->name, in->name, sizeof(out->name));
	memcpy(out->type, in->type, sizeof(out->type));
	out->created_ns = in->created_ns;
	out->mtime_ns = in->mtime_ns;
	snprintf(out->display, sizeof(out->display), "%s",
			*in->display ? in->display : in->name);
}

int model_integration_create(struct model *m, const char *project,
		const char *name)
{
	struct store_project p;
	int ret = model_name_check("integration", name);

	if (ret || (ret = model_begin(m)))
		return ret;
	ret = model_project_row(m, project, &p);
	if (!ret) {
		ret = store_integration_insert(m->store, p.id, name, "default",
				model_now(m));
		if (ret == -EEXIST)
			ret = model_fail(ret, "integration '%s' already"
					" exists in project '%s'", name,
					project);
		else if (ret)
			ret = model_fail_store(ret);
	}
	if (!ret) {
		model_note(m, MODEL_EV_INTEGRATION, MODEL_OBJ_MADE, project,
				name, NULL, NULL);
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_MEMBERS, project,
				NULL, NULL, NULL);
		ret = model_event(m, "integration.created",
				AT_INTEGRATION(project, name), 0, NULL,
				"\"type\":\"default\"");
	}
	return model_end(m, ret);
}

int model_integration_delete(struct model *m, const char *project,
		const char *name)
{
	struct store_integration in;
	int64_t n = 0;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_integration_row(m, project, name, &in);
	if (!ret && (ret = store_integration_children(m->store, in.id, &n)))
		ret = model_fail_store(ret);
	if (!ret && n > 0)
		ret = model_fail(-ENOTEMPTY, "integration '%s' is not empty:"
				" it has %lld runtime(s) or secret(s)", name,
				(long long)n);
	if (!ret && (ret = store_integration_delete(m->store, in.id)))
		ret = model_fail_store(ret);
	if (!ret) {
		model_note(m, MODEL_EV_INTEGRATION, MODEL_OBJ_GONE, project,
				name, NULL, NULL);
		model_note(m, MODEL_EV_PROJECT, MODEL_OBJ_MEMBERS, project,
				NULL, NULL, NULL);
		ret = model_event(m, "integration.deleted",
				AT_INTEGRATION(project, name), 0, NULL, NULL);
	}
	return model_end(m, ret);
}

int model_integration_get(struct model *m, const char *project,
		const char *name, struct model_integration *out)
{
	struct store_integration in;
	int ret;

	model_lock(m);
	ret = model_integration_row(m, project, name, &in);
	model_unlock(m);
	if (!ret)
		integration_copy(out, &in);
	return ret;
}

struct integration_walk {
	model_integration_cb cb;
	void *ctx;
};

static int integration_each(void *ctx, const struct store_integration *in)
{
	struct integration_walk *w = ctx;
	struct model_integration out;

	integration_copy(&out, in);
	return w->cb(w->ctx, &out);
}

int model_integration_list(struct model *m, const char *project,
		model_integration_cb cb, void *ctx)
{
	struct integration_walk w = { cb, ctx };
	struct store_project p;
	int ret;

	model_lock(m);
	ret = model_project_row(m, project, &p);
	if (!ret)
		ret = store_integration_list(m->store, p.id, integration_each,
				&w);
	model_unlock(m);
	return ret;
}

int model_integration_set_type(struct model *m, const char *project,
		const char *name, const char *value)
{
	struct store_integration in;
	int ret;

	if (strcmp(value, "default") && strcmp(value, "MI"))
		return model_fail(-EINVAL, "integration type takes 'default'"
				" or 'MI', not '%.40s'", value);
	if ((ret = model_begin(m)))
		return ret;
	ret = model_integration_row(m, project, name, &in);
	if (!ret && strcmp(in.type, value) &&
	    (ret = store_integration_set_type(m->store, in.id, value,
			model_now(m))))
		ret = model_fail_store(ret);
	else if (!ret && strcmp(in.type, value)) {
		model_note(m, MODEL_EV_INTEGRATION, MODEL_OBJ_VALUES, project,
				name, NULL, NULL);
		ret = model_event(m, "integration.type",
				AT_INTEGRATION(project, name), 0, NULL,
				"\"from\":\"%s\",\"to\":\"%s\"", in.type,
				value);
	}
	return model_end(m, ret);
}
