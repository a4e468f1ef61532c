"""Pure helpers for the Slack adapter: Markdown to mrkdwn, safe text, splitting, block building.

Nothing here talks to Slack; every function takes and returns plain values, so the rules that
keep model output from pinging anyone are tested without a network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bots.models import Citation, HandoffRecord, ThreadKey
from bots.text import neutralise_mentions, split_message

SECTION_LIMIT = 3000
"""Slack rejects section and context texts longer than this; each chunk is one message."""

MARKDOWN_BLOCK_LIMIT = 12_000
"""Slack's limit for a `markdown` block (standard Markdown, as `chat.startStream` takes)."""
_TEXT_BLOCKS = frozenset({"section", "markdown", "rich_text", "header"})

CLAIM_ACTION = "handoff_claim"
RESOLVE_ACTION = "handoff_resolve"
ACTIONS_BLOCK = "handoff_actions"
STATUS_BLOCK = "handoff_status"
SAVE_FAQ_ACTION = "handoff_save_faq"
APPROVE_FAQ_ACTION = "faq_approve"
FAQ_ACTIONS_BLOCK = "faq_actions"
FEEDBACK_UP_ACTION = "feedback_up"
FEEDBACK_DOWN_ACTION = "feedback_down"
FEEDBACK_BLOCK = "feedback_actions"
FEEDBACK_NATIVE_ACTION = "feedback_native"
NATIVE_PREFIX = "native:"
NATIVE_UP, NATIVE_DOWN = "up:", "down:"
FEEDBACK_DONE_BLOCK = "feedback_done"
FEEDBACK_THANKS = "Thanks for the feedback"
FEEDBACK_SORRY = "Sorry that didn't help"

Block = dict[str, Any]

_FENCE = re.compile(r"(```.*?(?:```|$))", re.DOTALL)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)|]+)\)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[*+-][ \t]+", re.MULTILINE)
_ITALIC = re.compile(r"(?<![*\w])\*(?!\*)(\S(?:[^*\n]*?\S)?)\*(?![*\w])")
_BOLD = re.compile(r"(\*\*|__)(\S(?:.*?\S)?)\1")
_STRIKE = re.compile(r"~~(\S(?:.*?\S)?)~~")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Slack's three control characters; after this no `<!channel>` or `<@U..>` is live."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_plain(text: str) -> str:
    """Untrusted text (model output, summaries, persona wording) made inert for mrkdwn."""
    return escape(neutralise_mentions(text))


def to_mrkdwn(markdown: str) -> str:
    """Standard Markdown from the model as Slack mrkdwn, with every mention defused.

    Code (fenced or inline) is escaped but otherwise left alone. Links become `<url|label>`
    only for http(s) URLs; the only `<` in the result are those links.
    """
    parts = _FENCE.split(neutralise_mentions(markdown))
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a fenced code block
            out.append(escape(part))
            continue
        pieces = _INLINE_CODE.split(part)
        out.append("".join(escape(p) if i % 2 else _convert_prose(p) for i, p in enumerate(pieces)))
    return "".join(out)


def _convert_prose(text: str) -> str:
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        links.append(f"<{escape(url)}|{escape(label).replace('|', '/')}>")
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, text)
    text = escape(text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _BOLD.sub(r"*\2*", text)
    text = _HEADING.sub(lambda m: f"*{m.group(1).strip('*')}*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return re.sub("\x00(\\d+)\x00", lambda m: links[int(m.group(1))], text)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces within `limit` (a section's by default); a cut code block is closed and
    reopened, without a language tag, which Slack would show as text."""
    return split_message(text, limit, keep_language=False)


def sources_text(citations: Sequence[Citation]) -> str:
    """One line of links to the knowledge entries the answer used."""
    links: list[str] = []
    for citation in citations:
        title = safe_plain(citation.title or citation.entry_id).replace("|", "/")
        url = citation.url or ""
        links.append(
            f"<{escape(url)}|{title}>" if url.startswith(("http://", "https://")) else title
        )
    text = "Sources: " + " · ".join(links)
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"


def reply_messages(
    markdown: str, citations: Sequence[Citation], feedback_value: str | None = None
) -> list[tuple[str, list[Block]]]:
    """A reply as Slack messages: (fallback text, blocks); the sources go under the last one.

    With `feedback_value` (see `encode_feedback`) the last message also gets 👍/👎 buttons.
    """
    pieces = split_text(to_mrkdwn(markdown)) or ["…"]
    messages: list[tuple[str, list[Block]]] = []
    for piece in pieces:
        messages.append((piece, [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}]))
    if citations:
        context = {"type": "context", "elements": [_mrkdwn(sources_text(citations))]}
        messages[-1][1].append(context)
    if feedback_value is not None:
        messages[-1][1].append(feedback_block(feedback_value))
    return messages


def feedback_block(value: str) -> Block:
    """The 👍/👎 buttons under an answer; both carry the same `value`.

    A value made by `native_feedback_value` gets Slack's own feedback buttons instead (a
    `context_actions` block with a `feedback_buttons` element, shown by Slack's AI apps),
    each button's value the answer's, marked up or down (docs.slack.dev/reference/block-kit/
    blocks/context-actions-block, /block-elements/feedback-buttons-element).
    """
    if value.startswith(NATIVE_PREFIX):
        answer = value.removeprefix(NATIVE_PREFIX)
        buttons = {
            "type": "feedback_buttons",
            "action_id": FEEDBACK_NATIVE_ACTION,
            "positive_button": {
                "text": {"type": "plain_text", "text": "👍"},
                "accessibility_label": "Helpful",
                "value": NATIVE_UP + answer,
            },
            "negative_button": {
                "text": {"type": "plain_text", "text": "👎"},
                "accessibility_label": "Not helpful",
                "value": NATIVE_DOWN + answer,
            },
        }
        return {"type": "context_actions", "block_id": FEEDBACK_BLOCK, "elements": [buttons]}
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK,
        "elements": [
            _button("👍 Helpful", FEEDBACK_UP_ACTION, value),
            _button("👎 Not helpful", FEEDBACK_DOWN_ACTION, value),
        ],
    }


@dataclass(frozen=True, slots=True)
class FeedbackTarget:
    """What a feedback button is about: the thread, the answered message, who asked."""

    key: ThreadKey
    message_ts: str
    asker: str


def native_feedback_value(value: str) -> str:
    """A feedback value that asks `feedback_block` for Slack's native feedback buttons."""
    return NATIVE_PREFIX + value


def classic_feedback_action(action: dict[str, Any]) -> dict[str, Any]:
    """A native feedback click as the classic buttons send it (the up or down action id,
    the answer's value), so one handler serves both."""
    value = str(action.get("value", ""))
    up = value.startswith(NATIVE_UP)
    answer = value.removeprefix(NATIVE_UP if up else NATIVE_DOWN)
    return {
        **action,
        "action_id": FEEDBACK_UP_ACTION if up else FEEDBACK_DOWN_ACTION,
        "value": answer,
    }


def encode_feedback(key: ThreadKey, message_ts: str, asker: str) -> str:
    """A feedback button value: the thread key as in `encode_key`, then the ts and the asker."""
    return json.dumps([*key.astuple(), message_ts, asker])


def decode_feedback(value: str) -> FeedbackTarget | None:
    parts = _string_list(value)
    if parts is None or len(parts) != 6:
        return None
    return FeedbackTarget(ThreadKey(*parts[:4]), parts[4], parts[5])


def rated_blocks(blocks: Sequence[Block], *, positive: bool, answer_text: str = "") -> list[Block]:
    """An answer after its feedback: the buttons replaced by a short context line.

    A streamed answer's text is not in its blocks (those only hold the sources and the
    buttons added when the stream stopped); with blocks, Slack shows only the blocks, so
    `answer_text` (standard Markdown, as it was streamed) goes in front as a markdown block.
    """
    kept = [b for b in blocks if b.get("block_id") not in (FEEDBACK_BLOCK, FEEDBACK_DONE_BLOCK)]
    if answer_text and not any(b.get("type") in _TEXT_BLOCKS for b in kept):
        kept.insert(0, {"type": "markdown", "text": answer_text[:MARKDOWN_BLOCK_LIMIT]})
    line = FEEDBACK_THANKS if positive else FEEDBACK_SORRY
    kept.append({"type": "context", "block_id": FEEDBACK_DONE_BLOCK, "elements": [_mrkdwn(line)]})
    return kept


def group_mention(group_id: str) -> str:
    """`<!subteam^S..>` for a user group id; anything else mentions nobody."""
    return f"<!subteam^{group_id}>" if _GROUP_ID.match(group_id) else ""


def user_mention(user_id: str) -> str:
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


def thread_link(key: ThreadKey) -> str:
    """A web link to the thread that needs no API call (the hand-off record's, for help
    desks): Slack's web client opens it for anyone in the workspace."""
    return f"https://app.slack.com/client/{key.workspace}/{key.channel}/thread/{key.channel}-{key.thread}"


def encode_key(key: ThreadKey) -> str:
    """A thread key as a button value (Slack allows 2,000 chars; ids are short)."""
    return json.dumps(list(key.astuple()))


def decode_key(value: str) -> ThreadKey | None:
    parts = _string_list(value)
    if parts is None or len(parts) != 4:
        return None
    return ThreadKey(*parts)


def _string_list(value: str) -> list[str] | None:
    try:
        parts = json.loads(value)
    except ValueError:
        return None
    if not (isinstance(parts, list) and all(isinstance(p, str) for p in parts)):
        return None
    return parts


def handoff_blocks(record: HandoffRecord, permalink: str | None, mention_group: str) -> list[Block]:
    """The support-channel message: who to ping, why, a summary, a link and two buttons."""
    why = record.reason.label
    detail = f" ({safe_plain(record.detail)})" if record.detail else ""
    mention = group_mention(mention_group)
    head = f"{mention} " if mention else ""
    # The user is named by id, not `<@..>`: the group is the only mention this message makes.
    asker = f"user `{escape(record.user_id)}`" if record.user_id else "the team"
    head += f"*New hand-off* from {asker}"
    head += f": {why}{detail}"
    if record.out_of_hours:
        head += " _(out of hours)_"
    summary = "\n".join(f"• {safe_plain(line)}" for line in record.summary) or "_no summary_"
    link = f"<{escape(permalink)}|Open the thread>" if permalink else "_no link to the thread_"
    value = encode_key(record.key)
    return [
        {"type": "section", "text": _mrkdwn(_clip(head))},
        {"type": "section", "text": _mrkdwn(_clip(summary))},
        {"type": "context", "elements": [_mrkdwn(link)]},
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK,
            "elements": [
                _button("Claim", CLAIM_ACTION, value, style="primary"),
                _button("Resolve", RESOLVE_ACTION, value),
            ],
        },
    ]


def handoff_fallback_text(record: HandoffRecord, mention_group: str) -> str:
    """The notification text of the support message (what push notifications show)."""
    mention = group_mention(mention_group)
    why = record.reason.label
    return f"{mention} New hand-off: {why}".strip()


def updated_handoff_blocks(
    blocks: Sequence[Block],
    *,
    status: str,
    key: ThreadKey | None,
    resolvable: bool,
    savable: bool = False,
) -> list[Block]:
    """The support message after a click: the status line, and Resolve while still open;
    once resolved after a staff answer (`savable`), the "Save as FAQ" button."""
    kept = [b for b in blocks if b.get("block_id") not in (ACTIONS_BLOCK, STATUS_BLOCK)]
    kept.append({"type": "context", "block_id": STATUS_BLOCK, "elements": [_mrkdwn(status)]})
    if resolvable and key is not None:
        button = _button("Resolve", RESOLVE_ACTION, encode_key(key))
        kept.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [button]})
    elif savable and key is not None:
        button = _button("Save as FAQ", SAVE_FAQ_ACTION, encode_key(key), style="primary")
        kept.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [button]})
    return kept


def faq_result_blocks(markdown: str, key: ThreadKey | None) -> list[Block]:
    """A "Save as FAQ" result for the support thread; with `key`, an Approve button."""
    blocks: list[Block] = [
        {"type": "section", "text": _mrkdwn(piece)} for piece in split_text(to_mrkdwn(markdown))
    ]
    if key is not None:
        button = _button("Approve", APPROVE_FAQ_ACTION, encode_key(key), style="primary")
        blocks.append({"type": "actions", "block_id": FAQ_ACTIONS_BLOCK, "elements": [button]})
    return blocks[:50]


def approved_blocks(blocks: Sequence[Block], status: str) -> list[Block]:
    """The result message once approved: the button replaced by `status` (already safe
    mrkdwn: who approved it)."""
    kept = [b for b in blocks if b.get("block_id") != FAQ_ACTIONS_BLOCK]
    kept.append({"type": "context", "elements": [_mrkdwn(_clip(status))]})
    return kept


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _clip(text: str) -> str:
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"
