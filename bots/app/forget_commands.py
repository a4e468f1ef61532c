"""`bots forget --conversation ID | --user ID`: delete what the bot keeps, and say what went."""

from __future__ import annotations

import argparse

from bots.config import Settings
from bots.models import Forgotten
from bots.store import open_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = commands.add_parser(
        "forget", help="delete a conversation, or everything about a user, from the database"
    )
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--conversation", metavar="ID", help="a conversation id (as the logs show it)")
    who.add_argument("--user", metavar="ID", help="a user's platform id (e.g. Slack's U0123)")
    forget.set_defaults(run=run_forget)


async def run_forget(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings.database_url)
    await store.open()
    try:
        if args.conversation is not None:
            report = await store.forget_conversation(args.conversation)
            subject = f"conversation {args.conversation}"
        else:
            report = await store.forget_user(args.user)
            subject = f"user {args.user}"
    finally:
        await store.close()
    print(describe(report, subject))
    return 0


def describe(report: Forgotten, subject: str) -> str:
    """What was deleted, in plain words."""
    if report == Forgotten():
        return f"Nothing to forget: the database holds nothing about {subject}."
    deleted = [
        _count(report.conversations, "conversation"),
        _count(report.turns, "message"),
        _count(report.handoffs, "hand-off record"),
        _count(report.feedback, "feedback mark"),
        _count(report.events, "processed-event id"),
    ]
    text = f"Forgot {subject}: deleted {', '.join(deleted[:-1])} and {deleted[-1]}."
    if report.usage_rows:
        text += (
            f" {_count(report.usage_rows, 'token usage record')} kept for cost reports"
            f" no longer {'names' if report.usage_rows == 1 else 'name'} the user."
        )
    if report.desk_tickets:
        text += (
            f" Help-desk tickets it had, still in the desk: {', '.join(report.desk_tickets)}"
            " (delete them there, or run again with --delete-desk-tickets)."
        )
    return text


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"
