"""What a read costs the database (src/gear.c gear_read, src/db.c pre_lazy): a GET of one's own
bike or part, or of its stats, is proved the caller's by its row under RLS, so no ownership
statement (vehicles.gear_assert) runs; only a row not found runs it, to say 404 or 403 with
the usual message. Counted with pg_stat_statements (the maintenance database), not timed.
"""
import pytest

from flows import new_bike, new_part
from support import assert_error, random_uuid, stats_db


def _asserts(cur, dbname):
    # Top-level and nested alike (track = all): any gear_assert run in this database.
    cur.execute("SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid"
                " WHERE d.datname = %s AND s.query LIKE '%%gear_assert%%'", (dbname,))
    return int(cur.fetchone()[0])


@pytest.fixture
def counter(db):
    dbname = db.query("SELECT current_database()")[0][0]
    conn = stats_db()
    cur = conn.cursor()
    try:
        yield lambda: _asserts(cur, dbname)
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["bike", "part"])
def test_own_reads_run_no_ownership_statement(api, counter, kind):
    thing = new_bike(api) if kind == "bike" else new_part(api)
    before = counter()
    for path in (f"/api/{kind}s/{thing['id']}", f"/api/{kind}s/{thing['id']}/stats"):
        for _ in range(3):
            r = api.get(path)
            assert r.status_code == 200, r.text
            assert r.json()["id" if "stats" not in path else "total_kilometrage"] is not None
    assert counter() == before, "a read of the caller's own row ran vehicles.gear_assert"


@pytest.mark.parametrize("kind", ["bike", "part"])
def test_rows_not_found_still_say_404_or_403(api, other_api, kind):
    # These messages are the ownership check's (vehicles.gear_check); a row merely not found
    # would be the generic "Resource not found". (pg_stat_statements counts no statement
    # that raised, so the check is judged by its answer here.)
    theirs = new_bike(other_api) if kind == "bike" else new_part(other_api)
    for suffix in ("", "/stats"):
        r = api.get(f"/api/{kind}s/{theirs['id']}{suffix}")
        assert_error(r, 403, "forbidden")
        assert r.json()["message"] == f"You do not have permission to access this {kind}"
        r = api.get(f"/api/{kind}s/{random_uuid()}{suffix}")
        assert_error(r, 404, "not_found")
        assert r.json()["message"] == f"{kind.capitalize()} not found"
