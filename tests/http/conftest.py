"""Fixtures of the black-box HTTP suite.

Users are rows in auth.users, inserted per test through DATABASE_URL (bikes and parts have a
foreign key to them), each with a fresh e-mail; tokens are minted with SUPABASE_JWT_SECRET.
Nothing here depends on the order tests run in: every test makes its own users.

    user, other          two fresh users (User: id, email, token, api)
    make_user(...)       a factory for more (confirmed=False: email_confirmed_at NULL)
    api, other_api       their clients
    anon_api             a client without a token
    client(token, retry_429=True, source=...)  a client with any token
    db                   the Db helper: db.query(sql, args) / db.execute(sql, args)
    create_bike(api, **fields)  POST /api/bikes, asserts 201, returns the bike

POOL_MODE=transaction (scripts/test's second run: the workers behind pgbouncer in transaction
mode, DATABASE_POOL_MODE=transaction; the fixtures stay direct) skips the tests marked
`session_db`: they need the workers' own sessions (one backend per worker, directly on the
cluster), which a transaction pooler does not give.
"""
import os
import threading

import psycopg2
import pytest

import support
from support import Api, assert_status


POOL_MODE = os.environ.get("POOL_MODE", "session")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "session_db(why): needs each worker's own database session (skipped with"
        " POOL_MODE=transaction, the workers behind a transaction pooler)")
    missing = [n for n, v in (("BASE_URL", support.BASE_URL),
                              ("DATABASE_URL", support.DATABASE_URL),
                              ("SUPABASE_JWT_SECRET", support.JWT_SECRET)) if not v]
    if missing:
        raise pytest.UsageError(
            "tests/http needs " + ", ".join(missing) + " in the environment (see support.py)")


def pytest_collection_modifyitems(config, items):
    if POOL_MODE != "transaction":
        return
    for item in items:
        mark = item.get_closest_marker("session_db")
        if mark is not None:
            why = mark.args[0] if mark.args else "needs the workers' own sessions"
            item.add_marker(pytest.mark.skip(reason=f"POOL_MODE=transaction: {why}"))


def pytest_terminal_summary(terminalreporter):
    n = support.RETRIED_429["count"]
    if n:
        terminalreporter.write_line(
            f"note: {n} request(s) got 429 from the rate limiter and were retried "
            "(raise RATE_ADDR / RATE_BURST_ADDR for test runs to avoid the waits)")


class Db:
    """A superuser connection to the service's database, reconnecting after an outage."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None
        self.lock = threading.Lock()

    def _connect(self):
        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.dsn, connect_timeout=5)
            self.conn.autocommit = True
        return self.conn

    def _run(self, sql, args, fetch):
        with self.lock:
            for attempt in (0, 1):
                try:
                    with self._connect().cursor() as cur:
                        cur.execute(sql, args)
                        return cur.fetchall() if fetch else cur.rowcount
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    # A connection broken by the outage test: reconnect once.
                    self.close()
                    if attempt:
                        raise

    def query(self, sql, args=None):
        return self._run(sql, args, True)

    def execute(self, sql, args=None):
        return self._run(sql, args, False)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None


class User:
    def __init__(self, id, email, token):
        self.id = id
        self.email = email
        self.token = token
        self.api = Api(token)

    def __repr__(self):
        return f"User({self.id}, {self.email})"


@pytest.fixture(scope="session")
def db():
    d = Db(support.DATABASE_URL)
    yield d
    d.close()


@pytest.fixture(scope="session")
def _created_users(db):
    ids = []
    yield ids
    # Tidy up: deleting the users cascades to their bikes, parts, logs and settings.
    if ids:
        try:
            db.execute("DELETE FROM auth.users WHERE id = ANY(%s::uuid[])", (ids,))
        except Exception:
            pass


@pytest.fixture
def make_user(db, _created_users):
    made = []

    def make(confirmed=True, email=None, tag="u"):
        uid = support.random_uuid()
        email = email or support.unique_email(tag)
        db.execute(
            "INSERT INTO auth.users (id, email, email_confirmed_at, created_at)"
            " VALUES (%s, %s, CASE WHEN %s THEN now() END, now())",
            (uid, email, confirmed))
        _created_users.append(uid)
        u = User(uid, email, support.user_token(uid, email=email))
        made.append(u)
        return u

    yield make
    for u in made:
        u.api.close()


@pytest.fixture
def user(make_user):
    return make_user(tag="a")


@pytest.fixture
def other(make_user):
    return make_user(tag="b")


@pytest.fixture
def api(user):
    return user.api


@pytest.fixture
def other_api(other):
    return other.api


@pytest.fixture
def client():
    made = []

    def make(token=None, retry_429=True, **kw):
        c = Api(token, retry_429=retry_429, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def anon_api(client):
    return client(None)


def _create_bike(api, **fields):
    body = {"name": "Test bike", "type": "road"}
    body.update(fields)
    return assert_status(api.post("/api/bikes", json=body), 201)


@pytest.fixture
def create_bike():
    return _create_bike
