"""Telegram's HTML parse mode: what is accepted, what is refused, and how text is counted."""

from __future__ import annotations

import contextlib
import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.emulator.html import parse_html, render, utf16_len
from bot.emulator.models import ApiError


def test_visible_text_and_entities() -> None:
    text, entities = parse_html('<b>Bold</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a>')
    assert text == "Bold & link"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 7, "length": 4, "url": "https://x.org/?a=1&b=2"},
    ]


def test_offsets_are_utf16() -> None:
    text, entities = parse_html("😀 <i>x</i>")
    assert text == "😀 x"
    assert entities == [{"type": "italic", "offset": 3, "length": 1}]
    assert utf16_len("😀") == 2


@pytest.mark.parametrize(
    "source",
    [
        "<strong>a</strong><em>b</em><ins>c</ins><s>d</s><strike>e</strike><del>f</del>",
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
        '<pre><code class="language-python">x = 1</code></pre>',
        "<blockquote expandable>q</blockquote><blockquote>r</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "&lt;tag&gt; &quot;q&quot; &#65; &#x42; Tom & Jerry",
        "<B>upper-case tags are fine</B>",
    ],
)
def test_accepted(source: str) -> None:
    parse_html(source)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("a < b", 'Unsupported start tag ""'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
        ("<br/>", 'Unsupported start tag "br"'),
    ],
)
def test_refused_like_telegram(source: str, fragment: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert fragment in caught.value.description


def test_other_parse_modes() -> None:
    assert render("*x*", "MarkdownV2") == ("*x*", [])
    assert render("<b>", None) == ("<b>", [])
    with pytest.raises(ApiError):
        render("x", "bbcode")


@given(st.text(max_size=200))
def test_escaped_text_always_parses_back(raw: str) -> None:
    visible, entities = parse_html(html.escape(raw, quote=False))
    assert visible == raw
    assert entities == []


@given(st.text(alphabet="<>&/abi\"' =;#x", max_size=40))
def test_never_crashes(source: str) -> None:
    with contextlib.suppress(ApiError):
        parse_html(source)
