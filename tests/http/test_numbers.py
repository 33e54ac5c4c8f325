"""Numbers come back with the value they were sent with, or are refused (issue 9, point 1).

PostgreSQL stores a JSON number in jsonb as numeric and writes it out in plain decimal: 1e2
comes back as 100, 1e-9999 as about 10,000 characters. json-c, which reads the database's
answers, clamps integers beyond 64 bits. The rule (BODY_NUMBER_DIGITS_MAX, include/body.h):
every number of a body, written out that way, has at most 40 digits, and if it is an integer
there (no fraction digits) it lies in [-2^63, 2^64 - 1]. Anything else is 400, with details
naming the top-level field the number is in (the body's message where there is none).
Rows stored before the rule read back with their exact value.
"""
import json
from decimal import Decimal

import pytest

from flows import maint, new_bike, new_part
from support import assert_error, assert_status, random_uuid

JSON = {"Content-Type": "application/json"}

# Each is more than 40 digits written out (1e-40 is 0.000...1: 41 digits).
EXPANDING = ["1e-9999", "1e-40", "0e-50", "1.000e-37", "-5E-300"]
# Each written out is an integer beyond 64 bits, which json-c would clamp when reading it back.
BEYOND_64_BITS = ["-9.5e18", "-9.223372036854775809e18", "1.8446744073709551616e19", "1e20"]
# Accepted, and must come back with the same value (as the text PostgreSQL writes).
KEPT = ["1e-39", "0e-39", "1E2", "1.5e-3", "0.10", "-0", "-0.0", "6.02214076e-23",
        "9.5e18", "-9.223372036854775808e18", "1.8446744073709551615e19", "1.5e19",
        "-9.5000000000000000000e18", "12345678901234567890.5", "9223372036854775807",
        "-9223372036854775808", "18446744073709551615", "0.0001e4"]


def exact(resp):
    """The response's JSON with every number as an exact Decimal."""
    return json.loads(resp.text, parse_float=Decimal, parse_int=Decimal)


def metadata_body(numbers):
    return '{"name":"n","type":"road","metadata":{"x":[%s]}}' % ",".join(numbers)


def write(api, where, raw):
    """Sends raw as the body of one of the writes that take metadata; returns the response."""
    if where == "bike_create":
        return api.post("/api/bikes", data=raw, headers=JSON)
    if where == "part_create":
        return api.post("/api/parts", data=raw.replace('"road"', '"chain"'), headers=JSON)
    if where in ("bike_patch", "part_patch"):
        kind = where.split("_")[0]
        thing = new_bike(api) if kind == "bike" else new_part(api)
        patch = raw.replace('"name":"n","type":"road",', "")
        return api.patch(f"/api/{kind}s/{thing['id']}", data=patch, headers=JSON)
    kind = where.split("_")[1]  # maint_bike, maint_part
    thing = new_bike(api) if kind == "bike" else new_part(api)
    record = raw.replace('"name":"n","type":"road",',
                         '"maintenance_type":"cleaning","description":"d",')
    return api.post(f"/api/{kind}s/{thing['id']}/maintenance", data=record, headers=JSON)


WRITES = ["bike_create", "part_create", "bike_patch", "part_patch", "maint_bike", "maint_part"]


@pytest.mark.parametrize("number", EXPANDING + BEYOND_64_BITS)
@pytest.mark.parametrize("where", WRITES)
def test_number_that_would_not_come_back_is_400_naming_metadata(api, where, number):
    r = write(api, where, metadata_body(["1", number]))
    body = assert_error(r, 400, "validation_error", {"metadata"}, exact=True)
    assert "number" in body["details"]["metadata"], body


def test_the_issue_body_is_refused_small(api):
    # 15 KB of metadata holding 1000 numbers of 10,000 digits each: 201 with a 10 MB body before.
    raw = metadata_body(["1e-9999"] * 1000)
    assert len(raw) < 16384
    r = api.post("/api/bikes", data=raw, headers=JSON)
    assert_error(r, 400, "validation_error", {"metadata"}, exact=True)
    assert len(r.content) < 1024, f"a {len(r.content)}-byte answer"
    assert assert_status(api.get("/api/bikes"), 200) == []


def test_refused_number_is_the_message_where_there_is_no_field(api):
    # A number refused where no top-level field holds it: the body's message says it.
    for raw in ("[1e-9999]", '{"n\\u0061me":1e-9999}'):
        body = assert_error(api.post("/api/bikes", data=raw, headers=JSON), 400,
                            "validation_error")
        assert "number" in body["message"], body
        assert not body.get("details"), body


@pytest.mark.parametrize("field,number", [("initial_kilometrage", "1e-9999"),
                                          ("initial_kilometrage", "1e99999")])
def test_refused_number_in_a_scalar_field_names_it(api, field, number):
    raw = '{"name":"n","type":"road","%s":%s}' % (field, number)
    assert_error(api.post("/api/bikes", data=raw, headers=JSON), 400, "validation_error",
                 {field}, exact=True)


def assert_same_numbers(got, sent):
    assert len(got) == len(sent), (got, sent)
    for g, s in zip(got, sent):
        assert Decimal(g) == Decimal(s), f"sent {s}, got back {g}"


def test_numbers_come_back_with_their_value(api):
    r = api.post("/api/bikes", data=metadata_body(KEPT), headers=JSON)
    bike = exact(r)
    assert r.status_code == 201, r.text
    assert_same_numbers(bike["metadata"]["x"], KEPT)
    # The same when read again: one bike, the list, and after a patch that does not touch it.
    assert_same_numbers(exact(api.get(f"/api/bikes/{bike['id']}"))["metadata"]["x"], KEPT)
    listed = [b for b in exact(api.get("/api/bikes")) if b["id"] == bike["id"]]
    assert_same_numbers(listed[0]["metadata"]["x"], KEPT)
    r = api.patch(f"/api/bikes/{bike['id']}", json={"name": "renamed"})
    assert r.status_code == 200, r.text
    assert_same_numbers(exact(r)["metadata"]["x"], KEPT)
    # And through a patch of metadata, on a part, and in a maintenance record.
    part = new_part(api)
    raw = '{"metadata":{"x":[%s]}}' % ",".join(KEPT)
    r = api.patch(f"/api/parts/{part['id']}", data=raw, headers=JSON)
    assert r.status_code == 200, r.text
    assert_same_numbers(exact(r)["metadata"]["x"], KEPT)
    raw = '{"maintenance_type":"cleaning","description":"d","metadata":{"x":[%s]}}' % ",".join(KEPT)
    r = api.post(f"/api/bikes/{bike['id']}/maintenance", data=raw, headers=JSON)
    assert r.status_code == 201, r.text
    assert_same_numbers(exact(r)["metadata"]["x"], KEPT)


def test_negative_beyond_int64_is_not_answered_clamped(api):
    # Before: stored right, answered as -9223372036854775808.
    r = api.post("/api/bikes", data=metadata_body(["-9.5e18"]), headers=JSON)
    assert r.status_code == 400 or Decimal(exact(r)["metadata"]["x"][0]) == Decimal("-9.5e18"), \
        r.text
    assert "-9223372036854775808" not in r.text


LEGACY = {"neg": "-9500000000000000000", "big": "1e300", "wide": "123456789012345678901234567890",
          "tiny": "1e-300", "max": "18446744073709551616", "fine": "2.5"}


def test_legacy_rows_read_back_with_their_exact_value(api, user, db):
    # Rows written before the rule (or by SQL) hold any number; reading never clamps one.
    meta = "{%s}" % ",".join('"%s": %s' % kv for kv in LEGACY.items())
    bike = db.query("INSERT INTO vehicles.user_bike (user_id, name, type, metadata)"
                    " VALUES (%s, 'old', 'road', %s::jsonb) RETURNING id::text",
                    (user.id, meta))[0][0]
    part = db.query("INSERT INTO vehicles.user_part (user_id, name, type, metadata)"
                    " VALUES (%s, 'old', 'chain', %s::jsonb) RETURNING id::text",
                    (user.id, meta))[0][0]
    db.execute("INSERT INTO vehicles.maintenance_record (user_id, bike_id, maintenance_type,"
               " description, metadata) VALUES (%s, %s, 'cleaning', 'old', %s::jsonb)",
               (user.id, bike, meta))
    reads = [exact(api.get(f"/api/bikes/{bike}"))["metadata"],
             [b for b in exact(api.get("/api/bikes")) if b["id"] == bike][0]["metadata"],
             exact(api.get(f"/api/parts/{part}"))["metadata"],
             exact(api.get(f"/api/bikes/{bike}/maintenance"))[0]["metadata"]]
    for got in reads:
        for k, v in LEGACY.items():
            assert Decimal(got[k]) == Decimal(v), f"{k}: stored {v}, read back {got[k]}"
    # And a rename of such a row keeps them too.
    r = api.patch(f"/api/bikes/{bike}", json={"name": "renamed"})
    assert r.status_code == 200, r.text
    for k, v in LEGACY.items():
        assert Decimal(exact(r)["metadata"][k]) == Decimal(v), k


def test_unknown_bike_is_404_whatever_number_the_body_holds(api):
    # Existence and ownership answer first (api-notes' order), whatever the body holds.
    r = api.patch(f"/api/bikes/{random_uuid()}", data='{"metadata":{"x":1e-9999}}', headers=JSON)
    assert_error(r, 404, "not_found")


def test_maintenance_cost_is_refused_not_rounded(api):
    bike = new_bike(api)
    raw = '{"maintenance_type":"cleaning","description":"d","cost":1e-9999}'
    assert_error(api.post(f"/api/bikes/{bike['id']}/maintenance", data=raw, headers=JSON), 400,
                 "validation_error", {"cost"}, exact=True)
    assert maint(api, "bike", bike, cost=1.5)["cost"] == 1.5
