"""Row-level security as a second layer, for the kilometrage tables (rides, credits, withheld
rides, installations, idempotency keys) and the functions that write them: as role
`authenticated` with forged claims of user A (what anyone with SQL access to the database,
e.g. through PostgREST, would have), A reads only A's rows, changes no table directly, and
every function A may call enforces every rule of its write (ownership 403/404, the 5-minute
future limit, distances, install/remove states), without the worker's checks in front."""
import datetime
import json
import threading
import time

import psycopg2
import pytest

import support
from flows import DAY, install, new_part, remove, ride, ts
from flows import check_invariant  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("check_invariant")

DENIED = "42501"  # insufficient_privilege


class AsUser:
    """Statements as role authenticated with `sub` = the user's id, each in a transaction
    of its own that is rolled back unless commit=True."""

    def __init__(self, user):
        self.user = user
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
                    cur.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
                cur.execute("SET LOCAL ROLE authenticated")
                cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                            (json.dumps({"sub": self.user.id, "role": "authenticated"}),))
                cur.execute(sql, args)
                rows = cur.fetchall() if cur.description else cur.rowcount
            if commit:
                self.conn.commit()
            return rows
        finally:
            if not commit:
                self.conn.rollback()

    def error(self, sql, args=None, lock_timeout=None):
        """(SQLSTATE, message) of the error the statement must raise."""
        try:
            self.run(sql, args, lock_timeout=lock_timeout)
        except psycopg2.Error as e:
            self.conn.rollback()
            return e.pgcode, e.diag.message_primary
        raise AssertionError(f"no error from {sql} {args}")

    def close(self):
        self.conn.close()


@pytest.fixture
def as_a(user):
    a = AsUser(user)
    yield a
    a.close()


@pytest.fixture
def world(api, other_api, create_bike):
    """A's bike with A's part on it and a ride; the same for B."""
    w = {}
    for who, client in (("a", api), ("b", other_api)):
        bike = create_bike(client)
        part = new_part(client)
        install(client, bike, part, at=ts(-3 * DAY))
        w[who] = {"bike": bike["id"], "part": part["id"],
                  "log": ride(client, bike, 5, logged_at=ts(-2 * DAY))["log"]["id"]}
    return w


def _future(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.isoformat()


# ---- tables: no direct writes, reads under RLS ----------------------------------------------

@pytest.mark.parametrize("sql", [
    "INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance)"
    " VALUES (%(a_bike)s, %(a_user)s, 5)",
    "UPDATE vehicles.kilometrage_log SET distance = 1 WHERE bike_id = %(a_bike)s",
    "DELETE FROM vehicles.kilometrage_log WHERE bike_id = %(a_bike)s",
    # A credit of B's ride to A's own part.
    "INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance)"
    " VALUES (%(b_log)s, %(a_part)s, 1000)",
    "UPDATE vehicles.kilometrage_credit SET distance = 1000 WHERE part_id = %(a_part)s",
    "DELETE FROM vehicles.kilometrage_credit WHERE part_id = %(a_part)s",
    "INSERT INTO vehicles.kilometrage_withheld (log_id, part_id, distance)"
    " VALUES (%(a_log)s, %(a_part)s, 5)",
    "DELETE FROM vehicles.kilometrage_withheld",
    "INSERT INTO vehicles.part_installation (part_id, bike_id, installed_at)"
    " VALUES (%(a_part)s, %(a_bike)s, now() - interval '30 days')",
    "UPDATE vehicles.part_installation SET installed_at = installed_at - interval '30 days'"
    " WHERE part_id = %(a_part)s",
    "DELETE FROM vehicles.part_installation WHERE part_id = %(a_part)s",
    "UPDATE vehicles.user_part SET total_kilometrage = 99999 WHERE id = %(a_part)s",
    "UPDATE vehicles.user_bike SET total_kilometrage = 99999 WHERE id = %(a_bike)s",
    "INSERT INTO vehicles.idempotency_key (user_id, key, request_hash, response)"
    " VALUES (%(a_user)s, 'forged', 'x', '{}')",
    "UPDATE vehicles.idempotency_key SET response = '{}' WHERE user_id = %(a_user)s",
])
def test_no_direct_writes_to_kilometrage_tables(as_a, user, world, sql):
    args = {"a_user": user.id, "a_bike": world["a"]["bike"], "a_part": world["a"]["part"],
            "a_log": world["a"]["log"], "b_log": world["b"]["log"]}
    code, _ = as_a.error(sql, args)
    assert code == DENIED, sql


def test_withheld_rides_are_read_by_no_user(as_a):
    assert as_a.error("SELECT * FROM vehicles.kilometrage_withheld")[0] == DENIED


def test_reads_see_only_the_callers_rows(as_a, world):
    a, b = world["a"], world["b"]
    for table, col in (("kilometrage_log", "bike_id"), ("part_installation", "bike_id")):
        for side, n in ((a, 1), (b, 0)):
            got = as_a.run(f"SELECT count(*) FROM vehicles.{table} WHERE {col} = %s",
                           (side["bike"],))
            assert got == [(n,)], (table, side)
    for side, n in ((a, 1), (b, 0)):
        got = as_a.run("SELECT count(*) FROM vehicles.kilometrage_credit WHERE part_id = %s",
                       (side["part"],))
        assert got == [(n,)]
    assert as_a.run("SELECT count(*) FROM vehicles.kilometrage_log") == [(1,)]


def test_idempotency_keys_are_read_only_by_their_user(as_a, user, other, api, other_api,
                                                      create_bike):
    for client in (api, other_api):
        ride(client, create_bike(client), 1, headers={"Idempotency-Key": "same-key"})
    got = as_a.run("SELECT user_id::text FROM vehicles.idempotency_key WHERE key = 'same-key'")
    assert got == [(user.id,)]


# ---- functions: what A may call enforces every rule ----------------------------------------

@pytest.mark.parametrize("name,args", [
    ("ride_credit", "(gen_random_uuid())"),
    ("ride_uncredit", "(gen_random_uuid())"),
    ("installation_lock", "(gen_random_uuid(), gen_random_uuid())"),
    ("kilometrage_check", "()"),
    ("idempotency_sweep", "()"),
    ("recipient_find", "('x@example.test')"),
])
def test_internal_functions_are_not_callable(as_a, name, args):
    code, _ = as_a.error(f"SELECT vehicles.{name}{args}")
    # 42501 where the function exists; 42883 (undefined) is as good where it does not.
    assert code in (DENIED, "42883"), name
    if name in ("ride_credit", "installation_lock", "kilometrage_check"):
        assert code == DENIED, name


def test_functions_check_ownership(as_a, world):
    a, b = world["a"], world["b"]
    cases = [
        ("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', now(), 'notes', NULL), NULL, NULL)",
         (b["bike"],), "VS403"),
        ("SELECT vehicles.ride_log(gen_random_uuid(), gen_random_uuid(),"
         " jsonb_build_object('distance', 5, 'logged_at', now(), 'notes', NULL), NULL, NULL)", None, "VS404"),
        ("SELECT vehicles.ride_delete(%s, %s)", (b["bike"], b["log"]), "VS403"),
        ("SELECT vehicles.ride_delete(%s, %s)", (a["bike"], b["log"]), "VS404"),
        ("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, NULL)", (a["bike"], b["part"]),
         "VS403"),
        ("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, NULL)", (b["bike"], a["part"]),
         "VS403"),
        ("SELECT vehicles.part_remove(%s, %s, NULL)", (b["bike"], b["part"]), "VS403"),
        ("SELECT vehicles.part_remove(%s, %s, NULL)", (a["bike"], b["part"]), "VS403"),
        ("SELECT vehicles.part_delete(%s)", (b["part"],), "VS403"),
        ("SELECT vehicles.bike_transfer(%s, 'x@example.test', NULL)", (b["bike"],), "VS403"),
        ("SELECT vehicles.part_transfer(%s, 'x@example.test', NULL)", (b["part"],), "VS403"),
    ]
    for sql, args, want in cases:
        assert as_a.error(sql, args)[0] == want, sql


def test_functions_refuse_before_taking_bs_locks(as_a, world):
    # A row B's transaction holds does not make A wait: A's call is refused (403) before it
    # asks for any lock of B's (nor can A hold one).
    a, b = world["a"], world["b"]
    holder = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (b["bike"],))
            cur.execute("SELECT 1 FROM vehicles.user_part WHERE id = %s FOR UPDATE", (b["part"],))
            for sql, args in (
                    ("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', NULL, 'notes', NULL), NULL, NULL)",
                     (b["bike"],)),
                    ("SELECT vehicles.ride_delete(%s, %s)", (b["bike"], b["log"])),
                    ("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, NULL)",
                     (b["bike"], a["part"])),
                    ("SELECT vehicles.part_remove(%s, %s, NULL)", (b["bike"], b["part"])),
                    ("SELECT vehicles.part_delete(%s)", (b["part"],)),
                    ("SELECT vehicles.bike_transfer(%s, 'x@example.test', NULL)", (b["bike"],)),
                    ("SELECT vehicles.part_transfer(%s, 'x@example.test', NULL)", (b["part"],))):
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
    "SELECT vehicles.ride_log(gen_random_uuid(), %(bike)s, jsonb_build_object('distance', 5, 'logged_at', NULL, 'notes', NULL), NULL, NULL)",
    "SELECT vehicles.ride_delete(%(bike)s, %(log)s)",
    "SELECT vehicles.part_install(gen_random_uuid(), %(bike)s, %(loose)s, NULL)",
    "SELECT vehicles.part_remove(%(bike)s, %(part)s, NULL)",
    "SELECT vehicles.part_delete(%(part)s)",
    "SELECT vehicles.bike_transfer(%(bike)s, %(email)s, NULL)",
])
def test_a_bike_given_away_while_a_write_waited_is_refused(db, as_a, api, other, make_user,
                                                           world, call):
    # A's write checks A's bike (and part), then waits for the bike's lock while a transfer
    # (done here by hand, as bike_transfer does it) gives the bike and its part to B: once it
    # commits, the write sees B's rows and refuses (403), changing nothing of B's.
    a = world["a"]
    args = {"bike": a["bike"], "part": a["part"], "log": a["log"],
            "loose": new_part(api)["id"], "email": make_user(tag="c").email}
    before = db.query("SELECT (SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %(bike)s),"
                      " (SELECT total_kilometrage FROM vehicles.user_part WHERE id = %(part)s),"
                      " (SELECT count(*) FROM vehicles.kilometrage_log WHERE bike_id = %(bike)s),"
                      " (SELECT count(*) FROM vehicles.part_installation WHERE part_id = %(part)s"
                      "   AND removed_at IS NULL)", args)
    pid = as_a.pid()
    out = {}

    def write():
        try:
            out["rows"] = as_a.run(call, args, commit=True)
        except psycopg2.Error as e:
            as_a.conn.rollback()
            out["code"] = e.pgcode

    holder = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (a["bike"],))
            t = threading.Thread(target=write)
            t.start()
            _wait_for_lock(pid)
            cur.execute("UPDATE vehicles.user_part SET user_id = %s WHERE id = %s",
                        (other.id, a["part"]))
            cur.execute("UPDATE vehicles.user_bike SET user_id = %s WHERE id = %s",
                        (other.id, a["bike"]))
        holder.commit()
    finally:
        holder.close()
    t.join(15)
    assert out.get("code") == "VS403", out
    assert db.query("SELECT user_id::text FROM vehicles.user_bike WHERE id = %s",
                    (a["bike"],)) == [(other.id,)]
    assert db.query("SELECT (SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %(bike)s),"
                    " (SELECT total_kilometrage FROM vehicles.user_part WHERE id = %(part)s),"
                    " (SELECT count(*) FROM vehicles.kilometrage_log WHERE bike_id = %(bike)s),"
                    " (SELECT count(*) FROM vehicles.part_installation WHERE part_id = %(part)s"
                    "   AND removed_at IS NULL)", args) == before


def test_functions_refuse_times_in_the_future(as_a, world):
    a = world["a"]
    far, near = _future(60), _future(3)
    cases = [
        ("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', %s::timestamptz, 'notes', NULL), NULL, NULL)",
         (a["bike"], far), "logged_at"),
        ("SELECT vehicles.part_remove(%s, %s, %s)", (a["bike"], a["part"], far), "removed_at"),
    ]
    for sql, args, field in cases:
        assert as_a.error(sql, args) == ("VS400", field), sql
    # Within the 5 minutes of clock skew allowed: accepted.
    as_a.run("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', %s::timestamptz, 'notes', NULL), NULL, NULL)",
             (a["bike"], near))
    as_a.run("SELECT vehicles.part_remove(%s, %s, %s)", (a["bike"], a["part"], near))
    # Installing needs the part off the bike first (committed, so the invariant is checked).
    as_a.run("SELECT vehicles.part_remove(%s, %s, NULL)", (a["bike"], a["part"]), commit=True)
    assert as_a.error("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, %s)",
                      (a["bike"], a["part"], far)) == ("VS400", "installed_at")
    as_a.run("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, %s)",
             (a["bike"], a["part"], near))


def test_functions_check_states_and_values(as_a, world, api, create_bike):
    a = world["a"]
    other_bike = create_bike(api)["id"]
    loose = new_part(api)["id"]
    cases = [
        # Installed on another bike / on this one: 409.
        ("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, NULL)", (other_bike, a["part"]),
         ("VS409", None)),
        ("SELECT vehicles.part_install(gen_random_uuid(), %s, %s, NULL)", (a["bike"], a["part"]),
         ("VS409", None)),
        # Not installed there: 409; removed before it was installed: 400.
        ("SELECT vehicles.part_remove(%s, %s, NULL)", (a["bike"], loose), ("VS409", None)),
        ("SELECT vehicles.part_remove(%s, %s, now() - interval '10 days')", (a["bike"], a["part"]),
         ("VS400", "removed_at")),
    ]
    for d in (0, -5, 0.0004, 100000.001, 1e9):
        cases.append(("SELECT vehicles.ride_log(gen_random_uuid(), %s,"
                      " jsonb_build_object('distance', %s::float8, 'logged_at', NULL, 'notes', NULL), NULL, NULL)", (a["bike"], d), ("VS400", "distance")))
    for key in ("", "tab\there", "caf\u00e9", "k" * 256):
        cases.append(("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', NULL, 'notes', NULL), %s, 'r')",
                      (a["bike"], key), ("VS400", "Idempotency-Key")))
    cases.append(("SELECT vehicles.ride_log(gen_random_uuid(), %s, jsonb_build_object('distance', 5, 'logged_at', NULL, 'notes', %s::text), NULL, NULL)",
                  (a["bike"], "n" * 2001), ("VS400", "notes")))
    for fn, thing in (("bike_transfer", a["bike"]), ("part_transfer", a["part"])):
        cases.append((f"SELECT vehicles.{fn}(%s, 'x@example.test', %s)", (thing, "n" * 2001),
                      ("VS400", "notes")))
    for sql, args, (code, field) in cases:
        got = as_a.error(sql, args)
        assert got[0] == code and (field is None or got[1] == field), (sql, args, got)


def test_ride_log_writes_only_the_callers_rows(as_a, user, other, other_api, world, db):
    # A logs a ride on A's own bike through the function, committed: the log is A's, the
    # credit goes to A's part only, and B's rows are as they were.
    a, b = world["a"], world["b"]
    before = db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s", (b["part"],))
    (res,), = as_a.run("SELECT vehicles.ride_log(gen_random_uuid(), %s,"
                       " jsonb_build_object('distance', 2.5, 'logged_at', NULL, 'notes', NULL), NULL, NULL)", (a["bike"],), commit=True)
    body = res["body"]
    assert body["log"]["user_id"] == user.id
    assert [p["id"] for p in body["affected_parts"]] == [a["part"]]
    assert db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s",
                    (b["part"],)) == before


def test_previous_owner_cannot_reach_a_given_part_through_sql(as_a, user, other, other_api,
                                                             api, create_bike, db):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-10 * DAY))
    old = ride(api, x, 5, logged_at=ts(-8 * DAY))["log"]["id"]
    remove(api, x, p, at=ts(-6 * DAY))
    api.post(f"/api/parts/{p['id']}/transfer", json={"new_owner_email": other.email})
    as_a.run("SELECT vehicles.ride_log(gen_random_uuid(), %s,"
             " jsonb_build_object('distance', 7, 'logged_at', now() - interval '7 days', 'notes', NULL), NULL, NULL)", (x["id"],), commit=True)
    as_a.run("SELECT vehicles.ride_delete(%s, %s)", (x["id"], old), commit=True)
    assert db.query("SELECT total_kilometrage::float8 FROM vehicles.user_part WHERE id = %s",
                    (p["id"],)) == [(5.0,)]
