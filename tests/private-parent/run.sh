#!/usr/bin/env bash
# A newcomer's checkout in a private directory (as root under /root, mode 0700, which the
# service user cannot enter): a clean copy of the checkout in a fresh 0700 directory,
# `scripts/run` started there as a newcomer would (a bare environment, a fresh build),
# /health and /health/ready waited for, a token from `scripts/dev-token` used, the README's
# walkthrough run from that copy, then SIGTERM: scripts/run must exit by itself and
# everything it started must be gone (processes, the port, the sockets).
#
#   PRIVATE_PARENT_SOURCE  worktree (default: the files git tracks or would track, as they
#                          are now, i.e. what a commit of this tree holds) or head (HEAD)
#   PORT                   where the copy's nginx listens (default: a free port)
#   PRIVATE_PARENT_WALKTHROUGH  0 skips the walkthrough (default 1; two runs, 10 s apart:
#                          the stack has the default write limit)
#   START_TIMEOUT          seconds for the first /health, build included (default 900)
#   KEEP=1                 keep the copy and its state directory (printed) afterwards
#
# Root only (as anyone else the whole stack runs as that user, and nothing is private
# from it): otherwise it says so and exits 0. Cost: a fresh autoreconf, configure and
# make of the copy (the packages are already installed), about what scripts/build takes
# from scratch, plus seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log() { printf 'private-parent: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}
now() { local t=${EPOCHREALTIME/[.,]/}; printf '%s\n' $((t / 1000)); }
t0=$(now)

if [ "$(id -u)" -ne 0 ]; then
	log "skipped: not root (the service user split, and so the private parent, exists only as root)"
	exit 0
fi

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${PORT:-$(free_port)}
# (the stack's default metrics port is PORT + 6088, past 65535 for a high free PORT)
METRICS_PORT=${METRICS_PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT

parent=$(mktemp -d /tmp/vs-private.XXXXXX) # mode 0700, owner root
chmod 0700 "$parent"
dest=$parent/spinroute-vehicle
mkdir "$dest"
state=
run_pid=

# Every process of the copy's stack: scripts/run and its descendants, the pids its pid
# files name and their descendants, and anything whose command line, executable or
# working directory is in the copy or its state directory.
descendants() {
	local f stat pid ppid
	for f in /proc/[0-9]*/stat; do
		stat=$(cat "$f" 2>/dev/null) || continue
		pid=${stat%% *}
		stat=${stat##*) }
		ppid=${stat#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$1" ]; then
			printf '%s\n' "$pid"
			descendants "$pid"
		fi
	done
}
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
ours() {
	local p pid marks=("$dest")
	[ -z "$state" ] || marks+=("$state")
	{
		if [ -n "$run_pid" ] && alive "$run_pid"; then
			echo "$run_pid"
			descendants "$run_pid"
		fi
		if [ -n "$state" ]; then
			for p in "$state/pg/postmaster.pid" "$state/nginx/nginx.pid" "$state/run/workers.pid"; do
				pid=$(head -n 1 "$p" 2>/dev/null || true)
				[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || continue
				echo "$pid"
				descendants "$pid"
			done
		fi
		for p in /proc/[0-9]*; do
			pid=${p#/proc/}
			[ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
			for m in "${marks[@]}"; do
				if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$m" ||
					[[ $(readlink "$p/exe" 2>/dev/null) == "$m"/* ]] ||
					[[ $(readlink "$p/cwd" 2>/dev/null) == "$m"* ]]; then
					echo "$pid"
					break
				fi
			done
		done
	} | sort -un | while read -r pid; do alive "$pid" && echo "$pid"; done
}

cleanup() {
	local rc=$? pids
	trap - EXIT INT TERM
	[ -n "$state" ] || state=$(readlink "$dest/var" 2>/dev/null || true)
	pids=$(ours || true)
	if [ -n "$pids" ]; then
		log "killing what is left: $(tr '\n' ' ' <<<"$pids")"
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $pids 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		log "kept: $dest (state: ${state:-none})"
	else
		rm -rf "$parent"
		# (only a directory this run made: the hash of this copy's var/)
		[ -z "$state" ] || [[ $state != /var/lib/vehicle-dev/* && $state != "${SVC_STATE_ROOT:-/nonexistent}"/* ]] ||
			rm -rf "$state"
		[ -z "${worker_bin_dir:-}" ] || [[ $worker_bin_dir != /var/lib/vehicle-dev/bin-* ]] ||
			rm -rf "$worker_bin_dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A clean copy: what git holds, no build/, var/ or generated configure.
cd "$ROOT"
case ${PRIVATE_PARENT_SOURCE:-worktree} in
worktree)
	git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar -c --null -T - -f - | tar -x -C "$dest"
	;;
head) git archive HEAD | tar -x -C "$dest" ;;
*) die "PRIVATE_PARENT_SOURCE must be worktree or head" ;;
esac
log "copy of the checkout ($(find "$dest" -type f | wc -l) files) in $dest, parent mode $(stat -c %a "$parent")"
setpriv --reuid=vehicle --regid=vehicle --init-groups -- test -x "$dest" 2>/dev/null &&
	die "the service user can enter $dest: the test would prove nothing"

# As a newcomer: a login's bare environment, nothing of this shell's stack settings.
newcomer_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME="${HOME:-/root}" LANG=C.UTF-8 PORT="$PORT" METRICS_PORT="$METRICS_PORT")
out=$parent/run.out
(cd "$dest" && exec "${newcomer_env[@]}" scripts/run) </dev/null >"$out" 2>&1 &
run_pid=$!
log "scripts/run (pid $run_pid) on port $PORT: building and starting (output in $out)"

# wait_for PATH SECONDS: until GET $BASE/PATH answers 200, while scripts/run lives.
wait_for() {
	local deadline=$(($(now) + $2 * 1000))
	while [ "$(now)" -lt "$deadline" ]; do
		alive "$run_pid" || { tail -n 40 "$out" >&2; die "scripts/run exited before $1 answered"; }
		curl -fsS -o /dev/null --max-time 2 "$BASE$1" 2>/dev/null && return 0
		sleep 0.5
	done
	tail -n 40 "$out" >&2
	die "$1 did not answer 200 within $2 s"
}
wait_for /health "${START_TIMEOUT:-900}"
t_health=$(now)
wait_for /health/ready 30
# nginx answers a moment before scripts/run, which started it, prints the line.
deadline=$(($(now) + 10000))
until grep -q 'run: ready:' "$out"; do
	alive "$run_pid" || { tail -n 40 "$out" >&2; die "scripts/run exited before it printed its ready line"; }
	[ "$(now)" -lt "$deadline" ] || die "scripts/run serves but did not print its ready line within 10 s"
	sleep 0.2
done
log "serving after $(((t_health - t0) / 1000)) s (build included: $(grep -c '^  CC ' "$out" || true) files compiled)"

[ -L "$dest/var" ] || die "$dest/var is not a symlink to the state directory"
state=$(readlink "$dest/var")
log "state in $state (owner $(stat -c %U "$state"))"
master=$(cat "$state/run/workers.pid")
[ "$(stat -c %U "/proc/$master")" = vehicle ] || die "the worker master does not run as vehicle"
# The workers run from a copy of the binary in a directory of root's beside the state
# directory (root runs it too: the service user must not be able to swap it).
worker_exe=$(readlink "/proc/$master/exe")
worker_bin_dir=$(dirname "$worker_exe")
case $worker_bin_dir in
"$(dirname "$state")"/bin-*) ;;
*) die "the workers run from $worker_exe, not from a copy beside $state" ;;
esac
[ "$(stat -c %U:%a "$worker_bin_dir")" = root:755 ] ||
	die "$worker_bin_dir is $(stat -c %U:%a "$worker_bin_dir"), not root's 0755"
[ ! -e "$state/bin" ] || die "a copy of the worker under the service user's $state/bin"

# A token for a new local user, and a request with it.
token=$(cd "$dest" && "${newcomer_env[@]}" scripts/dev-token newcomer@example.com)
code=$(curl -sS -o "$parent/bike.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' -d '{"name":"First bike","type":"gravel"}' "$BASE/api/bikes")
[ "$code" = 201 ] || die "POST /api/bikes with a dev-token answered $code: $(cat "$parent/bike.json")"
curl -fsS -H "Authorization: Bearer $token" "$BASE/api/bikes" | jq -e 'map(.name) == ["First bike"]' >/dev/null ||
	die "GET /api/bikes does not list the bike just made"
log "dev-token: POST /api/bikes 201, GET /api/bikes lists it"

if [ "${PRIVATE_PARENT_WALKTHROUGH:-1}" = 1 ]; then
	(cd "$dest" && "${newcomer_env[@]}" BASE="$BASE" WALKTHROUGH_RUNS=2 WALKTHROUGH_PAUSE=10 \
		tests/walkthrough/run.sh) || die "the README's walkthrough failed in the private checkout"
fi

# SIGTERM: scripts/run stops everything and exits by itself.
before=$(ours)
kill -TERM "$run_pid"
deadline=$(($(now) + 30000))
while alive "$run_pid" && [ "$(now)" -lt "$deadline" ]; do sleep 0.2; done
alive "$run_pid" && die "scripts/run still running 30 s after SIGTERM"
rc=0
wait "$run_pid" || rc=$?
run_pid=
[ "$rc" = 143 ] || { tail -n 20 "$out" >&2; die "scripts/run exited $rc after SIGTERM (expected 143)"; }
sleep 0.5
left=$(for pid in $before; do alive "$pid" && echo "$pid"; done; ours)
if [ -n "$left" ]; then
	for pid in $(sort -un <<<"$left"); do
		log "left running: $pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
	done
	die "processes of the stack outlived scripts/run"
fi
for p in "$PORT" "$METRICS_PORT"; do
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/" && die "port $p still answers after the stop"
done
for s in "$state/run/fcgi.sock" "$state/run/.s.PGSQL.5433"; do
	[ ! -e "$s" ] || die "$s is still there after the stop"
done
log "SIGTERM: scripts/run exited 143; $(wc -w <<<"$before") processes gone, port closed, sockets removed"
log "passed in $((($(now) - t0) / 1000)) s"
