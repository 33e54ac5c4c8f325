"""vehicle-migrate (docs/migrations.md) against scratch databases on the test cluster.

Needs DATABASE_URL (a superuser conninfo of the cluster: each test creates its own database
next to it and drops it) and the binary, MIGRATE_BIN or <repo>/build/vehicle-migrate. It uses
none of the HTTP fixtures, so it also runs without a stack:

    DATABASE_URL='host=/tmp/pg port=5499 user=postgres dbname=postgres' \
    MIGRATE_BIN=build/vehicle-migrate /usr/bin/python3 -m pytest -q tests/http/test_migrate.py \
      --noconftest   # conftest.py insists on BASE_URL and SUPABASE_JWT_SECRET
"""
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import uuid

import psycopg2
import psycopg2.extensions
from psycopg2 import sql as pgsql
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SQL_DIR = REPO / "sql"
LEGACY_DIR = REPO / "tests" / "fixtures" / "legacy_sql"
MIGRATE_BIN = os.environ.get("MIGRATE_BIN") or str(REPO / "build" / "vehicle-migrate")
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="needs DATABASE_URL (a superuser conninfo)")

# Old name -> new name (008_function_names.sql drops the old ones).
RENAMED = {
    "assert_owner": "gear_assert", "jsonb_merge_patch": "metadata_merge",
    "lock_bike_part": "installation_lock", "credit_ride": "ride_credit", "log_ride": "ride_log",
    "km_since_maintenance": "maintenance_km_since", "check_kilometrage": "kilometrage_check",
    "transfer_recipient": "recipient_find", "transfer_bike": "bike_transfer",
    "transfer_part": "part_transfer", "user_summary": "summary_get",
}
BOTH = {"authenticated", "service_role"}
# Who may execute each function (besides its owner): what the roles had before the move.
GRANTEES = {
    "metadata_max_bytes": BOTH, "metadata_merge": BOTH, "gear_assert": BOTH, "gear_update": BOTH,
    "gear_check": set(), "gear_lock": BOTH, "gear_create": BOTH,
    "bike_delete": BOTH, "bike_set_active": BOTH, "bike_deactivate": BOTH,
    "installation_lock": set(), "installation_time_check": set(),
    "part_delete": BOTH, "part_install": BOTH, "part_remove": BOTH,
    "ride_credit": set(), "ride_uncredit": set(), "ride_validate": set(),
    "ride_log": BOTH, "ride_delete": BOTH, "ride_update": BOTH, "ride_batch": BOTH,
    "ride_check": set(), "ride_key_claim": set(), "ride_answer": set(), "ride_differs": set(),
    "ride_insert": set(), "ride_batch_error": set(), "ride_batch_refusal": set(),
    "gear_time": set(),
    "idempotency_sweep": {"service_role"}, "maintenance_km_since": BOTH,
    "maintenance_create": BOTH, "kilometrage_check": {"service_role"},
    # service intervals (62_intervals.sql) and the maintenance record's delete
    "maintenance_delete": BOTH, "interval_measure": {"service_role"}, "interval_assert": BOTH,
    "interval_status": BOTH, "interval_validate": set(), "interval_create": BOTH,
    "interval_lock": set(), "interval_update": BOTH, "interval_delete": BOTH, "interval_due": BOTH,
    "recipient_find": set(), "transfer_notes_check": set(),
    "bike_transfer": {"authenticated"}, "part_transfer": {"authenticated"},
    "account_cascade": set(),
    "bike_active_id": BOTH, "gear_validate": set(), "gear_field": set(), "gear_is_date": set(),
    "maintenance_time": set(), "metadata_check": set(),
    "summary_get": {"service_role"},
    # the export's hourly limit (78_export.sql)
    "export_begin": {"authenticated"},
    # the list cache's generations (85_cache.sql): the caller's, a WHEN of service_role's
    # writes, triggers
    "list_gen": {"authenticated"}, "list_gen_note": {"service_role"}, "list_gen_bump": set(),
    "list_gen_bump_installation": set(), "list_gen_truncate": set(),
    # retirement and replacement (issue 14: 40_parts.sql, 62_intervals.sql)
    "installation_open": set(), "installation_close": set(), "installation_start_check": set(),
    "retire_reason_check": set(), "part_retire": BOTH, "part_unretire": BOTH,
    "part_replace": BOTH, "interval_copy": set(),
    # the owners an installation and a maintenance record carry (migration 015): triggers
    "installation_owner_fill": set(), "maintenance_owner_fill": set(),
}


def dsn_for(dbname):
    params = psycopg2.extensions.parse_dsn(DATABASE_URL)
    params["dbname"] = dbname
    return psycopg2.extensions.make_dsn(**params)


class Scratch:
    """A database of its own on the test cluster; cur runs in autocommit."""

    def __init__(self, name):
        self.name = name
        self.dsn = dsn_for(name)
        self.conn = psycopg2.connect(self.dsn, connect_timeout=5)
        self.conn.autocommit = True

    def rows(self, query, args=None):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def value(self, query, args=None):
        return self.rows(query, args)[0][0]

    def close(self):
        self.conn.close()


@pytest.fixture
def make_db():
    made = []
    admin = psycopg2.connect(DATABASE_URL, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            admin.close()
            pytest.skip("DATABASE_URL's role may not create databases (TEST_DATABASE_URL?)")

    def make():
        name = "vs_migrate_" + uuid.uuid4().hex[:16]
        with admin.cursor() as cur:
            cur.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        made.append(Scratch(name))
        return made[-1]

    yield make
    for db in made:
        db.close()
        with admin.cursor() as cur:
            cur.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                pgsql.Identifier(db.name)))
    admin.close()


@pytest.fixture
def scratch(make_db):
    return make_db()


def run_migrate(db_or_dsn, sql_dir=SQL_DIR, env=None):
    assert os.access(MIGRATE_BIN, os.X_OK), f"no vehicle-migrate at {MIGRATE_BIN} (set MIGRATE_BIN)"
    full = {k: v for k, v in os.environ.items() if k != "MIGRATE_DATABASE_URL"}
    full["DATABASE_URL"] = db_or_dsn.dsn if isinstance(db_or_dsn, Scratch) else db_or_dsn
    full.update(env or {})
    return subprocess.run([MIGRATE_BIN, str(sql_dir)], env=full, capture_output=True, text=True,
                          timeout=120)


def migrated(db, sql_dir=SQL_DIR):
    p = run_migrate(db, sql_dir)
    assert p.returncode == 0, p.stderr
    return p


def sql_copy(tmp_path):
    dst = tmp_path / "sql"
    shutil.copytree(SQL_DIR, dst)
    return dst


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bookkeeping(db):
    return db.rows("SELECT 'n', version, checksum, applied_at FROM vehicles_admin.schema_migrations"
                   " UNION ALL SELECT 'r', name, checksum, applied_at"
                   " FROM vehicles_admin.repeatable_migrations ORDER BY 1, 2")


def functions(db):
    """name -> (prosrc, xmin): a re-applied CREATE OR REPLACE gives the row a new xmin."""
    return {r[0]: (r[1], r[2]) for r in db.rows(
        "SELECT p.proname, p.prosrc, p.xmin::text FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'vehicles'")}


def prosrc(db, name):
    return db.value("SELECT prosrc FROM pg_proc WHERE oid = to_regproc(%s)", ("vehicles." + name,))


def assert_recorded(db, sql_dir=SQL_DIR):
    """Every file of sql_dir recorded with its checksum, and nothing else."""
    want = sorted([("n", f.name, sha256(f)) for f in (sql_dir / "migrations").glob("*.sql")] +
                  [("r", f.name, sha256(f)) for f in (sql_dir / "functions").glob("*.sql")])
    assert sorted(r[:3] for r in bookkeeping(db)) == want


def assert_no_op(db, sql_dir=SQL_DIR):
    before, funcs = bookkeeping(db), functions(db)
    p = migrated(db, sql_dir)
    assert "nothing applied" in p.stderr, p.stderr
    assert bookkeeping(db) == before
    assert functions(db) == funcs


def test_fresh_database_then_a_second_run_is_a_no_op(scratch):
    migrated(scratch)
    assert_recorded(scratch)
    assert set(functions(scratch)) == set(GRANTEES)
    assert scratch.value("SELECT vehicles.metadata_max_bytes()") == 16384
    assert_no_op(scratch)


def test_changed_function_body_is_applied_once(scratch, tmp_path):
    migrated(scratch)
    before = prosrc(scratch, "bike_deactivate")
    sql_dir = sql_copy(tmp_path)
    edit(sql_dir / "functions" / "30_bikes.sql",
         "MESSAGE = 'bike is not the active bike';",
         "MESSAGE = 'that bike is not the active one'; -- reworded")
    edit(sql_dir / "functions" / "10_metadata.sql", "SELECT 16384", "SELECT 32768")
    p = migrated(scratch, sql_dir)
    assert "repeatable 30_bikes.sql is changed" in p.stderr, p.stderr
    after = prosrc(scratch, "bike_deactivate")
    assert after != before and "that bike is not the active one" in after and "-- reworded" in after
    assert scratch.value("SELECT vehicles.metadata_max_bytes()") == 32768
    assert_recorded(scratch, sql_dir)
    assert_no_op(scratch, sql_dir)


def test_comment_only_files_are_accepted_and_a_gone_file_is_forgotten(scratch, tmp_path):
    sql_dir = sql_copy(tmp_path)
    (sql_dir / "migrations" / "900_nothing.sql").write_text("-- nothing to do yet\n")
    (sql_dir / "migrations" / "901_empty.sql").write_text("")
    (sql_dir / "functions" / "95_notes.sql").write_text("/* a note */\n-- and another\n")
    migrated(scratch, sql_dir)
    assert_recorded(scratch, sql_dir)
    (sql_dir / "functions" / "95_notes.sql").unlink()
    p = migrated(scratch, sql_dir)
    assert "repeatable 95_notes.sql is gone" in p.stderr, p.stderr
    assert_recorded(scratch, sql_dir)
    assert_no_op(scratch, sql_dir)


def test_failure_rolls_everything_back(scratch, tmp_path):
    migrated(scratch)
    before, funcs = bookkeeping(scratch), functions(scratch)
    sql_dir = sql_copy(tmp_path)
    (sql_dir / "migrations" / "900_widget.sql").write_text(
        "CREATE TABLE vehicles.widget (id integer PRIMARY KEY);\n")
    # Applied before the broken file in the same run, then rolled back with it.
    edit(sql_dir / "functions" / "30_bikes.sql", "'bike is not the active bike'", "'changed'")
    broken = sql_dir / "functions" / "70_transfers.sql"
    edit(broken, "  v_at := now();\n", "  v_at := now(;\n")
    line = broken.read_text().splitlines().index("  v_at := now(;") + 1
    p = run_migrate(scratch, sql_dir)
    assert p.returncode != 0
    # The file, the line in it and the server's error (42601: syntax error).
    assert f"70_transfers.sql failed at line {line}:" in p.stderr and "42601" in p.stderr, p.stderr
    assert scratch.value("SELECT to_regclass('vehicles.widget')") is None
    assert functions(scratch) == funcs
    assert bookkeeping(scratch) == before


def test_a_file_that_commits_is_caught_even_when_it_begins_again(scratch, tmp_path):
    migrated(scratch)
    sql_dir = sql_copy(tmp_path)
    (sql_dir / "migrations" / "900_sneaky.sql").write_text(
        "CREATE TABLE vehicles.sneaky (id integer);\nCOMMIT;\nBEGIN;\n")
    p = run_migrate(scratch, sql_dir)
    assert p.returncode != 0
    assert "900_sneaky.sql ended the migration's transaction" in p.stderr, p.stderr
    # The log must not claim that nothing changed: the table before the COMMIT stays.
    assert "nothing was changed" not in p.stderr, p.stderr
    assert "stays committed" in p.stderr, p.stderr


def test_a_new_numbered_migration_re_applies_the_repeatable_files(scratch, tmp_path):
    migrated(scratch)
    sql_dir = sql_copy(tmp_path)
    # A numbered migration that re-creates a view loses what the repeatable files granted on
    # it; running them again in the same transaction puts it back.
    (sql_dir / "migrations" / "900_recreate.sql").write_text(
        "DROP VIEW vehicles.part_v;\n"
        "CREATE VIEW vehicles.part_v AS SELECT p.id, p.created_at, p.updated_at, p.user_id,"
        " p.name, p.type, p.brand, p.model, p.purchase_date, p.initial_kilometrage,"
        " p.total_kilometrage, p.metadata, NULL::uuid AS current_bike_id,"
        " p.total_moving_time_s FROM vehicles.user_part p;\n")
    p = migrated(scratch, sql_dir)
    assert "re-applying all" in p.stderr, p.stderr
    assert scratch.value("SELECT has_table_privilege('authenticated', 'vehicles.part_v', 'SELECT')")
    # The view is the repeatable file's again (current_bike_id from the installations).
    assert "part_installation" in scratch.value("SELECT pg_get_viewdef('vehicles.part_v')")
    assert_no_op(scratch, sql_dir)


def test_edited_applied_migration_is_refused(scratch, tmp_path):
    migrated(scratch)
    before, funcs = bookkeeping(scratch), functions(scratch)
    sql_dir = sql_copy(tmp_path)
    f = sql_dir / "migrations" / "008_function_names.sql"
    f.write_text(f.read_text() + "CREATE TABLE vehicles.sneaky (id integer);\n")
    p = run_migrate(scratch, sql_dir)
    assert p.returncode != 0
    assert "008_function_names.sql was edited after it was applied" in p.stderr, p.stderr
    assert scratch.value("SELECT to_regclass('vehicles.sneaky')") is None
    assert bookkeeping(scratch) == before and functions(scratch) == funcs


def build_legacy(db):
    """The database today's main would have left: the old bookkeeping, each file in its own
    transaction, recorded by version only."""
    with db.conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS vehicles_admin;"
                    "REVOKE ALL ON SCHEMA vehicles_admin FROM PUBLIC;"
                    "CREATE TABLE IF NOT EXISTS vehicles_admin.schema_migrations ("
                    " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
    files = sorted(LEGACY_DIR.glob("*.sql"))
    assert [f.name[:3] for f in files] == ["001", "002", "003", "004", "005", "006", "007"]
    db.conn.autocommit = False
    try:
        for f in files:
            with db.conn.cursor() as cur:
                cur.execute(f.read_text())
                cur.execute("INSERT INTO vehicles_admin.schema_migrations (version) VALUES (%s)",
                            (f.name,))
            db.conn.commit()
    finally:
        db.conn.autocommit = True


def as_user(db, user_id, query, args):
    """query as role authenticated with the user's claims, in a transaction of its own."""
    db.conn.autocommit = False
    try:
        with db.conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE authenticated")
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                        (json.dumps({"sub": user_id, "role": "authenticated"}),))
            cur.execute(query, args)
            out = cur.fetchall()
        db.conn.commit()
        return out
    except Exception:
        db.conn.rollback()
        raise
    finally:
        db.conn.autocommit = True


def totals(db):
    return db.rows("SELECT 'bike', total_kilometrage FROM vehicles.user_bike UNION ALL"
                   " SELECT 'part', total_kilometrage FROM vehicles.user_part ORDER BY 1")


def definitions(db):
    """Functions (with privileges), policies and views: what the repeatable files define."""
    return (db.rows("SELECT p.proname, pg_get_functiondef(p.oid), p.proacl::text FROM pg_proc p"
                    " JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'vehicles' ORDER BY 1"),
            db.rows("SELECT schemaname, tablename, policyname, roles::text, cmd, qual, with_check"
                    " FROM pg_policies ORDER BY 1, 2, 3"),
            db.rows("SELECT c.relname, c.relacl::text, c.reloptions::text,"
                    " CASE c.relkind WHEN 'v' THEN pg_get_viewdef(c.oid) END FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'vehicles' AND c.relkind IN ('r', 'v', 'S') ORDER BY 1"),
            # Column privileges (90_grants.sql), triggers (and whether they are on) and keys.
            db.rows("SELECT c.relname, a.attname, a.attacl::text FROM pg_attribute a"
                    " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = 'vehicles'"
                    " AND a.attacl IS NOT NULL ORDER BY 1, 2"),
            db.rows("SELECT c.relname, t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid)"
                    " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = 'vehicles' AND NOT t.tgisinternal"
                    " ORDER BY 1, 2"),
            db.rows("SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
                    " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = 'vehicles'"
                    " AND k.contype IN ('f', 'u', 'p') ORDER BY 1, 2"))


def test_database_migrated_by_the_old_main_upgrades_in_place(make_db):
    db = make_db()
    build_legacy(db)
    user = str(uuid.uuid4())
    db.rows("INSERT INTO auth.users (id, email, email_confirmed_at) VALUES (%s, %s, now())"
            " RETURNING id", (user, f"legacy-{user}@example.com"))
    bike = db.value("INSERT INTO vehicles.user_bike (user_id, name, type, initial_kilometrage,"
                    " total_kilometrage) VALUES (%s, 'old bike', 'road', 100, 100) RETURNING id",
                    (user,))
    part = db.value("INSERT INTO vehicles.user_part (user_id, name, type, initial_kilometrage,"
                    " total_kilometrage) VALUES (%s, 'old chain', 'chain', 5, 5) RETURNING id",
                    (user,))
    as_user(db, user, "SELECT vehicles.part_install(gen_random_uuid(), %s, %s,"
            " now() - interval '2 days')", (bike, part))
    as_user(db, user, "SELECT vehicles.log_ride(gen_random_uuid(), %s, 12.5,"
            " now() - interval '1 day', 'before the upgrade', NULL, NULL)", (bike,))
    before = totals(db)
    assert [(k, float(v)) for k, v in before] == [("bike", 112.5), ("part", 17.5)]

    p = migrated(db)
    assert "recorded the checksum of 002_vehicles_schema.sql" in p.stderr, p.stderr
    assert "applied migration 008_function_names.sql" in p.stderr, p.stderr
    names = set(functions(db))
    assert not names & set(RENAMED), f"old names left: {sorted(names & set(RENAMED))}"
    assert names == set(GRANTEES)
    assert totals(db) == before
    assert db.rows("SELECT * FROM vehicles.kilometrage_check()") == []
    assert_recorded(db)
    assert_secure(db)
    fresh = make_db()
    migrated(fresh)
    assert definitions(db) == definitions(fresh)
    assert_no_op(db)
    # And the new functions work on the upgraded data.
    as_user(db, user, "SELECT vehicles.ride_log(gen_random_uuid(), %s,"
            " jsonb_build_object('distance', 7.5, 'logged_at', now(), 'notes', NULL), NULL, NULL)", (bike,))
    assert [(k, float(v)) for k, v in totals(db)] == [("bike", 120.0), ("part", 25.0)]
    assert db.rows("SELECT * FROM vehicles.kilometrage_check()") == []


OLD_POLICIES = [
    ("USING (part_owner_id = (SELECT auth.uid()));",
     "USING (EXISTS (SELECT 1 FROM vehicles.user_part p"
     " WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())));"),
    ("USING ((SELECT auth.uid()) IN (bike_owner_id, part_owner_id));",
     "USING (EXISTS (SELECT 1 FROM vehicles.user_bike b"
     " WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid()))"
     " OR EXISTS (SELECT 1 FROM vehicles.user_part p"
     " WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())));"),
]


def sql_before_015(tmp_path):
    """The SQL of the release before 015: its repeatable files name no owner column."""
    d = sql_copy(tmp_path)
    (d / "migrations" / "015_child_owners.sql").unlink()
    for new, old in OLD_POLICIES:
        edit(d / "functions" / "20_policies.sql", new, old)
    edit(d / "functions" / "35_installations.sql",
         "CREATE TRIGGER owner_fill BEFORE INSERT OR UPDATE OF part_id ON vehicles.part_installation\n"
         "  FOR EACH ROW EXECUTE FUNCTION vehicles.installation_owner_fill();", "")
    edit(d / "functions" / "60_maintenance.sql",
         "CREATE TRIGGER owner_fill BEFORE INSERT OR UPDATE OF bike_id, part_id ON vehicles.maintenance_record\n"
         "  FOR EACH ROW EXECUTE FUNCTION vehicles.maintenance_owner_fill();", "")
    return d


def test_owners_are_filled_on_a_database_in_use(make_db, tmp_path):
    # 015 on a database the previous release served: the list cache's deferred triggers
    # are there, installations open and closed, a record on a bike and a part that has
    # changed owner since. The run must succeed and leave what a fresh database has.
    db = make_db()
    migrated(db, sql_before_015(tmp_path))
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for u in (a, b):
        db.rows("INSERT INTO auth.users (id, email, email_confirmed_at) VALUES (%s, %s, now())"
                " RETURNING id", (u, f"owners-{u}@example.com"))
    bike = db.value("INSERT INTO vehicles.user_bike (user_id, name, type) VALUES (%s, 'b', 'road')"
                    " RETURNING id::text", (a,))
    on, off, given = (db.value("INSERT INTO vehicles.user_part (user_id, name, type) VALUES"
                               " (%s, %s, 'chain') RETURNING id::text", (a, n))
                      for n in ("on", "off", "given"))
    as_user(db, a, "SELECT vehicles.part_install(gen_random_uuid(), %s, %s,"
            " now() - interval '3 days')", (bike, off))
    as_user(db, a, "SELECT vehicles.part_remove(%s, %s, now() - interval '2 days')", (bike, off))
    as_user(db, a, "SELECT vehicles.part_install(gen_random_uuid(), %s, %s,"
            " now() - interval '1 day')", (bike, on))
    rec = str(uuid.uuid4())
    as_user(db, a, "SELECT vehicles.maintenance_create(%s, %s, %s, '{\"maintenance_type\":"
            " \"inspection\", \"description\": \"before 015\"}')", (rec, bike, given))
    as_user(db, a, "SELECT vehicles.part_transfer(%s, %s, NULL)", (given, f"owners-{b}@example.com"))
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'list_gen_upd'"
                    " AND tgrelid = 'vehicles.part_installation'::regclass") == 1

    p = migrated(db)
    assert "applied migration 015_child_owners.sql" in p.stderr, p.stderr
    assert db.rows("SELECT part_id::text, part_owner_id::text FROM vehicles.part_installation"
                   " ORDER BY installed_at") == [(off, a), (on, a)]
    assert db.rows("SELECT bike_owner_id::text, part_owner_id::text FROM vehicles.maintenance_record"
                   " WHERE id = %s", (rec,)) == [(a, b)]
    # Both owners read the record (through the new policy); each reads their own
    # installations only; the list cache's trigger is on again.
    for u in (a, b):
        assert as_user(db, u, "SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                       (rec,)) == [(1,)]
    assert as_user(db, a, "SELECT count(*) FROM vehicles.part_installation", None) == [(2,)]
    assert as_user(db, b, "SELECT count(*) FROM vehicles.part_installation", None) == [(0,)]
    assert_secure(db)
    fresh = make_db()
    migrated(fresh)
    assert definitions(db) == definitions(fresh)
    assert_no_op(db)


def test_migrate_database_url_wins_over_database_url(scratch):
    unreachable = "host=/nonexistent dbname=x connect_timeout=2"
    p = run_migrate(unreachable)
    assert p.returncode != 0 and "connect failed" in p.stderr, p.stderr
    p = run_migrate(unreachable, env={"MIGRATE_DATABASE_URL": scratch.dsn})
    assert p.returncode == 0, p.stderr
    assert_recorded(scratch)


def referenced_names(text):
    return set(re.findall(r"\bvehicles\.([a-z_][a-z0-9_]*)\(", text))


def sql_calls():
    """Calls between the repeatable files: their text without comments and without the
    definitions and privileges of the functions (FUNCTION vehicles.x(...))."""
    out = set()
    for f in (SQL_DIR / "functions").glob("*.sql"):
        text = re.sub(r"--[^\n]*", "", f.read_text())
        # A trigger's EXECUTE FUNCTION vehicles.x() is a use of x, not its definition.
        out |= referenced_names(re.sub(r"(?<!EXECUTE )\bFUNCTION\s+vehicles\.", "FUNCTION ", text,
                                       flags=re.I))
    return out


def test_inventory_every_function_is_used_and_every_call_exists(scratch):
    migrated(scratch)
    have = set(functions(scratch))
    c_refs = set()
    for f in (REPO / "src").glob("*.c"):
        c_refs |= referenced_names(f.read_text(errors="replace"))
    others = set()
    paths = [p for p in (REPO / "scripts").rglob("*") if p.is_file()]
    paths += [p for p in (REPO / "tests" / "http").glob("*.py") if p.name != "test_migrate.py"]
    # README.md documents the operators' entry points (idempotency_sweep).
    paths.append(REPO / "README.md")
    for p in paths:
        others |= referenced_names(p.read_text(errors="replace"))
    unused = have - c_refs - sql_calls() - others
    assert not unused, f"functions nothing calls: {sorted(unused)}"
    missing = c_refs - have
    assert not missing, f"src/*.c calls functions that do not exist: {sorted(missing)}"


def assert_secure(db):
    rows = db.rows(
        "SELECT p.proname, has_function_privilege('anon', p.oid, 'EXECUTE'),"
        " coalesce((SELECT bool_or(a.grantee = 0) FROM aclexplode(p.proacl) a), true),"
        " ARRAY(SELECT r.rolname FROM aclexplode(p.proacl) a JOIN pg_roles r ON r.oid = a.grantee"
        "       WHERE a.grantee <> p.proowner AND a.privilege_type = 'EXECUTE' ORDER BY 1),"
        " p.prosecdef, coalesce(p.proconfig, '{}')"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'vehicles' ORDER BY 1")
    assert rows
    for name, anon, public, grantees, secdef, config in rows:
        assert not anon, f"anon can execute vehicles.{name}"
        assert not public, f"PUBLIC can execute vehicles.{name}"
        assert set(grantees) == GRANTEES.get(name), f"vehicles.{name} is granted to {grantees}"
        if secdef:
            assert any(c.startswith("search_path=") for c in config), \
                f"security definer vehicles.{name} has no search_path"
    for name in ("kilometrage_check", "idempotency_sweep", "summary_get", "recipient_find"):
        assert not db.value("SELECT has_function_privilege('authenticated', to_regproc(%s),"
                            " 'EXECUTE')", ("vehicles." + name,)), name
    assert not db.value("SELECT bool_or(has_table_privilege('anon', c.oid, 'SELECT'))"
                        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = 'vehicles' AND c.relkind IN ('r', 'v')")


def test_security_of_a_fresh_database(scratch):
    migrated(scratch)
    assert_secure(scratch)
