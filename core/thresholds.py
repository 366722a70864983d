"""The absence lines every figure and chart is measured against (DOMAIN.md §3), held once.

A pupil is persistently absent at 10% or more of their possible sessions missed (attendance
at or below 90%), severely absent at 50% or more (attendance at or below 50%). These are the
DfE's lines, not a school setting. The test is made on whole session counts
(`absent * denominator >= possible * numerator`), never on a rounded percentage, so
exactly 90.0% is persistent absence.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pandas as pd


@dataclass(frozen=True)
class AbsenceLine:
    key: str  # the pupil-figures column it sets
    label: str  # as the screens say it
    short: str  # PA / SA
    absence_share: Fraction  # absence at or above this share of possible sessions crosses the line

    @property
    def attendance_pct(self) -> float:
        """The attendance percentage at or below which a pupil is over the line (90.0, 50.0)."""
        return float((1 - self.absence_share) * 100)

    @property
    def attendance_label(self) -> str:
        return f"{self.attendance_pct:g}%"

    def crossed(self, absent, possible):
        """Whether `absent` of `possible` sessions crosses the line (scalars or Series), by integer
        comparison; no possible session crosses nothing."""
        share = self.absence_share
        result = (possible > 0) & (share.denominator * absent >= share.numerator * possible)
        return bool(result) if not isinstance(result, pd.Series) else result

    def rule_text(self, absent: int, possible: int) -> str:
        """The rule applied to one pupil's sessions, for a figure that explains itself:
        '10 × 4 = 40 ≥ 20' (absent sessions times the share's denominator against possible ones)."""
        share = self.absence_share
        sign = "≥" if self.crossed(absent, possible) else "<"
        whole = str(possible) if share.numerator == 1 else f"{share.numerator} × {possible} = {share.numerator * possible}"
        return f"{share.denominator} × {absent} = {share.denominator * absent} {sign} {whole}"

    @property
    def absence_label(self) -> str:
        """The share of possible sessions missed that crosses the line, as a percentage (10%, 50%)."""
        return f"{float(self.absence_share * 100):g}%"


PERSISTENT = AbsenceLine("persistently_absent", "Persistent absence", "PA", Fraction(1, 10))
SEVERE = AbsenceLine("severely_absent", "Severe absence", "SA", Fraction(1, 2))
LINES = (PERSISTENT, SEVERE)

# The reference line every attendance chart draws (screens and PDFs alike).
CHART_REFERENCE = PERSISTENT.attendance_pct
