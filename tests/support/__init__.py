"""Test rigs shared by several suites: the CLI runner, the fault harness, the log scan."""
