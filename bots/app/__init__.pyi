"""The public names of bots.app, for type checkers and readers (loaded lazily)."""

from .check import CheckReport as CheckReport
from .check import check_paths as check_paths
from .cli import main as main
from .wiring import App as App
from .wiring import background_work as background_work
from .wiring import build_app as build_app
from .wiring import discord_bot as discord_bot
from .wiring import slack_bot as slack_bot
