"""The operator's report: a period's figures from the store, and their rendering."""
