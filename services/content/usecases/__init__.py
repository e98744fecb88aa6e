"""What content does, by capability: the editorial commands and reads (editorial), the public
reads (delivery), draft previews (previews) and the seed a fresh installation publishes
(seeding)."""
