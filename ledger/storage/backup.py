"""An online backup of a SQLite ledger: a consistent copy taken while writers run.

A plain file copy of a SQLite database in WAL mode, taken during a write, can hold half a
transaction (the main file and the WAL copied at different moments). SQLite's online
backup API copies the pages of one read transaction: the copy holds every transaction
committed before the backup began, and none that committed after, whole or not at all.
`backup_sqlite` writes the copy to a temporary file beside the target and renames it into
place only when complete, so a backup cut short leaves no file that looks like a ledger.
On PostgreSQL the database's own tools are safe and simple (`pg_dump`, base backups with
WAL archiving): docs/operations.md, and docs/decisions/0011-backup-command.md for why this
command exists for SQLite only.

Must not: overwrite an existing file, write to the source, or leave a partial copy.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ledger.storage.database import Database


class BackupError(Exception):
    """The backup cannot be taken; the message says why (nothing was written)."""


def backup_sqlite(db: Database, target: str) -> Path:
    """Copy the SQLite ledger `db` to the new file `target`, online; returns its path."""
    if db.dialect != "sqlite":
        raise BackupError(
            "db backup copies a SQLite ledger; on PostgreSQL use pg_dump or a base backup "
            "(docs/operations.md)"
        )
    source_path = db.sqlite_path
    if not source_path or source_path.startswith("file:") or not os.path.isfile(source_path):
        raise BackupError(f"no SQLite ledger file at {db.display}")
    final = Path(target)
    if final.exists():
        raise BackupError(f"{target} exists: a backup is written to a new file")
    if not final.parent.is_dir():
        raise BackupError(f"{final.parent} is not a directory")
    partial = final.with_name(f".{final.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # every page in one step: one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, final)
    return final
