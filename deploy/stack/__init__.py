"""The local stack: PostgreSQL, NATS and the three services in one foreground command.

`python -m deploy.stack run|reset|status [--data-dir DIR]`; see `cli` for what each does."""
