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
a NUL), and matches are mapped back to examples by offset.
"""
import bisect
import ipaddress
import itertools
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


def _digit_run(min_digits):
    """Runs of at least ``min_digits`` digits (anchor identifiers such as account numbers)."""
    pattern = re.compile(rf"[0-9](?<![0-9][0-9])\d{{{min_digits - 1},}}(?!\d)")
    return Detector((pattern,), str, "a digit run")


# What pages mask for readers without raw access: every detector, customer-id-like
# tokens and long digit runs (account numbers), as the anchor scan collects them.
SPAN_DETECTORS = {**DETECTORS, "customer_id": CUSTOMER, "digit_run": _digit_run(6)}


def pii_spans(text):
    """(start, end, detector) of every PII match in ``text``, overlaps merged into
    the earliest, longest one. Reserved example domains are not personal data."""
    found = []
    for name, detector in SPAN_DETECTORS.items():
        if detector.needs and detector.needs not in text:
            continue
        for pattern in detector.patterns:
            for match in pattern.finditer(text):
                value = match.group()
                if detector.canonical(value) and not (name == "email" and EXAMPLE_DOMAINS.search(value)):
                    found.append((match.start(), match.end(), name))
    spans = []
    for start, end, name in sorted(found, key=lambda span: (span[0], -span[1])):
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end, name))
    return spans


def mask(value):
    """Enough to recognise a hit in the reject set, not to recover it."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***{domain[-4:]}"
    keep = 2 if len(value) > 6 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


class _Texts:
    """The pool's texts, joined by NUL once per substring filter, so each
    pattern scans one string and its matches map back by offset."""

    def __init__(self, texts):
        self.texts = texts
        self.joined = {}

    def _join(self, needs):
        if needs not in self.joined:
            indices = [i for i, t in enumerate(self.texts) if needs in t] if needs else range(len(self.texts))
            chosen = [self.texts[i] for i in indices]
            starts = list(itertools.accumulate((len(t) + 1 for t in chosen[:-1]), initial=0))
            self.joined[needs] = ("\x00".join(chosen), starts, list(indices))
        return self.joined[needs]

    def hits(self, detector):
        """(text index, canonical value) for every hit of ``detector``."""
        text, starts, indices = self._join(detector.needs)
        for pattern in detector.patterns:
            for match in pattern.finditer(text):
                if value := detector.canonical(match.group()):
                    yield indices[bisect.bisect_right(starts, match.start()) - 1], value


def anchor_identifiers(texts, min_digits):
    """Canonical identifiers occurring in the real anchor: detector hits,
    customer-id-like tokens and digit runs of at least ``min_digits``."""
    scanned = _Texts(texts)
    return {value for d in (*DETECTORS.values(), CUSTOMER, _digit_run(min_digits)) for _, value in scanned.hits(d)}


@gate(
    "pii",
    "PII and known-real identifiers",
    params={
        **{name: Param(True) for name in DETECTORS},
        # Identifiers of the real anchor (on when an anchor is given).
        "anchor_identifiers": Param(True),
        "min_digits": Param(6, 4, 30),  # shortest digit run collected from the anchor as an identifier
    },
)
def pii(ctx):
    scanned = _Texts([text or "" for text in ctx.pool.texts])
    findings, values = {}, {}  # index -> [{detector, match}], and the raw values behind them

    def add(index, detector, value):
        # A value inside one already found (the digits of CU-204817) adds nothing.
        if len(values.setdefault(index, [])) < 10 and not any(value in v for v in values[index]):
            values[index].append(value)
            findings.setdefault(index, []).append({"detector": detector, "match": mask(value)})

    known = set()
    if ctx.anchor is not None and ctx.params["anchor_identifiers"]:
        known = anchor_identifiers([t or "" for t in ctx.anchor.texts], ctx.params["min_digits"])
    scans = [(name, d) for name, d in DETECTORS.items() if ctx.params[name] or known]
    if known:
        scans += [(None, CUSTOMER), (None, _digit_run(ctx.params["min_digits"]))]
    for name, detector in scans:
        for index, value in scanned.hits(detector):
            if value in known:
                add(index, "anchor_identifier", value)
            elif name and ctx.params[name] and not (name == "email" and EXAMPLE_DOMAINS.search(value)):
                add(index, name, value)
    ctx.metrics["anchor_identifiers"] = len(known)
    rejects = []
    for index in sorted(findings):
        hits = findings[index]
        echoes = [h for h in hits if h["detector"] == "anchor_identifier"]
        if echoes:
            reason = f"Echoes an identifier of the real anchor ({echoes[0]['match']})."
        else:
            reason = f"Contains {DETECTORS[hits[0]['detector']].title} ({hits[0]['match']})."
        rejects.append(Reject(index, reason, {"findings": hits}))
    return rejects
