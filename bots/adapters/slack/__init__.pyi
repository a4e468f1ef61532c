"""The public names of bots.adapters.slack, for type checkers and readers (loaded lazily)."""

from .adapter import SlackBot as SlackBot
