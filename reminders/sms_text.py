"""SMS length arithmetic: GSM-7 vs UCS-2 and how many segments a body costs."""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38 basic character set, and the extension table whose characters cost two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def segment_info(text: str) -> SegmentInfo:
    """Encoding and segment count as a handset sees it: one non-GSM character (an emoji, a
    curly quote) turns the whole message into UCS-2 at 70 units a segment."""
    if is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SegmentInfo(encoding, 0, 0)
    segments = 1 if units <= single else math.ceil(units / multi)
    return SegmentInfo(encoding, units, segments)
