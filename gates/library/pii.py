"""PII and known-real-identifier scan.

Pattern detectors find personal data of any origin (emails, phone numbers,
card numbers passing Luhn, IBANs passing mod-97, national-id shapes, IP
addresses). The anchor detector catches a generator echoing the real seed
data: every identifier found in the real anchor (emails, customer-id-like
tokens such as ``CU-204817``, long digit runs, and the pattern hits above) is
collected, and a synthetic text containing one of them is rejected even when
it would pass the patterns. Details name the detector and a masked match, never
the raw value.

Each detector runs once over the whole pool joined by NUL (no pattern crosses
a NUL), and matches are mapped back to examples by offset. ``pii_spans(text)``
is the same matching on one text (for masking pages).

Tables: the detectors read cells, not the row's JSON. Text columns (strings
with mostly distinct values) and the columns declared ``free_text_columns`` or
``sensitive_columns`` are scanned by every detector; categorical columns (strings
that repeat) by every detector but the digit-shaped ones (phone, card, anchor
digit runs); numerical and boolean columns not at all unless declared
sensitive (then as their digits). An amount of 4155550132 is not a phone number
unless the column says it holds them.
"""
import bisect
import functools
import ipaddress
import itertools
import numbers
import re
from dataclasses import dataclass
from typing import Callable

from gates.base import Param, Reject, gate

# Reserved documentation domains (RFC 2606) reach nobody: not PII by pattern,
# though still an echo when the real anchor holds the same address.
EXAMPLE_DOMAINS = re.compile(r"@(?:[\w-]+\.)*example\.(?:com|org|net)$|@[\w.-]+\.(?:example|test|invalid)$", re.I)

# Each pattern starts with a literal or a character class, so the regex
# engine skips ahead to candidate positions; the boundary checks are
# lookbehinds placed after that first character.
EMAIL = re.compile(r"[\w.%+-](?<![\w.+-][\w.%+-])[\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
PHONE = (
    re.compile(r"\+(?<![\w+]\+)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}(?![\w-])"),  # +44 20 7946 0958
    re.compile(r"\((?<![\w+]\()\d{3}\) ?\d{3}[ .-]\d{4}(?![\w-])"),  # (415) 555-0132
    re.compile(r"[0-9](?<![\w+][0-9])\d{2}[.-]\d{3}[.-]\d{4}(?![\w-])"),  # 415-555-0132
)
CARD = re.compile(r"[0-9](?<![\d-][0-9])(?:[ -]?\d){12,18}(?![\d-])")
IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])")
NATIONAL_ID = (
    re.compile(r"[0-8](?<![\w-][0-8])\d{2}-\d{2}-\d{4}(?![\w-])"),  # US SSN (area, group, serial checked below)
    re.compile(  # UK National Insurance number
        r"[A-CEGHJ-PR-TW-Z](?<![\w-][A-CEGHJ-PR-TW-Z])[A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])"
    ),
)
# An IPv4 address may end a sentence ("…from 10.2.3.4."), but not a longer dotted number.
IPV4 = re.compile(r"[0-9](?<!\w[0-9])(?<!\w\.[0-9])\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\w)")
IPV6 = re.compile(r"[0-9A-Fa-f:](?<![\w:][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}(?![\w:])")
# In a column declared sensitive, a bare run of 10–15 digits is a phone number too (stored as a number).
BARE_PHONE = re.compile(r"[0-9](?<![0-9][0-9])\d{9,14}(?!\d)")
# Identifier shapes collected from the real anchor besides the detectors above.
CUSTOMER_ID = re.compile(r"[A-Z](?<![\w-][A-Z])[A-Z]+[-_]?\d{4,}(?![\w-])")


def luhn_valid(digits):
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate):
    """ISO 13616 check: move the first four characters to the end, letters to
    numbers (A=10…), and the number mod 97 must be 1."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34:
        return False
    rotated = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1


def _digits(value):
    return re.sub(r"\D", "", value)


def _card(match):
    digits = _digits(match)
    return digits if 13 <= len(digits) <= 19 and luhn_valid(digits) else None


def _phone(match):
    digits = _digits(match)
    return digits if 10 <= len(digits) <= 15 else None


def _ssn(match):
    area, group, serial = match.split("-")
    return None if area in ("000", "666") or group == "00" or serial == "0000" else match


def _ipv4(match):
    return match if all(int(octet) <= 255 for octet in match.split(".")) else None


def _ipv6(match):
    if sum(c.isalnum() for c in match) < 3:  # "::" and "::1" name no one
        return None
    try:
        return ipaddress.IPv6Address(match).compressed
    except ValueError:
        return None


@dataclass(frozen=True)
class Detector:
    patterns: tuple
    canonical: Callable  # a match -> its canonical form, or None when it is no hit
    title: str  # what a hit is called in the reject reason
    needs: str = ""  # a substring every hit contains: texts without it are not scanned


DETECTORS = {
    "email": Detector((EMAIL,), str.lower, "an email address", needs="@"),
    "phone": Detector(PHONE, _phone, "a phone number"),
    "card": Detector((CARD,), _card, "a payment card number"),
    "iban": Detector((IBAN,), lambda m: m.replace(" ", "").upper() if iban_valid(m) else None, "an IBAN"),
    "national_id": Detector(NATIONAL_ID, lambda m: _ssn(m) if "-" in m else m.replace(" ", ""),
                            "a national id number"),
    "ipv4": Detector((IPV4,), _ipv4, "an IPv4 address", needs="."),
    "ipv6": Detector((IPV6,), _ipv6, "an IPv6 address", needs=":"),
}
# Shapes collected from the anchor as identifiers beside the detectors' hits.
CUSTOMER = Detector((CUSTOMER_ID,), str.upper, "a customer id")
SENSITIVE_PHONE = Detector((BARE_PHONE,), _phone, "a phone number")


def _digit_run(min_digits):
    """Runs of at least ``min_digits`` digits (anchor identifiers such as account numbers)."""
    pattern = re.compile(rf"[0-9](?<![0-9][0-9])\d{{{min_digits - 1},}}(?!\d)")
    return Detector((pattern,), str, "a digit run")


def mask(value):
    """Enough to recognise a hit in the reject set, not to recover it."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***{domain[-4:]}"
    keep = 2 if len(value) > 6 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


# Detectors whose hits are digit runs: they scan text cells only, never categories.
DIGIT_DETECTORS = ("phone", "card")
# A string column is categorical when its distinct values are at most this share of its values.
CATEGORICAL_MAX_DISTINCT_SHARE = 0.5


def _is_pii(name, value):
    """Whether a detector's canonical hit names someone (documentation domains name no one)."""
    return not (name == "email" and EXAMPLE_DOMAINS.search(value))


def _hits(text, detector):
    """(start, end, canonical value) of every hit of ``detector`` in ``text``."""
    for pattern in detector.patterns:
        for match in pattern.finditer(text):
            if value := detector.canonical(match.group()):
                yield match.start(), match.end(), value


def pii_spans(text, detectors=None):
    """(start, end, detector) of every personal-data match in ``text``, sorted: the
    pattern detectors of the PII gate (or ``detectors``), with their checks (Luhn,
    mod 97, …). Spans of different detectors may overlap (a number both phone- and
    card-shaped)."""
    return sorted((start, end, name) for name, detector in (detectors or DETECTORS).items()
                  for start, end, value in _hits(text, detector) if _is_pii(name, value))


# What pages mask for readers without raw access: the pattern detectors, plus
# customer-id-like tokens and long digit runs (account numbers), the identifiers
# the anchor scan collects.
MASKED_DETECTORS = {**DETECTORS, "customer_id": CUSTOMER, "digit_run": _digit_run(6)}


class _Texts:
    """Strings to scan (texts, or table cells) with the row each belongs to, joined by
    NUL once per substring filter, so each pattern scans one string and its matches
    map back by offset."""

    def __init__(self, texts, owners=None, columns=None):
        self.texts, self.owners, self.columns = texts, owners, columns
        self.joined = {}

    def _join(self, needs):
        if needs not in self.joined:
            indices = [i for i, t in enumerate(self.texts) if needs in t] if needs else range(len(self.texts))
            chosen = [self.texts[i] for i in indices]
            starts = list(itertools.accumulate((len(t) + 1 for t in chosen[:-1]), initial=0))
            self.joined[needs] = ("\x00".join(chosen), starts, list(indices))
        return self.joined[needs]

    def hits(self, detector):
        """(row index, column or None, canonical value) for every hit of ``detector``."""
        text, starts, indices = self._join(detector.needs)
        for start, _, value in _hits(text, detector):
            string = indices[bisect.bisect_right(starts, start) - 1]
            yield (string if self.owners is None else self.owners[string],
                   None if self.columns is None else self.columns[string], value)


def _cell_text(value):
    """A declared-sensitive cell as the string its digits would appear in."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, numbers.Number):
        return str(int(value)) if float(value).is_integer() else repr(value)
    return str(value)


def column_roles(records, free_text=(), sensitive=()):
    """{column: "text" | "categorical" | "skip"}: how the PII gate scans each column."""
    values = {}
    for record in records:
        for column, value in (record or {}).items():
            values.setdefault(column, []).append(value)
    roles = {}
    for column, seen in values.items():
        present = [v for v in seen if v is not None]
        if column in free_text or column in sensitive:
            roles[column] = "text"
        elif present and all(isinstance(v, str) for v in present):
            distinct = len(set(present)) / len(present)
            roles[column] = "categorical" if distinct <= CATEGORICAL_MAX_DISTINCT_SHARE else "text"
        else:
            roles[column] = "skip"  # numbers, booleans, nested values
    return roles


def _scans(rows, modality, params):
    """(every scanned string, text-like strings only, cells of sensitive columns), each a ``_Texts``."""
    if modality != "tabular":
        texts = _Texts([text or "" for text in rows.texts])
        return texts, texts, _Texts([])
    sensitive = set(params["sensitive_columns"])
    roles = column_roles(rows.data, params["free_text_columns"], sensitive)
    cells = {"text": ([], [], []), "categorical": ([], [], []), "sensitive": ([], [], [])}
    for index, record in enumerate(rows.data):
        for column, value in (record or {}).items():
            if roles.get(column, "skip") != "skip" and value is not None:
                for group in (roles[column], "sensitive") if column in sensitive else (roles[column],):
                    strings, owners, columns = cells[group]
                    strings.append(_cell_text(value))
                    owners.append(index)
                    columns.append(column)
    text, categorical = cells["text"], cells["categorical"]
    return _Texts(*(a + b for a, b in zip(text, categorical))), _Texts(*text), _Texts(*cells["sensitive"])


def _scan_for(name, scans):
    everything, text_like, _ = scans
    return text_like if name in DIGIT_DETECTORS else everything


def anchor_identifiers(anchor, modality, params):
    """Canonical identifiers occurring in the real anchor: detector hits,
    customer-id-like tokens and digit runs of at least ``min_digits``."""
    scans = _scans(anchor, modality, params)
    digit_run = _digit_run(params["min_digits"])
    found = {value for name, d in DETECTORS.items() for _, _, value in _scan_for(name, scans).hits(d)}
    found |= {value for _, _, value in scans[0].hits(CUSTOMER)}
    return found | {value for _, _, value in scans[1].hits(digit_run)}


@functools.cache
def detector_precision():
    """Each detector's precision and recall on the labelled sample (gates.planted.pii_sample)."""
    from gates.planted import pii_sample

    sample = pii_sample()
    figures = {}
    for name in DETECTORS:
        truth = {(i, s, e) for i, (_, spans) in enumerate(sample) for s, e, d in spans if d == name}
        found = {(i, s, e) for i, (text, _) in enumerate(sample) for s, e, d in pii_spans(text) if d == name}
        hit = {f for f in found if any(f[0] == t[0] and f[1] < t[2] and t[1] < f[2] for t in truth)}
        caught = {t for t in truth if any(f[0] == t[0] and f[1] < t[2] and t[1] < f[2] for f in found)}
        figures[name] = {"precision": round(len(hit) / len(found), 4) if found else None,
                         "recall": round(len(caught) / len(truth), 4) if truth else None,
                         "matches": len(found), "labelled": len(truth)}
    return {"sample": len(sample), "detectors": figures}


@gate(
    "pii",
    "PII and known-real identifiers",
    params={
        **{name: Param(True) for name in DETECTORS},
        # Identifiers of the real anchor (on when an anchor is given).
        "anchor_identifiers": Param(True),
        "min_digits": Param(6, 4, 30),  # shortest digit run collected from the anchor as an identifier
        # Tables: columns scanned by every detector whatever their values look like.
        "free_text_columns": Param([]),
        "sensitive_columns": Param([]),  # numbers too: phone or card numbers stored as integers
    },
)
def pii(ctx):
    p = ctx.params
    scans = _scans(ctx.pool, ctx.modality, p)
    findings, values = {}, {}  # index -> [{detector, match[, column]}], and the raw values behind them

    def add(index, column, detector, value):
        # A value inside one already found (the digits of CU-204817) adds nothing.
        if len(values.setdefault(index, [])) < 10 and not any(value in v for v in values[index]):
            values[index].append(value)
            finding = {"detector": detector, "match": mask(value)}
            findings.setdefault(index, []).append({**finding, "column": column} if column else finding)

    known = set()
    if ctx.anchor is not None and p["anchor_identifiers"]:
        known = anchor_identifiers(ctx.anchor, ctx.modality, p)
    detectors = [(name, d, _scan_for(name, scans)) for name, d in DETECTORS.items() if p[name] or known]
    detectors.append(("phone", SENSITIVE_PHONE, scans[2]))
    if known:
        detectors += [(None, CUSTOMER, scans[0]), (None, _digit_run(p["min_digits"]), scans[1])]
    for name, detector, scan in detectors:
        for index, column, value in scan.hits(detector):
            if value in known:
                add(index, column, "anchor_identifier", value)
            elif name and p[name] and _is_pii(name, value):
                add(index, column, name, value)
    ctx.metrics.update(anchor_identifiers=len(known), detector_precision=detector_precision())
    if ctx.modality == "tabular":
        roles = column_roles(ctx.pool.data, p["free_text_columns"], p["sensitive_columns"])
        ctx.metrics["scanned_columns"] = {role: sorted(c for c, r in roles.items() if r == role)
                                          for role in ("text", "categorical", "skip")}
    rejects = []
    for index in sorted(findings):
        hits = findings[index]
        echoes = [h for h in hits if h["detector"] == "anchor_identifier"]
        shown = (echoes or hits)[0]
        where = f" in column {shown['column']!r}" if shown.get("column") else ""
        if echoes:
            reason = f"Echoes an identifier of the real anchor{where} ({shown['match']})."
        else:
            reason = f"Contains {DETECTORS[shown['detector']].title}{where} ({shown['match']})."
        rejects.append(Reject(index, reason, {"findings": hits}))
    return rejects
