"""Service intervals as role `authenticated` with forged claims (what anyone with SQL access
has, e.g. through PostgREST): user A reads only intervals of A's parts and bikes, writes no
interval row directly, and the interval functions check ownership and every field without
the worker in front (the shape of test_sql_security.py)."""
import pytest

from flows import install, maint, new_bike, new_part, ride
from support import assert_status, random_uuid
from test_sql_security import DENIED, As


@pytest.fixture
def as_a(user):
    a = As(user)
    yield a
    a.close()


def _interval(api, kind, owner, **fields):
    body = {"task": "Lube", "every_distance": 10}
    body.update(fields)
    return assert_status(api.post(f"/api/{kind}s/{owner['id']}/intervals", json=body), 201)


@pytest.fixture
def world(api, other_api):
    """A's bike with a part and an interval on each; B's the same."""
    out = {}
    for name, client in (("a", api), ("b", other_api)):
        bike, part = new_bike(client), new_part(client)
        install(client, bike, part)
        out[name] = {"bike": bike["id"], "part": part["id"],
                     "bike_iv": _interval(client, "bike", bike)["id"],
                     "part_iv": _interval(client, "part", part)["id"],
                     "maint": maint(client, "bike", bike)["id"]}
        ride(client, bike, 12)
    return out


def test_reads_only_own_intervals(as_a, world):
    got = {r[0] for r in as_a.run("SELECT id::text FROM vehicles.service_interval")}
    assert got == {world["a"]["bike_iv"], world["a"]["part_iv"]}
    # Another user's status is no row at all; one's own is there.
    assert as_a.run("SELECT * FROM vehicles.interval_status(%s)", (world["b"]["part_iv"],)) == []
    (row,) = as_a.run("SELECT state, distance FROM vehicles.interval_status(%s)",
                      (world["a"]["part_iv"],))
    assert row[0] == "overdue" and float(row[1]) == 12
    due = {r[0] for r in as_a.run("SELECT interval_id::text FROM vehicles.interval_due()")}
    assert due == {world["a"]["bike_iv"], world["a"]["part_iv"]}
    # The measure that sees every row is the service role's only.
    assert as_a.error("SELECT * FROM vehicles.interval_measure(%s)",
                      (world["b"]["part_iv"],))[0] == DENIED


@pytest.mark.parametrize("sql", [
    "INSERT INTO vehicles.service_interval (part_id, task, every_days) VALUES (%(part)s, 't', 1)",
    "UPDATE vehicles.service_interval SET every_days = 1 WHERE id = %(part_iv)s",
    "DELETE FROM vehicles.service_interval WHERE id = %(part_iv)s",
    "TRUNCATE vehicles.service_interval",
    "UPDATE vehicles.maintenance_record SET interval_id = NULL WHERE id = %(maint)s",
])
def test_no_direct_writes(as_a, world, sql):
    assert as_a.error(sql, world["a"])[0] == DENIED


def test_functions_check_ownership(as_a, world):
    b = world["b"]
    cases = [
        ("SELECT vehicles.interval_create(gen_random_uuid(), 'part', %s,"
         " '{\"task\": \"t\", \"every_days\": 1}')", (b["part"],), "VS403"),
        ("SELECT vehicles.interval_create(gen_random_uuid(), 'bike', %s,"
         " '{\"task\": \"t\", \"every_days\": 1}')", (random_uuid(),), "VS404"),
        ("SELECT vehicles.interval_update(%s, '{\"task\": \"mine\"}')", (b["bike_iv"],), "VS403"),
        ("SELECT vehicles.interval_update(%s, '{}')", (random_uuid(),), "VS404"),
        ("SELECT vehicles.interval_delete(%s)", (b["part_iv"],), "VS403"),
        ("SELECT vehicles.interval_assert(%s)", (b["part_iv"],), "VS403"),
        ("SELECT vehicles.maintenance_delete(%s)", (b["maint"],), "VS403"),
        ("SELECT vehicles.maintenance_delete(%s)", (random_uuid(),), "VS404"),
        # An interval of B's as the completion of A's record.
        ("SELECT vehicles.maintenance_create(gen_random_uuid(), %s, NULL, jsonb_build_object("
         "'maintenance_type', 'cleaning', 'description', 'd', 'interval_id', %s::text))",
         (world["a"]["bike"], b["bike_iv"]), "VS400"),
    ]
    for sql, args, state in cases:
        assert as_a.error(sql, args)[0] == state, sql


@pytest.mark.parametrize("body,field", [
    ('{"every_days": 1}', "task"),
    ('{"task": "t"}', "every_distance"),
    ('{"task": "t", "every_days": null, "every_distance": null}', "every_distance"),
    ('{"task": " ", "every_days": 1}', "task"),
    ('{"task": "t", "every_days": 1.5}', "every_days"),
    ('{"task": "t", "every_days": 36501}', "every_days"),
    ('{"task": "t", "every_distance": 0.0004}', "every_distance"),
    ('{"task": "t", "every_distance": 1000000.5}', "every_distance"),
    ('{"task": "t", "every_distance": "5"}', "every_distance"),
    ('{"task": "t", "every_moving_hours": 0}', "every_moving_hours"),
    ('{"task": "t", "every_days": 1, "warn_at_pct": 101}', "warn_at_pct"),
    ('{"task": "t", "every_days": 1, "warn_at_pct": null}', "warn_at_pct"),
    ('{"task": "t", "every_days": 1, "status": {}}', "status"),
])
def test_functions_check_every_field(as_a, world, body, field):
    sql = "SELECT vehicles.interval_create(gen_random_uuid(), 'part', %s, %s::jsonb)"
    try:
        as_a.run(sql, (world["a"]["part"], body))
    except Exception as e:  # noqa: BLE001 - inspected below
        as_a.conn.rollback()
        assert e.pgcode == "VS400" and e.diag.message_primary == field, (body, e)
        return
    raise AssertionError(f"no error for {body}")


def test_update_keeps_one_measure_and_stores_what_it_checked(as_a, world):
    iv = world["a"]["bike_iv"]
    err = as_a.error("SELECT vehicles.interval_update(%s, '{\"every_distance\": null}')", (iv,))
    assert err == ("VS400", "every_distance")
    as_a.run("SELECT vehicles.interval_update(%s, '{\"task\": \"  Wax \","
             " \"every_distance\": 12.34567}')", (iv,), commit=True)
    assert as_a.run("SELECT task, every_distance::text FROM vehicles.service_interval"
                    " WHERE id = %s", (iv,)) == [("Wax", "12.346")]
