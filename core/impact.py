"""Whether an action worked: each pupil's attendance in the school days before an action
opened and from it on, and the roll-up per intervention type (small groups flagged as
indicative only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import auth, calendar, cases, codes
from core import marks as marks_table

IMPACT_COLUMNS = ["id", "pupil_id", "type", "tier", "opened_on", "before_pct", "after_pct", "change_pts",
                  "before_possible", "after_possible", "after_days", "window_complete"]


def impact(db, viewer: auth.Viewer, school_days: int, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Attendance in the `school_days` school days before each action opened and from it on.

    School days are the school's (days with a session), so holidays don't dilute either
    window. `after_days` says how many school days have passed since; fewer than
    `school_days` means the after figure is still forming (`window_complete` False).
    """
    actions = cases.interventions(db, viewer, pupil_ids)
    if actions.empty:
        return pd.DataFrame(columns=IMPACT_COLUMNS)
    span = marks_table.mark_date_range(db)
    days = (marks_table.school_session_days(db, calendar.to_day(span[0]), calendar.to_day(span[1]))["day"].to_numpy()
            if span else np.array([], dtype=np.int64))
    if len(days) == 0:
        return actions.assign(before_pct=np.nan, after_pct=np.nan, change_pts=np.nan, before_possible=0,
                              after_possible=0, after_days=0, window_complete=False)[IMPACT_COLUMNS]
    opened = np.array([calendar.to_day(d) for d in actions["opened_on"]])
    at = np.searchsorted(days, opened, side="left")  # first school day on or after opening
    before_first = days[np.maximum(at - school_days, 0)]
    after_last = days[np.minimum(at + school_days, len(days)) - 1]
    windows = actions[["id", "pupil_id"]].assign(
        before_first=before_first, opened=opened, after_last=after_last,
        after_days=np.minimum(len(days) - at, school_days))
    marks = marks_table.load_marks(db, int(before_first.min()), int(after_last.max()),
                             pupil_ids=actions["pupil_id"].unique().tolist())
    category = codes.classify_by_era(marks["code"], codes.era_of(calendar.days_to_dates(marks["day"])))
    marks = marks.assign(possible=category.isin(codes.POSSIBLE_CATEGORIES).to_numpy(),
                         attended=category.isin(codes.ATTENDANCE_CATEGORIES).to_numpy())
    joined = windows.merge(marks, on="pupil_id")
    before = joined[(joined["day"] >= joined["before_first"]) & (joined["day"] < joined["opened"])]
    after = joined[(joined["day"] >= joined["opened"]) & (joined["day"] <= joined["after_last"])
                   & (joined["after_days"] > 0)]

    def rates(part: pd.DataFrame, name: str) -> pd.DataFrame:
        sums = part.groupby("id")[["possible", "attended"]].sum()
        return pd.DataFrame({f"{name}_possible": sums["possible"],
                             f"{name}_pct": sums["attended"] / sums["possible"].where(sums["possible"] > 0) * 100})

    result = (actions[["id", "pupil_id", "type", "tier", "opened_on"]]
              .merge(windows[["id", "after_days"]], on="id")
              .merge(rates(before, "before"), left_on="id", right_index=True, how="left")
              .merge(rates(after, "after"), left_on="id", right_index=True, how="left"))
    result = result.assign(change_pts=result["after_pct"] - result["before_pct"],
                           before_possible=result["before_possible"].fillna(0).astype(int),
                           after_possible=result["after_possible"].fillna(0).astype(int),
                           window_complete=result["after_days"] >= school_days)
    return result[IMPACT_COLUMNS]


SMALL_GROUP = 10
IMPACT_BY_TYPE_COLUMNS = ["type", "tier", "pupils", "actions", "mean_change_pts", "improved", "indicative_only"]


def impact_by_type(per_action: pd.DataFrame) -> pd.DataFrame:
    """Per intervention type, over actions whose after window is complete and which have
    figures both sides: pupils, actions, mean change in points, how many improved; groups
    of fewer than SMALL_GROUP pupils are flagged as indicative only."""
    measured = per_action.dropna(subset=["change_pts"])
    measured = measured[measured["window_complete"].astype(bool)]
    if measured.empty:
        return pd.DataFrame(columns=IMPACT_BY_TYPE_COLUMNS)
    grouped = measured.groupby("type").agg(
        tier=("tier", "min"), pupils=("pupil_id", "nunique"), actions=("id", "size"),
        mean_change_pts=("change_pts", "mean"), improved=("change_pts", lambda c: int((c > 0).sum())))
    return (grouped.reset_index().assign(indicative_only=lambda f: f["pupils"] < SMALL_GROUP)
            .sort_values(["tier", "type"], ignore_index=True)[IMPACT_BY_TYPE_COLUMNS])
