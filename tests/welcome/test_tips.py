"""The newcomer's tips: days 1, 3 and 7, in the server's language, saying why they come and how to stop them."""

from __future__ import annotations

from bot.welcome.tips import TIPS, tip_payload


def test_three_tips_in_the_first_week() -> None:
    assert [tip.day for tip in TIPS] == [1, 3, 7]


def test_a_tip_names_the_server_and_how_to_stop_them() -> None:
    english = tip_payload(TIPS[0], "Code for All", None)
    assert english.content.startswith("A tip from Code for All: `/chapter`")
    assert english.content.endswith("`/privacy forget` stops them.")
    assert english.mention_user_id is None and english.buttons == []
    german = tip_payload(TIPS[0], "Code for All", "de")
    assert german.content != english.content and "Code for All" in german.content
