"""The anchors of a PEP 503 project page, read with the standard library's HTML parser.

A module of its own so that ``html.parser`` is imported only when an index answers with HTML
(PEP 691 JSON is asked for first, and a cached page is kept as its parsed files).
"""

from __future__ import annotations

from html.parser import HTMLParser


class Anchors(HTMLParser):
    """The anchors of a PEP 503 page (attribute values come unescaped), its base and version."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.anchors.append(values)
        elif tag == "base" and self.base is None:
            self.base = values.get("href")
        elif tag == "meta" and values.get("name") == "pypi:repository-version":
            self.api_version = values.get("content")
