"""`python -m ledger.demo [FILE|-] [--units N] [--seed S] [--zoning CSV] [--profile P]`.

Only the entry point: the command line itself is `ledger.demo.story.main`.
"""

from ledger.demo.story import main

raise SystemExit(main())
