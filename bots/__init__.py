"""Support bots for Discord and Slack: persona-driven, grounded in an FAQ, with human hand-off."""

__version__ = "0.2.0"
