"""A school's reads on a trust's store (issue 18 item 5): a read scoped to a school computes only
that school's pupils, and every row it gives is the row the whole trust's read gives for the
same pupil — figures, triggers, patterns, sessions to spare, the watch list, the CLI.

The store: two schools of 80 pupils each (more than scope.READ_WHOLE_UP_TO_PUPILS, so the
scoped reads take the same road as a real school's), an autumn term of random marks, some
pupils with ten days' unauthorised absence in a row or 30+ sessions of illness (so both
schools reach triggers), and a few pupils with summary counts for the first days of
September. Each school's files are imported into it, as `pastoral import --school` does.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from core import auth, cases, cli, early_warning, metrics, reads, schools, scope, store, triggers
from tests.conftest import filled_once, make_upn

PUPILS = 80  # in each school
TERM_START, TERM_END = date(2025, 9, 3), date(2025, 12, 19)
HALF_TERM = (date(2025, 10, 27), date(2025, 10, 31))
AS_OF = TERM_END
CODES = np.array(["/", "\\", "O", "I", "N", "L", "M", "G", "X", ""])
WEIGHTS = np.array([0.40, 0.40, 0.05, 0.05, 0.02, 0.03, 0.01, 0.01, 0.02, 0.01])
PASSWORD = "school-reads-test-pw-7"


def school_days() -> list[date]:
    days, day = [], TERM_START
    while day <= TERM_END:
        if day.weekday() < 5 and not HALF_TERM[0] <= day <= HALF_TERM[1]:
            days.append(day)
        day += timedelta(days=1)
    return days


def school_files(folder, number: int, rng) -> tuple:
    """One school's roll, marks and summary counts, as CSV files."""
    serials = range(number * 100, number * 100 + PUPILS)
    upns = [make_upn(s) for s in serials]
    years = rng.integers(1, 12, PUPILS)
    roll = pd.DataFrame({
        "upn": upns, "adno": [f"{number}{i:04d}" for i in range(PUPILS)],
        "surname": [f"Surname{number}{i:02d}" for i in range(PUPILS)], "forename": "Pat",
        "dob": [f"{2025 - y - 5}-12-01" for y in years], "gender": "F", "year_group": years.astype(str),
        "form": [f"{y}A" for y in years], "pp": "N", "fsm": "N", "sen": "N", "eal": "N", "cla": "N"})
    days = school_days()
    marks = CODES[rng.choice(len(CODES), (PUPILS, len(days), 2), p=WEIGHTS)]
    marks[0:4, 20:32, :] = "O"  # twelve days' unauthorised absence in a row
    marks[0:2, 32:44, :] = "O"  # ...and for two of them twenty-four
    marks[4:7, 5:25, :] = "I"  # forty sessions of illness
    marks[7:9, 30:36, :] = "G"  # twelve sessions unauthorised: the penalty-notice threshold
    rows = pd.DataFrame({
        "upn": np.repeat(upns, len(days) * 2),
        "date": np.tile(np.repeat([d.isoformat() for d in days], 2), PUPILS),
        "session": np.tile(["AM", "PM"], PUPILS * len(days)),
        "mark": marks.reshape(-1),
    })
    counts = pd.DataFrame({"UPN": upns[10:14], "From": "2025-09-01", "To": "2025-09-02", "Possible": 4,
                           "Present": 3, "Authorised": 1, "Unauthorised": 0})
    paths = []
    for name, frame in (("roll", roll), ("marks", rows), ("counts", counts)):
        paths.append(folder / f"school{number}_{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return tuple(paths)


@pytest.fixture
@filled_once
def trust(db, tmp_path):
    """The two schools' store; returns (path, version)."""
    from core.importers import import_file

    rng = np.random.default_rng(18)
    second = schools.add_school(db, "Second School", "999/4002", by="test").id
    for school_id, number in ((schools.FIRST_SCHOOL, 1), (second, 2)):
        for path in school_files(tmp_path, number, rng):
            with schools.routed_to(db, school_id):
                outcome = import_file(db, path, "test")
            assert outcome.status == "imported", outcome.problems[:3]
    auth.add_user(db, "officer1", "Officer One", PASSWORD, auth.ATTENDANCE_OFFICER, schools=[1], by="test")
    auth.add_user(db, "officer2", "Officer Two", PASSWORD, auth.ATTENDANCE_OFFICER, schools=[second], by="test")
    auth.add_user(db, "lead", "Trust Lead", PASSWORD, auth.TRUST_LEAD, by="test")
    return db


@pytest.fixture
def path(trust):
    reads.clear()
    yield reads.path_of(trust)
    reads.clear()


def of_school(frame: pd.DataFrame, db, school_id: int) -> pd.DataFrame:
    """The rows of a trust-wide frame for one school's pupils, as a fresh frame."""
    ids = schools.pupil_ids_of(db, [school_id])
    return frame[frame["pupil_id"].isin(ids)].reset_index(drop=True)


SCHOOLS = (1, 2)


@pytest.mark.parametrize("date_from", [date(2025, 9, 1), date(2025, 10, 6)], ids=["year", "part of the year"])
def test_a_schools_figures_are_the_trusts_figures_of_its_pupils(trust, path, date_from):
    version = reads.version(path)
    everyone = reads.pupil_figures(path, version, date_from, AS_OF)
    for school_id in SCHOOLS:
        ours = reads.pupil_figures(path, version, date_from, AS_OF, (school_id,))
        assert len(ours) == PUPILS
        assert set(ours["pupil_id"]) == set(schools.pupil_ids_of(trust, [school_id]))
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), of_school(everyone, trust, school_id))
    if date_from.month == 9:  # the summary counts of 1-2 September are in both reads
        assert (everyone["counted_sessions"] > 0).sum() == 8


def test_a_schools_triggers_are_the_trusts_triggers_of_its_pupils(trust, path):
    version = reads.version(path)
    everyone = reads.triggers_reached(path, version, AS_OF)
    for school_id in SCHOOLS:
        ours = reads.triggers_reached(path, version, AS_OF, (school_id,))
        expected = of_school(everyone, trust, school_id)
        assert set(expected["trigger"]) == set(triggers.BY_ID)  # each school reaches every trigger
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), expected)
        # ...and so does the core function given the school's pupils (the CLI's --school).
        pd.testing.assert_frame_equal(triggers.reached(trust, AS_OF, schools.pupil_ids_of(trust, [school_id])),
                                      expected)


def test_a_school_users_screen_reads_are_the_trusts_rows_of_their_pupils(trust, path):
    version = reads.version(path)
    start = date(2025, 9, 1)
    previous = date(2025, 11, 14)
    everyone = {
        "patterns": reads.pupil_patterns(path, version, start, AS_OF, None),
        "weekly": reads.pupil_weekly(path, version, start, AS_OF, None, 12),
        "change": reads.change_since(path, version, start, AS_OF, previous, None),
        "spare": reads.spare_sessions(path, version, AS_OF),
    }
    watch = reads.watch_list(path, version, start, AS_OF, None)
    for school_id in SCHOOLS:
        user = auth.get_user(trust, f"officer{school_id}")
        assert reads.school_scope(user) == (school_id,)
        ids = reads.scoped_pupil_ids(user, path, version)
        assert reads.school_pupil_ids(path, version, (school_id,)) == ids
        ours = {
            "patterns": reads.pupil_patterns(path, version, start, AS_OF, ids),
            "weekly": reads.pupil_weekly(path, version, start, AS_OF, ids, 12),
            "change": reads.change_since(path, version, start, AS_OF, previous, ids),
            "spare": reads.spare_sessions(path, version, AS_OF, reads.school_scope(user)),
        }
        for name, frame in ours.items():
            expected = of_school(everyone[name], trust, school_id)
            assert len(expected), name
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected, obj=name)
        pd.testing.assert_frame_equal(reads.watch_list(path, version, start, AS_OF, ids).reset_index(drop=True),
                                      of_school(watch, trust, school_id))


def test_figures_of_some_pupils_are_their_rows_of_the_trusts_figures_read_for_their_schools(trust, path, monkeypatch):
    version = reads.version(path)
    everyone = reads.pupil_figures(path, version, date(2025, 9, 1), AS_OF)
    some = tuple(schools.pupil_ids_of(trust, [2]))[3:20]
    asked = []
    real = metrics.pupil_figures
    monkeypatch.setattr(metrics, "pupil_figures", lambda db, period, ids=None: asked.append(ids) or real(db, period, ids))
    reads.clear()
    ours = reads.figures_of_pupils(path, version, date(2025, 9, 1), AS_OF, some)
    assert asked == [list(schools.pupil_ids_of(trust, [2]))]  # school 2's pupils computed, not the trust's
    pd.testing.assert_frame_equal(ours.reset_index(drop=True),
                                  everyone[everyone["pupil_id"].isin(some)].reset_index(drop=True))
    both = tuple(schools.pupil_ids_of(trust, [1]))[:3] + some
    assert sorted(reads.figures_of_pupils(path, version, date(2025, 9, 1), AS_OF, both)["pupil_id"]) == sorted(both)
    assert len(reads.figures_of_pupils(path, version, date(2025, 9, 1), AS_OF, None)) == len(everyone)


def test_a_schools_reports_letters_packs_and_agenda_read_only_its_pupils_and_match_the_whole_trusts(
        trust, path, monkeypatch):
    """Each document built for one school's pupils (half-term statistics, letters' fields,
    the section report, the LA pack, the evidence pack, the meeting agenda) computes figures
    and triggers for that school alone, and says what it says when built from every
    school's figures."""
    from core import evidence_pack, la_pack, letters, meetings, section_report, statistics

    ids = list(schools.pupil_ids_of(trust, [2]))
    user = auth.get_user(trust, "officer2")
    viewer = auth.Viewer.of(user)
    period = metrics.Period(date(2025, 9, 1), AS_OF)
    term = statistics.half_terms_so_far(trust)[-1]
    persistent = reads.pupil_figures(path, reads.version(path), period.date_from, AS_OF, (2,)).query("persistently_absent")
    pa_pupil = int(persistent["pupil_id"].iloc[0])
    for pupil_id in persistent["pupil_id"].iloc[:2]:  # in the LA pack: PA with an agency involved
        cases.open_intervention(trust, viewer, int(pupil_id), "Early Help referral", "officer2", date(2025, 9, 2),
                                details={"agency": "Early Help hub"})
    store.set_setting(trust, "la_pack_min_agencies", 1, "test")
    builders = {
        "statistics": lambda: statistics.half_term_statistics(trust, term, None, ids),
        "letters": lambda: letters.field_values(trust, period, ids[:10], AS_OF, "A Signatory"),
        "section report": lambda: section_report.section_report(trust, viewer, period, "Second School", ids).pa_list,
        "LA pack": lambda: la_pack.la_pack(trust, viewer, period, ids).pupils,
        "evidence pack": lambda: evidence_pack.evidence_pack(trust, viewer, pa_pupil, period, AS_OF).triggers,
        "agenda": lambda: meetings.agenda(trust, viewer, AS_OF, ids).items,
    }
    asked = []
    real = metrics.pupil_figures
    monkeypatch.setattr(metrics, "pupil_figures", lambda db, period, only=None: asked.append(only) or real(db, period, only))
    built = {}
    for name, build in builders.items():
        reads.clear()
        built[name] = build()
        assert asked and all(only is not None and set(only) <= set(ids) for only in asked), name
        asked.clear()
    monkeypatch.setattr(reads, "_schools_of", lambda *args: None)  # every school's figures, then its pupils'
    for name, build in builders.items():
        reads.clear()
        whole = build()
        assert None in asked, name
        asked.clear()
        assert len(whole), name
        pd.testing.assert_frame_equal(built[name].reset_index(drop=True), whole.reset_index(drop=True), obj=name)


@pytest.mark.parametrize("days", [(date(2025, 9, 1), AS_OF), (date(2025, 10, 6), date(2025, 11, 20))],
                         ids=["year", "part of the year"])
def test_a_schools_marks_read_on_the_pupil_index_are_the_marks_counted_in_sql(trust, days):
    """The day-by-day tally and the lates of one school's pupils, read on the (pupil_id, code,
    day) index and counted here, are what SQL counts from the same pupils' marks."""
    from core import calendar, marks

    first, last = (calendar.to_day(d) for d in days)
    for school_id in SCHOOLS:
        ids = schools.pupil_ids_of(trust, [school_id])
        counted = trust.execute(
            "SELECT day, code, SUM(session = 0), SUM(session = 1) FROM marks WHERE day BETWEEN ? AND ? AND pupil_id "
            "IN (SELECT value FROM json_each(?)) GROUP BY day, code", (first, last, json.dumps(ids))).fetchall()
        assert len(counted) > 50
        assert marks.sessions_by_day_and_code(trust, first, last, ids) == counted
        lates = marks.marks_with_codes(trust, first, last, ("L", "U"), ids, rare=True)
        assert lates and sorted(lates) == sorted(marks.marks_with_codes(trust, first, last, ("L", "U"), ids))
        assert {row[0] for row in lates} <= set(ids)


def test_only_a_school_scope_reads_the_school_alone(trust, path):
    """A trust-wide user and a one-school scope covering every pupil read every pupil; a
    school's user reads their school's pupils only."""
    version = reads.version(path)
    assert reads.school_scope(auth.get_user(trust, "lead")) is None
    assert reads._schools_of(path, version, None) is None
    assert reads._schools_of(path, version, tuple(schools.pupil_ids_of(trust, [1, 2]))) is None
    assert reads._schools_of(path, version, tuple(schools.pupil_ids_of(trust, [2]))[:5]) == (2,)


def test_recording_one_schools_triggers_leaves_the_other_schools_history(trust, path):
    version = reads.version(path)
    everyone = reads.triggers_reached(path, version, AS_OF)
    assert triggers.record_shown(trust, everyone, AS_OF)["recorded"] == len(everyone)
    first = reads.triggers_reached(path, version, AS_OF, (1,))
    # One school's screen records its own triggers: nothing of the other school is withdrawn.
    assert triggers.record_shown(trust, first, AS_OF, schools.pupil_ids_of(trust, [1])) == \
        {"recorded": 0, "withdrawn": 0, "moved": 0}
    standing = triggers.history(trust)
    assert len(standing[standing["withdrawn_at"].isna()]) == len(everyone)


def test_pupils_and_summary_with_school_are_the_trusts_rows_of_its_pupils(trust, path, capsys):
    def pupils(*extra):
        assert cli.main(["--db", path, "pupils", *extra]) == 0
        return pd.DataFrame(json.loads(capsys.readouterr().out))

    everyone = pupils()
    upns = store.pupils_frame(trust).set_index("id")["upn"]
    for school_id in SCHOOLS:
        ours = pupils("--school", str(school_id))
        theirs = set(upns.reindex(schools.pupil_ids_of(trust, [school_id])))
        assert len(ours) == PUPILS
        pd.testing.assert_frame_equal(ours, everyone[everyone["upn"].isin(theirs)].reset_index(drop=True))
        assert cli.main(["--db", path, "summary", "--school", str(school_id)]) == 0
        summary = json.loads(capsys.readouterr().out)
        figures = metrics.pupil_figures(trust, metrics.default_period(trust))
        assert summary == json.loads(json.dumps(metrics.summary(of_school(figures, trust, school_id))))


def test_sessions_to_spare_of_a_school_are_the_trusts_rows(trust):
    everyone = early_warning.spare_sessions(trust, AS_OF)
    for school_id in SCHOOLS:
        ids = schools.pupil_ids_of(trust, [school_id])
        pd.testing.assert_frame_equal(early_warning.spare_sessions(trust, AS_OF, pupil_ids=ids),
                                      of_school(everyone, trust, school_id))


def test_triggers_read_from_the_pupils_who_might_reach_one_are_every_trigger(trust, path):
    """The cached read of triggers reads only the pupils with enough unauthorised or illness
    sessions; it finds what reading every pupil finds, and what it finds when a view has
    read the whole year already."""
    version = reads.version(path)
    first_day, last_day = triggers.marks_needed(trust, AS_OF)
    compulsory = store.pupils_frame(trust)
    everyone = triggers.reached_from(trust, AS_OF, scope.read_scope(trust, first_day, last_day,
                                                                    compulsory["id"].tolist()))  # every pupil read
    pd.testing.assert_frame_equal(triggers.reached(trust, AS_OF), everyone)
    figures = reads.pupil_figures(path, version, reads.calendar.from_day(first_day), reads.calendar.from_day(last_day))
    for might in (triggers.might_reach(trust, AS_OF), triggers.might_reach_from_figures(trust, figures)):
        assert set(everyone["pupil_id"]) <= set(might)
        assert len(might) < 2 * PUPILS  # some pupils are left unread
    pd.testing.assert_frame_equal(reads.triggers_reached(path, version, AS_OF), everyone)
    reads.clear()
    reads.scope_marks(path, version, first_day, last_day, None)  # a view's whole read, held
    pd.testing.assert_frame_equal(reads.triggers_reached(path, version, AS_OF), everyone)


def test_a_schools_data_quality_lists_are_the_trusts_rows_of_its_pupils(trust, path):
    version = reads.version(path)
    start = date(2025, 9, 1)
    everyone = reads.data_quality(path, version, start, AS_OF, None)
    for school_id in SCHOOLS:
        ids = reads.school_pupil_ids(path, version, (school_id,))
        ours = reads.data_quality(path, version, start, AS_OF, ids)
        assert set(ours) == set(everyone)
        for check, frame in ours.items():
            expected = everyone[check]
            expected = expected[expected["pupil_id"].isin(ids)].reset_index(drop=True)
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected, obj=check, check_dtype=False)
        assert len(ours["missing_marks"]) and len(ours["unresolved_n"])


def test_the_pupils_json_is_written_as_json_dumps_writes_it():
    """`pastoral pupils` writes its JSON column by column: the same text as json.dumps."""
    frame = pd.DataFrame({
        "upn": ["A999000026001", 'quote " and \\ back', "naïve — ünïcode", "x"],
        "n": pd.array([1, 0, -3, 10**12], dtype="int64"),
        "pct": [0.1 + 0.2, float("nan"), 100.0, 1e-7],
        "flag": [True, False, True, False],
        "spare": pd.array([4, None, 0, -1], dtype="Int64"),
        "empty": ["", None, "z", "\n\t"],
    })
    assert cli._json_text(frame) == json.dumps(cli._json_records(frame), indent=1)
    assert cli._json_text(frame.iloc[:0]) == json.dumps([], indent=1)


def test_the_trust_table_and_gaps_give_each_school_its_own_pupils_figures(trust, path):
    """trust.side_by_side and trust.group_gaps split the trust's figures by school once: each
    school's row is still the figures of that school's pupils alone (as filtering gives)."""
    from core import trust as trust_table

    version = reads.version(path)
    figures = reads.pupil_figures(path, version, date(2025, 9, 1), AS_OF)
    rng = np.random.default_rng(5)  # some pupils in PP and SEN support at each school, for the gaps
    figures = figures.assign(pp=rng.integers(0, 2, len(figures)), sen=rng.choice(["", "K"], len(figures)))
    school_of = reads.school_of_pupils(path, version)
    listed = schools.schools_frame(trust)
    triggered = figures["pupil_id"].iloc[::7]
    overdue = pd.Series(1, index=figures["pupil_id"].iloc[::5])
    table = trust_table.side_by_side(listed, figures, school_of, triggered, overdue)
    gaps = trust_table.group_gaps(listed, figures, school_of)
    assert set(gaps["group"]) >= {"PP", "SEN support"}
    for school_id in SCHOOLS:
        ours = figures[figures["pupil_id"].map(school_of) == school_id]
        alone = trust_table.side_by_side(listed[listed["id"] == school_id], ours, school_of, triggered, overdue)
        row = table[table["school_id"] == school_id].reset_index(drop=True)
        pd.testing.assert_frame_equal(row, alone.iloc[:1])
        assert row.iloc[0]["pupils_at_trigger"] == ours["pupil_id"].isin(triggered).sum() > 0
        members = ours[(ours["possible_sessions"] > 0) & (ours["pp"] == 1)]
        pp = gaps[(gaps["school_id"] == school_id) & (gaps["group"] == "PP")].iloc[0]
        assert pp["pupils_in_group"] == len(members)
        assert pp["group_attendance_pct"] == pytest.approx(100 - metrics.group_figures(members)["overall_absence_pct"])


def test_the_pupils_frame_of_some_columns_is_those_columns_of_the_whole_frame(trust):
    """What triggers.reached_from reads of the pupils (a trust's 50,000 without the text it does not need)."""
    columns = ("id", "upn", "dob", "nc_year")
    ids = schools.pupil_ids_of(trust, [2])[:30]
    pd.testing.assert_frame_equal(store.pupils_frame(trust, columns=columns), store.pupils_frame(trust)[list(columns)])
    pd.testing.assert_frame_equal(store.pupils_frame(trust, pupil_ids=ids, columns=columns),
                                  store.pupils_frame(trust, pupil_ids=ids)[list(columns)])


# --- the triggers kept after an import into a trust's store ------------------------------------


def test_the_triggers_kept_after_an_import_are_those_found_from_the_marks(trust, path, monkeypatch):
    live = reads.triggers_reached(path, reads.version(path), AS_OF)
    assert len(live) and reads.keep_triggers(path)
    reads.clear()  # as a fresh process, or the server after another user's upload
    version = reads.version(path)
    with store.opened(path) as db:
        pd.testing.assert_frame_equal(triggers.kept(db, repr(version), AS_OF), live, check_dtype=False)

    def no_walk(*args, **kwargs):
        raise AssertionError("the kept triggers should have been read")

    monkeypatch.setattr(triggers, "reached_from", no_walk)
    pd.testing.assert_frame_equal(reads.triggers_reached(path, version, AS_OF), live, check_dtype=False)
    for school_id in SCHOOLS:
        pd.testing.assert_frame_equal(reads.triggers_reached(path, version, AS_OF, (school_id,)),
                                      of_school(live, trust, school_id), check_dtype=False)


def test_any_change_after_the_import_makes_the_triggers_be_found_again(trust, path):
    assert reads.keep_triggers(path)
    kept_for = reads.version(path)
    with store.opened(path) as db:
        store.set_setting(db, "penalty_sessions", 12, "test")  # a rule the triggers follow
        assert reads.version(path) != kept_for
        assert triggers.kept(db, repr(reads.version(path)), AS_OF) is None  # not read for the new version
    reads.clear()
    with store.opened(path) as db:
        found = triggers.reached(db, AS_OF)
    pd.testing.assert_frame_equal(reads.triggers_reached(path, reads.version(path), AS_OF), found)


def test_an_import_through_the_command_keeps_the_trusts_triggers(trust, path, tmp_path, capsys):
    week = pd.DataFrame({"upn": make_upn(200), "date": "2025-12-22", "session": ["AM", "PM"], "mark": "O"})
    week.to_csv(tmp_path / "second_week.csv", index=False)
    assert cli.main(["--db", path, "import", str(tmp_path / "second_week.csv"), "--school", "2"]) == 0
    capsys.readouterr()
    with store.opened(path) as db:
        (as_of, version), = db.execute("SELECT as_of, version FROM triggers_kept").fetchall()
    assert (as_of, version) == ("2025-12-22", repr(reads.version(path)))


def test_a_one_school_store_keeps_no_triggers(db):
    assert not reads.keep_triggers(reads.path_of(db))
    assert db.execute("SELECT COUNT(*) FROM triggers_kept").fetchone()[0] == 0
