"""Unit tests, laid out as `bots/` is."""
