"""The vendored RingCentral contract (ringcentral-openapi-subset.json) as validators for tests.

OpenAPI 3.0 schemas are JSON Schema draft-4-ish with extras (`nullable`, `discriminator`, `example`); the
subset uses none of `nullable`, so a draft 2020-12 validator over the document, with `$ref`s resolved
inside it, checks bodies as RingCentral's SDK generators read them. `undocumented_fields` is stricter than
the spec (whose objects mostly allow extra properties): it names every field the emulator sends that the
spec does not document, since a client reading such a field would get nothing from RingCentral.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC_PATH = Path(__file__).with_name("ringcentral-openapi-subset.json")


# Where the spec contradicts RingCentral's own answers, the answer wins, named here (and nowhere else):
# - ProvisioningSiteInfo.id is typed `format: uri`, but it is a site id ("main-site" for the main site,
#   as RingCentral's docs and every extension/~ sample show).
_SPEC_QUIRKS = (("ProvisioningSiteInfo", "id", "format"),)


@cache
def spec() -> dict[str, Any]:
    """The vendored subset, with the few _SPEC_QUIRKS relaxed."""
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for schema, field, keyword in _SPEC_QUIRKS:
        document["components"]["schemas"][schema]["properties"][field].pop(keyword)
    return document


def schema_for(ref: str) -> dict[str, Any]:
    """A JSON Schema for `ref` (a component name like "CallLogRecord" or a full "#/..." pointer)."""
    pointer = ref if ref.startswith("#/") else f"#/components/schemas/{ref}"
    return {"$ref": pointer, "components": spec()["components"]}


@cache
def _validator(ref: str) -> jsonschema.Draft202012Validator:
    schema = schema_for(ref)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def errors(instance: Any, ref: str) -> list[str]:
    """Every way `instance` breaks the schema `ref`, one line each (empty when it conforms)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in _validator(ref).iter_errors(instance)
    ]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = spec()["components"][kind][name]
    return node


def _properties(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The properties a schema documents (through allOf and $ref) and whether it is a free-form map."""
    schema = resolve(schema)
    props: dict[str, Any] = dict(schema.get("properties", {}))
    free = "properties" not in schema and "allOf" not in schema
    if isinstance(schema.get("additionalProperties"), dict):
        free = True
    for part in schema.get("allOf", []):
        more, part_free = _properties(part)
        props.update(more)
        free = free and part_free
    return props, free


def undocumented_fields(
    instance: Any, ref: str, schema: dict[str, Any] | None = None, at: str = ""
) -> list[str]:
    """Paths of fields in `instance` that the schema does not document anywhere."""
    node = resolve(schema if schema is not None else {"$ref": schema_for(ref)["$ref"]})
    found: list[str] = []
    if isinstance(instance, dict):
        props, free = _properties(node)
        if free:
            return found
        for key, value in instance.items():
            if key not in props:
                found.append(f"{at}{key}")
            else:
                found += undocumented_fields(value, ref, props[key], f"{at}{key}.")
    elif isinstance(instance, list) and "items" in node:
        for i, value in enumerate(instance):
            found += undocumented_fields(value, ref, node["items"], f"{at}{i}.")
    return sorted(set(found))


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON body schema the spec documents for an answer, or None when it documents no body."""
    operation = spec()["paths"][path][method]
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    response = resolve(response)
    content = response.get("content", {}).get("application/json")
    return None if content is None else content["schema"]


def documented_statuses(path: str, method: str) -> set[int]:
    return {int(code) for code in spec()["paths"][path][method]["responses"]}


def errors_for_response(body: Any, path: str, method: str, status: int) -> list[str]:
    schema = response_schema(path, method, status)
    if schema is None:
        return []
    full = {**schema, "components": spec()["components"]}
    validator = jsonschema.Draft202012Validator(
        full, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in validator.iter_errors(body)
    ]
