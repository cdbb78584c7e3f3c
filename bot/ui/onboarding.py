"""The onboarding preview: exactly what will be created or kept, with every permission overwrite."""

from __future__ import annotations

import discord

from bot.errors import UserError
from bot.i18n import N_, Localeish, t
from bot.onboarding.apply import CATEGORY, ROLE, Outcome, Survey, channel_name
from bot.onboarding.extras import CALENDAR, DONE, FEED, PROMPT, SKIPPED, WELCOME, Step, StepResult
from bot.onboarding.plan import BOT, EVERYONE, ORGANISERS, PARTNER, Overwrite, PartnerPlan
from bot.text import truncate


def _who(target: str, plan: PartnerPlan, locale: Localeish) -> str:
    names = {
        EVERYONE: "@everyone",
        PARTNER: plan.role_name,
        ORGANISERS: t(locale, "organisers"),
        BOT: t(locale, "the bot"),
    }
    return names[target]


def _overwrites(overwrites: tuple[Overwrite, ...], plan: PartnerPlan, locale: Localeish) -> str:
    parts = []
    for overwrite in overwrites:
        allow = ", ".join(sorted(p.replace("_", " ") for p in overwrite.allow))
        deny = ", ".join(sorted(p.replace("_", " ") for p in overwrite.deny))
        rights = " · ".join(x for x in (f"✅ {allow}" if allow else "", f"⛔ {deny}" if deny else "") if x)
        parts.append(f"{_who(overwrite.target, plan, locale)}: {rights}")
    return "\n".join(parts)


def _state(name: str, found: Survey, locale: Localeish) -> str:
    return t(locale, "keep") if name in found.present else t(locale, "create")


STEP_NAMES = {
    WELCOME: N_("The welcome post"),
    FEED: N_("Following the blog feed"),
    CALENDAR: N_("Following the calendar"),
    PROMPT: N_("The Onboarding option"),
}
TO_DO = {
    WELCOME: N_("Post a welcome introducing {name} in {where}."),
    FEED: N_("Follow the chapter's blog feed {url} in #{channel}."),
    CALENDAR: N_("Follow the chapter's calendar {url} in this server's events."),
    PROMPT: N_("Add {name} as an option of the Onboarding prompt “{title}”."),
}
DONE_ALREADY = {
    WELCOME: N_("The welcome introducing {name} was posted already."),
    FEED: N_("#{channel} follows the blog feed {url} already."),
    CALENDAR: N_("This server follows the calendar {url} already."),
    PROMPT: N_("{name} is an option of the Onboarding prompt “{title}” already."),
}
DONE_NOW = {
    WELCOME: N_("Posting a welcome introducing {name} in {where}."),
    FEED: N_("Following the blog feed {url} in #{channel}."),
    CALENDAR: N_("Following the calendar {url} in this server's events."),
    PROMPT: N_("Added {name} to the Onboarding prompt “{title}”."),
}
SKIPPED_BECAUSE = {
    WELCOME: N_("No welcome post: {reason}."),
    FEED: N_("No blog feed: {reason}."),
    CALENDAR: N_("No calendar: {reason}."),
    PROMPT: N_("No Onboarding option: {reason}."),
}


def _values(name: str, detail: str | None, plan: PartnerPlan) -> dict[str, str]:
    announcements = next((c.name for c in plan.channels if c.key == "announcements"), "")
    detail = detail or ""
    return {
        "name": plan.role_name,
        "where": f"<#{detail}>" if detail.isdigit() else detail,
        "url": f"<{detail}>",
        "channel": announcements,
        "title": detail,
    }


def step_line(step: Step, plan: PartnerPlan, locale: Localeish) -> str:
    """One step around the space, as the preview shows it."""
    if step.state == SKIPPED:
        why = step.why()
        reason = why.translated(locale) if why else ""
        return "• " + t(locale, SKIPPED_BECAUSE[step.name], reason=reason)
    texts = DONE_ALREADY if step.state == DONE else TO_DO
    return ("• " if step.state != DONE else "✓ ") + t(locale, texts[step.name], **_values(step.name, step.detail, plan))


def _result_line(result: StepResult, plan: PartnerPlan, locale: Localeish) -> str | None:
    if result.state == "failed":
        error = result.error
        reason = error.translated(locale) if isinstance(error, UserError) else truncate(str(error), 200)
        return "⚠ " + t(
            locale, "{step} failed: {reason}", step=t(locale, STEP_NAMES[result.name]), reason=reason.rstrip(".")
        )
    texts = {DONE: DONE_NOW, "kept": DONE_ALREADY}.get(result.state)
    if texts is None:
        return None
    return t(locale, texts[result.name], **_values(result.name, result.detail, plan))


def plan_embed(plan: PartnerPlan, found: Survey, locale: Localeish, steps: list[Step] | None = None) -> discord.Embed:
    """The plan as the organiser confirms it."""
    visibility = t(locale, "visible to everyone") if plan.public else t(locale, "private to the partner and organisers")
    embed = discord.Embed(
        title=truncate(t(locale, "Onboard {name}", name=plan.role_name), 256),
        description=t(
            locale, "Nothing changes until you press Confirm. The space will be {visibility}.", visibility=visibility
        ),
        colour=plan.role_colour,
    )
    embed.add_field(
        name=t(locale, "Role ({state})", state=_state(ROLE, found, locale)),
        value=truncate(t(locale, "{name}: no permissions of its own, not mentionable", name=plan.role_name), 1024),
        inline=False,
    )
    embed.add_field(
        name=t(locale, "Category ({state})", state=_state(CATEGORY, found, locale)),
        value=truncate(f"**{plan.category_name}**\n{_overwrites(plan.category_overwrites, plan, locale)}", 1024),
        inline=False,
    )
    for channel in plan.channels:
        icon = "🔊" if channel.kind == "voice" else "#"
        embed.add_field(
            name=truncate(f"{icon}{channel.name} ({_state(channel_name(channel), found, locale)})", 256),
            value=truncate(_overwrites(channel.overwrites, plan, locale), 1024),
            inline=False,
        )
    members = ", ".join(f"<@{member}>" for member in plan.representatives) or t(locale, "nobody yet")
    embed.add_field(name=t(locale, "Members who get the role"), value=truncate(members, 1024), inline=False)
    if steps:
        embed.add_field(
            name=t(locale, "Also"),
            value=truncate("\n".join(step_line(step, plan, locale) for step in steps), 1024),
            inline=False,
        )
    return embed


def outcome_text(plan: PartnerPlan, outcome: Outcome, locale: Localeish) -> str:
    """What a run did, in one short message: the space, then each step around it."""
    if outcome.ok:
        if not outcome.created and any(result.state == DONE for result in outcome.extras):
            text = t(locale, "{name}'s space was already in place.", name=plan.role_name)
        elif not outcome.created:
            text = t(locale, "{name} was already onboarded: nothing new was created.", name=plan.role_name)
        else:
            text = t(
                locale,
                "Onboarded {name}: created {created}; kept {kept}.",
                name=plan.role_name,
                created=", ".join(outcome.created),
                kept=", ".join(outcome.kept) or t(locale, "nothing"),
            )
        lines = [line for result in outcome.extras if (line := _result_line(result, plan, locale))]
        return truncate("\n".join([text, *lines]), 2000)
    text = t(
        locale,
        "Onboarding {name} stopped: Discord refused a step ({reason}). I removed what this run had created ({removed}).",
        name=plan.role_name,
        reason=truncate(str(outcome.error), 200),
        removed=", ".join(outcome.rolled_back) or t(locale, "nothing"),
    )
    if outcome.left_behind:
        text += " " + t(
            locale,
            "I could not remove {left}; running it again keeps and completes them.",
            left=", ".join(outcome.left_behind),
        )
    return text
