"""The channels a message leaves by: email over SMTP, SMS through a provider's HTTP API (or
the local stack's sink)."""
