"""parse_mode=MarkdownV2 and legacy Markdown, ported from tdlib's MessageEntity.cpp."""

from __future__ import annotations

from .text_entities import Entity, ParsedText, parse_error

_MD2_RESERVED = "_*[]()~`>#+-=|{}.!"
# tdlib prints entity types by their C++ enum names in "Can't find end of ..." errors.
_TD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _md2_closes(kind: str, text: str, i: int) -> bool:
    c, following = text[i], text[i + 1 : i + 3]
    return {
        "bold": c == "*",
        "italic": c == "_" and following[:1] != "_",
        "underline": c == "_" and following[:1] == "_",
        "strikethrough": c == "~",
        "spoiler": c == "|" and following[:1] == "|",
        "code": c == "`",
        "pre": c == "`" and following == "``",
        "text_link": c == "]",
        "custom_emoji": c == "]",
    }[kind]


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out = ParsedText()
    stack: list[tuple[str, str, int, int, int]] = []  # kind, arg, utf16 start, byte, parts index
    quote_start: int | None = None
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        in_code = bool(stack) and stack[-1][0] in ("code", "pre")
        if c == ">" and not in_code and (i == 0 or text[i - 1] == "\n"):
            quote_start = out.utf16 if quote_start is None else quote_start
            i += 1
            continue
        if c == "\n" and quote_start is not None and text[i + 1 : i + 2] != ">":
            out.entity("blockquote", quote_start)
            quote_start = None
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if c not in ("`" if in_code else _MD2_RESERVED):
            out.add(c)
            i += 1
            continue
        if stack and _md2_closes(stack[-1][0], text, i):
            kind, argument, start, _, parts_index = stack.pop()
            i += {"underline": 2, "spoiler": 2, "pre": 3}.get(kind, 1)
            if kind in ("text_link", "custom_emoji"):
                url = "".join(out.parts[parts_index:])
                if text[i : i + 1] == "(":
                    url_begin = i = i + 1
                    chars: list[str] = []
                    while i < n and text[i] != ")":
                        escaped = text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126
                        chars.append(text[i + 1] if escaped else text[i])
                        i += 2 if escaped else 1
                    if i >= n:
                        byte = len(text[:url_begin].encode())
                        raise parse_error(f"Can't find end of a URL at byte offset {byte}")
                    url, i = "".join(chars), i + 1
                if kind == "custom_emoji":
                    out.entity(kind, start, custom_emoji_id=url.rpartition("id=")[2])
                else:
                    out.entity(kind, start, url=url)
            else:
                out.entity(kind, start, language=argument)
            continue
        byte = len(text[:i].encode())
        following = text[i + 1 : i + 3]
        argument = ""
        if c == "_":
            kind = "underline" if following[:1] == "_" else "italic"
        elif c == "|" and following[:1] == "|":
            kind = "spoiler"
        elif c == "!" and following[:1] == "[":
            kind = "custom_emoji"
        elif c in "*~[":
            kind = {"*": "bold", "~": "strikethrough", "[": "text_link"}[c]
        elif c == "`" and following == "``":
            kind, i = "pre", i + 2
            language_end = i + 1
            while language_end < n and not text[language_end].isspace():
                if text[language_end] == "`":
                    break
                language_end += 1
            if language_end > i + 1 and language_end < n and text[language_end] != "`":
                argument, i = text[i + 1 : language_end], language_end - 1
            if text[i + 1 : i + 2] in ("\n", "\r"):
                i += 1
        elif c == "`":
            kind = "code"
        else:
            reason = f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            raise parse_error(reason)
        i += 2 if kind in ("underline", "spoiler", "custom_emoji") else 1
        stack.append((kind, argument, out.utf16, byte, len(out.parts)))
    if stack:
        kind, _, _, byte, _ = stack[-1]
        raise parse_error(f"Can't find end of {_TD_NAMES[kind]} entity at byte offset {byte}")
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: ``*bold*``, ``_italic_``, ```code```, ``[text](url)``."""
    out = ParsedText()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and text[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin, start = i, out.utf16
        is_pre = text[i : i + 3] == "```"
        closing = "```" if is_pre else {"[": "]"}.get(c, c)
        end = text.find(closing, i + len(closing))
        if end < 0:
            byte = len(text[:begin].encode())
            raise parse_error(f"Can't find end of the entity starting at byte offset {byte}")
        out.add(text[i + len(closing) : end])
        i = end + len(closing)
        if c == "[":
            url = "".join(out.parts[-1:])
            if text[i : i + 1] == "(" and (close := text.find(")", i)) > 0:
                url, i = text[i + 1 : close], close + 1
            out.entity("text_link", start, url=url)
        else:
            kind = "pre" if is_pre else {"_": "italic", "*": "bold", "`": "code"}[c]
            out.entity(kind, start)
    return out.result()
