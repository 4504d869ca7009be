"""HTML-only mail (webmail, mobile clients) to plain text, with quoted history dropped.

Clients wrap the quoted conversation in <blockquote> or a gmail_quote div; both
are skipped, as are scripts and styles.
"""

from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "blockquote"}
_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
_QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "divrplyfwdmsg", "yahoo_quoted", "appendonsend")
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr", "source"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: does it hide its content?
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")
        if tag in _VOID:
            return
        marker = " ".join(
            f"{value or ''}" for name, value in attrs if name in ("class", "id")
        ).lower()
        hides = tag in _SKIP or any(cls in marker for cls in _QUOTE_CLASSES)
        self.stack.append(hides)
        self.hidden += hides

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.stack:
            return
        self.hidden -= self.stack.pop()
        if tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: keep what was read
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
