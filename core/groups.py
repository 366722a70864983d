"""Pupil groups, held once: the characteristics a school compares pupils by, and the groups a
list of pupils can be narrowed to. Both read columns of `metrics.pupil_figures`.

`GROUPINGS` serve `metrics.by_group`, the Patterns screen's "Compare by" (in this order) and
the half-termly statistics (`STATISTICS`, in that order). `PUPIL_GROUPS` serve the Below 90%
screen's "Groups" filter. A school's own flags join both: "flag:<name>" as a grouping
(1 with the flag, 0 without) and "Flag: <name>" as a group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core import characteristics


@dataclass(frozen=True)
class Grouping:
    """A characteristic pupils are compared by: a column of `metrics.pupil_figures`."""

    column: str
    label: str
    values: Mapping[Any, str] | None = None  # how each value is named; None: as stored
    compared: bool = True  # offered under "Compare by" on the Patterns screen
    statistics_label: str | None = None  # its heading in the half-termly statistics, where not `label`


GROUPINGS = (
    Grouping("pp", "Pupil premium", {1: "PP", 0: "Not PP"}),
    Grouping("fsm", "Free school meals", {1: "FSM", 0: "Not FSM"}),
    Grouping("sen", "SEN", {"N": "No SEN", "K": "SEN support", "E": "EHCP"}),
    Grouping("eal", "English as an additional language", {1: "EAL", 0: "Not EAL"}, statistics_label="EAL"),
    Grouping("cla", "Looked after", {1: "CLA", 0: "Not CLA"}, statistics_label="Looked after (CLA)"),
    Grouping("gender", "Gender", {"F": "Female", "M": "Male"}),
    Grouping("year_group", "Year group"),
    Grouping("section", "Section"),
    Grouping("ethnic_group", "Ethnicity"),
    Grouping("gypsy_roma_traveller", "Gypsy, Roma and Traveller",
             {True: "Gypsy, Roma or Traveller", False: "Not GRT"}),
    Grouping("young_carer", "Young carers", {1: "Young carer", 0: "Not a young carer"}),
    Grouping("social_worker", "Social worker (CIN/CP)",
             {"": "No social worker", "CIN": "Child in need plan", "CP": "Child protection plan", "SW": "Social worker"}),
    Grouping("vulnerable", "Vulnerable list", {1: "On the vulnerable list", 0: "Not on it"}),
    Grouping("form", "Form", compared=False),
    Grouping("compulsory_school_age", "Compulsory school age", compared=False),
)
BY_COLUMN = {grouping.column: grouping for grouping in GROUPINGS}

# The groupings of the half-termly statistics, in the order they are reported.
STATISTICS = ("section", "year_group", "pp", "fsm", "sen", "cla", "eal", "gender")

# A school's own flag as a grouping: "flag:Breakfast club" (1 for pupils with the flag, 0 without).
FLAG_GROUPING = "flag:"


def flag_grouping(name: str) -> str:
    return f"{FLAG_GROUPING}{name}"


def flag_groupings(flags: pd.Series) -> tuple[Grouping, ...]:
    """A grouping for each flag the school uses in a column of stored flags."""
    return tuple(Grouping(flag_grouping(name), f"Flag: {name}", {1: name, 0: f"Not {name}"})
                 for name in characteristics.custom_flags(flags))


def compared(figures: pd.DataFrame) -> dict[str, Grouping]:
    """What the Patterns screen compares by, column → grouping: the table's, then the school's flags."""
    flags = flag_groupings(figures["flags"]) if "flags" in figures else ()
    return {g.column: g for g in (*GROUPINGS, *flags) if g.compared}


def statistics_label(column: str) -> str:
    grouping = BY_COLUMN[column]
    return grouping.statistics_label or grouping.label


@dataclass(frozen=True)
class PupilGroup:
    """A group a list of pupils can be narrowed to: who is in it, from core columns."""

    label: str
    members: Callable[[pd.DataFrame], pd.Series]


PUPIL_GROUPS = (
    PupilGroup("PP", lambda f: f["pp"].astype(bool)),
    PupilGroup("FSM", lambda f: f["fsm"].astype(bool)),
    PupilGroup("SEN support", lambda f: f["sen"] == "K"),
    PupilGroup("EHCP", lambda f: f["sen"] == "E"),
    PupilGroup("CLA", lambda f: f["cla"].astype(bool)),
    PupilGroup("EAL", lambda f: f["eal"].astype(bool)),
    PupilGroup("Gypsy, Roma, Traveller", lambda f: f["gypsy_roma_traveller"].astype(bool)),
    PupilGroup("Young carer", lambda f: f["young_carer"].astype(bool)),
    PupilGroup("Social worker (CIN/CP)", lambda f: f["social_worker"] != ""),
    PupilGroup("CP plan", lambda f: f["social_worker"] == "CP"),
    PupilGroup("Vulnerable list", lambda f: f["vulnerable"].astype(bool)),
)
FLAG_GROUP = "Flag: "  # a school's own flag as a group: "Flag: Breakfast club"


def pupil_groups(flags: pd.Series) -> dict[str, PupilGroup]:
    """The groups a list filters on, label → group: the table's, then one per flag the school
    uses in a column of stored flags."""
    own = (PupilGroup(f"{FLAG_GROUP}{name}", lambda f, name=name: characteristics.has_flag(f["flags"], name))
           for name in characteristics.custom_flags(flags))
    return {group.label: group for group in (*PUPIL_GROUPS, *own)}


def in_every_group(pupils: pd.DataFrame, labels: list[str], groups: Mapping[str, PupilGroup]) -> pd.DataFrame:
    """The pupils in every group named (labels not among `groups` are ignored)."""
    keep = pd.Series(True, index=pupils.index)
    for label in labels:
        if label in groups:
            keep &= groups[label].members(pupils).to_numpy()
    return pupils[keep.to_numpy()]
