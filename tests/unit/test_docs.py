"""docs/ is kept in step with the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

from cli import main
from ledger.booking.transactions import (
    REGISTERED_UNIT_OPTIONAL,
    SCHEMAS,
    UNIT_OPTIONAL,
    UNIT_REQUIRED,
)
from ledger.booking.unitextras import RPLS_FIELDS

ROOT = Path(__file__).resolve().parents[2]
TRANSACTIONS_DOC = (ROOT / "docs" / "transactions.md").read_text(encoding="utf-8")


def rule_codes_in_code() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "ledger").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("RuleViolation", "InvalidField")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def rule_codes_in_doc() -> set[str]:
    section = TRANSACTIONS_DOC.split("## Rule codes", 1)[1]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M))


def test_every_rule_code_is_documented_and_every_documented_code_exists() -> None:
    assert rule_codes_in_code() == rule_codes_in_doc()


def test_every_transaction_type_and_field_is_documented() -> None:
    table = TRANSACTIONS_DOC.split("## Transaction types and fields", 1)[1].split("##", 1)[0]
    for tx_type, schema in SCHEMAS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{tx_type}` |"))
        documented = set(re.findall(r"`([a-z0-9_]+)`", row)) - {tx_type}
        assert documented == set(schema.required) | set(schema.optional), tx_type
    for name in [*UNIT_REQUIRED, *UNIT_OPTIONAL, *REGISTERED_UNIT_OPTIONAL]:
        assert f"`{name}`" in table


def test_every_key_of_the_rpls_object_is_documented() -> None:
    section = TRANSACTIONS_DOC.split("### The right and the RPLS values", 1)[1].split("##", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M))
    assert set(RPLS_FIELDS) <= documented
    assert documented - set(RPLS_FIELDS) == set(REGISTERED_UNIT_OPTIONAL) - set(UNIT_OPTIONAL)


def test_the_cli_reference_matches_the_help_text() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    runner = CliRunner()
    for command in ["", *sorted(main.commands)]:
        args = [command, "--help"] if command else ["--help"]
        help_text = runner.invoke(main, args, prog_name="housing-ledger").output
        assert help_text.strip() in reference, (
            f"docs/cli.md is stale for {command or 'the group'}: run `make docs`"
        )
