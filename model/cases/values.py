"""One value as the case contract reads it: blanks and unknowns, yes/no, choices, plain decimal numbers, and how a
bad value is quoted in its error. model/cases/fields.py applies these to each field of the contract."""

from __future__ import annotations

import decimal
import difflib
import math
import numbers
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from model.cases.fields import Field


# An error quotes at most this many characters of a value.
SHOWN_CHARACTERS = 80
# What str.splitlines() breaks at, and the other C0 and C1 control characters.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The contract's numbers: an optional sign, ASCII digits, an optional decimal point (7, 7.5, +7, -0, 7.).
# Python's float() also reads 1_0, 1e3, nan, inf and digits of other scripts; the contract reads none of them.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?")
# The spaces a value may be surrounded by: tabs and Unicode's space separators (a no-break space from a spreadsheet
# among them). str.strip() also takes line breaks and the control characters \x1c-\x1f, which are not spaces.
_SPACES = "\t \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def stripped(text: str) -> str:
    """The text without its surrounding spaces (_SPACES), nothing else taken off."""
    return text.strip(_SPACES)


def folded(text: str) -> str:
    """The text as the contract compares it: surrounding spaces off, ASCII letters in lower case. Only ASCII is
    folded: str.lower() reads the Kelvin sign as k and the dotted capital I as two characters, so a look-alike
    would pass for a word of the contract."""
    text = stripped(text)
    return text.lower() if text.isascii() else text


class StoredNaN(float):
    """A NaN a typed column stores as a value (Parquet, Arrow), where a gap is a null: not a blank but a value the
    contract reads as no number (a pandas float column cannot tell them apart, and its NaN is a gap)."""

    def __new__(cls) -> StoredNaN:
        return super().__new__(cls, math.nan)

    def __repr__(self) -> str:
        return "NaN"


STORED_NAN = StoredNaN()


def show(value: Any) -> str:
    """The value as an error message quotes it: a string in quotes, anything else as Python writes it, a
    long one cut short (a 4 MiB cell would otherwise be copied into its row's error)."""
    if isinstance(value, np.generic):
        value = value.item()  # True, not np.True_
    if isinstance(value, str):
        # a line break or other control character is shown escaped: a message stays one line
        shown = _CONTROL.sub(lambda c: c[0].encode("unicode_escape").decode("ascii"), value[:SHOWN_CHARACTERS])
        if len(value) > SHOWN_CHARACTERS:
            return f"'{shown}...' ({len(value):,} characters)"
        return f"'{shown}'"
    try:
        shown = repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr (sys.set_int_max_str_digits)
        return f"an integer of {value.bit_length():,} bits"
    if len(shown) > SHOWN_CHARACTERS:
        return f"{shown[:SHOWN_CHARACTERS]}... ({len(shown):,} characters)"
    return shown


def is_blank(value: Any) -> bool:
    """None, NaN, pandas' NA and NaT, or a string of spaces: a cell left empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, StoredNaN):
        return False
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and not stripped(value)


def is_unknown(value: Any, words: Collection[str]) -> bool:
    """Blank, or one of `words` (the contract's words for "not known") in any case and spacing."""
    return is_blank(value) or (isinstance(value, str) and folded(value) in words)


class Bad(ValueError):
    """A value its field does not accept; `expected` says what it is not, or what was expected instead."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def parse_yesno(value: Any, words: Mapping[str, str], others: str) -> str:
    """ "yes" or "no": `words` maps each accepted word to one of them; `others` names the other spellings."""
    # bool and numpy's bool_ (a pandas bool column), and the integers 1 and 0 (numpy's too); not 1.0
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return "yes" if value else "no"
    if isinstance(value, str) and folded(value) in words:
        return words[folded(value)]
    raise Bad(f"is not yes or no (also accepted: {others})")


def parse_choice(value: Any, choices: tuple[str, ...]) -> str:
    """One of `choices`, in any case and spacing; a near miss is named in the error."""
    if not isinstance(value, str):
        raise Bad(f"is not one of {', '.join(choices)}")
    if folded(value) in choices:
        return folded(value)
    close = difflib.get_close_matches(stripped(value).lower()[:SHOWN_CHARACTERS], choices, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise Bad(f"is not one of {', '.join(choices)}{hint}")


def parse_number(value: Any, field: Field) -> float:
    """The number `value` holds: text in the contract's plain decimals, or a Python or numpy int or float.

    True is not 1 here, and no text Python's float() reads beyond plain decimals (1_0, 1e3, nan) is a number.
    The range and whole-number checks are made on the value as written, exactly (9.99999999999999999999 is not
    10, though it is the same float), and only then is it read as a float."""
    if isinstance(value, bool | np.bool_):
        raise Bad(f"is not a number; expected {field.expected}")
    number: decimal.Decimal | int | float
    if isinstance(value, str):
        text = stripped(value)
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise Bad(f"is not {_number_words(text)}; expected {field.expected}")
        number = decimal.Decimal(text)
    elif isinstance(value, numbers.Integral):
        number = int(value)  # compared with the range exactly, however many digits
    elif isinstance(value, decimal.Decimal):  # a Parquet decimal column's value, exact
        if not value.is_finite():
            raise Bad(f"is not a finite number; expected {field.expected}")
        number = value
    elif isinstance(value, numbers.Real):
        number = float(value)  # a float is an exact binary fraction: compared as it is
        if math.isnan(number) or math.isinf(number):
            raise Bad(f"is not a finite number; expected {field.expected}")
    else:
        raise Bad(f"is not a number; expected {field.expected}")
    if field.kind == "integer" and number != int(number):
        raise Bad(f"is not a whole number; expected {field.expected}")
    if (field.low is not None and number < field.low) or (field.high is not None and number > field.high):
        if field.high is None:
            raise Bad(f"is below {field.low:g}; expected {field.expected}")
        raise Bad(f"is outside {field.low:g}-{field.high:g}")
    try:
        read = float(number)
    except OverflowError:
        read = math.inf
    if not math.isfinite(read):
        raise Bad(f"is too large to read as a number; expected {field.expected}")
    return int(read) if field.kind == "integer" else read


def _number_words(text: str) -> str:
    """What a text that is not a plain decimal is not: Python would read some of them (1_0, 1e3, nan)."""
    try:
        float(text)
    except ValueError:
        return "a number"
    return "a plain decimal number (such as 7, 7.5 or -0)"
