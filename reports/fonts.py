"""The CJK font reports embed: WenQuanYi Zen Hei, a TrueType collection shipped by Debian's
``fonts-wqy-zenhei`` (scripts/setup.sh installs it). TrueType outlines matter: ReportLab embeds
TrueType only (Noto Sans CJK's OpenType/CFF fonts cannot be embedded by it)."""

from __future__ import annotations

import os
from pathlib import Path

CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/local/share/fonts/wqy-zenhei.ttc"),
)
FONT_ENV = "PARKTWIN_REPORT_FONT"  # a TrueType (.ttf/.ttc) font with CJK glyphs, if elsewhere


class FontError(RuntimeError):
    """No CJK TrueType font was found."""


def cjk_font_path() -> Path:
    """The CJK font file; FontError naming the package to install when there is none."""
    configured = os.environ.get(FONT_ENV)
    for path in ([Path(configured)] if configured else []) + list(CANDIDATES):
        if path.is_file():
            return path
    raise FontError(
        "no CJK TrueType font for the PDF report: install Debian's fonts-wqy-zenhei "
        f"(scripts/setup.sh does) or set {FONT_ENV} to a .ttf/.ttc file with CJK glyphs"
    )
