"""Importing a team's docs into knowledge files: fetch, crawl, extract, convert, sync."""
