"""Who may call: staff tokens, consumers' API keys, the consumer-access layer, rate limits and the
audit log."""
