"""Personal data masked for readers who may not see raw example content.

Who may is the permission table's ``view_raw`` (contributors, tenant admins,
governance and legal reviewers of the dataset's tenant); everyone else
(viewers, users a dataset was shared with) reads every page, CSV and API
answer with each PII match replaced by ``pii.mask`` of it: the same detectors
the PII gate runs, so the Content column shows what its Details column shows.
"""
from registry import permissions
from registry.models import DatasetVersion


def mask_text(text):
    if not text:
        return text
    # Imported on use: loading the gate library registers every gate (and start-up stays light).
    from .library import pii

    parts, last = [], 0
    for start, end, _ in pii.pii_spans(text, pii.MASKED_DETECTORS):
        if start < last:  # overlapping spans (a number both phone- and card-shaped): masked once
            start = last
        if start < end:
            parts += [text[last:start], pii.mask(text[start:end])]
            last = end
    return "".join(parts) + text[last:]


def mask_data(data):
    """A tabular row (JSON object, lists, strings) with every string value masked."""
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict):
        return {key: mask_data(value) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_data(value) for value in data]
    return data


def mask_rows(rows):
    """Rows as dicts (``values()``, diff samples) with their text and data masked."""
    return [{**row, "text": mask_text(row.get("text")), "data": mask_data(row.get("data"))} for row in rows]


def masked_diff(result, raw):
    """A version diff (registry.diff) whose example samples the reader may see."""
    if raw:
        return result
    examples = result["examples"]
    return {**result, "examples": {**examples, "added_sample": mask_rows(examples["added_sample"]),
                                   "removed_sample": mask_rows(examples["removed_sample"])}}


class ContentMask:
    """For one reader: which tenants' content they read raw (one query, made
    on first use). Content of any other tenant is masked."""

    def __init__(self, user):
        self.user = user
        self._raw_tenants = None

    def raw_for(self, tenant_id):
        if self._raw_tenants is None:
            self._raw_tenants = set(
                permissions.tenants_where(self.user, DatasetVersion, "view_raw").values_list("pk", flat=True))
        return tenant_id in self._raw_tenants

    def text(self, value, tenant_id):
        return value if self.raw_for(tenant_id) else mask_text(value)

    def data(self, value, tenant_id):
        return value if self.raw_for(tenant_id) else mask_data(value)


def content_mask(context):
    """The serializer context's ContentMask, made once per request. Without a
    request (no reader known) everything is masked: fail closed."""
    if "content_mask" not in context:
        request = context.get("request")
        context["content_mask"] = ContentMask(request.user) if request is not None else None
    return context["content_mask"]
