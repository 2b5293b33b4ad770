"""Regulatory statements, one module per statement, read from the projections with SQL.

Each statement builds typed rows (frozen dataclasses) for one journal position and
returns a `render.Document` whose JSON is the contract of `spec/cli.md`. Statements
never load aggregates and never replay the journal: "known at P" is a filter on the
bitemporal projection rows (`periods.KnownAt`).
"""
