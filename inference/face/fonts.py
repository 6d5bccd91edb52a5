"""A font that can draw the character's words: CJK-capable if the system has one."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# CJK fonts also cover Latin, so they are preferred for every text.
CJK_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSans-Regular.ttc",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSans-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
LATIN_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
_PREFERRED_FACE = "SC"  # in Noto/Source Han collections: simplified-Chinese glyph shapes


def find_font(text: str = "") -> str | None:
    """Path of a font for `text`: a CJK font if any, else DejaVu-like, else None (Pillow's own).
    Without a CJK font Chinese is drawn as empty boxes: `warn_without_cjk_font` says so."""
    cjk = _cjk_fonts()
    if cjk:
        return cjk[0]
    return next((p for p in LATIN_FONT_PATHS if Path(p).is_file()), None)


@functools.cache
def warn_without_cjk_font() -> bool:
    """At start, once: a machine without a CJK font (pip installs bring none) would draw every
    Chinese line as empty boxes, silently; one log line says what to install. True: found."""
    if _cjk_fonts():
        return True
    log.warning(
        "no CJK font found: Chinese lines would be drawn as empty boxes; install the "
        "fonts-noto-cjk package (e.g. apt install fonts-noto-cjk)"
    )
    return False


@functools.cache
def _cjk_fonts() -> tuple[str, ...]:
    found = [p for p in CJK_FONT_PATHS if Path(p).is_file()]
    return tuple(found) if found else _fc_list_cjk()


def _fc_list_cjk() -> tuple[str, ...]:
    """Ask fontconfig for fonts covering Chinese, if it is installed."""
    if shutil.which("fc-list") is None:
        return ()
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    paths = sorted({line.split(":")[0].strip() for line in listing.splitlines() if line.strip()})
    # Sans faces read better at small sizes than serif ones.
    return tuple(sorted(paths, key=lambda p: ("Serif" in p, "Bold" in p, p)))


def load_font(text: str, size: int) -> Font:
    """A `size`-pixel font for `text`; never fails (Pillow's default as the last resort)."""
    return _load(find_font(text), max(1, size))


@functools.lru_cache(maxsize=64)
def _load(path: str | None, size: int) -> Font:
    if path is not None:
        try:
            return ImageFont.truetype(path, size, index=_face_index(path))
        except OSError:
            log.warning("cannot load font %s; using Pillow's default", path)
    return ImageFont.load_default(size)


@functools.cache
def _face_index(path: str) -> int:
    """Index of the simplified-Chinese face in a font collection (.ttc), else 0."""
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(10):
        try:
            family, _style = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family and family.split()[-1] == _PREFERRED_FACE:
            return index
    return 0
