"""Who may change the directory, and forms nobody else can use: two home organisers, a member, another server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from bot.sandbox import InteractionResult
from bot.sandbox.permissions import MANAGE_GUILD
from tests.openapi_validator import exchange_violations, format_report


@dataclass
class World:
    """The actors: `you` (home owner), `oana` (home organiser by role), `ana` (member), `piotr` (other server)."""

    s: SandboxSession
    clock: FakeClock
    oana: int
    organisers_role: int
    other_guild: int
    other_channel: int
    piotr: int

    async def slash(self, user: int, command: str, **options: object) -> InteractionResult:
        return await self.s.sandbox.slash(self.s.guild_id, self.s.channel_id, user, command, options)

    async def slash_elsewhere(self, command: str, **options: object) -> InteractionResult:
        return await self.s.sandbox.slash(self.other_guild, self.other_channel, self.piotr, command, options)

    async def submit(self, form: InteractionResult, user: int, **values: str) -> InteractionResult:
        return await self.s.sandbox.submit_modal(form, values, user)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    session = await start_session(settings, clock=clock)
    sandbox = session.sandbox
    try:
        role = sandbox.create_role(session.guild_id, "Organisers", permissions=MANAGE_GUILD)
        oana = sandbox.create_user("oana").id
        sandbox.add_member(session.guild_id, oana, [role.id])
        piotr = sandbox.create_user("piotr").id
        other = sandbox.create_guild("Warsaw civic tech", owner_id=piotr)
        await sandbox.settle()
        channel = sandbox.find_channel(other.id, "general")
        yield World(session, clock, oana, role.id, other.id, channel.id, piotr)
    finally:
        await session.stop()
    violations = exchange_violations(session.sandbox.exchanges)
    assert not violations, format_report(violations)


async def description_of(w: World, chapter: str) -> str:
    return w.s.bot.directory.find_chapter(chapter).description or ""


async def test_a_members_submit_through_an_organisers_form_is_refused(world: World) -> None:
    before = await description_of(world, "g0v")
    form = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="g0v")
    refused = await world.submit(form, world.s.member_id, description="Hijacked")
    assert refused.message.ephemeral
    assert refused.message.content == "This was opened for someone else: run the command yourself."
    assert await description_of(world, "g0v") == before
    history = await world.s.bot.directory.history("chapter", "g0v")
    assert all(change.actor_name != "ana" for change in history)
    # The organiser's own submit still works afterwards.
    saved = await world.submit(form, world.s.organiser_id, description="Civic tech in Taiwan")
    assert saved.message.content == "Saved."
    assert await description_of(world, "g0v") == "Civic tech in Taiwan"


async def test_two_organisers_forms_open_at_once_save_each_to_its_own_record(world: World) -> None:
    romania = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="Code for Romania")
    poland = await world.slash(world.oana, "directory edit-chapter", chapter="Code for Poland")
    assert romania.modal is not None and poland.modal is not None
    assert romania.modal["custom_id"] != poland.modal["custom_id"]
    first = await world.submit(romania, world.s.organiser_id, description="Typed for Romania")
    second = await world.submit(poland, world.oana, description="Typed for Poland")
    assert first.message.content == second.message.content == "Saved."
    directory = world.s.bot.directory
    assert directory.find_chapter("Code for Romania").description == "Typed for Romania"
    assert directory.find_chapter("Code for Poland").description == "Typed for Poland"
    assert directory.find_chapter("Code for Poland").name == "Code for Poland"
    poland_history = await directory.history("chapter", directory.find_chapter("Code for Poland").key)
    assert poland_history[0].actor_name == "oana"


async def test_a_demoted_organisers_submit_is_refused(world: World) -> None:
    before = await description_of(world, "g0v")
    form = await world.slash(world.oana, "directory edit-chapter", chapter="g0v")
    assert form.modal is not None
    sandbox = world.s.sandbox
    guild = sandbox.state.guilds[world.s.guild_id]
    member = guild.members[world.oana]
    member.roles.remove(world.organisers_role)
    sandbox.world.member_updated(guild, member)
    await sandbox.settle()
    refused = await world.submit(form, world.oana, description="Written after losing the role")
    assert refused.message.ephemeral
    assert "Only organisers can do this" in refused.message.content
    assert await description_of(world, "g0v") == before


async def test_a_late_submit_is_refused_and_saves_nothing(world: World) -> None:
    before = await description_of(world, "g0v")
    form = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="g0v")
    world.clock.advance(timedelta(minutes=16))
    late = await world.submit(form, world.s.organiser_id, description="Too late")
    assert late.message.ephemeral
    assert late.message.content == "This has expired and nothing was saved: run the command again."
    assert await description_of(world, "g0v") == before


async def test_a_form_the_bot_no_longer_holds_gets_a_sentence(world: World) -> None:
    form = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="g0v")
    saved = await world.submit(form, world.s.organiser_id, description="Once")
    assert saved.message.content == "Saved."
    replay = await world.submit(form, world.s.organiser_id, description="Twice")
    assert replay.message.content == "This has expired and nothing was saved: run the command again."
    assert await description_of(world, "g0v") == "Once"


async def test_another_servers_owner_cannot_import_or_edit_but_proposes_and_approval_applies(world: World) -> None:
    yaml = b"version: 1\nchapters:\n  - key: g0v\n    name: Hijacked g0v\n    tier: governing\n"
    refused = await world.slash_elsewhere("directory import", file=("directory.yaml", yaml))
    assert refused.message.ephemeral
    assert refused.message.content.startswith("Only organisers of the network's home server change the directory.")
    removal = await world.slash_elsewhere("directory remove", chapter="g0v")
    assert removal.message.content.startswith("Only organisers of the network's home server")
    assert world.s.bot.directory.find_chapter("g0v").name == "g0v (Code for Taiwan)"

    settings = await world.slash_elsewhere("settings show")
    assert settings.message.content.endswith(
        "Directory: organisers here propose changes; the network's home server decides."
    )
    form = await world.slash_elsewhere("directory edit-chapter", chapter="Code for Poland")
    sent = await world.submit(form, world.piotr, description="Proposed from Warsaw")
    assert sent.message.ephemeral
    assert sent.message.content.startswith("Sent to the network's organisers as proposal #1")
    poland = world.s.bot.directory.find_chapter("Code for Poland")
    assert poland.description != "Proposed from Warsaw"

    listed = await world.slash(world.oana, "directory proposals")
    assert "#1 · chapter Code for Poland · by piotr (Warsaw civic tech)" in listed.message.embeds[0]["description"]
    not_yours = await world.slash_elsewhere("directory proposals")
    assert not_yours.message.content.startswith("Only organisers of the network's home server")

    review = await world.slash(world.oana, "directory review", proposal=1)
    fields = review.message.embeds[0]["fields"]
    assert [f["name"] for f in fields] == ["description"]
    assert fields[0]["value"].endswith("→ Proposed from Warsaw")
    member_click = await world.s.sandbox.click(
        review.message, review.message.buttons[0]["custom_id"], world.s.member_id
    )
    assert member_click.message.content == "This was opened for someone else: run the command yourself."
    approve = next(b for b in review.message.buttons if b["label"] == "Approve")
    approved = await world.s.sandbox.click(review.message, approve["custom_id"], world.oana)
    assert approved.message.content == "Approved proposal #1: Code for Poland is saved."
    assert world.s.bot.directory.find_chapter("Code for Poland").description == "Proposed from Warsaw"
    history = await world.s.bot.directory.history("chapter", poland.key)
    assert history[0].actor_name == "piotr (Warsaw civic tech), approved by oana"
    again = await world.slash(world.s.organiser_id, "directory review", proposal=1)
    assert again.message.content == "Proposal #1 is already approved."


async def test_a_concurrent_edit_gives_changed_meanwhile(world: World) -> None:
    first = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="g0v")
    second = await world.slash(world.oana, "directory edit-chapter", chapter="g0v")
    saved = await world.submit(first, world.s.organiser_id, description="Written first")
    assert saved.message.content == "Saved."
    clash = await world.submit(second, world.oana, description="Written second")
    assert clash.message.ephemeral
    assert clash.message.content.startswith("Someone changed g0v (Code for Taiwan) meanwhile, so nothing was saved.")
    assert "description: “Written first”" in clash.message.content
    assert await description_of(world, "g0v") == "Written first"
    # A field nobody else touched still saves, and only that field is written.
    third = await world.slash(world.oana, "directory edit-chapter", chapter="g0v")
    other = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="g0v")
    await world.submit(other, world.s.organiser_id, website="https://g0v.tw/en")
    kept = await world.submit(third, world.oana, feed_url="https://g0v.news/feed")
    assert kept.message.content == "Saved."
    g0v = world.s.bot.directory.find_chapter("g0v")
    assert (g0v.website, g0v.feed_url, g0v.description) == (
        "https://g0v.tw/en",
        "https://g0v.news/feed",
        "Written first",
    )
    history = await world.s.bot.directory.history("chapter", "g0v")
    assert (history[0].actor_name, sorted(history[0].changes)) == ("oana", ["feed_url"])


async def test_a_name_or_alias_of_another_chapter_is_refused(world: World) -> None:
    form = await world.slash(world.s.organiser_id, "directory add-chapter", tier="member", region="Europe")
    refused = await world.submit(form, world.s.organiser_id, name="Code for Romania")
    assert refused.message.ephemeral
    assert (
        refused.message.content
        == "“Code for Romania” already names the chapter Code for Romania: edit that one instead."
    )
    alias = await world.slash(world.s.organiser_id, "directory edit-chapter", chapter="Code for Poland")
    clash = await world.submit(alias, world.s.organiser_id, aliases="g0v")
    assert clash.message.content == "“g0v” already names the chapter g0v (Code for Taiwan): edit that one instead."
    assert len(world.s.bot.directory.list_chapters()) == len({c.key for c in world.s.bot.directory.list_chapters()})
    assert world.s.bot.directory.find_chapter("Code for Romania").key == "code4romania"


async def test_removing_a_chapter_shows_a_preview_and_needs_confirm(world: World) -> None:
    directory = world.s.bot.directory
    poland = directory.find_chapter("Code for Poland")
    projects = len(directory.chapter_projects(poland.key))
    preview = await world.slash(world.s.organiser_id, "directory remove", chapter="Code for Poland")
    message = preview.message
    assert message.ephemeral
    assert message.content.startswith(
        f"Remove the chapter **Code for Poland** from the directory, with its projects ({projects})?"
    )
    assert message.embeds[0]["title"].startswith("Code for Poland")
    assert [b["label"] for b in message.buttons] == ["Remove", "Cancel"]
    assert directory.chapters.get(poland.key) is not None
    confirm = message.buttons[0]["custom_id"]
    by_oana = await world.s.sandbox.click(message, confirm, world.oana)
    assert by_oana.message.content == "This was opened for someone else: run the command yourself."
    assert directory.chapters.get(poland.key) is not None
    clicked = await world.s.sandbox.click(message, confirm, world.s.organiser_id)
    assert clicked.message.content == f"Removed the chapter Code for Poland and its projects ({projects})."
    assert directory.chapters.get(poland.key) is None
    assert not directory.chapter_projects(poland.key)
    history = await directory.history("chapter", poland.key)
    assert history[0].action == "remove" and history[0].actor_name == "you"
    assert history[0].changes["name"] == ["Code for Poland", None]


async def test_cancel_removes_nothing(world: World) -> None:
    preview = await world.slash(world.s.organiser_id, "directory remove", project="GoToVote")
    cancel = next(b for b in preview.message.buttons if b["label"] == "Cancel")
    clicked = await world.s.sandbox.click(preview.message, cancel["custom_id"], world.s.organiser_id)
    assert clicked.message.content == "Nothing was removed."
    assert world.s.bot.directory.find_project("GoToVote").name == "GoToVote"


async def test_without_a_home_server_the_directory_is_read_only(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    session = await start_session(settings)
    session.bot.settings.home_guild_id = None
    try:
        refused = await session.sandbox.slash(
            session.guild_id, session.channel_id, session.organiser_id, "directory edit-chapter", {"chapter": "g0v"}
        )
        assert refused.message.ephemeral
        assert refused.message.content.startswith("The directory is read-only")
    finally:
        await session.stop()


async def test_a_confirmation_is_refused_to_an_organiser_demoted_meanwhile(world: World) -> None:
    preview = await world.slash(world.oana, "directory remove", project="GoToVote")
    sandbox = world.s.sandbox
    guild = sandbox.state.guilds[world.s.guild_id]
    member = guild.members[world.oana]
    member.roles.remove(world.organisers_role)
    sandbox.world.member_updated(guild, member)
    await sandbox.settle()
    remove = next(b for b in preview.message.buttons if b["label"] == "Remove")
    refused = await sandbox.click(preview.message, remove["custom_id"], world.oana)
    assert refused.message.content.startswith("Only organisers can do this")
    assert world.s.bot.directory.find_project("GoToVote").name == "GoToVote"
