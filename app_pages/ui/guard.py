"""No stack trace ever reaches a page: errors are logged for whoever runs Pastoral and the
person at the screen is told what happened and what to do."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from app_pages.ui.formatting import md
from core import store

log = logging.getLogger("pastoral")


def run_safely(page) -> None:
    """Run a screen; an unexpected error becomes a message, its details go to the server log."""
    with friendly_errors("showing this page"):
        page.run()


@contextmanager
def friendly_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except store.StoreError as error:
        st.error(f"The database could not be used while {md(doing)}: {md(error)}")
    except Exception:  # Streamlit's stop and rerun are BaseExceptions and pass through
        log.exception("Error while %s", doing)
        st.error(
            f"Something went wrong while {md(doing)}, and nothing was changed. Reload the page and try again; "
            "if it happens again, tell whoever runs Pastoral (the details are in the server log)."
        )
