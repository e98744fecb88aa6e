"""Use-case tests: use cases called directly on a real PostgreSQL (a database cloned from the
migrated template, see tests/conftest.py), with no app boot and no HTTP."""
