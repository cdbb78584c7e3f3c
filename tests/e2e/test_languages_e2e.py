"""Languages through Discord: replies follow the member's locale, commands carry their localisations."""

from __future__ import annotations

from typing import Any

import pytest

from bot.offline import SandboxSession


async def chapter(session: SandboxSession, locale: str, name: str = "g0v") -> dict[str, Any]:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": name}, locale=locale
    )
    return result.message.embeds[0]


@pytest.mark.parametrize(
    ("locale", "network", "region", "asia"),
    [
        ("zh-TW", "網絡", "地區", "亞洲"),
        ("ro", "Rețea", "Regiune", "Asia"),
        ("es-ES", "Red", "Región", "Asia"),
        ("es-419", "Red", "Región", "Asia"),
        ("en-US", "Network", "Region", "Asia"),
    ],
)
async def test_chapter_answers_in_the_members_language(
    session: SandboxSession, locale: str, network: str, region: str, asia: str
) -> None:
    embed = await chapter(session, locale)
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert network in fields, fields
    assert fields[region] == asia


async def test_unknown_locale_answers_in_english(session: SandboxSession) -> None:
    embed = await chapter(session, "hu")
    assert "Network" in [f["name"] for f in embed["fields"]]


async def test_localised_chapter_name_is_shown(session: SandboxSession) -> None:
    embed = await chapter(session, "zh-TW")
    assert "零時政府" in str(embed["title"])


async def test_errors_are_translated(session: SandboxSession) -> None:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "Atlantis"}, locale="de"
    )
    assert result.message.ephemeral
    assert "Atlantis" in result.message.content
    assert "matches" not in result.message.content


async def test_synced_commands_carry_localisations(session: SandboxSession) -> None:
    commands = {c["name"]: c for c in session.sandbox.state.commands_for(None)}
    chapter_command = commands["chapter"]
    assert set(chapter_command["name_localizations"]) >= {"zh-TW", "ro", "es-ES", "pl", "pt-BR", "de", "ja"}
    assert chapter_command["description_localizations"]["ro"]
    add_chapter = next(o for o in commands["directory"]["options"] if o["name"] == "add-chapter")
    region = next(o for o in add_chapter["options"] if o["name"] == "region")
    asia = next(c for c in region["choices"] if c["value"] == "Asia")
    assert asia["name_localizations"]["ja"] == "アジア"
