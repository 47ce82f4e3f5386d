"""HTML sanitising with Mastodon's allow-list, HTML to text, and text to HTML."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from protocols.html import (
    ALLOWED_TAGS,
    LINK_REL,
    MAX_HTML_LENGTH,
    MAX_TAGS,
    html_to_text,
    sanitize_html,
    stored_html_to_text,
    text_to_html,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img/src/onerror=alert(1)>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="https://ok.example/" title="a"onmouseover=alert(1)>x</a>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    '<base href="javascript:/"><a href="x">x</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<input autofocus onfocus="alert(1)">',
    '<details open ontoggle="alert(1)">x</details>',
    "<template><script>alert(1)</script></template>",
    '<h1 onclick="alert(1)"><a href="javascript:alert(1)">t</a></h1>',
    '<math><semantics><annotation encoding="application/x-tex"><img src=x onerror=alert(1)>'
    "</annotation></semantics></math>",
    '<math><semantics><annotation-xml encoding="text/html"><script>alert(1)</script>'
    "</annotation-xml></semantics></math>",
    '<a href="https://ok.example/"><a href="javascript:alert(1)">nested</a></a>',
    '<p lang="fr&quot; onclick=&quot;alert(1)">x</p>',
    '<span class="mention" style="position:fixed;top:0">overlay</span>',
]

ALLOWED_ATTRIBUTES = {"href", "rel", "class", "translate", "lang", "start", "reversed", "value"}


class _Markup(HTMLParser):
    """Collects every start tag with its attributes, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.tags.append((tag, []))


def assert_only_allowed_markup(output: str) -> None:
    """Every element and attribute is on Mastodon's allow-list; links are http(s)-like."""
    markup = _Markup()
    markup.feed(output)
    markup.close()
    for tag, attrs in markup.tags:
        assert tag in ALLOWED_TAGS, (tag, output)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (name, output)
            if name == "href":
                assert re.match(r"(https?://|mailto:)", value or ""), output


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_html_is_neutralised(hostile: str) -> None:
    output = sanitize_html(hostile)
    assert_only_allowed_markup(output)
    assert "<script" not in output.lower()
    assert sanitize_html(output) == output


def test_script_and_style_content_is_dropped_not_shown() -> None:
    assert sanitize_html("<p>a<script>alert(1)</script>b<style>p{}</style>c</p>") == "<p>abc</p>"
    assert sanitize_html("<svg><title>t</title></svg><iframe>frame</iframe>ok") == "ok"


def test_links_with_other_schemes_become_their_text() -> None:
    """Mastodon replaces such links with their text (UNSUPPORTED_HREF_TRANSFORMER)."""
    assert sanitize_html('<p><a href="javascript:alert(1)">click <b>me</b></a></p>') == (
        "<p>click me</p>"
    )
    assert sanitize_html('<a href="/local/path">relative</a>') == "relative"
    assert sanitize_html('<a href="//evil.example/">protocol-relative</a>') == "protocol-relative"
    for scheme in ("gemini://example.org/", "xmpp:alice@example.org", "ipfs://bafy", "data:,x"):
        assert sanitize_html(f'<a href="{scheme}">other</a>') == "other"
    assert sanitize_html('<a href=" JaVaScRiPt:alert(1)">mixed case</a>') == "mixed case"
    assert sanitize_html('<a href="vbscript:msgbox(1)">vb</a>') == "vb"
    assert sanitize_html('<a name="anchor">no href</a>') == "no href"
    assert sanitize_html('<p>x href="y <a>z</a></p>') == '<p>x href="y z</p>'


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/",
        "http://example.org/",
        "HTTPS://EXAMPLE.ORG/",
        "mailto:a@example.org",
    ],
)
def test_links_with_allowed_schemes_are_kept_with_nofollow(url: str) -> None:
    output = sanitize_html(f'<a href="{url}" rel="me" target="_top">x</a>')
    assert output == f'<a href="{url}" rel="{LINK_REL}">x</a>'


def test_mastodon_mention_is_kept() -> None:
    mention = (
        '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@bob" '
        'class="u-url mention">@<span>bob</span></a></span> bonjour</p>'
    )
    assert sanitize_html(mention) == (
        '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@bob" '
        'class="u-url mention" rel="nofollow noopener">@<span>bob</span></a></span> bonjour</p>'
    )


def test_mastodon_hashtag_is_kept() -> None:
    hashtag = (
        '<a href="https://mastodon.example/tags/mobilite" class="mention hashtag" rel="tag">'
        "#<span>mobilite</span></a>"
    )
    assert sanitize_html(hashtag) == (
        '<a href="https://mastodon.example/tags/mobilite" class="mention hashtag" '
        'rel="nofollow noopener">#<span>mobilite</span></a>'
    )


def test_mastodon_shortened_link_is_kept() -> None:
    link = (
        '<p><a href="https://example.com/a/very/long/path" target="_blank" '
        'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://'
        '</span><span class="ellipsis">example.com/a/very/long/pat</span>'
        '<span class="invisible">h</span></a></p>'
    )
    assert sanitize_html(link) == (
        '<p><a href="https://example.com/a/very/long/path" translate="no" '
        'rel="nofollow noopener"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.com/a/very/long/pat</span>'
        '<span class="invisible">h</span></a></p>'
    )


def test_quote_fallback_and_classes() -> None:
    assert sanitize_html('<p class="quote-inline evil">RE: x</p>') == (
        '<p class="quote-inline">RE: x</p>'
    )
    assert sanitize_html('<span class="p-name h-card dt-published e-content big">x</span>') == (
        '<span class="p-name h-card dt-published e-content">x</span>'
    )
    assert sanitize_html('<span class="evil">x</span>') == "<span>x</span>"
    assert sanitize_html('<b class="mention">x</b>') == "<b>x</b>"


def test_translate_only_as_no_and_lang_everywhere() -> None:
    assert sanitize_html('<span translate="yes" lang="fr">x</span>') == '<span lang="fr">x</span>'
    assert sanitize_html('<em lang="br">x</em>') == '<em lang="br">x</em>'


def test_lists_keep_their_numbering() -> None:
    output = sanitize_html('<ol start="3" reversed type="a"><li value="5" id="x">i</li></ol>')
    assert output == '<ol start="3" reversed=""><li value="5">i</li></ol>'


def test_headings_become_strong_paragraphs() -> None:
    assert sanitize_html('<h1 lang="fr">Titre</h1><h3>sub <em>x</em></h3>') == (
        '<p><strong lang="fr">Titre</strong></p><p><strong>sub <em>x</em></strong></p>'
    )


def test_dropped_elements_keep_their_text() -> None:
    assert sanitize_html("<div><table><tr><td>cell</td></tr></table><sup>2</sup></div>") == (
        "cell2"
    )
    assert sanitize_html("<p>x<hr>y<img src=https://img.example/a.png alt=pic></p>") == (
        "<p>x</p>y<p></p>"
    )


def test_math_becomes_its_tex_annotation() -> None:
    math = (
        '<p>a <math display="block"><semantics><mrow><msup><mi>x</mi><mn>2</mn></msup></mrow>'
        '<annotation encoding="application/x-tex">x^2 &lt; 3</annotation></semantics></math> '
        'b <math><semantics><mi>y</mi><annotation encoding="text/plain">y</annotation>'
        "</semantics></math> c <math><mi>z</mi></math></p>"
    )
    assert sanitize_html(math) == "<p>a $$x^2 &lt; 3$$ b y c </p>"


def test_math_parts_outside_math_are_dropped() -> None:
    for stray in (
        '<annotation encoding="x">t</annotation><semantics>s</semantics>',
        '<p><annotation encoding="application/x-tex">t</annotation></p>',
        '<p>x<semantics lang="fr"><mi>y</mi></semantics></p>',
    ):
        output = sanitize_html(stray)
        assert_only_allowed_markup(output)
        assert "annotation" not in output and "semantics" not in output


def test_entities_survive() -> None:
    assert sanitize_html("<p>a&nbsp;b &amp; &lt;c&gt; é</p>") == "<p>a&nbsp;b &amp; &lt;c&gt; é</p>"


def test_oversized_markup_keeps_only_text_quickly() -> None:
    started = time.perf_counter()
    output = sanitize_html("<div>" * (MAX_TAGS * 10) + "deep")
    assert time.perf_counter() - started < 5
    assert output == "<p>deep</p>"


@pytest.mark.parametrize(
    "costly",
    [
        "&" * (MAX_HTML_LENGTH * 5),  # quadratic in nh3
        "&a" * (MAX_HTML_LENGTH * 2),
        "<!--" * (MAX_TAGS - 1),  # quadratic in html.parser
        "<a" * (MAX_TAGS - 1),
        "<![" * (MAX_TAGS - 1),  # html.parser raises on this
        "<div>" * (MAX_TAGS * 10),
        '<a href="' + " " * (MAX_HTML_LENGTH - 20) + '">x</a>',
    ],
)
def test_costly_input_stays_cheap(costly: str) -> None:
    started = time.perf_counter()
    sanitized = sanitize_html(costly)
    text = html_to_text(costly)
    assert time.perf_counter() - started < 3
    assert_only_allowed_markup(sanitized)
    assert isinstance(text, str)


def test_long_text_around_urls_stays_cheap() -> None:
    started = time.perf_counter()
    html = text_to_html("http://example.org/" + ")" * 50_000 + " " + "http://x." + "." * 50_000)
    assert time.perf_counter() - started < 1
    assert re.findall(r'href="([^"]*)"', html) == ["http://example.org/", "http://x"]


def test_deeply_nested_allowed_markup_does_not_crash() -> None:
    output = sanitize_html("<blockquote><h2><a>" * 3000 + "x")
    assert "x" in output
    assert_only_allowed_markup(output)


# -- html_to_text -------------------------------------------------------------------------


def test_html_to_text_strips_tags_and_decodes_entities() -> None:
    html = "<p>Caf&eacute; &amp; <b>th&eacute;</b> &lt;ok&gt;</p>"
    assert html_to_text(html) == "Café & thé <ok>"


def test_html_to_text_keeps_paragraphs_and_line_breaks() -> None:
    html = "<p>one\n  two</p><p>three<br>four<br/>five</p><ul><li>a</li><li>b</li></ul><h2>t</h2>"
    assert html_to_text(html) == "one two\n\nthree\nfour\nfive\n\na\n\nb\n\nt"


def test_html_to_text_collapses_whitespace() -> None:
    assert html_to_text("  <p>  a \t\n b&nbsp;&nbsp;c  </p>\n\n\n<p></p><p> </p> ") == "a b c"


def test_html_to_text_drops_scripts_and_styles() -> None:
    html = "<p>a<script>alert('<p>x</p>')</script><style>p{}</style>b</p><template>t</template>"
    assert html_to_text(html) == "ab"


def test_html_to_text_rebuilds_mastodon_links() -> None:
    html = (
        '<p>see <a href="https://example.com/a/very/long/path"><span class="invisible">https://'
        '</span><span class="ellipsis">example.com/a/very/long/pat</span>'
        '<span class="invisible">h</span></a></p>'
    )
    assert html_to_text(html) == "see https://example.com/a/very/long/path"


def test_html_to_text_keeps_preformatted_lines() -> None:
    assert html_to_text("<pre>line 1\nline 2</pre><p>after</p>") == "line 1\nline 2\n\nafter"


def test_html_to_text_removes_characters_xml_forbids() -> None:
    assert html_to_text("<p>a\x00b\x1e&#x1f;c\x07</p>") == "abc"


def test_html_to_text_copes_with_broken_markup() -> None:
    assert html_to_text("<p>unclosed <b>bold <i>it") == "unclosed bold it"
    assert html_to_text("a < b > c") == "a < b > c"
    assert html_to_text("") == ""


@pytest.mark.parametrize(
    "fragment",
    [
        *HOSTILE,
        "<p>one\n  two</p><p>three<br>four</p><ul><li>a</li></ul><h2>t</h2><pre>l 1\nl 2</pre>",
        '<p>x <a href="https://example.org/a/b"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.org/a</span><span class="invisible">/b</span></a></p>',
        "<p>a $$<math display=block><semantics><annotation encoding='application/x-tex'>"
        "x^2</annotation></semantics></math> b</p>",
        text_to_html("Réunion jeudi.\nSalle des fêtes\n\nInfos : https://saint-x.example/agenda"),
    ],
)
def test_stored_html_gives_the_text_html_to_text_gives(fragment: str) -> None:
    """What the pages show as text of a stored (sanitised) value, without sanitising it again."""
    stored = sanitize_html(fragment)
    assert stored_html_to_text(stored) == html_to_text(stored) == html_to_text(fragment)


# -- text_to_html -------------------------------------------------------------------------


def test_text_to_html_escapes_and_makes_paragraphs() -> None:
    text = 'Bonjour <b>tout</b> & "tous"\nligne deux\n\n\n  second  \r\nparagraph\n'
    assert text_to_html(text) == (
        '<p>Bonjour &lt;b&gt;tout&lt;/b&gt; &amp; "tous"<br>ligne deux</p>'
        "<p>second<br>paragraph</p>"
    )


def test_text_to_html_of_nothing_is_nothing() -> None:
    assert text_to_html("") == ""
    assert text_to_html(" \n\n \n") == ""


def test_text_to_html_links_bare_urls() -> None:
    html = text_to_html("voir https://example.org/charte.")
    assert html == (
        '<p>voir <a href="https://example.org/charte" translate="no" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span>example.org/charte</span>'
        '<span class="invisible"></span></a>.</p>'
    )


def test_text_to_html_shortens_long_urls_like_mastodon() -> None:
    url = "https://www.example.org/a/very/long/path/that/goes/on?x=1&y=2"
    html = text_to_html(url)
    assert f'href="{url.replace("&", "&amp;")}"' in html
    assert '<span class="invisible">https://www.</span>' in html
    assert '<span class="ellipsis">example.org/a/very/long/path/t</span>' in html
    assert html_to_text(html) == url


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("(see http://example.org/a_(b))", "http://example.org/a_(b)"),
        ("(see http://example.org/a)", "http://example.org/a"),
        ("end: https://example.org/x?y=1!", "https://example.org/x?y=1"),
        ("'https://example.org/q'", "https://example.org/q"),
        ("<https://example.org/>", "https://example.org/"),
    ],
)
def test_text_to_html_trims_punctuation_around_urls(text: str, url: str) -> None:
    assert re.findall(r'href="([^"]*)"', text_to_html(text)) == [url]


def test_text_to_html_does_not_link_other_schemes_or_fragments() -> None:
    assert "<a" not in text_to_html("javascript:alert(1) ftp://example.org xhttps://a.example")
    assert "<a" not in text_to_html("https:// alone")


def test_text_to_html_cannot_inject_markup() -> None:
    text = 'https://example.org/"><script>alert(1)</script> <img src=x onerror=alert(1)>'
    html = text_to_html(text)
    assert "<script" not in html and "<img" not in html
    assert_only_allowed_markup(html)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "a & b < c > d \" ' \xa0 é",
        "voir https://example.org/charte.\nhttps://www.example.org/a/very/long/path?x=1&y=2\n\nfin",
        "line\nbreaks\n\nand paragraphs",
    ],
)
def test_text_to_html_is_stable_under_sanitising(text: str) -> None:
    html = text_to_html(text)
    assert sanitize_html(html) == html


def test_round_trip_text_html_text() -> None:
    text = "Réunion jeudi.\nSalle des fêtes\n\nInfos : https://saint-x.example/agenda"
    assert html_to_text(text_to_html(text)) == text
