"""Personal numbers masked out of a normalised query before it is kept (the gaps log).

Each number is replaced by a label that says what it was, so a kept query still reads as the
agent wrote it ("客户说[手机号]收不到短信") and queries about one kind of number group together:

- [身份证号]  an 18-digit resident ID (17 digits and a digit or X);
- [手机号]    a mainland mobile number (11 digits from 13 to 19), with or without +86;
- [电话]      a landline with its area code (010-12345678, (0755) 8888 6666, 02112345678);
- [号码]      any other long number: 7 or more digits in a row (a local landline, a 15-digit old
              ID, which cannot be told from an IMEI, a bank card, an account), or 3 or more
              groups of at least 3 digits (6222 0212 3456 7890).

Digits may be split by single spaces or dashes. What stays: amounts (30元, 1000000元, 1000-2000
元), years and dates (2025年, 2025-03-01), short service numbers (10086, 95555), counts. Numbers
written in Chinese numerals (一三八…) are not recognised.
"""

import re

_SEP = r"[ -]?"  # normalisation has collapsed white space to one space
_START = r"(?<!\d)"
_END = r"(?!\d|\.\d)"  # not followed by more digits or a decimal part

_RULES = [
    (re.compile(rf"{_START}\d(?:{_SEP}\d){{16}}{_SEP}[\dXx]{_END}"), "[身份证号]"),
    (re.compile(rf"{_START}(?:\+?86{_SEP})?1[3-9]\d(?:{_SEP}\d){{8}}{_END}"), "[手机号]"),
    # Not the tail of a group chain: the 0212 3456 7890 of a card number 6222 0212 3456 7890.
    (re.compile(rf"{_START}(?<!\d[ -])(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}{_END}"), "[电话]"),
    # A long run is an amount when a unit of money follows it: 赔1000000元 stays.
    (re.compile(rf"{_START}\d{{7,}}{_END}(?! ?[元块万亿])"), "[号码]"),
    (re.compile(rf"{_START}\d{{3,}}(?:[ -]\d{{3,}}){{2,}}{_END}"), "[号码]"),
]


def mask_numbers(text: str) -> str:
    """`text` (normalised: half-width digits) with its personal numbers replaced by labels."""
    for pattern, label in _RULES:
        text = pattern.sub(label, text)
    return text
