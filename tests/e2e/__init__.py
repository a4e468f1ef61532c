"""Tests that start real processes or servers; marked slow (see tests/conftest.py)."""
