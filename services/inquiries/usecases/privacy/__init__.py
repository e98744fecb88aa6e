"""The patient's data rights, as use cases: consent, erasure, the access export and retention."""
