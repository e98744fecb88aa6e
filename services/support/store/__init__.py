"""The support tables: one function per statement, connection first."""
