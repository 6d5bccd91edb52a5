"""The character card: asking the dialogue model who the pictured person is (and, in the same
generation, what they say first), and reading its answer back robustly (no torch)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from inference.cleaning import clean_generation, looks_garbled
from inference.types import ChatRequest, Gender, Language, Persona

PERSONA_MAX_NEW_TOKENS = 96
# The card (about 40 tokens) and a greeting of one or two sentences, in one generation.
INTRODUCTION_MAX_NEW_TOKENS = 160

# --- the character card ---------------------------------------------------------------------

_CARD_REQUEST = {
    "en": (
        "Here is a description of a person in a photo:\n{description}\n\n"
        "Invent a fictional character who could be this person. Reply with exactly three lines "
        "and nothing else:\n"
        "Name: <a plausible first name>\n"
        "Personality: <three to five traits>\n"
        "Speaking style: <how they talk, in one short sentence>"
    ),
    "zh": (
        "这是对一张照片中人物的描述（英文）：\n{description}\n\n"
        "请为这个人虚构一个角色。只回复以下三行，不要写别的内容：\n"
        "名字：<一个合适的中文名字>\n"
        "性格：<三到五个性格特点>\n"
        "说话风格：<用一句话描述说话方式>"
    ),
}
_CARD_SYSTEM = {
    "en": "You write short, vivid character cards for a role-play game.",
    "zh": "你为角色扮演游戏撰写简短生动的角色卡。请用中文回答。",
}
_FIELD_LABELS = {
    "name": r"name|名字|姓名|名称",
    "traits": r"personality|traits|character|性格|个性|特点",
    "style": r"speaking style|style of speech|speech|style|voice|说话风格|说话方式|语气|风格",
    "greeting": r"first words|first line|greeting|第一句话|开场白|问候",
}
_ANY_LABEL = "|".join(_FIELD_LABELS.values())
_LABEL = re.compile(rf"(?<![A-Za-z])({_ANY_LABEL})\s*\**\s*[:：]", re.IGNORECASE)

_NAMES = {
    ("en", "female"): ["Anna", "Clara", "Emma", "Lucy", "Maya", "Nora", "Rose", "Sofia"],
    ("en", "male"): ["Daniel", "Leo", "Lucas", "Max", "Noah", "Oscar", "Sam", "Theo"],
    ("en", "neutral"): ["Alex", "Casey", "Jamie", "Jordan", "Riley", "Robin", "Sky", "Taylor"],
    ("zh", "female"): ["小雨", "林晓", "苏菲", "王芳", "李娜", "陈静", "小月", "周婷"],
    ("zh", "male"): ["小明", "李强", "王磊", "张伟", "陈浩", "刘洋", "赵阳", "林峰"],
    ("zh", "neutral"): ["小安", "阿乐", "小云", "林夕", "安然", "子墨", "小北", "思远"],
}
# What a description says about the person's apparent gender (the card's fallback name and
# the voice a character gets both follow it).
_FEMALE = re.compile(
    r"\b(woman|women|girl|lady|female|mother|grandmother|she|her|wife|queen|actress)\b"
    r"|[女她妈奶姐妹婆姑娘阿姨]"
)
_MALE = re.compile(
    r"\b(man|men|boy|gentleman|male|father|grandfather|he|his|him|husband|king|actor|guy)\b"
    r"|[男他爸爷哥弟叔伯]"
)
_DEFAULT_TRAITS = {"en": "friendly, curious, a little playful", "zh": "友善、好奇、有点俏皮"}
_DEFAULT_STYLE = {
    "en": "warm and casual, short sentences",
    "zh": "亲切随和，句子简短",
}


def persona_request(description: str, language: Language) -> ChatRequest:
    """Ask for a character card in a line format `parse_persona` can read."""
    return ChatRequest(
        messages=[
            {"role": "system", "content": _CARD_SYSTEM[language]},
            {"role": "user", "content": _CARD_REQUEST[language].format(description=description)},
        ],
        max_new_tokens=PERSONA_MAX_NEW_TOKENS,
    )


def parse_persona(text: str, description: str, language: Language) -> Persona:
    """Read a character card, tolerating chatter and markdown; fill gaps with stable defaults."""
    fields = _card_fields(clean_generation(text, max_chars=2000))
    name = _valid_name(fields.get("name", "")) or fallback_name(description, language)
    traits = _valid_field(fields.get("traits", ""), 200) or _DEFAULT_TRAITS[language]
    style = _valid_field(fields.get("style", ""), 200) or _DEFAULT_STYLE[language]
    return Persona(
        name=name,
        traits=traits,
        speaking_style=style,
        description=description,
        language=language,
    )


def _card_fields(text: str) -> dict[str, str]:
    """Label -> value; a value runs to the next label or the end of its line."""
    fields: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].split("\n")[0].strip(" *-#•\t")
        key = _field_key(match.group(1))
        if key and key not in fields and value:
            fields[key] = value
    return fields


def _field_key(label: str) -> str | None:
    for key, pattern in _FIELD_LABELS.items():
        if re.fullmatch(pattern, label.strip(), re.IGNORECASE):
            return key
    return None


def _valid_name(value: str) -> str | None:
    name = re.sub(r"[\"'“”‘’「」*_.,，。!！?？:：;；()（）\[\]<>]", "", value).strip()
    if not name or looks_garbled(name) or len(name) > 24 or len(name.split()) > 3:
        return None
    if name.lower() in {"name", "first name", "a plausible first name", "unknown", "none"}:
        return None
    if not all(part[:1].isalpha() for part in name.split()):
        return None
    return name


def _valid_field(value: str, max_chars: int) -> str | None:
    value = clean_generation(value, max_chars=max_chars).strip(" <>")
    return None if looks_garbled(value) else value


def apparent_gender(description: str) -> Gender | None:
    """The gender the description suggests, or None when it says nothing or both equally."""
    lowered = description.lower()
    female, male = len(_FEMALE.findall(lowered)), len(_MALE.findall(lowered))
    if female == male:
        return None
    return "female" if female > male else "male"


def fallback_name(description: str, language: Language) -> str:
    """A plausible name that fits the description's apparent gender, the same every time."""
    names = _NAMES[(language, apparent_gender(description) or "neutral")]
    return names[stable_index(description, len(names))]


def stable_index(key: str, size: int) -> int:
    # Python's hash() is salted per process; the same photo should give the same name.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % size


# --- the card and the first line in one generation ------------------------------------------

_INTRODUCTION_REQUEST = {
    "en": (
        "Here is a description of a person in a photo:\n{description}\n\n"
        "Invent a fictional character who could be this person. Someone has just looked at "
        "their photo. Reply with exactly four lines and nothing else:\n"
        "Name: <a plausible first name>\n"
        "Personality: <three to five traits>\n"
        "Speaking style: <how they talk, in one short sentence>\n"
        "First words: <what they say to greet the viewer, in the first person, in character, "
        "one or two short sentences>"
    ),
    "zh": (
        "这是对一张照片中人物的描述（英文）：\n{description}\n\n"
        "请为这个人虚构一个角色。有人刚刚看到了这张照片。只回复以下四行，不要写别的内容：\n"
        "名字：<一个合适的中文名字>\n"
        "性格：<三到五个性格特点>\n"
        "说话风格：<用一句话描述说话方式>\n"
        "第一句话：<以角色身份用第一人称和对方打招呼，一两句简短的话>"
    ),
}


@dataclass(frozen=True)
class Introduction:
    """A new character: its card, and what it says first ("" when the answer had none)."""

    persona: Persona
    first_line: str


def introduction_request(description: str, language: Language) -> ChatRequest:
    """Ask for the character card and the character's first words in one answer, so the
    photo path runs one generation instead of two in series."""
    return ChatRequest(
        messages=[
            {"role": "system", "content": _CARD_SYSTEM[language]},
            {
                "role": "user",
                "content": _INTRODUCTION_REQUEST[language].format(description=description),
            },
        ],
        max_new_tokens=INTRODUCTION_MAX_NEW_TOKENS,
    )


def parse_introduction(text: str, description: str, language: Language) -> Introduction:
    """The card (gaps filled as in `parse_persona`) and the first words, if any."""
    return Introduction(parse_persona(text, description, language), greeting_of(text))


def greeting_of(text: str) -> str:
    """The first words in an introduction answer so far ("" until their label appears)."""
    fields = _card_fields(clean_generation(text, max_chars=2000))
    return clean_generation(fields.get("greeting", ""))
