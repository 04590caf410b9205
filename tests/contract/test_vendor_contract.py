"""scripts/vendor_contract.py keeps the chosen operations and every component they reach, and nothing else."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "vendor_contract.py"


def _load():
    spec = importlib.util.spec_from_file_location("vendor_contract", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _operation(ref: str) -> dict:
    return {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": ref}}}}}}


def test_vendoring_keeps_the_operations_and_their_components_transitively(tmp_path):
    vendor = _load()
    paths = {path: {m: _operation("#/components/schemas/A") for m in ms} for path, ms in vendor.PATHS.items()}
    paths["/restapi/v1.0/unrelated"] = {"get": _operation("#/components/schemas/Unused")}
    source = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "object", "properties": {"when": {"type": "string", "example": "DATE"}}},
                "Unused": {"type": "string"},
            }
        },
    }
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(yaml.safe_dump(source).replace("DATE", "2026-08-13"), encoding="utf-8")
    out = tmp_path / "subset.json"
    assert vendor.main(["vendor_contract.py", str(spec_file), str(out)]) == 0
    subset = json.loads(out.read_text(encoding="utf-8"))
    assert set(subset["components"]["schemas"]) == {"A", "B"}
    # An unquoted YAML date in an example stays the text it is in the spec (JSON has no dates).
    assert subset["components"]["schemas"]["B"]["properties"]["when"]["example"] == "2026-08-13"
    assert "/restapi/v1.0/unrelated" not in subset["paths"] and set(subset["paths"]) == set(vendor.PATHS)
    assert subset["x-vendored"]["commit"] == "799e12a" and subset["x-vendored"]["repository"]


def test_the_vendored_subset_names_its_source_and_holds_the_implemented_operations():
    subset = json.loads(
        Path(__file__).with_name("ringcentral-openapi-subset.json").read_text(encoding="utf-8")
    )
    assert subset["x-vendored"]["source"].startswith(
        "https://github.com/tylerlong/ringcentral-open-api-parser/"
    )
    assert set(subset["paths"]) == set(_load().PATHS)
