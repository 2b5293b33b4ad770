"""Rendering of queries and statements: table, CSV, JSON, and HTML with inline SVG charts.

Must not: query a database or compute a figure. A statement gives its rows, header and
totals; this package only formats them (`formats`) and draws them (`charts`).
"""
