"""The schemas themselves, and the published features against the record schema."""

import pytest
from datasets import ClassLabel, List
from jsonschema import Draft202012Validator

from builder.labelset import SCHEMAS, load_schema, validator
from builder.publish import config_features
from builder.records import Sentence
from builder.studio.tasks import task

from test_validate import record


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_is_valid_with_id_and_version(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["$id"].endswith("/" + schema["version"])


def _schema_fields(schema, root):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root["$defs"][name]
    if "oneOf" in schema:
        schema = next(s for s in schema["oneOf"] if s.get("type") != "null")
        return _schema_fields(schema, root)
    if schema.get("type") == "array" or (isinstance(schema.get("type"), list) and "array" in schema["type"]):
        return [_schema_fields(schema["items"], root)]
    if "properties" in schema:
        return {k: _schema_fields(v, root) for k, v in schema["properties"].items()}
    return "leaf"


def _feature_fields(feature):
    if isinstance(feature, List):
        return [_feature_fields(feature.feature)]
    if isinstance(feature, dict):
        return {k: _feature_fields(v) for k, v in feature.items()}
    return "leaf"


def test_published_spans_features_agree_with_the_record_schema():
    schema = load_schema("sentence")
    features = config_features("spans")
    assert _feature_fields(dict(features)) == _schema_fields(schema, schema)
    types = schema["$defs"]["event_type"]["enum"]
    assert features["events"].feature["type"] == ClassLabel(names=types)
    assert features["labels"].feature == ClassLabel(names=types)


def test_pushed_tasks_match_the_task_schema():
    r = record()
    r["weak_events"] = r["events"]
    payload = task(Sentence.from_dict(r), prev="The sentence before.", next="", priority=0.75)
    assert payload["predictions"][0]["result"]
    assert any(x.get("from_name", "").startswith("argument_") for x in payload["predictions"][0]["result"])
    errors = list(validator("ls_task").iter_errors(payload))
    assert errors == []
    payload["predictions"][0]["result"][0]["from_name"] = "bogus"
    assert list(validator("ls_task").iter_errors(payload))
    payload = task(Sentence.from_dict(r), priority=1.5)
    assert list(validator("ls_task").iter_errors(payload))


def test_exported_annotations_of_the_labelling_page_match_the_export_schema():
    r = record()
    r["weak_events"] = r["events"]
    t = task(Sentence.from_dict(r))
    result = t["predictions"][0]["result"]
    argtype = {"id": "x", "from_name": "argtype", "to_name": "text", "type": "choices", "value": {"choices": ["ATTACK"]}, "origin": "manual"}
    old = [{**x, "from_name": "argument"} if x.get("from_name", "").startswith("argument_") else x for x in result]
    export = [{"id": 1, "data": t["data"], "annotations": [{"id": 1, "result": [*result, argtype]}, {"id": 2, "result": old}]}]
    assert list(validator("ls_export").iter_errors(export)) == []
