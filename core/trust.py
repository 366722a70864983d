"""A trust's schools side by side (issue 18): one row per school a user may see, with the
trust's own row, from the same pupil figures, triggers and check-ins the school screens use.

Each school's figures pool its pupils of compulsory school age (as the national figures
do; all its pupils where it has none), totals over totals (metrics.group_figures). Pure
functions over frames: the Trust screen and the trust report read the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import groups, metrics

COLUMNS = ["school_id", "school", "dfe_number", "hub", "pupils", "attendance_pct", "persistent_absence_pct",
           "severe_absence_pct", "unauthorised_absence_pct", "pupils_at_trigger", "overdue_check_ins",
           "missing_marks"]
TRUST_ROW = "All schools"


def _headline(figures: pd.DataFrame) -> dict:
    compulsory = figures[figures["compulsory_school_age"]] if "compulsory_school_age" in figures else figures
    group = metrics.group_figures(compulsory if (compulsory["possible_sessions"] > 0).any() else figures)
    group["missing_marks"] = int(figures["missing_marks"].sum())  # every pupil's missing marks, whatever their age
    return group


def _row(school_id, name: str, dfe: str, hub: str, figures: pd.DataFrame, triggered: set, overdue: pd.Series) -> dict:
    group = _headline(figures)
    absence = group["overall_absence_pct"]
    pupil_ids = set(figures["pupil_id"].tolist())
    return {
        "school_id": school_id, "school": name, "dfe_number": dfe, "hub": hub, "pupils": group["pupils"],
        "attendance_pct": None if absence is None else 100 - absence,
        "persistent_absence_pct": group["persistent_absence_pct"],
        "severe_absence_pct": group["severe_absence_pct"],
        "unauthorised_absence_pct": group["unauthorised_absence_pct"],
        "pupils_at_trigger": len(pupil_ids & triggered),
        "overdue_check_ins": int(overdue[overdue.index.isin(list(pupil_ids))].sum()),
        "missing_marks": group["missing_marks"],
    }


# The columns metrics.group_figures sums.
_SUMMED = ("possible_sessions", "attendance_sessions", "authorised_sessions", "unauthorised_sessions",
           "persistently_absent", "severely_absent", "missing_marks")


def _by_school(figures: pd.DataFrame):
    """school id → that school's rows of `figures` (a `school_id` column), in their order: the
    same rows as `figures[figures["school_id"] == school_id]`, the frame split once."""
    positions = figures.groupby("school_id", sort=False).indices
    none = np.array([], dtype=np.int64)
    return lambda school_id: figures.iloc[positions.get(school_id, none)]


def side_by_side(schools: pd.DataFrame, figures: pd.DataFrame, school_of: pd.Series,
                 triggered_pupil_ids, overdue_by_pupil: pd.Series) -> pd.DataFrame:
    """One row per school of `schools` (id, name, dfe_number, hub), then the trust's row
    (school_id None) pooling them all.

    `figures`: metrics.pupil_figures for the period; `school_of`: pupil id → school id;
    `triggered_pupil_ids`: pupils at a statutory trigger; `overdue_by_pupil`: pupil id →
    overdue check-ins."""
    figures = figures.assign(school_id=figures["pupil_id"].map(school_of).to_numpy())
    figures = figures[figures["school_id"].isin(schools["id"].tolist())]
    # Only the columns a row is made from, split by school once: a trust's figures are tens of
    # thousands of rows of some forty columns, too many to copy again for each school.
    figures = figures[[c for c in ("pupil_id", "school_id", "compulsory_school_age", *_SUMMED) if c in figures]]
    triggered = {int(p) for p in triggered_pupil_ids}
    of_school = _by_school(figures)
    rows = [_row(int(s.id), s.name, s.dfe_number, s.hub, of_school(s.id), triggered, overdue_by_pupil)
            for s in schools.itertuples(index=False)]
    rows.append(_row(None, TRUST_ROW, "", "", figures, triggered, overdue_by_pupil))
    return pd.DataFrame(rows, columns=COLUMNS)


# --- vulnerable groups: each school's gap ---------------------------------------------------

# The groups whose gap a trust watches (core/groups.py PUPIL_GROUPS, by label).
GAP_GROUPS = ("PP", "FSM", "SEN support", "EHCP", "CLA", "EAL", "Social worker (CIN/CP)")
GAP_COLUMNS = ["school_id", "school", "group", "pupils_in_group", "group_attendance_pct", "others_attendance_pct",
               "gap_points"]


def _attendance(figures: pd.DataFrame) -> float | None:
    absence = metrics.group_figures(figures)["overall_absence_pct"]
    return None if absence is None else 100 - absence


def group_gaps(schools: pd.DataFrame, figures: pd.DataFrame, school_of: pd.Series) -> pd.DataFrame:
    """For each school of `schools` and each of GAP_GROUPS: the group's attendance %, the
    other pupils' and the gap in points (group minus others; negative: the group attends
    less), pooled as totals over totals. A school with nobody in a group has no row for it."""
    figures = figures[figures["possible_sessions"] > 0]
    figures = figures.assign(school_id=figures["pupil_id"].map(school_of).to_numpy())
    everyone = groups.pupil_groups(figures["flags"] if "flags" in figures else pd.Series(dtype=str))
    # Each group's members found once for every pupil (a pupil's membership is their own), and
    # the figures split by school once, on only the columns summed.
    in_group = {label: everyone[label].members(figures).to_numpy(dtype=bool) for label in GAP_GROUPS}
    summed = figures[["school_id", *_SUMMED]].reset_index(drop=True)
    positions = summed.groupby("school_id", sort=False).indices
    none = np.array([], dtype=np.int64)
    rows = []
    for school in schools.itertuples(index=False):
        at = positions.get(school.id, none)
        pupils = summed.iloc[at]
        for label in GAP_GROUPS:
            members = in_group[label][at]
            if not members.any():
                continue
            inside, outside = _attendance(pupils[members]), _attendance(pupils[~members])
            rows.append({"school_id": int(school.id), "school": school.name, "group": label,
                         "pupils_in_group": int(members.sum()), "group_attendance_pct": inside,
                         "others_attendance_pct": outside,
                         "gap_points": None if inside is None or outside is None else inside - outside})
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


# --- the targets: each school's own and the trust's ------------------------------------------

TARGET_MEASURES = {"attendance_pct": "Attendance", "persistent_absence_pct": "Persistent absence",
                   "severe_absence_pct": "Severe absence"}
HIGHER_IS_BETTER = {"attendance_pct"}  # PA and SA: a target to stay at or under
TARGET_COLUMNS = ["school_id", "school", "measure", "figure", "school_target", "school_gap", "trust_target",
                  "trust_gap"]


def _gap(figure, target, measure: str) -> float | None:
    """How far `figure` is better (+) or worse (−) than `target`, in points."""
    if figure is None or target is None or pd.isna(figure):
        return None
    ahead = float(figure) - float(target)
    return round(ahead if measure in HIGHER_IS_BETTER else -ahead, 1)


def against_targets(table: pd.DataFrame, school_targets: dict, trust_targets: dict) -> pd.DataFrame:
    """Each row of `side_by_side` (schools, then the trust's) and each measure with a target:
    the figure, the school's own target and the trust's, and the gap to each: how far the
    figure is better (+) or worse (−) than the target, in points (attendance above its target
    is better; persistent and severe absence below theirs).
    `school_targets`: school id → measure → %; `trust_targets`: measure → %. None where no target."""
    rows = []
    for row in table.to_dict("records"):
        own = {} if row["school_id"] is None or pd.isna(row["school_id"]) else \
            school_targets.get(int(row["school_id"]), {})
        for measure, label in TARGET_MEASURES.items():
            school_target, trust_target = own.get(measure), trust_targets.get(measure)
            if school_target is None and trust_target is None:
                continue
            figure = row[measure]
            figure = None if figure is None or pd.isna(figure) else float(figure)
            rows.append({"school_id": row["school_id"], "school": row["school"], "measure": label, "figure": figure,
                         "school_target": school_target, "school_gap": _gap(figure, school_target, measure),
                         "trust_target": trust_target, "trust_gap": _gap(figure, trust_target, measure)})
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


def target_measures(targets: pd.DataFrame) -> list[str]:
    """The measures (labels, in TARGET_MEASURES order) `against_targets` has a row for."""
    return [label for label in TARGET_MEASURES.values() if label in set(targets["measure"])]


def target_view(targets: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """`against_targets` as the screen and the report show it: text, one decimal place. One
    `measure` (a label): its rows, a row a school, the figure headed with the measure."""
    if measure is not None:
        return target_view(targets[targets["measure"] == measure]).drop(columns="Measure").rename(
            columns={"Figure": measure})
    points = lambda v: "—" if v is None or pd.isna(v) else f"{float(v):+.1f}"  # noqa: E731
    return pd.DataFrame({
        "School": targets["school"], "Measure": targets["measure"], "Figure": targets["figure"].map(_pct),
        "School's target": targets["school_target"].map(_pct),
        "Gap to the school's (points)": targets["school_gap"].map(points),
        "Trust's target": targets["trust_target"].map(_pct),
        "Gap to the trust's (points)": targets["trust_gap"].map(points),
    })


# --- the half-termly trust report (PDF) -----------------------------------------------------


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def report_table(table: pd.DataFrame) -> pd.DataFrame:
    """The side-by-side table as the report prints it: school names as text, figures rounded."""
    return pd.DataFrame({
        "School": table["school"], "Hub": table["hub"], "Pupils": table["pupils"].astype("Int64"),
        "Attendance %": table["attendance_pct"].map(_pct), "PA %": table["persistent_absence_pct"].map(_pct),
        "SA %": table["severe_absence_pct"].map(_pct), "Unauth. %": table["unauthorised_absence_pct"].map(_pct),
        "At a trigger": table["pupils_at_trigger"].astype("Int64"),
        "Check-ins overdue": table["overdue_check_ins"].astype("Int64"),
        "Missing marks": table["missing_marks"].astype("Int64"),
    })


def report_pdf(trust_name: str, period_label: str, table: pd.DataFrame, gaps: pd.DataFrame,
               national: dict, targets: pd.DataFrame | None = None) -> bytes:
    """The trust's report for a half term (issue 18): the trust's headline against the national
    figures, its schools side by side, each school against its own and the trust's targets
    (`against_targets`, when any is set) and each school's gaps for the vulnerable groups.
    `national`: measure → benchmarks.NationalFigure or None."""
    from core.pdf import MUTED, Document

    doc = Document(trust_name, f"Trust attendance report — {period_label}",
                   "Pupils of compulsory school age (all pupils at a school with none); rates pooled over sessions",
                   landscape=True)
    trust_row = table[table["school_id"].isna()].iloc[0]

    def beside(measure: str) -> str:
        figure = national.get(measure)
        return f"national {figure.value:.1f}% ({figure.label})" if figure else "no national figure"

    doc.key_figures([
        ("Attendance", _pct(trust_row["attendance_pct"]), beside("attendance_pct")),
        ("Persistent absence", _pct(trust_row["persistent_absence_pct"]), beside("persistent_absence_pct")),
        ("Severe absence", _pct(trust_row["severe_absence_pct"]), beside("severe_absence_pct")),
        ("Unauthorised absence", _pct(trust_row["unauthorised_absence_pct"]), ""),
    ])
    doc.heading("The schools side by side", size=11)
    doc.table(report_table(table), size=8)
    if targets is not None and not targets.empty:
        doc.heading("Against the targets", size=11)
        doc.paragraph("Each school's figure beside its own target and the trust's, for the academic year; the gap is "
                      "how far the figure is better (+) or worse (−) than the target, in points.", size=8.5,
                      colour=MUTED)
        for measure in target_measures(targets):  # a table a measure, a row a school
            doc.heading(measure, size=9.5)
            doc.table(target_view(targets, measure), size=8)
    doc.heading("Vulnerable groups: the gap at each school", size=11)
    doc.paragraph("The group's attendance minus the other pupils' at the same school, in points; negative means "
                  "the group attends less. Small groups swing widely.", size=8.5, colour=MUTED)
    doc.table(pd.DataFrame({
        "School": gaps["school"], "Group": gaps["group"], "Pupils in group": gaps["pupils_in_group"],
        "Group attendance": gaps["group_attendance_pct"].map(_pct),
        "Others' attendance": gaps["others_attendance_pct"].map(_pct),
        "Gap (points)": gaps["gap_points"].map(lambda v: "—" if v is None or pd.isna(v) else f"{float(v):+.1f}"),
    }), size=8)
    return doc.pdf_bytes()
