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

/* Whole days since the timestamp AT, null when it is null; >= 0. */
#define DB_DAYS_SINCE(AT)                                                                \
	"CASE WHEN " AT " IS NULL THEN NULL"                                              \
	" ELSE greatest(0, floor(extract(epoch FROM now() - " AT ") / 86400))::integer END"

#endif
