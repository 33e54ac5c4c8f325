"""The owners an installation and a maintenance record carry (migration 015), which their
row-level security policies compare with the caller: they follow every change of owner (a
bike and a part given away and back), no write can store a wrong one, and a bike's deletion
clears its half of a record that stays with its part. What each side then reads is checked
as role authenticated, as PostgREST would read, and through the API."""
import psycopg2
import pytest

from flows import DAY, install, maint, new_bike, new_part, remove, ts
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_status
from test_sql_security import as_a, as_b  # noqa: F401 (fixtures)

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
