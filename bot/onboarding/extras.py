"""What onboarding adds around a partner's space: a welcome post in the network's announcements channel, the
chapter's blog feed in its announcements channel, its calendar in the server's events, and an option for its
role in the server's Discord Onboarding prompt. Each step is done once; a step that fails is reported, never
undoing the space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import UserError
from bot.i18n import N_

# The steps, in the order they are shown and done.
WELCOME = "welcome"
FEED = "feed"
CALENDAR = "calendar"
PROMPT = "prompt"

# A step's state in a survey.
PLANNED = "planned"
DONE = "done"
SKIPPED = "skipped"

# Where the bot keeps the id of the Onboarding prompt it made, shared by every partner of the guild.
PROMPT_OWNER = "network"
PROMPT_NAME = "onboarding-prompt:chapters"
PROMPT_KIND = "onboarding_prompt"
PROMPT_TITLE = N_("Which chapter are you with?")
MAX_PROMPTS = 15  # Discord's limits on Onboarding
MAX_OPTIONS = 50
OPTION_TITLE_LIMIT = 50
OPTION_DESCRIPTION_LIMIT = 100

NO_ANNOUNCEMENTS_CHANNEL = N_(
    "no announcements channel is set for this server (`/settings announcements-channel` chooses one)"
)
NO_FEED = N_("the chapter has no blog feed in the directory")
NO_CALENDAR = N_("the chapter has no calendar in the directory")
ONBOARDING_OFF = N_("this server does not use Discord's Onboarding")
PROMPT_FULL = N_("the Onboarding prompt “{title}” already has {limit} options, Discord's limit")
PROMPTS_FULL = N_("the server's Onboarding already has {limit} prompts, Discord's limit")


class PromptPort(Protocol):
    """A guild's Discord Onboarding, as Discord's JSON (GET and PUT /guilds/{id}/onboarding)."""

    async def read_onboarding(self) -> Mapping[str, Any]:
        """The guild's onboarding: `enabled`, `prompts` with their `options`."""
        ...

    async def write_prompts(self, prompts: list[dict[str, Any]]) -> Mapping[str, Any]:
        """Replace the prompts (everything else is left as it is); the onboarding Discord answers."""
        ...


@dataclass(frozen=True, slots=True)
class Step:
    """One extra step of a plan: to do, done already, or skipped with a reason (a msgid and its values)."""

    name: str
    state: str
    reason: str | None = None
    params: Mapping[str, Any] | None = None
    detail: str | None = None  # what it concerns: a channel id, a URL, a prompt title

    def why(self) -> UserError | None:
        """The reason a step is skipped, as a sentence to translate."""
        return UserError(self.reason, **dict(self.params or {})) if self.reason else None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step did when applied: done now, already done, skipped, or failed with a sentence."""

    name: str
    state: str  # done | kept | skipped | failed
    detail: str | None = None
    error: Exception | None = None


def enabled_prompts(board: Mapping[str, Any]) -> bool:
    """Whether the guild uses Discord's Onboarding."""
    return bool(board.get("enabled"))


def find_prompt(board: Mapping[str, Any], stored_id: int | None, title: str) -> Mapping[str, Any] | None:
    """The bot's prompt: the one whose id is stored, else one with the bot's title."""
    prompts: Sequence[Mapping[str, Any]] = board.get("prompts") or []
    for prompt in prompts:
        if stored_id is not None and int(prompt["id"]) == stored_id:
            return prompt
    return next((p for p in prompts if str(p.get("title", "")).strip() == title), None)


def has_option_for(prompt: Mapping[str, Any] | None, role_id: int) -> bool:
    """Whether a prompt already offers the role."""
    return prompt is not None and any(
        str(role_id) in {str(r) for r in option.get("role_ids") or []} for option in prompt.get("options") or []
    )


def _option_request(option: Mapping[str, Any]) -> dict[str, Any]:
    emoji = option.get("emoji") or {}
    request: dict[str, Any] = {
        "id": str(option["id"]),
        "title": option["title"],
        "description": option.get("description") or None,
        "role_ids": [str(r) for r in option.get("role_ids") or []],
        "channel_ids": [str(c) for c in option.get("channel_ids") or []],
    }
    if emoji.get("id") or emoji.get("name"):
        request.update(
            emoji_id=str(emoji["id"]) if emoji.get("id") else None,
            emoji_name=emoji.get("name"),
            emoji_animated=bool(emoji.get("animated")),
        )
    return request


def _prompt_request(prompt: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(prompt["id"]),
        "title": prompt["title"],
        "options": [_option_request(option) for option in prompt.get("options") or []],
        "single_select": bool(prompt.get("single_select")),
        "required": bool(prompt.get("required")),
        "in_onboarding": bool(prompt.get("in_onboarding", True)),
        "type": int(prompt.get("type") or 0),
    }


def prompts_with_option(
    board: Mapping[str, Any], stored_id: int | None, title: str, role_id: int, name: str, description: str | None
) -> list[dict[str, Any]] | None:
    """Every prompt as Discord should keep it (ids and all) with an option for the partner's role added to the
    bot's prompt, made when missing; None when the option is there already. UserError at Discord's limits."""
    ours = find_prompt(board, stored_id, title)
    if has_option_for(ours, role_id):
        return None
    prompts = [_prompt_request(p) for p in board.get("prompts") or []]
    option: dict[str, Any] = {"title": name[:OPTION_TITLE_LIMIT], "role_ids": [str(role_id)], "channel_ids": []}
    if description:
        option["description"] = description[:OPTION_DESCRIPTION_LIMIT]
    if ours is not None:
        target = next(p for p in prompts if p["id"] == str(ours["id"]))
        if len(target["options"]) >= MAX_OPTIONS:
            raise UserError(PROMPT_FULL, title=target["title"], limit=MAX_OPTIONS)
        target["options"].append(option)
        return prompts
    if len(prompts) >= MAX_PROMPTS:
        raise UserError(PROMPTS_FULL, limit=MAX_PROMPTS)
    # A new prompt's id only has to differ from the others; Discord gives it its own.
    prompts.append(
        {
            "id": str(len(prompts)),
            "title": title,
            "options": [option],
            "single_select": True,
            "required": False,
            "in_onboarding": True,
            "type": 0,
        }
    )
    return prompts


def prompt_offering(board: Mapping[str, Any], role_id: int) -> Mapping[str, Any] | None:
    """The prompt that offers a role, in what Discord answered."""
    prompts: Sequence[Mapping[str, Any]] = board.get("prompts") or []
    return next((p for p in prompts if has_option_for(p, role_id)), None)


def prompts_without_option(board: Mapping[str, Any], role_id: int) -> list[dict[str, Any]] | None:
    """Every prompt as Discord should keep it, with the role taken out of the options that give it (an option
    left with nothing to give goes, and so does a prompt left with no option); None when no option gives it."""
    role = str(role_id)
    prompts = [_prompt_request(p) for p in board.get("prompts") or []]
    changed = False
    for prompt in prompts:
        kept = []
        for option in prompt["options"]:
            if role in option["role_ids"]:
                changed = True
                option["role_ids"] = [r for r in option["role_ids"] if r != role]
                if not option["role_ids"] and not option["channel_ids"]:
                    continue
            kept.append(option)
        prompt["options"] = kept
    return [p for p in prompts if p["options"]] if changed else None
