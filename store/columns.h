/*
 * columns.h - the columns and joins a row of the store is read with, the
 * same SQL on every backend (store_sqlite.c, store_pg.c).
 */
#ifndef STORE_COLUMNS_H
#define STORE_COLUMNS_H

#define RUNTIME_COLUMNS \
	"r.id, r.uuid, r.env_id, e.name, r.name, r.type," \
	" coalesce(r.integration_id, 0), coalesce(p.name, '')," \
	" coalesce(i.name, ''), r.desired, r.desired_ns, r.runtime_version," \
	" r.platform, r.os, r.registered_ns, r.heartbeat_ns, r.running_ns," \
	" r.info_ns, r.assigned_ns, r.latest_version, r.revoked_ns," \
	" coalesce(s.key_id, '')," \
	" coalesce((SELECT v.created_ns FROM version v" \
	"   WHERE v.runtime_id = r.id AND v.number = r.latest_version), 0)," \
	" coalesce(r.key_id, ''), r.hash, r.artifacts, r.artifacts_ns," \
	" r.reported_ns"
#define RUNTIME_FROM \
	" FROM runtime r JOIN env e ON e.id = r.env_id" \
	" LEFT JOIN integration i ON i.id = r.integration_id" \
	" LEFT JOIN project p ON p.id = i.project_id" \
	" LEFT JOIN secret s ON s.key_id = r.key_id"
#define SECRET_COLUMNS \
	"s.id, s.key_id, s.env_id, e.name, coalesce(s.integration_id, 0)," \
	" coalesce(p.name, ''), coalesce(i.name, ''), s.name, s.sealed," \
	" s.created_ns, s.runtime_type, s.bound_ns"
#define SECRET_FROM \
	" FROM secret s JOIN env e ON e.id = s.env_id" \
	" LEFT JOIN integration i ON i.id = s.integration_id" \
	" LEFT JOIN project p ON p.id = i.project_id"

#define ENDPOINT_COLUMNS \
	"id, runtime_id, name, uuid, version, created_ns, updated_ns"

#endif
