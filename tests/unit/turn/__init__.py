"""Tests of the turn package."""
