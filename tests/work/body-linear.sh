#!/usr/bin/env bash
# Issue 9, point 7: every check body_parse makes on a body is linear in its size. Counted in
# instructions under callgrind (not time): body_parse on bodies of about 55 KB that stress one
# check each (thousands of keys in one object, keys spelled with escapes, keys in sibling
# objects, thousands of numbers) against a one-key body of the same size, and the same body at
# half the size. Quadratic work fails both bounds (HEAD's duplicate-key check: 87x one key,
# 3.5x per doubling); linear work costs a few times the one-key body and 2x per doubling.
#
#   tests/work/body-linear.sh          exit 0 when every bound holds
#   BODY_SRC=old/body.c tests/work/body-linear.sh   the same for another version of body.c
#
# Needs valgrind, a C compiler and json-c's headers (scripts/deps installs them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RATIO_MAX=${RATIO_MAX:-10}     # Ir(mode) / Ir(one key), same size
DOUBLING_MAX=${DOUBLING_MAX:-2.6} # Ir(mode, 55 KB) / Ir(mode, 27.5 KB)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

${CC:-cc} -O2 -g -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -o "$work/body_cost" \
	"$ROOT/tests/work/body_cost.c" "${BODY_SRC:-$ROOT/src/body.c}" -ljson-c

# Instructions executed inside body_parse for one run of body_cost.
ir() {
	local out=$work/cg.$1.$2
	valgrind --tool=callgrind --toggle-collect=body_parse --callgrind-out-file="$out" \
		"$work/body_cost" "$1" "$2" >"$out.log" 2>&1 || {
		cat "$out.log" >&2
		echo "body-linear: body_cost $1 $2 failed" >&2
		exit 1
	}
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

fail=0
one=$(ir one 55000)
printf 'body-linear: one key, 55 KB: %s instructions\n' "$one"
for mode in keys escapes nested numbers; do
	full=$(ir "$mode" 55000)
	half=$(ir "$mode" 27500)
	verdict=$(awk -v f="$full" -v h="$half" -v o="$one" -v r="$RATIO_MAX" -v d="$DOUBLING_MAX" \
		'BEGIN { printf "%.2f %.2f %s", f / o, f / h, (f / o <= r && f / h <= d) ? "ok" : "FAIL" }')
	read -r ratio doubling ok <<<"$verdict"
	printf 'body-linear: %-8s 55 KB: %s instructions, %sx one key (max %s), %sx half its size (max %s): %s\n' \
		"$mode" "$full" "$ratio" "$RATIO_MAX" "$doubling" "$DOUBLING_MAX" "$ok"
	[ "$ok" = ok ] || fail=1
done
exit "$fail"
