//! What Claude Code sends: its betas, mid-conversation system turns,
//! `?beta=true`, count_tokens, and directives behind system reminders.

use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-anthropic";
const BETAS: &str = "claude-code-20250219,context-management-2025-06-27,per-turn-control-2026-07-01,mid-conversation-tool-changes-2026-07-01,advanced-tool-use-2025-11-20";

fn call(target: &str, body: &Value, beta: &str) -> (u16, Value) {
    let auth = [
        ("x-api-key", KEY),
        ("anthropic-version", VERSION),
        ("anthropic-beta", beta),
    ];
    let req = crate::test_support::post(target, &auth, body, &[]);
    let state = Listener::new(Provider::Anthropic, KEY);
    let resp = handle(&state, &req, &Faults::from_request(&req));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

/// The shape of Claude Code 2.1's first request (texts shortened).
fn claude_code(prompt: &str) -> Value {
    json!({
        "model": "claude-x",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1"},
            {"type": "text", "text": "You are an agent.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\nAttribution rules\n</system-reminder>\n"},
                {"type": "text", "text": prompt}
            ]},
            {"role": "system", "content": [
                {"type": "text", "text": "# Environment", "cache_control": {"type": "ephemeral"}}
            ], "output_config": {"effort": "medium"}}
        ],
        "tools": [
            {"name": "Bash", "description": "run", "input_schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "properties": {"command": {"type": "string"}}, "required": ["command"],
                "additionalProperties": false}},
            {"name": "Read", "description": "read", "input_schema": {
                "type": "object", "properties": {"file_path": {"type": "string"}},
                "required": ["file_path"]}},
            {"name": "DeferredToolPlaceholder", "description": "never", "defer_loading": true,
             "input_schema": {"type": "object", "properties": {}}}
        ],
        "metadata": {"user_id": "{\"device_id\":\"d\",\"session_id\":\"s\"}"},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
    })
}

#[test]
fn claude_code_request_is_accepted() {
    let (status, v) = call("/v1/messages?beta=true", &claude_code("say hi"), BETAS);
    assert_eq!(status, 200, "{v}");
    // Default with tools declared: the first tool is called.
    assert_eq!(v["content"][1]["name"], "Bash");
    // Adaptive thinking with display omitted: a signed, empty thinking block.
    let sig = super::thinking::signature("");
    assert_eq!(
        v["content"][0],
        json!({"type": "thinking", "thinking": "", "signature": sig})
    );
}

#[test]
fn beta_fields_need_their_beta() {
    let cases = [
        (
            "context-management-2025-06-27",
            "context_management: Extra inputs are not permitted",
        ),
        (
            "per-turn-control-2026-07-01",
            "messages.1.output_config: Extra inputs are not permitted",
        ),
        (
            "advanced-tool-use-2025-11-20",
            "tools.2.defer_loading: Extra inputs are not permitted",
        ),
    ];
    let both = "per-turn-control-2026-07-01,mid-conversation-tool-changes-2026-07-01";
    let cases = cases.into_iter().chain([(
        both,
        "messages.1.role: Input should be 'user' or 'assistant'",
    )]);
    for (missing, message) in cases {
        let betas: Vec<&str> = BETAS
            .split(',')
            .filter(|b| !missing.split(',').any(|m| m == *b))
            .collect();
        let (status, v) = call(PATH, &claude_code("hi"), &betas.join(","));
        assert_eq!(status, 400, "{missing}: {v}");
        assert_eq!(v["error"]["message"], message);
    }
    let mut body = claude_code("hi");
    body["thinking"]["display"] = json!("loud");
    let (status, v) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["message"],
        "thinking.adaptive.display: Input should be 'omitted' or 'summarized'"
    );
    let mut body = claude_code("hi");
    body["messages"][1]["output_config"] = json!({"speed": 1});
    let (status, v) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["message"],
        "messages.1.output_config.speed: Extra inputs are not permitted"
    );
    let mut body = claude_code("hi");
    body["output_config"]["effort"] = json!("ludicrous");
    let (status, v) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("output_config.effort: "));
    let mut body = claude_code("hi");
    body["messages"][0]["output_config"] = json!({"effort": "low"});
    let (status, _) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
    let mut body = claude_code("hi");
    body["messages"][1]["content"] = json!([{"type": "image", "source": {}}]);
    let (status, _) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
}

#[test]
fn directives_and_echo_skip_system_reminders() {
    let (_, v) = call(PATH, &claude_code("say hi MOCK_TEXT"), BETAS);
    assert_eq!(
        v["content"][1],
        json!({"type": "text", "text": "Mock reply ✓ from claude-x: say hi MOCK_TEXT"})
    );
    let prompt = r#"read MOCK_CALL Read {"file_path": "/tmp/x y.txt"}"#;
    let (_, v) = call(PATH, &claude_code(prompt), BETAS);
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["content"][1]["name"], "Read");
    assert_eq!(
        v["content"][1]["input"],
        json!({"file_path": "/tmp/x y.txt"})
    );
}

#[test]
fn tool_loop_with_system_turns() {
    let mut body = claude_code("read MOCK_CALL Read");
    let msgs = body["messages"].as_array_mut().unwrap();
    msgs.push(json!({"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a"}}]}));
    msgs.push(json!({"role": "system", "content": [{"type": "text", "text": "reminder"}]}));
    msgs.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1\tsecret 42"}]}));
    let (status, v) = call(PATH, &body, BETAS);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["content"][1]["text"],
        "Tool result received: 1\tsecret 42"
    );
    // The thinking block may come back (with the mock's signature) ...
    let sig = super::thinking::signature("");
    let thought = json!({"type": "thinking", "thinking": "", "signature": sig});
    let turn = body["messages"][2]["content"].as_array_mut().unwrap();
    turn.insert(0, thought);
    assert_eq!(call(PATH, &body, BETAS).0, 200);
    // ... but not forged.
    body["messages"][2]["content"][0]["signature"] = json!("forged");
    let (status, v) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["message"],
        "messages.2.content.0: Invalid `signature` in `thinking` block"
    );
    body["messages"][2]["content"][0]["signature"] = json!(sig);
    body["messages"][4]["content"][0]["tool_use_id"] = json!("toolu_2");
    let (status, _) = call(PATH, &body, BETAS);
    assert_eq!(status, 400);
}

#[test]
fn count_tokens() {
    let mut body = claude_code("one two three");
    let (_, msg) = call(PATH, &body, BETAS);
    for k in ["max_tokens", "metadata"] {
        body.as_object_mut().unwrap().remove(k);
    }
    let (status, v) = call("/v1/messages/count_tokens?beta=true", &body, BETAS);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({"input_tokens": msg["usage"]["input_tokens"]}));
    assert!(v["input_tokens"].as_u64().unwrap() > 3);
    body["max_tokens"] = json!(5);
    let (status, v) = call(count::PATH, &body, BETAS);
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["message"],
        "max_tokens: Extra inputs are not permitted"
    );
    body.as_object_mut().unwrap().remove("max_tokens");
    body.as_object_mut().unwrap().remove("messages");
    let (status, v) = call(count::PATH, &body, BETAS);
    assert_eq!(
        (status, v["error"]["message"].clone()),
        (400, json!("messages: Field required"))
    );
}

#[test]
fn sdk_2x_version_and_bearer_key() {
    let bearer = format!("Bearer {KEY}");
    let auth = [
        ("authorization", bearer.as_str()),
        ("anthropic-version", VERSION_2026),
    ];
    let state = Listener::new(Provider::Anthropic, KEY);
    let send = |body: &Value| {
        let req = crate::test_support::post(PATH, &auth, body, &[]);
        let resp = handle(&state, &req, &Faults::from_request(&req));
        let Body::Json(b) = resp.body else {
            panic!("not json")
        };
        (resp.status, serde_json::from_slice::<Value>(&b).unwrap())
    };
    let body = json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(send(&body).0, 200);
    let mut hot = body.clone();
    hot["top_k"] = json!(5);
    let (status, v) = send(&hot);
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("top_k: "),
        "{v}"
    );
    let mut cited = body.clone();
    cited["messages"][0]["content"] =
        json!([{"type": "text", "text": "x", "citations": [{"type": "char_location"}]}]);
    let (status, v) = send(&cited);
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("messages.0.content.0.citations"));
    // 2023-06-01 still takes them; a wrong bearer key is a 401.
    let (status, _) = call(PATH, &hot, BETAS);
    assert_eq!(status, 200);
    let req = crate::test_support::post(
        PATH,
        &[
            ("authorization", "Bearer nope"),
            ("anthropic-version", VERSION),
        ],
        &body,
        &[],
    );
    assert_eq!(
        handle(&state, &req, &Faults::from_request(&req)).status,
        401
    );
}
