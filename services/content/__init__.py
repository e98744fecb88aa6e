"""The content service.

Localised medical content (conditions, treatments, service offerings) for third-party sites, and
the editorial workflow behind it.
"""
