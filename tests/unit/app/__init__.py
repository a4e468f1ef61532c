"""Tests of the application's commands and wiring."""
