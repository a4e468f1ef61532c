"""Whether a persona's fixed rules and instructions leave room in the prompt for anything else."""

from __future__ import annotations

from bots.knowledge.finding import Finding
from bots.knowledge.persona import Persona
from bots.knowledge.yamlfile import YamlDocument
from bots.tokens import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMER,
    EncodingCounter,
    TokenCounter,
    counter_for_model,
    message_tokens,
)
from bots.turn.prompt import NO_ENTRIES_BLOCK, system_text

# Above this share of the prompt budget, the fixed rules + instructions leave little room for
# the FAQ entries and the conversation.
INSTRUCTIONS_WARNING_SHARE = 0.25


def instructions_budget(
    document: YamlDocument, persona: Persona, counter: TokenCounter | None = None
) -> list[Finding]:
    """Warn when the fixed rules + instructions crowd the prompt; fail when they cannot fit.

    `counter` counts for the model that will answer (by default the persona's own)."""
    counter = counter or counter_for_model(persona.model.name)
    system = system_text(persona, NO_ENTRIES_BLOCK, "entry-id")
    model = persona.model
    budget = model.context_window - model.max_tokens
    if isinstance(counter, EncodingCounter):
        # A bound well inside the budget settles it without loading the encoding (0.6 s).
        at_most = REPLY_PRIMER + counter.at_most(system) + MESSAGE_OVERHEAD
        if at_most <= budget * INSTRUCTIONS_WARNING_SHARE:
            return []
    used = REPLY_PRIMER + message_tokens(counter, system)
    if used <= budget * INSTRUCTIONS_WARNING_SHARE:
        return []
    where = (
        f"the prompt budget of {budget} tokens (model.context_window {model.context_window} "
        f"minus model.max_tokens {model.max_tokens})"
    )
    fix = "shorten the instructions or raise model.context_window"
    line, column = document.where(("instructions",)) or (None, None)
    if used > budget:
        message = f"the fixed rules and these instructions take {used} tokens, more than {where}"
        return [Finding(str(document.path), line, column, "instructions", f"{message}; {fix}")]
    message = (
        f"the fixed rules and these instructions take {used} tokens, "
        f"{round(100 * used / budget)}% of {where}, leaving little room for FAQ entries "
        f"and the conversation (keep it under {round(100 * INSTRUCTIONS_WARNING_SHARE)}%)"
    )
    return [
        Finding(str(document.path), line, column, "instructions", f"{message}; {fix}", "warning")
    ]
