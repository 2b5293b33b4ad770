"""Write docs/cli.md from the commands' own --help (run `make docs`; a test checks it)."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from cli import main

HEADER = """# Command reference

Generated from `housing-ledger --help` by `make docs`; `tests/unit/test_docs.py` fails
when it is stale. Exit codes: 0 success, 1 input rejected, 2 usage error, 3 integrity
failure, 4 database unavailable or a concurrent writer won (see README.md).
"""


def sections(group: click.Group, path: list[str]) -> list[str]:
    runner = CliRunner()
    out = []
    for name in ["", *sorted(group.commands)]:
        args = [*path, name, "--help"] if name else [*path, "--help"]
        title = " ".join(["housing-ledger", *path, name]).strip()
        text = runner.invoke(main, args, prog_name="housing-ledger").output
        if name and isinstance(group.commands[name], click.Group):
            out.extend(sections(group.commands[name], [*path, name]))  # type: ignore[arg-type]
            continue
        out.append(f"## `{title}`\n\n```text\n{text.strip()}\n```\n")
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("cli.md")
    target.write_text(HEADER + "\n" + "\n".join(sections(main, [])), encoding="utf-8")
    print(f"wrote {target}")
