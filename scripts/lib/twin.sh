# shellcheck shell=bash
# A second instance of the stack (its own nginx and worker pool, under its own VAR_DIR
# and PORT) on the database the first one uses: what a fleet of machines on one
# PostgreSQL looks like, for scripts/test's cross-instance race run. Each function
# runs in a subshell, so the caller's stack settings stay as they were; the twin's
# processes are found again from the pid files under its VAR_DIR. The settings derived
# from VAR_DIR are unset first, or the twin would take over the first stack's socket
# (and its stop would stop the first stack's processes).
#
#   stack_twin_start NAME PORT LOG   start var/NAME on PORT (DATABASE_URL must be set)
#   stack_twin_stop NAME PORT        stop it (1: something had to be killed)

stack_twin_start() {
	local name=$1 port=$2 log=$3
	[ -n "${DATABASE_URL:-}" ] || stack_die "stack_twin_start: DATABASE_URL is not set"
	(
		unset FCGI_SOCKET WORKERS_FILE METRICS_SOCKET NGINX_CONF STACK_NGINX_PID STACK_WORKERS_PID
		VAR_DIR=$ROOT/var/$name PORT=$port
		NGINX_ERROR_LOG=$ROOT/var/$name/log/nginx-error.log
		NGINX_ACCESS_LOG=$ROOT/var/$name/log/access.log
		METRICS_PORT=$((port + 100))
		stack_config
		stack_stop_begin
		stack_nginx_stop || true
		stack_workers_stop || true
		stack_stop_end
		rm -rf "$LOG_DIR"
		stack_dirs
		stack_workers_start "$log"
		stack_nginx_start
		stack_wait_healthy 20 || stack_die "the second instance on port $port did not answer /health"
	)
}

stack_twin_stop() {
	local name=$1 port=$2
	(
		unset FCGI_SOCKET WORKERS_FILE METRICS_SOCKET NGINX_CONF STACK_NGINX_PID STACK_WORKERS_PID
		VAR_DIR=$ROOT/var/$name PORT=$port METRICS_PORT=$((port + 100))
		stack_config
		local rc=0
		stack_stop_begin
		stack_nginx_stop || rc=1
		stack_workers_stop || rc=1
		stack_stop_end
		exit $rc
	)
}
