"""Importing a team's existing docs into knowledge files: fetching, crawling, extracting, syncing."""
