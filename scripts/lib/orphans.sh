# shellcheck shell=bash
# Leftovers of a crashed run on a machine that outlives it (a developer's, CI's).
# Not for the container: its processes die with it (scripts/container-entry).
# Needs scripts/lib/common.sh and scripts/lib/procs.sh.

# Pids of processes holding any of the given socket inodes (only those this
# user may see: all as root, its own otherwise).
stack_socket_holders() {
	local inode pats=()
	for inode in "$@"; do
		pats+=(-o -lname "socket:\\[$inode\\]")
	done
	[ ${#pats[@]} -gt 0 ] || return 0
	# (find complains about processes that exit while it looks: ignored.)
	{ find /proc/[0-9]*/fd -maxdepth 1 \( "${pats[@]:1}" \) -printf '%h\n' 2>/dev/null || true; } |
		sed 's|^/proc/\([0-9]*\)/fd$|\1|' | sort -u
}

# Leftovers that no pid file names: what survives a SIGKILLed parent.
#  - anything still holding $FCGI_SOCKET (a path inside our VAR_DIR, so ours):
#    workers orphaned by a killed master;
#  - "nginx: worker process" on our PORT whose master is gone (a live nginx
#    master on the port belongs to another stack and is left alone).
stack_orphans_stop() {
	local inodes pids pid ppid port_hex kind
	inodes=$(awk -v p="$FCGI_SOCKET" '$8 == p {print $7}' /proc/net/unix 2>/dev/null)
	# shellcheck disable=SC2086 # one inode per word
	pids=$(stack_socket_holders $inodes)
	port_hex=$(printf ':%04X' "$PORT")
	inodes=$(awk -v p="$port_hex" '$4 == "0A" && substr($2, length($2) - 4) == p {print $10}' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	# shellcheck disable=SC2086
	for pid in $(stack_socket_holders $inodes); do
		kind=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || continue
		if [[ $kind == "nginx: worker process"* ]] && ! stack_pid_is "$ppid" nginx; then
			pids+=$'\n'$pid
		fi
	done
	for pid in $pids; do
		stack_alive "$pid" || continue
		stack_warn "stopping leftover $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid) of an earlier run"
		stack_terminate "$pid" TERM "leftover process" || true
	done
}
