"""The benchmark harness (issue 5): `make bench`, `python -m bench.run --help`.

Not part of the installed package and never run by the test suite (no timed tests).
"""
