use serde_json::{json, Value};

use crate::providers::gemini::schema::{parameters, MAX_DEPTH};

fn conv(schema: Value) -> Value {
    parameters(&schema.to_string(), 0).unwrap().unwrap()
}

fn refused(schema: Value) -> String {
    let e = parameters(&schema.to_string(), 3).unwrap_err();
    assert_eq!(e.status, 400);
    e.param.unwrap()
}

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

#[test]
fn kept_keywords_and_upper_cased_types() {
    let got = conv(json!({
        "type": "object", "title": "Args", "description": "d",
        "properties": {
            "s": {"type": "string", "format": "date-time", "minLength": 1, "maxLength": 9, "pattern": "^a", "default": "a", "example": "ab"},
            "n": {"type": "number", "minimum": 0.5, "maximum": 9.5},
            "i": {"type": "integer", "format": "int32"},
            "b": {"type": "boolean"},
            "a": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
            "o": {"type": "object", "properties": {"x": {"type": "string"}}, "minProperties": 1, "maxProperties": 2, "propertyOrdering": ["x"]},
        },
        "required": ["s"],
    }));
    assert_eq!(
        got,
        json!({
            "type": "OBJECT", "title": "Args", "description": "d",
            "properties": {
                "s": {"type": "STRING", "format": "date-time", "minLength": 1, "maxLength": 9, "pattern": "^a", "default": "a", "example": "ab"},
                "n": {"type": "NUMBER", "minimum": 0.5, "maximum": 9.5},
                "i": {"type": "INTEGER", "format": "int32"},
                "b": {"type": "BOOLEAN"},
                "a": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1, "maxItems": 3},
                "o": {"type": "OBJECT", "properties": {"x": {"type": "STRING"}}, "minProperties": 1, "maxProperties": 2, "propertyOrdering": ["x"]},
            },
            "required": ["s"],
        })
    );
}

#[test]
fn nullable_types_const_and_enums() {
    let got = conv(obj(json!({
        "a": {"type": ["string", "null"]},
        "b": {"type": ["null", "integer"], "enum": [1, 2, null]},
        "c": {"const": "only"},
        "d": {"type": ["string", "number"]},
        "e": {"type": "string", "nullable": true},
        "f": {"type": "null"},
        "g": {"enum": ["x", "y"]},
    })));
    assert_eq!(
        got["properties"],
        json!({
            "a": {"type": "STRING", "nullable": true},
            "b": {"type": "INTEGER", "nullable": true, "enum": ["1", "2"]},
            "c": {"enum": ["only"]},
            "d": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
            "e": {"type": "STRING", "nullable": true},
            "f": {"type": "NULL"},
            "g": {"enum": ["x", "y"]},
        })
    );
}

#[test]
fn any_of_one_of_and_single_all_of() {
    let got = conv(obj(json!({
        "u": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "v": {"oneOf": [{"type": "boolean"}, {"type": "null"}], "description": "either"},
        "w": {"allOf": [{"type": "string", "description": "inner"}], "description": "outer"},
    })));
    assert_eq!(
        got["properties"],
        json!({
            "u": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
            "v": {"anyOf": [{"type": "BOOLEAN"}, {"type": "NULL"}], "description": "either"},
            "w": {"type": "STRING", "description": "outer"},
        })
    );
}

#[test]
fn local_refs_are_inlined_with_sibling_overrides() {
    let got = conv(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address", "description": "Home address"},
            "work": {"$ref": "#/definitions/Address"},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
        },
        "$defs": {
            "Address": {"type": "object", "description": "An address",
                        "properties": {"city": {"type": "string"}, "zip": {"$ref": "#/$defs/Zip"}}},
            "Zip": {"type": "string", "pattern": "^[0-9]{5}$"},
            "Tag": {"enum": ["a", "b"]},
        },
        "definitions": {"Address": {"type": "object", "properties": {"line": {"type": "string"}}}},
    }));
    assert_eq!(
        got,
        json!({
            "type": "OBJECT",
            "properties": {
                "home": {"type": "OBJECT", "description": "Home address",
                         "properties": {"city": {"type": "STRING"}, "zip": {"type": "STRING", "pattern": "^[0-9]{5}$"}}},
                "work": {"type": "OBJECT", "properties": {"line": {"type": "STRING"}}},
                "tags": {"type": "ARRAY", "items": {"enum": ["a", "b"]}},
            },
        })
    );
}

#[test]
fn dropped_keywords() {
    let got = conv(json!({
        "type": "object", "additionalProperties": false, "$id": "x", "$comment": "c",
        "properties": {
            "a": {"type": "string", "examples": ["q"], "deprecated": true, "readOnly": true, "x-vendor": 1},
            "b": {"type": "object", "additionalProperties": true, "properties": {}},
            "c": {"type": "array", "items": {"type": "integer"}, "uniqueItems": false},
            "d": {"type": "object", "additionalProperties": {}},
        },
    }));
    assert_eq!(
        got,
        json!({"type": "OBJECT", "properties": {
            "a": {"type": "STRING"},
            "b": {"type": "OBJECT"},
            "c": {"type": "ARRAY", "items": {"type": "INTEGER"}},
            "d": {"type": "OBJECT"},
        }})
    );
}

#[test]
fn exclusive_bounds_on_integers_become_inclusive() {
    let got = conv(obj(json!({
        "a": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
        "b": {"type": ["integer", "null"], "exclusiveMinimum": 3, "minimum": 1},
        "c": {"type": "integer", "minimum": 5, "exclusiveMinimum": 2},
    })));
    assert_eq!(
        got["properties"],
        json!({
            "a": {"type": "INTEGER", "minimum": 1, "maximum": 9},
            "b": {"type": "INTEGER", "nullable": true, "minimum": 4},
            "c": {"type": "INTEGER", "minimum": 5},
        })
    );
}

#[test]
fn functions_without_parameters_send_none() {
    for schema in [
        json!({"type": "object", "properties": {}}),
        json!({"type": "object"}),
        json!({}),
        json!({"type": "object", "additionalProperties": false, "properties": {}, "required": []}),
    ] {
        assert_eq!(
            parameters(&schema.to_string(), 0).unwrap(),
            None,
            "{schema}"
        );
    }
}

#[test]
fn inexpressible_keywords_are_refused_by_path() {
    let base = "tools[3].function.parameters";
    for (schema, path) in [
        (json!({"type": "string"}), "type".to_string()),
        (
            obj(json!({"a": {"type": "string", "not": {"const": "x"}}})),
            "properties.a.not".into(),
        ),
        (
            obj(json!({"a": {"type": "number", "multipleOf": 2}})),
            "properties.a.multipleOf".into(),
        ),
        (
            obj(json!({"a": {"type": "object", "additionalProperties": {"type": "string"}}})),
            "properties.a.additionalProperties".into(),
        ),
        (
            obj(json!({"a": {"type": "array", "items": [{"type": "string"}]}})),
            "properties.a.items".into(),
        ),
        (
            obj(json!({"a": {"type": "array", "uniqueItems": true}})),
            "properties.a.uniqueItems".into(),
        ),
        (
            obj(json!({"a": {"allOf": [{"type": "string"}, {"minLength": 2}]}})),
            "properties.a.allOf".into(),
        ),
        (
            obj(json!({"a": {"$ref": "https://example.com/s.json"}})),
            "properties.a.$ref".into(),
        ),
        (
            obj(json!({"a": {"$ref": "#/$defs/Missing"}})),
            "properties.a.$ref".into(),
        ),
        (
            obj(json!({"a": {"type": "number", "exclusiveMinimum": 0}})),
            "properties.a.exclusiveMinimum".into(),
        ),
        (
            obj(json!({"a": {"enum": [true, false]}})),
            "properties.a.enum".into(),
        ),
        (
            obj(json!({"a": {"type": "date"}})),
            "properties.a.type".into(),
        ),
        (
            obj(json!({"a": {"if": {"type": "string"}, "then": {"minLength": 1}}})),
            "properties.a.if".into(),
        ),
        (
            obj(json!({"a": {"anyOf": [{"type": "string"}], "oneOf": [{"type": "integer"}]}})),
            "properties.a".into(),
        ),
        (
            obj(json!({"a": {"type": "object", "patternProperties": {"^x": {}}}})),
            "properties.a.patternProperties".into(),
        ),
        (obj(json!({"a": false})), "properties.a".into()),
    ] {
        assert_eq!(
            refused(schema.clone()),
            format!("{base}.{path}"),
            "{schema}"
        );
    }
}

#[test]
fn recursive_refs_are_refused() {
    let schema = json!({
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        }}},
    });
    assert_eq!(
        refused(schema),
        "tools[3].function.parameters.properties.root.properties.children.items.$ref"
    );
}

#[test]
fn depth_and_size_are_bounded() {
    let mut deep = json!({"type": "string"});
    for _ in 0..=MAX_DEPTH {
        deep = obj(json!({ "x": deep }));
    }
    let e = parameters(&deep.to_string(), 0).unwrap_err();
    assert!(e.message.contains("deeper"), "{e:?}");
    // A DAG of refs that doubles at every level expands exponentially.
    let mut defs = serde_json::Map::new();
    defs.insert("D0".into(), json!({"type": "string"}));
    for i in 1..11 {
        let prev = format!("#/$defs/D{}", i - 1);
        defs.insert(
            format!("D{i}"),
            obj(json!({"l": {"$ref": prev}, "r": {"$ref": prev}})),
        );
    }
    let wide =
        json!({"type": "object", "properties": {"top": {"$ref": "#/$defs/D10"}}, "$defs": defs});
    let e = parameters(&wide.to_string(), 0).unwrap_err();
    assert!(e.message.contains("more than"), "{e:?}");
}

#[test]
fn a_pydantic_style_schema_converts() {
    let got = conv(json!({
        "$defs": {"Unit": {"enum": ["c", "f"], "title": "Unit", "type": "string"}},
        "properties": {
            "city": {"title": "City", "type": "string"},
            "unit": {"$ref": "#/$defs/Unit", "default": "c"},
            "days": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}], "default": null, "title": "Days"},
        },
        "required": ["city"], "title": "Forecast", "type": "object", "additionalProperties": false,
    }));
    assert_eq!(
        got,
        json!({
            "properties": {
                "city": {"title": "City", "type": "STRING"},
                "unit": {"enum": ["c", "f"], "title": "Unit", "type": "STRING", "default": "c"},
                "days": {"anyOf": [{"type": "INTEGER", "minimum": 1}, {"type": "NULL"}], "default": null, "title": "Days"},
            },
            "required": ["city"], "title": "Forecast", "type": "OBJECT",
        })
    );
}
