"""Validate one record into a registry_example row, its lineage resolved.

Fields of a record (JSONL keys, CSV columns, Parquet columns):

    text | data          content: text, or a JSON object of columns (tabular datasets)
    origin               "synthetic" or "real" (required)
    label                optional class label
    generator_name, generator_version       a registered generator (both or neither)
    template_name, template_version         a stored prompt template of the dataset's tenant
    prompt_hash          sha256 hex of the prompt; defaults to the template body's hash
    seed_ordinal | seed_hash                an example of the manifest's real anchor
                                            (its latest version), by ordinal or content hash
    seed_external_id     a seed outside the registry
    sampling_params      JSON object (temperature, top_p, ...)
    intended_use         one of the registry's uses
    eval_exclusion, never_train_on          booleans, OR-ed with the manifest's flags

A synthetic row must name its generator and its prompt (template or hash): the
database's CHECK refuses it otherwise, and so does this validator, naming the
field. Lineage is *complete* when a synthetic row also names a seed, sampling
params and an intended use (R.lineage_complete asks for 100%).
"""
import hashlib
import json
import string
from dataclasses import dataclass

from registry.choices import Origin, Use
from registry.lineage import CANONICAL_JSON, canonical_data, normalize_text
from registry.models import Example, Generator, PromptTemplate

FIELDS = frozenset({
    "text", "data", "origin", "label", "generator_name", "generator_version", "template_name", "template_version",
    "prompt_hash", "seed_ordinal", "seed_hash", "seed_external_id", "sampling_params", "intended_use",
    "eval_exclusion", "never_train_on",
})
MAX_TEXT_CHARS = 100_000
MAX_DATA_CHARS = 100_000
MAX_PARAMS_CHARS = 10_000
MAX_NAME_CHARS = 200
USES = frozenset(Use.values)
HEX = frozenset(string.hexdigits.lower())
TRUE_CELLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}

# Order of the values a validated row carries (the writers add version, ordinal, dup_rank).
ROW_COLUMNS = (
    "text", "data", "content_hash", "label", "origin", "generator_id", "prompt_template_id", "prompt_hash",
    "seed_example_id", "seed_external_id", "sampling_params", "intended_use", "eval_exclusion", "never_train_on",
)


@dataclass
class Lookups:
    """The small vocabularies a row may reference, loaded once per ingestion."""

    generators: dict
    templates: dict
    anchor_name: str | None
    anchor_by_ordinal: dict
    anchor_by_hash: dict


def load_lookups(version):
    anchor = version.manifest.real_anchor
    anchor_version = anchor.versions.order_by("-number").first() if anchor else None
    anchor_rows = Example.objects.filter(version=anchor_version).values_list("id", "ordinal", "content_hash")
    return Lookups(
        generators={(name, ver): pk for pk, name, ver in Generator.objects.values_list("id", "name", "version")},
        templates={
            (name, ver): (pk, body_hash)
            for pk, name, ver, body_hash in PromptTemplate.objects.filter(tenant=version.dataset.tenant_id)
            .values_list("id", "name", "version", "body_sha256")
        },
        anchor_name=str(anchor_version) if anchor_version else None,
        anchor_by_ordinal={ordinal: pk for pk, ordinal, _ in anchor_rows},
        anchor_by_hash={content: pk for pk, _, content in anchor_rows},
    )


class RowValidator:
    """``validate(record)`` -> ``(values, errors, complete)``: the row's values in
    ROW_COLUMNS order (None when invalid), a list of (field, message), and
    whether a synthetic row's lineage is complete.

    ``cells_are_text``: CSV, where every cell is a string converted here (an
    empty cell is an absent value). ``json_as_text``: CSV and Parquet, where
    ``data`` and ``sampling_params`` may be JSON strings."""

    def __init__(self, *, lookups, tabular, cells_are_text, json_as_text, eval_exclusion, never_train_on):
        self.lookups = lookups
        self.tabular = tabular
        self.cells_are_text = cells_are_text
        self.json_as_text = json_as_text
        self.flags = (eval_exclusion, never_train_on)

    # -- typed getters: each returns the value or None, appending errors ---------

    def _string(self, record, field, errors, limit=MAX_NAME_CHARS):
        value = record.get(field)
        if value is None:
            return ""
        if not isinstance(value, str):
            errors.append((field, f"must be a string, not {type(value).__name__}"))
            return ""
        if len(value) > limit:
            errors.append((field, f"{len(value):,} characters; the limit is {limit:,}"))
            return ""
        if "\x00" in value:
            errors.append((field, "contains a NUL character"))
            return ""
        return value

    def _integer(self, record, field, errors):
        value = record.get(field)
        if value is None or value == "":
            return None
        if self.cells_are_text and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append((field, f"must be a positive integer, not {value!r}"[:200]))
            return None
        return value

    def _boolean(self, record, field, errors):
        value = record.get(field)
        if value is None:
            return False
        if self.cells_are_text and isinstance(value, str) and value.strip().lower() in TRUE_CELLS:
            return TRUE_CELLS[value.strip().lower()]
        if not isinstance(value, bool):
            errors.append((field, f"must be true or false, not {value!r}"[:200]))
            return False
        return value

    def _object(self, record, field, errors, limit):
        """A JSON object, returned serialized (sorted keys), or None when absent."""
        value = record.get(field)
        if value is None or value == "":
            return None, None
        if self.json_as_text and isinstance(value, str):
            if len(value) > limit:
                errors.append((field, f"{len(value):,} characters; the limit is {limit:,}"))
                return None, None
            try:
                value = json.loads(value)
            except ValueError as error:
                errors.append((field, f"not valid JSON: {error}"[:200]))
                return None, None
        if not isinstance(value, dict):
            errors.append((field, f"must be a JSON object, not {type(value).__name__}"))
            return None, None
        serialized = CANONICAL_JSON.encode(value)
        if len(serialized) > limit:
            errors.append((field, f"{len(serialized):,} characters; the limit is {limit:,}"))
            return None, None
        if "\\u0000" in serialized:
            errors.append((field, "contains a NUL character"))
            return None, None
        return value, serialized

    # -- the row --------------------------------------------------------------

    def _content(self, record, errors):
        """(text, data JSON, content hash)."""
        if self.tabular:
            if record.get("text"):
                errors.append(("text", "this dataset is tabular: give the columns as a JSON object in data"))
            data, _ = self._object(record, "data", errors, MAX_DATA_CHARS)
            if data is None:
                if not any(field == "data" for field, _ in errors):
                    errors.append(("data", "required: the row's columns as a JSON object"))
                return "", None, ""
            form = canonical_data(data)
            return "", form, hashlib.sha256(form.encode("utf-8")).hexdigest()
        if record.get("data") not in (None, ""):
            errors.append(("data", "this dataset is text: give the content in text"))
        text = self._string(record, "text", errors, MAX_TEXT_CHARS)
        normalized = normalize_text(text)
        if not normalized:
            if not any(field == "text" for field, _ in errors):
                errors.append(("text", "required: the example's content (not blank)"))
            return "", None, ""
        return text, None, hashlib.sha256(normalized.encode("utf-8")).hexdigest()

    def _pair(self, record, errors, name_field, version_field, integer_version):
        name = self._string(record, name_field, errors)
        version = (self._integer(record, version_field, errors) if integer_version
                   else self._string(record, version_field, errors, 100))
        if bool(name) != bool(version):
            missing = version_field if name else name_field
            errors.append((missing, f"give both {name_field} and {version_field}"))
            return None
        return (name, version) if name else None

    def _seed(self, record, errors):
        ordinal = self._integer(record, "seed_ordinal", errors)
        content = self._string(record, "seed_hash", errors, 64).lower()
        if ordinal is None and not content:
            return None
        lookups = self.lookups
        if lookups.anchor_name is None:
            errors.append(("seed_ordinal" if ordinal else "seed_hash", "the manifest names no real anchor with a version"))
            return None
        by_ordinal = lookups.anchor_by_ordinal.get(ordinal) if ordinal is not None else None
        by_hash = lookups.anchor_by_hash.get(content) if content else None
        if ordinal is not None and by_ordinal is None:
            errors.append(("seed_ordinal", f"no example #{ordinal} in the real anchor {lookups.anchor_name}"))
        if content and by_hash is None:
            errors.append(("seed_hash", f"no example with that content hash in the real anchor {lookups.anchor_name}"))
        if by_ordinal and by_hash and by_ordinal != by_hash:
            errors.append(("seed_hash", f"names a different anchor example than seed_ordinal {ordinal}"))
        return by_ordinal or by_hash

    def validate(self, record):
        errors = []
        unknown = record.keys() - FIELDS
        if unknown:
            errors.extend((field, "unknown field") for field in sorted(map(str, unknown)))
        text, data, content = self._content(record, errors)
        origin = record.get("origin")
        if origin not in (Origin.SYNTHETIC, Origin.REAL):
            errors.append(("origin", "required: synthetic or real" if origin in (None, "") else
                           f"must be synthetic or real, not {origin!r}"[:200]))
        label = self._string(record, "label", errors)
        generator_id = template_id = None
        generator = self._pair(record, errors, "generator_name", "generator_version", integer_version=False)
        if generator:
            generator_id = self.lookups.generators.get(generator)
            if generator_id is None:
                errors.append(("generator_name", f"unknown generator {generator[0]}@{generator[1]}: register it first"))
        template = self._pair(record, errors, "template_name", "template_version", integer_version=True)
        prompt_hash = self._string(record, "prompt_hash", errors, 64).lower()
        if prompt_hash and (len(prompt_hash) != 64 or not HEX.issuperset(prompt_hash)):
            errors.append(("prompt_hash", "must be a SHA-256 hex digest (64 hex characters)"))
        if template:
            found = self.lookups.templates.get(template)
            if found is None:
                errors.append(("template_name", f"no prompt template {template[0]} v{template[1]} in this tenant"))
            else:
                template_id = found[0]
                prompt_hash = prompt_hash or found[1]
        if origin == Origin.SYNTHETIC:
            if generator is None:
                errors.append(("generator_name", "a synthetic row must name its generator (name and version)"))
            if template is None and not prompt_hash:
                errors.append(("prompt_hash", "a synthetic row must name its prompt template or prompt hash"))
        seed_id = self._seed(record, errors)
        seed_external = self._string(record, "seed_external_id", errors)
        params, params_json = self._object(record, "sampling_params", errors, MAX_PARAMS_CHARS)
        intended_use = self._string(record, "intended_use", errors, 32)
        if intended_use and intended_use not in USES:
            errors.append(("intended_use", f"unknown use {intended_use!r}; choose from {', '.join(Use.values)}"[:300]))
        eval_exclusion = self._boolean(record, "eval_exclusion", errors) or self.flags[0]
        never_train_on = self._boolean(record, "never_train_on", errors) or self.flags[1]
        if errors:
            return None, errors, False
        complete = bool(
            origin == Origin.SYNTHETIC and (seed_id or seed_external) and params and intended_use
        )
        values = (
            text, data, content, label, origin, generator_id, template_id, prompt_hash, seed_id, seed_external,
            params_json or "{}", intended_use, eval_exclusion, never_train_on,
        )
        return values, errors, complete
