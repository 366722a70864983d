"""Which pupils a list shows: every list selection is one row (id, label, help, who is in it),
read by the Below 90% screen's "Show" and the Letters screen's "For".

A selection reads core columns of a pupil list (core/pupil_list.py): `persistently_absent`,
`severely_absent`, `newly_persistent`, `triggers` (the trigger ids reached), `missing_marks`,
and, for letters, `next_letter_due` and `letter_agreed`. Never a display heading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from core import thresholds, triggers

PA, SA = thresholds.PERSISTENT.attendance_label, thresholds.SEVERE.attendance_label


@dataclass(frozen=True)
class Selection:
    id: str
    label: str
    help: str
    members: Callable[[pd.DataFrame], pd.Series]  # True for each pupil the list shows


SELECTIONS = (
    Selection("pa", f"Below {PA}", f"At or below {PA} attendance: persistent absence.",
              lambda f: f["persistently_absent"].astype(bool)),
    Selection("sa", f"Below {SA}", f"At or below {SA} attendance: severe absence.",
              lambda f: f["severely_absent"].astype(bool)),
    Selection("new", f"Newly below {PA}", "Crossed into persistent absence since the previous upload.",
              lambda f: f["newly_persistent"].astype(bool)),
    Selection("triggers", "Reached a trigger", "Reached a statutory trigger this academic year.",
              lambda f: f["triggers"].map(len) > 0),
    Selection("penalty", "Penalty threshold", "Reached the penalty-notice threshold this year.",
              lambda f: f["triggers"].map(lambda reached: triggers.PENALTY_NOTICE_THRESHOLD in reached).astype(bool)),
    Selection("next_stage", "Due this stage", f"Below {PA} and sent the stage before this one.",
              lambda f: f["persistently_absent"].astype(bool) & f["next_letter_due"].astype(bool)),
    Selection("agreed", "Agreed at a meeting", "Agreed at a pastoral meeting and not yet made.",
              lambda f: f["letter_agreed"].astype(bool)),
    Selection("missing", "Missing marks", "Sessions still missing a mark.", lambda f: f["missing_marks"] > 0),
    Selection("chosen", "Choose pupils", "Pupils chosen by name.", lambda f: pd.Series(False, index=f.index)),
)
BY_ID = {selection.id: selection for selection in SELECTIONS}

BELOW_90 = ("pa", "sa", "new", "triggers", "missing")  # the Below 90% screen's "Show"
LETTERS = ("agreed", "new", "pa", "penalty", "next_stage", "chosen")  # the Letters screen's "For"


def selected(pupils: pd.DataFrame, selection_id: str) -> pd.DataFrame:
    """The pupils of a pupil list that a selection shows."""
    return pupils[BY_ID[selection_id].members(pupils).to_numpy(dtype=bool)]


def help_text(selection_ids: tuple[str, ...]) -> str:
    """What each selection offered means, for a screen's help."""
    return " ".join(f"{BY_ID[s].label}: {BY_ID[s].help[0].lower()}{BY_ID[s].help[1:]}" for s in selection_ids)
