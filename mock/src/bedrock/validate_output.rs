//! Validation of `outputConfig` (structured output): `textFormat` with
//! `type: "json_schema"` and `structure`, a union whose one member is
//! `jsonSchema` `{schema, name?, description?}`. `schema` is JSON text (a
//! string) that must parse to a JSON object.

use serde_json::Value;

use super::validate::{join, known, malformed, object, one_of, required, string, union, Check};

pub fn validate_output_config(v: &Value) -> Check {
    let p = "outputConfig";
    let oc = object(v, p)?;
    known(oc, &["textFormat"], p)?;
    let Some(tf) = oc.get("textFormat") else {
        return Ok(());
    };
    let p = "outputConfig.textFormat";
    let tf = object(tf, p)?;
    known(tf, &["type", "structure"], p)?;
    one_of(required(tf, "type", p)?, &["json_schema"], &join(p, "type"))?;
    let sp = join(p, "structure");
    let (_, def) = union(required(tf, "structure", p)?, &["jsonSchema"], &sp)?;
    let dp = join(&sp, "jsonSchema");
    let d = object(def, &dp)?;
    known(d, &["schema", "name", "description"], &dp)?;
    let schema_path = join(&dp, "schema");
    let text = string(required(d, "schema", &dp)?, &schema_path)?;
    if !matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_))) {
        return Err(malformed(
            "expected a JSON schema object as text",
            &schema_path,
        ));
    }
    for key in ["name", "description"] {
        if let Some(v) = d.get(key) {
            string(v, &join(&dp, key))?;
        }
    }
    Ok(())
}
