"""The read-only web view for auditors (`housing-ledger serve`, issue 16).

`app.py` is the Flask application (GET routes only, one read snapshot per request),
`pages.py` builds the `Document` each page shows from the projections' queries (the same
documents the CLI prints), `layout.py` turns them into escaped, script-free HTML pages.
Nothing here writes the journal or the projections' records, holds SQL beyond trivial
lookups, or is imported by the CLI before `serve` runs (Flask is an optional extra).
"""
