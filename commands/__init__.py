"""The commands of `housing-ledger`, one module per job; `cli.py` registers them.

`session` builds everything a command needs from the database URL (the concrete adapters
are wired there and nowhere else) and maps expected failures to exit codes; `options`
holds the options several commands share. Importing a module of this package registers
nothing: the group in `cli.py` adds each command explicitly, and no module here imports
`cli`.
"""
