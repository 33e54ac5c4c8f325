"""Row-level security as a real second layer (issue 9, point 5), for bikes, parts,
maintenance, the active bike and the privileges of the API roles: as role `authenticated`
with forged claims of user A (what anyone with SQL access to the database would have, e.g.
through PostgREST), A reads none of B's rows in any table or view, changes no table
directly, and every function A may call enforces every rule of its write (ownership, the
5-minute future limit, the fields' limits) without the worker's checks in front. `anon` can
do nothing. The kilometrage tables and functions are in test_sql_kilometrage.py."""
import datetime
import json
import threading
import time

import psycopg2
import pytest

import support
from flows import DAY, install, maint, new_bike, new_part, ride, ts
from support import assert_status, random_uuid

DENIED = "42501"  # insufficient_privilege


class As:
    """Statements as an API role (authenticated with `sub` = the user's id, or anon), each in
    a transaction of its own, rolled back unless commit=True."""

    def __init__(self, user=None, role="authenticated"):
        self.user = user
        self.role = role
        self.conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)

    def pid(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        self.conn.rollback()
        return pid

    def run(self, sql, args=None, commit=False, lock_timeout=None):
        try:
            with self.conn.cursor() as cur:
                if lock_timeout:
                    cur.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                cur.execute(f"SET LOCAL ROLE {self.role}")
                if self.user is not None:
                    cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                                (json.dumps({"sub": self.user.id, "role": self.role}),))
                cur.execute(sql, args)
                rows = cur.fetchall() if cur.description else cur.rowcount
            if commit:
                self.conn.commit()
            return rows
        finally:
            if not commit:
                self.conn.rollback()

    def error(self, sql, args=None, **kw):
        """(SQLSTATE, primary message) of the error the statement must raise."""
        try:
            got = self.run(sql, args, **kw)
        except psycopg2.Error as e:
            self.conn.rollback()
            return e.pgcode, e.diag.message_primary
        raise AssertionError(f"no error from {sql} {args}: {got}")

    def close(self):
        self.conn.close()


@pytest.fixture
def as_a(user):
    a = As(user)
    yield a
    a.close()


@pytest.fixture
def as_b(other):
    b = As(other)
    yield b
    b.close()


@pytest.fixture
def as_anon():
    a = As(None, role="anon")
    yield a
    a.close()


def _own(client, idem_key):
    """A bike (active) with a part on it, a ride with an Idempotency-Key, a maintenance
    record on both, and a part given to C (ownership history)."""
    bike = new_bike(client)
    part = new_part(client)
    install(client, bike, part, at=ts(-3 * DAY))
    log = ride(client, bike, 5, logged_at=ts(-2 * DAY), headers={"Idempotency-Key": idem_key})
    m = maint(client, "bike", bike, part_id=part["id"])
    assert_status(client.post(f"/api/bikes/{bike['id']}/set-active"), 200)
    given = new_part(client, name="given to C")
    return {"bike": bike["id"], "part": part["id"], "log": log["log"]["id"], "maint": m["id"],
            "given": given["id"]}


def _give(client, part, to):
    r = client.post(f"/api/parts/{part}/transfer", json={"new_owner_email": to.email})
    assert_status(r, 200)


@pytest.fixture
def world(user, other, make_user, as_a, api, other_api):
    """A's and B's things. A has made a bike under the id of the part B then gave to C (ids
    are not secret forever: a previous owner knows them)."""
    c = make_user(tag="c")
    w = {"a": _own(api, "a-key"), "b": _own(other_api, "b-key")}
    as_a.run("SELECT vehicles.gear_create('bike', %s, '{\"name\": \"Q\", \"type\": \"road\"}')",
             (w["b"]["given"],), commit=True)
    _give(api, w["a"]["given"], c)
    _give(other_api, w["b"]["given"], c)
    w["a"]["user"], w["b"]["user"] = user.id, other.id
    return w


# Every table and view of schema vehicles, with the condition that picks one side's rows.
READS = [
    ("vehicles.user_bike", "id = %(bike)s"),
    ("vehicles.user_part", "id = %(part)s"),
    ("vehicles.part_installation", "part_id = %(part)s"),
    ("vehicles.kilometrage_log", "bike_id = %(bike)s"),
    ("vehicles.kilometrage_credit", "part_id = %(part)s"),
    ("vehicles.maintenance_record", "id = %(maint)s"),
    ("vehicles.ownership_history", "previous_owner_id = %(user)s"),
    ("vehicles.idempotency_key", "user_id = %(user)s"),
    ("vehicles.bike_v", "id = %(bike)s"),
    ("vehicles.part_v", "id = %(part)s"),
]


def test_a_reads_none_of_bs_rows(as_a, as_b, world):
    for table, cond in READS:
        mine = as_a.run(f"SELECT count(*) FROM {table} WHERE {cond}", world["a"])[0][0]
        theirs = as_a.run(f"SELECT count(*) FROM {table} WHERE {cond}", world["b"])[0][0]
        # The rows exist: B reads them.
        assert as_b.run(f"SELECT count(*) FROM {table} WHERE {cond}", world["b"])[0][0] >= 1, table
        assert mine >= 1 and theirs == 0, (table, mine, theirs)
    # Not even the history of B's part Q, though A's bike has Q's id.
    assert as_a.run("SELECT count(*) FROM vehicles.ownership_history WHERE entity_id = %s",
                    (world["b"]["given"],)) == [(0,)]
    # Withheld rides name other users' rides: nobody reads them; nor the platform's table.
    for table in ("vehicles.kilometrage_withheld", "public.user_settings"):
        assert as_a.error(f"SELECT * FROM {table}")[0] == DENIED, table
    # Functions that read answer for A's own things only.
    assert as_a.run("SELECT vehicles.maintenance_km_since(%s)", (world["b"]["bike"],)) == [(None,)]
    assert as_a.run("SELECT vehicles.bike_active_id()") == [(world["a"]["bike"],)]


def test_a_history_id_cannot_be_taken_again(as_a, api, other_api, make_user):
    # B gives bike X to C, who deletes it: X's history stays (B -> C). A, who knows X's id,
    # cannot create a bike under it and so read that history.
    c = make_user(tag="c")
    x = new_bike(other_api)
    assert_status(other_api.post(f"/api/bikes/{x['id']}/transfer",
                                 json={"new_owner_email": c.email}), 200)
    assert_status(c.api.delete(f"/api/bikes/{x['id']}"), 200)
    for kind in ("bike", "part"):
        code, _ = as_a.error("SELECT vehicles.gear_create(%s, %s, '{\"name\": \"n\","
                             " \"type\": \"other\"}')", (kind, x["id"]))
        assert code == "VS409", kind
    assert as_a.run("SELECT count(*) FROM vehicles.ownership_history WHERE entity_id = %s",
                    (x["id"],)) == [(0,)]


# ---- no direct writes -------------------------------------------------------------------------

WRITES = [
    # Totals rewritten, rows given away or taken back.
    "UPDATE vehicles.user_bike SET total_kilometrage = 99999 WHERE id = %(bike)s",
    "UPDATE vehicles.user_bike SET user_id = %(other)s WHERE id = %(bike)s",
    "INSERT INTO vehicles.user_bike (user_id, name, type) VALUES (%(user)s, 'x', 'road')",
    "DELETE FROM vehicles.user_bike WHERE id = %(bike)s",
    "UPDATE vehicles.user_part SET total_kilometrage = 99999 WHERE id = %(part)s",
    "INSERT INTO vehicles.user_part (user_id, name, type) VALUES (%(user)s, 'x', 'chain')",
    "DELETE FROM vehicles.user_part WHERE id = %(part)s",
    # Maintenance: a record rewritten, one forged on the caller's own bike.
    "UPDATE vehicles.maintenance_record SET description = 'forged' WHERE id = %(maint)s",
    "INSERT INTO vehicles.maintenance_record (user_id, bike_id, maintenance_type, description,"
    " performed_at) VALUES (%(user)s, %(bike)s, 'repair', 'x', now() + interval '1 year')",
    "DELETE FROM vehicles.maintenance_record WHERE id = %(maint)s",
    # History forged or erased.
    "INSERT INTO vehicles.ownership_history (entity_type, entity_id, previous_owner_id,"
    " new_owner_id) VALUES ('bike', %(bike)s, %(other)s, %(user)s)",
    "DELETE FROM vehicles.ownership_history WHERE previous_owner_id = %(user)s",
    "UPDATE vehicles.ownership_history SET notes = 'x' WHERE previous_owner_id = %(user)s",
    "DELETE FROM vehicles.idempotency_key WHERE user_id = %(user)s",
    "DELETE FROM vehicles.kilometrage_log WHERE bike_id = %(bike)s",
    "DELETE FROM vehicles.part_installation WHERE part_id = %(part)s",
    # Through bike_v (auto-updatable, security invoker; part_v, a join, is not updatable).
    "UPDATE vehicles.bike_v SET name = 'x' WHERE id = %(bike)s",
    "DELETE FROM vehicles.bike_v WHERE id = %(bike)s",
    # The platform's table: the active bike pointed at B's bike, or A's row taken over.
    "UPDATE public.user_settings SET active_bike_id = %(other_bike)s WHERE user_id = %(user)s",
    "DELETE FROM public.user_settings WHERE user_id = %(user)s",
    "INSERT INTO public.user_settings (user_id, active_bike_id) VALUES (%(user)s, %(bike)s)"
    " ON CONFLICT (user_id) DO UPDATE SET active_bike_id = %(other_bike)s",
] + [f"TRUNCATE {t}" for t in (
    "vehicles.user_bike", "vehicles.user_part", "vehicles.part_installation",
    "vehicles.kilometrage_log", "vehicles.kilometrage_credit", "vehicles.kilometrage_withheld",
    "vehicles.maintenance_record", "vehicles.ownership_history", "vehicles.idempotency_key",
    "public.user_settings")]


@pytest.mark.parametrize("sql", WRITES)
def test_no_direct_writes(as_a, user, other, world, sql):
    args = dict(world["a"], user=user.id, other=other.id, other_bike=world["b"]["bike"])
    assert as_a.error(sql, args)[0] == DENIED, sql


def _privileges(db, role, kinds):
    return db.query(
        "SELECT n.nspname || '.' || c.relname, p FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace,"
        " unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']"
        "        ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',"
        "                   'TRIGGER'] END) p"
        " WHERE (n.nspname = 'vehicles' OR c.oid = 'public.user_settings'::regclass)"
        "   AND c.relkind::text = ANY(%s)"
        "   AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%s, c.oid, p)"
        "            ELSE has_table_privilege(%s, c.oid, p) END ORDER BY 1, 2",
        (list(kinds), role, role))


def test_api_roles_privileges(db, as_anon, world):
    # Every relation of schema vehicles (new ones included): authenticated reads, and only
    # reads; anon nothing at all. The platform's table (created by our migrations here):
    # neither has anything.
    got = _privileges(db, "authenticated", "rvmpfS")
    assert all(p == "SELECT" for _, p in got), [g for g in got if g[1] != "SELECT"]
    readable = {t for t, _ in got}
    assert "public.user_settings" not in readable
    assert "vehicles.kilometrage_withheld" not in readable
    assert {"vehicles.user_bike", "vehicles.bike_v", "vehicles.part_v"} <= readable
    assert _privileges(db, "anon", "rvmpfS") == []
    assert db.query("SELECT has_schema_privilege('anon', 'vehicles', 'USAGE')") == [(False,)]
    assert db.query(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n"
        " ON n.oid = p.pronamespace WHERE n.nspname = 'vehicles'"
        " AND has_function_privilege('anon', p.oid, 'EXECUTE')") == []
    # And as anon, behaviourally.
    for sql in ["SELECT * FROM public.user_settings", "SELECT vehicles.bike_active_id()",
                "SELECT vehicles.gear_create('bike', gen_random_uuid(), '{}')",
                "SELECT vehicles.bike_set_active(%(bike)s)"] + \
               [f"SELECT * FROM {t}" for t, _ in READS]:
        assert as_anon.error(sql, world["a"])[0] == DENIED, sql


def test_functions_users_may_call_that_write_are_security_definer(db):
    # A function authenticated may call that may write (VOLATILE) runs as its owner, since
    # authenticated has no write privilege, and so sets its search_path; one that reads
    # (STABLE, IMMUTABLE) runs as the caller, under RLS, or as its owner with a search_path.
    rows = db.query(
        "SELECT p.proname, p.provolatile, p.prosecdef, coalesce(p.proconfig, '{}')"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'vehicles' AND has_function_privilege('authenticated', p.oid,"
        " 'EXECUTE') ORDER BY 1")
    assert rows
    for name, volatile, secdef, config in rows:
        if volatile == "v":
            assert secdef, f"vehicles.{name} may write and runs as the caller"
        if secdef:
            assert any(c.startswith("search_path=") for c in config), name


# ---- functions: what A may call checks ownership ---------------------------------------------

def test_functions_refuse_bs_ids(as_a, world):
    a, b = world["a"], world["b"]
    empty = "'{}'::jsonb"
    rec = "'{\"maintenance_type\": \"repair\", \"description\": \"x\"}'"
    cases = [
        (f"SELECT vehicles.gear_update('bike', %(b_bike)s, {empty})", "VS403"),
        (f"SELECT vehicles.gear_update('part', %(b_part)s, {empty})", "VS403"),
        (f"SELECT vehicles.gear_update('bike', %(nobody)s, {empty})", "VS404"),
        ("SELECT vehicles.gear_assert('bike', %(b_bike)s)", "VS403"),
        ("SELECT vehicles.gear_lock('part', %(b_part)s)", "VS403"),
        ("SELECT vehicles.bike_delete(%(b_bike)s)", "VS403"),
        ("SELECT vehicles.bike_set_active(%(b_bike)s)", "VS403"),
        ("SELECT vehicles.bike_deactivate(%(b_bike)s)", "VS403"),
        (f"SELECT vehicles.maintenance_create(gen_random_uuid(), %(b_bike)s, NULL, {rec})", "VS403"),
        (f"SELECT vehicles.maintenance_create(gen_random_uuid(), NULL, %(b_part)s, {rec})", "VS403"),
        (f"SELECT vehicles.maintenance_create(gen_random_uuid(), %(a_bike)s, %(b_part)s, {rec})",
         "VS403"),
        (f"SELECT vehicles.maintenance_create(gen_random_uuid(), %(b_bike)s, %(a_part)s, {rec})",
         "VS403"),
        (f"SELECT vehicles.maintenance_create(gen_random_uuid(), %(nobody)s, NULL, {rec})", "VS404"),
    ]
    args = {"a_bike": a["bike"], "a_part": a["part"], "b_bike": b["bike"], "b_part": b["part"],
            "nobody": random_uuid()}
    for sql, want in cases:
        assert as_a.error(sql, args)[0] == want, sql
    # Refused before the lock: a row B's transaction holds does not make A wait (nor can A
    # hold a lock on B's row).
    holder = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (b["bike"],))
            for sql in ("SELECT vehicles.gear_lock('bike', %(b_bike)s)",
                        "SELECT vehicles.bike_set_active(%(b_bike)s)",
                        f"SELECT vehicles.maintenance_create(gen_random_uuid(), %(b_bike)s, NULL,"
                        f" {rec})"):
                assert as_a.error(sql, args, lock_timeout="2s")[0] == "VS403", sql
    finally:
        holder.close()


def _wait_for_lock(pid, timeout=5.0):
    end = time.monotonic() + timeout
    with psycopg2.connect(support.DATABASE_URL, connect_timeout=5) as probe:
        probe.autocommit = True
        with probe.cursor() as cur:
            while time.monotonic() < end:
                cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
                row = cur.fetchone()
                if row and row[0] == "Lock":
                    return
                time.sleep(0.02)
    raise AssertionError("the call never waited for the bike's lock")


@pytest.mark.parametrize("call", [
    "SELECT vehicles.gear_update('bike', %(bike)s, '{\"name\": \"renamed\"}')",
    "SELECT vehicles.bike_delete(%(bike)s)",
    "SELECT vehicles.bike_set_active(%(bike)s)",
    "SELECT vehicles.maintenance_create(gen_random_uuid(), %(bike)s, NULL,"
    " '{\"maintenance_type\": \"repair\", \"description\": \"x\"}')",
])
def test_a_bike_given_away_while_a_write_waited_is_refused(db, as_a, api, user, other, call):
    # A's write checks A's bike, then waits for its lock while a transfer (held here) gives
    # it to B: once the transfer commits, the write sees B's bike and refuses (403), changing
    # nothing of B's.
    bike = new_bike(api, name="mine")["id"]
    pid = as_a.pid()
    out = {}

    def write():
        try:
            out["rows"] = as_a.run(call, {"bike": bike}, commit=True)
        except psycopg2.Error as e:
            as_a.conn.rollback()
            out["code"] = e.pgcode

    holder = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (bike,))
            t = threading.Thread(target=write)
            t.start()
            _wait_for_lock(pid)
            cur.execute("UPDATE vehicles.user_bike SET user_id = %s WHERE id = %s", (other.id, bike))
        holder.commit()
    finally:
        holder.close()
    t.join(15)
    assert out.get("code") == "VS403", out
    assert db.query("SELECT user_id::text, name FROM vehicles.user_bike WHERE id = %s",
                    (bike,)) == [(other.id, "mine")]
    assert db.query("SELECT count(*) FROM vehicles.maintenance_record WHERE bike_id = %s",
                    (bike,)) == [(0,)]
    assert db.query("SELECT count(*) FROM public.user_settings WHERE active_bike_id = %s",
                    (bike,)) == [(0,)]


# ---- functions: what A may call checks every field ----------------------------------------

def _future(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.isoformat()


def test_maintenance_create_refuses_times_in_the_future(as_a, world):
    a = world["a"]
    sql = ("SELECT vehicles.maintenance_create(gen_random_uuid(), %s, NULL, jsonb_build_object("
           "'maintenance_type', 'repair', 'description', 'x', 'performed_at', %s::text))")
    assert as_a.error(sql, (a["bike"], _future(60))) == ("VS400", "performed_at")
    assert as_a.error(sql, (a["bike"], "infinity")) == ("VS400", "performed_at")
    # Within the 5 minutes of clock skew allowed: accepted.
    assert len(as_a.run(sql, (a["bike"], _future(3)))) == 1


GEAR_BAD = [
    # (kind, fields, field named)
    ("bike", {"type": "road"}, "name"),
    ("bike", {"name": "", "type": "road"}, "name"),
    ("bike", {"name": "   ", "type": "road"}, "name"),
    ("bike", {"name": "n" * 101, "type": "road"}, "name"),
    ("bike", {"name": 5, "type": "road"}, "name"),
    ("bike", {"name": "n", "type": "chain"}, "type"),
    ("part", {"name": "n", "type": "road"}, "type"),
    ("bike", {"name": "n", "type": "road", "brand": "b" * 101}, "brand"),
    ("bike", {"name": "n", "type": "road", "model": ["m"]}, "model"),
    ("bike", {"name": "n", "type": "road", "purchase_date": "today"}, "purchase_date"),
    ("bike", {"name": "n", "type": "road", "purchase_date": "2023-02-29"}, "purchase_date"),
    ("bike", {"name": "n", "type": "road", "purchase_date": "infinity"}, "purchase_date"),
    ("bike", {"name": "n", "type": "road", "initial_kilometrage": -1}, "initial_kilometrage"),
    ("bike", {"name": "n", "type": "road", "initial_kilometrage": 1000000.5},
     "initial_kilometrage"),
    ("part", {"name": "n", "type": "chain", "initial_kilometrage": "NaN"}, "initial_kilometrage"),
    ("bike", {"name": "n", "type": "road", "metadata": []}, "metadata"),
    ("part", {"name": "n", "type": "chain", "metadata": {"replacement_threshold_km": "lots"}},
     "metadata.replacement_threshold_km"),
    ("bike", {"name": "n", "type": "road", "metadata": {"maintenance_interval_km": -1}},
     "metadata.maintenance_interval_km"),
    ("bike", {"name": "n", "type": "road", "metadata": {"maintenance_interval_km": 1e8}},
     "metadata.maintenance_interval_km"),
    ("bike", {"name": "n", "type": "road", "total_kilometrage": 5}, "total_kilometrage"),
    ("bike", {"name": "n", "type": "road", "user_id": random_uuid()}, "user_id"),
]


@pytest.mark.parametrize("kind,fields,field", GEAR_BAD)
def test_gear_create_and_update_check_every_field(as_a, api, kind, fields, field):
    sql = "SELECT vehicles.gear_create(%s, gen_random_uuid(), %s)"
    assert as_a.error(sql, (kind, json.dumps(fields))) == ("VS400", field)
    # The same field in a patch of the caller's own bike or part.
    mine = (new_bike if kind == "bike" else new_part)(api)["id"]
    patch = {k: v for k, v in fields.items() if k == field.split(".")[0]}
    if patch:
        assert as_a.error("SELECT vehicles.gear_update(%s, %s, %s)",
                          (kind, mine, json.dumps(patch))) == ("VS400", field)


def test_gear_functions_store_what_the_worker_would(as_a, db, world):
    (bike,), = as_a.run("SELECT vehicles.gear_create('bike', gen_random_uuid(), %s)",
                        (json.dumps({"name": "  Spaced  ", "type": "gravel", "brand": " ",
                                     "initial_kilometrage": 12.3456,
                                     "metadata": {"maintenance_interval_km": None}}),),
                        commit=True)
    assert db.query("SELECT user_id::text, name, brand, initial_kilometrage::float8,"
                    " total_kilometrage::float8 FROM vehicles.user_bike WHERE id = %s",
                    (bike,)) == [(as_a.user.id, "Spaced", None, 12.346, 12.346)]
    # A patch that moves the initial value moves the total by as much.
    as_a.run("SELECT vehicles.gear_update('part', %s, '{\"initial_kilometrage\": \"10.000\"}')",
             (world["a"]["part"],), commit=True)
    (init, total), = db.query("SELECT initial_kilometrage::float8, total_kilometrage::float8"
                              " FROM vehicles.user_part WHERE id = %s", (world["a"]["part"],))
    assert (init, total) == (10.0, 15.0)


MAINT_BAD = [
    ({"description": "x"}, "maintenance_type"),
    ({"maintenance_type": "sabotage", "description": "x"}, "maintenance_type"),
    ({"maintenance_type": "repair"}, "description"),
    ({"maintenance_type": "repair", "description": " \t "}, "description"),
    ({"maintenance_type": "repair", "description": "d" * 2001}, "description"),
    ({"maintenance_type": "repair", "description": "x", "cost": -0.01}, "cost"),
    ({"maintenance_type": "repair", "description": "x", "cost": "12"}, "cost"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "yesterday"},
     "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "2024-01-01T10:00:00"},
     "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "metadata": "m"}, "metadata"),
    ({"maintenance_type": "repair", "description": "x", "user_id": random_uuid()}, "user_id"),
]


@pytest.mark.parametrize("fields,field", MAINT_BAD)
def test_maintenance_create_checks_every_field(as_a, world, fields, field):
    sql = "SELECT vehicles.maintenance_create(gen_random_uuid(), %s, NULL, %s)"
    assert as_a.error(sql, (world["a"]["bike"], json.dumps(fields))) == ("VS400", field)


# ---- the active bike is the user's own ------------------------------------------------------

def test_active_bike_only_ever_the_users_own(db, as_a, api, user, world):
    a, b = world["a"], world["b"]
    args = {"user": user.id, "b_bike": b["bike"]}
    # Not through the function, not by SQL as the user...
    assert as_a.error("SELECT vehicles.bike_set_active(%(b_bike)s)", args)[0] == "VS403"
    assert as_a.error("UPDATE public.user_settings SET active_bike_id = %(b_bike)s"
                      " WHERE user_id = %(user)s", args)[0] == DENIED
    # ...and not even as the superuser: the foreign key is on (active_bike_id, user_id).
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        db.execute("UPDATE public.user_settings SET active_bike_id = %(b_bike)s"
                   " WHERE user_id = %(user)s", args)
    assert as_a.run("SELECT id FROM vehicles.bike_v WHERE is_active") == [(a["bike"],)]
    # Deleting the active bike clears it, and only it.
    assert as_a.run("SELECT vehicles.bike_delete(%s)", (a["bike"],), commit=True)
    assert db.query("SELECT active_bike_id FROM public.user_settings WHERE user_id = %s",
                    (user.id,)) == [(None,)]

