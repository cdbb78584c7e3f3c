"""The onboarding preview: exactly what will be created or kept, with every permission overwrite."""

from __future__ import annotations

import discord

from bot.i18n import Localeish, t
from bot.onboarding.apply import CATEGORY, ROLE, Outcome, Survey, channel_name
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


def plan_embed(plan: PartnerPlan, found: Survey, locale: Localeish) -> discord.Embed:
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
    return embed


def outcome_text(plan: PartnerPlan, outcome: Outcome, locale: Localeish) -> str:
    """What a run did, in one short message."""
    if outcome.ok:
        if not outcome.created:
            return t(locale, "{name} was already onboarded: nothing new was created.", name=plan.role_name)
        return t(
            locale,
            "Onboarded {name}: created {created}; kept {kept}.",
            name=plan.role_name,
            created=", ".join(outcome.created),
            kept=", ".join(outcome.kept) or t(locale, "nothing"),
        )
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
