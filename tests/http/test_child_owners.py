"""The owners an installation and a maintenance record carry (migration 015), which their
row-level security policies compare with the caller: they follow every change of owner (a
bike and a part given away and back), no write can store a wrong one, and a bike's deletion
clears its half of a record that stays with its part. What each side then reads is checked
as role authenticated, as PostgREST would read, and through the API."""
import contextlib
import threading
import time

import psycopg2
import pytest

from flows import DAY, install, maint, new_bike, new_part, remove, ts
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_status, random_uuid
from test_sql_security import As, as_a, as_b  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")

FK = "23503"  # foreign_key_violation


def _inst_owners(db, part):
    return db.query("SELECT part_owner_id::text FROM vehicles.part_installation"
                    " WHERE part_id = %s ORDER BY installed_at", (part["id"],))


def _maint_owners(db, m):
    return db.query("SELECT bike_id::text, bike_owner_id::text, part_id::text, part_owner_id::text"
                    " FROM vehicles.maintenance_record WHERE id = %s", (m["id"],))[0]


def _sees(who, bike, part, m):
    """(installations of part, the record) that `who` reads under RLS."""
    inst = who.run("SELECT count(*) FROM vehicles.part_installation WHERE part_id = %s",
                   (part["id"],))[0][0]
    rec = who.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s", (m["id"],))[0][0]
    return inst, rec


def _give(api, kind, x, to):
    assert_status(api.post(f"/api/{kind}s/{x['id']}/transfer",
                           json={"new_owner_email": to.email}), 200)


def test_owners_follow_a_bike_there_and_back(db, user, other, api, other_api, as_a, as_b):
    bike = new_bike(api)
    part = new_part(api)
    old = new_part(api, name="was on")
    install(api, bike, old, at=ts(-4 * DAY))
    remove(api, bike, old, at=ts(-3 * DAY))
    install(api, bike, part, at=ts(-2 * DAY))
    m = maint(api, "bike", bike, part_id=part["id"])
    assert _inst_owners(db, part) == [(user.id,)]
    assert _maint_owners(db, m) == (bike["id"], user.id, part["id"], user.id)
    assert _sees(as_a, bike, part, m) == (1, 1) and _sees(as_b, bike, part, m) == (0, 0)

    # There: the bike and the part on it go to B; the part that was on it stays A's.
    _give(api, "bike", bike, other)
    assert _inst_owners(db, part) == [(other.id,)]
    assert _inst_owners(db, old) == [(user.id,)]
    assert _maint_owners(db, m) == (bike["id"], other.id, part["id"], other.id)
    assert _sees(as_a, bike, part, m) == (0, 0) and _sees(as_b, bike, part, m) == (1, 1)
    got = assert_status(other_api.get(f"/api/bikes/{bike['id']}"), 200)
    assert [p["id"] for p in got["parts"]] == [part["id"]]
    assert [r["id"] for r in got["recent_maintenance"]] == [m["id"]]
    assert api.get(f"/api/bikes/{bike['id']}").status_code == 403

    # And back: everything is A's again, and B reads none of it.
    _give(other_api, "bike", bike, user)
    assert _inst_owners(db, part) == [(user.id,)]
    assert _maint_owners(db, m) == (bike["id"], user.id, part["id"], user.id)
    assert _sees(as_a, bike, part, m) == (1, 1) and _sees(as_b, bike, part, m) == (0, 0)
    got = assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    assert [p["id"] for p in got["parts"]] == [part["id"]]
    assert [r["id"] for r in got["recent_maintenance"]] == [m["id"]]


def test_a_record_on_a_bike_and_a_part_given_away_is_read_by_both(db, user, other, api, as_a,
                                                                  as_b):
    bike = new_bike(api)
    part = new_part(api)
    m = maint(api, "bike", bike, part_id=part["id"])
    _give(api, "part", part, other)
    assert _maint_owners(db, m) == (bike["id"], user.id, part["id"], other.id)
    # The record is about A's bike and B's part: each reads it; the part's installations
    # (none here) and its history of records are B's.
    assert as_a.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(1,)]
    assert as_b.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(1,)]
    got = assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    assert [r["id"] for r in got["recent_maintenance"]] == [m["id"]]
    # A deletes the record: only A's side goes (api-notes), and its owner with it.
    assert_status(api.delete(f"/api/maintenance/{m['id']}"), 200)
    assert _maint_owners(db, m) == (None, None, part["id"], other.id)
    assert as_a.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(0,)]
    assert as_b.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(1,)]


def test_a_deleted_bike_clears_its_half_of_a_record(db, user, api, as_a):
    bike = new_bike(api)
    part = new_part(api)
    install(api, bike, part, at=ts(-1 * DAY))
    m = maint(api, "bike", bike, part_id=part["id"])
    assert_status(api.delete(f"/api/bikes/{bike['id']}"), 200)
    assert _maint_owners(db, m) == (None, None, part["id"], user.id)
    assert _inst_owners(db, part) == [(user.id,)]
    assert as_a.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(1,)]


def _error(db, sql, args):
    try:
        db.execute(sql, args)
    except psycopg2.Error as e:
        return e.pgcode
    raise AssertionError(f"no error from {sql} {args}")


def test_no_write_stores_a_wrong_owner(db, user, other, api):
    bike = new_bike(api)
    part = new_part(api)
    install(api, bike, part, at=ts(-1 * DAY))
    m = maint(api, "bike", bike, part_id=part["id"])
    # Even as the table owner (RLS does not apply), a wrong owner is refused by the keys...
    assert _error(db, "UPDATE vehicles.part_installation SET part_owner_id = %s WHERE part_id = %s",
                  (other.id, part["id"])) == FK
    for col in ("bike_owner_id", "part_owner_id"):
        assert _error(db, f"UPDATE vehicles.maintenance_record SET {col} = %s WHERE id = %s",
                      (other.id, m["id"])) == FK
        # ...and so is an owner without its reference, or a reference without its owner.
        assert _error(db, f"UPDATE vehicles.maintenance_record SET {col} = NULL WHERE id = %s",
                      (m["id"],)) == FK
    # An insert that names another owner gets the part's (the trigger fills it), and a
    # changed reference gets its new owner.
    spare = new_part(api, name="spare")
    db.execute("INSERT INTO vehicles.part_installation (part_id, bike_id, installed_at, removed_at,"
               " part_owner_id) VALUES (%s, %s, now() - interval '3 days', now() - interval '2 days',"
               " %s)", (spare["id"], bike["id"], other.id))
    assert _inst_owners(db, spare) == [(user.id,)]
    theirs = new_part(other.api, name="theirs")
    db.execute("UPDATE vehicles.maintenance_record SET part_id = %s WHERE id = %s",
               (theirs["id"], m["id"]))
    assert _maint_owners(db, m) == (bike["id"], user.id, theirs["id"], other.id)
    assert _inst_owners(db, part) == [(user.id,)]


def test_a_part_only_record_follows_its_part_and_a_deleted_part_leaves_the_bike_half(
        db, user, other, api, other_api, as_a, as_b):
    part = new_part(api)
    only = maint(api, "part", part)
    assert _maint_owners(db, only) == (None, None, part["id"], user.id)
    _give(api, "part", part, other)
    assert _maint_owners(db, only) == (None, None, part["id"], other.id)
    assert as_a.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (only["id"],)) == [(0,)]
    listed = assert_status(other_api.get(f"/api/parts/{part['id']}/maintenance"), 200)
    assert only["id"] in [r["id"] for r in listed]
    # A record on B's bike and B's part; B deletes the part: the record stays with the bike.
    bike = new_bike(other_api)
    both = maint(other_api, "bike", bike, part_id=part["id"])
    assert_status(other_api.delete(f"/api/parts/{part['id']}"), 200)
    assert _maint_owners(db, both) == (bike["id"], other.id, None, None)
    assert as_b.run("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (both["id"],)) == [(1,)]


def test_users_read_no_owner_column(as_a, api):
    # A record's owners name whoever owns its bike and part now: a user with SQL access reads
    # the record's other columns, never those (the policy still compares them).
    bike = new_bike(api)
    m = maint(api, "bike", bike)
    assert as_a.run("SELECT id::text FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(m["id"],)]
    for col in ("bike_owner_id", "part_owner_id", "*"):
        assert as_a.error(f"SELECT {col} FROM vehicles.maintenance_record")[0] == "42501", col


def _together(calls):
    """Runs each (user, sql, args, delay) at once, as that user with SQL access; the error
    (SQLSTATE, message) or None of each."""
    out = [None] * len(calls)

    def one(i, user, sql, args, delay):
        who = As(user)
        try:
            time.sleep(delay)
            who.run(sql, args, commit=True)
        except psycopg2.Error as e:
            out[i] = (e.pgcode, e.diag.message_primary)
        finally:
            who.close()

    threads = [threading.Thread(target=one, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


@contextlib.contextmanager
def _slow(db, table, when):
    """A 1 s pause before each update of `table`'s rows that match `when` (these rows only,
    so nothing else running is slowed), to hold two writers in their worst interleaving."""
    name = "test_slow_" + random_uuid().replace("-", "")[:12]
    db.execute(f"CREATE FUNCTION public.{name}() RETURNS trigger LANGUAGE plpgsql"
               " AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$")
    db.execute(f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({when})"
               f" EXECUTE FUNCTION public.{name}()")
    try:
        yield
    finally:
        db.execute(f"DROP TRIGGER {name} ON {table}")
        db.execute(f"DROP FUNCTION public.{name}()")


def _record(user, bike, part, rid, hours_ago):
    who = As(user)
    try:
        who.run("SELECT vehicles.maintenance_create(%s, %s, %s, jsonb_build_object("
                "'maintenance_type', 'inspection', 'description', 'x', 'performed_at',"
                " to_char(now() - %s * interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')))",
                (rid, bike["id"], part["id"], hours_ago), commit=True)
    finally:
        who.close()


def test_two_transfers_sharing_records_do_not_deadlock(db, user, other, api):
    # P on Y, Q on X; records (X, P) and (Y, Q): each transfer's cascades reach both records,
    # parts first, then the bike. Paused before the bikes' updates, both have done their
    # parts' cascades when the bikes' come.
    x, y = new_bike(api), new_bike(api)
    p, q = new_part(api), new_part(api)
    install(api, y, p, at=ts(-1 * DAY))
    install(api, x, q, at=ts(-1 * DAY))
    m, m2 = random_uuid(), random_uuid()
    _record(user, x, p, m, 2)
    _record(user, y, q, m2, 1)
    sql = "SELECT vehicles.bike_transfer(%s, %s, NULL)"
    with _slow(db, "vehicles.user_bike", f"OLD.id IN ('{x['id']}', '{y['id']}')"):
        got = _together([(user, sql, (x["id"], other.email), 0),
                         (user, sql, (y["id"], other.email), 0)])
    assert got == [None, None]
    assert db.query("SELECT DISTINCT bike_owner_id::text, part_owner_id::text"
                    " FROM vehicles.maintenance_record WHERE id IN (%s, %s)", (m, m2)) == \
        [(other.id, other.id)]


@pytest.mark.parametrize("deleted", ["bike", "part"])
def test_a_transfer_and_a_deletion_sharing_records_do_not_deadlock(db, user, other, api, deleted):
    # Two records on (X, P), the later one with the higher id. A deletion of X (P on Y) or of
    # P (on no bike: on X, its deletion would wait for X's lock) clears them in its key's
    # order while a transfer of Y (or of X) rewrites them.
    x, y = new_bike(api), new_bike(api)
    p = new_part(api)
    if deleted == "bike":
        install(api, y, p, at=ts(-1 * DAY))
    late, early = "ffffffff-ffff-4fff-bfff-" + random_uuid()[-12:], \
        "00000000-0000-4000-8000-" + random_uuid()[-12:]
    _record(user, x, p, late, 1)
    _record(user, x, p, early, 2)
    if deleted == "bike":
        delete, moved = ("SELECT vehicles.bike_delete(%s)", (x["id"],)), y
        when = "OLD.bike_id IS NOT NULL AND NEW.bike_id IS NULL"
    else:
        delete, moved = ("SELECT vehicles.part_delete(%s)", (p["id"],)), x
        when = "OLD.part_id IS NOT NULL AND NEW.part_id IS NULL"
    with _slow(db, "vehicles.maintenance_record", f"OLD.id IN ('{late}', '{early}') AND {when}"):
        got = _together([(user, *delete, 0),
                         (user, "SELECT vehicles.bike_transfer(%s, %s, NULL)",
                          (moved["id"], other.email), 0.3)])
    assert got == [None, None]
