"""The intake form on Slack: an "Add details" button on the hand-off message, a modal, its answers.

A modal needs a trigger (an interaction), so the form cannot open by itself when a thread
goes to the team: the message that tells the asker a person is coming carries the persona's
"Add details" button (only when the persona has `intake.fields`). A click by the asker opens
the modal (`views.open` with the click's `trigger_id`, the thread in `private_metadata`);
its `view_submission` is checked by the engine (`Engine.add_intake`, the rules in
bots/handoff/intake.py). A wrong answer is shown under its field in the modal
(`response_action: errors`) and nothing is lost; accepted answers are stored, sent to the
help-desk webhook, posted under the team's notice in the support channel, and thanked for
in the thread. Block Kit shapes: docs.slack.dev/reference/block-kit (input block,
plain_text_input, email_text_input, static_select) and /interactivity/handling#modal_responses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bots.adapters.slack import formatting as fmt
from bots.adapters.slack.send import Sender
from bots.adapters.slack.team import SupportTeam
from bots.handoff.intake import IntakeCheck, max_length, notice_lines
from bots.knowledge.entry_points import IntakeField, IntakeForm
from bots.models import IntakeDetails, ThreadKey
from bots.turn.engine import Engine

log = logging.getLogger(__name__)

OPEN_ACTION = "intake_open"
OFFER_BLOCK = "intake_offer"
CALLBACK_ID = "intake_submit"
VALUE_ACTION = "value"
ONLY_THE_ASKER = "Only the person who asked can add details to this conversation."


def encode_target(key: ThreadKey, asker: str) -> str:
    return json.dumps([*key.astuple(), asker])


def decode_target(value: str) -> tuple[ThreadKey, str] | None:
    try:
        parts = json.loads(value)
    except ValueError:
        return None
    if not (isinstance(parts, list) and len(parts) == 5 and all(isinstance(p, str) for p in parts)):
        return None
    return ThreadKey(*parts[:4]), parts[4]


def offer_blocks(text: str, form: IntakeForm, key: ThreadKey, asker: str) -> list[fmt.Block]:
    """The hand-off message with the form's button under it (`text` is mrkdwn already)."""
    button = {
        "type": "button",
        "action_id": OPEN_ACTION,
        "text": {"type": "plain_text", "text": form.button[:75]},
        "value": encode_target(key, asker),
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[: fmt.SECTION_LIMIT]}},
        {"type": "actions", "block_id": OFFER_BLOCK, "elements": [button]},
    ]


def _element(spec: IntakeField) -> dict[str, Any]:
    if spec.kind == "choice":
        options = [
            {"text": {"type": "plain_text", "text": o[:75]}, "value": o[:150]} for o in spec.options
        ]
        element: dict[str, Any] = {"type": "static_select", "options": options}
    elif spec.kind == "email":
        element = {"type": "email_text_input"}
    else:
        element = {"type": "plain_text_input", "max_length": max_length(spec)}
        if spec.kind == "long_text":
            element["multiline"] = True
    element["action_id"] = VALUE_ACTION
    if spec.placeholder:
        element["placeholder"] = {"type": "plain_text", "text": spec.placeholder[:150]}
    return element


def modal(form: IntakeForm, key: ThreadKey, asker: str) -> dict[str, Any]:
    """The form as a Slack modal view; each field an input block named by its id."""
    blocks = [
        {
            "type": "input",
            "block_id": spec.id,
            "optional": not spec.required,
            "label": {"type": "plain_text", "text": spec.label},
            "element": _element(spec),
        }
        for spec in form.fields
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": encode_target(key, asker),
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def raw_answers(view: dict[str, Any]) -> dict[str, str | None]:
    """Field id -> what was typed or picked, from a `view_submission`'s `view.state`."""
    values = ((view.get("state") or {}).get("values")) or {}
    found: dict[str, str | None] = {}
    for block_id, actions in values.items():
        element = (actions or {}).get(VALUE_ACTION) or {}
        if element.get("type") == "static_select":
            chosen = element.get("selected_option") or {}
            found[str(block_id)] = chosen.get("value")
        else:
            found[str(block_id)] = element.get("value")
    return found


def details_text(details: IntakeDetails) -> str:
    """The answers under the team's notice (the asker's words made inert for mrkdwn)."""
    lines = [f"• {fmt.safe_plain(line)}" for line in notice_lines(details)]
    return f"Details from {fmt.user_mention(details.user_id)}:\n" + "\n".join(lines)


class IntakeFlow:
    """The button's click and the modal's submission; the adapter routes bolt's calls here."""

    def __init__(
        self,
        engine: Engine,
        send: Sender,
        team: SupportTeam,
        say: Callable[[ThreadKey, str], Awaitable[None]],
    ) -> None:
        self._engine = engine
        self._send = send
        self._team = team
        self._say = say

    async def open(self, body: dict[str, Any]) -> None:
        """The asker clicked "Add details": open the modal on the click's trigger."""
        action = (body.get("actions") or [{}])[0]
        target = decode_target(str(action.get("value", "")))
        clicker = str((body.get("user") or {}).get("id", ""))
        trigger = str(body.get("trigger_id") or "")
        if target is None or not clicker or not trigger:
            log.warning("slack intake button without a thread, a user or a trigger: ignored")
            return
        key, asker = target
        if clicker != asker:
            channel = str((body.get("channel") or {}).get("id", "")) or key.channel
            await self._send.call(
                "chat_postEphemeral", channel=channel, user=clicker, text=ONLY_THE_ASKER
            )
            return
        form = await self._engine.intake_form(key)
        if form is None:
            log.info("intake button for %s, whose persona has no form: ignored", key.as_id())
            return
        await self._send.call("views_open", trigger_id=trigger, view=modal(form, key, asker))

    async def submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal was sent: wrong answers go back under their fields, good ones are kept."""
        target = decode_target(str(view.get("private_metadata") or ""))
        user = str((body.get("user") or {}).get("id", ""))
        if target is None or user != target[1]:
            await ack()  # not a form this bot opened for this person: close it, keep nothing
            log.warning("slack intake form without its thread or from someone else: ignored")
            return
        key = target[0]
        result = await self._engine.add_intake(key, user, raw_answers(view))
        if isinstance(result, IntakeCheck):
            await ack(response_action="errors", errors=dict(result.errors))
            return
        await ack()
        if result is None:
            return
        form = await self._engine.intake_form(key)
        await self._team.add_details(key, details_text(result))
        if form is not None:
            await self._say(key, fmt.safe_plain(form.thanks))
