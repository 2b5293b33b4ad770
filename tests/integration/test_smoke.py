from tests.support import base_ledger


def test_base_ledger_holdings_on_both_databases(any_ledger):
    any_ledger.ok(*base_ledger())
    assert any_ledger.holdings() == [
        {"entity": "ESH-A", "full_ownership": 3, "usufruct": 0, "bare_ownership": 0},
        {"entity": "ESH-B", "full_ownership": 2, "usufruct": 0, "bare_ownership": 0},
    ]


def test_a_rejected_sale_names_the_line_and_writes_nothing(ledger):
    ledger.ok(*base_ledger())
    errors = ledger.rejected(
        {
            "id": "S1",
            "type": "sale",
            "date": "2018-01-01",
            "entity": "ESH-B",
            "units": ["U1"],
            "buyer": {"category": "sitting_tenant"},
            "price_eur": "100.00",
        }
    )
    assert errors == [
        "test.jsonl:1: sale S1: unit U1 is not held in full ownership by ESH-B "
        "on 2018-01-01 (it is held in full ownership by ESH-A)"
    ]
