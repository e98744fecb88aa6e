"""Content's SQL, kept as SQL: the editorial side (documents, revisions, schedules, what
publishing writes) and the public read side (lists, search, the change log)."""
