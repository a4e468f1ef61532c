"""Building the help-channel question detector the bots and `bots eval help-channel` use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bots.config import Settings
from bots.retrieval.embeddings import USE_MULTILINGUAL, Embedder, local_embedder
from bots.turn.help_channel import HelpChannels, QuestionDetector
from bots.turn.runtime import PersonaRuntime


def question_detector(
    settings: Settings, *, rules_only: bool = False, shared: Embedder | None = None
) -> QuestionDetector:
    """Rules plus multilingual examples; the rules alone when BOTS_SEMANTIC is off, with
    `rules_only`, or when the embedding model does not load. `shared` is the retriever's USE
    model, reused so a process holds one copy."""
    if rules_only or not settings.semantic_retrieval:
        return QuestionDetector(None)
    if shared is not None and shared.name == USE_MULTILINGUAL:
        return QuestionDetector(shared)
    return QuestionDetector(local_embedder("use"))


def help_channels_for(
    settings: Settings,
    configured: Iterable[str],
    personas: Mapping[str, PersonaRuntime],
    shared: Embedder | None,
) -> tuple[HelpChannels | None, dict[str, str]]:
    """One platform's help channels (its setting's and every persona's `help_channels`), and
    the persona each persona-listed channel is answered by; (None, {}) when there are none."""
    by_persona = {
        channel: name
        for name, runtime in personas.items()
        for channel in runtime.persona.help_channels
    }
    channels = {*configured, *by_persona}
    if not channels:
        return None, {}
    return HelpChannels(channels, question_detector(settings, shared=shared)), by_persona
