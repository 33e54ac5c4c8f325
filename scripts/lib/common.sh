# shellcheck shell=bash
# shellcheck disable=SC2034 # STACK_*, *_DIR, *_BIN: read by the other lib files and the sourcing scripts
# What every script of the stack needs: logging, the configuration (defaults and
# validation), the service user, the directories under $VAR_DIR, and the lock.
# Sourced by scripts/lib/stack.sh and by scripts/container-entry.
#
# Settings (environment; the README's table has them all):
#   VAR_DIR        everything the stack writes (default var)
#   BUILD_DIR      where WORKER_BIN / MIGRATE_BIN are found (default build)
#   SQL_DIR        what vehicle-migrate applies: a directory holding migrations/
#                  and functions/ (default sql; the image: /app/sql)
#   DATABASE_URL   the database; unset: the embedded cluster (scripts/lib/pg.sh)
#   MIGRATE_DATABASE_URL  when set, vehicle-migrate connects there instead of to
#                  DATABASE_URL: the direct connection its advisory lock needs when
#                  DATABASE_URL is a transaction pooler (ignored with the embedded
#                  cluster). The workers always use DATABASE_URL.
#   VEHICLE_ENV    development (default) or production; production's rules on
#                  SUPABASE_JWT_SECRET / SUPABASE_JWKS are the worker's
#                  (src/config.c), checked by stack_workers_check
#   PORT, LISTEN_ADDR, WORKERS, FCGI_SOCKET, CORS_ORIGINS, RATE_*, INTERNAL_ALLOW,
#   REAL_IP_*, NGINX_*_LOG, STOP_TIMEOUT, SVC_USER: see stack_config below.
#   nginx's sizing (each knob is explained where it is used, nginx/nginx.conf.in):
#   NGINX_WORKER_CONNECTIONS  connections per nginx process (default 4096)
#   NGINX_RLIMIT_NOFILE       nginx's open-file limit (default 2 per connection + 256)
#   NGINX_LISTEN_BACKLOG      the client listen queue (default 4096; the kernel caps it
#                             at net.core.somaxconn)
#   FCGI_QUEUE_PER_WORKER     requests per worker in the pool at once, served or queued
#                             (default 256): the upstream's max_conns is WORKERS times it
#   QUEUE_WAIT_MS             a request that waited longer for a worker gets 503
#                             (default 1000; 0: no bound)
#
# When run as root, postgres, the workers and nginx run as the unprivileged user
# $SVC_USER (default `vehicle`, created if missing); otherwise as the current user.

# Supabase's local-development default (supabase start); public, never for
# production. The same text as CONFIG_DEV_JWT_SECRET in include/config.h (the
# worker's default and its production refusal): change both together.
STACK_DEV_JWT_SECRET='super-secret-jwt-token-with-at-least-32-characters-long'
# The fd that holds $VAR_DIR/.lock; closed for every long-lived child so that an
# orphan left by a crashed run does not keep the lock.
STACK_LOCK_FD=9

stack_log() { printf '%s: %s\n' "${STACK_NAME:-stack}" "$*" >&2; }
stack_warn() { stack_log "WARNING: $*"; }
stack_die() {
	stack_log "error: $*"
	exit 1
}

stack_is_uint() {
	case ${1:-} in '' | *[!0-9]*) return 1 ;; esac
}

# Absolute path; relative ones are taken from the repository root.
stack_abs() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$ROOT/$1" ;;
	esac
}

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

stack_config() {
	: "${ROOT:?ROOT must be set before sourcing scripts/lib/common.sh}"
	# Directories made here must be traversable by the service user.
	umask 022
	# `cmd &` must not get its own process group, or setsid would fork and $!
	# would no longer be the server's pid (job control is off in scripts anyway).
	set +m

	VEHICLE_ENV=${VEHICLE_ENV:-development}
	case $VEHICLE_ENV in
	production | development) ;;
	*) stack_die "VEHICLE_ENV must be 'production' or 'development', not '$VEHICLE_ENV'" ;;
	esac
	export VEHICLE_ENV
	# A leftover setting would otherwise be ignored without a word.
	[ -z "${MIGRATIONS_DIR:-}" ] ||
		stack_die "MIGRATIONS_DIR is no longer read: set SQL_DIR to the directory holding migrations/ and functions/"

	VAR_DIR=$(stack_abs "${VAR_DIR:-var}")
	stack_user
	# A checkout the service user cannot enter (as root under /root, mode 0700):
	# the stack's state moves where it can (stack_relocate).
	stack_relocate
	RUN_DIR=$VAR_DIR/run
	LOG_DIR=$VAR_DIR/log
	NGINX_DIR=$VAR_DIR/nginx
	PG_DATA_DIR=$VAR_DIR/pg
	BUILD_DIR=$(stack_abs "${BUILD_DIR:-build}")
	WORKER_BIN=$(stack_abs "${WORKER_BIN:-$BUILD_DIR/vehicle-worker}")
	MIGRATE_BIN=$(stack_abs "${MIGRATE_BIN:-$BUILD_DIR/vehicle-migrate}")
	SQL_DIR=$(stack_abs "${SQL_DIR:-sql}")
	NGINX_TEMPLATE=$(stack_abs "${NGINX_TEMPLATE:-nginx/nginx.conf.in}")
	NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
	PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
	PG_PORT=${PG_PORT:-5433}
	PORT=${PORT:-3003}
	LISTEN_ADDR=${LISTEN_ADDR:-127.0.0.1}
	WORKERS=${WORKERS:-4}
	FCGI_SOCKET=$(stack_abs "${FCGI_SOCKET:-$RUN_DIR/fcgi.sock}")
	CORS_ORIGINS=${CORS_ORIGINS:-http://localhost:3000}
	RATE_WRITE=${RATE_WRITE:-100r/m}
	RATE_BURST_WRITE=${RATE_BURST_WRITE:-20}
	RATE_READ=${RATE_READ:-300r/m}
	RATE_BURST_READ=${RATE_BURST_READ:-50}
	RATE_ANON=${RATE_ANON:-60r/m}
	RATE_BURST_ANON=${RATE_BURST_ANON:-20}
	RATE_ADDR=${RATE_ADDR:-1200r/m}
	RATE_BURST_ADDR=${RATE_BURST_ADDR:-200}
	INTERNAL_ALLOW=${INTERNAL_ALLOW:-127.0.0.1 ::1}
	REAL_IP_FROM=${REAL_IP_FROM:-}
	REAL_IP_HEADER=${REAL_IP_HEADER:-X-Forwarded-For}
	NGINX_ERROR_LOG=${NGINX_ERROR_LOG:-stderr}
	NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-$LOG_DIR/access.log}
	STOP_TIMEOUT=${STOP_TIMEOUT:-10}
	NGINX_WORKER_CONNECTIONS=${NGINX_WORKER_CONNECTIONS:-4096}
	NGINX_RLIMIT_NOFILE=${NGINX_RLIMIT_NOFILE:-}
	NGINX_LISTEN_BACKLOG=${NGINX_LISTEN_BACKLOG:-4096}
	FCGI_QUEUE_PER_WORKER=${FCGI_QUEUE_PER_WORKER:-256}
	QUEUE_WAIT_MS=${QUEUE_WAIT_MS:-1000}

	stack_config_check
	stack_secrets
	stack_svc_paths
}

# The numbers, rates and socket paths stack_config settled on.
stack_config_check() {
	local v
	for v in PORT PG_PORT WORKERS STOP_TIMEOUT RATE_BURST_WRITE RATE_BURST_READ RATE_BURST_ANON RATE_BURST_ADDR \
		NGINX_WORKER_CONNECTIONS NGINX_LISTEN_BACKLOG FCGI_QUEUE_PER_WORKER QUEUE_WAIT_MS; do
		stack_is_uint "${!v}" || stack_die "$v must be a whole number, not '${!v}'"
	done
	[ -z "$NGINX_RLIMIT_NOFILE" ] || stack_is_uint "$NGINX_RLIMIT_NOFILE" ||
		stack_die "NGINX_RLIMIT_NOFILE must be a whole number, not '$NGINX_RLIMIT_NOFILE'"
	if [ "$NGINX_WORKER_CONNECTIONS" -lt 64 ] || [ "$NGINX_WORKER_CONNECTIONS" -gt 1048576 ]; then
		stack_die "NGINX_WORKER_CONNECTIONS must be 64..1048576, not $NGINX_WORKER_CONNECTIONS"
	fi
	if [ "$NGINX_LISTEN_BACKLOG" -lt 16 ] || [ "$NGINX_LISTEN_BACKLOG" -gt 65535 ]; then
		stack_die "NGINX_LISTEN_BACKLOG must be 16..65535, not $NGINX_LISTEN_BACKLOG"
	fi
	if [ "$FCGI_QUEUE_PER_WORKER" -lt 1 ] || [ "$FCGI_QUEUE_PER_WORKER" -gt 4096 ]; then
		stack_die "FCGI_QUEUE_PER_WORKER must be 1..4096, not $FCGI_QUEUE_PER_WORKER"
	fi
	# (the worker reads at most an hour; 0 turns the check off)
	if [ "$QUEUE_WAIT_MS" -gt 3600000 ]; then stack_die "QUEUE_WAIT_MS must be 0..3600000, not $QUEUE_WAIT_MS"; fi
	if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then stack_die "PORT out of range: $PORT"; fi
	if [ "$WORKERS" -lt 1 ] || [ "$WORKERS" -gt 256 ]; then stack_die "WORKERS must be 1..256, not $WORKERS"; fi
	for v in RATE_WRITE RATE_READ RATE_ANON RATE_ADDR; do
		[[ ${!v} =~ ^[1-9][0-9]*r/[sm]$ ]] || stack_die "$v must look like 100r/m or 5r/s, not '${!v}'"
	done
	# sun_path holds 108 bytes; postgres adds "/.s.PGSQL.NNNNN.lock".
	if [ ${#FCGI_SOCKET} -gt 100 ] || [ $((${#RUN_DIR} + 22)) -gt 107 ]; then
		stack_die "VAR_DIR path too long for Unix sockets: $VAR_DIR"
	fi
}

# JWT verification material for the workers. Only development's fallback lives
# here (to the documented local secret, with a warning); what production
# requires and refuses is the worker's rule (src/config.c), run before any
# worker starts by stack_workers_check.
stack_secrets() {
	if [ "$VEHICLE_ENV" != production ]; then
		if [ -z "${SUPABASE_JWT_SECRET:-}" ] && [ -z "${SUPABASE_JWKS:-}" ]; then
			SUPABASE_JWT_SECRET=$STACK_DEV_JWT_SECRET
			stack_warn "SUPABASE_JWT_SECRET and SUPABASE_JWKS unset: using the public local-development secret"
		fi
		# (production refuses it outright)
		if [ -n "${SUPABASE_JWT_SECRET:-}" ] && [ ${#SUPABASE_JWT_SECRET} -lt 32 ]; then
			stack_warn "SUPABASE_JWT_SECRET is shorter than 32 characters"
		fi
	fi
	# Export only what is set, so the worker never sees an empty secret.
	if [ -n "${SUPABASE_JWT_SECRET:-}" ]; then export SUPABASE_JWT_SECRET; else unset SUPABASE_JWT_SECRET; fi
	if [ -n "${SUPABASE_JWKS:-}" ]; then export SUPABASE_JWKS; else unset SUPABASE_JWKS; fi
}

# As root: a system user runs everything (initdb/postgres refuse root, and the
# workers and nginx have no business with it). Otherwise: the current user.
# AS_SVC is a command prefix; it execs, so `"${AS_SVC[@]}" cmd &` keeps $! == cmd's pid.
stack_user() {
	if [ "$(id -u)" -eq 0 ]; then
		SVC_USER=${SVC_USER:-vehicle}
		if ! id -u "$SVC_USER" >/dev/null 2>&1; then
			stack_log "creating system user $SVC_USER"
			useradd --system --user-group --home-dir /nonexistent --no-create-home \
				--shell /usr/sbin/nologin "$SVC_USER"
		fi
		AS_SVC=(setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups --)
	else
		SVC_USER=$(id -un 2>/dev/null || id -u)
		AS_SVC=()
	fi
}

# ---------------------------------------------------------------------------
# A checkout the service user cannot enter
# ---------------------------------------------------------------------------
# As root, PostgreSQL, nginx, redis and the workers run as $SVC_USER, which must
# reach $VAR_DIR and the worker binary. A checkout under a private directory
# (root's natural place, /root, is mode 0700) is out of its reach: then the
# state lives in $SVC_STATE_ROOT/<hash> (default /var/lib/vehicle-dev; the hash
# is of the checkout's var/ path), with the checkout's var/ a symlink to it, and
# the worker runs from a copy of the binary in $SVC_STATE_ROOT/bin-<hash> (root's:
# root runs it too, so the service user must not own it). Everything else the
# stack reads (SQL, the nginx template, migrations) is read by root. A reachable
# checkout, and any run that is not root, is left exactly as it was.

# True when $SVC_USER can reach PATH (or, for a PATH not made yet, its nearest
# existing ancestor): stat through every parent, and enter it if a directory.
stack_svc_reaches() {
	local p=$1
	[ ${#AS_SVC[@]} -gt 0 ] || return 0
	while [ ! -e "$p" ] && [ ! -L "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
	if [ -d "$p" ]; then "${AS_SVC[@]}" test -x "$p"; else "${AS_SVC[@]}" test -e "$p"; fi
}

stack_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# The directory that holds the state of a private checkout's VAR_DIR (a pure
# function of the path: scripts/dev-token finds it the same way).
stack_state_for() {
	printf '%s/%s\n' "${SVC_STATE_ROOT:-/var/lib/vehicle-dev}" "$(stack_hash "$(realpath -m -- "$1")")"
}

# stack_note_checkout DIR PATH: DIR/.checkout names the checkout a state directory
# belongs to. DIR is the service user's: root never writes through a name it could
# have planted (a symlink to /etc/shadow), so the old file goes and the new one is
# made with O_EXCL (noclobber), which refuses anything in its way.
stack_note_checkout() {
	rm -f -- "$1/.checkout"
	( set -o noclobber && printf '%s\n' "$2" >"$1/.checkout" ) 2>/dev/null ||
		stack_warn "could not write $1/.checkout"
}

# Sets VAR_DIR to a directory $SVC_USER reaches; STACK_VAR_GIVEN keeps the path
# it was given (stack_svc_paths moves the settings that name paths under it).
stack_relocate() {
	local real top base
	STACK_VAR_GIVEN=$VAR_DIR
	stack_svc_reaches "$VAR_DIR" && return 0
	# Through a symlink made by an earlier run (var/ -> the state directory).
	real=$(realpath -m -- "$VAR_DIR")
	if stack_svc_reaches "$real"; then
		VAR_DIR=$real
		return 0
	fi
	local state_root=${SVC_STATE_ROOT:-/var/lib/vehicle-dev}
	mkdir -p "$state_root"
	chmod 0755 "$state_root"
	stack_svc_reaches "$state_root" ||
		stack_die "$SVC_USER cannot reach $VAR_DIR (a parent directory is private) nor $state_root: set SVC_STATE_ROOT"
	top=$(realpath -m -- "$ROOT/var")
	if { [ "$real" = "$top" ] || [[ $real == "$top"/* ]]; } && [ ! -e "$ROOT/var" ] && [ ! -L "$ROOT/var" ]; then
		# A fresh checkout: var/ itself becomes the symlink, so every VAR_DIR
		# under it (var/test, ...) is reachable from now on.
		base=$(stack_state_for "$top")
		mkdir -p "$base"
		ln -s "$base" "$ROOT/var" 2>/dev/null || [ "$(readlink "$ROOT/var")" = "$base" ] ||
			stack_die "cannot make $ROOT/var a symlink to $base"
		stack_note_checkout "$base" "$ROOT"
		VAR_DIR=$base${real#"$top"}
		stack_log "$SVC_USER cannot enter $ROOT (a private parent directory): var/ is a symlink to $base"
		return 0
	fi
	base=$(stack_state_for "$real")
	mkdir -p "$base"
	stack_note_checkout "$base" "$real"
	if [ ! -e "$real" ] && [ ! -L "$real" ]; then
		mkdir -p "$(dirname "$real")"
		ln -s "$base" "$real" 2>/dev/null || [ "$(readlink "$real")" = "$base" ] ||
			stack_die "cannot make $real a symlink to $base"
		stack_log "$SVC_USER cannot reach $real (a private parent directory): it is a symlink to $base"
	else
		stack_log "$SVC_USER cannot reach $real (a private parent directory): the stack's state is in $base"
	fi
	VAR_DIR=$base
}

# After stack_relocate: the settings that name a path under the VAR_DIR given
# follow it, and the worker binary is copied where $SVC_USER can run it.
stack_svc_paths() {
	local name v
	STACK_WORKER_SRC=${STACK_WORKER_SRC:-}
	[ ${#AS_SVC[@]} -gt 0 ] || return 0
	if [ "$VAR_DIR" != "$STACK_VAR_GIVEN" ]; then
		for name in NGINX_ACCESS_LOG NGINX_ERROR_LOG FCGI_SOCKET WORKERS_FILE METRICS_SOCKET SUPABASE_JWKS WORKER_LOG; do
			v=${!name:-}
			if [ "$v" = "$STACK_VAR_GIVEN" ] || [[ $v == "$STACK_VAR_GIVEN"/* ]]; then
				printf -v "$name" '%s' "$VAR_DIR${v#"$STACK_VAR_GIVEN"}"
			fi
		done
	fi
	if [ -x "$WORKER_BIN" ] && ! stack_svc_reaches "$WORKER_BIN"; then
		# Root runs this binary too (--check-config): its copy lives in a directory of
		# root's (0755, beside the state directories), never under VAR_DIR, which is the
		# service user's and where it could swap the file.
		STACK_WORKER_SRC=$WORKER_BIN
		WORKER_BIN=${SVC_STATE_ROOT:-/var/lib/vehicle-dev}/bin-$(stack_hash "$(realpath -m -- "$STACK_WORKER_SRC")")/vehicle-worker
	fi
	stack_svc_bin
}

# The copy of the worker binary, made again whenever the build changed (at each
# start, and at a reload: stack_dirs), so a new build takes effect as it would
# in place. (Renamed over: the running workers keep their file.)
stack_svc_bin() {
	[ -n "${STACK_WORKER_SRC:-}" ] && [ -x "$STACK_WORKER_SRC" ] || return 0
	cmp -s "$STACK_WORKER_SRC" "$WORKER_BIN" && return 0
	mkdir -p "$(dirname "$WORKER_BIN")"
	chown root: "$(dirname "$WORKER_BIN")" 2>/dev/null || true
	chmod 0755 "$(dirname "$WORKER_BIN")"
	rm -f -- "$WORKER_BIN.tmp"
	cp -- "$STACK_WORKER_SRC" "$WORKER_BIN.tmp"
	chmod 0755 "$WORKER_BIN.tmp"
	mv -f -- "$WORKER_BIN.tmp" "$WORKER_BIN"
}

# Directories the service user writes to.
stack_dirs() {
	local d
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR"/tmp/{body,fastcgi,proxy,scgi,uwsgi}
	# They belong to the service user once made: root changes them only when none is a
	# symlink it could have planted (chmod and chown would follow it, e.g. to /etc).
	for d in "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR" "$NGINX_DIR"/tmp "$NGINX_DIR"/tmp/*; do
		[ ! -L "$d" ] || stack_die "$d is a symlink; remove it (the stack makes its own directories)"
	done
	# The run dir holds the trust-auth postgres socket and the FastCGI socket:
	# nobody but the service user (and root) goes in.
	chmod 0700 "$RUN_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chown -h "$SVC_USER:" "$VAR_DIR" "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR" \
			"$NGINX_DIR"/tmp "$NGINX_DIR"/tmp/*
		# (stack_relocate made VAR_DIR reachable; this catches what it cannot
		# know, e.g. a VAR_DIR given on a file system mounted noexec for others.)
		"${AS_SVC[@]}" test -w "$RUN_DIR" ||
			stack_die "$SVC_USER cannot reach $RUN_DIR (is a parent directory private? see SVC_STATE_ROOT)"
	fi
	stack_svc_bin
}

# One stack per VAR_DIR at a time. The lock dies with this shell, so a crashed
# run leaves no stale lock; a live one makes a second start fail clearly.
stack_lock() {
	mkdir -p "$VAR_DIR"
	eval "exec $STACK_LOCK_FD>>\"\$VAR_DIR/.lock\""
	flock -n "$STACK_LOCK_FD" ||
		stack_die "another run or test is using $VAR_DIR (stop it, or set VAR_DIR/PORT for a second stack)"
}
