//! A Messages request decoded by the Anthropic dialect and built again by
//! the translated Anthropic path comes out as it went in: nothing the
//! Messages API defines is lost in the neutral request.

use serde_json::{json, Value};

use super::provider;
use crate::dialect::Dialect;
use crate::error::ApiError;

fn translated(messages_body: &Value) -> Result<Value, ApiError> {
    let bytes = serde_json::to_vec(messages_body).unwrap();
    let req = Dialect::AnthropicMessages.decode(&bytes)?;
    let p = provider();
    let ctx = crate::providers::TargetCtx {
        provider: &p,
        model: "claude-upstream",
        public_model: "claude-public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let body = super::super::request::build(&super::super::Options::default(), &req, &ctx)?;
    let ours = super::super::encode::messages_request(&body);
    // The JSON writer and the serde derive agree on the new fields too.
    assert_eq!(ours, serde_json::to_vec(&body).unwrap());
    Ok(serde_json::from_slice(&ours).unwrap())
}

/// Everything the Messages API defines that the neutral request carries,
/// in the canonical forms (content and system as blocks).
fn full_request() -> Value {
    json!({
        "model": "claude-upstream",
        "max_tokens": 8192,
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Read these \"files\"\n", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}, "cache_control": {"type": "ephemeral"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQ="}, "title": "spec.pdf"}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "They want \u{00e9}l\u{00e8}ve\n", "signature": "EqQBCkgIARABGAIiQL+/=="},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_01", "name": "read_file", "input": {"path": "/tmp/a", "opts": {"n": [1, 2.5, null]}}},
                {"type": "tool_use", "id": "toolu_02", "name": "bash", "input": {}, "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "file body"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": true,
                 "content": [{"type": "text", "text": "denied"}, {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGOD=="}}],
                 "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "continue"}
            ]}
        ],
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}
        ],
        "metadata": {"user_id": "user_abc"},
        "stop_sequences": ["\n\nHuman:", "END"],
        "stream": true,
        "temperature": 1.0,
        "top_k": 40,
        "tools": [
            {"name": "read_file", "description": "Reads a file", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
            {"name": "bash", "input_schema": {"type": "object", "properties": {}}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5, "allowed_domains": ["docs.rs"]},
            {"type": "code_execution_20250825", "name": "code_execution"}
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 4096}
    })
}

#[test]
fn messages_request_survives_the_neutral_request() {
    let original = full_request();
    assert_eq!(translated(&original).unwrap(), original);
}

#[test]
fn other_thinking_and_tool_choice_forms_survive() {
    let mut original = full_request();
    for (thinking, choice) in [
        (json!({"type": "adaptive"}), json!({"type": "auto"})),
        (json!({"type": "disabled"}), json!({"type": "any"})),
        (
            json!({"type": "disabled"}),
            json!({"type": "tool", "name": "bash"}),
        ),
        (json!({"type": "disabled"}), json!({"type": "none"})),
    ] {
        original["thinking"] = thinking;
        original["tool_choice"] = choice;
        original["temperature"] = json!(0.2);
        if original["thinking"]["type"] == json!("adaptive") {
            original["temperature"] = json!(1.0);
        }
        original["top_p"] = json!(0.99);
        assert_eq!(translated(&original).unwrap(), original);
    }
}

#[test]
fn string_forms_become_blocks() {
    let body = json!({"model": "m", "max_tokens": 10, "system": "sys",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]});
    let up = translated(&body).unwrap();
    assert_eq!(up["system"], json!([{"type": "text", "text": "sys"}]));
    assert_eq!(
        up["messages"][0]["content"],
        json!([{"type": "text", "text": "hi"}])
    );
    assert_eq!(
        up["messages"][1]["content"],
        json!([{"type": "text", "text": "yo"}])
    );
}

#[test]
fn anthropic_only_parameters_are_refused_off_the_passthrough_by_name() {
    let mut body = full_request();
    body["container"] = json!("container_1");
    let e = translated(&body).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("container"));
}
