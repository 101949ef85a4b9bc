"""Direct identifiers: column names and values that name or reach a person, refused in participant data.

Every reader checks participant fields with these two functions (decision 0028). A name written as a value
("Jane Example" as a pseudonym) cannot be told from a pseudonym and is not detected (docs/security.md).
"""

from __future__ import annotations

import re

# Column / variable names that identify a person directly (compared after lower-casing and
# turning spaces and hyphens into underscores).
DIRECT_IDENTIFIERS = frozenset({
    "name", "full_name", "first_name", "last_name", "surname", "given_name", "forename",
    "email", "e_mail", "phone", "telephone", "mobile", "address", "postcode", "zip_code",
    "birth_date", "date_of_birth", "dob", "nhs_number", "nhs_no", "ni_number", "ssn",
})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")


def identifier_column(name: str) -> bool:
    """True when a column or variable name says it holds a direct identifier ("E-mail", "Full Name")."""
    return re.sub(r"[\s-]+", "_", name.strip().lower()) in DIRECT_IDENTIFIERS


def identifier_value(value: str) -> str | None:
    """What kind of direct identifier `value` looks like ("an e-mail address", "a phone number"), or None.

    A phone number: only digits, spaces, + ( ) . -, 9 to 15 digits, and a leading + or 0 or a
    separator between digits, so that years ("2019-2021"), dates and counts are not caught.
    """
    text = value.strip()
    if _EMAIL.search(text):
        return "an e-mail address"
    digits = sum(c.isdigit() for c in text)
    if _PHONE_CHARS.match(text) and 9 <= digits <= 15 and (text[0] in "+0" or not text.isdigit()):
        return "a phone number"
    return None
