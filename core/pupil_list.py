"""The pupil list behind the Below 90% and Letters screens: one row per pupil, their figures
joined with the change since the previous upload, the triggers reached and — for Below 90% —
their patterns, weekly attendance and latest case work, all in core column names. Screens
choose rows with core/selections.py and groups with core/groups.py, and rename the columns
for display at the very end.
"""

from __future__ import annotations

import pandas as pd

from core import calendar, letters

def triggers_by_pupil(reached: pd.DataFrame) -> pd.Series:
    """pupil_id → the ids of the triggers each pupil reached, earliest first."""
    return reached.sort_values("reached_on").groupby("pupil_id")["trigger"].agg(list)


def joined(figures: pd.DataFrame, change: pd.DataFrame, reached: pd.DataFrame, patterns: pd.DataFrame | None = None,
           weekly_pcts: pd.Series | None = None, latest: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pupils of `figures` (metrics.pupil_figures), in its order, with:

    - the columns of `change` (patterns.change_since), `newly_persistent` False where it has none;
    - `triggers`: the trigger ids reached (from triggers.reached), earliest first, [] for none;
    - given `patterns` (patterns.pupil_patterns): `top_reason_label`, `worst_weekday` ('' for none);
    - given `weekly_pcts` (pupil_id → list of weekly attendance percentages): `weekly_pcts`;
    - given `latest` (cases.latest_actions): `last_action`, `last_action_on`, `next_check_in`
      (a date or None) and `check_in_overdue` (bool).
    """
    table = figures.merge(change, on="pupil_id", how="left")
    reached_by_pupil = triggers_by_pupil(reached)
    table = table.assign(
        newly_persistent=table["newly_persistent"].fillna(False).astype(bool).to_numpy(),
        triggers=[t if isinstance(t, list) else [] for t in table["pupil_id"].map(reached_by_pupil)],
    )
    if patterns is not None:
        table = table.merge(patterns[["pupil_id", "top_reason_label", "worst_weekday"]], on="pupil_id", how="left")
        table = table.assign(top_reason_label=table["top_reason_label"].fillna("").to_numpy(),
                             worst_weekday=table["worst_weekday"].fillna("").to_numpy())
    if weekly_pcts is not None:
        table = table.assign(weekly_pcts=table["pupil_id"].map(weekly_pcts).to_numpy())
    if latest is not None:
        table = table.merge(latest, on="pupil_id", how="left")
        table = table.assign(
            next_check_in=table["next_check_in"].astype(object).where(table["next_check_in"].notna(), None).to_numpy(),
            check_in_overdue=table["check_in_overdue"].fillna(False).astype(bool).to_numpy(),
        )
    return table


def with_letters_agreed(pupils: pd.DataFrame, agreed: pd.DataFrame) -> pd.DataFrame:
    """`letter_agreed`: whether a meeting agreed an attendance letter for the pupil that is not
    made yet, and `agreed_letter` saying which and when (meetings.letters_agreed: pupil_id,
    stage, agreed_on) — empty where none is waiting."""
    said = {int(r.pupil_id): f"Stage {int(r.stage)}, agreed {calendar.uk_date(r.agreed_on)}"
            for r in agreed.itertuples()}
    return pupils.assign(letter_agreed=pupils["pupil_id"].isin(list(said)),
                         agreed_letter=pupils["pupil_id"].map(lambda p: said.get(int(p), "")))


def with_next_letter_due(pupils: pd.DataFrame, stages: pd.DataFrame, kind: str) -> pd.DataFrame:
    """`next_letter_due`: whether a letter of `kind` is the next stage for each pupil, from the
    stages sent so far (letters.stages: pupil_id, stage); a pupil sent none is due stage 1."""
    sent = pupils["pupil_id"].map(stages.set_index("pupil_id")["stage"]) if not stages.empty else \
        pd.Series(0, index=pupils.index)
    return pupils.assign(next_letter_due=(sent.fillna(0).astype(int) + 1) == letters.STAGES.get(kind, 0))
