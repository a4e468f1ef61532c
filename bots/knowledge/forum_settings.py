"""The persona's forum help desk: which forums it answers, its tags by name, solved and nudges."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ForumTagNames(_Section):
    """The forum's tags, by the names people see, for each stage of a post."""

    unsolved: str = Field("unsolved", description="Tag of a new post the assistant answers.")
    waiting: str = Field(
        "waiting for staff", description="Tag of a post handed to the team, until they finish."
    )
    solved: str = Field(
        "solved",
        description="Tag of a post the team resolved, or whose asker pressed Solved.",
    )


class ForumSettings(_Section):
    """Discord forum channels as a help desk: every new post is answered in its own thread."""

    channels: tuple[str, ...] = Field(
        (),
        description="Forum channels to answer, by numeric ID (DISCORD_FORUM_CHANNELS adds more).",
    )
    tags: ForumTagNames = Field(
        ForumTagNames(),
        description="Tag names per stage; a forum without a tag of that name is left as it is.",
    )
    on_solved: Literal["archive", "lock", "keep"] = Field(
        "archive",
        description="What happens to a solved post: archive it, lock it (only staff can "
        "reopen it), or keep it open.",
    )
    nudge_after_minutes: int = Field(
        1440,
        ge=0,
        le=43_200,
        description="Ask the asker once whether the answer helped after this long without a "
        "reply from them (0: never).",
    )
    nudge_message: str = Field(
        "Did this answer your question? If it did, press **Solved**; if not, tell me what is "
        "missing, or ask for a person.",
        min_length=1,
        description="The nudge, posted in the post's thread.",
    )
    solved_message: str = Field(
        "Marked as solved. Thanks!",
        min_length=1,
        description="Said in the post when it is marked solved.",
    )

    @field_validator("channels", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        # Authors paste numeric IDs without quotes; YAML then reads numbers. They are still IDs.
        if isinstance(value, list | tuple):
            return tuple(
                str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value
            )
        return value

    @field_validator("channels")
    @classmethod
    def _numeric(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for channel in value:
            if not channel.isdigit():
                raise ValueError(f'"{channel}" is not a channel ID: use the numeric ID')
        return value
