# shellcheck shell=bash
# Schema and SQL functions: `vehicle-migrate SQL_DIR` applies what is pending of
# $SQL_DIR/migrations and $SQL_DIR/functions to DATABASE_URL, or to
# MIGRATE_DATABASE_URL when that is set (see scripts/lib/common.sh).
# Needs scripts/lib/common.sh.

stack_migrate() {
	local via=DATABASE_URL
	[ -x "$MIGRATE_BIN" ] || stack_die "no $MIGRATE_BIN (run scripts/build)"
	[ -d "$SQL_DIR/migrations" ] || stack_die "no migrations/ in SQL_DIR=$SQL_DIR"
	# The workers use the embedded cluster: migrating another database would
	# leave theirs empty.
	if [ -n "${MIGRATE_DATABASE_URL:-}" ] && [ "${STACK_PG_EMBEDDED:-0}" = 1 ]; then
		stack_warn "MIGRATE_DATABASE_URL ignored: migrating the embedded PostgreSQL"
		unset MIGRATE_DATABASE_URL
	fi
	# Empty counts as unset, as for the other settings.
	if [ -n "${MIGRATE_DATABASE_URL:-}" ]; then
		export MIGRATE_DATABASE_URL
		via=MIGRATE_DATABASE_URL
	else
		unset MIGRATE_DATABASE_URL
	fi
	stack_log "applying migrations and functions from $SQL_DIR (through $via)"
	"$MIGRATE_BIN" "$SQL_DIR" || stack_die "vehicle-migrate failed"
}
