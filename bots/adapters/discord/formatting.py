"""Pure helpers for the Discord adapter: 2,000-char splitting, sources, thread names, embeds.

Nothing here talks to Discord. Model text is already Markdown, which Discord renders as is;
what changes is the size limit, mention safety (neutralised here, and `allowed_mentions` none
on every send), and the hand-off embed and its custom ids, which carry the thread key so the
buttons keep working after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bots import text as text_tools
from bots.models import Citation, HandoffRecord, ThreadKey
from bots.text import neutralise_mentions

MESSAGE_LIMIT = 2000
"""Discord rejects message content longer than this."""
THREAD_NAME_LIMIT = 100
EMBED_FIELD_LIMIT = 1024
EMBED_DESCRIPTION_LIMIT = 4096
PLATFORM = "discord"
DM_WORKSPACE = "@me"

CLAIM_PREFIX = "bots:claim"
RESOLVE_PREFIX = "bots:resolve"
FEEDBACK_PREFIX = "bots:fb"
SAVE_FAQ_PREFIX = "bots:faqsave"
APPROVE_FAQ_PREFIX = "bots:faqok"
KEY_PATTERN = r"(?P<workspace>@me|\d+):(?P<thread>\d+)"
CLAIM_TEMPLATE = CLAIM_PREFIX + ":" + KEY_PATTERN
RESOLVE_TEMPLATE = RESOLVE_PREFIX + ":" + KEY_PATTERN
SAVE_FAQ_TEMPLATE = SAVE_FAQ_PREFIX + ":" + KEY_PATTERN
APPROVE_FAQ_TEMPLATE = APPROVE_FAQ_PREFIX + ":" + KEY_PATTERN
FEEDBACK_TEMPLATE = (
    FEEDBACK_PREFIX + r":(?P<vote>up|down):" + KEY_PATTERN + r":(?P<message>\d+):(?P<asker>\d+)"
)

COLOUR_WAITING = discord.Colour.orange()
COLOUR_CLAIMED = discord.Colour.blue()
COLOUR_RESOLVED = discord.Colour.green()
STATUS_FIELD = "Status"
FEEDBACK_THANKS = "Thanks for the feedback"
FEEDBACK_SORRY = "Sorry that didn't help"

_MENTION_TOKEN = re.compile(r"<@!?(\d+)>")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces within Discord's message limit; a cut code block is closed and reopened with
    its language tag (`bots.text.split_message`)."""
    return text_tools.split_message(text, limit)


def safe_text(text: str) -> str:
    """Untrusted text made inert: mass mentions and mention markup broken (allowed_mentions
    none is the second lock)."""
    return neutralise_mentions(text)


def sources_line(citations: Sequence[Citation]) -> str:
    """One line of links to the knowledge entries the answer used (angle brackets: no previews)."""
    parts: list[str] = []
    for citation in citations:
        title = safe_text(citation.title or citation.entry_id).replace("[", "(").replace("]", ")")
        url = citation.url or ""
        if url.startswith(("http://", "https://")) and not re.search(r"[\s<>()]", url):
            parts.append(f"[{title}](<{url}>)")
        else:
            parts.append(title)
    return "-# Sources: " + " · ".join(parts) if parts else ""


def reply_messages(markdown: str, citations: Sequence[Citation]) -> list[str]:
    """A complete reply as message contents; the sources line goes under the last piece."""
    pieces = split_message(safe_text(markdown)) or ["…"]
    sources = sources_line(citations)
    if sources:
        if len(pieces[-1]) + 1 + len(sources) <= MESSAGE_LIMIT:
            pieces[-1] = f"{pieces[-1]}\n{sources}"
        else:
            pieces.extend(split_message(sources))
    return pieces


def thread_name(question: str, fallback: str) -> str:
    """A thread title from the question: its first line, without mentions, at most 100 chars."""
    text = _MENTION_TOKEN.sub("", question)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = re.sub(r"\s+", " ", line).strip() or fallback
    if len(line) > THREAD_NAME_LIMIT:
        line = line[: THREAD_NAME_LIMIT - 1].rstrip() + "…"
    return line


def strip_mention(text: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>\s*", "", text).strip()


def thread_link(key: ThreadKey) -> str:
    guild = key.workspace if key.workspace != DM_WORKSPACE else "@me"
    return f"https://discord.com/channels/{guild}/{key.thread}"


# -- custom ids ----------------------------------------------------------------------------


def thread_key(workspace: str, thread: str) -> ThreadKey:
    """A conversation's key: the thread (or DM channel) is both its channel and its thread, so
    a follow-up finds the conversation without knowing the parent channel, and a button's
    custom id (at most 100 chars) holds the whole key."""
    return ThreadKey(PLATFORM, workspace, thread, thread)


def key_part(key: ThreadKey) -> str:
    return f"{key.workspace}:{key.thread}"


def claim_id(key: ThreadKey) -> str:
    return f"{CLAIM_PREFIX}:{key_part(key)}"


def resolve_id(key: ThreadKey) -> str:
    return f"{RESOLVE_PREFIX}:{key_part(key)}"


def save_faq_id(key: ThreadKey) -> str:
    return f"{SAVE_FAQ_PREFIX}:{key_part(key)}"


def approve_faq_id(key: ThreadKey) -> str:
    return f"{APPROVE_FAQ_PREFIX}:{key_part(key)}"


def feedback_id(vote: str, key: ThreadKey, message_id: str, asker: str) -> str:
    return f"{FEEDBACK_PREFIX}:{vote}:{key_part(key)}:{message_id}:{asker}"


def key_from(match: re.Match[str]) -> ThreadKey:
    return thread_key(match["workspace"], match["thread"])


@dataclass(frozen=True, slots=True)
class RolePing:
    """The one mention a hand-off notice may make: the support role, if configured."""

    content: str
    allowed: discord.AllowedMentions


def role_ping(role_id: str, text: str) -> RolePing:
    if role_id.isdigit():
        allowed = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(int(role_id))], replied_user=False
        )
        return RolePing(f"<@&{role_id}> {text}", allowed)
    return RolePing(text, discord.AllowedMentions.none())


# -- the hand-off embed --------------------------------------------------------------------


def handoff_embed(record: HandoffRecord, link: str) -> discord.Embed:
    """The support-channel card: why, what the user wants, where the thread is."""
    why = record.reason.label
    if record.detail:
        why += f" ({safe_text(record.detail)})"
    summary = "\n".join(f"• {safe_text(line)}" for line in record.summary) or "_no summary_"
    embed = discord.Embed(
        title="New hand-off",
        description=_clip(summary, EMBED_DESCRIPTION_LIMIT),
        colour=COLOUR_WAITING,
        url=link,
    )
    embed.add_field(name="Reason", value=_clip(why, EMBED_FIELD_LIMIT), inline=False)
    asker = f"<@{record.user_id}>" if record.user_id.isdigit() else "the team"
    embed.add_field(name="From", value=asker, inline=True)
    embed.add_field(name="Thread", value=f"[Open the thread]({link})", inline=True)
    if record.out_of_hours:
        embed.add_field(name="Hours", value="out of hours", inline=True)
    embed.add_field(name=STATUS_FIELD, value="Waiting for someone to claim", inline=False)
    return embed


def updated_embed(embed: discord.Embed, status: str, colour: discord.Colour) -> discord.Embed:
    """The card after a claim or a hand-back: the status field and the colour change."""
    fresh = embed.copy()
    fresh.colour = colour
    for index, embed_field in enumerate(fresh.fields):
        if embed_field.name == STATUS_FIELD:
            fresh.set_field_at(index, name=STATUS_FIELD, value=status, inline=False)
            return fresh
    fresh.add_field(name=STATUS_FIELD, value=status, inline=False)
    return fresh


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
