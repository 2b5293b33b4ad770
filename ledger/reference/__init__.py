"""Reference data shipped with the ledger (see README.md here: sources and licences)."""
