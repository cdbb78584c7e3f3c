"""The onboarding preview: exactly what will be created or kept, with every permission overwrite."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.directory.service import ChapterInfo
from bot.errors import UserError
from bot.i18n import N_, Localeish, t, tn
from bot.onboarding.apply import CATEGORY, ROLE, Outcome, Survey, channel_name
from bot.onboarding.extras import CALENDAR, DONE, FEED, PROMPT, SKIPPED, WELCOME, Step, StepResult
from bot.onboarding.offboard import (
    ALUMNI,
    ARCHIVE,
    ARCHIVE_CHANNEL,
    ARCHIVE_NAME,
    CANCEL_POSTS,
    CREATE_ARCHIVE,
    DELETE,
    DELETE_CATEGORY,
    DELETE_CHANNEL,
    DELETE_ROLE,
    DIRECTORY_PROPOSED,
    DIRECTORY_READ_ONLY,
    FORGET,
    KEEP_ROLE,
    MARK_ALUMNI,
    REMOVE_OPTION,
    STOP_CALENDAR,
    STOP_FEED,
    OffboardOutcome,
    OffboardPlan,
)
from bot.onboarding.offboard import Step as OffboardStep
from bot.onboarding.plan import BOT, EVERYONE, ORGANISERS, PARTNER, Overwrite, PartnerPlan
from bot.text import truncate, well_formed
from bot.types import Interaction
from bot.ui.directory import TIER_COLOURS, tier_label
from bot.ui.transformers import CHOICE_LIMIT, QUERY_LIMIT, ChapterTransformer


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


# -- offboarding -------------------------------------------------------------------------------------


class SpaceChapterTransformer(ChapterTransformer):
    """A chapter with a space in this server (autocompleted from those), resolved like any chapter."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 of the chapters this server onboarded, matching what is typed so far."""
        if interaction.guild is None:
            return []
        query = well_formed(value[:QUERY_LIMIT]).casefold()
        directory = interaction.client.directory
        chapters = [
            chapter
            for key in await interaction.client.app.offboarding.spaces(interaction.guild.id)
            if (chapter := directory.chapters.get(key)) is not None
        ]
        found = [
            chapter
            for chapter in chapters
            if any(
                query in text.casefold()
                for text in (chapter.name, chapter.key, chapter.short_name or "", *chapter.aliases)
            )
        ]
        return [
            app_commands.Choice(name=truncate(chapter.name, CHOICE_LIMIT), value=chapter.key)
            for chapter in sorted(found, key=lambda c: c.name.casefold())[:25]
        ]


SpaceChapter = app_commands.Transform[ChapterInfo, SpaceChapterTransformer]


def space_names(guild: discord.Guild, plan: OffboardPlan) -> dict[int, str]:
    """The names of the plan's channels, category and role as they are now (a deleted one loses its name)."""
    names: dict[int, str] = {}
    for step in plan.steps:
        if step.action in (ARCHIVE_CHANNEL, DELETE_CHANNEL, DELETE_CATEGORY):
            channel = guild.get_channel(step.target)
            if channel is not None:
                names[step.target] = f"#{channel.name}" if step.action != DELETE_CATEGORY else channel.name
        elif step.action in (KEEP_ROLE, DELETE_ROLE):
            role = guild.get_role(step.target)
            if role is not None:
                names[step.target] = role.name
        elif step.action == STOP_FEED:
            channel = guild.get_channel(step.channel_id)
            names[step.channel_id] = f"#{channel.name}" if channel is not None else str(step.channel_id)
    if plan.archive_id is not None and (archive := guild.get_channel(plan.archive_id)) is not None:
        names[plan.archive_id] = archive.name
    if plan.role_id is not None and (role := guild.get_role(plan.role_id)) is not None:
        names[plan.role_id] = role.name
    return names


def _step_line(step: OffboardStep, plan: OffboardPlan, names: dict[int, str], locale: Localeish) -> str:
    """One step, as the organiser reads it before and after."""
    name = names.get(step.target, step.name)
    role = names.get(plan.role_id or 0, t(locale, "the partner's role"))
    archive = names.get(plan.archive_id or 0, ARCHIVE_NAME)
    action = step.action
    if action == STOP_FEED:
        return t(
            locale, "Stop posting the feed {url} in {channel}", url=step.name, channel=names.get(step.channel_id, "?")
        )
    if action == STOP_CALENDAR:
        return t(locale, "Stop following the calendar {url}", url=step.name)
    if action == CANCEL_POSTS:
        return tn(
            locale,
            "Cancel {count} post waiting to be sent to these channels",
            "Cancel {count} posts waiting to be sent to these channels",
            step.count,
            count=step.count,
        )
    if action == CREATE_ARCHIVE:
        return t(locale, "Create the category {name} for archived channels", name=ARCHIVE_NAME)
    if action == ARCHIVE_CHANNEL:
        return t(
            locale,
            "Move {channel} into {archive}, read-only for @everyone and {role}",
            channel=name,
            archive=archive,
            role=role,
        )
    if action == DELETE_CHANNEL:
        return t(locale, "Delete the channel {channel} and its messages", channel=name)
    if action == DELETE_CATEGORY:
        return t(locale, "Delete the category {name}", name=name)
    if action == KEEP_ROLE:
        return t(locale, "Keep the role {role}: its members can still read the archived channels", role=name)
    if action == DELETE_ROLE:
        return t(locale, "Delete the role {role}", role=name)
    if action == FORGET:
        return t(locale, "Forget {name}: it is no longer in the server", name=step.name)
    if action == REMOVE_OPTION:
        return t(locale, "Take {role} out of the Onboarding question “{prompt}”", role=role, prompt=step.name)
    tier = tier_label(step.name, locale)
    if action == MARK_ALUMNI:
        return t(
            locale,
            "Mark {chapter} as alumni in the directory (tier {tier} → Alumni)",
            chapter=plan.chapter_name,
            tier=tier,
        )
    return t(
        locale,
        "Propose to the home server to mark {chapter} as alumni (tier {tier} → Alumni)",
        chapter=plan.chapter_name,
        tier=tier,
    )


def _bullets(
    steps: list[OffboardStep] | tuple[OffboardStep, ...], plan: OffboardPlan, names: dict[int, str], locale: Localeish
) -> str:
    return "\n".join(f"• {_step_line(step, plan, names, locale)}" for step in steps)


def _directory_note(plan: OffboardPlan, locale: Localeish) -> str | None:
    if plan.directory == DIRECTORY_READ_ONLY:
        return t(locale, "The directory is read-only here, so {chapter} keeps its tier.", chapter=plan.chapter_name)
    if plan.directory == DIRECTORY_PROPOSED:
        return t(locale, "A proposal to mark {chapter} as alumni is already waiting.", chapter=plan.chapter_name)
    return None


def offboard_embed(plan: OffboardPlan, names: dict[int, str], locale: Localeish) -> discord.Embed:
    """The offboarding plan as the organiser confirms it: every step, in order."""
    title = (
        t(locale, "Archive the space of {name}", name=plan.chapter_name)
        if plan.mode == ARCHIVE
        else t(locale, "Delete the space of {name}", name=plan.chapter_name)
    )
    lines = [t(locale, "Nothing changes until you press Confirm. These steps run in this order:"), ""]
    lines.append(_bullets(plan.steps, plan, names, locale))
    notes = []
    if any(step.action == ARCHIVE_CHANNEL for step in plan.steps):
        notes.append(
            t(
                locale,
                "Read-only means: {permissions} denied; whoever could see a channel still can.",
                permissions=", ".join(sorted(p.replace("_", " ") for p in plan.deny)),
            )
        )
        if plan.cannot_deny:
            notes.append(
                t(
                    locale,
                    "I cannot deny {permissions}: I do not hold them myself.",
                    permissions=", ".join(sorted(p.replace("_", " ") for p in plan.cannot_deny)),
                )
            )
    if (note := _directory_note(plan, locale)) is not None:
        notes.append(note)
    if notes:
        lines += ["", *notes]
    return discord.Embed(
        title=truncate(title, 256), description=truncate("\n".join(lines), 4096), colour=TIER_COLOURS[ALUMNI]
    )


def nothing_to_offboard(plan: OffboardPlan, locale: Localeish) -> str:
    """The sentence for a space offboarded already."""
    if plan.state == DELETE:
        return t(locale, "The space of {name} here was deleted already: nothing to do.", name=plan.chapter_name)
    return t(locale, "The space of {name} here was archived already: nothing to do.", name=plan.chapter_name)


def offboard_outcome_text(outcome: OffboardOutcome, names: dict[int, str], locale: Localeish) -> str:
    """What a run did and, when it stopped, what it did not do."""
    plan = outcome.plan
    if outcome.ok:
        text = (
            t(locale, "Offboarded {name}. Done:", name=plan.chapter_name)
            + "\n"
            + _bullets(outcome.done, plan, names, locale)
        )
    else:
        text = "\n".join(
            [
                t(
                    locale,
                    "Offboarding {name} stopped: a step failed ({reason}).",
                    name=plan.chapter_name,
                    reason=truncate(
                        outcome.error.translated(locale)
                        if isinstance(outcome.error, UserError)
                        else str(outcome.error),
                        200,
                    ),
                ),
                t(locale, "Done:"),
                _bullets(outcome.done, plan, names, locale) or t(locale, "nothing"),
                t(locale, "Not done:"),
                _bullets(outcome.not_done, plan, names, locale),
                t(locale, "Run /offboard partner again to finish: it does only what is left."),
            ]
        )
    if outcome.cancelled:
        text += "\n" + tn(
            locale,
            "{count} waiting post was cancelled.",
            "{count} waiting posts were cancelled.",
            outcome.cancelled,
            count=outcome.cancelled,
        )
    return truncate(text, 2000)
