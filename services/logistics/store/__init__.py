"""SQL of the logistics service, one module per table group: bookings (with their timeline),
offers, partners, incidents. Each function runs one statement on the caller's connection, so a
use case composes several in its transaction."""
