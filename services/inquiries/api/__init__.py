"""The HTTP doors of the inquiries service, one module per capability: thin Controllers that
decode, call one use case and answer."""
