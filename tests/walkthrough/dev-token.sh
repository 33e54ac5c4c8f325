#!/usr/bin/env bash
# scripts/dev-token's refusals and its reuse of a user, against the running stack's
# PostgreSQL as a superuser (DATABASE_URL, else the embedded cluster under VAR_DIR):
#  - a database shaped like Supabase's (auth.users with Supabase's columns,
#    auth.schema_migrations, auth.identities, auth.instances): refused, nothing written;
#    each tell alone is refused too;
#  - a database with no auth schema (migrations not run): refused with that reason;
#  - VEHICLE_ENV=production, a stack that is not running: refused, with the reason;
#  - the same email twice (any case): one user, the same sub in both tokens.
# Scratch databases devtoken_* are made and dropped on the same cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
log() { printf 'dev-token test: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}
PSQL=${PG_BIN:-/usr/lib/postgresql/15/bin}/psql
[ -x "$PSQL" ] || PSQL=psql

if [ -z "${DATABASE_URL:-}" ]; then
	var=${VAR_DIR:-}
	[ -n "$var" ] || var=$ROOT/var
	DATABASE_URL="host=$(realpath -m "$var")/run port=${PG_PORT:-5433} dbname=vehicles user=postgres"
fi
# The same server, another database (conninfo: the last dbname wins; URI: the path).
db_named() {
	case $DATABASE_URL in
	postgres://* | postgresql://*)
		printf '%s\n' "$DATABASE_URL" | sed -E "s|^(postgres(ql)?://[^/?]*)(/[^?]*)?|\\1/$1|"
		;;
	*) printf '%s dbname=%s\n' "$DATABASE_URL" "$1" ;;
	esac
}
sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
scratch=(devtoken_supabase devtoken_empty devtoken_tell)
cleanup() {
	for d in "${scratch[@]}"; do sql "$DATABASE_URL" "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
	# (cluster-wide: while it exists, dev-token refuses every database of the cluster)
	[ "$made_role" = 0 ] || sql "$DATABASE_URL" "DROP ROLE IF EXISTS supabase_auth_admin" >/dev/null 2>&1 || true
}
made_role=0
# Scratch databases and a role named like Supabase's: only on a cluster of our own.
[ "$(sql "$DATABASE_URL" "SELECT count(*) FROM pg_roles WHERE rolname IN ('supabase_auth_admin', 'supabase_admin')")" = 0 ] ||
	die "this cluster has Supabase's roles: the test runs only against a local stack"
trap cleanup EXIT
cleanup

# expect_refusal TEXT CMD...: CMD must fail, saying TEXT on stderr, printing no token.
expect_refusal() {
	local want=$1 out err rc=0
	shift
	out=$("$@" 2>"$work_err") || rc=$?
	err=$(cat "$work_err")
	[ "$rc" -ne 0 ] || die "'$*' succeeded; it should refuse ($want)"
	[ -z "$out" ] || die "'$*' refused but printed on stdout: $out"
	grep -qF -- "$want" <<<"$err" || die "'$*' refused, but without '$want': $err"
	log "refused as it should: ${err#dev-token: error: }"
}
work_err=$(mktemp)
trap 'cleanup; rm -f "$work_err"' EXIT

# Supabase's auth schema, as far as the tells go.
supabase_auth="
CREATE SCHEMA auth;
CREATE TABLE auth.users (instance_id uuid, id uuid PRIMARY KEY, aud varchar(255), role varchar(255),
  email varchar(255), encrypted_password varchar(255), email_confirmed_at timestamptz,
  created_at timestamptz, updated_at timestamptz, is_anonymous boolean NOT NULL DEFAULT false);
CREATE UNIQUE INDEX ON auth.users (lower(email));
CREATE TABLE auth.schema_migrations (version varchar(255) PRIMARY KEY);
CREATE TABLE auth.instances (id uuid PRIMARY KEY);
CREATE TABLE auth.identities (id uuid PRIMARY KEY, user_id uuid NOT NULL);"
sql "$DATABASE_URL" "CREATE DATABASE devtoken_supabase" >/dev/null
sql "$(db_named devtoken_supabase)" "$supabase_auth" >/dev/null
expect_refusal "Supabase's own auth schema" env DATABASE_URL="$(db_named devtoken_supabase)" scripts/dev-token a@example.com
[ "$(sql "$(db_named devtoken_supabase)" "SELECT count(*) FROM auth.users")" = 0 ] ||
	die "dev-token refused the Supabase-shaped database but wrote to its auth.users"

# Each tell on its own, on top of the stand-in's own shape.
standin="CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text,
  email_confirmed_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
  CREATE UNIQUE INDEX ON auth.users (lower(email));"
for tell in "CREATE TABLE auth.schema_migrations (version text)" "CREATE TABLE auth.instances (id uuid)" \
	"CREATE TABLE auth.identities (id uuid)" "ALTER TABLE auth.users ADD COLUMN encrypted_password text" \
	"CREATE ROLE supabase_auth_admin NOLOGIN"; do
	sql "$DATABASE_URL" "CREATE DATABASE devtoken_tell" >/dev/null
	case $tell in *ROLE*) made_role=1 ;; esac
	sql "$(db_named devtoken_tell)" "$standin $tell" >/dev/null
	expect_refusal "Supabase's own auth schema" env DATABASE_URL="$(db_named devtoken_tell)" scripts/dev-token a@example.com
	if [ "$made_role" = 1 ]; then
		sql "$DATABASE_URL" "DROP ROLE supabase_auth_admin" >/dev/null
		made_role=0
	fi
	sql "$DATABASE_URL" "DROP DATABASE devtoken_tell" >/dev/null
done
# The same shape without a tell is the stand-in: accepted.
sql "$DATABASE_URL" "CREATE DATABASE devtoken_tell" >/dev/null
sql "$(db_named devtoken_tell)" "$standin" >/dev/null
DATABASE_URL="$(db_named devtoken_tell)" scripts/dev-token a@example.com >/dev/null 2>"$work_err" ||
	die "dev-token refused the stand-in's own shape: $(cat "$work_err")"

sql "$DATABASE_URL" "CREATE DATABASE devtoken_empty" >/dev/null
expect_refusal "the migrations have not run" env DATABASE_URL="$(db_named devtoken_empty)" scripts/dev-token a@example.com
expect_refusal "VEHICLE_ENV=production" env VEHICLE_ENV=production scripts/dev-token a@example.com
expect_refusal "the local stack is not running" env -u DATABASE_URL VAR_DIR=/nonexistent/var scripts/dev-token a@example.com
expect_refusal "not an email address" scripts/dev-token not-an-email

# Reuse: one user per email, whatever its case; the token's sub is that user.
sub_of() {
	/usr/bin/python3 -c 'import base64, json, sys; p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["sub"])' "$1"
}
t1=$(scripts/dev-token Reuse.Test@Example.com 2>/dev/null)
t2=$(scripts/dev-token reuse.test@example.com 2>/dev/null)
[ "$(sub_of "$t1")" = "$(sub_of "$t2")" ] || die "two tokens for one email name two users"
[ "$(sql "$DATABASE_URL" "SELECT count(*) FROM auth.users WHERE lower(email) = 'reuse.test@example.com' AND email_confirmed_at IS NOT NULL")" = 1 ] ||
	die "not exactly one confirmed user for reuse.test@example.com"
log "passed"
