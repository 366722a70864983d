"""The Upload screen with several files dropped at once (issue 15 item 4), driven like a user
drives it (AppTest): the order shown, each preview after the files above it, files that
disagree named with their marks and a decision asked for before anything is written, and
corrections a later upload made kept unless the user ticks to apply the file over them."""

from __future__ import annotations

from core import store
from tests.app_school import (  # noqa: F401 (fixtures)
    all_text, empty_school, quick_hashes, school, signed_in, upn, week_rows,
)
from tests.conftest import marks_csv

WEEK_2 = [(u, d, s, m) for u, d, s, m in week_rows(2)]
# Week 2 after Amir's mother rang: his four N are I.
WEEK_2_CORRECTED = [(u, d, s, "I" if m == "N" else m) for u, d, s, m in week_rows(2)]


def csv_file(name: str, rows) -> tuple[str, bytes, str]:
    return (name, marks_csv(rows).encode(), "text/csv")


def amirs_monday(db_path) -> list[str]:
    with store.opened(db_path) as db:
        return [c for (c,) in db.execute(
            "SELECT m.code FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.surname = 'Ahmed' "
            "AND m.day = 20346 ORDER BY m.session")]  # 15/09/2025


def files_in_order(app) -> list[str]:
    """The file names of the 'Order of import' rows, top to bottom."""
    return [t.value for t in app.text]


def test_a_batch_is_shown_in_date_order_with_each_preview_after_the_files_above(empty_school, tmp_path):
    from tests.app_school import write_exports

    exports = write_exports(tmp_path / "exports")
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([
        ("a-week-2.csv", exports["week_2"].read_bytes(), "text/csv"),
        ("b-week-1.csv", exports["week_1"].read_bytes(), "text/csv"),
        ("z-roll.csv", exports["roll"].read_bytes(), "text/csv"),
    ]).run()
    assert not app.exception
    assert files_in_order(app) == ["z-roll.csv", "b-week-1.csv", "a-week-2.csv"]
    text = all_text(app)
    assert "marks up to 12/09/2025" in text and "marks up to 19/09/2025" in text
    # The marks files' pupils come from the roll above them: none would be added as unknown.
    assert "Imported after the files above, it covers 08/09/2025 to 12/09/2025; 5 new school days" in text
    assert "adds **5** pupils" in text and text.count("adds **50** sessions new to the store") == 2
    assert app.button(key="import_files").label == "Import 3 files"
    app.button(key="import_files").click().run()
    with store.opened(empty_school) as db:
        assert db.execute("SELECT file_name FROM imports ORDER BY id").fetchall() == [
            ("z-roll.csv",), ("b-week-1.csv",), ("a-week-2.csv",)]


def test_a_file_can_be_moved_later_in_the_order(empty_school, tmp_path):
    from tests.app_school import write_exports

    exports = write_exports(tmp_path / "exports")
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("roll.csv", exports["roll"].read_bytes(), "text/csv"),
                                    ("week-1.csv", exports["week_1"].read_bytes(), "text/csv")]).run()
    roll_key = next(b.key for b in app.button if b.key and b.key.startswith("later_"))
    app.button(key=roll_key).click().run()
    assert files_in_order(app) == ["week-1.csv", "roll.csv"]
    assert "adds **5** pupils" in all_text(app)  # the marks now bring their pupils in, unnamed


def test_two_files_that_disagree_are_named_with_their_marks_and_nothing_imports_until_the_user_decides(school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([csv_file("corrected.csv", WEEK_2_CORRECTED),
                                    csv_file("export.csv", WEEK_2 + [(upn(1), "2025-09-22", "AM", "/")])]).run()
    assert not app.exception
    assert "**corrected.csv** and **export.csv** have different marks for **4** sessions" in app.warning[0].value
    marks = next(f.value for f in app.dataframe if "Mark in corrected.csv" in f.value.columns)
    assert marks["Date"].tolist() == ["15/09/2025", "15/09/2025", "16/09/2025", "16/09/2025"]
    assert marks["Pupil"].tolist() == ["Ahmed, Amir"] * 4
    assert marks["Mark in corrected.csv"].tolist() == ["I"] * 4 and marks["Mark in export.csv"].tolist() == ["N"] * 4
    assert app.button(key="import_files").disabled
    assert "Say which file is newer" in all_text(app)

    radio = app.radio[0]
    pair = radio.key.split("|")[1:]  # the two files' ids, shown by name
    radio.set_value(next(i for i in pair if radio.format_func(i) == "corrected.csv")).run()
    assert files_in_order(app) == ["export.csv", "corrected.csv"]
    assert not app.button(key="import_files").disabled
    app.button(key="import_files").click().run()
    assert amirs_monday(school) == ["I", "I"]


def test_an_older_export_keeps_the_corrections_unless_the_user_ticks_to_apply_it(school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([csv_file("corrected.csv", WEEK_2_CORRECTED)]).run()
    app.button(key="import_files").click().run()
    assert amirs_monday(school) == ["I", "I"]

    older = marks_csv(WEEK_2).replace("minutes_late", "Minutes Late").encode()  # the first export again, re-saved
    app.file_uploader[0].set_value([("week-2-again.csv", older, "text/csv")]).run()
    text = all_text(app)
    assert "4 marks in this file would undo corrections that a later upload made" in text
    problems = next(f.value for f in app.dataframe if "Problem" in f.value.columns)
    assert problems["Problem"].str.contains("Ahmed, Amir .*15/09/2025 AM: this file has 'N'; corrected.csv").any()
    assert "Importing changes nothing: everything else in this file is already stored, and the **4** marks" in text
    assert app.button(key="import_files").disabled  # nothing else in it to import

    app.checkbox[0].check().run()
    assert "overwrites **4** marks that a later upload corrected, as you chose" in all_text(app)
    app.button(key="import_files").click().run()
    assert amirs_monday(school) == ["N", "N"]


def test_moving_a_file_past_the_one_it_disagrees_with_makes_it_the_newer(school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([csv_file("corrected.csv", WEEK_2_CORRECTED),
                                    csv_file("export.csv", WEEK_2 + [(upn(1), "2025-09-22", "AM", "/")])]).run()
    radio = app.radio[0]
    pair = radio.key.split("|")[1:]
    radio.set_value(next(i for i in pair if radio.format_func(i) == "corrected.csv")).run()
    assert files_in_order(app) == ["export.csv", "corrected.csv"]
    export_id = next(i for i in pair if app.radio[0].format_func(i) == "export.csv")
    app.button(key=f"later_{export_id}").click().run()
    assert files_in_order(app) == ["corrected.csv", "export.csv"]
    assert app.radio[0].value == export_id
    app.button(key="import_files").click().run()
    assert amirs_monday(school) == ["N", "N"]


def test_file_names_in_the_batch_are_shown_as_text_not_markdown(school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([csv_file("**new**.csv", WEEK_2_CORRECTED),
                                    csv_file("[old](http://x).csv", WEEK_2 + [(upn(1), "2025-09-22", "AM", "/")])]).run()
    assert files_in_order(app) == ["**new**.csv", "[old](http://x).csv"]  # st.text
    assert r"\*\*new\*\*.csv" in app.radio[0].options
    assert r"**\*\*new\*\*.csv** and **\[old\](http:" in app.warning[0].value
