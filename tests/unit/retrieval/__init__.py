"""Tests of the retrieval package."""
