"""Regulatory statements, one module per statement, read from the projections with SQL.

Each statement builds typed rows (frozen dataclasses) for one journal position
(`periods.pin`) and returns a `projections.render.formats.Document`, whose JSON is the
contract documented in docs/statements.md. Statements never load aggregates and never
replay the journal: "known at P" is a filter on the bitemporal projection rows
(`periods.known`).
"""
