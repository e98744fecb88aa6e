"""Notifications: patients and staff hear what happens to a case, by email, in their language,
once."""
