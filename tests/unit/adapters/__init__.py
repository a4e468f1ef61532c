"""Tests of the adapters against local fakes of the platforms."""
