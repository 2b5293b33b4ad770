"""Database URLs, parsed by the standard library: `sqlite:///FILE`, `postgresql://...`.

The grammar is SQLAlchemy's (`dialect[+driver]://user:password@host:port/database?query`),
so a URL means here what it means to `eventsourcing-sqlalchemy`, which is handed the same
string; a test checks the two parsers agree. Parsing it here keeps SQLAlchemy out of the
start of every command: a query on a small ledger pays for what it uses only.

Must not: open a connection, or show a password (`redact`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode

_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)
_SECRET_PARAMETER = re.compile(r"((?:ssl)?pass(?:word|wd)?|pwd|secret)=[^&]*", re.IGNORECASE)
_PASSWORD = re.compile(r"^([\w+]+://[^:/@]*):[^@]*@")


class NotAUrl(ValueError):
    """The text is not a database URL."""


@dataclass(frozen=True)
class DatabaseUrl:
    """The parts of a database URL (`None` where the URL leaves one out)."""

    backend: str  # the dialect: "sqlite", "postgresql" (the `+driver` left out)
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    def connect_args(self) -> dict[str, str | int]:
        """psycopg2's keyword arguments: the parts given, then the query's parameters."""
        parts: dict[str, str | int | None] = {"user": self.username, "password": self.password}
        parts.update({"host": self.host, "port": self.port, "dbname": self.database})
        args: dict[str, str | int] = {k: v for k, v in parts.items() if v}
        args.update(self.query)
        return args


def parse(url: str) -> DatabaseUrl:
    match = _URL.match(url)
    if match is None:
        raise NotAUrl(url)
    parts = match.groupdict()
    port = parts["port"]
    if port and not port.isdigit():
        raise NotAUrl(url)
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts["query"] or ""):
        query.setdefault(key, value)  # a repeated parameter: its first value
    username, password = parts["username"], parts["password"]
    return DatabaseUrl(
        backend=parts["name"].split("+", 1)[0],
        username=unquote(username) if username is not None else None,
        password=unquote(password) if password is not None else None,
        host=parts["ipv4host"] or parts["ipv6host"],
        port=int(port) if port else None,
        database=parts["database"],
        query=query,
    )


def read_only(url: str) -> str:
    """The same database, opened so that nothing can be written through it: SQLite
    `mode=ro`, PostgreSQL read-only transactions (`default_transaction_read_only`)."""
    parsed = parse(url)
    separator = "&" if "?" in url else "?"
    if parsed.backend == "sqlite":
        return url if parsed.query.get("mode") == "ro" else f"{url}{separator}mode=ro"
    setting = "-c default_transaction_read_only=on"
    options = parsed.query.get("options")
    if options is None:
        return f"{url}{separator}options={quote(setting)}"
    query = urlencode({**parsed.query, "options": f"{options} {setting}"}, quote_via=quote)
    return f"{url.split('?', 1)[0]}?{query}"


def redact(url: str) -> str:
    """The URL with its password hidden (in the URL and in its parameters), for
    messages and logs."""
    if _URL.match(url):
        shown = _PASSWORD.sub(r"\1:***@", url)
    else:
        shown = re.sub(r"([^:/@]*):[^@]*@", r"\1:***@", url)
    return _SECRET_PARAMETER.sub(r"\1=***", shown)
