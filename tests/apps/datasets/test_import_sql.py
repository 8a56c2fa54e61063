"""Importing the rows of a read-only query from a saved connection: PostgreSQL and SQLite sources."""

import sqlite3

import psycopg
import pytest

from apps.core.errors import UserError
from apps.core.models import JobStatus
from apps.datasets.models import Connection, DatasetStatus
from apps.datasets.secrets import password_decrypt
from apps.datasets.sources import (
    connection_create,
    connection_test,
    connection_update,
    dataset_import_sql,
)

SOURCE_DB = "studio_import_src"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{SOURCE_DB}"


@pytest.fixture(scope="module")
def pg_source():
    """A throwaway PostgreSQL database with a small table, rebuilt for this module."""
    try:
        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432")
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SOURCE_DB]).fetchone():
            admin.execute(f"CREATE DATABASE {SOURCE_DB}")
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={SOURCE_DB}", autocommit=True) as source:
        source.execute("DROP TABLE IF EXISTS customers")
        source.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, balance numeric(10,2), "
                       "active boolean, joined timestamptz)")
        source.execute("INSERT INTO customers SELECT g, 'name ' || g, g * 1.5, g % 2 = 0, "
                       "timestamptz '2024-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 25) g")
        source.execute("UPDATE customers SET name = NULL WHERE id = 3")
        source.execute("DROP SEQUENCE IF EXISTS ticket")
        source.execute("CREATE SEQUENCE ticket")
    return PG_URL


@pytest.fixture
def allowed(settings, tmp_path):
    settings.SQL_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.IMPORT_PATHS = [str(tmp_path)]
    return tmp_path


@pytest.fixture
def sqlite_source(allowed):
    path = allowed / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER, item TEXT, price REAL, note TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)",
                       [(i, f"item {i}", i * 2.5, None if i % 2 else "x") for i in range(1, 8)])
    return path


def _import(project, owner, connection, query, run_job, name="imported"):
    dataset = dataset_import_sql(project=project, user=owner, connection=connection, query=query, name=name)
    job = run_job(dataset.last_job)
    dataset.refresh_from_db()
    return dataset, job


def test_a_postgresql_query_becomes_version_1_with_inferred_types(project, owner, pg_source, allowed, run_job):
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source, password="")
    assert connection_test(connection=connection).startswith("Connected: PostgreSQL")
    dataset, job = _import(project, owner, connection, "SELECT * FROM customers ORDER BY id;", run_job)
    assert job.status == JobStatus.COMPLETED, job.error
    version = dataset.current_version
    assert (version.row_count, version.column_count) == (25, 5)
    assert {c["name"]: c["type"] for c in version.schema} == {
        "id": "integer", "name": "string", "balance": "float", "active": "boolean", "joined": "datetime"}
    assert version.origin == "sql" and version.origin_detail["connection"] == "crm"
    assert version.origin_detail["query"] == "SELECT * FROM customers ORDER BY id"
    assert job.kind == "dataset.import_sql"


def test_rows_are_read_in_batches_and_types_agree_across_batches(project, owner, pg_source, allowed, run_job,
                                                                monkeypatch):
    monkeypatch.setattr("engine.datasets.sql.BATCH_ROWS", 4)
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    query = "SELECT id, CASE WHEN id > 10 THEN id * 0.5 END AS half FROM customers ORDER BY id"
    dataset, job = _import(project, owner, connection, query, run_job)
    assert job.status == JobStatus.COMPLETED, job.error
    assert {c["name"]: c["type"] for c in dataset.current_version.schema}["half"] == "float"


def test_a_writing_statement_is_refused_before_it_runs(project, owner, pg_source, allowed):
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    for query in ("DELETE FROM customers", "SELECT 1; DROP TABLE customers", "", "UPDATE customers SET id = 1"):
        with pytest.raises(UserError) as caught:
            dataset_import_sql(project=project, user=owner, connection=connection, query=query, name="x")
        assert caught.value.field == "query"


def test_writes_hidden_in_a_select_are_stopped_by_the_database(project, owner, pg_source, allowed, run_job):
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    query = "WITH gone AS (DELETE FROM customers RETURNING id) SELECT * FROM gone"
    dataset, job = _import(project, owner, connection, query, run_job)
    assert job.status == JobStatus.FAILED and "data-modifying" in job.error
    assert dataset.status == DatasetStatus.FAILED
    _, job = _import(project, owner, connection, "SELECT nextval('ticket')", run_job, name="seq")
    assert job.status == JobStatus.FAILED and "read-only" in job.error
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={SOURCE_DB}") as source:
        assert source.execute("SELECT count(*) FROM customers").fetchone()[0] == 25


def test_a_syntax_error_shows_the_databases_message(project, owner, pg_source, allowed, run_job):
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    dataset, job = _import(project, owner, connection, "SELECT nme FROM customers", run_job)
    assert job.status == JobStatus.FAILED
    assert 'column "nme" does not exist' in job.error and dataset.shown_error == job.error


def test_a_query_without_columns_or_rows_says_so(project, owner, pg_source, allowed, run_job):
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    _, job = _import(project, owner, connection, "SELECT", run_job, name="a")
    assert "no columns" in job.error
    _, job = _import(project, owner, connection, "SELECT * FROM customers WHERE false", run_job, name="b")
    assert "no rows" in job.error


def test_too_many_rows_fail_with_the_limit(project, owner, pg_source, allowed, run_job, settings, monkeypatch):
    settings.MAX_DATASET_ROWS = 10
    monkeypatch.setattr("engine.datasets.sql.BATCH_ROWS", 4)
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    _, job = _import(project, owner, connection, "SELECT * FROM customers", run_job)
    assert job.status == JobStatus.FAILED and "more than 10 rows" in job.error


def test_a_loopback_host_is_refused_unless_an_admin_allows_it(project, owner, pg_source, settings):
    settings.SQL_ALLOWED_HOSTS = []
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    with pytest.raises(UserError, match="private or local address.*STUDIO_SQL_ALLOWED_HOSTS"):
        connection_test(connection=connection)
    for url in ("postgresql://u@169.254.169.254/db", "postgresql://u@[::1]/db", "postgresql://u@0x7f000001/db"):
        connection.url = url
        with pytest.raises(UserError, match="private or local|cannot be found"):
            connection_test(connection=connection)


def test_bad_urls_are_refused_with_a_reason(project, owner):
    cases = {"mysql://u@h/db": "Unsupported", "postgresql://u:secret@h/db": "password field",
             "postgresql:///db": "no host", "postgresql://u@h:5432/": "no database", "": "database URL",
             "postgresql://u@h/db?sslrootcert=/etc/passwd": "not supported"}
    for url, message in cases.items():
        with pytest.raises(UserError, match=message) as caught:
            connection_create(project=project, user=owner, name="c", url=url)
        assert caught.value.field == "url" and "secret" not in caught.value.message


def test_an_unreachable_host_and_a_wrong_password_say_so_without_the_password(project, owner, allowed, pg_source):
    connection = connection_create(project=project, user=owner, name="down", url="postgresql://u@127.0.0.1:1/db")
    with pytest.raises(UserError, match="cannot be reached"):
        connection_test(connection=connection)
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={SOURCE_DB}", autocommit=True) as source:
        source.execute("DROP ROLE IF EXISTS studio_reader")
        source.execute("CREATE ROLE studio_reader LOGIN PASSWORD 'right-password'")
        auth = source.execute("SELECT 1 FROM pg_hba_file_rules WHERE auth_method IN ('trust') AND "
                              "address IS NOT NULL").fetchone()
    connection = connection_create(project=project, user=owner, name="auth", password="wrong-password-123",
                                   url=f"postgresql://studio_reader@127.0.0.1:5432/{SOURCE_DB}")
    if auth:  # this server trusts local connections, so a password cannot be wrong; check the message instead
        from engine.datasets.sql import _connect_message, parse_sql_url

        message = _connect_message(parse_sql_url(connection.url),
                                   'password authentication failed for user "studio_reader"', "wrong-password-123")
        assert "refused the user name or password" in message and "wrong-password-123" not in message
        return
    with pytest.raises(UserError, match="refused the user name or password") as caught:
        connection_test(connection=connection)
    assert "wrong-password-123" not in caught.value.message


def test_the_password_is_stored_encrypted_and_kept_when_editing(project, owner):
    connection = connection_create(project=project, user=owner, name="c", url="postgresql://u@db.example.org/d",
                                   password="hunter2-password")
    stored = Connection.objects.get(id=connection.id).password_encrypted
    assert "hunter2" not in stored and stored.startswith("v1:")
    assert password_decrypt(stored) == "hunter2-password"
    connection_update(connection=connection, user=owner, name="c2", url="postgresql://u@db.example.org/e",
                      password="")
    connection.refresh_from_db()
    assert connection.name == "c2" and password_decrypt(connection.password_encrypted) == "hunter2-password"


def test_a_password_under_another_secret_key_asks_to_type_it_again(project, owner, settings):
    connection = connection_create(project=project, user=owner, name="c", url="postgresql://u@db.example.org/d",
                                   password="hunter2-password")
    settings.SECRET_KEY = "another-key-" * 6
    with pytest.raises(UserError, match="type the password again"):
        connection_test(connection=connection)


def test_a_sqlite_file_under_an_allowed_directory_imports(project, owner, sqlite_source, run_job):
    connection = connection_create(project=project, user=owner, name="shop", url=f"sqlite:///{sqlite_source}")
    assert "1 tables" in connection_test(connection=connection)
    dataset, job = _import(project, owner, connection, "SELECT * FROM orders WHERE id < 6", run_job)
    assert job.status == JobStatus.COMPLETED, job.error
    version = dataset.current_version
    assert version.row_count == 5 and [c["type"] for c in version.schema] == ["integer", "string", "float", "string"]


def test_a_sqlite_file_is_opened_read_only(project, owner, sqlite_source, run_job):
    connection = connection_create(project=project, user=owner, name="shop", url=f"sqlite:///{sqlite_source}")
    _, job = _import(project, owner, connection, "WITH x AS (SELECT 1) SELECT * FROM orders; ", run_job)
    assert job.status == JobStatus.COMPLETED
    _, job = _import(project, owner, connection, "SELECT * FROM nowhere", run_job, name="b")
    assert job.error == "The database refused the query: no such table: nowhere"


def test_a_sqlite_file_outside_the_allowed_directories_is_refused(project, owner, allowed, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "x.db"
    sqlite3.connect(elsewhere).close()
    with pytest.raises(UserError, match="outside the directories") as caught:
        connection_create(project=project, user=owner, name="x", url=f"sqlite:///{elsewhere}")
    assert caught.value.field == "url"
    sqlite3.connect(allowed / "x.db").close()
    connection = connection_create(project=project, user=owner, name="x", url=f"sqlite:///{allowed / 'x.db'}")
    connection.url = f"sqlite:///{elsewhere}"  # saved before an admin narrowed STUDIO_IMPORT_PATHS
    with pytest.raises(UserError, match="outside the directories"):
        connection_test(connection=connection)


@pytest.mark.slow
@pytest.mark.worker
def test_a_real_worker_imports_a_postgresql_query(celery_worker, project, pg_source, settings):
    from tests.conftest import wait_for

    settings.SQL_ALLOWED_HOSTS = ["127.0.0.1"]
    celery_worker(queues="default", STUDIO_SQL_ALLOWED_HOSTS="127.0.0.1")
    owner = project.created_by
    connection = connection_create(project=project, user=owner, name="crm", url=pg_source)
    dataset = dataset_import_sql(project=project, user=owner, connection=connection,
                                 query="SELECT id, name FROM customers WHERE id <= 20", name="crm")

    def ended():
        dataset.last_job.refresh_from_db()
        return dataset.last_job.is_ended

    wait_for(ended, timeout=60)
    dataset.refresh_from_db()
    assert dataset.last_job.status == JobStatus.COMPLETED, dataset.last_job.error
    assert dataset.status == DatasetStatus.READY and dataset.current_version.row_count == 20
