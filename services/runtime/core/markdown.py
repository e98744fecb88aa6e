"""Markdown to sanitised HTML: content renders at publish time (so reads serve stored bytes),
the console renders an editor's preview with the same rules.

markdown-it-py (CommonMark) renders, nh3 (ammonia) sanitises: editors may not write raw HTML,
and anything that slips through a renderer bug is stripped to a safe allow-list anyway."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "ul", "ol", "li", "blockquote",
    "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


@cache
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in Markdown is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def to_html(markdown: str) -> str:
    return clean_html(_markdown().render(markdown))


def clean_html(html: str) -> str:
    """HTML cut down to what rendered Markdown may hold: for HTML another service rendered
    and a page embeds (the console shows a draft content rendered)."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def to_text(markdown: str) -> str:
    """Plain text for search: the rendered HTML with every tag removed."""
    return nh3.clean(to_html(markdown), tags=set()).strip()
