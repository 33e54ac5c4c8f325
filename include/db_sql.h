/* Column lists shared by the db_<entity>.c files, so every route answers the same shapes. */
#ifndef VS_DB_SQL_H
#define VS_DB_SQL_H

#define DB_BIKE_COLS                                                                     \
	"b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model, " \
	"b.purchase_date, b.purchase_price, b.initial_kilometrage, b.total_kilometrage, "   \
	"b.total_moving_time_s, b.metadata, b.is_active"

#define DB_PART_COLS                                                                     \
	"p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, p.model, " \
	"p.purchase_date, p.purchase_price, p.initial_kilometrage, p.total_kilometrage, "   \
	"p.total_moving_time_s, p.metadata, p.current_bike_id, p.status, p.retired_at, "     \
	"p.retire_reason"

#define DB_MAINT_COLS                                                                    \
	"m.id, m.created_at, m.updated_at, m.user_id, m.bike_id, m.part_id, "              \
	"m.maintenance_type, m.description, m.performed_at, m.cost, m.metadata, m.interval_id"

#define DB_INST_COLS "i.id, i.created_at, i.part_id, i.bike_id, i.installed_at, i.removed_at"

/* Parts installed now on the bikes selected by WHERE_BIKE (a condition on i.bike_id), read
 * from the tables rather than part_v: its join for current_bike_id would look up the same
 * open installation a second time. */
#define DB_PARTS_INSTALLED(WHERE_BIKE)                                                   \
	"SELECT p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, "     \
	"p.model, p.purchase_date, p.purchase_price, p.initial_kilometrage, "               \
	"p.total_kilometrage, p.total_moving_time_s, p.metadata, "                           \
	"i.bike_id AS current_bike_id, 'installed' AS status, p.retired_at, "              \
	"p.retire_reason, i.id AS \"installation.id\", "                                   \
	"i.installed_at AS \"installation.installed_at\" "                                 \
	"FROM vehicles.part_installation i JOIN vehicles.user_part p "                     \
	"ON p.id = i.part_id WHERE i.removed_at IS NULL AND " WHERE_BIKE                   \
	" ORDER BY i.installed_at DESC, p.id"

/* Whole UTC days since purchase_date, or since created_at where there is none; >= 0. */
#define DB_DAYS_OWNED(T)                                                                 \
	"greatest(0, CASE WHEN " T ".purchase_date IS NOT NULL"                           \
	" THEN (now() AT TIME ZONE 'UTC')::date - " T ".purchase_date"                     \
	" ELSE floor(extract(epoch FROM now() - " T ".created_at) / 86400)::integer END)"

/* What every transaction runs under, set transaction-locally in its first statement (no
 * extra round trip or statement) so that it also holds through a transaction pooler, where
 * session settings would leak to other clients or vanish: the formats db_json_row expects,
 * and bounds on how long a statement may run and wait for a lock ($1, $2: ms). The
 * connection check ends a statement whose client is gone (a worker killed at a stop's
 * deadline): without it, a write waiting on a row lock would run, and commit, once the
 * lock was free. */
#define DB_LOCAL_SETTINGS                                                                    \
	"set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),"       \
	" set_config('idle_in_transaction_session_timeout', '30s', true),"                      \
	" set_config('client_connection_check_interval', '" DB_CLIENT_CHECK_MS "', true),"     \
	" set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),"     \
	" set_config('IntervalStyle', 'postgres', true)"
/* ...and who the statements run as: the caller's role ($3) and claims ($4), as PostgREST
 * does. The sub ($5) goes in request.jwt.claim.sub as well, which auth.uid() (Supabase's,
 * and ours) reads before it would parse the claims' JSON: every policy and function asks
 * for it. */
#define DB_CLAIMS_SQL                                                                        \
	"SELECT " DB_LOCAL_SETTINGS ", set_config('role', $3, true),"                           \
	" set_config('request.jwt.claims', $4, true), set_config('request.jwt.claim.sub', $5, true)"

/* Whole days since the timestamp AT, null when it is null; >= 0. */
#define DB_DAYS_SINCE(AT)                                                                \
	"CASE WHEN " AT " IS NULL THEN NULL"                                              \
	" ELSE greatest(0, floor(extract(epoch FROM now() - " AT ") / 86400))::integer END"

#endif
