"""The directory through Discord: slash commands, autocomplete, pages, modals and permissions."""

from __future__ import annotations

import asyncio
import logging
import re
import sys

import discord
import pytest

from bot.directory.records import ImportBatch, ProjectRecord
from bot.directory.service import IMPORT_CHUNK
from bot.offline import SandboxSession
from bot.sandbox import InteractionResult
from bot.sandbox.state import Message
from bot.ui.directory import network_chart
from tests.conftest import SHARED_DIRECTORY, needs_shared

BRIGADE = "cfa_brigade-information_organizations.json"
PROJECT_INDEX = "cti_project-index_index-v1_projects_codeforall_members.json"


async def slash(
    s: SandboxSession, command: str, user: int | None = None, wait: float = 5.0, **options: object
) -> InteractionResult:
    return await s.sandbox.slash(s.guild_id, s.channel_id, user or s.member_id, command, options, timeout=wait)


async def test_chapter_by_alias_in_any_script(session: SandboxSession) -> None:
    for query in ("g0v", "零時政府", "Taiwan"):
        result = await slash(session, "chapter", name=query)
        embed = result.message.embeds[0]
        assert "g0v" in embed["title"], query
        assert not result.message.ephemeral


async def test_chapter_typo_is_forgiven(session: SandboxSession) -> None:
    result = await slash(session, "chapter", name="code4romaina")
    assert result.message.embeds[0]["title"].startswith("Code for Romania")


async def test_unknown_chapter_answers_privately_with_suggestions(session: SandboxSession) -> None:
    result = await slash(session, "chapter", name="Code for Atlantis")
    assert result.message.ephemeral
    assert "Did you mean" in result.message.content


async def test_autocomplete_offers_at_most_25_matches(session: SandboxSession) -> None:
    choices = await session.sandbox.autocomplete(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "code"}, focused="name"
    )
    assert {c["name"] for c in choices} == {
        "Code for Africa",
        "Code for America",
        "Code for Australia",
        "Code for Germany",
        "Code for Ghana",
        "Code for Kenya",
        "Codigo DF (Code for Mexico City)",
        "Code for Nigeria",
        "Code for Pakistan",
        "Code for Poland",
        "Code for Romania",
        "Code for South Africa",
        "g0v (Code for Taiwan)",
        "Code for the Caribbean",
        "Codeando México",
    }
    romania = await session.sandbox.autocomplete(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "roman"}, focused="name"
    )
    assert romania[0]["value"] == "code4romania"


async def test_project_lookup_and_search(session: SandboxSession) -> None:
    result = await slash(session, "projects", words="elections")
    embed = result.message.embeds[0]
    shown = embed["description"].count("**") // 2
    assert embed["footer"]["text"] == f"Page 1/1 · {shown} results"
    assert re.findall(r"\*\*(.+?)\*\*", embed["description"]) == ["Election monitoring tools", "GoToVote"]
    project = await slash(session, "project", name="GoToVote")
    assert "GoToVote" in project.message.embeds[0]["title"]


async def test_chapters_list_paginates_with_buttons(session: SandboxSession) -> None:
    result = await slash(session, "chapters")
    message = result.message
    footer = message.embeds[0]["footer"]["text"]
    first_page = message.embeds[0]["description"]
    assert footer.startswith("Page 1/")
    buttons = message.buttons
    assert [b["label"] for b in buttons] == ["◀ Previous", "Next ▶"]
    assert buttons[0]["disabled"] and not buttons[1].get("disabled")
    clicked = await session.sandbox.click(message, buttons[1]["custom_id"], session.member_id)
    page_two = clicked.message
    assert page_two.embeds[0]["footer"]["text"].startswith("Page 2/")
    assert page_two.id == message.id
    assert page_two.embeds[0]["description"] != first_page


async def test_network_overview_has_a_chart(session: SandboxSession) -> None:
    result = await slash(session, "network")
    message = result.message
    assert message.attachments and message.attachments[0].filename == "network.png"
    assert message.embeds[0]["image"]["url"].endswith("network.png")


async def test_member_cannot_edit_but_organiser_gets_a_form(session: SandboxSession) -> None:
    refused = await slash(session, "directory edit-chapter", chapter="g0v")
    assert refused.message.ephemeral
    assert "organisers" in refused.message.content.lower()
    form = await slash(session, "directory edit-chapter", user=session.organiser_id, chapter="g0v", city="Taipei City")
    assert form.modal is not None
    saved = await session.sandbox.submit_modal(form, {}, session.organiser_id)
    assert saved.message.ephemeral and saved.message.content == "Saved."
    shown = await slash(session, "chapter", name="g0v")
    assert any("Taipei City" in f["value"] for f in shown.message.embeds[0]["fields"])
    history = await slash(session, "directory history", chapter="g0v")
    assert "city" in history.message.embeds[0]["description"]
    assert "you" in history.message.embeds[0]["description"]


async def test_organiser_form_rejects_a_bad_url(session: SandboxSession) -> None:
    form = await slash(session, "directory edit-chapter", user=session.organiser_id, chapter="g0v")
    result = await session.sandbox.submit_modal(form, {"website": "not a url"}, session.organiser_id)
    assert result.message.ephemeral
    assert "website" in result.message.content.lower()


async def test_organiser_adds_a_project_with_a_form(session: SandboxSession) -> None:
    form = await slash(session, "directory add-project", user=session.organiser_id, chapter="Code for Poland")
    fields = {"name": "Gdańsk budget map", "description": "Where the city's money goes", "topics": "budget, maps"}
    saved = await session.sandbox.submit_modal(form, fields, session.organiser_id)
    assert saved.message.content == "Saved."
    found = await slash(session, "projects", words="gdansk budget")
    assert "Gdańsk budget map" in found.message.embeds[0]["description"]
    by_topic = await slash(session, "projects", topic="maps", chapter="Code for Poland")
    assert "Gdańsk budget map" in by_topic.message.embeds[0]["description"]


async def test_a_repeated_search_shows_an_edit_made_in_between(session: SandboxSession) -> None:
    before = await slash(session, "projects", words="budget")
    again = await slash(session, "projects", words="budget")
    assert again.message.embeds == before.message.embeds
    assert again.message.buttons == before.message.buttons
    form = await slash(session, "directory add-project", user=session.organiser_id, chapter="Code for Poland")
    fields = {"name": "Budget cards of Kraków", "description": "Each district's budget on one card"}
    assert (await session.sandbox.submit_modal(form, fields, session.organiser_id)).message.content == "Saved."
    after = await slash(session, "projects", words="budget")
    assert "Budget cards of Kraków" in after.message.embeds[0]["description"]
    assert after.message.embeds[0]["footer"] != before.message.embeds[0]["footer"]
    in_polish = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "projects", {"words": "budget"}, locale="pl"
    )
    assert in_polish.message.embeds[0]["footer"]["text"].startswith("Strona 1/")


@needs_shared(BRIGADE)
async def test_organiser_imports_an_uploaded_file_and_exports(session: SandboxSession) -> None:
    brigade = SHARED_DIRECTORY / BRIGADE
    refused = await slash(session, "directory import", file=(brigade.name, brigade.read_bytes()))
    assert refused.message.ephemeral and "organisers" in refused.message.content.lower()
    result = await slash(
        session, "directory import", user=session.organiser_id, file=(brigade.name, brigade.read_bytes())
    )
    text = result.message.content
    assert text.startswith(f"Imported **{discord.utils.escape_markdown(brigade.name)}**")
    assert "created" in text
    governing = (await slash(session, "chapters", tier="governing")).message.embeds[0]["description"]
    assert "Code for Canada" in governing  # new from the file, tagged Code for All
    assert "Code for Africa" not in governing  # the seed says it is a member, and the seed wins
    exported = await slash(session, "directory export", user=session.organiser_id)
    attachment = exported.message.attachments[0]
    assert attachment.filename == "directory.yaml"
    assert b"code4romania" in attachment.data


async def test_bad_upload_is_explained(session: SandboxSession) -> None:
    result = await slash(session, "directory import", user=session.organiser_id, file=("notes.txt", b"hello"))
    assert result.message.ephemeral
    assert "Traceback" not in result.message.content
    assert result.message.content


async def test_members_of_the_organiser_role_may_edit(session: SandboxSession) -> None:
    sandbox = session.sandbox
    role = sandbox.create_role(session.guild_id, "Organisers")
    oana = sandbox.create_user("oana").id
    sandbox.add_member(session.guild_id, oana, [role.id])
    await sandbox.settle()
    refused = await slash(session, "directory edit-chapter", user=oana, chapter="g0v")
    assert refused.message.ephemeral
    everyone = await slash(session, "settings organiser-role", user=session.organiser_id, role=session.guild_id)
    assert "@everyone" in everyone.message.content
    saved = await slash(session, "settings organiser-role", user=session.organiser_id, role=role.id)
    assert saved.message.ephemeral and f"<@&{role.id}>" in saved.message.content
    allowed = await slash(session, "directory edit-chapter", user=oana, chapter="g0v")
    assert allowed.modal is not None


async def test_nothing_a_member_types_can_ping_anyone(session: SandboxSession) -> None:
    result = await slash(session, "chapter", name="@everyone <@&1> <@1>")
    assert "@everyone" in result.message.content
    await slash(session, "projects", words="@everyone")
    sent = [
        e.request_json
        for e in session.sandbox.exchanges
        if e.method in ("POST", "PATCH") and ("/callback" in e.path or "/webhooks/" in e.path)
    ]
    payloads = [p.get("data", p) for p in sent if isinstance(p, dict)]
    messages = [p for p in payloads if isinstance(p, dict) and ("content" in p or "embeds" in p)]
    assert messages
    for payload in messages:
        assert payload.get("allowed_mentions") == {"parse": []}, payload


@needs_shared(BRIGADE, PROJECT_INDEX)
async def test_a_large_import_shows_progress(session: SandboxSession, monkeypatch: pytest.MonkeyPatch) -> None:
    projects = SHARED_DIRECTORY / PROJECT_INDEX
    brigade = SHARED_DIRECTORY / BRIGADE
    monkeypatch.setattr(sys.modules["cogs.directory"], "PROGRESS_EVERY", 0.0)
    await slash(session, "directory import", user=session.organiser_id, file=(brigade.name, brigade.read_bytes()))
    result = await slash(
        session, "directory import", user=session.organiser_id, file=(projects.name, projects.read_bytes()), wait=60
    )
    shown = discord.utils.escape_markdown(projects.name)
    assert result.message.content.startswith(f"Importing {shown}: {IMPORT_CHUNK} of ")
    final = await result.wait_for_messages(2, timeout=60)
    assert "created" in final[-1].content
    edits = [
        e.request_json.get("content", "")
        for e in session.sandbox.exchanges
        if e.method == "PATCH" and e.path.endswith("/messages/@original") and isinstance(e.request_json, dict)
    ]
    assert any(text.startswith(f"Importing {shown}: {IMPORT_CHUNK} of ") for text in edits), edits


BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
chapters: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


async def _upload_answer(session: SandboxSession, filename: str, data: bytes) -> str:
    result = await slash(session, "directory import", user=session.organiser_id, file=(filename, data), wait=60)
    return result.messages[-1].content


async def test_an_alias_bomb_upload_is_refused_while_members_are_answered(session: SandboxSession) -> None:
    upload = asyncio.create_task(_upload_answer(session, "bomb.yaml", BOMB))
    answered = 0
    while not upload.done() or answered < 20:
        result = await slash(session, "chapter", name="g0v")
        assert "g0v" in result.message.embeds[0]["title"]
        answered += 1
    text = await upload
    assert text == "Bomb.yaml, line 1: YAML anchors and aliases (& and *) are not allowed in a directory file."


async def test_a_slow_upload_leaves_members_answered(session: SandboxSession) -> None:
    # A legal but slow file: PyYAML reads a long flow sequence in quadratic time, several seconds here.
    slow = ("chapters:\n  - key: slow\n    name: Slow\n    facts: [" + ",".join(["x"] * 12_000) + "]\n").encode()
    upload = asyncio.create_task(_upload_answer(session, "slow.yaml", slow))
    answered = 0
    while not upload.done():
        result = await slash(session, "chapter", name="Code for Romania")
        assert result.message.embeds
        answered += 1
    assert answered >= 3
    assert "facts has too many items (limit: 100)" in await upload


async def test_an_upload_with_one_bad_record_imports_the_rest(session: SandboxSession) -> None:
    text = (
        "chapters:\n"
        "  - {key: upload-good, name: Upload Good Chapter, country: RO}\n"
        f"  - {{key: upload-long, name: {'n' * 1500}, country: ZZ}}\n"
        "  - {key: upload-other, name: Upload Other Chapter}\n"
    )
    answer = await _upload_answer(session, "mixed.yaml", text.encode())
    assert answer.startswith("Imported **mixed.yaml**: 2 created, ")
    assert "1 skipped" in answer
    assert (
        "• record 2 (upload-long): name is too long (limit: 200, given: 1500); "
        "country 'ZZ' is not a two-letter ISO 3166 country code such as RO"
    ) in answer
    for name in ("Upload Good Chapter", "Upload Other Chapter"):
        shown = await slash(session, "chapter", name=name)
        assert shown.message.embeds[0]["title"] == name
    projects = await slash(session, "project", name="GoToVote")
    assert projects.message.embeds


async def test_a_chapter_with_a_long_name_gets_a_key_autocomplete_can_offer(session: SandboxSession) -> None:
    name = "Code for " + " ".join(["Somewhere"] * 18)  # 188 characters: a slug longer than 100
    form = await slash(session, "directory add-chapter", user=session.organiser_id, tier="member", region="Europe")
    saved = await session.sandbox.submit_modal(form, {"name": name}, session.organiser_id)
    assert saved.message.content == "Saved."
    choices = await session.sandbox.autocomplete(
        session.guild_id,
        session.channel_id,
        session.member_id,
        "chapter",
        {"name": "Code for Somewhere"},
        focused="name",
    )
    assert choices and all(len(c["value"]) <= 100 and len(c["name"]) <= 100 for c in choices)
    shown = await slash(session, "chapter", name=choices[0]["value"])
    assert shown.message.embeds[0]["title"] == name


async def test_the_chapter_form_refuses_a_country_that_is_not_iso_3166(session: SandboxSession) -> None:
    form = await slash(
        session, "directory add-chapter", user=session.organiser_id, tier="member", region="Europe", country="ZZ"
    )
    refused = await session.sandbox.submit_modal(form, {"name": "Code for Nowhere"}, session.organiser_id)
    assert refused.message.ephemeral
    assert refused.message.content == "Country 'ZZ' is not a two-letter ISO 3166 country code such as RO."
    missing = await slash(session, "chapter", name="Code for Nowhere")
    assert missing.message.ephemeral


def lines(result: InteractionResult) -> list[str]:
    """The names a listing shows, in order."""
    description = result.message.embeds[0]["description"]
    return [line.split("**")[1] for line in description.split("\n") if line.startswith("**")]


def names(result: InteractionResult) -> list[str]:
    return [re.sub(r"^\[(.*)\]\(.*\)$", r"\1", name) for name in lines(result)]


async def import_brigades(session: SandboxSession) -> None:
    brigade = SHARED_DIRECTORY / BRIGADE
    if not brigade.exists():
        pytest.skip(f"needs {brigade} (the shared data folder beside the project, or SHARED_DIR)")
    await slash(session, "directory import", user=session.organiser_id, file=(brigade.name, brigade.read_bytes()))


async def test_chapter_names_in_any_word_order_and_native_forms(session: SandboxSession) -> None:
    await import_brigades(session)
    for query, title in (
        ("germany code for", "Code for Germany"),
        ("România", "Code for Romania"),
        ("Code4Romania", "Code for Romania"),
    ):
        result = await slash(session, "chapter", name=query)
        assert result.message.embeds[0]["title"].startswith(title), query
    # "Taiwan" is in g0v's other name; the country's own name, in either script, offers all three chapters.
    # The seed's curated name stays; the brigade file's "g0v.tw" became an alias.
    assert (await slash(session, "chapter", name="Taiwan")).message.embeds[0]["title"] == "g0v (Code for Taiwan)"
    for query in ("台灣", "臺灣"):
        result = await slash(session, "chapter", name=query)
        assert result.message.ephemeral
        assert "Did you mean" in result.message.content
        for name in ("g0v (Code for Taiwan)", "Code for Kaohsiung", "Code for Tomorrow"):
            assert name in result.message.content, query


async def test_one_taiwan_chapter_is_found_by_the_country_in_either_script(session: SandboxSession) -> None:
    for query in ("台灣", "臺灣", "台湾"):
        result = await slash(session, "chapter", name=query)
        assert result.message.embeds[0]["title"].startswith("g0v"), query


async def test_project_search_forgives_plurals_stems_and_typos(session: SandboxSession) -> None:
    election = names(await slash(session, "projects", words="election"))
    assert election == names(await slash(session, "projects", words="elections"))
    assert {"Election monitoring tools", "GoToVote"} <= set(election)
    assert names(await slash(session, "projects", topic="election")) == names(
        await slash(session, "projects", topic="Elections")
    )
    assert "GoToVote" in names(await slash(session, "projects", topic="election"))
    assert "GoToVote" in names(await slash(session, "projects", words="votng"))


async def test_the_project_named_as_typed_and_names_starting_with_the_words_come_first(session: SandboxSession) -> None:
    shown = names(await slash(session, "projects", words="data"))
    starting = [name for name in shown if name.lower().startswith("data")]
    assert starting and shown[: len(starting)] == starting
    exact = names(await slash(session, "projects", words="GoToVote"))
    assert exact[0] == "GoToVote"


async def test_punctuation_is_not_everything(session: SandboxSession) -> None:
    for options in ({"words": "%%%"}, {"topic": "!!"}):
        result = await slash(session, "projects", **options)
        assert result.message.ephemeral
        assert "no letters or digits" in result.message.content
        assert "incident" not in result.message.content


async def test_not_found_always_says_what_to_do_next(session: SandboxSession) -> None:
    chapter = await slash(session, "chapter", name="qqqzzzxxx")
    assert chapter.message.ephemeral
    assert "/chapters" in chapter.message.content
    project = await slash(session, "project", name="qqqzzzxxx")
    assert "/projects" in project.message.content
    empty = await slash(session, "projects", words="qqqzzzxxx")
    assert "/projects" in empty.message.embeds[0]["description"]
    near = await slash(session, "projects", words="GoToVoet zzzz")
    assert "Did you mean: GoToVote?" in near.message.embeds[0]["description"]
    chapters = await slash(session, "chapters", country="Japan")
    assert "/chapters" in chapters.message.embeds[0]["description"]


async def test_counts_have_plural_forms(session: SandboxSession) -> None:
    one = await slash(session, "projects", words="GoToVote")
    assert one.message.embeds[0]["footer"]["text"] == "Page 1/1 · 1 result"
    romanian = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "projects", {"words": "GoToVote"}, locale="ro"
    )
    assert romanian.message.embeds[0]["footer"]["text"] == "Pagina 1/1 · 1 rezultat"
    polish = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "projects", {"words": "tools"}, locale="pl"
    )
    count = len(names(polish))
    form = "wyniki" if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14) else "wyników"
    assert count > 1 and polish.message.embeds[0]["footer"]["text"] == f"Strona 1/1 · {count} {form}"


async def test_a_lone_surrogate_is_read_around(session: SandboxSession) -> None:
    words = await slash(session, "projects", words="vote \ud800")
    assert "GoToVote" in names(words)
    topic = await slash(session, "projects", topic="\udfff")
    assert topic.message.ephemeral and "no letters or digits" in topic.message.content
    chapter = await slash(session, "chapter", name="g0v\ud800")
    assert chapter.message.embeds[0]["title"].startswith("g0v")


async def test_a_long_cjk_search_pages(session: SandboxSession) -> None:
    query = "開放政府資料平台與公民科技社群協作工具選舉監督預算視覺化立法院議事追蹤地方議會透明度空氣品質感測器網絡與災害應變開源協作"
    assert len(query) == 60
    batch = ImportBatch(
        projects=tuple(
            ProjectRecord(key=f"g0v/cjk-{i}", chapter="g0v", name=f"專案 {i:02}", description=f"{query} {i}")
            for i in range(15)
        )
    )
    await session.bot.directory.import_batch(batch, actor_name="test")
    first = await slash(session, "projects", words=query, chapter="g0v")
    assert first.message.embeds[0]["footer"]["text"] == "Page 1/2 · 15 results"
    next_button = first.message.buttons[1]
    assert len(next_button["custom_id"]) <= 100
    second = await session.sandbox.click(first.message, next_button["custom_id"], session.member_id)
    assert second.message.embeds[0]["footer"]["text"] == "Page 2/2 · 15 results"
    assert names(second) == [f"專案 {i:02}" for i in range(10, 15)]


async def test_chapters_options_take_what_the_lists_show_and_country_names(session: SandboxSession) -> None:
    governing = await slash(session, "chapters", tier="Governing partner")
    assert "Code for Romania" in names(governing) and "Code for Pakistan" not in names(governing)
    assert names(governing) == names(await slash(session, "chapters", tier="governing"))
    latin = await slash(session, "chapters", region="Latin America")
    assert "Codeando México" in names(latin)
    for country in ("Romania", "România", "RO", "ro"):
        assert names(await slash(session, "chapters", country=country)) == ["Code for Romania"], country
    for country in ("Taiwan", "台灣", "臺灣"):
        assert names(await slash(session, "chapters", country=country)) == ["g0v (Code for Taiwan)"], country


async def test_an_unknown_country_is_a_sentence_with_suggestions(session: SandboxSession) -> None:
    typo = await slash(session, "chapters", country="Romnia")
    assert typo.message.ephemeral
    assert "“Romnia” is not a country I know. Did you mean: Romania" in typo.message.content
    unknown = await slash(session, "chapters", country="ZZ")
    assert unknown.message.ephemeral and "is not a country I know" in unknown.message.content


async def test_country_autocomplete_speaks_the_members_language(session: SandboxSession) -> None:
    choices = await session.sandbox.autocomplete(
        session.guild_id,
        session.channel_id,
        session.member_id,
        "chapters",
        {"country": "臺"},
        focused="country",
        locale="zh-TW",
    )
    assert {"name": "台灣", "value": "TW"} in choices


async def test_the_chart_says_when_it_falls_back_to_english(session: SandboxSession, no_cjk_font: None) -> None:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "network", {}, locale="zh-TW", timeout=10
    )
    assert result.message.attachments
    assert "English" in result.message.content or "英文" in result.message.content


async def test_the_chart_speaks_chinese_without_a_note(session: SandboxSession) -> None:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "network", {}, locale="zh-TW", timeout=10
    )
    assert result.message.attachments and not result.message.content
    english = network_chart(session.bot.directory.overview(), "en-US").png
    assert result.message.attachments[0].data != english


def _old_message(s: SandboxSession, custom_id: str) -> Message:
    """A message the bot posted earlier (another version, another day) with one button of this id."""
    state = s.sandbox.state
    button = {"type": 2, "style": 2, "label": "Next ▶", "custom_id": custom_id}
    message = Message(
        state.next_id(),
        s.channel_id,
        s.guild_id,
        state.bot_id,
        components=[{"type": 1, "components": [button]}],
        application_id=state.application_id,
    )
    return s.sandbox.world.create_message(message)


@pytest.mark.parametrize(
    "custom_id",
    [
        "pg:Projects:1:wdata",  # no listing kind is written in capitals
        "pg:p:١:wdata\nmore",  # the template's "." stops at a new line
        "announce:confirm",  # a preview's button after a restart
        "pg:p:0:x" + "%" * 40,  # each "%" re-encodes as "%25": it no longer fits in Discord's 100 characters
    ],
)
async def test_a_stale_or_forged_button_is_answered_with_a_sentence(
    session: SandboxSession, custom_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    clicked = await session.sandbox.click(_old_message(session, custom_id), custom_id, session.member_id, timeout=2)
    assert clicked.message.ephemeral
    assert clicked.message.content in (
        "This button is no longer valid: run the command again.",
        "This list is no longer available: run the command again.",
    )
    await session.sandbox.settle()
    assert len(clicked.messages) == 1 and not clicked.errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_page_button_is_answered_once(session: SandboxSession) -> None:
    result = await slash(session, "projects")
    following = result.message.buttons[1]["custom_id"]
    clicked = await session.sandbox.click(result.message, following, session.member_id)
    await session.sandbox.settle()
    assert clicked.response_type == 7 and not clicked.record.followup_ids and not clicked.errors
    assert clicked.message.embeds[0]["footer"]["text"].startswith("Page 2/")


async def test_an_upload_that_is_not_yaml_says_where_in_one_sentence(session: SandboxSession) -> None:
    upload = ("chapters.yaml", b"chapters:\n  - key: a\n    name: b: c\n")
    result = await slash(session, "directory import", user=session.organiser_id, file=upload)
    assert result.message.content == (
        "Chapters.yaml is not valid YAML: line 3, column 12: mapping values are not allowed here."
    )


async def test_an_uploaded_file_name_is_shown_as_typed(session: SandboxSession) -> None:
    name, shown = "**x**@everyone.yaml", "\\*\\*x\\*\\*@\u200beveryone.yaml"
    imported = await slash(session, "directory import", user=session.organiser_id, file=(name, b"chapters: []\n"))
    assert imported.message.content.startswith(f"Imported **{shown}**: ")
    refused = await slash(session, "directory import", user=session.organiser_id, file=(name, b"a: ["))
    assert refused.message.content.startswith(f"{shown} is not valid YAML: line 1, column 5: ")
