"""Translations: complete catalogues, safe formatting, valid command localisations, an up-to-date template."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation, locale_str
from discord.app_commands.commands import VALID_SLASH_COMMAND_NAME

from bot import i18n
from bot.i18n import catalogues as translations
from bot.i18n.translator import BotTranslator

REGENERATE = "run `python -m bot.i18n template`, then `python -m bot.i18n update` and translate the new entries"


@pytest.fixture
async def tree() -> AsyncIterator[app_commands.CommandTree[Any]]:
    """The bot's command tree with every cog loaded (a cog that fails to load fails the test)."""
    async with translations.loaded_command_tree() as loaded:
        yield loaded


def _catalogue(locale: str, entries: dict[tuple[str | None, str], str], fuzzy: tuple[str, ...] = ()) -> Catalog:
    catalogue = Catalog(locale=locale, domain=i18n.DOMAIN, fuzzy=False)
    for (context, msgid), text in entries.items():
        catalogue.add(msgid, text, context=context, flags=["fuzzy"] if msgid in fuzzy else [])
    return catalogue


def _only(name: str, catalogue: Catalog) -> Callable[[str], Catalog | None]:
    return lambda wanted: catalogue if wanted == name else None


def test_catalogues_are_complete() -> None:
    assert translations.check_catalogues() == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-TW", "已儲存。"),
        ("ro", "Salvat."),
        ("es-419", "Guardado."),
        ("es-ES", "Guardado."),
        (discord.Locale.brazil_portuguese, "Salvo."),
        ("de", "Gespeichert."),
        ("ja", "保存しました。"),
        ("pl", "Zapisano."),
    ],
)
def test_translates_a_known_message(locale: str | discord.Locale, expected: str) -> None:
    assert i18n.t(locale, "Saved.") == expected


@pytest.mark.parametrize("locale", ["xx", "zh-CN", "en-US", "en-GB", "", None, discord.Locale.french])
def test_other_locales_get_english(locale: str | discord.Locale | None) -> None:
    assert i18n.t(locale, "Saved.") == "Saved."
    assert i18n.t(locale, "A sentence nobody translated, {name}.", name="Ana") == "A sentence nobody translated, Ana."


@pytest.mark.parametrize(
    ("locale", "catalogue"),
    [
        ("es-ES", "es"),
        ("es-419", "es"),
        ("zh-TW", "zh_TW"),
        ("zh_TW", "zh_TW"),
        ("zh-CN", None),
        ("zh-Hant-HK", "zh_TW"),
        ("zh-Hans-HK", None),
        ("pt-PT", "pt_BR"),
        ("pt-BR", "pt_BR"),
        ("ro", "ro"),
        ("de", "de"),
        ("en-US", None),
        ("en-GB", None),
        ("xx", None),
        (discord.Locale.japanese, "ja"),
    ],
)
def test_catalogue_for_discord_locales(locale: str | discord.Locale, catalogue: str | None) -> None:
    assert i18n.catalogue_for(locale) == catalogue
    for supported in i18n.SUPPORTED:
        assert supported in {member.value for member in discord.Locale}


def test_placeholders_are_formatted() -> None:
    assert i18n.t("de", "Edit {name}", name="g0v") == "g0v bearbeiten"
    assert i18n.t("en-US", "Edit {name}", name="g0v") == "Edit g0v"
    assert i18n.t("ja", "No {what} matches “{query}”.", what=i18n.t("ja", "chapter"), query="x") == (
        "「x」に一致する支部はありません。"
    )


@pytest.mark.parametrize(
    "broken",
    ["{nom} bearbeiten", "{name} bearbeiten {name", "{name!x} bearbeiten", "{name} {extra} bearbeiten"],
)
def test_a_broken_translation_falls_back_to_english(monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    monkeypatch.setattr(i18n, "load_catalogue", _only("de", _catalogue("de", {(None, "Edit {name}"): broken})))
    assert i18n.t("de", "Edit {name}", name="g0v") == "Edit g0v"


def test_fuzzy_and_empty_entries_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = _catalogue("de", {(None, "Saved."): "Gespeichert.", (None, "Name"): ""}, fuzzy=("Saved.",))
    monkeypatch.setattr(i18n, "load_catalogue", _only("de", catalogue))
    assert i18n.t("de", "Saved.") == "Saved."
    assert i18n.t("de", "Name") == "Name"


def test_missing_parameters_do_not_raise() -> None:
    assert i18n.t("de", "Edit {name}") == "Edit {name}"


def test_numbers_and_dates_are_local() -> None:
    assert i18n.number("de", 1234.5) == "1.234,5"
    assert i18n.number("xx", 1234.5) == "1,234.5"
    assert i18n.date("ja", dt.date(2024, 3, 5), "long") == "2024年3月5日"
    assert i18n.date("ja", dt.date(2024, 3, 5)) == "2024/03/05"
    assert i18n.date("pt-BR", dt.date(2024, 3, 5), "long") == "5 de março de 2024"
    noon = dt.datetime(2024, 3, 5, 12, 0, tzinfo=dt.UTC)
    assert i18n.date("zh-TW", noon, "long", tzinfo=dt.UTC).startswith("2024年3月5日")


def _context(location: Any) -> Any:
    return TranslationContext(location=location, data=None)


async def test_translator_returns_valid_names_and_rejects_invalid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    translator = BotTranslator()
    name, option, description = (
        _context(TranslationContextLocation.command_name),
        _context(TranslationContextLocation.parameter_name),
        _context(TranslationContextLocation.command_description),
    )
    assert await translator.translate(locale_str("chapter"), discord.Locale.spain_spanish, name) == "capitulo"
    assert await translator.translate(locale_str("chapter"), discord.Locale.latin_american_spanish, name) == "capitulo"
    assert await translator.translate(locale_str("chapter"), discord.Locale.taiwan_chinese, name) == "分會"
    assert await translator.translate(locale_str("chapter"), discord.Locale.chinese, name) is None
    assert await translator.translate(locale_str("chapter"), discord.Locale.french, name) is None
    assert await translator.translate(locale_str("Chapter"), discord.Locale.german, description) == "Kapitel"
    entries = {
        (i18n.COMMAND_NAME, "chapter"): "Kapitel Zeigen",
        (i18n.OPTION_NAME, "name"): "n" * 33,
        (None, "Show a chapter of the network"): "x" * 101,
    }
    monkeypatch.setattr(i18n, "load_catalogue", _only("de", _catalogue("de", entries)))
    assert await translator.translate(locale_str("chapter"), discord.Locale.german, name) is None
    assert await translator.translate(locale_str("name"), discord.Locale.german, option) is None
    assert (
        await translator.translate(locale_str("Show a chapter of the network"), discord.Locale.german, description)
        is None
    )


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("kapitel", True),
        ("支部一覧", True),
        ("add-chapter", True),
        ("Kapitel", False),
        ("two words", False),
        ("", False),
        ("a" * 33, False),
    ],
)
def test_valid_name_follows_discord(text: str, valid: bool) -> None:
    assert i18n.valid_name(text) is valid
    assert (VALID_SLASH_COMMAND_NAME.match(text) is not None and text == text.lower()) is valid


def _check_names(items: list[dict[str, Any]], where: str) -> None:
    """Localised names are valid and unique among siblings, in every locale."""
    per_locale: dict[str, Counter[str]] = {}
    for item in items:
        for locale, localised in item.get("name_localizations", {}).items():
            assert VALID_SLASH_COMMAND_NAME.match(localised) and localised == localised.lower(), (locale, localised)
            per_locale.setdefault(locale, Counter())[localised] += 1
        for locale, localised in item.get("description_localizations", {}).items():
            assert 1 <= len(localised) <= 100, (locale, localised)
        for choice in item.get("choices", []):
            assert all(1 <= len(text) <= 100 for text in choice.get("name_localizations", {}).values())
        _check_names(item.get("options", []), f"{where} {item['name']}")
    for locale, counts in per_locale.items():
        assert [n for n, c in counts.items() if c > 1] == [], f"duplicate {locale} names in {where or 'the tree'}"


async def test_translated_command_payload_is_valid(tree: app_commands.CommandTree[Any]) -> None:
    translator = BotTranslator()
    payload = [await command.get_translated_payload(tree, translator) for command in tree.get_commands()]
    _check_names(payload, "")
    localised = {locale for command in payload for locale in command["name_localizations"]}
    assert localised == {"zh-TW", "ro", "es-ES", "es-419", "pl", "pt-BR", "de", "ja"}
    for context, text in translations.command_messages(tree):
        for locale in ("zh-TW", "ro", "es-ES", "pl", "pt-BR", "de", "ja"):
            assert i18n.translation(locale, text, context), f"{locale}: {context or ''} {text!r} untranslated"


def test_extraction_finds_marked_literals(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text(
        "from bot import i18n\nfrom bot.i18n import N_, t\n\n"
        "LABELS = {'a': N_('Marked')}\n\n"
        "def reply(locale, name, key):\n"
        "    first = t(locale, 'Hello {name}', name=name)\n"
        "    second = i18n.t(locale, 'Dotted')\n"
        "    dynamic = t(locale, LABELS[key])\n"
        "    again = t(locale, 'Hello {name}', name='x')\n"
        "    formatted = t(locale, f'not {name} extracted')\n"
        "    return first + second + dynamic + again + formatted\n",
        encoding="utf-8",
    )
    assert translations.extract_messages([tmp_path]) == [(None, "Marked"), (None, "Hello {name}"), (None, "Dotted")]


async def test_written_template_holds_the_command_tree(tree: app_commands.CommandTree[Any], tmp_path: Path) -> None:
    path = tmp_path / "bot.pot"
    translations.write_template(path, tree, roots=[])
    written = [(m.context, m.id) for m in translations.read_template(path) if m.id]
    assert written == translations.command_messages(tree)
    assert (i18n.COMMAND_NAME, "chapter") in written
    assert (i18n.OPTION_NAME, "chapter") in written


async def test_committed_template_matches_the_sources(tree: app_commands.CommandTree[Any]) -> None:
    expected = set(translations.template_messages(tree))
    committed = [m for m in translations.read_template() if m.id]
    missing = expected - {(m.context, m.id) for m in committed}
    assert not missing, f"bot.pot lacks {sorted(missing, key=str)}: {REGENERATE}"
    root = translations.SOURCE_ROOTS[0].parent
    marked = {
        path.relative_to(root).as_posix() for _, path, _ in translations._source_messages(translations.SOURCE_ROOTS)
    }
    # An entry whose files do not mark any string yet is waiting for them to call t(); any other must be used.
    stale = [
        (m.context, m.id)
        for m in committed
        if (m.context, m.id) not in expected and all(path in marked for path, _ in m.locations)
    ]
    assert not stale, f"bot.pot has entries no longer used: {stale}: {REGENERATE}"


def test_check_catalogues_reports_every_kind_of_problem(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    template = _catalogue(
        "en",
        {
            (None, "Edit {name}"): "",
            (None, "Saved."): "",
            (None, "Name"): "",
            (None, "Links"): "",
            (i18n.COMMAND_NAME, "chapter"): "",
        },
    )
    catalogue = _catalogue(
        "de",
        {
            (None, "Edit {name}"): "{nom} bearbeiten",
            (None, "Saved."): "Gespeichert.",
            (None, "Name"): "",
            (i18n.COMMAND_NAME, "chapter"): "Kapitel",
            (None, "Gone"): "Weg",
        },
        fuzzy=("Saved.",),
    )
    for path, content in ((tmp_path / "bot.pot", template), (tmp_path / "de" / "LC_MESSAGES" / "bot.po", catalogue)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, content)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    problems = "\n".join(translations.check_catalogues(["de", "ro"], tmp_path / "bot.pot"))
    for expected in (
        "placeholders ['nom']",
        "'Saved.' is fuzzy",
        "'Name' is not translated",
        "'Links' is missing",
        "not a valid Discord name",
        "'Gone' is not in the template",
        "ro: no catalogue",
    ):
        assert expected in problems


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        ("en-US", 1, "Page 1/1 · 1 result"),
        ("en-US", 2, "Page 1/1 · 2 results"),
        ("ro", 1, "Pagina 1/1 · 1 rezultat"),
        ("ro", 2, "Pagina 1/1 · 2 rezultate"),
        ("ro", 20, "Pagina 1/1 · 20 de rezultate"),
        ("pl", 3, "Strona 1/1 · 3 wyniki"),
        ("pl", 5, "Strona 1/1 · 5 wyników"),
        ("pl", 22, "Strona 1/1 · 22 wyniki"),
        ("de", 1, "Seite 1/1 · 1 Ergebnis"),
        ("ja", 1, "1/1 ページ · 1 件"),
        ("ja", 7, "1/1 ページ · 7 件"),
    ],
)
def test_counts_take_the_languages_plural_forms(locale: str, count: int, expected: str) -> None:
    singular, plural = "Page {page}/{pages} · {count} result", "Page {page}/{pages} · {count} results"
    assert i18n.tn(locale, singular, plural, count, page=1, pages=1, count=count) == expected


def test_extraction_finds_plural_sentences(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text(
        "from bot.i18n import tn\n\ndef reply(locale, n):\n"
        "    return tn(locale, '{count} result', '{count} results', n, count=n)\n",
        encoding="utf-8",
    )
    assert translations.extract_messages([tmp_path]) == [(None, ("{count} result", "{count} results"))]


def test_a_plural_entry_needs_every_form_of_the_language(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    entry = 'msgid "{count} result"\nmsgid_plural "{count} results"\n'
    header = 'msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n"Plural-Forms: {forms}\\n"\n\n'
    (tmp_path / "bot.pot").write_text(
        header.format(lang="en", forms="nplurals=2; plural=(n != 1);") + entry + 'msgstr[0] ""\nmsgstr[1] ""\n'
    )
    ro = tmp_path / "ro" / "LC_MESSAGES" / "bot.po"
    ro.parent.mkdir(parents=True)
    forms = "nplurals=3; plural=(n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2);"
    ro.write_text(header.format(lang="ro", forms=forms) + entry + 'msgstr[0] "{count} rezultat"\nmsgstr[1] "{n} x"\n')
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    assert translations.check_catalogues(["ro"], tmp_path / "bot.pot") == [
        "ro: ('{count} result', '{count} results') needs 3 translated plural forms"
    ]
