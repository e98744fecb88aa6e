"""Use-case tests: each service's use cases called directly on a real PostgreSQL (a database of the
test's own), without booting the app or going through HTTP. Part of `make test-fast`."""
