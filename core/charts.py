"""Charts: the weekly attendance trend and the reasons for absence, drawn one way on every
screen and in every PDF (Altair; a PDF prints them through core/pdf.py's `chart_png`).

- `attendance_trend`: attendance week by week against the persistent-absence line
  (`thresholds.CHART_REFERENCE`), and, where a screen asks, the year to date, the national
  figure, a marker where each action started, labels on the lines, a title and larger type
  for a shared screen.
- `absence_reasons`: absence sessions by reason, authorised amber and unauthorised red.

Charts drawn once (the weekday heatmap, groups compared, lateness, a pupil's calendar of
marks) stay with their screen.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from core import codes, thresholds

ATTENDANCE_COLOURS = {"That week": "#1f4e79", "Year to date": "#f58518"}
REFERENCE_COLOUR, NATIONAL_COLOUR, ACTION_COLOUR = "#c0392b", "#7f8c8d", "#8e44ad"
GAP_COLOUR = "#bdc3c7"
TARGET_COLOUR, REVIEW_COLOUR = "#1e8449", "#117a65"
ABSENCE_KINDS = {codes.AUTHORISED: "Authorised", codes.UNAUTHORISED: "Unauthorised"}
ABSENCE_COLOURS = {codes.AUTHORISED: "#f0ad4e", codes.UNAUTHORISED: "#c0392b"}
DASH = [6, 4]


def attendance_trend(weekly: pd.DataFrame, *, height: int = 240, width: int | None = None,
                     font_size: int | None = None, year_to_date: bool = False, national: float | None = None,
                     actions: pd.DataFrame | None = None, impact_days: int | None = None, label: bool = False,
                     title: str | None = None, national_label: str = "", plan_targets: pd.DataFrame | None = None,
                     plan_reviews: pd.DataFrame | None = None) -> alt.LayerChart:
    """Weekly attendance (`weekly`: week_start, possible_sessions, attendance_pct, and
    cumulative_attendance_pct for `year_to_date`) with the persistent-absence line.

    `width` in pixels (None: the width of the screen's column; a PDF passes pdf.PRINT_WIDTH);
    `font_size` for the axes and title, drawn with a heavier line (meeting mode);
    `national`: the national attendance % as a second line, named with `national_label` (the
    period it describes, "autumn 2025/26", so a part-year figure says so); `label`: each line named on the
    chart; `actions` (type, opened_on, before_pct, after_pct, change_pts, after_days, as
    impact.impact gives them) marked where each started, `impact_days` the window they are
    measured over; `title` above the chart. A week with no possible session is a gap: the
    line breaks there, and a grey band marks it when it lies between weeks with some (with a
    saved school calendar, a school week nobody uploaded is such a week).
    An attendance support plan's layers (core/support_plans.py): `plan_targets` (set_on,
    by_date, attendance_pct, and status_label if known) each a green line at its level from
    the day it was set to its date; `plan_reviews` (on, what: "Review held" / "Review due")
    a green rule and ◆ at the foot for each review.
    """
    weekly = weekly.sort_values("week_start")
    gap = (weekly["possible_sessions"] <= 0).to_numpy()
    counted = weekly[~gap]
    series = {"attendance_pct": "That week", **({"cumulative_attendance_pct": "Year to date"} if year_to_date else {})}
    weeks = pd.DataFrame({
        "week_start": pd.to_datetime(counted["week_start"]).to_numpy(),
        "possible_sessions": counted["possible_sessions"].to_numpy(),
        "segment": gap.cumsum()[~gap],  # a week with no possible session ends a stretch of line
        **({"year_to_date_pct": counted["cumulative_attendance_pct"].astype("float64").to_numpy()}
           if "cumulative_attendance_pct" in counted and not year_to_date else {}),
    })
    lines = pd.concat([weeks.assign(measure=name, attendance_pct=counted[column].astype("float64").to_numpy())
                       for column, name in series.items()], ignore_index=True)
    reference = thresholds.CHART_REFERENCE
    lowest = float(lines["attendance_pct"].min()) if len(lines) else reference
    low = max(0.0, min(reference - 10, lowest - 3))

    text = {"labelFontSize": font_size, "titleFontSize": font_size} if font_size else {}
    ticks = [alt.DateTime(year=d.year, month=d.month, date=d.day) for d in weeks["week_start"]] or alt.Undefined
    x = alt.X("week_start:T", title="Week beginning", axis=alt.Axis(format="%d/%m", labelAngle=0, values=ticks, **text))
    y = alt.Y("attendance_pct:Q", title="Attendance %", scale=alt.Scale(domain=[low, 100]), axis=alt.Axis(**text))
    tooltip = [alt.Tooltip("week_start:T", title="Week beginning", format="%d/%m/%Y")]
    tooltip += [alt.Tooltip("measure:N", title="Measure")] if year_to_date else []
    tooltip += [alt.Tooltip("attendance_pct:Q", title="Attendance %", format=".1f")]
    if "year_to_date_pct" in weeks:
        tooltip += [alt.Tooltip("year_to_date_pct:Q", title="Year to date %", format=".1f")]
    tooltip += [alt.Tooltip("possible_sessions:Q", title="Possible sessions")]
    heavy = {"point": alt.OverlayMarkDef(size=80), "strokeWidth": 3} if font_size else {"point": True}
    sized = {"labelFontSize": font_size} if font_size else {}
    legend = alt.Legend(orient="bottom", **sized) if year_to_date else None
    colour = alt.Color("measure:N", title=None, legend=legend,
                       scale=alt.Scale(domain=list(series.values()),
                                       range=[ATTENDANCE_COLOURS[name] for name in series.values()]))
    layers = [alt.Chart(lines).mark_line(**heavy).encode(x=x, y=y, color=colour, detail=alt.Detail("segment:N"),
                                                         tooltip=tooltip)]
    layers += _gap_bands(weekly, gap, len(counted))

    drawn = [(reference, thresholds.PERSISTENT.attendance_label, REFERENCE_COLOUR)]
    national_name = f"National {national:.1f}%" + (f" ({national_label})" if national_label else "") \
        if national is not None else ""
    drawn += [(float(national), national_name, NATIONAL_COLOUR)] if national is not None else []
    for at, name, line_colour in drawn:
        line = pd.DataFrame({"attendance_pct": [at], "name": [name]})
        layers.append(alt.Chart(line).mark_rule(color=line_colour, strokeDash=DASH).encode(
            y=alt.Y("attendance_pct:Q"), tooltip=alt.Tooltip("name:N", title="Line")))
        if label:
            layers.append(alt.Chart(line).mark_text(align="left", dx=4, dy=9, color=line_colour,
                                                    **({"fontSize": font_size} if font_size else {})).encode(
                y=alt.Y("attendance_pct:Q"), text=alt.Text("name:N"), x=alt.XValue(0)))

    if actions is not None and not actions.empty:
        layers += _action_markers(actions, impact_days)
    if plan_targets is not None and not plan_targets.empty and len(weeks):
        layers += _target_lines(plan_targets, weeks["week_start"].min(), weeks["week_start"].max() + pd.Timedelta(days=6))
    if plan_reviews is not None and not plan_reviews.empty:
        layers += _review_markers(plan_reviews, low)
    chart = alt.layer(*layers).properties(height=height)
    if width is not None:
        chart = chart.properties(width=width)
    if title:
        chart = chart.properties(title=alt.Title(title, **({"fontSize": font_size} if font_size else {})))
    return chart


def _gap_bands(weekly: pd.DataFrame, gap, counted: int) -> list[alt.Chart]:
    """A grey band over each school week with no possible session between weeks with some
    (the line breaks there rather than running straight through)."""
    if not counted or not gap.any():
        return []
    inside = gap & (pd.Series(~gap).cummax().to_numpy()) & (pd.Series(~gap[::-1]).cummax().to_numpy()[::-1])
    if not inside.any():
        return []
    starts = pd.to_datetime(weekly["week_start"]).to_numpy()[inside]
    bands = pd.DataFrame({"week_start": starts, "week_end": starts + pd.Timedelta(days=7),
                          "what": "No marks counted this week — see Data quality"})
    return [alt.Chart(bands).mark_rect(color=GAP_COLOUR, opacity=0.35).encode(
        x=alt.X("week_start:T"), x2=alt.X2("week_end:T"),
        tooltip=[alt.Tooltip("week_start:T", title="Week beginning", format="%d/%m/%Y"),
                 alt.Tooltip("what:N", title="Gap")])]


def _action_markers(actions: pd.DataFrame, impact_days: int | None) -> list[alt.Chart]:
    """A dotted rule and a ▼ at the top where each action started; its tooltip gives
    attendance in the `impact_days` school days before it and since."""
    days = impact_days or 0

    def percent(value) -> str:
        return "—" if value is None or pd.isna(value) else f"{value:.1f}%"

    marks = pd.DataFrame({
        "type": actions["type"], "started": pd.to_datetime(actions["opened_on"]), "top": 100.0,
        "before": actions["before_pct"].map(percent), "after": actions["after_pct"].map(percent),
        "change": actions["change_pts"].map(lambda c: "" if pd.isna(c) else f"{c:+.1f} pts"),
        "window": actions["after_days"].map(lambda d: f"{d} of {days} school days so far"
                                            if d < days else f"{days} school days")})
    tooltip = [alt.Tooltip("type:N", title="Action"), alt.Tooltip("started:T", title="Started", format="%d/%m/%Y"),
               alt.Tooltip("before:N", title=f"{days} school days before"),
               alt.Tooltip("after:N", title="After"), alt.Tooltip("window:N", title="After covers"),
               alt.Tooltip("change:N", title="Change")]
    return [alt.Chart(marks).mark_rule(color=ACTION_COLOUR, strokeDash=[2, 3]).encode(x=alt.X("started:T"),
                                                                                      tooltip=tooltip),
            alt.Chart(marks).mark_point(shape="triangle-down", size=140, filled=True, color=ACTION_COLOUR).encode(
                x=alt.X("started:T"), y=alt.Y("top:Q"), tooltip=tooltip)]


def _target_lines(targets: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> list[alt.Chart]:
    """Each plan target as a line at its level from the day it was set to its date, drawn
    within the chart's weeks (`first` to `last`; its date is in the tooltip)."""
    status = targets["status_label"] if "status_label" in targets else pd.Series("", index=targets.index)
    targets = targets[(pd.to_datetime(targets["set_on"]) <= last) & (pd.to_datetime(targets["by_date"]) >= first)]
    if targets.empty:
        return []
    status = status.loc[targets.index]
    ends = pd.concat([
        pd.DataFrame({"target": range(len(targets)),
                      "day": pd.to_datetime(targets[column]).clip(lower=first, upper=last).to_numpy(),
                      "attendance_pct": targets["attendance_pct"].astype("float64").to_numpy(),
                      "by": pd.to_datetime(targets["by_date"]).to_numpy(), "status": status.fillna("").to_numpy()})
        for column in ("set_on", "by_date")], ignore_index=True)
    tooltip = [alt.Tooltip("attendance_pct:Q", title="Plan target %", format=".1f"),
               alt.Tooltip("by:T", title="By", format="%d/%m/%Y"), alt.Tooltip("status:N", title="Progress")]
    line = alt.Chart(ends).mark_line(color=TARGET_COLOUR, strokeWidth=2.5, strokeDash=[8, 3]).encode(
        x=alt.X("day:T"), y=alt.Y("attendance_pct:Q"), detail=alt.Detail("target:N"), tooltip=tooltip)
    return [line, line.mark_point(color=TARGET_COLOUR, shape="square", filled=True, size=50)]


def _review_markers(reviews: pd.DataFrame, low: float) -> list[alt.Chart]:
    """A rule and a ◆ at the foot of the chart for each plan review (held or due)."""
    marks = pd.DataFrame({"on": pd.to_datetime(reviews["on"]).to_numpy(), "what": reviews["what"].to_numpy(),
                          "foot": float(low)})
    tooltip = [alt.Tooltip("what:N", title="Support plan"), alt.Tooltip("on:T", title="Date", format="%d/%m/%Y")]
    return [alt.Chart(marks).mark_rule(color=REVIEW_COLOUR, strokeDash=[1, 3]).encode(x=alt.X("on:T"), tooltip=tooltip),
            alt.Chart(marks).mark_point(shape="diamond", size=120, filled=True, color=REVIEW_COLOUR).encode(
                x=alt.X("on:T"), y=alt.Y("foot:Q"), tooltip=tooltip)]


def absence_reasons(reasons: pd.DataFrame, *, width: int | None = None, font_size: int | None = None,
                    row_height: int = 20, legend: bool = True) -> alt.Chart:
    """Absence sessions by reason (`reasons`: reason, category, sessions, and share_pct if
    known), authorised amber and unauthorised red, most sessions first.

    `width` in pixels (None: the screen's column); `font_size` of the reasons; `row_height`
    of each bar; `legend` off where the screen says the colours in a caption."""
    shown = reasons.assign(kind=reasons["category"].map(ABSENCE_KINDS))
    tooltip = [alt.Tooltip("reason:N", title="Reason"), alt.Tooltip("sessions:Q", title="Sessions")]
    tooltip += [alt.Tooltip("share_pct:Q", title="Share of absence %", format=".1f")] if "share_pct" in shown else []
    chart = alt.Chart(shown).mark_bar().encode(
        x=alt.X("sessions:Q", title="Absence sessions"),
        y=alt.Y("reason:N", sort="-x", title=None,
                axis=alt.Axis(labelLimit=260, **({"labelFontSize": font_size} if font_size else {}))),
        color=alt.Color("kind:N", title=None, legend=alt.Undefined if legend else None,
                        scale=alt.Scale(domain=list(ABSENCE_KINDS.values()), range=list(ABSENCE_COLOURS.values()))),
        tooltip=tooltip,
    ).properties(height=alt.Step(row_height))
    return chart if width is None else chart.properties(width=width)
