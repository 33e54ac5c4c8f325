# shellcheck shell=bash
# The whole local stack, for scripts/run, scripts/test and bench/run: sources
# every part and stops them together. Each part is a file of its own:
#
#   common.sh   logging, configuration defaults and checks, the service user,
#               $VAR_DIR's directories, the lock
#   procs.sh    pid checks, descendants, stop with a deadline
#   orphans.sh  leftovers of a crashed run that no pid file names
#   pg.sh       PostgreSQL: embedded cluster in $VAR_DIR/pg, Unix socket only
#               (skipped when DATABASE_URL is set)
#   migrate.sh  vehicle-migrate $SQL_DIR
#   workers.sh  spawn-fcgi binds $FCGI_SOCKET, the prefork master keeps $WORKERS
#               vehicle-worker processes alive on it
#   nginx.sh    $VAR_DIR/nginx/nginx.conf rendered from nginx/nginx.conf.in
#
# scripts/container-entry sources only what it calls (no cluster, no orphans).
# Settings: the header of common.sh.
#
# Usage (bash, set -euo pipefail):
#   ROOT=/abs/repo; . "$ROOT/scripts/lib/stack.sh"
#   stack_config; stack_workers_check; stack_lock; stack_stop  # the last one clears a crashed run
#   stack_pg_start; stack_migrate; stack_workers_start FILE|-; stack_nginx_start
#   ...; stack_stop
#
# Everything the stack writes lives under $VAR_DIR.

: "${ROOT:?ROOT must be set before sourcing scripts/lib/stack.sh}"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/procs.sh
. "$ROOT/scripts/lib/procs.sh"
# shellcheck source=scripts/lib/orphans.sh
. "$ROOT/scripts/lib/orphans.sh"
# shellcheck source=scripts/lib/pg.sh
. "$ROOT/scripts/lib/pg.sh"
# shellcheck source=scripts/lib/migrate.sh
. "$ROOT/scripts/lib/migrate.sh"
# shellcheck source=scripts/lib/workers.sh
. "$ROOT/scripts/lib/workers.sh"
# shellcheck source=scripts/lib/nginx.sh
. "$ROOT/scripts/lib/nginx.sh"

# Stop in dependency order: nginx stops taking requests, the workers finish
# theirs, then the database goes. Safe to call twice, and on a crashed run's
# leftovers (pid files are checked against the live process). Returns 1 when
# nginx or the workers ignored the stop signal and had to be killed.
stack_stop() {
	local rc=0
	stack_stop_begin
	stack_nginx_stop || rc=1
	stack_workers_stop || rc=1
	stack_stop_end
	stack_orphans_stop
	stack_pg_stop || true
	return $rc
}
