"""`make soak`: the whole stack under a steady flow for a long time, a random process killed
every minute (tests/soak/run.py)."""
