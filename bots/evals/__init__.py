"""Offline evaluations of the bot's own parts on labelled data: the figures `bots eval` prints."""
