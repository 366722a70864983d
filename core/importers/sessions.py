"""Sessions not taken yet: a register uploaded part-way through the day.

A session on or after the day the export was run (the report's "run on" date from its
title, else the day it is uploaded) that has no mark for anyone — neither in the file nor
in the store — has not been taken yet: this afternoon, in an export run at 10 am, or the
rest of the week in a weekly grid run on Monday. Its empty cells are not missing marks and
nothing is stored for it, so it is no session in any figure, and "data as at" stays the
last session taken. An empty session *before* the export was run is a register that was
never taken: its empty cells stay missing marks, a data problem to fix (FORMATS.md).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from core import marks
from core.calendar import to_day
from core.importers.results import Problem

MESSAGE = ("The {session} session on {day:%d/%m/%Y} has no marks for anyone yet, so its register has not been taken: "
           "its empty cells are not stored as missing marks. Upload the export again once the register is taken.")


def drop_sessions_not_taken(conn, incoming: pd.DataFrame, run_on: date | None, problems: list[Problem]) -> pd.DataFrame:
    """`incoming` (day, session, code) without the sessions not taken yet; a warning for each."""
    marked = incoming["code"].to_numpy(dtype=object) != ""
    first_open_day = to_day(run_on or date.today())
    days = incoming["day"].to_numpy(dtype=np.int64)
    if marked.all() or days.max() < first_open_day:
        return incoming
    key = days * 2 + incoming["session"].to_numpy(dtype=np.int64)
    candidates = np.unique(key[~marked & (days >= first_open_day)])
    taken = set(np.unique(key[marked]).tolist())
    taken |= marks.sessions_taken_between(conn, first_open_day, int(days.max()))
    untaken = [int(k) for k in candidates if int(k) not in taken]
    if not untaken:
        return incoming
    for session_key in untaken:
        day = pd.Timestamp(np.datetime64(session_key // 2, "D"))
        problems.append(Problem(None, None, MESSAGE.format(session=("AM", "PM")[session_key % 2], day=day), "warning"))
    return incoming[~np.isin(key, untaken)]
