"""The Onboarding prompt edit: every prompt and option kept with its id, one option added once, Discord's limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import UserError
from bot.onboarding.extras import MAX_OPTIONS, prompts_with_option, prompts_without_option

TITLE = "Which chapter are you with?"


def _board(*prompts: dict[str, Any]) -> dict[str, Any]:
    return {"enabled": True, "prompts": list(prompts)}


def _prompt(prompt_id: int, title: str, role_ids: list[int]) -> dict[str, Any]:
    options = [
        {
            "id": str(prompt_id * 100 + n),
            "title": f"o{n}",
            "description": "",
            "emoji": {"id": None, "name": None, "animated": False},
            "role_ids": [str(r)],
            "channel_ids": [],
        }
        for n, r in enumerate(role_ids)
    ]
    return {
        "id": str(prompt_id),
        "title": title,
        "options": options,
        "single_select": True,
        "required": False,
        "in_onboarding": True,
        "type": 0,
    }


def test_a_new_prompt_is_added_after_the_others_which_keep_their_ids() -> None:
    prompts = prompts_with_option(_board(_prompt(7, "Rules?", [1])), None, TITLE, 42, "g0v", None)
    assert prompts is not None
    assert [(p["id"], p["title"]) for p in prompts] == [("7", "Rules?"), ("1", TITLE)]
    assert prompts[0]["options"][0]["id"] == "700" and "emoji_id" not in prompts[0]["options"][0]
    assert prompts[1]["options"] == [{"title": "g0v", "role_ids": ["42"], "channel_ids": []}]


def test_the_stored_prompt_gains_one_option_once() -> None:
    board = _board(_prompt(7, "Chapters", [1]))
    prompts = prompts_with_option(board, 7, TITLE, 42, "g0v", None)
    assert prompts is not None and [o.get("id") for o in prompts[0]["options"]] == ["700", None]
    assert prompts_with_option(_board(_prompt(7, "Chapters", [1, 42])), 7, TITLE, 42, "g0v", None) is None


def test_discords_limits_are_sentences() -> None:
    full = _board(_prompt(7, TITLE, list(range(1, MAX_OPTIONS + 1))))
    with pytest.raises(UserError, match="already has 50 options"):
        prompts_with_option(full, 7, TITLE, 999, "g0v", None)
    many = _board(*(_prompt(n, f"p{n}", [n]) for n in range(1, 16)))
    with pytest.raises(UserError, match="already has 15 prompts"):
        prompts_with_option(many, None, TITLE, 999, "g0v", None)


def test_taking_a_role_out_keeps_every_other_option_and_id() -> None:
    board = {
        "prompts": [
            {
                "id": "11",
                "title": "Chapters",
                "options": [
                    {"id": "21", "title": "Taiwan", "role_ids": ["5"], "channel_ids": []},
                    {"id": "22", "title": "Both", "role_ids": ["5", "6"], "channel_ids": []},
                    {"id": "23", "title": "Romania", "role_ids": ["6"], "channel_ids": []},
                ],
            },
            {"id": "12", "title": "Only Taiwan", "options": [{"id": "24", "title": "Tw", "role_ids": ["5"]}]},
        ]
    }
    prompts = prompts_without_option(board, 5)
    assert prompts is not None
    assert [(p["id"], [(o["id"], o["role_ids"]) for o in p["options"]]) for p in prompts] == [
        ("11", [("22", ["6"]), ("23", ["6"])])
    ]
    assert prompts_without_option(board, 7) is None
