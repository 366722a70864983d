"""The two shared charts: the weekly attendance trend and the reasons for absence, read back
from the Vega-Lite each one sends (the same spec a screen draws and a PDF prints)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from core import charts, codes, thresholds

WEEKS = pd.DataFrame({"week_start": [date(2025, 9, 1), date(2025, 9, 8), date(2025, 9, 15)],
                      "possible_sessions": [10, 0, 10], "attendance_pct": [90.0, None, 70.0],
                      "cumulative_attendance_pct": [90.0, 90.0, 80.0]})


def layers(chart) -> list[tuple[str, list[dict]]]:
    """(mark, rows) of each layer."""
    spec = chart.to_dict()
    return [(layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"],
             spec["datasets"][layer["data"]["name"]]) for layer in spec["layer"]]


def test_the_trend_draws_the_persistent_absence_line_from_the_thresholds():
    [(_, rows)] = [(mark, rows) for mark, rows in layers(charts.attendance_trend(WEEKS)) if mark == "rule"]
    assert rows == [{"attendance_pct": thresholds.CHART_REFERENCE, "name": thresholds.PERSISTENT.attendance_label}]


def test_the_trend_leaves_out_weeks_with_no_possible_session():
    [(_, rows)] = [(mark, rows) for mark, rows in layers(charts.attendance_trend(WEEKS)) if mark == "line"]
    assert [row["attendance_pct"] for row in rows] == [90.0, 70.0]


def test_the_overview_trend_adds_the_year_to_date_and_a_labelled_national_line():
    drawn = layers(charts.attendance_trend(WEEKS, year_to_date=True, national=93.1, label=True))
    [(_, lines)] = [(mark, rows) for mark, rows in drawn if mark == "line"]
    assert {row["measure"] for row in lines} == {"That week", "Year to date"}
    assert [rows[0]["name"] for mark, rows in drawn if mark == "text"] == [thresholds.PERSISTENT.attendance_label,
                                                                            "National 93.1%"]


def test_actions_are_marked_where_they_started():
    actions = pd.DataFrame({"type": ["Home visit"], "opened_on": [date(2025, 9, 10)], "before_pct": [90.0],
                            "after_pct": [80.0], "change_pts": [-10.0], "after_days": [4]})
    drawn = layers(charts.attendance_trend(WEEKS, actions=actions, impact_days=20))
    [marker] = [rows for mark, rows in drawn if mark == "point"]
    assert marker[0]["type"] == "Home visit" and marker[0]["change"] == "-10.0 pts"
    assert marker[0]["window"] == "4 of 20 school days so far"


def test_reasons_are_coloured_authorised_and_unauthorised():
    reasons = pd.DataFrame({"reason": ["Illness (I)", "Other unauthorised absence (O)"],
                            "category": [codes.AUTHORISED, codes.UNAUTHORISED], "sessions": [4, 10]})
    spec = charts.absence_reasons(reasons, width=640).to_dict()
    assert spec["width"] == 640
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Authorised", "Unauthorised"]
    assert [row["kind"] for row in spec["datasets"][spec["data"]["name"]]] == ["Authorised", "Unauthorised"]


def test_the_trend_breaks_the_line_at_a_week_with_no_possible_session_and_shades_it():
    drawn = layers(charts.attendance_trend(WEEKS))
    [(_, rows)] = [(mark, rows) for mark, rows in drawn if mark == "line"]
    assert [(row["attendance_pct"], row["segment"]) for row in rows] == [(90.0, 0), (70.0, 1)]
    line = next(layer for layer in charts.attendance_trend(WEEKS).to_dict()["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["detail"] == {"field": "segment", "type": "nominal"}
    [(_, bands)] = [(mark, rows) for mark, rows in drawn if mark == "rect"]
    assert [band["week_start"][:10] for band in bands] == ["2025-09-08"]


def test_the_trend_draws_no_gap_where_every_week_counts():
    counted = WEEKS[WEEKS["possible_sessions"] > 0]
    drawn = layers(charts.attendance_trend(counted))
    assert [mark for mark, _ in drawn].count("rect") == 0
    [(_, rows)] = [(mark, rows) for mark, rows in drawn if mark == "line"]
    assert {row["segment"] for row in rows} == {0}


def test_a_plan_target_is_a_line_at_its_level_from_the_day_set_to_its_date_within_the_charts_weeks():
    plan_targets = pd.DataFrame({"set_on": [date(2025, 9, 3)], "by_date": [date(2025, 10, 17)],
                                 "attendance_pct": [92.0], "status_label": ["Behind"]})
    drawn = layers(charts.attendance_trend(WEEKS, plan_targets=plan_targets))
    target = [rows for mark, rows in drawn if mark == "line" and rows and "target" in rows[0]]
    assert len(target) == 1 and [row["attendance_pct"] for row in target[0]] == [92.0, 92.0]
    # set on 03/09; its date (17/10) is after the last week shown (15/09), so the line stops there
    assert [row["day"][:10] for row in target[0]] == ["2025-09-03", "2025-09-21"]
    assert target[0][0]["by"][:10] == "2025-10-17" and target[0][0]["status"] == "Behind"


def test_plan_reviews_are_marked_on_their_dates_and_the_trend_is_unchanged_without_a_plan():
    reviews = pd.DataFrame({"on": [date(2025, 9, 10), date(2025, 10, 22)], "what": ["Review held", "Review due"]})
    drawn = layers(charts.attendance_trend(WEEKS, plan_reviews=reviews))
    [diamonds] = [rows for mark, rows in drawn if mark == "point"]
    assert [(row["on"][:10], row["what"]) for row in diamonds] == [("2025-09-10", "Review held"),
                                                                   ("2025-10-22", "Review due")]
    assert len(drawn) == len(layers(charts.attendance_trend(WEEKS))) + 2  # a rule and a ◆ layer, nothing else


# --- drawn on a screen: app_pages/ui/formatting.chart ----------------------------------------


def _both_ways(weeks):
    """A script drawing the same trend through `chart` and through st.altair_chart."""
    import streamlit as st

    from app_pages.ui.formatting import chart
    from core import charts

    chart(charts.attendance_trend, weeks, height=260, label=True)
    st.altair_chart(charts.attendance_trend(weeks, height=260, label=True), width="stretch")


def test_a_chart_drawn_by_the_screens_helper_is_the_element_st_altair_chart_sends():
    import json

    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_both_ways, args=(WEEKS,))
    app.run()
    ours, streamlits = (element.proto for element in app.get("vega_lite_chart"))
    assert json.loads(ours.spec) == json.loads(streamlits.spec)
    assert [(d.name, d.data.data) for d in ours.datasets] == [(d.name, d.data.data) for d in streamlits.datasets]
    assert len(ours.datasets) >= 3  # the weeks, the 90% line and its label
    assert ours == streamlits  # and everything else the element says (its width, its id)


def test_a_chart_is_built_once_for_the_same_figures_and_again_when_they_change(monkeypatch):
    from app_pages.ui import formatting

    formatting._chart_spec.clear()
    built, drawn, keys = [], [], []
    monkeypatch.setattr(formatting.st, "vega_lite_chart",
                        lambda **kwargs: (drawn.append(kwargs["spec"]), keys.append(kwargs["key"])))

    def trend(weeks, **options):
        built.append(len(weeks))
        return charts.attendance_trend(weeks, **options)

    formatting.chart(trend, WEEKS, height=200)
    formatting.chart(trend, WEEKS.copy(), height=200, key="trend")  # the same figures in another frame
    assert len(built) == 1 and drawn[0] == drawn[1]
    assert keys[:2] == [None, "trend"]  # the element's own key, as the screen gave it
    drawn[0]["layer"].clear()  # a spec handed out is the caller's own
    formatting.chart(trend, WEEKS, height=200)
    assert drawn[2] == drawn[1] and len(built) == 1
    formatting.chart(trend, WEEKS.assign(attendance_pct=[80.0, None, 70.0]), height=200)
    formatting.chart(trend, WEEKS, height=300)
    assert len(built) == 3
    assert drawn[3]["datasets"] != drawn[1]["datasets"] and drawn[4]["height"] == 300
    drawn_by_altair = []
    monkeypatch.setattr(formatting.st, "altair_chart", lambda chart, **kwargs: drawn_by_altair.append(chart))
    formatting.chart(trend, WEEKS.assign(note=[["a list"], [], []]), height=200)  # cells hashed by value too
    formatting.chart(trend, WEEKS.assign(note=[["a list"], [], []]), height=200)
    assert len(built) == 4 and len(drawn) == 7
    for _ in range(2):  # what Streamlit cannot hash is drawn as it is, never matched to a cached spec
        formatting.chart(trend, WEEKS, height=200, impact_days=object())
    assert len(built) == 6 and len(drawn_by_altair) == 2 and len(drawn) == 7
