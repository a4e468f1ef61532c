"""Tests of the store package beyond its contracts."""
