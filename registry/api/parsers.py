"""The API's JSON parser: DRF's, plus the refusals its ``ValueError`` net misses."""
import codecs
import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _finite_float(text):
    # 1e400 parses to inf without passing through parse_constant (which refuses NaN/Infinity).
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


class StrictJSONParser(JSONParser):
    """Refuses (400) numbers that overflow to infinity, nesting deep enough to
    exhaust the decoder's recursion (a RecursionError otherwise), and NUL
    characters (\\u0000), which no text column of PostgreSQL can hold (a lookup
    by such a slug was a database error)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = codecs.getreader(get_encoding(parser_context or {}))(stream).read()
            data = json.loads(text, parse_constant=json.strict_constant, parse_float=_finite_float)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.")
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}")
        # Only an escaped \\u0000 can put a NUL in decoded JSON: walk the data only then.
        if "\\u0000" in text and _has_nul(data):
            raise ParseError("JSON parse error - NUL characters (\\u0000) are not allowed.")
        return data
