use serde_json::{json, Value};

use super::{rejected, start, upstream, with};
use crate::providers::BodyEdit;

fn schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
           "required": ["city", "temp"], "additionalProperties": false})
}

#[test]
fn json_schema_becomes_output_config_without_a_beta_header() {
    let (_, out) = start(&with(json!({"response_format": {"type": "json_schema",
        "json_schema": {"name": "weather", "strict": true, "schema": schema()}}})))
    .unwrap();
    assert!(out.headers.iter().all(|(k, _)| *k != "anthropic-beta"));
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body["output_config"],
        json!({"format": {"type": "json_schema", "schema": schema()}})
    );
    assert!(body.get("system").is_none() && body.get("tools").is_none());
}

#[test]
fn json_schema_without_a_schema_is_named() {
    let cases = [
        (
            json!({"type": "json_schema"}),
            "response_format.json_schema",
        ),
        (
            json!({"type": "json_schema", "json_schema": "weather"}),
            "response_format.json_schema",
        ),
        (
            json!({"type": "json_schema", "json_schema": {"name": "w"}}),
            "response_format.json_schema.schema",
        ),
        (
            json!({"type": "json_schema", "json_schema": {"name": "w", "schema": true}}),
            "response_format.json_schema.schema",
        ),
    ];
    for (format, param) in cases {
        let e = rejected(with(json!({"response_format": format})));
        assert_eq!(e.param.as_deref(), Some(param), "{format}");
    }
}

#[test]
fn json_object_appends_a_system_instruction_after_the_clients() {
    let body = upstream(
        json!({"model": "smart", "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "Answer in JSON.", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": "weather?"}]}),
    );
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "Answer in JSON.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": super::super::format::JSON_OBJECT_INSTRUCTION},
        ])
    );
    assert!(body.get("output_config").is_none());
    let body = upstream(with(json!({"response_format": {"type": "json_object"}})));
    assert_eq!(body["system"].as_array().unwrap().len(), 1);
}

#[test]
fn the_json_answer_is_the_message_content() {
    let (mut chat, _) = start(&with(json!({"response_format": {"type": "json_schema",
        "json_schema": {"name": "weather", "schema": schema()}}})))
    .unwrap();
    chat.response_headers(200, &|_| None);
    let answer = r#"{"city":"Paris","temp":18.5}"#;
    let reply = serde_json::to_vec(
        &json!({"id": "msg_1", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 9}}),
    )
    .unwrap();
    let BodyEdit::Replace(out) = chat.response_body(&reply, true) else {
        panic!("not replaced")
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], json!(answer));
    assert_eq!(v["choices"][0]["finish_reason"], json!("stop"));
}
