#!/usr/bin/env bash
# The README's curl walkthrough, run as written against a running stack: the sh block
# between <!-- walkthrough:begin --> and <!-- walkthrough:end --> is run with
# `bash -euo pipefail` from the repository root, WALKTHROUGH_RUNS times (default 2: it
# must work again on the same database), and each run's output must hold every "#=>"
# line of the block, in order, as a line of its own. Then scripts/dev-token's refusals
# (tests/walkthrough/dev-token.sh).
#
#   BASE (or BASE_URL)  the stack, e.g. http://127.0.0.1:3013 (default: the README's)
#   VAR_DIR, PG_PORT    the embedded cluster, for scripts/dev-token (or DATABASE_URL)
#   WALKTHROUGH_PAUSE   seconds between runs (default 0; a stack with the default
#                       write limit, 20 at once, needs about 8 between two runs)
#   WALKTHROUGH_README  the file to take the block from (default README.md)
#
# Exit 0 when every run passed. Standalone: tests/walkthrough/run.sh (stack running).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
log() { printf 'walkthrough: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

readme=${WALKTHROUGH_README:-$ROOT/README.md}
export BASE=${BASE:-${BASE_URL:-http://127.0.0.1:3003}}
runs=${WALKTHROUGH_RUNS:-2}
work=$(mktemp -d /tmp/walkthrough.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The block: the first ```sh fence after the begin marker, up to its closing fence,
# which must come before the end marker.
awk '
	/<!-- walkthrough:begin/ { inside = 1; next }
	/<!-- walkthrough:end/ { if (code) { bad = 1 } ; inside = 0; next }
	inside && !code && /^```sh[[:space:]]*$/ { code = 1; found = 1; next }
	inside && code && /^```[[:space:]]*$/ { code = 0; closed = 1; next }
	inside && code { print }
	END { exit (found && closed && !bad) ? 0 : 1 }
' "$readme" >"$work/block.sh" || die "no sh block between <!-- walkthrough:begin --> and <!-- walkthrough:end --> in $readme"
sed -n 's/^#=> //p' "$work/block.sh" >"$work/expected"
[ -s "$work/expected" ] || die "the walkthrough block has no #=> lines to check"
log "$(wc -l <"$work/block.sh") lines, $(wc -l <"$work/expected") expected outputs, against $BASE"

# 0 when every expected line (file $1) appears in the output (file $2) as a whole line, in
# order; otherwise prints the first one missing.
in_order() {
	awk 'BEGIN { n = 0; i = 0 }
		NR == FNR { want[n++] = $0; next }
		{ sub(/\r$/, "") }
		i < n && $0 == want[i] { i++ }
		END { if (i < n) { print want[i]; exit 1 } }' "$1" "$2"
}

for ((r = 1; r <= runs; r++)); do
	if [ "$r" -gt 1 ] && [ "${WALKTHROUGH_PAUSE:-0}" != 0 ]; then sleep "$WALKTHROUGH_PAUSE"; fi
	out=$work/out.$r
	start=${EPOCHREALTIME/[.,]/}
	if ! bash -euo pipefail "$work/block.sh" >"$out" 2>"$out.err"; then
		sed 's/^/  | /' "$out" >&2
		sed 's/^/  ! /' "$out.err" >&2
		die "run $r of the README's walkthrough stopped (status above; the last lines show where)"
	fi
	if ! missing=$(in_order "$work/expected" "$out"); then
		sed 's/^/  | /' "$out" >&2
		die "run $r: the README says the walkthrough prints '$missing' (a #=> line), and it did not (output above)"
	fi
	log "run $r passed ($(((${EPOCHREALTIME/[.,]/} - start) / 1000)) ms)"
done

"$ROOT/tests/walkthrough/dev-token.sh"
log "all passed"
