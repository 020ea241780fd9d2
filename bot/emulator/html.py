"""Telegram's HTML parse mode, strict enough to catch what Telegram rejects.

:func:`parse_html` returns the visible text and the message entities (offsets and
lengths in UTF-16 code units, as the Bot API reports them), or raises an
:class:`ApiError` worded like Telegram's ``Bad Request: can't parse entities: ...``.

Accepted tags: b strong i em u ins s strike del a[href] code pre (``<pre><code
class="language-x">``) span[class=tg-spoiler] tg-spoiler blockquote[expandable] tg-emoji.
Accepted entities: ``&lt; &gt; &amp; &quot;`` and numeric ``&#NN; &#xHH;``. An entity-shaped
sequence with an unknown name (``&nbsp;``) or an invalid number is rejected; a lone ``&``
not followed by ``name;`` is kept literally, as Telegram does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.emulator.models import JSON, ApiError, bad_request

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_NAME_CHARS = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]*")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def _error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    attrs: dict[str, str] = field(default_factory=dict)


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 units emitted so far
        self.stack: list[_Open] = []
        self.entities: list[JSON] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def run(self) -> tuple[str, list[JSON]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "<":
                self.tag()
            elif char == "&":
                self.entity()
            else:
                nxt = min(
                    (i for i in (src.find("<", self.pos), src.find("&", self.pos)) if i != -1),
                    default=len(src),
                )
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise _error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def entity(self) -> None:
        match = _ENTITY_RE.match(self.src, self.pos)
        if match is None:  # a lone "&": Telegram keeps it literally
            self.emit("&")
            self.pos += 1
            return
        body = match.group(1)
        if body.startswith("#"):
            digits = body[1:]
            try:
                code = int(digits[1:], 16) if digits[:1] in {"x", "X"} else int(digits)
                char = chr(code)
            except (ValueError, OverflowError):
                raise _error(
                    f'Unsupported HTML entity "{match.group(0)}" at byte offset '
                    f"{self.byte_offset(self.pos)}"
                ) from None
            if code == 0 or 0xD800 <= code <= 0xDFFF:
                raise _error(f"Invalid HTML entity at byte offset {self.byte_offset(self.pos)}")
        else:
            if body.lower() not in _NAMED:
                raise _error(
                    f'Unsupported HTML entity "{match.group(0)}" at byte offset '
                    f"{self.byte_offset(self.pos)}"
                )
            char = _NAMED[body.lower()]
        self.emit(char)
        self.pos = match.end()

    def tag(self) -> None:
        begin = self.pos
        src = self.src
        if src.startswith("</", begin):
            name_match = _NAME_CHARS.match(src, begin + 2)
            assert name_match is not None  # noqa: S101 - the pattern matches the empty string
            name = name_match.group(0).lower()
            close = src.find(">", name_match.end())
            if close == -1 or src[name_match.end() : close].strip():
                raise _error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
            if not self.stack:
                raise _error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
            top = self.stack[-1]
            if name != top.tag:
                raise _error(
                    f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            self.stack.pop()
            self.close_entity(top)
            self.pos = close + 1
            return
        name_match = _NAME_CHARS.match(src, begin + 1)
        assert name_match is not None  # noqa: S101
        name = name_match.group(0).lower()
        if name not in _ENTITY_TYPES:
            raise _error(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        attrs, end = self.attributes(name_match.end(), begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _error('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_Open(name, self.out_len, attrs))
        self.pos = end

    def attributes(self, index: int, begin: int) -> tuple[dict[str, str], int]:
        src = self.src
        attrs: dict[str, str] = {}
        while True:
            while index < len(src) and src[index].isspace():
                index += 1
            if index >= len(src):
                raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[index] == ">":
                return attrs, index + 1
            if src.startswith("/>", index):
                raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            name_match = _ATTR_NAME.match(src, index)
            assert name_match is not None  # noqa: S101
            attr = name_match.group(0).lower()
            if not attr:
                raise _error(f"Empty attribute name at byte offset {self.byte_offset(index)}")
            index = name_match.end()
            value = ""
            if index < len(src) and src[index] == "=":
                index += 1
                if index < len(src) and src[index] in "\"'":
                    quote = src[index]
                    close = src.find(quote, index + 1)
                    if close == -1:
                        raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                    value = src[index + 1 : close]
                    index = close + 1
                else:
                    start = index
                    while index < len(src) and not src[index].isspace() and src[index] != ">":
                        index += 1
                    value = src[start:index]
                value = _ENTITY_RE.sub(lambda m: _NAMED.get(m.group(1).lower(), m.group(0)), value)
            attrs[attr] = value

    def close_entity(self, opened: _Open) -> None:
        length = self.out_len - opened.start
        if length <= 0:
            return
        kind = _ENTITY_TYPES[opened.tag]
        entity: JSON = {"type": kind, "offset": opened.start, "length": length}
        if kind == "text_link":
            href = opened.attrs.get("href", "")
            if not href:
                return
            entity["url"] = href
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
        elif kind == "blockquote" and "expandable" in opened.attrs:
            entity["type"] = "expandable_blockquote"
        elif kind == "code":
            outer = self.stack[-1] if self.stack else None
            language = opened.attrs.get("class", "")
            if outer is not None and outer.tag == "pre" and outer.start == opened.start:
                if language.startswith("language-"):
                    outer.attrs["language"] = language.removeprefix("language-")
                return  # <pre><code> is one pre entity
        elif kind == "pre" and opened.attrs.get("language"):
            entity["language"] = opened.attrs["language"]
        self.entities.append(entity)


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Visible text and entities of an HTML-formatted message, or ApiError(400)."""
    return _Parser(text).run()


def render(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` (HTML is parsed; Markdown modes are passed through verbatim)."""
    if parse_mode is None or parse_mode == "":
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in {"markdown", "markdownv2"}:
        return text, []
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")
