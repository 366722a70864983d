"""Penalty notices under the national framework (from August 2024), as data: the framework
(`PenaltyFramework`, its amounts, window and limit from the school's settings), the notices
recorded (read from the pupils' actions of a penalty-notice type), what the framework makes
of each and what it allows next, per parent per child — and recording a notice.

One rule for every screen: notices are counted per parent per child (DOMAIN.md §4). The
parent a notice went to is in `penalty_notice_parents`; names are compared by their words
(`values.name_key`: case, accents and order ignored). A notice with no parent recorded is
counted with the child's other notices that have none — one group, labelled
PARENT_NOT_RECORDED, never merged with a named parent's. That is the cautious reading: a
school that never records the parent is held to one count per child, so no third notice
slips through because nobody said who the first two went to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, intervention_types, store
from core.importers.values import name_key

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else f"{n}th"


@dataclass(frozen=True)
class PenaltyFramework:
    """The national penalty-notice framework (from August 2024), as data.

    The amounts, the repeat window and how many notices a parent may have for the same child
    within it are the school's settings (`penalty_amounts`, `penalty_repeat_years`,
    `penalty_notices_per_parent_child`; DOMAIN.md §4 gives the defaults), so build one with
    `from_settings`. The days to pay are the framework's own (the amounts' settings are
    named by them).
    """

    first_reduced_amount: int  # £, a first notice paid within `first_reduced_days`
    first_amount: int  # £, a first notice paid within `pay_within_days`
    second_amount: int  # £, a later notice within the window: no reduction
    window_years: int
    most_in_window: int  # per parent per child; then the next step is other action, e.g. prosecution
    first_reduced_days: int = 21
    pay_within_days: int = 28

    @classmethod
    def from_settings(cls, settings: dict) -> "PenaltyFramework":
        amounts = settings["penalty_amounts"]
        return cls(first_reduced_amount=int(amounts["first_paid_within_21_days"]),
                   first_amount=int(amounts["first_paid_within_28_days"]), second_amount=int(amounts["second"]),
                   window_years=int(settings["penalty_repeat_years"]),
                   most_in_window=int(settings["penalty_notices_per_parent_child"]))

    @classmethod
    def of(cls, db) -> "PenaltyFramework":
        """The framework as the school's settings have it."""
        return cls.from_settings(store.get_settings(db))

    def amount(self, number: int) -> float:
        """The full amount of the `number`th notice within the window (NaN beyond the limit)."""
        if number < 1 or number > self.most_in_window:
            return np.nan
        return float(self.first_amount if number == 1 else self.second_amount)

    def amount_text(self, number: int) -> str:
        """'£80 if paid within 21 days, £160 within 28' for a first notice, '£160 with no reduction' after."""
        if number == 1:
            return (f"£{self.first_reduced_amount} if paid within {self.first_reduced_days} days, "
                    f"£{self.first_amount} within {self.pay_within_days}")
        return f"£{self.second_amount} with no reduction"

    def describe(self) -> str:
        """The framework in one sentence, for the screens' captions."""
        same = f"to the same parent for the same child within {self.window_years} years"
        later = [ordinal(n) for n in range(2, self.most_in_window + 1)]
        parts = [f"a first notice is {self.amount_text(1)}"]
        if later:
            parts.append(f"a {' or '.join(later)} {same} is {self.amount_text(2)}")
        parts.append(f"there is no {ordinal(self.most_in_window + 1)}" + ("" if later else f" {same}")
                     + " — the next step is other action, e.g. prosecution")
        return "National framework: " + "; ".join(parts) + "."



PARENT_NOT_RECORDED = "(parent not recorded)"


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def parent_key(name: str | None) -> str:
    """The parent a notice went to, as compared: '' when none is recorded."""
    return name_key(" ".join((name or "").split()))


def parent_label(name: str | None) -> str:
    return " ".join((name or "").split()) or PARENT_NOT_RECORDED


def _in_window(issued: date, on: date, framework: PenaltyFramework) -> bool:
    """Whether a notice issued on `issued` counts on `on`: within the `window_years` up to it.
    A notice exactly `window_years` old no longer counts."""
    return _years_before(on, framework.window_years) < issued <= on


@dataclass(frozen=True)
class NoticeTerms:
    """What the framework allows for the next notice to a parent for a child on a date."""

    parent: str  # as shown: the name, or PARENT_NOT_RECORDED
    earlier: int  # notices to this parent for this child within the window up to the date
    number: int  # the next notice's number within the window; 0 when no further notice may be issued
    amount: float  # £ in full (NaN when none may be issued)
    until: date | None  # when none may be issued: the first day one may again
    next_step: str  # in words
    window_years: int

    @property
    def allowed(self) -> bool:
        return self.number > 0

    @property
    def counted(self) -> str:
        """'2 notices to Jane Smith for this child in the last 3 years.'"""
        to = "with no parent recorded" if self.parent == PARENT_NOT_RECORDED else f"to {self.parent}"
        return (f"{self.earlier} notice{'s' if self.earlier != 1 else ''} {to} for this child in the last "
                f"{self.window_years} years.")

    def issued_text(self, framework: PenaltyFramework) -> str:
        """'a first notice: £80 if paid within 21 days, £160 within 28' (for the record of one issued)."""
        within = "" if self.number == 1 else f" within {framework.window_years} years"
        return f"a {ordinal(self.number)} notice{within}: {framework.amount_text(self.number)}"


def penalty_terms(history: pd.DataFrame, pupil_id: int, parent: str | None, on: date,
                  framework: PenaltyFramework) -> NoticeTerms:
    """The next notice to `parent` (None or '' = not recorded) for the pupil on `on`, from
    `penalty_notice_history` (notices issued after `on` are not counted)."""
    mine = history[(history["pupil_id"] == int(pupil_id)) & (history["parent_key"] == parent_key(parent))]
    counted = sorted(d for d in mine["date_issued"] if _in_window(d, on, framework))
    earlier, label, years = len(counted), parent_label(parent), framework.window_years
    if earlier >= framework.most_in_window:
        until = _years_before(counted[-framework.most_in_window], -years)
        return NoticeTerms(label, earlier, 0, np.nan, until,
                           f"No further notice to this parent for this child within {years} years (until "
                           f"{calendar.uk_date(until)}): the next step is other action, e.g. prosecution.", years)
    number = earlier + 1
    within = "" if number == 1 else f" within {years} years"
    return NoticeTerms(label, earlier, number, framework.amount(number), None,
                       f"A {ordinal(number)} notice{within} would be {framework.amount_text(number)}.", years)


def _penalty_refusal(history: pd.DataFrame, pupil_id: int, parent: str | None, issued: date,
                     framework: PenaltyFramework) -> str | None:
    """Why a notice to `parent` for the pupil issued on `issued` may not be recorded, or None.

    Refused when the parent already has the most the window allows for this child up to
    that date — and, for a notice entered late, when it would make a notice already recorded
    after it one too many within its window."""
    terms = penalty_terms(history, pupil_id, parent, issued, framework)
    if not terms.allowed:
        return f"{terms.counted} {terms.next_step}"
    mine = history[(history["pupil_id"] == int(pupil_id)) & (history["parent_key"] == parent_key(parent))]
    for later in sorted(d for d in mine["date_issued"] if d > issued):
        counted = sum(_in_window(d, later, framework) for d in [*mine["date_issued"], issued])
        if counted > framework.most_in_window:
            return (f"A notice issued on {calendar.uk_date(issued)} would make the notice of "
                    f"{calendar.uk_date(later)} the {ordinal(counted)} to {terms.parent} for this child within "
                    f"{framework.window_years} years; the framework allows {framework.most_in_window}.")
    return None


def check_penalty_allowed(db, viewer: auth.Viewer, pupil_id: int, parent: str | None, issued: date,
                          framework: PenaltyFramework | None = None, leaving_out: int | None = None) -> None:
    """Refuse (CaseError) a notice the framework does not allow; `leaving_out` is a notice
    being changed (not counted against itself). The writer may record for the pupil, so
    their view of the pupil's notices is the whole history."""
    framework = framework or PenaltyFramework.of(db)
    history = _notice_history(db, viewer, [pupil_id], framework)
    if leaving_out is not None:
        history = history[history["id"] != int(leaving_out)]
    refusal = _penalty_refusal(history, pupil_id, parent, issued, framework)
    if refusal:
        raise cases.CaseError(refusal)


def _penalty_type_names(db) -> set[str]:
    types = intervention_types.intervention_types(db, include_inactive=True)
    return set(types.loc[types["details"].map(lambda d: intervention_types.PENALTY_FIELD in d), "name"])


NOTICE_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "year_group", "date_issued", "paid",
                  "parent", "parent_key", "number_in_window", "reduced_amount", "reduced_by", "amount", "pay_by",
                  "beyond_framework"]


def penalty_notice_history(db, viewer: auth.Viewer, pupil_ids: list[int] | None = None,
                           framework: PenaltyFramework | None = None) -> pd.DataFrame:
    """Every penalty notice recorded, oldest first, with what the framework (default: the
    settings') makes of it: the parent it went to (`parent` PARENT_NOT_RECORDED when none is
    recorded, `parent_key` as compared), its number among the notices to the same parent for
    the same child in the `window_years` up to its date, the amount and dates to pay (£80
    within 21 days or £160 within 28 for a first; £160 within 28 for a second), and
    `beyond_framework` for one past the limit (recorded before the rule refused it, or the
    settings changed since). A role that may not see parents (a viewer) gets every figure
    but not the parent's name (`without_parents`)."""
    return without_parents(_notice_history(db, viewer, pupil_ids, framework), viewer)


PARENT_NOT_SHOWN = "(a parent or carer — not shown to your role)"


def without_parents(frame: pd.DataFrame, viewer: auth.Viewer) -> pd.DataFrame:
    """The notices (or their summary) as `viewer`'s role may read them: for a role that may not
    see parents and carers, each named parent becomes PARENT_NOT_SHOWN and `parent_key` an
    opaque 'p1', 'p2' per child (so notices to the same parent still group together). A
    shared screen is left to the screens (core/privacy.py drops the column), so the
    framework's checks, which read this, are the same in meeting mode."""
    if auth.may(viewer.role, "see_contacts") or frame.empty:
        return frame
    named = frame["parent"] != PARENT_NOT_RECORDED
    frame = frame.assign(parent=frame["parent"].where(~named, PARENT_NOT_SHOWN))
    if "parent_key" in frame.columns:
        opaque = [{key: f"p{n}" for n, key in enumerate(dict.fromkeys(keys), start=1) if key}
                  for keys in frame.groupby("pupil_id")["parent_key"].agg(list)]
        by_pupil = dict(zip(frame.groupby("pupil_id").groups, opaque))
        frame = frame.assign(parent_key=[by_pupil[p].get(k, "") for p, k in zip(frame["pupil_id"], frame["parent_key"])])
    return frame


def _notice_history(db, viewer: auth.Viewer, pupil_ids: list[int] | None = None,
                    framework: PenaltyFramework | None = None) -> pd.DataFrame:
    """penalty_notice_history with the parents' names, whoever asks (for the framework's checks)."""
    framework = framework or PenaltyFramework.of(db)
    actions = cases.interventions(db, viewer, pupil_ids)
    notices = actions[actions["type"].isin(_penalty_type_names(db))]
    parents = dict(db.execute(
        "SELECT intervention_id, parent FROM penalty_notice_parents WHERE intervention_id IN "
        "(SELECT value FROM json_each(?))", (json.dumps([int(i) for i in notices["id"]]),)).fetchall())
    named = notices["id"].map(lambda i: parents.get(int(i), ""))
    issued = pd.Series([cases.as_date(d.get(intervention_types.PENALTY_FIELD) or o, "Date issued")
                        for d, o in zip(notices["details"], notices["opened_on"])], index=notices.index, dtype=object)
    notices = notices.assign(date_issued=issued, paid=notices["details"].map(lambda d: d.get("paid", "unpaid")),
                             parent=named.map(parent_label), parent_key=named.map(parent_key))
    notices = notices.sort_values(["pupil_id", "date_issued", "id"]).reset_index(drop=True)
    issued_at = pd.to_datetime(notices["date_issued"])
    window_start = pd.to_datetime(notices["date_issued"].map(lambda d: _years_before(d, framework.window_years)))
    group = ["pupil_id", "parent_key"]
    pairs = (notices[["id", *group]].assign(at=issued_at, start=window_start)
             .merge(notices[group].assign(other_at=issued_at, other_id=notices["id"]), on=group))
    before_it = (pairs["other_at"] < pairs["at"]) | ((pairs["other_at"] == pairs["at"]) & (pairs["other_id"] < pairs["id"]))
    earlier = pairs[(pairs["other_at"] > pairs["start"]) & before_it]
    number = notices["id"].map(earlier.groupby("id").size()).fillna(0).astype("int64") + 1
    first = number == 1
    return notices.assign(
        number_in_window=number,
        reduced_amount=np.where(first, framework.first_reduced_amount, np.nan),
        reduced_by=np.where(first, (issued_at + pd.Timedelta(days=framework.first_reduced_days)).dt.date, None),
        amount=np.where(first, framework.first_amount, framework.second_amount),
        pay_by=(issued_at + pd.Timedelta(days=framework.pay_within_days)).dt.date.astype(object),
        beyond_framework=(number > framework.most_in_window).to_numpy(),
    )[NOTICE_COLUMNS]


PENALTY_SUMMARY_COLUMNS = ["pupil_id", "upn", "surname", "forename", "form", "year_group", "notices_this_year",
                           "last_issued", "last_paid", "unpaid_past_due", "parent", "notices_in_window", "next_step",
                           "next_notice_amount", "no_further_notice_until"]


def penalty_notices(db, viewer: auth.Viewer, today: date, pupil_ids: list[int] | None = None,
                    year_of: date | None = None, framework: PenaltyFramework | None = None) -> pd.DataFrame:
    """Per pupil with a penalty notice issued in the academic year of `year_of` (default
    `today`): how many, the last one and whether it is paid, unpaid notices past their
    days to pay, and — for the parent the latest notice went to (`parent`) — their notices
    for this child within the window and the framework's next step as of `today`. A
    family view shows the same terms for each parent (`penalty_terms`)."""
    framework = framework or PenaltyFramework.of(db)
    history = _notice_history(db, viewer, pupil_ids, framework)
    year_start = calendar.academic_year_start(year_of or today)
    year_end = calendar.academic_year_end(year_of or today)
    issued = pd.to_datetime(history["date_issued"])
    this_year = history[((issued >= pd.Timestamp(year_start)) & (issued <= pd.Timestamp(year_end))).to_numpy()]
    if this_year.empty:
        return pd.DataFrame(columns=PENALTY_SUMMARY_COLUMNS)
    history = history[history["pupil_id"].isin(this_year["pupil_id"])]
    unpaid_due = history[(history["paid"] != "paid").to_numpy()
                         & (pd.to_datetime(history["pay_by"]) < pd.Timestamp(today)).to_numpy()]
    identity = ["pupil_id", "upn", "surname", "forename", "form", "year_group"]
    summary = (this_year.groupby(identity, as_index=False)
               .agg(notices_this_year=("id", "size"), last_issued=("date_issued", "max")))
    last_paid = this_year.sort_values(["date_issued", "id"]).groupby("pupil_id")["paid"].last()
    latest = history.sort_values(["date_issued", "id"]).groupby("pupil_id")[["parent", "parent_key"]].last()
    parents, keys = summary["pupil_id"].map(latest["parent"]), summary["pupil_id"].map(latest["parent_key"])
    terms = [penalty_terms(history, pupil_id, parent if key else None, today, framework)
             for pupil_id, parent, key in zip(summary["pupil_id"], parents, keys)]
    return summary.assign(
        last_paid=summary["pupil_id"].map(last_paid),
        unpaid_past_due=summary["pupil_id"].map(unpaid_due.groupby("pupil_id").size()).fillna(0).astype("int64"),
        parent=parents,
        notices_in_window=pd.Series([t.earlier for t in terms], index=summary.index, dtype="int64"),
        next_step=[t.next_step for t in terms],
        next_notice_amount=[t.amount for t in terms],
        no_further_notice_until=pd.Series([t.until for t in terms], index=summary.index, dtype=object),
    )[PENALTY_SUMMARY_COLUMNS].sort_values(["last_issued", "surname"], ascending=[False, True], ignore_index=True) \
        .pipe(without_parents, viewer)


def penalty_next_step(db, viewer: auth.Viewer, pupil_id: int, on: date, parent: str | None = None,
                      framework: PenaltyFramework | None = None) -> str:
    """What the framework says about another notice to `parent` (None: not recorded) for
    this child on `on` (for the form): the notices counted, then the next step."""
    framework = framework or PenaltyFramework.of(db)
    terms = penalty_terms(_notice_history(db, viewer, [pupil_id], framework), pupil_id, parent, on, framework)
    return f"{terms.counted} {terms.next_step}"


# --- a family's notices, per parent per child --------------------------------------------


BY_PARENT_COLUMNS = ["pupil_id", "parent", "notices", "within_repeat_period", "last_issued", "next_step", "allowed"]


def notices_by_parent(history: pd.DataFrame, members: list[int], parents: dict[int, list[str]], on: date,
                      framework: PenaltyFramework) -> pd.DataFrame:
    """Per child and parent (`parents`, plus any other a notice for the child went to,
    including notices with no parent recorded): notices to them for the child, those within
    the framework's window on `on`, the last, and the next step (`penalty_terms`)."""
    rows = []
    for pupil_id in members:
        mine = history[history["pupil_id"] == pupil_id]
        names = {parent_key(n): n for n in parents.get(pupil_id, []) if parent_key(n)}
        for key, name in zip(mine["parent_key"], mine["parent"]):
            names.setdefault(key, name if key else None)
        for key, name in (names or {"": None}).items():
            terms = penalty_terms(history, pupil_id, name, on, framework)
            issued = mine.loc[mine["parent_key"] == key, "date_issued"]
            rows.append({"pupil_id": pupil_id, "parent": terms.parent, "notices": len(issued),
                         "within_repeat_period": terms.earlier, "last_issued": max(issued) if len(issued) else None,
                         "next_step": terms.next_step, "allowed": terms.allowed})
    return pd.DataFrame(rows, columns=BY_PARENT_COLUMNS)


def record_penalty_notice(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, parent: str,
                          issued_on: date, note: str = "") -> int:
    """Record a penalty notice issued to a parent for a child (an action on the pupil's
    record, tier 6, saying which notice it is); refused when the framework allows that
    parent no further notice for this child."""
    parent = re.sub(r"\s+", " ", parent or "").strip()
    if not parent:
        raise cases.CaseError("Say which parent or carer the notice was issued to.")
    framework = PenaltyFramework.of(db)
    history = _notice_history(db, viewer, [pupil_id], framework)
    terms = penalty_terms(history, pupil_id, parent, issued_on, framework)
    issued = terms.issued_text(framework) if terms.allowed else ""
    summary = f"Issued to {parent}: {issued}." + (f" {note.strip()}" if note.strip() else "")
    return cases.open_intervention(db, viewer, pupil_id, intervention_types.PENALTY_TYPE, viewer.username,
                                   issued_on, summary=summary,
                                   details={intervention_types.PENALTY_FIELD: issued_on.isoformat()}, parent=parent)
