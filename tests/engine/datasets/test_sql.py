"""The SQL reader: which queries pass, URL parsing, batched type inference (SQLite in memory, no Django)."""

import datetime as dt
import sqlite3
from decimal import Decimal

import pytest

from engine.datasets.options import Limits
from engine.datasets.sql import SqlError, check_host, check_read_query, parse_sql_url, read_query
from engine.runtime import JobStopped, LocalContext


@pytest.mark.parametrize("query", [
    "SELECT 1", "select * from t;", "  WITH x AS (SELECT 1) SELECT * FROM x ;;", "(SELECT 1)",
    "SELECT 'a;b' AS semi", "SELECT 1 -- trailing; comment", "SELECT /* ; */ 1", 'SELECT 1 AS "x;y"',
])
def test_single_read_statements_pass(query):
    assert check_read_query(query)


@pytest.mark.parametrize(("query", "message"), [
    ("", "Write a query"), ("DELETE FROM t", "SELECT or WITH"), ("SELECT 1; DELETE FROM t", "single statement"),
    ("INSERT INTO t VALUES (1)", "SELECT or WITH"), ("-- hi\nDROP TABLE t", "SELECT or WITH"),
    ("SELECT 1;\x00", "zero byte"), ("COPY t TO '/tmp/x'", "SELECT or WITH"),
])
def test_other_statements_are_refused(query, message):
    with pytest.raises(SqlError, match=message):
        check_read_query(query)


def test_urls_parse_without_passwords():
    target = parse_sql_url("postgresql://reader@db.example.org:6543/sales?sslmode=require")
    assert (target.host, target.port, target.user, target.database) == ("db.example.org", 6543, "reader", "sales")
    assert target.params == (("sslmode", "require"),) and target.display == "postgresql://reader@db.example.org:6543/sales"
    assert parse_sql_url("sqlite:////data/shop.db").path == "/data/shop.db"
    assert parse_sql_url("sqlite:///shop.db").path == "shop.db"
    with pytest.raises(SqlError, match="whole number"):
        parse_sql_url("postgresql://u@h/d?connect_timeout=soon")


def test_metadata_and_private_addresses_are_refused_unless_allowed():
    for host in ("169.254.169.254", "10.0.0.1", "127.0.0.1", "::1", "0.0.0.0"):
        with pytest.raises(SqlError, match="private or local"):
            check_host(host, 5432, [])
    assert check_host("127.0.0.1", 5432, ["127.0.0.1"]) == "127.0.0.1"
    assert check_host("localhost", 5432, ["localhost"]) in ("127.0.0.1", "::1")


def _database(rows):
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (a, b)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", rows)
    return connection


def test_types_are_unified_across_batches():
    rows = [(1, None), (2, None), (3, 1.5), (4, "x"), (None, None)]
    table = read_query(_database(rows), "SELECT * FROM t", engine="sqlite", batch_rows=2)
    assert str(table.schema.field("a").type) == "int64"
    assert table.column("b").to_pylist() == [None, None, "1.5", "x", None]


def test_decimals_datetimes_and_bytes_become_studio_values():
    from engine.datasets.sql import _plain

    assert _plain(Decimal("1.25")) == 1.25 and _plain(b"abc") == "abc" and _plain(b"\xff") == "0xff"
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert _plain(aware) == dt.datetime(2024, 1, 1, 10)


def test_limits_and_stops_are_checked_between_batches():
    database = _database([(i, i) for i in range(10)])
    with pytest.raises(SqlError, match="more than 5 rows"):
        read_query(database, "SELECT * FROM t", engine="sqlite", limits=Limits(max_rows=5), batch_rows=3)
    with pytest.raises(JobStopped):
        read_query(database, "SELECT * FROM t", engine="sqlite", ctx=LocalContext(stop_after_checks=0),
                   batch_rows=3)
