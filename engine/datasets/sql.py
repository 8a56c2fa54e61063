"""Reading the rows of one read-only SQL query into an Arrow table with studio types, batch by batch.

PostgreSQL (psycopg 3) and SQLite files are supported. The query runs in a read-only transaction (PostgreSQL)
or on a file opened read-only (SQLite), with a statement timeout, and only a single SELECT or WITH statement
is accepted. Host names are resolved here and checked against the caller's allow-list before connecting, and
the connection goes to the address that was checked, so a DNS answer cannot change between check and use.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from engine.runtime import JobContext, LocalContext

from .errors import DatasetFileError
from .options import Limits
from .types import check_names, column_from_values, normalize_table

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
BATCH_ROWS = 10_000
_COMMENT_OR_STRING = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$", re.S)


class SqlError(DatasetFileError):
    """A problem with a connection or a query, explained for the person who set it up."""


@dataclass(frozen=True)
class SqlTarget:
    """A parsed connection URL, never holding a password."""

    engine: str  # postgresql or sqlite
    host: str = ""
    port: int = 5432
    user: str = ""
    database: str = ""
    path: str = ""  # sqlite: the file
    params: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.path}"
        return f"postgresql://{self.user + '@' if self.user else ''}{self.host}:{self.port}/{self.database}"


def parse_sql_url(url: str) -> SqlTarget:
    """postgresql://user@host:port/database or sqlite:////absolute/path.db; a password in the URL is refused
    (it is given separately, so it is never stored or shown in the URL)."""
    url = (url or "").strip()
    if not url:
        raise SqlError("Give the database URL, e.g. postgresql://user@db.example.org:5432/sales.")
    if "\x00" in url or any(ord(ch) < 32 for ch in url):
        raise SqlError("The URL contains control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise SqlError(f"The URL is not valid: {error}.") from None
    engine = SCHEMES.get(parts.scheme.lower())
    if engine is None:
        raise SqlError(f"Unsupported database {parts.scheme or 'scheme'!r}: use a postgresql:// or sqlite:/// URL.")
    if parts.password is not None:
        raise SqlError("Leave the password out of the URL and type it in the password field: the URL is shown "
                       "to everyone who manages data, the password never is.")
    if engine == "sqlite":
        if parts.netloc:
            raise SqlError("A SQLite URL names a file on this server: sqlite:////path/to/file.db (no host).")
        # As SQLAlchemy spells them: sqlite:///name.db is relative (here: to an allowed directory) and
        # sqlite:////abs/path.db is absolute.
        path = unquote(parts.path)[1:]
        if not path or path == "/":
            raise SqlError("The SQLite URL names no file: use sqlite:////path/to/file.db.")
        return SqlTarget(engine="sqlite", path=path)
    if not parts.hostname:
        raise SqlError("The URL names no host: use postgresql://user@host:5432/database.")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise SqlError("The URL names no database: add it after the host, e.g. postgresql://user@host:5432/sales.")
    params = []
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        if key not in ("sslmode", "connect_timeout", "application_name"):
            raise SqlError(f"The URL option {key!r} is not supported; sslmode, connect_timeout and application_name "
                           "are.")
        if key == "connect_timeout" and not unquote(value).isdigit():
            raise SqlError("connect_timeout in the URL must be a whole number of seconds.")
        params.append((key, unquote(value)))
    return SqlTarget(engine="postgresql", host=parts.hostname, port=port or 5432,
                     user=unquote(parts.username or ""), database=database, params=tuple(params))


def check_read_query(query: str) -> str:
    """The query without trailing semicolons, if it is one SELECT or WITH statement; otherwise SqlError."""
    text = (query or "").strip()
    if not text:
        raise SqlError("Write a query, e.g. SELECT * FROM customers.")
    if "\x00" in text:
        raise SqlError("The query contains a zero byte.")
    while text.endswith(";"):
        text = text[:-1].rstrip()
    bare = _COMMENT_OR_STRING.sub(" ", text)
    if ";" in bare:
        raise SqlError("Give a single statement: the query contains a ';' between statements.")
    words = bare.split()
    first = words[0].lower().lstrip("(") if words else ""
    if first not in ("select", "with"):
        raise SqlError("Only read queries can be imported: start the query with SELECT or WITH.")
    return text


def check_host(host: str, port: int, allowed_hosts: Sequence[str]) -> str:
    """Resolve `host` and return the address to connect to. Loopback, private, link-local, metadata and other
    non-public addresses are refused unless the host name or that address is in `allowed_hosts`."""
    allowed = {item.strip().lower().strip("[]") for item in allowed_hosts if item.strip()}
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise SqlError(f"The host {host!r} cannot be found (its name does not resolve).") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_global and not ip.is_multicast:
            continue
        if host.lower().strip("[]") in allowed or address in allowed:
            continue
        raise SqlError(f"The host {host!r} resolves to a private or local address ({address}), which this studio "
                       "may not reach. An admin can allow it with STUDIO_SQL_ALLOWED_HOSTS.")
    if not addresses:
        raise SqlError(f"The host {host!r} cannot be found (its name does not resolve).")
    return addresses[0]


def check_sqlite_path(path: str, allowed_dirs: Sequence[str | Path]) -> Path:
    """The resolved SQLite file, if it lies inside one of `allowed_dirs` (an admin's STUDIO_IMPORT_PATHS)."""
    from .paths import resolve_allowed

    return resolve_allowed(path, allowed_dirs, what="SQLite file")


# --- connecting ------------------------------------------------------------------------------------------------

def connect(target: SqlTarget, *, password: str, allowed_hosts: Sequence[str], allowed_dirs: Sequence[str | Path],
            timeout_seconds: int) -> Any:
    """A DB-API connection ready for one read-only query; errors are SqlError with a message for the user
    (never containing the password)."""
    if target.engine == "sqlite":
        path = check_sqlite_path(target.path, allowed_dirs)
        try:
            lite = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout_seconds)
            lite.execute("PRAGMA query_only = ON")
        except sqlite3.Error as error:
            raise SqlError(f"The SQLite file cannot be opened: {error}.") from None
        deadline = time.monotonic() + timeout_seconds
        lite.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        return lite
    import psycopg

    address = check_host(target.host, target.port, allowed_hosts)
    options = dict(target.params)
    keywords: dict[str, Any] = {
        "host": target.host, "hostaddr": address, "port": target.port, "dbname": target.database,
        "user": target.user or None, "password": password or None,
        "connect_timeout": min(int(options.pop("connect_timeout", 10) or 10), 30),
        "options": f"-c statement_timeout={timeout_seconds * 1000} -c default_transaction_read_only=on",
        "application_name": options.pop("application_name", "ml-studio-import"), **options,
    }
    try:
        pg_connection = psycopg.connect(**keywords)
    except psycopg.OperationalError as error:
        raise SqlError(_connect_message(target, str(error), password)) from None
    except psycopg.Error as error:
        raise SqlError(f"Cannot connect to {target.display}: {_scrub(str(error), password)}") from None
    pg_connection.set_read_only(True)
    return pg_connection


def _scrub(message: str, password: str) -> str:
    message = message.strip().splitlines()[0] if message.strip() else "no reason given"
    return message.replace(password, "•••") if password else message


def _connect_message(target: SqlTarget, message: str, password: str) -> str:
    lowered = message.lower()
    where = f"{target.host}:{target.port}"
    if "password authentication failed" in lowered or "no password supplied" in lowered or \
            "authentication failed" in lowered:
        return (f"The database at {where} refused the user name or password for user {target.user!r}. Check them "
                "and save the connection again.")
    if "does not exist" in lowered and "database" in lowered:
        return f"The database {target.database!r} does not exist on {where}."
    if "timeout" in lowered or "timed out" in lowered:
        return f"The database at {where} did not answer in time (is the host and port right, and reachable?)."
    if "refused" in lowered or "could not connect" in lowered or "no route" in lowered or "unreachable" in lowered:
        return f"The database at {where} cannot be reached (connection refused or no route to the host)."
    return f"Cannot connect to the database at {where}: {_scrub(message, password)}"


# --- reading ---------------------------------------------------------------------------------------------------

def read_query(connection: Any, query: str, *, engine: str, limits: Limits | None = None,
               ctx: JobContext | None = None, batch_rows: int = BATCH_ROWS) -> pa.Table:
    """Stream the query's rows (a server-side cursor on PostgreSQL) into a table with studio types."""
    limits, ctx = limits or Limits(), ctx or LocalContext()
    query = check_read_query(query)
    if engine == "postgresql":
        import psycopg

        errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        cursor = connection.cursor(name=f"studio_import_{uuid.uuid4().hex[:12]}")
    else:
        errors = (sqlite3.Error,)
        cursor = connection.cursor()
    try:
        try:
            cursor.execute(query)
            description = cursor.description
        except errors as error:
            raise SqlError(_query_message(error)) from None
        if not description:
            raise SqlError("The query returned no columns: select at least one column.")
        if len(description) > limits.max_columns:
            raise SqlError(f"The query returns {len(description):,} columns; this studio accepts at most "
                           f"{limits.max_columns:,} (STUDIO_MAX_DATASET_COLUMNS).")
        names = check_names([column[0] for column in description])
        batches: list[list[pa.Array]] = []
        rows = 0
        while True:
            ctx.raise_if_stopped()
            try:
                chunk = cursor.fetchmany(batch_rows)
            except errors as error:
                raise SqlError(_query_message(error)) from None
            if not chunk:
                break
            rows += len(chunk)
            if rows > limits.max_rows:
                raise SqlError(f"The query returns more than {limits.max_rows:,} rows, the most this studio accepts "
                               "(STUDIO_MAX_DATASET_ROWS). Add a WHERE clause or a LIMIT.")
            batches.append([column_from_values([_plain(row[i]) for row in chunk]) for i in range(len(names))])
            ctx.progress(min(60.0, 5 + len(batches)), f"Read {rows:,} rows")
    finally:
        _close_quietly(cursor)
    if rows == 0:
        raise SqlError("The query returned no rows.")
    ctx.log(f"Read {rows:,} rows and {len(names)} columns in {len(batches)} batches.")
    columns = [_unify([batch[i] for batch in batches]) for i in range(len(names))]
    return normalize_table(pa.Table.from_arrays(columns, names=names))


def _close_quietly(cursor: Any) -> None:
    try:
        cursor.close()
    except Exception:  # noqa: BLE001, S110 - closing a cursor of a failed transaction may fail again
        pass


def _query_message(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(error).strip().splitlines()[0]
    if "statement timeout" in primary or "interrupted" in primary:
        return "The query ran past the time limit (STUDIO_SQL_TIMEOUT_SECONDS) and was cancelled."
    if "read-only transaction" in primary or "readonly" in primary.replace(" ", "").lower():
        return f"Only read queries can be imported; the database refused a write: {primary}"
    return f"The database refused the query: {primary}"


def _plain(value: Any) -> Any:
    """Python values the engine's type inference knows: exact decimals as floats, UUIDs, times and intervals
    as text, bytes as text when they are UTF-8."""
    if value is None or isinstance(value, bool | int | float | str | dt.datetime | dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + data.hex()
    if isinstance(value, dict | list):
        return value
    return str(value)


def _unify(parts: list[pa.Array]) -> pa.ChunkedArray:
    """One column from its batches: batches that are all missing take the others' type; integers mixed with
    floats become floats; any other mix becomes text."""
    typed = [part for part in parts if part.null_count < len(part)]
    kinds = {part.type for part in typed}
    if not kinds:
        return pa.chunked_array(parts, pa.string())
    if len(kinds) == 1:
        target = kinds.pop()
    elif kinds <= {pa.int64(), pa.float64()}:
        target = pa.float64()
    else:
        target = pa.string()
    return pa.chunked_array([_as(part, target) for part in parts], target)


def _as(part: pa.Array, target: pa.DataType) -> pa.Array:
    if part.type == target:
        return part
    if part.null_count == len(part):
        return pa.nulls(len(part), target)
    if target == pa.string() and pa.types.is_boolean(part.type):
        return pc.if_else(part, "true", "false")
    if target == pa.string() and pa.types.is_timestamp(part.type):
        return pc.strftime(part, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(part, target)

