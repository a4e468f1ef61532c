"""Personas: the YAML files that give the bot its voice, model settings and knowledge sets."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bots.errors import PersonaError
from bots.knowledge.entry_points import AssistantSettings, IntakeForm
from bots.knowledge.forum_settings import ForumSettings
from bots.knowledge.reading import listed_as_file
from bots.knowledge.yamlfile import YamlDocument, read_yaml
from bots.language.catalog import MESSAGE_NAMES, message, supported


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ModelSettings(_Section):
    """Which model answers and how. Any OpenAI-compatible server works."""

    name: str = Field("gpt-4o-mini", min_length=1, description="Model name sent to the API.")
    temperature: float = Field(0.3, ge=0, le=2)
    max_tokens: int = Field(600, ge=16, le=32_000, description="Longest reply, in tokens.")
    top_p: float = Field(1.0, gt=0, le=1)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)
    stop: tuple[str, ...] = Field((), max_length=4)
    context_window: int = Field(
        16_000,
        ge=512,
        description="Tokens the model can read; the prompt is kept within it (and within the "
        "server's own window, when the server says what it is).",
    )
    tools: bool = Field(
        True,
        description="Whether the server supports tool calls. Set false for servers that do "
        "not; the model then asks for a person with a [[handoff: reason]] marker instead.",
    )
    vision: bool = Field(
        False,
        description="Whether the model can read images (gpt-4o, gpt-4o-mini, llava...). When "
        "true, screenshots attached to a question are sent to it; when false, the bot says it "
        "cannot see images and offers a person.",
    )

    @model_validator(mode="after")
    def _room_for_the_prompt(self) -> ModelSettings:
        if self.max_tokens > self.context_window // 2:
            raise ValueError(
                f"max_tokens ({self.max_tokens}) must be at most half of context_window "
                f"({self.context_window}), to leave room for the conversation and the FAQ"
            )
        return self


# How sure retrieval must be before the bot answers from an entry (bots/retrieval/search.py).
MatchLevel = Literal["loose", "normal", "strict"]
RewriteFollowups = Literal["off", "on"]


class KnowledgeSettings(_Section):
    sets: tuple[str, ...] = Field(
        (), description="Folders under knowledge/ that this persona answers from."
    )
    max_snippets: int = Field(5, ge=1, le=20, description="Entries put in front of the model.")
    snippet_budget_share: float = Field(
        0.5, gt=0, le=0.9, description="Share of the prompt budget that knowledge may use."
    )
    match: MatchLevel = Field(
        "normal",
        description=(
            "How sure the bot must be that an FAQ entry answers a question before answering "
            'from it: strict says "I don\'t know" more often, loose answers more often.'
        ),
    )
    rewrite_followups: RewriteFollowups = Field(
        "off",
        description=(
            'on: before looking up a short follow-up ("which days?"), the bot asks the AI '
            "model (the persona's own) to turn it into a full question; off: it reads the "
            "follow-up with the earlier messages itself, without asking the model."
        ),
    )

    sync_every: str = Field(
        "",
        pattern=r"^$|^[1-9][0-9]*[smhd]$",
        description=(
            "How often the running bot re-syncs this persona's imported knowledge sets "
            '(`bots knowledge import`): e.g. "6h", "30m", "1d"; "" (the default) never.'
        ),
    )

    @property
    def sync_seconds(self) -> float | None:
        """`sync_every` in seconds, or None when the bot never re-syncs on its own."""
        if not self.sync_every:
            return None
        scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}[self.sync_every[-1]]
        return float(int(self.sync_every[:-1]) * scale)

    @field_validator("rewrite_followups", mode="before")
    @classmethod
    def _yaml_switch(cls, value: object) -> object:
        # YAML reads a bare `on` / `off` as true / false: take them as the words written.
        if isinstance(value, bool):
            return "on" if value else "off"
        return value


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")


class SupportHours(_Section):
    """When people on the team answer hand-offs. Days left out are closed days."""

    timezone: str = Field("UTC", description="An IANA time zone, e.g. Europe/Paris.")
    days: dict[str, str] = Field(
        default_factory=dict,
        description='Opening times per day, e.g. monday: "09:00-17:00".',
        json_schema_extra={
            "properties": {day: {"type": "string", "pattern": _SPAN.pattern} for day in _DAYS},
            "additionalProperties": False,
        },
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Paris") from None
        return value

    @field_validator("days")
    @classmethod
    def _valid_days(cls, value: dict[str, str]) -> dict[str, str]:
        for day, span in value.items():
            if day not in _DAYS:
                close = difflib.get_close_matches(day, _DAYS, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                raise ValueError(f"{day!r} is not a day of the week{hint}")
            match = _SPAN.match(str(span))
            closes = match and (match.group(3, 4) if match.group(3) else match.group(5, 6))
            if not match or not closes or match.group(1, 2) >= closes:
                raise ValueError(f'{day}: expected opening times like "09:00-17:00"')
        return value


def _id_as_text(value: object) -> object:
    # Authors paste numeric IDs without quotes; YAML then reads a number. It is still the ID.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SlackDestination(_Section):
    channel: str = Field(
        "", description="Channel that gets hand-offs, by ID (C0123...) or name (#support)."
    )
    mention_group: str = Field(
        "", description="User group to notify, by ID (S0123...); the only mention allowed."
    )

    _ids = field_validator("channel", "mention_group", mode="before")(_id_as_text)


class DiscordDestination(_Section):
    channel_id: str = Field("", description="Channel that gets hand-offs, by its numeric ID.")
    role_id: str = Field("", description="Support role to ping, by its numeric ID.")

    _ids = field_validator("channel_id", "role_id", mode="before")(_id_as_text)


# The help desks a persona can choose (bots/desks), and what it can set their priority from:
# the hand-off reasons of bots/models.py HandoffReason (a test keeps the two lists equal).
DeskChoice = Literal["zendesk", "chatwoot", "none"]
DeskPriority = Literal["low", "normal", "high", "urgent"]
HANDOFF_REASONS = (
    "user_asked",
    "model_tool",
    "no_answer",
    "llm_unavailable",
    "feedback",
    "staff",
    "limit",
)


class HandoffTexts(_Section):
    message: str = Field(
        "I'm passing this conversation to a member of our team. Someone will reply here.",
        min_length=1,
        description="What the user is told when a person takes over.",
    )
    offer: str = Field(
        "Would you like me to get a person from our team?",
        min_length=1,
        description="Added when the bot cannot answer.",
    )
    out_of_hours_message: str = Field(
        "Our team is away right now; someone will reply here {next_open}.",
        min_length=1,
        description="Said instead of `message` outside the support hours; {next_open} "
        'becomes e.g. "on Monday at 09:00 (Europe/Paris)".',
    )
    handback_message: str = Field(
        "You're back with the assistant. Ask me anything else!",
        min_length=1,
        description="Said when the team hands the conversation back to the assistant.",
    )
    after_failed_turns: int = Field(
        3, ge=1, le=20, description="Hand off after this many answers in a row it could not give."
    )
    reminder_minutes: int = Field(
        15, ge=0, le=1440, description="Remind the team once if unclaimed this long (0: never)."
    )
    resolve_after_quiet_minutes: int = Field(
        240,
        ge=0,
        le=10_080,
        description="Give the thread back to the assistant after this long without messages "
        "while a person has it (0: never).",
    )
    hours: SupportHours | None = Field(
        None, description="When the team answers; leave out if someone is always there."
    )
    desk: DeskChoice | None = Field(
        None,
        description="The help desk that gets this persona's hand-offs as tickets: zendesk, "
        "chatwoot, or none (the chat notice only). Leave out to use BOTS_DESK. The desk's "
        "address and token stay in the settings.",
    )
    desk_priority: dict[str, DeskPriority] = Field(
        default_factory=dict,
        description="The ticket's priority by hand-off reason, e.g. llm_unavailable: high "
        "(reasons: " + ", ".join(HANDOFF_REASONS) + "); others use BOTS_DESK_PRIORITY, "
        "then normal.",
        json_schema_extra={
            "propertyNames": {"enum": list(HANDOFF_REASONS)},
        },
    )
    slack: SlackDestination = Field(SlackDestination(), description="Where hand-offs go on Slack.")
    discord: DiscordDestination = Field(
        DiscordDestination(), description="Where hand-offs go on Discord."
    )

    @field_validator("desk_priority")
    @classmethod
    def _known_reasons(cls, value: dict[str, str]) -> dict[str, str]:
        for reason in value:
            if reason not in HANDOFF_REASONS:
                close = difflib.get_close_matches(reason, HANDOFF_REASONS, n=1)
                hint = (
                    f"did you mean `{close[0]}`?"
                    if close
                    else ("the reasons are " + ", ".join(HANDOFF_REASONS))
                )
                raise ValueError(f"{reason!r} is not a hand-off reason; {hint}")
        return value


class FallbackTexts(_Section):
    unknown: str = Field(
        "I'm sorry, I don't know the answer to that.",
        min_length=1,
        description="Said when the knowledge base has nothing on the question.",
    )
    llm_unavailable: str = Field(
        "I can't reach my answering service right now.",
        min_length=1,
        description="Said, with the best FAQ answer, when the AI service is down.",
    )
    knowledge_intro: str = Field(
        "Here is what I found:",
        min_length=1,
        description="Introduces an answer taken straight from the FAQ.",
    )
    cut_short: str = Field(
        "(My answer was cut short.)",
        min_length=1,
        description="Ends an answer that stopped before it was finished (it reached its "
        "length limit, took too long, or the answering service broke off).",
    )


class Persona(_Section):
    """One assistant: who it is, how it talks, what it knows."""

    name: str = Field(
        min_length=1,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Short internal name; the same as the file name (restaurant.yaml: restaurant).",
    )
    display_name: str = Field(min_length=1, description="The assistant's name, as people see it.")
    instructions: str = Field(
        min_length=1, description="Who the assistant is, who it talks to, and what it is for."
    )
    tone: str = Field("", description="How it sounds: warm or formal, short or detailed, emoji.")
    never_discuss: tuple[str, ...] = Field(
        (),
        description="Topics it must not discuss (it declines politely and offers a person).",
    )
    language: str = Field(
        "the language the user writes in",
        min_length=1,
        description='Which language it answers in, e.g. "English" or "the language the user '
        'writes in".',
    )
    extra_instructions: str = Field(
        "", description="Anything else, in free form (house rules, habits, phrases to use)."
    )
    greeting: str = Field("", description='The first message of a new conversation; "" for none.')
    ai_disclosure: str = Field(
        "I'm an AI assistant; I can make mistakes.",
        description="Shown at the start so people know they are talking to an AI.",
    )
    model: ModelSettings = Field(
        ModelSettings(), description="Which AI model writes the answers, and how."
    )
    help_channels: tuple[str, ...] = Field(
        (),
        description="Channels, by ID (Slack C0123..., Discord 1234...), where this persona "
        "answers every question without a mention, each in a new thread; greetings, thanks "
        "and members talking to each other are left alone.",
    )
    knowledge: KnowledgeSettings = Field(
        KnowledgeSettings(), description="Which FAQ folders to answer from."
    )
    handoff: HandoffTexts = Field(
        HandoffTexts(), description="Handing a conversation to a person from the team."
    )
    fallback: FallbackTexts = Field(
        FallbackTexts(), description="What is said when the normal way of answering fails."
    )
    forum: ForumSettings = Field(
        ForumSettings(), description="Discord forum channels as a help desk (docs/discord.md)."
    )
    assistant: AssistantSettings = Field(
        AssistantSettings(), description="The Slack assistant pane: suggested prompts, status."
    )
    intake: IntakeForm = Field(
        IntakeForm(), description="A short form for the team, offered when a person takes over."
    )
    messages: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="The bot's fixed messages in other languages, by language code and message "
        'name, e.g. fr: {offer: "Voulez-vous parler à quelqu\'un ?"}. Built-in translations '
        "cover en, es, fr, de, pt, it, nl, ja and zh; what you write here wins. Names: "
        + ", ".join(MESSAGE_NAMES)
        + ".",
    )

    @field_validator("messages")
    @classmethod
    def _known_messages(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for language, texts in value.items():
            if not re.fullmatch(r"[a-z]{2,3}", language):
                raise ValueError(
                    f'"{language}" is not a language code: use two letters, e.g. fr or de'
                )
            for name, text in texts.items():
                if name not in MESSAGE_NAMES:
                    close = difflib.get_close_matches(name, MESSAGE_NAMES, n=1)
                    hint = f' (did you mean "{close[0]}"?)' if close else ""
                    raise ValueError(
                        f'"{name}" under {language} is not a message name{hint}; the names '
                        f"are: {', '.join(MESSAGE_NAMES)}"
                    )
                if not text.strip():
                    raise ValueError(f"{language}.{name} must not be empty")
        return value

    def text(self, name: str, language: str = "en") -> str:
        """Fixed message `name` for a user writing in `language`.

        What the persona wrote under `messages` for that language wins. In English, or in a
        language with neither a persona text nor a built-in one, the persona's own field is used
        (`handoff.offer`, `fallback.unknown`...), so a persona written in one language keeps its
        voice; elsewhere the built-in translation.
        """
        own = self.messages.get(language, {}).get(name)
        if own:
            return own
        if supported(language) == "en":
            field = _PERSONA_FIELDS.get(name)
            return field(self) if field is not None else message(name, "en")
        return message(name, language)

    @field_validator("instructions")
    @classmethod
    def _instructions_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


# The messages a persona also sets as fields of its own (its base language's wording).
_PERSONA_FIELDS: dict[str, Callable[[Persona], str]] = {
    "handoff": lambda p: p.handoff.message,
    "offer": lambda p: p.handoff.offer,
    "out_of_hours": lambda p: p.handoff.out_of_hours_message,
    "handback": lambda p: p.handoff.handback_message,
    "unknown": lambda p: p.fallback.unknown,
    "llm_unavailable": lambda p: p.fallback.llm_unavailable,
    "knowledge_intro": lambda p: p.fallback.knowledge_intro,
    "cut_short": lambda p: p.fallback.cut_short,
}

_PLAIN_MESSAGES = {
    "missing": "this field is required but is missing",
    "extra_forbidden": "this field is not known",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "tuple_type": "expected a list",
    "model_type": "expected a group of fields (key: value lines)",
    "dict_type": "expected a group of fields (key: value lines)",
    "string_pattern_mismatch": "use lowercase letters, digits, '-' and '_' only",
    "string_too_short": "this must not be empty",
    "too_short": "this list must not be empty",
    "too_long": "this list is too long (at most {max_length} items)",
    "string_too_long": "this text is too long (at most {max_length} characters)",
    "greater_than_equal": "this must be at least {ge}",
    "greater_than": "this must be more than {gt}",
    "less_than_equal": "this must be at most {le}",
    "less_than": "this must be less than {lt}",
}


def load_persona(path: Path) -> Persona:
    """Read and validate one persona file; a problem raises PersonaError naming file:line:field."""
    document = read_yaml(path, PersonaError)
    persona, problems = validate_persona(document)
    if problems or persona is None:
        first = problems[0]
        if len(problems) > 1:
            first.detail += f" (and {len(problems) - 1} more problem(s); run `bots check`)"
            first.args = (first.describe(),)
        raise first
    mismatch = name_problem(document)
    if mismatch is not None:
        raise mismatch
    return persona


def name_problem(document: YamlDocument) -> PersonaError | None:
    """The persona's `name` must be its file name; None when it is (or is not text)."""
    name = document.data.get("name") if isinstance(document.data, dict) else None
    path = document.path
    if not isinstance(name, str) or name.strip() == path.stem:
        return None
    line, column = document.where(("name",)) or (1, 1)
    return PersonaError(
        path,
        f"the file is called {path.name} but its name is {name.strip()!r}; "
        f"make them the same (name: {path.stem}, or rename the file)",
        line=line,
        column=column,
        field="name",
    )


def persona_problems(document: YamlDocument) -> list[PersonaError]:
    """Every problem of a parsed persona file, in file order."""
    return validate_persona(document)[1]


PersonaValidator = Callable[[Any], Persona]


def validate_persona(
    document: YamlDocument, validate: PersonaValidator = Persona.model_validate
) -> tuple[Persona | None, list[PersonaError]]:
    """Validate a parsed persona file once: the persona, or None and every problem in file
    order (`validate` is pydantic's, injectable so a test can count the validations)."""
    if not isinstance(document.data, dict):
        return None, [
            PersonaError(
                document.path, "a persona file must be a group of `key: value` lines", line=1
            )
        ]
    try:
        return validate(document.data), []
    except ValidationError as exc:
        problems = [_problem(document, error) for error in exc.errors()]
        return None, sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _problem(document: YamlDocument, error: Any) -> PersonaError:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    line, column = document.where(loc) or (None, None)
    kind = error["type"]
    template = _PLAIN_MESSAGES.get(kind)
    if template is not None:
        message = template.format_map(error.get("ctx") or {})
    else:
        message = error["msg"].removeprefix("Value error, ")
    field = ".".join(str(part) for part in loc) or None
    if kind == "extra_forbidden":
        message += _suggestion(loc)
    elif kind == "missing":
        line, column = document.where(loc[:-1]) or (1, 1)
    return PersonaError(document.path, message, line=line, column=column, field=field)


def _suggestion(loc: tuple[str | int, ...]) -> str:
    model: type[BaseModel] = Persona
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        # An optional group (`hours: SupportHours | None`) is a union: look inside it.
        candidates = get_args(field.annotation) or (field.annotation,) if field else ()
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return ""
        model = nested[0]
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{close[0]}`?"
    return f"; expected one of: {', '.join(known)}"


def persona_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to complete and check persona files (from the same model)."""
    schema = Persona.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Support bot persona",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def load_personas(directory: Path) -> dict[str, Persona]:
    """Every `*.yaml` persona in `directory`, keyed by name (= file name without `.yaml`).

    Test files (`*.tests.yaml`) are skipped.
    """
    return {path.stem: load_persona(path) for path in persona_files(directory)}


def persona_files(directory: Path) -> list[Path]:
    """The persona files of a folder: `*.yaml`, but not tests files (`*.tests.yaml`) nor
    editors' lock and temp files (`.#x.yaml`, `._x.yaml`)."""
    return [
        path
        for path in sorted(directory.glob("*.yaml"))
        # Links and special files are listed so that reading them fails out loud.
        if listed_as_file(path)
        and not path.name.endswith(".tests.yaml")
        and not path.name.startswith(".")
    ]
