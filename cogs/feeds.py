"""Blog feeds followed in channels: organisers add, edit, test and watch them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.feeds.render import Post
from bot.feeds.service import FeedService, Subscription
from bot.i18n import N_, Localeish, t
from bot.text import truncate
from bot.types import Interaction
from bot.ui.checks import NotOrganiser, member_is_organiser

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

Target = discord.TextChannel | discord.ForumChannel | discord.Thread
MESSAGE_LIMIT = 2000


class TargetChannel(app_commands.Transformer):
    """A channel the bot can post feed entries in: text, announcement, forum, or a thread of one."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """A channel option."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """The channel types offered."""
        kinds = discord.ChannelType
        return [kinds.text, kinds.news, kinds.forum, kinds.public_thread, kinds.news_thread, kinds.private_thread]

    async def transform(
        self,
        interaction: discord.Interaction[Any],
        value: app_commands.AppCommandChannel | app_commands.AppCommandThread,
    ) -> Target:
        """The guild's channel object (an archived thread, which is not cached, is fetched)."""
        channel = value.resolve()
        if channel is None and isinstance(value, app_commands.AppCommandThread):
            try:
                channel = await value.fetch()
            except discord.HTTPException:
                channel = None  # a thread the bot may not read is no target
        if not isinstance(channel, Target):
            raise app_commands.TransformerError(value, discord.AppCommandOptionType.channel, self)
        return channel


TargetOption = app_commands.Transform[Target, TargetChannel]


def _mode(channel: Target, thread: bool) -> str:
    if isinstance(channel, discord.Thread):
        if thread:
            raise UserError(N_("Posts in a thread cannot open threads of their own: choose its channel instead."))
        return "post"
    if isinstance(channel, discord.ForumChannel) or thread:
        return "thread"
    return "crosspost" if channel.is_news() else "post"


def check_can_post(channel: Target, mode: str, role: discord.Role | None) -> None:
    """Refuse a channel the bot could not post in, before anything is saved."""
    me = channel.guild.me
    allowed = channel.permissions_for(me)
    needed = {"view_channel": allowed.view_channel}
    if isinstance(channel, discord.Thread):
        needed["send_messages_in_threads"] = allowed.send_messages_in_threads
    else:
        needed["send_messages"] = allowed.send_messages
    needed["embed_links"] = allowed.embed_links
    if mode == "thread" and isinstance(channel, discord.TextChannel):
        needed["create_public_threads"] = allowed.create_public_threads
    if isinstance(channel, discord.ForumChannel):
        needed["send_messages_in_threads"] = allowed.send_messages_in_threads
    missing = [name.replace("_", " ") for name, ok in needed.items() if not ok]
    if missing:
        raise UserError(
            N_("I cannot post in {channel}: I need {permissions} there."),
            channel=channel.mention,
            permissions=", ".join(missing),
        )
    if isinstance(channel, discord.ForumChannel) and channel.flags.require_tag:
        raise UserError(
            N_(
                "I cannot post in {channel}: the forum requires a tag on every post, and I have none to choose. "
                "Turn off “Require people to select tags when posting” in its settings, or choose another channel."
            ),
            channel=channel.mention,
        )
    if isinstance(channel, discord.Thread) and channel.locked and not allowed.manage_threads:
        raise UserError(
            N_("I cannot post in {channel}: the thread is locked. Unlock it, or give me Manage Threads there."),
            channel=channel.mention,
        )
    if role is not None and (role.is_default() or role.managed):
        raise UserError(N_("Choose a role members can hold to be mentioned, not {role}."), role=role.name)
    if role is not None and not role.mentionable and not allowed.mention_everyone:
        raise UserError(
            N_("I cannot mention {role}: make the role mentionable, or give me Mention All Roles in {channel}."),
            role=role.name,
            channel=channel.mention,
        )


def _line(sub: Subscription, locale: Localeish) -> str:
    title = discord.utils.escape_markdown(sub.title or sub.url)
    line = f"`#{sub.id}` <#{sub.channel_id}> · **{truncate(title, 80)}** · <{sub.url}>"
    details = []
    if sub.include:
        details.append(t(locale, "only: {words}", words=", ".join(sub.include)))
    if sub.exclude:
        details.append(t(locale, "not: {words}", words=", ".join(sub.exclude)))
    if sub.mention_role_id:
        details.append(t(locale, "mentions {role}", role=f"<@&{sub.mention_role_id}>"))
    if sub.template:
        details.append(t(locale, "own template"))
    return line + ("\n  " + " · ".join(details) if details else "")


def _health(sub: Subscription, locale: Localeish) -> str:
    title = truncate(discord.utils.escape_markdown(sub.title or sub.url), 80)
    last = f"<t:{int(sub.last_success_at.timestamp())}:R>" if sub.last_success_at else t(locale, "never")
    reason = sub.reason(str(locale) if locale else None)
    if sub.disabled_at is not None:
        state = t(locale, "disabled: {reason}", reason=reason or "")
    else:
        state = t(locale, "next poll {when}", when=f"<t:{int(sub.next_poll_at.timestamp())}:R>")
    text = t(
        locale,
        "`#{id}` **{title}**: last success {last}, failures in a row: {failures}, {state}",
        id=sub.id,
        title=title,
        last=last,
        failures=sub.failures,
        state=state,
    )
    if reason and sub.disabled_at is None:
        text += "\n  " + t(locale, "last error: {reason}", reason=reason)
    return text


def _chunks(lines: list[str]) -> list[str]:
    """Lines joined into messages within Discord's limit; nothing is cut."""
    chunks: list[str] = []
    for line in lines:
        line = truncate(line, MESSAGE_LIMIT)
        if chunks and len(chunks[-1]) + 1 + len(line) <= MESSAGE_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


async def _send_all(interaction: Interaction, lines: list[str]) -> None:
    none = discord.AllowedMentions.none()
    for chunk in _chunks(lines):
        await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=none)


def _preview(post: Post) -> tuple[str, discord.Embed | None]:
    embed = discord.Embed.from_dict(post.embed) if post.embed else None
    return post.content or "", embed


class Feeds(commands.Cog):
    """Feeds: new blog posts announced in channels."""

    # No default permissions: members of the organiser role need not hold Manage Server; the check is ours.
    feeds = app_commands.Group(
        name="feeds", description="Organisers: follow blogs in this server's channels", guild_only=True
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot
        self.service: FeedService = bot.app.feeds

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Organisers only, checked here whatever the command's default permissions say."""
        if not await member_is_organiser(interaction):
            raise NotOrganiser()
        return True

    async def _subscription_choices(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        assert interaction.guild is not None
        wanted = current.casefold().lstrip("#")
        choices = []
        for sub in await self.service.subscriptions(interaction.guild.id):
            channel = interaction.guild.get_channel(sub.channel_id)
            name = f"#{sub.id} {sub.title or sub.url} → #{channel.name if channel else sub.channel_id}"
            if wanted in name.casefold():
                choices.append(app_commands.Choice(name=truncate(name, 100), value=sub.id))
        return choices[:25]

    @feeds.command(name="add", description="Follow a feed in a channel")
    @app_commands.describe(
        url="The feed's address (RSS or Atom)",
        channel="Where new posts go (a text, announcement or forum channel, or a thread)",
        include="Only posts with one of these words (comma-separated)",
        exclude="No posts with any of these words (comma-separated)",
        mention="A role to mention with each post",
        template="Your own wording: {title} {link} {summary} {author} {chapter}",
        thread="Open a thread for each post",
    )
    async def add(
        self,
        interaction: Interaction,
        url: app_commands.Range[str, 1, 2000],
        channel: TargetOption,
        include: app_commands.Range[str, 1, 1000] | None = None,
        exclude: app_commands.Range[str, 1, 1000] | None = None,
        mention: discord.Role | None = None,
        template: app_commands.Range[str, 1, 2000] | None = None,
        thread: bool = False,
    ) -> None:
        """Check the channel, read the feed once (remembering its entries), and save the subscription."""
        assert interaction.guild is not None
        mode = _mode(channel, thread)
        check_can_post(channel, mode, mention)
        await interaction.response.defer(ephemeral=True, thinking=True)
        sub, parsed = await self.service.subscribe(
            guild_id=interaction.guild.id,
            channel_id=channel.id,
            url=url,
            actor_id=interaction.user.id,
            mode=mode,
            include=include,
            exclude=exclude,
            mention_role_id=mention.id if mention else None,
            template=template,
        )
        await interaction.followup.send(
            t(
                interaction.locale,
                "Following **{title}** in {channel} (`#{id}`). Its {count} current posts are remembered; "
                "new ones will be announced.",
                title=discord.utils.escape_markdown(parsed.title or sub.url),
                channel=channel.mention,
                id=sub.id,
                count=len(parsed.entries),
            ),
            ephemeral=True,
        )

    @feeds.command(name="list", description="The feeds this server follows")
    async def list_(self, interaction: Interaction) -> None:
        """List the subscriptions."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True)
        subs = await self.service.subscriptions(interaction.guild.id)
        if not subs:
            await interaction.followup.send(t(interaction.locale, "This server follows no feed yet."), ephemeral=True)
            return
        await _send_all(interaction, [_line(sub, interaction.locale) for sub in subs])

    @feeds.command(name="status", description="The health of each feed this server follows")
    async def status(self, interaction: Interaction) -> None:
        """Last success, failures, next poll, and why a feed was disabled."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True)
        subs = await self.service.subscriptions(interaction.guild.id)
        if not subs:
            await interaction.followup.send(t(interaction.locale, "This server follows no feed yet."), ephemeral=True)
            return
        await _send_all(interaction, [_health(sub, interaction.locale) for sub in subs])

    @feeds.command(name="edit", description="Change a feed's filters, mention or template, or resume it")
    @app_commands.autocomplete(subscription=_subscription_choices)
    @app_commands.describe(
        subscription="The subscription to change",
        include="Only posts with one of these words (comma-separated; a single - clears)",
        exclude="No posts with any of these words (comma-separated; a single - clears)",
        template="Your own wording (a single - goes back to the standard post)",
        mention="A role to mention with each post",
        no_mention="Stop mentioning a role",
        resume="Poll a disabled feed again",
    )
    async def edit(
        self,
        interaction: Interaction,
        subscription: int,
        include: app_commands.Range[str, 1, 1000] | None = None,
        exclude: app_commands.Range[str, 1, 1000] | None = None,
        template: app_commands.Range[str, 1, 2000] | None = None,
        mention: discord.Role | None = None,
        no_mention: bool = False,
        resume: bool = False,
    ) -> None:
        """Apply the options given."""
        assert interaction.guild is not None
        current = await self.service.get(interaction.guild.id, subscription)
        if mention is not None:
            channel = interaction.guild.get_channel_or_thread(current.channel_id)
            if isinstance(channel, Target):
                check_can_post(channel, current.mode, mention)

        def cleared(value: str | None) -> str | None:
            return "" if value is not None and value.strip() == "-" else value

        sub = await self.service.edit(
            interaction.guild.id,
            subscription,
            include=cleared(include),
            exclude=cleared(exclude),
            template=cleared(template),
            mention_role_id=mention.id if mention else None,
            clear_mention=no_mention,
            resume=resume,
        )
        await interaction.response.send_message(
            t(interaction.locale, "Saved.") + "\n" + _line(sub, interaction.locale),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @feeds.command(name="remove", description="Stop following a feed in a channel")
    @app_commands.autocomplete(subscription=_subscription_choices)
    async def remove(self, interaction: Interaction, subscription: int) -> None:
        """Delete the subscription."""
        assert interaction.guild is not None
        sub = await self.service.remove(interaction.guild.id, subscription)
        await interaction.response.send_message(
            t(
                interaction.locale,
                "{channel} no longer follows {title}.",
                channel=f"<#{sub.channel_id}>",
                title=discord.utils.escape_markdown(sub.title or sub.url),
            ),
            ephemeral=True,
        )

    @feeds.command(name="test", description="Preview the newest post of a feed, here and only for you")
    @app_commands.autocomplete(subscription=_subscription_choices)
    async def test(self, interaction: Interaction, subscription: int) -> None:
        """Render the newest entry as the subscription would post it; nothing is sent to the channel."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = (await self.bot.guild_settings.get(interaction.guild.id)).locale or interaction.guild_locale
        _, post = await self.service.preview(interaction.guild.id, subscription, str(locale) if locale else None)
        if post is None:
            await interaction.followup.send(t(interaction.locale, "The feed has no posts yet."), ephemeral=True)
            return
        content, embed = _preview(post)
        note = t(interaction.locale, "Preview (nothing was posted):")
        await interaction.followup.send(
            truncate(f"{note}\n{content}", MESSAGE_LIMIT),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
            embeds=[embed] if embed else [],
        )

    @feeds.command(name="find", description="Find the feeds a website offers")
    @app_commands.describe(site_url="The website's address")
    @app_commands.rename(site_url="site-url")
    async def find(self, interaction: Interaction, site_url: app_commands.Range[str, 1, 2000]) -> None:
        """List the feeds a page links to with rel=alternate."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.service.find(site_url)
        if not found:
            raise UserError(N_("That page links to no RSS or Atom feed."))
        lines = [t(interaction.locale, "Feeds found (add one with `/feeds add`):")] + [f"<{url}>" for url in found]
        await _send_all(interaction, lines)

    @feeds.command(name="follow-chapters", description="Follow every directory chapter's blog in a channel")
    @app_commands.describe(channel="Where the chapters' new posts go")
    async def follow_chapters(self, interaction: Interaction, channel: TargetOption) -> None:
        """Subscribe the channel to every chapter's feed_url; each feed's first poll only learns it."""
        assert interaction.guild is not None
        mode = _mode(channel, False)
        check_can_post(channel, mode, None)
        added = await self.service.follow_chapters(
            guild_id=interaction.guild.id, channel_id=channel.id, actor_id=interaction.user.id, mode=mode
        )
        if not added:
            message = t(interaction.locale, "{channel} already follows every chapter's feed.", channel=channel.mention)
        else:
            message = t(
                interaction.locale,
                "{channel} now follows {count} chapter feeds: {names}",
                channel=channel.mention,
                count=len(added),
                names=", ".join(added),
            )
        await interaction.response.send_message(truncate(message, MESSAGE_LIMIT), ephemeral=True)


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Feeds(bot))
