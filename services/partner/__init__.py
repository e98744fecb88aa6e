"""The reference partner: answers Carebridge's offers over NATS, as a partner provider would."""
