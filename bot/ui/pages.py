"""Paginated embeds whose buttons survive restarts: the custom_id carries the query and the page.

A button's custom_id is ``pg:<kind>:<page>:<args>``: each argument is a one-letter name followed by its value as
typed (any script, counted in characters as Discord counts them), arguments separated by ``|``. Only ``|`` and
``%`` are escaped, so a 60-character Chinese query takes 60 characters, not the 540 of percent-encoded UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import discord

from bot.errors import UserError
from bot.errors.reporting import report_error
from bot.i18n import N_, Localeish, number, t, tn
from bot.text import truncate
from bot.types import Interaction
from bot.ui.base import STALE, claim

PER_PAGE = 10
MAX_CUSTOM_ID = 100


@dataclass(frozen=True, slots=True)
class Listing:
    """What a page source returns: a title, one line per item, and what to say when there is none."""

    title: str
    lines: Sequence[str]
    empty: str


Source = Callable[[Any, dict[str, str], Localeish], Listing]
_SOURCES: dict[str, Source] = {}


def register_source(kind: str, source: Source) -> None:
    """Make a listing kind available to page buttons (called by cogs when they load)."""
    _SOURCES[kind] = source


@dataclass(frozen=True, slots=True)
class Page:
    """One rendered page of a listing: its embed (shared: never change it) and where it stands among the pages."""

    kind: str
    args: dict[str, str]
    embed: discord.Embed
    number: int
    pages: int
    previous: str
    following: str

    def view(self) -> discord.ui.View:
        """Its previous/next buttons (none for a single page), new for every message."""
        view = discord.ui.View(timeout=None)
        if self.pages > 1:
            first, last = self.number == 0, self.number == self.pages - 1
            view.add_item(PageButton(self.kind, max(self.number - 1, 0), self.args, self.previous, disabled=first))
            view.add_item(
                PageButton(self.kind, min(self.number + 1, self.pages - 1), self.args, self.following, disabled=last)
            )
        return view


def render_page(kind: str, args: dict[str, str], listing: Listing, page: int, locale: Localeish) -> Page:
    """One page of a listing, `page` counted from 0 and kept within the pages there are."""
    pages = max(1, -(-len(listing.lines) // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = listing.lines[page * PER_PAGE : (page + 1) * PER_PAGE]
    embed = discord.Embed(title=truncate(listing.title, 256), description="\n".join(chunk) or listing.empty)
    embed.set_footer(
        text=tn(
            locale,
            "Page {page}/{pages} · {count} result",
            "Page {page}/{pages} · {count} results",
            len(listing.lines),
            page=page + 1,
            pages=pages,
            count=number(locale, len(listing.lines)),
        )
    )
    return Page(kind, args, embed, page, pages, t(locale, "◀ Previous"), t(locale, "Next ▶"))


def page_view(
    kind: str, args: dict[str, str], listing: Listing, page: int, locale: Localeish
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons for one page of a listing."""
    rendered = render_page(kind, args, listing, page, locale)
    return rendered.embed, rendered.view()


def encode_args(kind: str, args: dict[str, str]) -> str:
    """The arguments as a button id carries them; asks for a shorter query when they cannot fit."""
    if not fits(kind, args):
        raise UserError(N_("That search is too long to page through: please use fewer or shorter words."))
    return _encoded(args)


def fits(kind: str, args: dict[str, str]) -> bool:
    """Whether a button id of any page of this listing has room for these arguments."""
    return len(f"pg:{kind}:00000:{_encoded(args)}") <= MAX_CUSTOM_ID


def _encoded(args: dict[str, str]) -> str:
    return "|".join(f"{name}{_escape(value)}" for name, value in args.items() if value)


def decode_args(encoded: str) -> dict[str, str]:
    """The arguments `encode_args` wrote."""
    return {part[0]: unquote(part[1:]) for part in encoded.split("|") if part}


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace("|", "%7C")


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"pg:(?P<kind>[a-z]+):(?P<page>\d+):(?P<args>.*)"
):
    """A previous/next button; stateless, so it keeps working after a restart.

    A pressed button is rebuilt with the id it came with, which Discord kept within 100 characters; one whose
    arguments would not fit again (forged, or made by another version) is answered as stale, and so is an id
    that does not match the template, by `answer_unclaimed`, since it reaches no button.
    """

    def __init__(
        self,
        kind: str,
        page: int,
        args: dict[str, str],
        label: str,
        *,
        disabled: bool = False,
        custom_id: str | None = None,
    ) -> None:
        self.kind, self.page, self.args = kind, page, args
        custom_id = custom_id or f"pg:{kind}:{page}:{encode_args(kind, args)}"
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled, style=discord.ButtonStyle.secondary)
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        """Rebuild the pressed button from its custom_id, and claim the interaction for it."""
        label = getattr(item, "label", None) or ""
        disabled = bool(getattr(item, "disabled", False))
        args = decode_args(match["args"])
        button = cls(match["kind"], int(match["page"]), args, label, disabled=disabled, custom_id=match.string)
        claim(interaction)
        return button

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Show the requested page in place."""
        try:
            source = _SOURCES.get(self.kind)
            if source is None:
                raise UserError(N_("This list is no longer available: run the command again."))
            if not fits(self.kind, self.args):  # no button of ours: forged, or made by another version
                raise UserError(STALE)
            listing = source(interaction.client, self.args, interaction.locale)
            embed, view = page_view(self.kind, self.args, listing, self.page, interaction.locale)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await report_error(interaction, error, f"page button {self.kind}")
