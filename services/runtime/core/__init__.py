"""Settings, logging, the database pool, migrations, the error tree, outage kinds and pacing: what
every other room of the runtime stands on."""
