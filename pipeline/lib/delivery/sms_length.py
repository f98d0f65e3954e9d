"""How long an SMS is: characters and segments by 3GPP TS 23.038 and TS 23.040.

A text whose every character is in the GSM 7-bit default alphabet (the `gsm0338` codec)
is sent in GSM-7: a character of the extension table (€ { } [ ] ~ ^ | \\ and the form
feed) is an escape plus a septet, so it counts two. One message holds 160 septets; a
longer text is split into segments of 153 (7 septets go to the concatenation header).
Any other character makes the whole text UCS-2: UTF-16 code units, so a character
outside the Basic Multilingual Plane (𠮷, most emoji) counts two. One message holds 70
units, a segment of a longer text 67.

A segment never ends between the two halves of an escape sequence or of a surrogate
pair (TS 23.040 §9.2.3.24.1), so a long text is packed character by character; it may
need one segment more than its count divided by 153 or 67.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7, UCS2 = "gsm7", "ucs2"
SINGLE = {GSM7: 160, UCS2: 70}
PER_SEGMENT = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "gsm7" or "ucs2"
    characters: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def _widths(text: str) -> tuple[str, list[int]]:
    try:
        return GSM7, [len(ch.encode("gsm03.38")) for ch in text]
    except UnicodeEncodeError:
        return UCS2, [1 if ord(ch) <= 0xFFFF else 2 for ch in text]


def sms_length(text: str) -> SmsLength:
    """The encoding, the characters it counts and the segments `text` is sent in (an
    empty text is still one message)."""
    encoding, widths = _widths(text)
    total = sum(widths)
    if total <= SINGLE[encoding]:
        return SmsLength(encoding, total, 1)
    capacity, segments, used = PER_SEGMENT[encoding], 1, 0
    for width in widths:
        if used + width > capacity:
            segments, used = segments + 1, 0
        used += width
    return SmsLength(encoding, total, segments)
