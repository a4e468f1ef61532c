"""The public names of bots.adapters.discord, for type checkers and readers (loaded lazily)."""

from .adapter import DiscordBot as DiscordBot
from .adapter import invite_url as invite_url
