"""The persona's sections for the places people ask besides a thread: the assistant pane
(suggested prompts, thinking words) and the intake form asked before a person takes over."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_PROMPTS = 4
"""Slack shows at most four suggested prompts (`assistant.threads.setSuggestedPrompts`)."""
MAX_LOADING = 10
"""Slack rotates at most ten loading messages (`assistant.threads.setStatus`)."""
MAX_FIELDS = 5
"""A Discord modal holds at most five inputs; the same limit keeps the Slack form short."""
LABEL_LENGTH = 45
"""Discord's limit for an input's label (Slack allows more)."""

FieldKind = Literal["text", "long_text", "email", "choice"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class AssistantSettings(_Section):
    """The Slack assistant pane (the side panel of "Agents & AI apps")."""

    suggested_prompts: tuple[str, ...] = Field(
        (),
        max_length=MAX_PROMPTS,
        description="Up to four questions offered when someone opens a new chat with the "
        "assistant. Empty: the most asked FAQ questions.",
    )
    prompts_title: str = Field(
        "Try asking", max_length=75, description="The line above the suggested prompts."
    )
    thinking: str = Field(
        "is thinking…", min_length=1, max_length=50, description="The status while it answers."
    )
    loading_messages: tuple[str, ...] = Field(
        (),
        max_length=MAX_LOADING,
        description="Up to ten short lines the pane rotates through while it answers, in the "
        'persona\'s words, e.g. "Looking at the menu…".',
    )


class IntakeField(_Section):
    """One question of the intake form."""

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="Short name, e.g. order_number; what the team and the help desk see it as.",
    )
    label: str = Field(min_length=1, max_length=LABEL_LENGTH, description="The question shown.")
    kind: FieldKind = Field(
        "text", description="text, long_text (several lines), email, or choice (from options)."
    )
    required: bool = Field(False, description="Whether the form can be sent without it.")
    options: tuple[str, ...] = Field(
        (), max_length=25, description="For kind choice: the answers to pick from."
    )
    placeholder: str = Field("", max_length=100, description="Grey hint text inside the input.")

    @model_validator(mode="after")
    def _options_for_choices(self) -> IntakeField:
        if self.kind == "choice" and not self.options:
            raise ValueError(f"field {self.id} is a choice: give it options")
        if self.kind != "choice" and self.options:
            raise ValueError(f"field {self.id} has options but is not a choice (kind: choice)")
        return self


class IntakeForm(_Section):
    """Questions asked when a conversation goes to a person ("Add details" on the notice)."""

    fields: tuple[IntakeField, ...] = Field(
        (),
        max_length=MAX_FIELDS,
        description="Up to five questions (e-mail, order number, category...). None: no form.",
    )
    title: str = Field("Details for our team", min_length=1, max_length=24)
    button: str = Field("Add details", min_length=1, max_length=40)
    thanks: str = Field(
        "Thanks, the team has your details.",
        min_length=1,
        description="Said after the form is sent.",
    )

    @model_validator(mode="after")
    def _distinct_ids(self) -> IntakeForm:
        ids = [f.id for f in self.fields]
        if len(set(ids)) != len(ids):
            raise ValueError("two intake fields have the same id")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.fields)
