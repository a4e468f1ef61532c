"""`bots forget --conversation ID | --user ID`: delete what the bot keeps, and say what went."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bots.app.desk_wiring import desk_client
from bots.config import Settings
from bots.desks.outbox import DeskOutbox
from bots.models import Forgotten
from bots.store import Store, open_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = commands.add_parser(
        "forget", help="delete a conversation, or everything about a user, from the database"
    )
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--conversation", metavar="ID", help="a conversation id (as the logs show it)")
    who.add_argument("--user", metavar="ID", help="a user's platform id (e.g. Slack's U0123)")
    forget.add_argument(
        "--delete-desk-tickets",
        action="store_true",
        help="also delete their help-desk tickets in the desk (BOTS_DESK); off by default",
    )
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
        print(describe(report, subject, deleting=args.delete_desk_tickets))
        if args.delete_desk_tickets and report.desk_tickets:
            print(await delete_tickets(settings, store, report.desk_tickets))
    finally:
        await store.close()
    return 0


async def delete_tickets(settings: Settings, store: Store, tickets: tuple[str, ...]) -> str:
    """Delete the tickets in the desk now; those it refuses for now stay queued for the bot."""
    client = desk_client(settings)
    if client is None:
        return "No help desk is set up (BOTS_DESK): the tickets were left in the desk."
    outbox = DeskOutbox(store, {client.name: client}, lambda: datetime.now(UTC))
    try:
        for ticket in tickets:
            desk, _, ticket_id = ticket.partition(":")
            await outbox.delete(f"forgotten:{ticket}", desk, ticket_id)
        deleted = await outbox.run_due()
    finally:
        await client.aclose()
    left = len(tickets) - deleted
    text = f"Deleted {_count(deleted, 'help-desk ticket')} in {client.label}."
    if left:
        text += f" {_count(left, 'deletion')} queued: the bot retries while {client.label} is down."
    return text


def describe(report: Forgotten, subject: str, *, deleting: bool = False) -> str:
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
    if report.desk_tickets and not deleting:
        text += (
            f" Help-desk tickets it had, still in the desk: {', '.join(report.desk_tickets)}"
            " (delete them there, or run again with --delete-desk-tickets)."
        )
    return text


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"
