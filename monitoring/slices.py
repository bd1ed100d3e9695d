"""Named slices: a small filter language over a frame's columns.

    label in ['gdpr_erasure', 'regulator_complaint']
    difficulty == 'hard' and channel != 'email'
    length > 500 or (channel == 'chat' and length > 200)

Comparisons (==, !=, <, <=, >, >=, in, not in) of a column with a literal
(number, string, list of them), combined with and / or / not and parentheses.
The expression is parsed with ``ast`` and only those node types are accepted;
it is never evaluated as Python: ``mask`` walks the tree and builds a pandas
boolean mask.
"""
import ast
import operator

from django.core.exceptions import ValidationError

COMPARISONS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
MAX_LENGTH = 500


class BadSlice(ValueError):
    pass


def _literal(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = _literal(node.operand)
        if isinstance(value, (int, float)):
            return -value
    raise BadSlice("values must be numbers or quoted strings")


def _check(node, columns):
    """Validate the tree; returns the column names it reads."""
    if isinstance(node, ast.BoolOp):
        return set().union(*(_check(value, columns) for value in node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _check(node.operand, columns)
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.left, ast.Name):
            raise BadSlice("write one comparison at a time: column op value")
        name, op, right = node.left.id, node.ops[0], node.comparators[0]
        if columns is not None and name not in columns:
            raise BadSlice(f"unknown column {name!r}")
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.List, ast.Tuple)) or not right.elts:
                raise BadSlice("'in' needs a non-empty list: column in ['a', 'b']")
            for element in right.elts:
                _literal(element)
        elif type(op) in COMPARISONS:
            _literal(right)
        else:
            raise BadSlice("operators are ==, !=, <, <=, >, >=, in, not in")
        return {name}
    raise BadSlice("use comparisons joined by and / or / not")


def parse(expression, columns=None):
    """The parsed expression (an ``ast`` node), or BadSlice saying what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise BadSlice("empty filter")
    if len(expression) > MAX_LENGTH:
        raise BadSlice(f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError as error:
        raise BadSlice(f"syntax error at column {error.offset}") from None
    _check(tree, columns)
    return tree


def columns_of(tree):
    """The column names a parsed filter reads."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def mask(tree, frame):
    """Boolean Series selecting the rows of ``frame`` matching the parsed filter."""
    if isinstance(tree, ast.BoolOp):
        parts = [mask(value, frame) for value in tree.values]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if isinstance(tree.op, ast.And) else (combined | part)
        return combined
    if isinstance(tree, ast.UnaryOp):
        return ~mask(tree.operand, frame)
    column = frame[tree.left.id]
    op, right = tree.ops[0], tree.comparators[0]
    if isinstance(op, (ast.In, ast.NotIn)):
        values = [_literal(element) for element in right.elts]
        selected = column.isin(values)
        return ~selected if isinstance(op, ast.NotIn) else selected
    value = _literal(right)
    if isinstance(value, (int, float)):
        import pandas as pd  # only when a slice is evaluated on data

        column = pd.to_numeric(column, errors="coerce")
    return COMPARISONS[type(op)](column, value).fillna(False).astype(bool)


def validate(slices, columns):
    """Slices as [{"name": slug, "filter": expression}], names unique, filters valid."""
    if not isinstance(slices, list):
        raise ValidationError({"slices": "Give a list of {\"name\": ..., \"filter\": ...}."})
    seen, cleaned = set(), []
    for index, entry in enumerate(slices):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValidationError({"slices": f"Slice {index + 1}: name it with letters, digits, - or _."})
        if name in seen or name == "aggregate":
            raise ValidationError({"slices": f"Slice name {name!r} is taken."})
        try:
            parse(entry.get("filter"), columns)
        except BadSlice as error:
            raise ValidationError({"slices": f"Slice {name!r}: {error}."}) from None
        seen.add(name)
        cleaned.append({"name": name, "filter": entry["filter"].strip()})
    return cleaned
