"""Tests of the hand-off package."""
