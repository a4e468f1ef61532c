"""The persona studio: a small web app to edit, test and preview personas and knowledge files."""
