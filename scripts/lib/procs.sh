# shellcheck shell=bash
# Processes by pid, read from /proc (no ps in slim images): is it alive, is it
# what a pid file says, its descendants, and a stop with a deadline.
# Needs scripts/lib/common.sh (stack_is_uint, stack_warn, STOP_TIMEOUT).

# True when PID is alive (not a zombie) and its command name is one of NAMES.
# Guards against a stale pid file whose number the kernel has since reused.
stack_pid_is() {
	local pid=$1 comm stat name
	shift
	stack_is_uint "$pid" || return 1
	# read, not $(cat): no fork per check (a stop loops over these).
	{ read -r comm <"/proc/$pid/comm"; } 2>/dev/null || return 1
	{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ] || return 1
	for name in "$@"; do
		[ "$comm" = "$name" ] && return 0
	done
	return 1
}

stack_alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Descendants of PID, deepest last.
stack_descendants() {
	local parent=$1 f stat pid ppid
	for f in /proc/[0-9]*/stat; do
		{ read -r stat <"$f"; } 2>/dev/null || continue
		pid=${stat%% *}
		stat=${stat##*) }
		ppid=${stat#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$parent" ]; then
			printf '%s\n' "$pid"
			stack_descendants "$pid"
		fi
	done
}

# stack_terminate PID SIGNAL WHAT: send SIGNAL, wait up to STOP_TIMEOUT, then
# SIGKILL PID and its descendants (so no worker outlives a killed master).
# Returns 1 when it had to kill.
# Now in tenths of a second.
stack_tenths() {
	local us=${EPOCHREALTIME/[.,]/}
	printf '%s\n' $((us / 100000))
}

# One deadline for a whole stop: stack_stop_begin sets it, and each stack_terminate after it
# waits only for what is left, so nginx and then the workers together take at most
# STOP_TIMEOUT, not STOP_TIMEOUT each.
stack_stop_begin() {
	STACK_STOP_DEADLINE=$(($(stack_tenths) + STOP_TIMEOUT * 10))
}

stack_stop_end() {
	STACK_STOP_DEADLINE=
}

stack_terminate() {
	local pid=$1 sig=$2 what=$3 kids now deadline
	stack_alive "$pid" || return 0
	now=$(stack_tenths)
	deadline=${STACK_STOP_DEADLINE:-$((now + STOP_TIMEOUT * 10))}
	[ "$deadline" -gt "$now" ] || deadline=$((now + 1))
	kill -s "$sig" "$pid" 2>/dev/null || true
	# By the clock, not by counting sleeps: on a busy machine each turn takes longer.
	while stack_alive "$pid" && [ "$(stack_tenths)" -lt "$deadline" ]; do
		sleep 0.1
	done
	if stack_alive "$pid"; then
		kids=$(stack_descendants "$pid")
		stack_warn "$what (pid $pid) still running at the stop's deadline (STOP_TIMEOUT ${STOP_TIMEOUT}s); sending SIGKILL"
		# shellcheck disable=SC2086 # one pid per word
		kill -s KILL "$pid" $kids 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	# Reap it if it was our child (no-op otherwise).
	wait "$pid" 2>/dev/null || true
	return 0
}
