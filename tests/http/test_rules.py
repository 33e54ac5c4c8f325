"""The validation rules are defined once, in include/rules.h; the database must agree.

tests/rules_dump prints the C rules as JSON (RULES_DUMP, default build/tests/rules_dump; a
missing binary fails these tests, it does not skip them). Each test probes the live schema
on both sides of one limit, inside one transaction (through DATABASE_URL, as a superuser)
that is rolled back at the end, each probe under its own savepoint: nothing is left behind.
"""
import decimal
import functools
import json
import os
import subprocess

import psycopg2
import psycopg2.extensions
import pytest

import support

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_DUMP = os.environ.get("RULES_DUMP") or os.path.join(ROOT, "build", "tests", "rules_dump")

CHECK_VIOLATION = "23514"
MILLI = decimal.Decimal("0.001")


@functools.lru_cache(maxsize=None)
def _dump():
    if not (os.path.isfile(RULES_DUMP) and os.access(RULES_DUMP, os.X_OK)):
        return None, f"no executable {RULES_DUMP} (build it: make -C build tests/rules_dump)"
    r = subprocess.run([RULES_DUMP], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None, f"{RULES_DUMP} exited {r.returncode}: {r.stderr.strip()}"
    try:
        return json.loads(r.stdout), None
    except ValueError as e:
        return None, f"{RULES_DUMP} printed no JSON ({e}): {r.stdout[:200]!r}"


def rules():
    """The C rules; fails the calling test (never skips it) when tests/rules_dump cannot say."""
    got, why = _dump()
    if got is None:
        pytest.fail(why)
    return got


class Tx:
    """One transaction with a user, a bike and a part to point foreign keys at."""

    def __init__(self, conn):
        self.conn = conn
        self.cur = conn.cursor()
        self.user = support.random_uuid()
        self.cur.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                         (self.user, support.unique_email("rules")))
        self.bike = self.one("INSERT INTO vehicles.user_bike (user_id, name, type)"
                             " VALUES (%s, 'Rules', 'road') RETURNING id::text", (self.user,))
        self.part = self.one("INSERT INTO vehicles.user_part (user_id, name, type)"
                             " VALUES (%s, 'Rules', 'chain') RETURNING id::text", (self.user,))

    def one(self, sql, args=None):
        self.cur.execute(sql, args)
        return self.cur.fetchone()[0]

    def insert(self, table, row):
        """Inserts row (column -> value) under a savepoint that is always rolled back;
        None when the database took it, else the SQLSTATE it refused it with."""
        cols = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        self.cur.execute("SAVEPOINT probe")
        try:
            self.cur.execute(f"INSERT INTO vehicles.{table} ({cols}) VALUES ({marks})",
                             list(row.values()))
            return None
        except psycopg2.Error as e:
            return e.pgcode
        finally:
            self.cur.execute("ROLLBACK TO SAVEPOINT probe")

    def row(self, table, **over):
        """A valid row of table, with `over` replacing or adding columns."""
        base = {
            "user_bike": {"user_id": self.user, "name": "n", "type": "road"},
            "user_part": {"user_id": self.user, "name": "n", "type": "chain"},
            "kilometrage_log": {"bike_id": self.bike, "user_id": self.user, "distance": 1},
            "maintenance_record": {"user_id": self.user, "bike_id": self.bike,
                                   "maintenance_type": "repair", "description": "d"},
            "ownership_history": {"entity_type": "bike", "entity_id": self.bike,
                                  "previous_owner_id": self.user, "new_owner_id": self.user},
            "idempotency_key": {"user_id": self.user, "key": "k", "request_hash": "h",
                                "response": "{}"},
        }[table]
        return {**base, **over}

    def accepts(self, table, **over):
        code = self.insert(table, self.row(table, **over))
        assert code is None, f"{table} refused {_show(over)} (SQLSTATE {code})"

    def refuses(self, table, **over):
        code = self.insert(table, self.row(table, **over))
        assert code == CHECK_VIOLATION, \
            f"{table} {'took' if code is None else f'refused with {code}'} {_show(over)}" \
            f" (want a check violation, {CHECK_VIOLATION})"


def _show(over):
    return {k: (f"<{len(v)} chars>" if isinstance(v, str) and len(v) > 20 else v)
            for k, v in over.items()}


@pytest.fixture(scope="module")
def tx():
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        t = Tx(conn)
        yield t
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def probe(tx):
    yield tx
    # A probe must leave the transaction usable for the next test.
    assert tx.conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS


# ---- enums -----------------------------------------------------------------------------

@pytest.mark.parametrize("key,enum", [("bike_types", "bike_type"), ("part_types", "part_type"),
                                      ("maintenance_types", "maintenance_type"),
                                      ("ride_types", "ride_type")])
def test_enum_lists_the_c_values_in_order(probe, key, enum):
    got = probe.one(f"SELECT enum_range(NULL::vehicles.{enum})::text[]")
    assert got == rules()[key]


# ---- text lengths ----------------------------------------------------------------------

# (table, column, rule, shortest allowed)
TEXT_LIMITS = [
    ("user_bike", "name", "name_max", 1),
    ("user_bike", "brand", "brand_max", 0),
    ("user_bike", "model", "brand_max", 0),
    ("user_part", "name", "name_max", 1),
    ("user_part", "brand", "brand_max", 0),
    ("user_part", "model", "brand_max", 0),
    ("kilometrage_log", "notes", "notes_max", 0),
    ("maintenance_record", "description", "description_max", 1),
    ("ownership_history", "notes", "notes_max", 0),
    ("idempotency_key", "key", "idem_key_max", 1),
    ("kilometrage_log", "source", "source_max", 1),
]


@pytest.mark.parametrize("table,column,rule,low", TEXT_LIMITS,
                         ids=[f"{t}.{c}" for t, c, _, _ in TEXT_LIMITS])
def test_text_length_limit_agrees(probe, table, column, rule, low):
    top = rules()[rule]
    probe.accepts(table, **{column: "x" * top})
    probe.refuses(table, **{column: "x" * (top + 1)})
    if low == 1:
        probe.accepts(table, **{column: "x"})
        probe.refuses(table, **{column: ""})
    else:
        probe.accepts(table, **{column: ""})


@pytest.mark.parametrize("table,column,rule,low", [t for t in TEXT_LIMITS if t[2] != "idem_key_max"],
                         ids=[f"{t}.{c}" for t, c, r, _ in TEXT_LIMITS if r != "idem_key_max"])
def test_text_limit_counts_characters_not_bytes(probe, table, column, rule, low):
    # C counts UTF-8 code points; "é" is two bytes and one character.
    top = rules()[rule]
    probe.accepts(table, **{column: "\u00e9" * top})
    probe.refuses(table, **{column: "\u00e9" * (top + 1)})


# ---- distances -------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["user_bike", "user_part"])
def test_initial_kilometrage_limit_agrees(probe, table):
    top = decimal.Decimal(rules()["initial_km_max"])
    probe.accepts(table, initial_kilometrage=top)
    probe.refuses(table, initial_kilometrage=top + MILLI)
    probe.accepts(table, initial_kilometrage=decimal.Decimal(0))
    probe.refuses(table, initial_kilometrage=-MILLI)


def test_ride_distance_limit_agrees(probe):
    top = decimal.Decimal(rules()["distance_km_max"])
    probe.accepts("kilometrage_log", distance=top)
    probe.refuses("kilometrage_log", distance=top + MILLI)
    # greater than 0: one metre is the least ride
    probe.accepts("kilometrage_log", distance=MILLI)
    probe.refuses("kilometrage_log", distance=decimal.Decimal(0))


def test_ride_moving_time_and_elevation_limits_agree(probe):
    top = rules()["moving_time_max"]
    probe.accepts("kilometrage_log", moving_time_s=top)
    probe.refuses("kilometrage_log", moving_time_s=top + 1)
    probe.accepts("kilometrage_log", moving_time_s=0)
    probe.refuses("kilometrage_log", moving_time_s=-1)
    m = decimal.Decimal(rules()["elevation_m_max"])
    probe.accepts("kilometrage_log", elevation_gain=m)
    probe.refuses("kilometrage_log", elevation_gain=m + MILLI)
    probe.refuses("kilometrage_log", elevation_gain=-MILLI)


def test_ride_external_id_limit_agrees(probe):
    top = rules()["external_id_max"]
    probe.accepts("kilometrage_log", source="s", external_id="x" * top)
    probe.refuses("kilometrage_log", source="s", external_id="x" * (top + 1))
    # an external id needs its source
    probe.refuses("kilometrage_log", external_id="x")


# ---- metadata --------------------------------------------------------------------------

def test_metadata_limit_agrees(probe):
    probe.cur.execute("SAVEPOINT probe")
    try:
        got = probe.one("SELECT vehicles.metadata_max_bytes()")
    except psycopg2.Error as e:
        probe.cur.execute("ROLLBACK TO SAVEPOINT probe")
        pytest.fail(f"vehicles.metadata_max_bytes() is not callable: {e.pgcode} {e.pgerror}")
    probe.cur.execute("RELEASE SAVEPOINT probe")
    assert got == rules()["metadata_max"]
