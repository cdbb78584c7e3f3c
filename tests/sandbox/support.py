"""The test bot (app commands, a view, a modal) and the harness the sandbox tests share."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.sandbox import Sandbox
from bot.sandbox.state import Guild, User

CHAPTERS = ["Taiwan", "Tainan", "Thailand", "Germany", "Japan", "Mexico", "Kenya"]


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


class JoinView(discord.ui.View):
    """A button that edits the message and a region select."""

    def __init__(self, chapter: str) -> None:
        super().__init__(timeout=60)
        self.chapter = chapter

    @discord.ui.button(label="Join", style=discord.ButtonStyle.primary, custom_id="join")
    async def join(self, interaction: discord.Interaction, button: discord.ui.Button[JoinView]) -> None:
        button.disabled = True
        await interaction.response.edit_message(content=f"{interaction.user.name} joined {self.chapter}", view=self)

    @discord.ui.select(
        custom_id="region",
        placeholder="Pick a region",
        options=[discord.SelectOption(label="Asia", value="asia"), discord.SelectOption(label="Europe", value="eu")],
    )
    async def region(self, interaction: discord.Interaction, select: discord.ui.Select[JoinView]) -> None:
        await interaction.response.send_message(f"Region: {select.values[0]}", ephemeral=True, view=ConfirmView())


class ConfirmView(discord.ui.View):
    """A button on an ephemeral message."""

    @discord.ui.button(label="Confirm", custom_id="confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]) -> None:
        await interaction.response.edit_message(content="Confirmed", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A two-field modal."""

    topic: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Topic", custom_id="topic")
    details: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Details", custom_id="details", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks for your feedback on {self.topic.value}", ephemeral=True)


class SandboxBot(commands.Bot):
    """The test bot; re-identifies without discord.py's 5 s pause."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.errors: list[Exception] = []
        self.resumed = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author != self.user and message.content == "hello":
            await message.channel.send(f"Hello {message.author.name}!")


def build_bot() -> SandboxBot:
    """A bot with the app commands the tests exercise."""
    bot = SandboxBot()
    tree = bot.tree

    @tree.error
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        bot.errors.append(getattr(error, "original", error))

    @tree.command(name="chapter", description="Show a chapter")
    @app_commands.describe(name="Chapter name")
    async def chapter(interaction: discord.Interaction, name: str) -> None:
        embed = discord.Embed(
            title=f"Code for {name}", description="A civic tech chapter", url="https://codeforall.org"
        )
        embed.add_field(name="Members", value="42").set_footer(text="Code for All")
        await interaction.response.send_message(content=f"Chapter {name}", embed=embed, view=JoinView(name))

    @chapter.autocomplete("name")
    async def chapter_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=c, value=c) for c in CHAPTERS if c.lower().startswith(current.lower())]

    @tree.command(name="report", description="Deferred report with a chart")
    async def report(interaction: discord.Interaction, year: int, public: bool = True) -> None:
        await interaction.response.defer(thinking=True, ephemeral=not public)
        embed = discord.Embed(title=f"Report {year}").set_image(url="attachment://chart.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(tiny_png()), "chart.png"))
        await interaction.followup.send("Details follow", ephemeral=True)

    @tree.command(name="feedback", description="Open the feedback form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(name="setup", description="Create a chapter role and channel")
    async def setup(interaction: discord.Interaction, chapter: str) -> None:
        assert interaction.guild is not None
        role = await interaction.guild.create_role(name=f"{chapter} member", mentionable=True)
        channel = await interaction.guild.create_text_channel(f"{chapter} chapter", topic=f"Code for {chapter}")
        await interaction.response.send_message(f"role={role.id} channel={channel.id}")

    @tree.command(name="promote", description="Give a member a role")
    async def promote(interaction: discord.Interaction, member: discord.Member, role: discord.Role) -> None:
        try:
            await member.add_roles(role)
        except discord.Forbidden as error:
            await interaction.response.send_message(f"forbidden {error.code}", ephemeral=True)
        else:
            await interaction.response.send_message(f"gave {role.name} to {member.display_name}")

    @tree.command(name="remind", description="Send yourself a reminder by direct message")
    async def remind(interaction: discord.Interaction, text: str) -> None:
        try:
            await interaction.user.send(text)
        except discord.Forbidden as error:
            await interaction.response.send_message(f"forbidden {error.code}", ephemeral=True)
        else:
            await interaction.response.send_message("sent", ephemeral=True)

    @tree.command(name="slow", description="Answers too late when the sandbox's deadline is 0")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("too late")

    @tree.command(name="upload", description="Read an uploaded file")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename} {file.content_type} {len(data)} {data[:5]!r}")

    group = app_commands.Group(name="project", description="Projects")

    @group.command(name="add", description="Add a project")
    async def project_add(
        interaction: discord.Interaction, title: str, stars: int = 0, channel: discord.TextChannel | None = None
    ) -> None:
        where = channel.mention if channel else "-"
        await interaction.response.send_message(f"added {title} ({stars}) {where}")

    tree.add_command(group)
    return bot


@dataclass
class Harness:
    """A sandbox, a connected bot, a guild and a member."""

    sandbox: Sandbox
    bot: SandboxBot
    guild: Guild
    alice: User
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_id(self) -> int:
        """The #general channel."""
        assert self.guild.system_channel_id is not None
        return self.guild.system_channel_id
