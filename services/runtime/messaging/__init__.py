"""JetStream and the transactional outbox/inbox: the bus, the relay, idempotent consumers, dead
letters, request/reply and the records of copies kept in streams."""
