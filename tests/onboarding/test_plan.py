"""Partner plans: exactly what is created, private by default, refused when the bot could not carry them out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.onboarding.plan import (
    BOT,
    EVERYONE,
    ORGANISERS,
    PARTNER,
    SHORT_LIMIT,
    GuildFacts,
    plan_partner,
    refusals,
    short_slug,
)

ALL = frozenset(
    {
        "manage_roles",
        "manage_channels",
        "view_channel",
        "read_message_history",
        "send_messages",
        "embed_links",
        "attach_files",
        "add_reactions",
        "connect",
        "speak",
    }
)


def test_the_default_plan_is_private_to_the_partner_and_organisers() -> None:
    plan = plan_partner("code-for-taiwan", "Code for Taiwan", "tw", representatives=[5, 5, 6], has_organiser_role=True)
    assert plan.role_name == "Code for Taiwan"
    assert [c.name for c in plan.channels] == ["tw-general", "tw-projects", "tw-announcements", "tw-voice"]
    assert [c.kind for c in plan.channels] == ["text", "text", "text", "voice"]
    assert plan.representatives == (5, 6)
    for channel in plan.channels:
        targets = {o.target: o for o in channel.overwrites}
        assert targets[EVERYONE].deny == {"view_channel"}
        assert "view_channel" in targets[PARTNER].allow
        assert "view_channel" in targets[ORGANISERS].allow
        assert "view_channel" in targets[BOT].allow
    announcements = {o.target: o for o in plan.channels[2].overwrites}
    assert announcements[PARTNER].deny == {"send_messages"}
    assert "send_messages" in announcements[ORGANISERS].allow
    assert plan.permissions_used() == {"view_channel", "read_message_history", "send_messages", "embed_links"}


def test_a_public_space_hides_nothing_but_keeps_announcements_read_only() -> None:
    plan = plan_partner("ro", "Code for Romania", "ro", public=True)
    general = {o.target: o for o in plan.channels[0].overwrites}
    assert EVERYONE not in general
    announcements = {o.target: o for o in plan.channels[2].overwrites}
    assert announcements[EVERYONE].deny == {"send_messages"}
    assert ORGANISERS not in announcements  # no organiser role set: Manage Server holders see everything anyway


@pytest.mark.parametrize(
    ("text", "slug"), [("România", "romania"), ("Code for Taiwan!", "code-for-taiwan"), ("零時政府", "")]
)
def test_short_names_become_channel_slugs(text: str, slug: str) -> None:
    assert short_slug(text) == slug


@given(st.text(max_size=300))
def test_every_slug_is_a_valid_channel_name_part(text: str) -> None:
    slug = short_slug(text)
    assert len(slug) <= SHORT_LIMIT
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-")


def test_a_short_name_that_slugs_to_nothing_is_refused() -> None:
    with pytest.raises(UserError) as refused:
        plan_partner("g0v", "g0v", "零時政府")
    assert "makes no channel name" in str(refused.value)


def test_an_over_long_name_is_refused() -> None:
    with pytest.raises(UserError):
        plan_partner("x", "x" * 101, "x")


def test_a_bot_without_manage_roles_is_refused_before_anything() -> None:
    plan = plan_partner("tw", "Code for Taiwan", "tw")
    problems = refusals(plan, GuildFacts(ALL - {"manage_roles"}, bot_top_role_position=5))
    assert [p.params for p in problems] == [{"permission": "Manage Roles"}]


def test_the_bot_never_grants_what_it_does_not_hold() -> None:
    plan = plan_partner("tw", "Code for Taiwan", "tw")
    problems = refusals(plan, GuildFacts(ALL - {"embed_links", "read_message_history"}, bot_top_role_position=5))
    assert len(problems) == 1 and problems[0].params == {"permissions": "embed links, read message history"}
    assert refusals(plan, GuildFacts(frozenset(), bot_top_role_position=5, administrator=True)) == []


def test_a_partner_role_above_the_bots_is_refused() -> None:
    plan = plan_partner("tw", "Code for Taiwan", "tw")
    facts = GuildFacts(ALL, bot_top_role_position=3, role_positions={77: 4})
    assert len(refusals(plan, facts, existing_role_id=77)) == 1
    assert refusals(plan, GuildFacts(ALL, bot_top_role_position=5, role_positions={77: 4}), existing_role_id=77) == []
