"""Which language the product answers in."""

from inference.language import detect_language, language_from_code, reply_language


def test_detect_language() -> None:
    assert detect_language("你好，今天怎么样？") == "zh"
    assert detect_language("Hello, how are you?") == "en"
    assert detect_language("我用 AI 和 OK 这样的词") == "zh"  # a few Latin letters in Chinese
    assert detect_language("😊🎉 123 !!") is None
    assert detect_language("مرحبا") is None  # neither Chinese nor Latin


def test_language_from_telegram_code() -> None:
    assert language_from_code("zh-hans") == "zh"
    assert language_from_code("ZH") == "zh"
    assert language_from_code("en-US") == "en"
    assert language_from_code(None) == "en"


def test_reply_language_prefers_forced_then_text_then_persona() -> None:
    assert reply_language("How are you?", "zh", forced="zh") == "zh"
    assert reply_language("How are you?", "zh") == "en"
    assert reply_language("你好", "en") == "zh"
    assert reply_language("😊", "zh") == "zh"
