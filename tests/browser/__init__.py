"""Tests in a real browser (see conftest.py)."""
