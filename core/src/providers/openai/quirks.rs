//! A preset's request quirks: fields it rejects, fields it ignores badly,
//! and the output-limit parameter it understands.
//!
//! Most requests carry none of them, so a byte search decides first; only a
//! request that mentions a quirk field pays for a parse and re-encode.

use serde_json::{Map, Value};

use super::presets::{MaxTokens, Preset};
use crate::error::ApiError;

/// The body rewritten for `preset`, `None` when it needs no change, or the
/// 400 for a parameter the server cannot honour.
pub fn apply(preset: &Preset, body: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
    let legacy = preset.max_tokens == MaxTokens::Legacy;
    let renamed: &[&str] = if legacy {
        &["max_completion_tokens"]
    } else {
        &[]
    };
    let fields = preset.reject.iter().chain(preset.drop).chain(renamed);
    if !mentions_any(body, fields) {
        return Ok(None);
    }
    let mut obj: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid_request("The request body must be a JSON object."))?;
    if let Some(f) = preset.reject.iter().find(|f| is_set(f, obj.get(**f))) {
        return Err(ApiError::invalid_param(
            f,
            format!("`{f}` is not supported by provider type `{}`.", preset.name),
        ));
    }
    let mut changed = false;
    for f in preset.drop {
        changed |= obj.remove(*f).is_some();
    }
    if legacy {
        if let Some(n) = obj.remove("max_completion_tokens") {
            obj.insert("max_tokens".to_string(), n);
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&obj)
        .map(Some)
        .map_err(|_| ApiError::internal("cannot encode the request"))
}

/// `null`, `false` and the neutral values (`n: 1`, a zero penalty) do not
/// ask for the feature.
fn is_set(field: &str, v: Option<&Value>) -> bool {
    let neutral = if field == "n" { 1.0 } else { 0.0 };
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(neutral),
        Some(_) => true,
    }
}

/// Whether any of `fields` appears as a quoted string in `body`: one pass
/// over the body, checking the few fields at each quote.
fn mentions_any<'f>(body: &[u8], fields: impl Iterator<Item = &'f &'f str> + Clone) -> bool {
    let mut rest = body;
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        let after = rest.get(at + 1..).unwrap_or_default();
        let hit = fields
            .clone()
            .any(|f| after.starts_with(f.as_bytes()) && after.get(f.len()) == Some(&b'"'));
        if hit {
            return true;
        }
        rest = after;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::auth::AuthScheme;
    use serde_json::{json, Value};

    const PRESET: Preset = Preset {
        name: "test",
        host: "h",
        port: 443,
        tls: true,
        base_path: "/v1",
        auth: AuthScheme::Bearer,
        key_required: true,
        stream_usage: true,
        max_tokens: MaxTokens::Legacy,
        drop: &["store", "user"],
        reject: &["logprobs", "n"],
        embeddings: false,
        reasoning_content: false,
        docs: "",
    };

    fn run(body: Value) -> Result<Option<Value>, ApiError> {
        let out = apply(&PRESET, &serde_json::to_vec(&body).unwrap())?;
        Ok(out.map(|b| serde_json::from_slice(&b).unwrap()))
    }

    #[test]
    fn untouched_bodies_are_not_reencoded() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        // `user` only appears as a role value here, not as a field.
        assert_eq!(run(body).unwrap(), None);
        assert_eq!(
            run(json!({"model": "m", "n": 1, "logprobs": false})).unwrap(),
            None
        );
    }

    #[test]
    fn drops_renames_and_refuses() {
        let got =
            run(json!({"model": "m", "store": true, "user": "u", "max_completion_tokens": 9}));
        assert_eq!(got.unwrap(), Some(json!({"model": "m", "max_tokens": 9})));
        let e = run(json!({"model": "m", "logprobs": true})).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("logprobs")));
        let e = run(json!({"model": "m", "n": 2})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("n"));
    }

    #[test]
    fn finds_fields_anywhere_in_one_pass() {
        let fields = ["store", "max_completion_tokens"];
        assert!(mentions_any(br#"{"a":1,"store":true}"#, fields.iter()));
        assert!(!mentions_any(br#"{"storex":1,"xstore":2}"#, fields.iter()));
        assert!(!mentions_any(br#"{"a":"sto"#, fields.iter()));
    }
}
