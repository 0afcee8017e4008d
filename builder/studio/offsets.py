"""Offsets of text regions, converted between Python code points and Label Studio's unit.

Records count Python code points. Label Studio 1.23 stores ``start``/``end`` of text
regions in code points too (checked against the real labelling page: a span selected after
an emoji and a span imported by us both come back as code-point offsets; ``\\r\\n`` counts
two). Older Label Studio versions counted UTF-16 code units, so the unit is a parameter
(``LS_OFFSET_UNIT``) and every conversion goes through :class:`OffsetMap`; after converting,
every region's ``value.text`` is compared with the task text
(:func:`builder.studio.results.events_from_results`), so a wrong unit can never produce a
silently shifted span.
"""

from __future__ import annotations

import bisect
from typing import Literal, Optional

OffsetUnit = Literal["codepoint", "utf16"]

#: The unit Label Studio 1.23 uses for text region offsets (see the module docstring).
LS_OFFSET_UNIT: OffsetUnit = "codepoint"


class OffsetError(ValueError):
    """An offset that does not fall on a character boundary of its text."""


class OffsetMap:
    """Offsets of one text, converted between Python code points and Label Studio's unit.

    Args:
        text: the task text.
        unit: the unit Label Studio counts in (``"codepoint"`` or ``"utf16"``).
    """

    def __init__(self, text: str, unit: OffsetUnit = LS_OFFSET_UNIT):
        if unit not in ("codepoint", "utf16"):
            raise ValueError(f"unknown offset unit {unit!r}")
        self.text = text
        self.unit = unit
        self._units: Optional[list[int]] = None  # code units before code point i (utf16 only)
        if unit == "utf16" and any(ord(c) > 0xFFFF for c in text):
            units = [0]
            for c in text:
                units.append(units[-1] + (2 if ord(c) > 0xFFFF else 1))
            self._units = units

    @property
    def ls_length(self) -> int:
        """Length of the text in Label Studio's unit."""
        return self._units[-1] if self._units else len(self.text)

    def to_ls(self, offset: int) -> int:
        """Convert a code-point offset (``0 <= offset <= len(text)``) to Label Studio's unit.

        Raises:
            OffsetError: the offset is outside the text.
        """
        if not 0 <= offset <= len(self.text):
            raise OffsetError(f"offset {offset} is outside the text (length {len(self.text)})")
        return self._units[offset] if self._units else offset

    def from_ls(self, offset: int) -> int:
        """Convert an offset in Label Studio's unit back to a code-point offset.

        Raises:
            OffsetError: the offset is outside the text or splits a surrogate pair.
        """
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise OffsetError(f"offset {offset!r} is not an integer")
        if not 0 <= offset <= self.ls_length:
            raise OffsetError(f"offset {offset} is outside the text (length {self.ls_length} in {self.unit} units)")
        if self._units is None:
            return offset
        i = bisect.bisect_left(self._units, offset)
        if self._units[i] != offset:
            raise OffsetError(f"offset {offset} falls inside the surrogate pair of {self.text[i - 1]!r}")
        return i
