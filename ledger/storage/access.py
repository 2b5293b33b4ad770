"""Read-only access for auditors: a PostgreSQL role that can read everything and write
nothing, and recognising a connection that cannot write.

An auditor's connection must never change the ledger, not even the projections (a
catch-up writes). The CLI asks `cannot_write` whether a failed catch-up was refused for
lack of rights, and then answers from the projections as they are. This module grants
and revokes privileges; it never weakens the privileges of any role but the one named.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from ledger.storage.database import Connection
from ledger.storage.views import VIEWS

#: SQLSTATEs of a write refused for lack of rights: insufficient_privilege,
#: read_only_sql_transaction.
READ_ONLY_STATES = frozenset({"42501", "25006"})
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
WRITES = "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"


class AccessError(Exception):
    """The role cannot be made a read-only auditor (the message says why)."""


def cannot_write(error: BaseException) -> bool:
    """Was this a write refused because the connection may only read?"""
    if isinstance(error, sqlite3.OperationalError):
        return "readonly" in str(error) or "read-only" in str(error)
    return getattr(error, "pgcode", None) in READ_ONLY_STATES


def require_writable(conn: Connection) -> None:
    """Raise the driver's error if this connection cannot write (nothing is changed)."""
    conn.begin()
    try:
        conn.execute("UPDATE hl_meta SET value = value WHERE key = ?", ("schema_version",))
    finally:
        conn.rollback()


def grant_auditor(conn: Connection, role: str) -> list[str]:
    """Create (or update) `role` with LOGIN, SELECT on every table and view of the ledger's
    schema (now and later: PostgreSQL's ALL TABLES and default privileges on TABLES cover
    views) and no write privilege. Returns what was done, one line each."""
    if not conn.is_pg:
        raise AccessError(
            "db grant-auditor works on PostgreSQL only. On SQLite, give the "
            "auditor a copy of the file, or let them open it read-only: "
            "--db 'sqlite:///PATH?mode=ro'"
        )
    if not ROLE_NAME.fullmatch(role):
        raise AccessError(
            f"role name {role!r}: use lowercase letters, digits and _ "
            "(starting with a letter or _), at most 63 characters"
        )
    from psycopg2 import sql

    raw = conn.raw
    cursor = raw.cursor()
    try:
        done = _grant(cursor, sql, role)
        _check_read_only(cursor, role)
    except BaseException:
        raw.rollback()
        raise
    raw.commit()
    return done


def _grant(cursor: Any, sql: Any, role: str) -> list[str]:
    cursor.execute("SELECT current_user, current_database(), current_schema()")
    me, database, schema = cursor.fetchone()
    if role == me:
        raise AccessError(f"role {role} is the role running this command: choose another one")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,))
    found = cursor.fetchone()
    if found is not None and found[0]:
        raise AccessError(f"role {role} is a superuser: it can write everything")
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s", (schema, role)
    )
    owned = [r[0] for r in cursor.fetchall()]
    if owned:
        raise AccessError(
            f"role {role} owns {', '.join(sorted(owned))}: an owner can always "
            "write; choose a role that owns nothing"
        )
    r, s, d = sql.Identifier(role), sql.Identifier(schema), sql.Identifier(database)
    statements = [
        sql.SQL("CREATE ROLE {} LOGIN" if found is None else "ALTER ROLE {} LOGIN").format(r),
        sql.SQL("ALTER ROLE {} NOCREATEDB NOCREATEROLE").format(r),
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(r),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(d, r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL(f"REVOKE {WRITES} ON ALL TABLES IN SCHEMA {{}} FROM {{}}").format(s, r),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(s, r),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(s, r),
        sql.SQL(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {{}} REVOKE {WRITES} ON TABLES FROM {{}}"
        ).format(s, r),
    ]
    for statement in statements:
        cursor.execute(statement)
    return [
        f"role {role} {'created' if found is None else 'updated'} with LOGIN (no password: "
        f"set one with ALTER ROLE {role} PASSWORD '...' unless the server trusts it)",
        f"SELECT on every table of schema {schema} in database {database}, and on the tables "
        f"{me} creates there later; no INSERT, UPDATE, DELETE or TRUNCATE",
        "its sessions start read-only (default_transaction_read_only = on)",
    ]


def _check_read_only(cursor: Any, role: str) -> None:
    """Refuse if the role can still write a table, or a view (a view on one table takes
    writes), through PUBLIC or a role it is in."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') AND "
        "has_table_privilege(%s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') ORDER BY 1",
        (role,),
    )
    writable = [r[0] for r in cursor.fetchall()]
    if writable:
        raise AccessError(
            f"role {role} could still write {', '.join(writable)} (through PUBLIC or a role "
            "it belongs to): revoke that first; nothing was changed"
        )


def share_views(conn: Connection) -> None:
    """PostgreSQL: SELECT on each reporting view for every role granted SELECT on each
    table the view reads, in the caller's database transaction.

    An auditor granted before the views existed reads them through the default
    privileges of `grant_auditor`, but those cover only what their grantor creates: if
    another role upgrades the schema, this gives the auditor the new views. It reveals
    nothing a role could not already read from the tables."""
    if not conn.is_pg:
        return
    readers: dict[str, set[str]] = {}
    for table in sorted({table for view in VIEWS for table in view.reads}):
        rows = conn.query(
            "SELECT DISTINCT a.grantee::regrole::text FROM pg_class c "
            "CROSS JOIN LATERAL aclexplode(c.relacl) a WHERE c.oid = to_regclass(?) "
            "AND a.privilege_type = 'SELECT' AND a.grantee <> 0 AND a.grantee <> c.relowner",
            (table,),
        )
        readers[table] = {role for (role,) in rows}
    for view in VIEWS:
        for role in sorted(set.intersection(*(readers[table] for table in view.reads))):
            conn.execute(f"GRANT SELECT ON {view.name} TO {role}")  # regrole: quoted if need be
