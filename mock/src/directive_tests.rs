//! `MOCK_CALL` reaches the reply logic through every provider's notion of
//! the last user text, also when the prompt is one text part among others
//! (agents wrap it in reminder blocks).

use serde_json::{json, Value};

use crate::faults::Body;
use crate::server::{Listener, Provider};
use crate::test_support::post;

const WRAPPED: [&str; 2] = [
    "<system-reminder>be careful</system-reminder>",
    r#"now MOCK_CALL second {"x": [1, "two"]}"#,
];

fn call(provider: Provider, target: &str, auth: &[(&str, &str)], body: &Value) -> Value {
    let state = Listener::new(provider, "k");
    let req = post(target, auth, body, &[]);
    let resp = crate::server::dispatch(&state, req, None).0;
    match resp.body {
        Body::Json(b) => {
            let v: Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(resp.status, 200, "{v}");
            v
        }
        other => panic!("unexpected body {other:?}"),
    }
}

fn args(s: &Value) -> Value {
    serde_json::from_str(s.as_str().unwrap()).unwrap()
}

fn expected() -> Value {
    json!({"x": [1, "two"]})
}

#[test]
fn openai_chat() {
    let tool = |n: &str| json!({"type": "function", "function": {"name": n, "parameters": {"type": "object"}}});
    let parts: Vec<Value> = WRAPPED
        .iter()
        .map(|t| json!({"type": "text", "text": t}))
        .collect();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": parts}],
                      "tools": [tool("first"), tool("second")]});
    let v = call(
        Provider::OpenAi,
        "/v1/chat/completions",
        &[("authorization", "Bearer k")],
        &body,
    );
    let f = &v["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(
        (f["name"].clone(), args(&f["arguments"])),
        (json!("second"), expected())
    );
}

#[test]
fn gemini() {
    let decl = |n: &str| json!({"name": n, "parameters": {"type": "object"}});
    let parts: Vec<Value> = WRAPPED.iter().map(|t| json!({"text": t})).collect();
    let body = json!({"contents": [{"role": "user", "parts": parts}],
                      "tools": [{"functionDeclarations": [decl("first"), decl("second")]}]});
    let target = "/v1beta/models/gemini-2.5-flash:generateContent";
    let v = call(Provider::Gemini, target, &[("x-goog-api-key", "k")], &body);
    let fc = &v["candidates"][0]["content"]["parts"][0]["functionCall"];
    assert_eq!(
        (fc["name"].clone(), fc["args"].clone()),
        (json!("second"), expected())
    );
}

#[test]
fn bedrock() {
    let spec =
        |n: &str| json!({"toolSpec": {"name": n, "inputSchema": {"json": {"type": "object"}}}});
    let content: Vec<Value> = WRAPPED.iter().map(|t| json!({"text": t})).collect();
    let body = json!({"messages": [{"role": "user", "content": content}],
                      "toolConfig": {"tools": [spec("first"), spec("second")]}});
    let target = "/model/anthropic.claude-sonnet-4-v1%3A0/converse";
    let v = call(
        Provider::Bedrock,
        target,
        &[("authorization", "Bearer k")],
        &body,
    );
    let tu = &v["output"]["message"]["content"][0]["toolUse"];
    assert_eq!(
        (tu["name"].clone(), tu["input"].clone()),
        (json!("second"), expected())
    );
}

#[test]
fn cohere() {
    let tool = |n: &str| json!({"type": "function", "function": {"name": n, "parameters": {"type": "object"}}});
    let parts: Vec<Value> = WRAPPED
        .iter()
        .map(|t| json!({"type": "text", "text": t}))
        .collect();
    let body = json!({"model": "command-a", "messages": [{"role": "user", "content": parts}],
                      "tools": [tool("first"), tool("second")]});
    let v = call(
        Provider::Cohere,
        "/v2/chat",
        &[("authorization", "Bearer k")],
        &body,
    );
    let f = &v["message"]["tool_calls"][0]["function"];
    assert_eq!(
        (f["name"].clone(), args(&f["arguments"])),
        (json!("second"), expected())
    );
}

#[test]
fn anthropic() {
    let tool = |n: &str| json!({"name": n, "input_schema": {"type": "object"}});
    let blocks: Vec<Value> = WRAPPED
        .iter()
        .map(|t| json!({"type": "text", "text": t}))
        .collect();
    let body = json!({"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": blocks}],
                      "tools": [tool("first"), tool("second")]});
    let auth = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let v = call(Provider::Anthropic, "/v1/messages", &auth, &body);
    let tu = &v["content"][0];
    assert_eq!(
        (tu["name"].clone(), tu["input"].clone()),
        (json!("second"), expected())
    );
}
