"""Test doubles for the outside world: fake servers and in-memory stand-ins."""
