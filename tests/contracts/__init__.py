"""The store contract suites, run against every backend."""
