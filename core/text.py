"""Text that came from a file or a person: the characters never kept, and the longest each
kind of field may be.

A register export or a typed note can hold characters nobody can see or print: C0/C1
control characters (BEL, NUL, ESC…), which Excel files cannot hold at all, lone
surrogates, which cannot be written as UTF-8, and the bidirectional overrides that make a
name display as something else. `clean` drops them (a tab or line break becomes a space,
unless the field keeps its lines); `LIMITS` says how long each field may be, and the
importer and the case forms refuse longer values with a message saying so.
"""

from __future__ import annotations

import re

# Never kept: C0 controls (tab, line feed and carriage return are handled apart), DEL and
# the C1 controls, lone surrogates, byte-order marks and non-characters, and the bidi
# embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u202a-\u202e\u2066-\u2069"
UNPRINTABLE = re.compile(f"[{_NEVER}]")
_BREAKS = re.compile(r"[\t\r\n]+")

# The longest value (in characters) each field may hold; a longer one is refused with a
# message naming it. Names: 100 (the DfE's CBDS allows 35 per name part; 100 leaves room
# for several surnames). Free text a person types (case notes, summaries): 5,000.
NAME_LIMIT = 100
NOTE_LIMIT = 5_000
LIMITS = {
    "surname": NAME_LIMIT, "forename": NAME_LIMIT, "name": 2 * NAME_LIMIT + 2,
    "contact1_name": NAME_LIMIT, "contact2_name": NAME_LIMIT,
    "contact1_relationship": 50, "contact2_relationship": 50,
    "contact1_email": 254, "contact2_email": 254,  # the longest address email allows
    "contact1_phone": 40, "contact2_phone": 40,
    "upn": 20, "adno": 20, "mis_id": 40, "family_id": 40,
    "form": 50, "postcode": 12, "address": 500,
    "flags": 500, "ethnicity": 100, "social_worker": 20,
}
OTHER_LIMIT = 200  # any other text a file gives about a pupil
# Fields whose line breaks are kept (an address prints on several lines).
MULTILINE = {"address"}


def clean(value: str, multiline: bool = False) -> str:
    """`value` without the characters never kept; tabs and line breaks become one space
    (or, with `multiline`, tabs a space and each line break a newline)."""
    text = UNPRINTABLE.sub("", value)
    if multiline:
        return "\n".join(" ".join(line.split("\t")) for line in re.split(r"\r\n|\r|\n", text))
    return _BREAKS.sub(" ", text)


def unprintable(value: str) -> int:
    """How many characters `clean` would drop from `value` (line breaks aside)."""
    return len(UNPRINTABLE.findall(value))


def limit(field: str) -> int:
    return LIMITS.get(field, OTHER_LIMIT)


def clip(value: str, most: int) -> str:
    """At most `most` characters, ending '…' where cut (for print, where a page has room
    for only so much; what is stored is never clipped)."""
    return value if len(value) <= most else value[: max(most - 1, 0)] + "…"
