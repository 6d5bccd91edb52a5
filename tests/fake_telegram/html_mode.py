"""parse_mode=HTML, ported from tdlib's MessageEntity.cpp with its error messages."""

from __future__ import annotations

from .text_entities import Entity, ParsedText, parse_error

_HTML_TAGS = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "pre": "pre",
    "code": "code",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "blockquote": "blockquote",
}


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
    end = pos + 1
    if text[end : end + 1] == "#":
        hexadecimal = text[end + 1 : end + 2] == "x"
        end += 2 if hexadecimal else 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(text) and text[end] in digits:
            end += 1
        number = text[pos + (3 if hexadecimal else 2) : end]
        value = int(number, 16 if hexadecimal else 10) if number else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        if text[pos + 1 : end] not in named:
            return None
        char = named[text[pos + 1 : end]]
    return char, end + 1 if text[end : end + 1] == ";" else end


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out = ParsedText()
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 start, parts index
    n = len(text)

    def at(pos: int) -> str:
        return text[pos] if pos < n else "\0"

    def byte(pos: int) -> int:
        return len(text[:pos].encode())

    i = 0
    while i < n:
        if text[i] == "&" and (decoded := _decode_html_entity(text, i)):
            out.add(decoded[0])
            i = decoded[1]
            continue
        if text[i] != "<":
            out.add(text[i])
            i += 1
            continue
        begin, i = i, i + 1
        if at(i) != "/":
            while i < n and not at(i).isspace() and at(i) != ">":
                i += 1
            if i >= n:
                raise parse_error(f"Unclosed start tag at byte offset {byte(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise parse_error(f'Unsupported start tag "{tag}" at byte offset {byte(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and at(i).isspace():
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                while i < n and not at(i).isspace() and at(i) not in "=>":
                    i += 1
                name = text[name_begin:i]
                if not name:
                    raise parse_error(
                        f'Empty attribute name in the tag "{tag}" at byte offset {byte(begin)}'
                    )
                while i < n and at(i).isspace():
                    i += 1
                if at(i) != "=":
                    raise parse_error(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte(begin)}'
                    )
                i += 1
                while i < n and at(i).isspace():
                    i += 1
                if i >= n:
                    raise parse_error(f'Unclosed start tag "{tag}" at byte offset {byte(begin)}')
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not at(i).isspace() and at(i) != ">":
                        raise parse_error(f"Unexpected end of name token at byte offset {byte(i)}")
                else:
                    quote, i = at(i), i + 1
                    chars: list[str] = []
                    while i < n and at(i) != quote:
                        if at(i) == "&" and (decoded := _decode_html_entity(text, i)):
                            chars.append(decoded[0])
                            i = decoded[1]
                        else:
                            chars.append(at(i))
                            i += 1
                    value = "".join(chars)
                    i += 1 if at(i) == quote else 0
                if i >= n:
                    raise parse_error(f"Unclosed start tag at byte offset {byte(begin)}")
                if (tag, name) in {("a", "href"), ("tg-emoji", "emoji-id"), ("span", "class")}:
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "blockquote" and name == "expandable":
                    argument = "expandable"
            if tag == "span" and argument != "tg-spoiler":
                reason = f'Tag "span" must have class "tg-spoiler" at byte offset {byte(begin)}'
                raise parse_error(reason)
            stack.append((tag, argument, out.utf16, len(out.parts)))
            i += 1
            continue
        if not stack:
            raise parse_error(f"Unexpected end tag at byte offset {byte(begin)}")
        while i < n and not at(i).isspace() and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i]
        while i < n and at(i).isspace():
            i += 1
        if at(i) != ">":
            raise parse_error(f"Unclosed end tag at byte offset {byte(begin)}")
        i += 1
        tag, argument, start, parts_index = stack.pop()
        if end_tag and end_tag != tag:
            raise parse_error(
                f'Unmatched end tag at byte offset {byte(begin)}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        kind = _HTML_TAGS[tag]
        if kind == "text_link":
            out.entity(kind, start, url=argument or "".join(out.parts[parts_index:]))
        elif kind == "custom_emoji":
            out.entity(kind, start, custom_emoji_id=argument)
        elif kind == "code" and argument:
            out.entity("pre", start, language=argument)
        elif kind == "blockquote" and argument:
            out.entity("expandable_blockquote", start)
        else:
            out.entity(kind, start)
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()
