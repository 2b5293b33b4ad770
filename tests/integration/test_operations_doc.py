"""Every command of docs/operations.md runs, in the order the page gives them (issue 17).

The console blocks' `$ ` lines run as one bash script in a temporary folder holding a
demo ledger (`ledger.db`), with the ledger's `housing-ledger` first on PATH; the page's
PostgreSQL databases (`ledger`, `ledger_restored`) are renamed to fresh ones, dropped at
the end. The script stops at the first failing command (`set -e`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from click.testing import CliRunner

from cli import main
from tests.conftest import require_pg
from tests.support import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", PAGE, flags=re.S)
    return [
        line.strip()[2:]
        for block in blocks
        for line in block.splitlines()
        if line.strip().startswith("$ ")
    ]


def test_every_command_of_the_operations_page_runs(tmp_path: Path) -> None:
    require_pg()
    found = commands()
    assert any("db backup" in c for c in found) and any("pg_restore" in c for c in found)
    demo = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path}/ledger.db", "demo"])
    assert demo.exit_code == 0, demo.output
    restored = f"hl_restored_{uuid.uuid4().hex[:8]}"
    with fresh_pg_database() as pg_url:
        source = pg_url.rsplit("/", 1)[1]
        pg_demo = CliRunner().invoke(main, ["--db", pg_url, "demo", "--units", "300"])
        assert pg_demo.exit_code == 0, pg_demo.output
        script = "\n".join(
            c.replace("/ledger_restored", f"/{restored}")
            .replace(" ledger_restored", f" {restored}")
            .replace('5432/ledger"', f'5432/{source}"')
            for c in found
        )
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        env.pop("HOUSING_LEDGER_DB", None)
        try:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            subprocess.run(
                ["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", restored],
                capture_output=True,
            )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "check: the stored projections match the journal" in done.stdout
    assert (tmp_path / "backup.db").exists() and (tmp_path / "ledger.dump").exists()
