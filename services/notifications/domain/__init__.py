"""The notifications domain: pure decisions, given the fact and `now`."""
