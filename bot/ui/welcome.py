"""Newcomers on Discord: the welcome and its buttons, picking a chapter (a region then a chapter, or a typed name)
with the chapter's role, and the answers of /privacy.

Every component is a DynamicItem whose custom_id carries what it needs, the guild first (a welcome sent by
direct message is pressed outside the server), so all of it keeps working after a restart:
``wl:<action>:<guild>`` for the welcome's buttons, ``wl:region:<guild>`` for the regions,
``wl:chapter:<guild>:<region>:<page>`` for one page of a region's chapters and ``wl:page:...`` to turn it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.delivery.outbox import Payload
from bot.directory.countries import country_name
from bot.directory.service import ChapterInfo, DirectoryService, ProjectInfo
from bot.errors import UserError
from bot.errors.reporting import report_error
from bot.guilds.settings import GuildConfig
from bot.i18n import N_, Localeish, locale_tag, t, tn
from bot.summits.events import EventInfo
from bot.text import truncate, well_formed
from bot.types import Interaction
from bot.ui.base import STALE, BaseModal, claim
from bot.ui.directory import EMBED_TOTAL, PROJECTS, chapter_embed, projects_listing
from bot.ui.pages import page_view
from bot.ui.summits import event_line
from bot.welcome.regions import UNKNOWN_REGION, region_name, region_page, regions
from bot.welcome.service import CHANNEL, DM, OFF, SYSTEM, Greeting, Kept, Newcomer, Picked

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

REASON = "A member picked their chapter"
PICK, RULES, BROWSE, ASK, TYPE, BACK = "pick", "rules", "projects", "ask", "type", "back"
GUILD, REGION, PAGE = r"(?P<guild>\d{1,20})", r"(?P<region>[0-9x])", r"(?P<page>\d{1,3})"
SHOWN_EVENTS, SHOWN_PROJECTS = 3, 5
NONE = discord.AllowedMentions.none()

WELCOME = N_(
    "Welcome to **{server}**, {member}! Pick your chapter to get its role and meet its people. The other buttons "
    "show the rules, the network's projects and where to ask a question."
)
PANEL = N_("New here, or not in a chapter yet? Pick your chapter to get its role and meet its people.")
LABELS = {
    PICK: N_("Pick your chapter"),
    RULES: N_("Rules"),
    BROWSE: N_("Browse projects"),
    ASK: N_("Ask a question"),
}
ASKING = N_(
    "Ask in this server's channels: its members and organisers are glad to help. I answer too:\n"
    "• `/chapter name` shows a chapter: where it is, its projects, its people and links\n"
    "• `/project name` shows a project, and `/projects words` searches them all\n"
    "• `/summits list` shows the summits and events coming up"
)
NOT_A_MEMBER = N_("You are not a member of {server}.")
GONE_CHAPTER = N_("That chapter is no longer in the directory: press Pick your chapter again.")
NO_MANAGE_ROLES = N_(
    "I cannot give chapter roles in {server}: I need the Manage Roles permission there. Please tell an organiser."
)
ROLE_REFUSED = N_(
    "Discord did not let me give you the role of {chapter}: my role must be above it and I need Manage Roles. "
    "Please tell an organiser."
)


# -- the welcome -------------------------------------------------------------------------------------


def welcome_buttons(guild_id: int, locale: Localeish) -> list[dict[str, Any]]:
    """The welcome's four buttons as Discord's button objects."""
    return [
        {
            "type": 2,
            "style": (discord.ButtonStyle.primary if action == PICK else discord.ButtonStyle.secondary).value,
            "label": t(locale, label),
            "custom_id": f"wl:{action}:{guild_id}",
        }
        for action, label in LABELS.items()
    ]


def welcome_view(guild_id: int, locale: Localeish) -> discord.ui.View:
    """The welcome's buttons on a message the bot answers with (the panel organisers post)."""
    view = discord.ui.View(timeout=None)
    for button in welcome_buttons(guild_id, locale):
        action = button["custom_id"].split(":")[1]
        view.add_item(WelcomeButton(action, guild_id, button["label"], discord.ButtonStyle(button["style"])))
    return view


def post_locale(guild: discord.Guild, config: GuildConfig) -> str:
    """The language of the bot's posts in a guild."""
    return config.locale or guild.preferred_locale.value


async def greet(bot: CodeForAllBot, member: discord.Member) -> bool:
    """Plan a newcomer's welcome and tips as the guild wants them, once per join; False when nothing was new."""
    guild = member.guild
    config = await bot.guild_settings.get(guild.id)
    mode = config.welcome_mode or SYSTEM
    tips = config.welcome_tips is not False
    if mode == OFF and not tips:
        return False
    direct = await _direct_channel(member) if mode == DM or tips else None
    target = {
        SYSTEM: guild.system_channel.id if guild.system_channel else None,
        CHANNEL: config.welcome_channel_id,
        DM: direct,
    }.get(mode)
    locale = post_locale(guild, config)
    server = discord.utils.escape_markdown(guild.name)
    greeting = None
    if target is not None:
        text = t(locale, WELCOME, server=server, member=member.mention)
        payload = Payload(
            content=text, mention_user_id=None if mode == DM else member.id, buttons=welcome_buttons(guild.id, locale)
        )
        greeting = Greeting(target, payload)
    newcomer = Newcomer(guild.id, member.id, member.joined_at or bot.app.clock.now(), server, locale)
    return await bot.app.welcome.arrive(newcomer, greeting, direct if tips else None)


async def _direct_channel(member: discord.Member) -> int | None:
    """The id of the bot's DM channel with the member, opened now (whether they accept DMs shows on sending)."""
    try:
        return (member.dm_channel or await member.create_dm()).id
    except discord.HTTPException:
        return None


# -- where a press comes from --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """The guild a component is about and the member pressing it there."""

    guild: discord.Guild
    member: discord.Member


async def place_of(interaction: Interaction, guild_id: int) -> Place:
    """The guild of a custom_id and the presser as its member; a sentence for anything else."""
    guild = interaction.client.get_guild(guild_id)
    if guild is None or (interaction.guild is not None and interaction.guild.id != guild_id):
        raise UserError(STALE)
    member = guild.get_member(interaction.user.id)
    if member is None:
        try:
            member = await guild.fetch_member(interaction.user.id)
        except discord.NotFound:
            raise UserError(NOT_A_MEMBER, server=guild.name) from None
    return Place(guild, member)


async def _run(interaction: Interaction, where: str, action: Callable[[], Awaitable[None]]) -> None:
    try:
        await action()
    except Exception as error:
        await report_error(interaction, error, where)


# -- the welcome's buttons --------------------------------------------------------------------------------


class WelcomeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"wl:(?P<action>{PICK}|{RULES}|{BROWSE}|{ASK}|{TYPE}|{BACK}):{GUILD}",
):
    """A button of the welcome (and of the menus it opens), rebuilt from its custom_id after a restart."""

    def __init__(
        self, action: str, guild_id: int, label: str = "", style: discord.ButtonStyle = discord.ButtonStyle.secondary
    ) -> None:
        self.action, self.guild_id = action, guild_id
        super().__init__(discord.ui.Button(label=label or action, style=style, custom_id=f"wl:{action}:{guild_id}"))

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WelcomeButton:
        """The same button, and the interaction claimed for it."""
        claim(interaction)
        return cls(match["action"], int(match["guild"]), getattr(item, "label", None) or "")

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Answer privately, in the member's language."""

        async def act() -> None:
            place = await place_of(interaction, self.guild_id)
            if self.action == TYPE:
                await interaction.response.send_modal(ChapterModal(interaction, self.guild_id))
            elif self.action in (PICK, BACK):
                content, view = await regions_menu(interaction, place)
                if self.action == BACK:
                    await interaction.response.edit_message(content=content, embeds=[], view=view)
                else:
                    await interaction.response.send_message(content, view=view, ephemeral=True, allowed_mentions=NONE)
            elif self.action == RULES:
                config = await interaction.client.guild_settings.get(place.guild.id)
                text = rules_text(place.guild, config, interaction.locale)
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
            elif self.action == BROWSE:
                directory = interaction.client.directory
                listing = projects_listing(directory, {}, interaction.locale)
                embed, view = page_view(PROJECTS, {}, listing, 0, interaction.locale)
                await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
            else:
                await interaction.response.send_message(
                    t(interaction.locale, ASKING), ephemeral=True, allowed_mentions=NONE
                )

        await _run(interaction, f"welcome button {self.action}", act)


def rules_text(guild: discord.Guild, config: GuildConfig, locale: Localeish) -> str:
    """What the Rules button shows: the organisers' text, else the guild's rules channel, else a kind word."""
    if config.rules_text:
        return config.rules_text
    if guild.rules_channel is not None:
        return t(
            locale,
            "The rules of {server} are in {channel}: please read them before you post.",
            server=guild.name,
            channel=guild.rules_channel.mention,
        )
    return t(
        locale,
        "{server} has not given me its rules: be kind and patient, and ask an organiser when in doubt.",
        server=guild.name,
    )


# -- picking a region, then a chapter ----------------------------------------------------------------------


async def regions_menu(interaction: Interaction, place: Place) -> tuple[str, discord.ui.View]:
    """The regions that have chapters, and Type a name; says which chapter the member is in, if any."""
    locale, directory = interaction.locale, interaction.client.directory
    text = t(locale, "Where is your chapter? Pick its region, or type its name.")
    current = await interaction.client.app.welcome.picked(place.guild.id, place.member.id)
    if current in directory.chapters:
        moving = t(
            locale,
            "You are in {chapter} now: picking another chapter moves you.",
            chapter=directory.chapters[current].name,
        )
        text = f"{moving}\n{text}"
    options = [
        discord.SelectOption(
            label=truncate(t(locale, region_name(code)), 100),
            value=code,
            description=tn(locale, "{count} chapter", "{count} chapters", count, count=count),
        )
        for code, count in regions(directory.chapters.values())
    ]
    view = discord.ui.View(timeout=None)
    if options:
        view.add_item(RegionSelect(place.guild.id, options, t(locale, "Pick a region")))
    view.add_item(WelcomeButton(TYPE, place.guild.id, t(locale, "Type a name"), discord.ButtonStyle.primary))
    return text, view


def chapters_menu(
    directory: DirectoryService, guild_id: int, code: str, page: int, locale: Localeish
) -> tuple[str, discord.ui.View]:
    """One page of a region's chapters in a menu, the buttons to turn pages, go back or type a name."""
    found = region_page(directory.chapters.values(), code, page)
    if not found.chapters:
        raise UserError(UNKNOWN_REGION)
    region = t(locale, region_name(code))
    text = t(locale, "Chapters in {region}: pick yours.", region=region)
    if found.pages > 1:
        text += " " + t(locale, "Page {page} of {pages}.", page=found.page + 1, pages=found.pages)
    options = [
        discord.SelectOption(label=truncate(c.name, 100), value=c.key, description=_where(c, locale) or None)
        for c in found.chapters
    ]
    view = discord.ui.View(timeout=None)
    view.add_item(ChapterSelect(guild_id, code, found.page, options, t(locale, "Pick your chapter")))
    if found.pages > 1:
        previous, following = max(found.page - 1, 0), min(found.page + 1, found.pages - 1)
        view.add_item(ChapterPageButton(guild_id, code, previous, t(locale, "◀ Previous"), disabled=found.page == 0))
        view.add_item(
            ChapterPageButton(guild_id, code, following, t(locale, "Next ▶"), disabled=found.page == found.pages - 1)
        )
    view.add_item(WelcomeButton(BACK, guild_id, t(locale, "◀ Regions")))
    view.add_item(WelcomeButton(TYPE, guild_id, t(locale, "Type a name"), discord.ButtonStyle.primary))
    return text, view


def _where(chapter: ChapterInfo, locale: Localeish) -> str:
    country = country_name(chapter.country, locale_tag(locale)) if chapter.country else ""
    return truncate(", ".join(part for part in (chapter.city, country) if part), 100)


class RegionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"wl:region:{GUILD}"):
    """The menu of regions."""

    def __init__(self, guild_id: int, options: list[discord.SelectOption] | None = None, placeholder: str = "") -> None:
        self.guild_id = guild_id
        super().__init__(
            discord.ui.Select(custom_id=f"wl:region:{guild_id}", options=options or [], placeholder=placeholder or None)
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RegionSelect:
        """The same menu, and the interaction claimed for it."""
        claim(interaction)
        return cls(int(match["guild"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Show the region's chapters in place."""

        async def act() -> None:
            await place_of(interaction, self.guild_id)
            code = self.item.values[0] if self.item.values else ""
            content, view = chapters_menu(interaction.client.directory, self.guild_id, code, 0, interaction.locale)
            await interaction.response.edit_message(content=content, embeds=[], view=view)

        await _run(interaction, "welcome region menu", act)


class ChapterPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"wl:page:{GUILD}:{REGION}:{PAGE}"):
    """Turns a region's chapters to another page."""

    def __init__(self, guild_id: int, code: str, page: int, label: str = "", *, disabled: bool = False) -> None:
        self.guild_id, self.code, self.page = guild_id, code, page
        super().__init__(
            discord.ui.Button(
                label=label or str(page + 1),
                custom_id=f"wl:page:{guild_id}:{code}:{page}",
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChapterPageButton:
        """The same button, and the interaction claimed for it."""
        claim(interaction)
        return cls(int(match["guild"]), match["region"], int(match["page"]), getattr(item, "label", None) or "")

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Show the page in place."""

        async def act() -> None:
            await place_of(interaction, self.guild_id)
            menu = chapters_menu(interaction.client.directory, self.guild_id, self.code, self.page, interaction.locale)
            await interaction.response.edit_message(content=menu[0], embeds=[], view=menu[1])

        await _run(interaction, "welcome chapter page", act)


class ChapterSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"wl:chapter:{GUILD}:{REGION}:{PAGE}"):
    """The menu of one page of a region's chapters: picking one gives its role."""

    def __init__(
        self,
        guild_id: int,
        code: str,
        page: int,
        options: list[discord.SelectOption] | None = None,
        placeholder: str = "",
    ) -> None:
        self.guild_id = guild_id
        super().__init__(
            discord.ui.Select(
                custom_id=f"wl:chapter:{guild_id}:{code}:{page}", options=options or [], placeholder=placeholder or None
            )
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChapterSelect:
        """The same menu, and the interaction claimed for it."""
        claim(interaction)
        return cls(int(match["guild"]), match["region"], int(match["page"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Give the member the chapter picked."""

        async def act() -> None:
            place = await place_of(interaction, self.guild_id)
            chapter = interaction.client.directory.chapters.get(self.item.values[0] if self.item.values else "")
            if chapter is None:
                raise UserError(GONE_CHAPTER)
            await choose(interaction, place, chapter)

        await _run(interaction, "welcome chapter menu", act)


class ChapterModal(BaseModal):
    """Type a chapter's name: found forgivingly (case, accents, aliases, typos), with suggestions when not."""

    def __init__(self, opened: Interaction, guild_id: int) -> None:
        super().__init__(opened, t(opened.locale, "Your chapter"))
        self.guild_id = guild_id
        self.name: discord.ui.TextInput[ChapterModal] = discord.ui.TextInput(
            custom_id="name",
            label=t(opened.locale, "Chapter name"),
            placeholder=t(opened.locale, "e.g. g0v, Code for Romania, code4.ro"),
            max_length=100,
        )
        self.add_item(self.name)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Find the chapter, then give its role."""
        place = await place_of(interaction, self.guild_id)
        chapter = interaction.client.directory.find_chapter(well_formed(self.name.value))
        await choose(interaction, place, chapter)


# -- the pick itself ---------------------------------------------------------------------------------------


class DiscordRoles:
    """A `RolePort` over a discord.py guild."""

    def __init__(self, guild: discord.Guild) -> None:
        self.guild = guild

    async def exists(self, role_id: int) -> bool:
        """In the cache, else as Discord says (a role made a moment ago may not be cached yet)."""
        if self.guild.get_role(role_id) is not None:
            return True
        return any(role.id == role_id for role in await self.guild.fetch_roles())

    async def create(self, name: str) -> int:
        """A role with no permissions, not mentionable, at the bottom (below the bot's)."""
        role = await self.guild.create_role(
            name=name, permissions=discord.Permissions.none(), mentionable=False, hoist=False, reason=REASON
        )
        return role.id

    async def held(self, user_id: int) -> set[int]:
        """The member's roles, as Discord has them now."""
        member = await self.guild.fetch_member(user_id)
        return {role.id for role in member.roles}

    async def move(self, user_id: int, add: int, remove: Collection[int]) -> None:
        """Give one role, take the others."""
        member = self.guild.get_member(user_id) or await self.guild.fetch_member(user_id)
        await member.add_roles(discord.Object(add), reason=REASON)
        if remove:
            await member.remove_roles(*(discord.Object(role_id) for role_id in remove), reason=REASON)


async def choose(interaction: Interaction, place: Place, chapter: ChapterInfo) -> None:
    """Give the chapter's role (taking a previous chapter's), then show the chapter: card, events, projects."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild, locale = place.guild, interaction.locale
    if not guild.me.guild_permissions.manage_roles:
        raise UserError(NO_MANAGE_ROLES, server=guild.name)
    try:
        picked = await interaction.client.app.welcome.pick(
            DiscordRoles(guild),
            guild.id,
            place.member.id,
            chapter.key,
            chapter.name[:100],
            server=discord.utils.escape_markdown(guild.name),
            locale=str(locale),
        )
    except discord.Forbidden:
        raise UserError(ROLE_REFUSED, chapter=chapter.name) from None
    channels = await _partner_channels(interaction, place, chapter)
    embeds = chapter_embeds(interaction.client, guild.id, chapter, channels, locale)
    text = picked_text(picked, chapter, interaction.client.directory.chapters, locale)
    await interaction.followup.send(text, embeds=embeds, ephemeral=True, allowed_mentions=NONE)


def picked_text(picked: Picked, chapter: ChapterInfo, chapters: Mapping[str, ChapterInfo], locale: Localeish) -> str:
    """What a pick did, in one sentence."""
    role = f"<@&{picked.role_id}>"
    if picked.previous == chapter.key:
        return t(locale, "You are in {chapter} already, with its role {role}.", chapter=chapter.name, role=role)
    if picked.previous is not None or picked.removed:
        before = chapters.get(picked.previous or "")
        return t(
            locale,
            "You moved to {chapter}: you have its role {role} now, and no longer the role of {previous}.",
            chapter=chapter.name,
            role=role,
            previous=before.name if before else t(locale, "your previous chapter"),
        )
    return t(locale, "Welcome to {chapter}! You have its role {role} now.", chapter=chapter.name, role=role)


async def _partner_channels(interaction: Interaction, place: Place, chapter: ChapterInfo) -> list[str]:
    """Mentions of the chapter's partner channels here that the member can see."""
    stored = await interaction.client.app.onboarding.resources.of(place.guild.id, f"partner:{chapter.key}")
    found = []
    for name, (kind, channel_id) in stored.items():
        channel = place.guild.get_channel(channel_id) if kind == "channel" else None
        if channel is not None and name.startswith("channel:") and channel.permissions_for(place.member).view_channel:
            found.append(channel.mention)
    return found


def chapter_embeds(
    client: CodeForAllBot, guild_id: int, chapter: ChapterInfo, channels: list[str], locale: Localeish
) -> list[discord.Embed]:
    """The chapter's card, then what it is up to: its next events, its top projects and its channels here."""
    directory = client.directory
    card = chapter_embed(chapter, directory.chapter_projects(chapter.key), locale)
    upcoming = client.app.events.upcoming(guild_id, chapter_key=chapter.key)[:SHOWN_EVENTS]
    events = "\n".join(event_line(e, locale) for e in upcoming) or t(locale, "No event of this chapter is coming up.")
    sections = [f"**{t(locale, 'Coming up')}**\n{events}"]
    projects = top_projects(directory.chapter_projects(chapter.key))
    if projects:
        sections.append(f"**{t(locale, 'Projects')}**\n" + "\n".join(_project(p, locale) for p in projects))
    if channels:
        sections.append(f"**{t(locale, 'Its channels here')}**\n" + " · ".join(channels))
    title = truncate(t(locale, "What {chapter} is up to", chapter=chapter.name), 256)
    room = min(4096, EMBED_TOTAL - len(card) - len(title))
    extra = discord.Embed(title=title, description=truncate("\n\n".join(sections), max(room, 1)))
    return [card, extra]


def top_projects(projects: Collection[ProjectInfo]) -> list[ProjectInfo]:
    """A chapter's projects to show first: active ones, then the rest, by name."""
    ranked = sorted(projects, key=lambda p: (p.status != "active", p.name.casefold()))
    return ranked[:SHOWN_PROJECTS]


def _project(project: ProjectInfo, locale: Localeish) -> str:
    name = project.localised_name(locale_tag(locale))
    url = project.links.get("website") or project.code_url
    shown = f"[{truncate(name, 100)}]({url})" if url else truncate(name, 100)
    return f"• {shown} · {t(locale, project.status.capitalize())}"


# -- organisers: mapping a chapter to an existing role ------------------------------------------------------


def check_mappable(guild: discord.Guild, role: discord.Role, partner_roles: Collection[int]) -> None:
    """Refuse a role picking a chapter must not hand out: @everyone, a bot's, above the bot's, or one with rights."""
    if role.is_default():
        raise UserError(N_("Choose a role other than @everyone."))
    if role.managed:
        raise UserError(N_("{role} belongs to a bot or an integration: choose another role."), role=role.name)
    if role >= guild.me.top_role:
        raise UserError(
            N_("{role} is above my highest role, so I could not give it: move my role above it, or choose another."),
            role=role.name,
        )
    if role.permissions.value & ~guild.default_role.permissions.value:
        raise UserError(
            N_(
                "{role} grants permissions beyond those of @everyone, and anyone may pick a chapter: choose a role without them."
            ),
            role=role.name,
        )
    if role.id in partner_roles:
        raise UserError(
            N_("{role} is the role of a partner's space and opens its private channels: choose another role."),
            role=role.name,
        )


# -- /privacy ------------------------------------------------------------------------------------------


def kept_text(client: CodeForAllBot, kept: Kept, locale: Localeish) -> str:
    """Everything the bot stores about a member, as a list they can read."""
    if kept.empty:
        return t(locale, "I store nothing about you.")

    def server(guild_id: int) -> str:
        guild = client.get_guild(guild_id)
        return guild.name if guild else t(locale, "a server I left")

    def day(when: datetime) -> str:
        return f"<t:{int(when.timestamp())}:D>"

    lines = [t(locale, "What I store about you:")]
    chapters = client.directory.chapters
    for guild_id, key, when in kept.picks:
        chapter = chapters[key].name if key in chapters else key
        lines.append(
            t(
                locale,
                "• your chapter in {server}: {chapter}, picked on {when}",
                server=server(guild_id),
                chapter=chapter,
                when=day(when),
            )
        )
    for guild_id, when in kept.arrivals:
        lines.append(
            t(
                locale,
                "• that you joined {server} on {when}, so that I welcome you once",
                server=server(guild_id),
                when=day(when),
            )
        )
    for guild_id, event in kept.reminders:
        lines.append(
            t(
                locale,
                "• a reminder of {event} by direct message ({server})",
                event=_event(event),
                server=server(guild_id),
            )
        )
    for guild_id, when in kept.tips:
        lines.append(
            t(
                locale,
                "• a tip from {server} to send you {when}",
                server=server(guild_id),
                when=f"<t:{int(when.timestamp())}:R>",
            )
        )
    lines.append(t(locale, "`/privacy forget` deletes all of it. Your roles stay as they are."))
    return truncate("\n".join(lines), 2000)


def _event(event: EventInfo) -> str:
    name = discord.utils.escape_markdown(event.name)
    return f"{name} (<t:{int(event.starts_at.timestamp())}:d>)" if event.starts_at else name
