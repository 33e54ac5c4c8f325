# shellcheck shell=bash
# shellcheck disable=SC2034 # NGINX_CONF, STACK_NGINX_PID, STACK_FCGI_MAX_CONNS: read by the sourcing scripts
# nginx in front of the workers: $VAR_DIR/nginx/nginx.conf rendered from
# $NGINX_TEMPLATE (nginx/nginx.conf.in), with the njs script beside it
# (shed.js, next to the template), checked, started in the foreground of
# a background job, stopped gracefully.
# Needs scripts/lib/common.sh and scripts/lib/procs.sh (and, to render,
# scripts/lib/workers.sh's stack_metrics_socket).
#   NGINX_JS_MODULE  nginx's JavaScript module (Debian: libnginx-mod-http-js)
#   METRICS_PORT     the Prometheus listener (GET /metrics, proxied to the
#                    master's METRICS_SOCKET): default 9091 with the default
#                    PORT 3003, in general PORT + 6088, so stacks side by side
#                    (scripts/test's, a second instance) never share it
#   METRICS_LISTEN_ADDR  its addresses (default: LISTEN_ADDR's, so [::] too in
#                    the container, which Fly's private network needs)
#   METRICS_ALLOW    addresses or CIDRs that may scrape, matched against the TCP
#                    peer (default "127.0.0.1 ::1"; on Fly add fdaa::/16)
NGINX_JS_MODULE=${NGINX_JS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}

# Escape a value for the right-hand side of a sed s||| command; newlines
# become \n so multi-line blocks can be substituted.
stack_sed_rhs() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//&/\\&}
	s=${s//|/\\|}
	s=${s//$'\n'/\\n}
	printf '%s' "$s"
}

# The words of a comma- and/or space-separated list in STACK_LIST, never
# glob-expanded (CORS_ORIGINS=* must stay a star).
stack_list() {
	local IFS=$', \t\n'
	read -r -a STACK_LIST <<<"$1"
}

# The generated blocks of nginx.conf, from the list settings, each checked
# entry by entry: STACK_NGINX_CORS (map lines), STACK_NGINX_ALLOW (allow lines),
# STACK_NGINX_LISTEN (listen lines), STACK_NGINX_REALIP (one line or empty),
# and the metrics listener's (stack_nginx_metrics).
stack_nginx_blocks() {
	local origin addr addr_re='^[][0-9A-Za-z.:*-]+$' # host, IPv4, [IPv6] or *
	STACK_NGINX_CORS='' STACK_NGINX_ALLOW='' STACK_NGINX_LISTEN='' STACK_NGINX_REALIP=''
	stack_list "$CORS_ORIGINS"
	for origin in "${STACK_LIST[@]}"; do
		[ -n "$origin" ] || continue
		if [ "$origin" = '*' ]; then
			STACK_NGINX_CORS+="        \"~.\" \$http_origin;"$'\n'
		elif [[ $origin =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?$ ]]; then
			STACK_NGINX_CORS+="        \"$origin\" \$http_origin;"$'\n'
		else
			stack_die "CORS_ORIGINS entry '$origin' is not scheme://host[:port] (or *)"
		fi
	done
	stack_list "$INTERNAL_ALLOW"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ ^[0-9A-Fa-f.:/]+$ || $addr = all ]] || stack_die "INTERNAL_ALLOW entry '$addr' is not an address or CIDR"
		STACK_NGINX_ALLOW+="            allow $addr;"$'\n'
	done
	stack_list "$LISTEN_ADDR"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ $addr_re ]] || stack_die "LISTEN_ADDR entry '$addr' is not an address"
		STACK_NGINX_LISTEN+="        listen $addr:$PORT${NGINX_LISTEN_BACKLOG:+ backlog=$NGINX_LISTEN_BACKLOG};"$'\n'
	done
	[ -n "$STACK_NGINX_LISTEN" ] || stack_die "LISTEN_ADDR is empty"
	if [ -n "$REAL_IP_FROM" ]; then
		[[ $REAL_IP_HEADER =~ ^[A-Za-z0-9-]+$ ]] || stack_die "REAL_IP_HEADER '$REAL_IP_HEADER' is not a header name"
		stack_list "$REAL_IP_FROM"
		for addr in "${STACK_LIST[@]}"; do
			[ -n "$addr" ] || continue
			[[ $addr =~ ^[0-9A-Fa-f.:/]+$ ]] || stack_die "REAL_IP_FROM entry '$addr' is not an address or CIDR"
			# Whoever is trusted picks the client address of the per-address
			# limits: the proxy's own addresses only, never every peer.
			[[ $addr == */0 ]] &&
				stack_die "REAL_IP_FROM entry '$addr' trusts every peer to name its own address; list the proxy's addresses"
			STACK_NGINX_REALIP+="set_real_ip_from $addr; "
		done
		STACK_NGINX_REALIP+="real_ip_header $REAL_IP_HEADER; real_ip_recursive on;"
	fi
	stack_nginx_metrics
}

# The metrics listener's settings, defaulted and checked: STACK_NGINX_METRICS_LISTEN
# and STACK_NGINX_METRICS_ALLOW (lines). (Its socket, METRICS_SOCKET, is the
# master's setting: stack_metrics_socket, scripts/lib/workers.sh.)
stack_nginx_metrics() {
	local addr addr_re='^[][0-9A-Za-z.:*-]+$'
	METRICS_PORT=${METRICS_PORT:-$((PORT + 6088))}
	METRICS_LISTEN_ADDR=${METRICS_LISTEN_ADDR:-$LISTEN_ADDR}
	METRICS_ALLOW=${METRICS_ALLOW:-127.0.0.1 ::1}
	STACK_NGINX_METRICS_LISTEN='' STACK_NGINX_METRICS_ALLOW=''
	if ! stack_is_uint "$METRICS_PORT" || [ "$METRICS_PORT" -lt 1 ] || [ "$METRICS_PORT" -gt 65535 ]; then
		stack_die "METRICS_PORT must be a port number, not '$METRICS_PORT'"
	fi
	[ "$METRICS_PORT" != "$PORT" ] || stack_die "METRICS_PORT must differ from PORT ($PORT)"
	stack_list "$METRICS_LISTEN_ADDR"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ $addr_re ]] || stack_die "METRICS_LISTEN_ADDR entry '$addr' is not an address"
		STACK_NGINX_METRICS_LISTEN+="        listen $addr:$METRICS_PORT;"$'\n'
	done
	[ -n "$STACK_NGINX_METRICS_LISTEN" ] || stack_die "METRICS_LISTEN_ADDR is empty"
	stack_list "$METRICS_ALLOW"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ ^[0-9A-Fa-f.:/]+$ || $addr = all ]] || stack_die "METRICS_ALLOW entry '$addr' is not an address or CIDR"
		STACK_NGINX_METRICS_ALLOW+="            allow $addr;"$'\n'
	done
}

# nginx's view of the pool, from the worker count the master uses (WORKERS, which
# stack_workers_check and stack_reload set from WORKERS_FILE): STACK_FCGI_MAX_CONNS,
# the upstream's max_conns, which is also the FastCGI socket's listen backlog
# (spawn-fcgi -b) so the kernel queue holds whatever nginx may pass on.
# STACK_NGINX_NOFILE: the open files nginx asks for, within the hard limit when
# unprivileged (setrlimit would fail and nginx run with the soft limit).
stack_nginx_sizing() {
	local hard
	STACK_FCGI_MAX_CONNS=$((WORKERS * FCGI_QUEUE_PER_WORKER))
	STACK_NGINX_NOFILE=${NGINX_RLIMIT_NOFILE:-$((2 * NGINX_WORKER_CONNECTIONS + 256))}
	hard=$(ulimit -Hn)
	if [ "$(id -u)" -ne 0 ] && [ "$hard" != unlimited ] && [ "$STACK_NGINX_NOFILE" -gt "$hard" ]; then
		stack_warn "nginx may open $hard files (ulimit -Hn), not $STACK_NGINX_NOFILE: raise the hard limit or lower NGINX_WORKER_CONNECTIONS"
		STACK_NGINX_NOFILE=$hard
	fi
}

stack_nginx_render() {
	local out=$NGINX_DIR/nginx.conf access js
	js=$(dirname "$NGINX_TEMPLATE")/shed.js
	[ -f "$NGINX_TEMPLATE" ] || stack_die "no nginx template at $NGINX_TEMPLATE"
	[ -f "$js" ] || stack_die "no $js beside the nginx template"
	[ -f "$NGINX_JS_MODULE" ] ||
		stack_die "no nginx JavaScript module at $NGINX_JS_MODULE (install libnginx-mod-http-js: scripts/deps)"
	stack_dirs
	stack_nginx_blocks
	stack_nginx_sizing
	stack_metrics_socket
	local cors=$STACK_NGINX_CORS allow=$STACK_NGINX_ALLOW listen=$STACK_NGINX_LISTEN realip=$STACK_NGINX_REALIP
	local mlisten=$STACK_NGINX_METRICS_LISTEN mallow=$STACK_NGINX_METRICS_ALLOW
	# stdout: nginx reopens the path, see stack_nginx_cmd.
	access=$NGINX_ACCESS_LOG
	[ "$access" = stdout ] && access=/dev/stdout

	sed -e "s|@PORT@|$PORT|g" \
		-e "s|@VAR_DIR@|$(stack_sed_rhs "$VAR_DIR")|g" \
		-e "s|@FCGI_SOCKET@|$(stack_sed_rhs "$FCGI_SOCKET")|g" \
		-e "s|@METRICS_SOCKET@|$(stack_sed_rhs "$METRICS_SOCKET")|g" \
		-e "s|@METRICS_PORT@|$METRICS_PORT|g" \
		-e "s|^@METRICS_LISTEN@\$|$(stack_sed_rhs "${mlisten%$'\n'}")|" \
		-e "s|^@METRICS_ALLOW@\$|$(stack_sed_rhs "${mallow%$'\n'}")|" \
		-e "s|@NGINX_JS_MODULE@|$(stack_sed_rhs "$NGINX_JS_MODULE")|g" \
		-e "s|@ERROR_LOG@|$(stack_sed_rhs "$NGINX_ERROR_LOG")|g" \
		-e "s|@ACCESS_LOG@|$(stack_sed_rhs "$access")|g" \
		-e "s|@RATE_ADDR@|$RATE_ADDR|g" \
		-e "s|@RATE_BURST_ADDR@|$RATE_BURST_ADDR|g" \
		-e "s|@WORKERS@|$WORKERS|g" \
		-e "s|@FCGI_MAX_CONNS@|$STACK_FCGI_MAX_CONNS|g" \
		-e "s|@QUEUE_WAIT_MS@|$QUEUE_WAIT_MS|g" \
		-e "s|@NGINX_WORKER_CONNECTIONS@|$NGINX_WORKER_CONNECTIONS|g" \
		-e "s|@NGINX_RLIMIT_NOFILE@|$STACK_NGINX_NOFILE|g" \
		-e "s|^@LISTEN@\$|$(stack_sed_rhs "${listen%$'\n'}")|" \
		-e "s|^@CORS_ORIGINS_MAP@\$|$(stack_sed_rhs "${cors%$'\n'}")|" \
		-e "s|^@INTERNAL_ALLOW@\$|$(stack_sed_rhs "${allow%$'\n'}")|" \
		-e "s|@REAL_IP@|$(stack_sed_rhs "${realip:-# (no REAL_IP_FROM)}")|g" \
		"$NGINX_TEMPLATE" >"$out.tmp"
	if grep -n '^[^#]*@[A-Z_]*@' "$out.tmp" >&2; then
		stack_die "unrendered placeholders in $out (template and scripts/lib/nginx.sh disagree)"
	fi
	chmod 0644 "$out.tmp"
	install -m 0644 "$js" "$NGINX_DIR/shed.js.tmp"
	mv -f "$NGINX_DIR/shed.js.tmp" "$NGINX_DIR/shed.js"
	rm -f "$NGINX_DIR/ratelimit.js" # (an older checkout's)
	mv -f "$out.tmp" "$out"
	NGINX_CONF=$out
}

# The nginx command line (to be run as the service user, plus -t or -g ...).
stack_nginx_cmd() {
	NGINX_CMD=("$NGINX_BIN" -e stderr -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf")
	if [ "$NGINX_ACCESS_LOG" = stdout ]; then
		# nginx opens the access log by path, and /dev/stdout reopens fd 1,
		# which an unprivileged nginx may not do when fd 1 belongs to root (a
		# terminal, a pipe, a file). A pipe made by the service user's own
		# shell it may; cat copies it to the real stdout. exec keeps the pid.
		NGINX_CMD=(bash -c 'exec "$@" > >(exec cat)' nginx-stdout "${NGINX_CMD[@]}")
	fi
}

# Render, check (`nginx -t` as the service user) and start nginx in the
# foreground of a background job. Sets STACK_NGINX_PID.
stack_nginx_start() {
	local pidfile=$NGINX_DIR/nginx.pid i
	stack_nginx_render
	stack_nginx_cmd
	"${AS_SVC[@]}" "${NGINX_CMD[@]}" -q -t || stack_die "nginx rejected $NGINX_CONF"
	rm -f "$pidfile" # stack_stop has run; whatever it names is gone
	stack_log "starting nginx on ${LISTEN_ADDR// /,} port $PORT"
	setsid "${AS_SVC[@]}" "${NGINX_CMD[@]}" -g 'daemon off;' </dev/null {STACK_LOCK_FD}>&- &
	STACK_NGINX_PID=$!
	# nginx writes its pid file after binding the listen sockets.
	for ((i = 0; i < 100; i++)); do
		[ -s "$pidfile" ] && break
		stack_alive "$STACK_NGINX_PID" || break
		sleep 0.1
	done
	if ! stack_alive "$STACK_NGINX_PID" || [ ! -s "$pidfile" ]; then
		stack_die "nginx did not start"
	fi
}

stack_nginx_stop() {
	local pid rc=0
	if [ -n "${STACK_NGINX_PID:-}" ]; then
		pid=$STACK_NGINX_PID
	else
		pid=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null || true)
		stack_pid_is "$pid" nginx || pid=
	fi
	if [ -n "$pid" ] && stack_alive "$pid"; then
		stack_log "stopping nginx ($pid)"
		# QUIT is nginx's graceful shutdown (TERM drops requests in flight).
		stack_terminate "$pid" QUIT nginx || rc=1
	fi
	rm -f "$NGINX_DIR/nginx.pid"
	STACK_NGINX_PID=
	return $rc
}

# Wait until GET /health answers 200 through nginx (up to $1 seconds).
stack_wait_healthy() {
	local secs=${1:-15} i host=${LISTEN_ADDR%%[ ,]*}
	case $host in 0.0.0.0 | '*' | '[::]') host=127.0.0.1 ;; esac
	for ((i = 0; i < secs * 10; i++)); do
		if curl -fsS -o /dev/null --max-time 2 "http://$host:$PORT/health" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
