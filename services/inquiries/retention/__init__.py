"""`python -m services.inquiries.retention [--dry-run]`: the retention job on demand. The job
itself is a use case (usecases/privacy/retention.py); its schedule runs in consumers.py."""
