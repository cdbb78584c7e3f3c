"""The hostile feed corpus: ingest a file as the bot would, and find anything unsafe in what it would post."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.feeds.parse import NotAFeed, parse_sync
from bot.feeds.render import Post, render

# `shared/` lies beside the project's folder (or beside the folder of its worktrees).
CORPUS = next(
    (
        p / "shared" / "data" / "feeds"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "data" / "feeds").is_dir()
    ),
    Path("shared/data/feeds"),
)
# An HTML tag or comment, or a script link, anywhere in what would be posted.
RAW_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|<!--|<!\[CDATA\[|<\?")
SCRIPT = re.compile(r"(java|vb)script\s*:", re.IGNORECASE)
MASS_MENTION = re.compile(r"@(everyone|here)")
TIMESTAMP = re.compile(r"<t:-?\d+:[tTdDfFR]>")


def corpus_files() -> list[Path]:
    """Every feed document of the corpus, in a stable order."""
    return sorted(CORPUS.rglob("*.xml"))


def ingest(path: Path) -> list[Post]:
    """The posts the entries of one corpus file would make, as an embed and through a template."""
    try:
        parsed = parse_sync(path.read_bytes(), f"https://feeds.example/{path.name}", "application/xml")
    except NotAFeed:
        return []
    posts = []
    for entry in parsed.entries:
        posts.append(render(entry, locale=None, feed_title=parsed.title))
        posts.append(render(entry, locale="ja", template="{title} {link} {author}\n{summary}"))
    return posts


def unsafe(post: Post) -> list[str]:
    """What is wrong with a post: raw HTML, a script link, a mass mention, a link that is not http(s)."""
    problems = []
    text = TIMESTAMP.sub("", (post.content or "") + json.dumps(post.embed or {}, ensure_ascii=False))
    if match := RAW_HTML.search(text):
        problems.append(f"raw HTML {match.group(0)!r}")
    if SCRIPT.search(text):
        problems.append("script link")
    if MASS_MENTION.search(text):
        problems.append("mass mention")
    for key in ("url",):
        value = (post.embed or {}).get(key)
        if value is not None and not str(value).startswith(("http://", "https://")):
            problems.append(f"{key} {value!r}")
    return problems
