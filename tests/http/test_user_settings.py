"""public.user_settings belongs to the platform (issue 9, point 4), checked on scratch
databases of the test cluster migrated with vehicle-migrate (MIGRATE_BIN, as in
test_migrate.py). Where the table already exists (Supabase), the migrations add the column
active_bike_id and its foreign key and change nothing else: no RLS switch, policy or grant.
Where they create it, anon and authenticated get nothing (also against Supabase's default
privileges in public): the service reads and writes it through security-definer functions.
A database migrated by the old main loses our old policy and grants on it once, and keeps
its RLS switch. Wherever the table comes from, active_bike_id can only be the user's own
bike, even for the superuser."""
import json
import os
import pathlib
import subprocess
import uuid

import psycopg2
import psycopg2.extensions
from psycopg2 import sql as pgsql
import pytest

import support

REPO = pathlib.Path(__file__).resolve().parents[2]
LEGACY_DIR = REPO / "tests" / "fixtures" / "legacy_sql"
MIGRATE_BIN = os.environ.get("MIGRATE_BIN") or str(REPO / "build" / "vehicle-migrate")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


class Scratch:
    def __init__(self, name):
        params = psycopg2.extensions.parse_dsn(support.DATABASE_URL)
        params["dbname"] = name
        self.name = name
        self.dsn = psycopg2.extensions.make_dsn(**params)
        self.conn = psycopg2.connect(self.dsn, connect_timeout=5)
        self.conn.autocommit = True

    def rows(self, query, args=None):
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else cur.rowcount

    def value(self, query, args=None):
        return self.rows(query, args)[0][0]

    def migrate(self):
        assert os.access(MIGRATE_BIN, os.X_OK), f"no vehicle-migrate at {MIGRATE_BIN}"
        env = {k: v for k, v in os.environ.items() if k != "MIGRATE_DATABASE_URL"}
        env["DATABASE_URL"] = self.dsn
        p = subprocess.run([MIGRATE_BIN, str(REPO / "sql")], env=env, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stderr

    def as_user(self, user_id, query, args=None):
        """query as role authenticated with the user's claims, committed."""
        self.conn.autocommit = False
        try:
            with self.conn.cursor() as cur:
                cur.execute("SET LOCAL ROLE authenticated")
                cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                            (json.dumps({"sub": user_id, "role": "authenticated"}),))
                cur.execute(query, args)
                out = cur.fetchall()
            self.conn.commit()
            return out
        except Exception:
            self.conn.rollback()
            raise
        finally:
            self.conn.autocommit = True


@pytest.fixture
def make_db():
    made = []
    admin = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    admin.autocommit = True

    def make():
        name = "vs_settings_" + uuid.uuid4().hex[:16]
        with admin.cursor() as cur:
            cur.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        made.append(Scratch(name))
        return made[-1]

    yield make
    for db in made:
        db.conn.close()
        with admin.cursor() as cur:
            cur.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                pgsql.Identifier(db.name)))
    admin.close()


def platform_state(db):
    """What the platform set on public.user_settings: privileges, RLS, policies, columns
    and constraints (by name and definition)."""
    return {
        "acl": db.value("SELECT relacl::text FROM pg_class WHERE oid = 'public.user_settings'::regclass"),
        "rls": db.rows("SELECT relrowsecurity, relforcerowsecurity FROM pg_class"
                       " WHERE oid = 'public.user_settings'::regclass"),
        "policies": db.rows("SELECT policyname, permissive, roles::text, cmd, qual, with_check"
                            " FROM pg_policies WHERE schemaname = 'public'"
                            " AND tablename = 'user_settings' ORDER BY 1"),
        "columns": db.rows("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                           " WHERE attrelid = 'public.user_settings'::regclass AND attnum > 0"
                           " AND NOT attisdropped ORDER BY attnum"),
        "constraints": db.rows("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                               " WHERE conrelid = 'public.user_settings'::regclass ORDER BY 1"),
    }


def privileges(db, role):
    return [p for p in PRIVILEGES
            if db.value("SELECT has_table_privilege(%s, 'public.user_settings', %s)", (role, p))]


OUR_FK = ("user_settings_active_bike_owner_fkey", "FOREIGN KEY (active_bike_id, user_id)"
          " REFERENCES vehicles.user_bike(id, user_id) ON DELETE SET NULL (active_bike_id)")


def add_user(db):
    uid = str(uuid.uuid4())
    db.rows("INSERT INTO auth.users (id, email, email_confirmed_at) VALUES (%s, %s, now())",
            (uid, f"settings-{uid}@example.test"))
    return uid


def check_service_works(db):
    """Through the functions only: set, read and clear the active bike; another user's bike
    can be set by nobody, not even the superuser."""
    a, b = add_user(db), add_user(db)
    bikes = {}
    for u in (a, b):
        (bikes[u],), = db.as_user(u, "SELECT vehicles.gear_create('bike', gen_random_uuid(),"
                                  " '{\"name\": \"n\", \"type\": \"road\"}')")
        db.as_user(u, "SELECT vehicles.bike_set_active(%s)", (bikes[u],))
    assert db.as_user(a, "SELECT vehicles.bike_active_id()") == [(bikes[a],)]
    assert db.as_user(a, "SELECT id, is_active FROM vehicles.bike_v") == [(bikes[a], True)]
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        db.rows("UPDATE public.user_settings SET active_bike_id = %s WHERE user_id = %s",
                (bikes[b], a))
    db.as_user(a, "SELECT vehicles.bike_deactivate(%s)", (bikes[a],))
    assert db.as_user(a, "SELECT vehicles.bike_active_id()") == [(None,)]
    # A deleted bike is nobody's active bike; the settings row stays.
    db.as_user(b, "SELECT vehicles.bike_delete(%s)", (bikes[b],))
    assert db.rows("SELECT active_bike_id FROM public.user_settings WHERE user_id = %s",
                   (b,)) == [(None,)]


def make_platform_table(db, rls):
    """public.user_settings as the platform made it, before our migrations: its own
    columns, a row, a restrictive policy and its own grants."""
    db.rows("CREATE TABLE public.user_settings (user_id uuid PRIMARY KEY, theme text,"
            " created_at timestamptz NOT NULL DEFAULT now(),"
            " updated_at timestamptz NOT NULL DEFAULT now())")
    db.rows("INSERT INTO public.user_settings (user_id, theme) VALUES (gen_random_uuid(), 'dark')")
    db.rows("CREATE POLICY platform_own_row ON public.user_settings AS RESTRICTIVE FOR ALL"
            " TO authenticated USING (user_id::text = current_setting('request.jwt.claim.sub',"
            " true))")
    db.rows("GRANT SELECT ON public.user_settings TO anon")
    db.rows("GRANT DELETE, REFERENCES ON public.user_settings TO authenticated")
    db.rows("GRANT SELECT, TRIGGER ON public.user_settings TO service_role")
    if rls:
        db.rows("ALTER TABLE public.user_settings ENABLE ROW LEVEL SECURITY")


@pytest.mark.parametrize("rls", [True, False], ids=["rls-on", "rls-off"])
def test_platform_table_keeps_everything_the_platform_set(make_db, rls):
    db = make_db()
    make_platform_table(db, rls)
    before = platform_state(db)
    rows = db.rows("SELECT user_id, theme FROM public.user_settings")
    db.migrate()
    after = platform_state(db)
    # Nothing of the platform's changes; the column and its foreign key are added.
    for key in ("acl", "rls", "policies"):
        assert after[key] == before[key], key
    assert after["columns"] == before["columns"] + [("active_bike_id", "uuid")]
    assert after["constraints"] == sorted(before["constraints"] + [OUR_FK])
    assert db.rows("SELECT user_id, theme FROM public.user_settings") == rows
    check_service_works(db)
    # A second run changes nothing either.
    state = platform_state(db)
    assert "nothing applied" in db.migrate()
    assert platform_state(db) == state


def test_table_created_by_us_gives_anon_and_authenticated_nothing(make_db):
    db = make_db()
    # As on Supabase: tables postgres creates in public are granted to the API roles.
    db.rows("ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            " GRANT ALL ON TABLES TO anon, authenticated, service_role")
    try:
        db.migrate()
        for role in ("anon", "authenticated", "service_role", "public"):
            assert privileges(db, role) == [], role
        state = platform_state(db)
        assert state["policies"] == []
        assert state["rls"] == [(True, False)]
        assert OUR_FK in state["constraints"]
        assert not any(c[0] == "user_settings_active_bike_id_fkey" for c in state["constraints"])
        check_service_works(db)
    finally:
        db.rows("ALTER DEFAULT PRIVILEGES IN SCHEMA public"
                " REVOKE ALL ON TABLES FROM anon, authenticated, service_role")


def build_legacy(db, between=None):
    """The database the old main left: its migrations, each in its own transaction, and the
    old bookkeeping (as test_migrate.py builds it). between(db) runs after 003."""
    db.rows("CREATE SCHEMA IF NOT EXISTS vehicles_admin;"
            "CREATE TABLE IF NOT EXISTS vehicles_admin.schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
    for f in sorted(LEGACY_DIR.glob("*.sql")):
        db.conn.autocommit = False
        try:
            with db.conn.cursor() as cur:
                cur.execute(f.read_text())
                cur.execute("INSERT INTO vehicles_admin.schema_migrations (version) VALUES (%s)",
                            (f.name,))
            db.conn.commit()
        finally:
            db.conn.autocommit = True
        if f.name.startswith("003") and between:
            between(db)


@pytest.mark.parametrize("rls", [True, False], ids=["rls-on", "rls-off"])
def test_legacy_database_loses_our_policy_and_grants_and_keeps_its_rls_switch(make_db, rls):
    db = make_db()

    def operator(d):
        if not rls:
            d.rows("ALTER TABLE public.user_settings DISABLE ROW LEVEL SECURITY")

    build_legacy(db, operator)
    assert [p[0] for p in platform_state(db)["policies"]] == ["user_settings_vehicles_owner"]
    assert privileges(db, "authenticated") == ["SELECT", "INSERT", "UPDATE"]
    # Rows: an active bike of the user's own, and one set by hand to another user's bike
    # (the old single-column key allowed it).
    a, b = add_user(db), add_user(db)
    bike = {u: db.value("INSERT INTO vehicles.user_bike (user_id, name, type) VALUES (%s, 'n',"
                        " 'road') RETURNING id::text", (u,)) for u in (a, b)}
    db.rows("INSERT INTO public.user_settings (user_id, active_bike_id) VALUES (%s, %s), (%s, %s)",
            (a, bike[a], b, bike[a]))
    db.migrate()
    state = platform_state(db)
    assert state["policies"] == []
    assert state["rls"] == [(rls, False)]
    for role in ("anon", "authenticated", "service_role", "public"):
        assert privileges(db, role) == [], role
    assert OUR_FK in state["constraints"]
    assert db.rows("SELECT user_id::text, active_bike_id::text FROM public.user_settings"
                   " ORDER BY user_id = %s DESC", (a,)) == [(a, bike[a]), (b, None)]
    check_service_works(db)


def test_legacy_database_on_a_platform_table_takes_back_only_our_grants(make_db):
    # The platform's table existed before the old main's migrations ran on it: our old grants
    # (SELECT, INSERT, UPDATE to authenticated; ALL to service_role) go, the platform's own
    # (anon SELECT, authenticated DELETE and REFERENCES) stay, with a warning in the log.
    db = make_db()
    db.rows("CREATE TABLE public.user_settings (user_id uuid PRIMARY KEY, theme text,"
            " created_at timestamptz NOT NULL DEFAULT now(),"
            " updated_at timestamptz NOT NULL DEFAULT now())")
    db.rows("GRANT SELECT ON public.user_settings TO anon")
    db.rows("GRANT DELETE, REFERENCES ON public.user_settings TO authenticated")
    build_legacy(db)
    log = db.migrate()
    assert "revoked the grants of older vehicle-service releases" in log, log
    assert privileges(db, "anon") == ["SELECT"]
    assert privileges(db, "authenticated") == ["DELETE", "REFERENCES"]
    assert privileges(db, "service_role") == []
    assert platform_state(db)["policies"] == []
    check_service_works(db)
