"""HTML in federated content: sanitise it like Mastodon, turn it into text, make it from text.

Every HTML field that comes from a remote server or a local user (content, summary, name,
profile fields) goes through ``sanitize_html`` before it is stored or shown. It applies
Mastodon's allow-list (``lib/sanitize_ext/sanitize_config.rb``, reference/interop.md 3.7) with
nh3, the Ammonia sanitiser, so that what we show matches what Mastodon users see:

- elements ``p br span a del s pre blockquote code b strong u i em ul ol li ruby rt rp``;
  ``h1``-``h6`` become ``<p><strong>``; ``<math>`` becomes its TeX annotation (FEP-dc88);
- attributes ``lang`` everywhere, ``a[href rel class translate]``, ``span[class translate]``,
  ``ol[start reversed]``, ``li[value]``, ``p[class]``; ``translate`` only as ``"no"``;
- classes: microformats (``h-* p-* u-* dt-* e-*``), ``mention hashtag ellipsis invisible
  quote-inline``;
- links only for the schemes in LINK_SCHEMES (http, https, mailto: stricter than
  Mastodon's list, which also keeps gemini:, xmpp:, magnet:...); any other link (relative,
  ``javascript:``, ``data:``, missing ``href``) becomes its text; every link gets
  ``rel="nofollow noopener"`` (``target="_blank"`` is left to the page that shows the HTML).

nh3 always has the last word: the small rewrite done in Python (headings, link unwrapping,
math) runs between two nh3 passes, so a mistake there cannot let markup through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS: frozenset[str] = frozenset(
    {"p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i"}
    | {"em", "ul", "ol", "li", "ruby", "rt", "rp"}
)
"""Elements kept, as Mastodon's MASTODON_STRICT config."""

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"lang"}),
    "a": frozenset({"href", "class", "translate"}),
    "span": frozenset({"class", "translate"}),
    "ol": frozenset({"start", "reversed"}),
    "li": frozenset({"value"}),
    "p": frozenset({"class"}),
}
"""Attributes kept per element (``*``: on every element); ``rel`` is always replaced."""

LINK_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
"""URL schemes a link may keep; other links become text. Only schemes every browser opens
as a page or a mail: Mastodon's LINK_PROTOCOLS also keeps dat, ipfs, xmpp, magnet, gemini...,
which hand the visitor to whatever application claims them."""

LINK_REL = "nofollow noopener"
"""The ``rel`` every link gets, whatever it had."""

MAX_TAGS = 10_000
"""Above this many ``<``, markup is reduced to its text without being parsed: deeply nested
markup makes HTML parsing quadratic (100,000 nested ``<div>`` take about 18 s in nh3)."""

MAX_HTML_LENGTH = 100_000
"""Above this many characters, likewise: nh3 is quadratic on long runs of bare ``&``
(500,000 of them take about 2 s). A long article is well under this."""

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# What Sanitize (Mastodon's sanitiser) drops with its content by default; math is handled.
_DROPPED_WITH_CONTENT = frozenset(
    {"iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "svg", "xmp"}
)
_ALLOWED_CLASS = re.compile(
    r"(?:h|p|u|dt|e)-.*|mention|hashtag|ellipsis|invisible|quote-inline", re.S
)
_CLASS_SEPARATOR = re.compile(r"[\t\n\f\r ]+")
# The scheme of a link, if it has one (RFC 3986 syntax; nh3 hands over decoded values).
_URL_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# Elements only the first pass keeps: where they appear, the rewrite and final pass must run.
_NEEDS_REWRITE = re.compile(r"<(?:h[1-6]|math|semantics|annotation)[\s>/]")
_LINK_START_TAG = re.compile(r"<a(?=[\s>])[^>]*>")
# Characters XML 1.0 forbids (Atom feeds) and that have no business in text anyway.
_FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """nh3 attribute callback: Mastodon's class, translate and link-scheme rules."""
    if attribute == "class":
        kept = [name for name in _CLASS_SEPARATOR.split(value) if _ALLOWED_CLASS.fullmatch(name)]
        return " ".join(kept) or None
    if attribute == "translate":
        return value if value == "no" else None
    if attribute == "href":
        scheme = _URL_SCHEME.match(value.lstrip())
        return value if scheme and scheme.group(1).lower() in LINK_SCHEMES else None
    return value


def _cleaner(
    tags: frozenset[str],
    attributes: dict[str, frozenset[str]],
    dropped: frozenset[str] = _DROPPED_WITH_CONTENT,
) -> Callable[[str], str]:
    """An nh3 pass with Mastodon's rules over the given elements and attributes."""
    tag_set = set(tags)
    dropped_set = set(dropped)
    attribute_map = {name: set(allowed) for name, allowed in attributes.items()}
    schemes = set(LINK_SCHEMES)

    def clean(fragment: str) -> str:
        return nh3.clean(
            fragment,
            tags=tag_set,
            clean_content_tags=dropped_set,
            attributes=attribute_map,
            attribute_filter=_filter_attribute,
            strip_comments=True,
            link_rel=LINK_REL,
            url_schemes=schemes,
        )

    return clean


# First pass: also keeps headings and math, which _Rewriter then turns into allowed markup.
_first_pass = _cleaner(
    ALLOWED_TAGS | _HEADINGS | {"math", "semantics", "annotation"},
    {**ALLOWED_ATTRIBUTES, "math": frozenset({"display"}), "annotation": frozenset({"encoding"})},
)
_final_pass = _cleaner(ALLOWED_TAGS, ALLOWED_ATTRIBUTES)


class _MathText:
    """Collects one ``<math>`` element and gives the text Mastodon shows for it."""

    def __init__(self, display: str | None) -> None:
        self.block = display == "block"
        self.depth = 1
        self.annotations: dict[str, str] = {}
        self._encoding: str | None = None
        self._text: list[str] = []

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note an element opened inside the math."""
        if tag == "math":
            self.depth += 1
        elif tag == "annotation":
            self._encoding = dict(attrs).get("encoding") or ""
            self._text = []

    def end(self, tag: str) -> None:
        """Note an element closed inside the math."""
        if tag == "math":
            self.depth -= 1
        elif tag == "annotation" and self._encoding is not None:
            self.annotations.setdefault(self._encoding, "".join(self._text))
            self._encoding = None

    def data(self, text: str) -> None:
        """Keep text only when it belongs to an annotation."""
        if self._encoding is not None:
            self._text.append(text)

    def result(self) -> str:
        """TeX in ``$…$`` (``$$…$$`` for display math), else plain text, else nothing."""
        tex = self.annotations.get("application/x-tex")
        if tex is not None:
            return f"$${tex}$$" if self.block else f"${tex}$"
        return self.annotations.get("text/plain", "")


class _Rewriter(HTMLParser):
    """Rewrites nh3's output: headings to ``<p><strong>``, bad links to text, math to TeX."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._unwrapping = 0
        self._math: _MathText | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._math is not None:
            self._math.start(tag, attrs)
        elif tag == "math":
            self._math = _MathText(dict(attrs).get("display"))
        elif self._unwrapping:
            self._unwrapping += tag == "a"
        elif tag == "a" and not any(name == "href" for name, _ in attrs):
            self._unwrapping = 1
        elif tag in _HEADINGS:
            self.out.append("<p>" + _start_tag("strong", attrs))
        else:
            self.out.append(_start_tag(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if self._math is not None:
            self._math.end(tag)
            if self._math.depth == 0:
                self.out.append(html.escape(self._math.result(), quote=False))
                self._math = None
        elif self._unwrapping:
            self._unwrapping -= tag == "a"
        elif tag in _HEADINGS:
            self.out.append("</strong></p>")
        elif tag != "br":
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._math is not None:
            self._math.data(data)
        else:
            self.out.append(html.escape(data, quote=False))


def _start_tag(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    """Serialise a start tag, escaping attribute values."""
    rendered = "".join(f' {name}="{html.escape(value or "", quote=True)}"' for name, value in attrs)
    return f"<{tag}{rendered}>"


def _too_costly(fragment: str) -> bool:
    """Whether parsing ``fragment`` could cost more than a real post ever needs."""
    return len(fragment) > MAX_HTML_LENGTH or fragment.count("<") > MAX_TAGS


def _needs_rewrite(cleaned: str) -> bool:
    """Whether nh3's first-pass output holds a heading, math or a link without href."""
    if _NEEDS_REWRITE.search(cleaned):
        return True
    # nh3 escapes '"' inside attribute values, so ' href="' can only be the attribute itself.
    return any(' href="' not in tag for tag in _LINK_START_TAG.findall(cleaned))


def sanitize_html(fragment: str) -> str:
    """Make untrusted HTML safe to store and show, keeping what Mastodon keeps.

    See the module docstring for the rules. Markup longer than MAX_HTML_LENGTH or with
    more than MAX_TAGS tags is reduced to its text, to bound the parsing cost an attacker
    can cause.
    """
    if _too_costly(fragment):
        return text_to_html(_crude_text(fragment), linkify=False)
    cleaned = _first_pass(fragment)
    if not _needs_rewrite(cleaned):
        return cleaned
    rewriter = _Rewriter()
    rewriter.feed(cleaned)
    rewriter.close()
    return _final_pass("".join(rewriter.out))


# -- HTML to text -------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt"}
    | {"figcaption", "figure", "footer", "header", "hr", "li", "main", "nav", "ol", "p", "pre"}
    | {"section", "summary", "table", "tr", "ul"}
    | _HEADINGS
)
_PARAGRAPH = "\x1e"  # markers; _FORBIDDEN_CHARACTERS removes them from the text itself
_LINE = "\x1f"
_WHITESPACE = re.compile(r"\s+")
_CRUDE_TAG = re.compile(r"<[^<>]*>")

# Raw HTML never reaches html.parser, which is quadratic on some malformed input (and
# raises on some): nh3 first turns it into well-formed markup that keeps only structure.
_structure_pass = _cleaner(
    _BLOCK_TAGS | {"br", "math", "semantics", "annotation"},
    {"math": frozenset({"display"}), "annotation": frozenset({"encoding"})},
    dropped=_DROPPED_WITH_CONTENT | {"head", "object", "template", "textarea", "title"},
)


class _TextExtractor(HTMLParser):
    """Collects the text of nh3-normalised HTML with paragraph and line-break markers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pre = 0
        self._math: _MathText | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._math is not None:
            self._math.start(tag, attrs)
        elif tag == "math":
            self._math = _MathText(dict(attrs).get("display"))
        elif tag == "br":
            self.parts.append(_LINE)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARAGRAPH)
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._math is not None:
            self._math.end(tag)
            if self._math.depth == 0:
                self.parts.append(self._math.result())
                self._math = None
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARAGRAPH)
            if tag == "pre" and self._pre:
                self._pre -= 1

    def handle_data(self, data: str) -> None:
        data = _FORBIDDEN_CHARACTERS.sub("", data)
        if self._math is not None:
            self._math.data(data)
        elif self._pre:
            self.parts.append(data.replace("\r\n", "\n").replace("\n", _LINE))
        else:
            self.parts.append(_WHITESPACE.sub(" ", data))


def _crude_text(fragment: str) -> str:
    """Text of markup too large to parse: tags cut out by pattern, entities decoded.

    Linear in the input whatever it holds (``<[^<>]*>`` never rescans), which is all that
    matters for a document built to be expensive.
    """
    text = html.unescape(_CRUDE_TAG.sub(" ", fragment))
    return _WHITESPACE.sub(" ", _FORBIDDEN_CHARACTERS.sub("", text)).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, for summaries, Atom titles and search.

    Tags are dropped (with the content of script, style and the like), entities decoded,
    whitespace collapsed; paragraphs and other blocks are separated by a blank line and
    ``<br>`` gives a line break. Characters that XML forbids are removed. Markup longer
    than MAX_HTML_LENGTH or with more than MAX_TAGS tags gives its text on one line.
    """
    if _too_costly(fragment):
        return _crude_text(fragment)
    return _extracted_text(_structure_pass(fragment))


def stored_html_to_text(fragment: str) -> str:
    """``html_to_text`` of HTML that ``sanitize_html`` or ``text_to_html`` made (what the
    node stores), for pages that show it as text: the same text, without the nh3 pass.

    That pass only makes hostile markup well-formed before html.parser reads it; what the
    node stores already is, so the pages do not sanitise again on every view.
    """
    if _too_costly(fragment):
        return _crude_text(fragment)
    return _extracted_text(fragment)


def _extracted_text(normalised: str) -> str:
    """The text of well-formed HTML, blocks separated by a blank line (html_to_text)."""
    extractor = _TextExtractor()
    extractor.feed(normalised)
    extractor.close()
    paragraphs = []
    for paragraph in "".join(extractor.parts).split(_PARAGRAPH):
        lines = [line.strip() for line in paragraph.split(_LINE)]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


# -- text to HTML -------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n\s*\n")
_BARE_URL = re.compile(r"(?<![\w@/.:])https?://[^\s<>\"'`]+", re.I)
_URL_PREFIX = re.compile(r"https?://(?:www\.)?", re.I)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"
_CLOSING_BRACKETS = {")": "(", "]": "[", "}": "{"}
_SHOWN_URL_LENGTH = 30


def _trim_url(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the URL (and unmatched brackets)."""
    closed = {bracket: url.count(bracket) for bracket in _CLOSING_BRACKETS}
    opened = {bracket: url.count(opening) for bracket, opening in _CLOSING_BRACKETS.items()}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING_PUNCTUATION:
            end -= 1
        elif last in closed and closed[last] > opened[last]:
            closed[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _link(url: str) -> str:
    """Mastodon's link markup: scheme hidden, long URLs cut after 30 characters with an ellipsis."""
    prefix = _URL_PREFIX.match(url)
    shown_from = prefix.end() if prefix else 0
    rest = url[shown_from:]
    shown, hidden = rest[:_SHOWN_URL_LENGTH], rest[_SHOWN_URL_LENGTH:]
    shown_class = ' class="ellipsis"' if hidden else ""
    return (
        f'<a href="{_escape_text(url, attribute=True)}" translate="no" rel="{LINK_REL}">'
        f'<span class="invisible">{_escape_text(url[:shown_from])}</span>'
        f"<span{shown_class}>{_escape_text(shown)}</span>"
        f'<span class="invisible">{_escape_text(hidden)}</span></a>'
    )


def _escape_text(text: str, *, attribute: bool = False) -> str:
    """Escape as nh3 serialises, so that our own markup is stable under sanitize_html."""
    escaped = text.replace("&", "&amp;").replace("\xa0", "&nbsp;")
    escaped = escaped.replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace('"', "&quot;") if attribute else escaped


def _linkify(line: str) -> str:
    """Escape one line of text, turning bare http(s) URLs into links."""
    out: list[str] = []
    position = 0
    for match in _BARE_URL.finditer(line):
        url = _trim_url(match.group(0))
        if _URL_PREFIX.fullmatch(url) or "://" not in url:
            continue
        out.append(_escape_text(line[position : match.start()]))
        out.append(_link(url))
        position = match.start() + len(url)
    out.append(_escape_text(line[position:]))
    return "".join(out)


def text_to_html(text: str, *, linkify: bool = True) -> str:
    """HTML for plain text written by a user: escaped, in paragraphs, with links.

    Blank lines separate ``<p>`` paragraphs, single newlines become ``<br>``, and bare
    http(s) URLs become links in Mastodon's shortened form (what its clients expect).
    The result is already safe: sanitize_html leaves it unchanged.
    """
    text = _FORBIDDEN_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = []
    for paragraph in _BLANK_LINE.split(text):
        lines = [line.strip() for line in paragraph.strip().split("\n")]
        if not any(lines):
            continue
        render = _linkify if linkify else _escape_text
        paragraphs.append("<p>" + "<br>".join(render(line) for line in lines) + "</p>")
    return "".join(paragraphs)
