"""What the roll says about a pupil beyond their name and year: parent/carer contacts,
address and family, ethnicity, young carer, social-worker involvement, the school's
vulnerable list and its own flags — as data, read by the importer, the groups and the
screens.

Contact details and the address are personal data: only roles doing case work read them
(`auth.may(role, "see_contacts")`); `store.pupils_frame` leaves them out unless asked.
"""

from __future__ import annotations

import re

import pandas as pd

# Parent/carer contacts (a second contact allowed) and where the family lives.
CONTACT_FIELDS = (
    "contact1_name", "contact1_relationship", "contact1_phone", "contact1_email",
    "contact2_name", "contact2_relationship", "contact2_phone", "contact2_email",
    "address", "postcode",
)
# Characteristics the groups and filters use (not personal contact data).
GROUP_FIELDS = ("family_id", "ethnicity", "young_carer", "social_worker", "vulnerable", "flags")
ROLL_DETAIL_FIELDS = CONTACT_FIELDS + GROUP_FIELDS

# --- ethnicity: the DfE's main codes (school census), with the groups they belong to ----------

WHITE, MIXED, ASIAN, BLACK, CHINESE, OTHER, UNCLASSIFIED = (
    "White", "Mixed", "Asian or Asian British", "Black or Black British", "Chinese", "Any other ethnic group",
    "Unclassified")
ETHNIC_GROUPS = (WHITE, MIXED, ASIAN, BLACK, CHINESE, OTHER, UNCLASSIFIED)

# code → (description, group)
ETHNICITIES: dict[str, tuple[str, str]] = {
    "WBRI": ("White - British", WHITE),
    "WIRI": ("White - Irish", WHITE),
    "WIRT": ("Traveller of Irish heritage", WHITE),
    "WROM": ("Gypsy/Roma", WHITE),
    "WOTH": ("Any other White background", WHITE),
    "MWBC": ("White and Black Caribbean", MIXED),
    "MWBA": ("White and Black African", MIXED),
    "MWAS": ("White and Asian", MIXED),
    "MOTH": ("Any other mixed background", MIXED),
    "AIND": ("Indian", ASIAN),
    "APKN": ("Pakistani", ASIAN),
    "ABAN": ("Bangladeshi", ASIAN),
    "AOTH": ("Any other Asian background", ASIAN),
    "BCRB": ("Black Caribbean", BLACK),
    "BAFR": ("Black African", BLACK),
    "BOTH": ("Any other Black background", BLACK),
    "CHNE": ("Chinese", CHINESE),
    "OOTH": ("Any other ethnic group", OTHER),
    "REFU": ("Refused", UNCLASSIFIED),
    "NOBT": ("Information not yet obtained", UNCLASSIFIED),
}
# Gypsy, Roma and Traveller pupils, whom many schools support with dedicated staff.
GYPSY_ROMA_TRAVELLER = frozenset({"WROM", "WIRT"})

# The DfE's extended codes (used by some local authorities) → their main code.
EXTENDED_ETHNICITIES: dict[str, str] = {
    **dict.fromkeys(("WENG", "WSCO", "WWEL", "WCOR", "WOWB"), "WBRI"),
    **dict.fromkeys(("WROG", "WROR", "WROO"), "WROM"),
    **dict.fromkeys(("WALB", "WBOS", "WCRO", "WGRE", "WGRK", "WGRC", "WITA", "WKOS", "WPOR", "WSER", "WTUR",
                     "WTUK", "WTUC", "WEUR", "WEEU", "WWEU", "WOTW"), "WOTH"),
    **dict.fromkeys(("MABL", "MACH", "MAOE", "MBOE", "MCOE", "MWOE", "MOTM"), "MOTH"),
    **dict.fromkeys(("AMPK", "AKPA", "AOPK"), "APKN"),
    **dict.fromkeys(("AAFR", "AKAO", "ANEP", "ASNL", "ASLT", "AOTA"), "AOTH"),
    **dict.fromkeys(("BANN", "BCON", "BGHA", "BNGN", "BSLN", "BSOM", "BSUD", "BAOF"), "BAFR"),
    **dict.fromkeys(("BEUR", "BNAM", "BOTB"), "BOTH"),
    **dict.fromkeys(("CHKC", "CMAL", "CSNG", "CTWN", "COCH"), "CHNE"),
    **dict.fromkeys(("OAFG", "OARA", "OEGY", "OFIL", "OIRN", "OIRQ", "OJPN", "OKOR", "OKRD", "OLAM", "OLEB",
                     "OLIB", "OMAL", "OMRC", "OPOL", "OTHA", "OVIE", "OYEM", "OOEG"), "OOTH"),
}

# Descriptions exports write instead of codes (besides the official ones above).
_ETHNICITY_WORDS: dict[str, str] = {
    "white british": "WBRI", "british": "WBRI", "english": "WBRI", "scottish": "WBRI", "welsh": "WBRI",
    "white irish": "WIRI", "irish": "WIRI",
    "irish traveller": "WIRT", "traveller irish heritage": "WIRT", "traveller": "WIRT",
    "gypsy": "WROM", "roma": "WROM", "gypsy roma": "WROM", "romany": "WROM",
    "white other": "WOTH", "other white": "WOTH", "any other white background": "WOTH",
    "mixed white black caribbean": "MWBC", "mixed white black african": "MWBA", "mixed white asian": "MWAS",
    "mixed other": "MOTH", "other mixed": "MOTH", "any other mixed background": "MOTH",
    "asian indian": "AIND", "asian pakistani": "APKN", "asian bangladeshi": "ABAN", "asian other": "AOTH",
    "other asian": "AOTH", "black caribbean": "BCRB", "black african": "BAFR", "black other": "BOTH",
    "other black": "BOTH", "chinese": "CHNE", "other": "OOTH", "other ethnic group": "OOTH",
    "refused": "REFU", "information refused": "REFU", "not obtained": "NOBT", "information not obtained": "NOBT",
    "not known": "NOBT", "unknown": "NOBT",
}


_FILLER_WORDS = {"of", "and", "or", "the", "any", "background", "heritage", "ethnic", "group"}


def _words(text: str) -> str:
    """A description compared by its words: case, punctuation, order and filler words ignored."""
    words = set(re.split(r"[^a-z]+", str(text).lower())) - _FILLER_WORDS - {""}
    return " ".join(sorted(words))


_ETHNICITY_BY_WORDS = {
    **{_words(k): v for k, v in _ETHNICITY_WORDS.items()},
    **{_words(description): code for code, (description, _) in ETHNICITIES.items()},
    **{_words(f"{group} {description}"): code for code, (description, group) in ETHNICITIES.items()},
}


def ethnicity_code(text: str) -> str | None:
    """The DfE main code for what an export writes ('WROM', 'wirt', 'WENG', 'Gypsy/Roma',
    'White - British'); '' for blank; None when it is not one we know."""
    text = str(text or "").strip()
    if not text:
        return ""
    code = re.sub(r"[^A-Za-z]", "", text).upper()
    if code in ETHNICITIES:
        return code
    if code in EXTENDED_ETHNICITIES:
        return EXTENDED_ETHNICITIES[code]
    return _ETHNICITY_BY_WORDS.get(_words(text))


def ethnic_group(codes: pd.Series) -> pd.Series:
    """The group of each stored ethnicity code ('Unclassified' for blank or unknown)."""
    groups = {code: group for code, (_, group) in ETHNICITIES.items()}
    return codes.fillna("").map(groups).fillna(UNCLASSIFIED).astype("string")


def ethnicity_label(code: str) -> str:
    found = ETHNICITIES.get(code or "")
    return f"{found[0]} ({code})" if found else (code or "Not recorded")


# --- social-worker involvement --------------------------------------------------------

CHILD_IN_NEED, CHILD_PROTECTION, SOCIAL_WORKER = "CIN", "CP", "SW"
SOCIAL_WORKER_LABELS = {
    "": "No social worker",
    CHILD_IN_NEED: "Child in need plan (CIN)",
    CHILD_PROTECTION: "Child protection plan (CP)",
    SOCIAL_WORKER: "Social worker (plan not given)",
}
_SOCIAL_WORKER_WORDS = {
    "": "", "n": "", "no": "", "none": "", "false": "", "f": "", "0": "",
    "cin": CHILD_IN_NEED, "child in need": CHILD_IN_NEED, "cin plan": CHILD_IN_NEED, "child in need plan": CHILD_IN_NEED,
    "cp": CHILD_PROTECTION, "cpp": CHILD_PROTECTION, "cp plan": CHILD_PROTECTION, "child protection": CHILD_PROTECTION,
    "child protection plan": CHILD_PROTECTION,
    "y": SOCIAL_WORKER, "yes": SOCIAL_WORKER, "true": SOCIAL_WORKER, "t": SOCIAL_WORKER, "1": SOCIAL_WORKER,
    "sw": SOCIAL_WORKER, "social worker": SOCIAL_WORKER, "open to social care": SOCIAL_WORKER,
    "cla": SOCIAL_WORKER, "lac": SOCIAL_WORKER, "looked after": SOCIAL_WORKER,
}


def social_worker_status(text: str) -> str | None:
    """'' (none), 'CIN', 'CP' or 'SW' (a social worker, plan not given); None when unreadable."""
    key = " ".join(re.split(r"[^a-z0-9]+", str(text or "").lower())).strip()
    return _SOCIAL_WORKER_WORDS.get(key)


# --- the school's own flags -----------------------------------------------------------

FLAG_SEPARATORS = re.compile(r"\s*[;,|\n]\s*")


def split_flags(text: str) -> list[str]:
    """'Breakfast club; mentoring' → ['Breakfast club', 'mentoring'] (blank parts dropped)."""
    return [part.strip() for part in FLAG_SEPARATORS.split(str(text or "")) if part.strip()]


def join_flags(names) -> str:
    """Flag names as stored: distinct (case ignored, first spelling kept), sorted, '; '-joined."""
    kept: dict[str, str] = {}
    for name in names:
        name = re.sub(r"\s+", " ", str(name)).strip()
        if name:
            kept.setdefault(name.lower(), name)
    return "; ".join(sorted(kept.values(), key=str.lower))


def custom_flags(flags: pd.Series) -> list[str]:
    """Every flag name used in a column of stored flags, sorted."""
    return sorted({name for text in flags.fillna("").unique() for name in split_flags(text)}, key=str.lower)


def has_flag(flags: pd.Series, name: str) -> pd.Series:
    """True where the stored flags include `name` (case ignored)."""
    wanted = name.lower()
    return flags.fillna("").map(lambda text: wanted in {f.lower() for f in split_flags(text)}).astype(bool)
