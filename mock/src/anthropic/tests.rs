use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-anthropic";

fn request(body: &Value, extra: &[(&str, &str)]) -> Request {
    let auth = [("x-api-key", KEY), ("anthropic-version", VERSION)];
    crate::test_support::post(PATH, &auth, body, extra)
}

fn call(body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let state = Listener::new(Provider::Anthropic, KEY);
    let req = request(&body, extra);
    let resp = handle(&state, &req, &Faults::from_request(&req));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

/// (event name, data) pairs of a streamed response.
fn sse(body: Value, extra: &[(&str, &str)]) -> Vec<(String, Value)> {
    let state = Listener::new(Provider::Anthropic, KEY);
    let req = request(&body, extra);
    let resp = handle(&state, &req, &Faults::from_request(&req));
    let Body::Sse(events) = resp.body else {
        panic!("not a stream")
    };
    events
        .into_iter()
        .map(|e| {
            let text = String::from_utf8(e).unwrap();
            let (name, data) = text.trim_end().split_once('\n').unwrap();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_string();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

fn base() -> Value {
    json!({"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hello world"}]})
}

fn error(body: Value) -> String {
    let (status, v) = call(body, &[]);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    v["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn message_ok() {
    let mut b = base();
    b["system"] = json!([{"type": "text", "text": "be nice"}]);
    let (status, v) = call(b, &[("x-mock-cached-tokens", "9")]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["id"], "msg_mock_1");
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"][0]["text"],
        "Mock reply ✓ from claude-x: hello world"
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["stop_sequence"].is_null());
    assert_eq!(v["usage"]["input_tokens"], 4);
    assert_eq!(v["usage"]["cache_read_input_tokens"], 9);
    assert_eq!(v["usage"]["cache_creation_input_tokens"], 0);
    assert_eq!(v["usage"]["output_tokens"], 7);
}

#[test]
fn auth_and_headers() {
    let (status, v) = call(base(), &[("x-api-key", "nope")]);
    assert_eq!(status, 401);
    assert_eq!(v["error"]["type"], "authentication_error");
    let (status, _) = call(base(), &[("x-api-key", ""), ("x-mock-status", "529")]);
    assert_eq!(status, 401);
    let (status, v) = call(base(), &[("anthropic-version", "")]);
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("anthropic-version"));
    let (status, _) = call(base(), &[("content-type", "text/plain")]);
    assert_eq!(status, 400);
    for (code, ty) in [
        ("403", "permission_error"),
        ("404", "not_found_error"),
        ("429", "rate_limit_error"),
        ("500", "api_error"),
        ("529", "overloaded_error"),
    ] {
        let (status, v) = call(base(), &[("x-mock-status", code)]);
        assert_eq!(status.to_string(), code);
        assert_eq!(v["error"]["type"], ty);
    }
}

#[test]
fn validation_rules() {
    let mut b = base();
    b["frequency_penalty"] = json!(1);
    assert_eq!(
        error(b),
        "frequency_penalty: Extra inputs are not permitted"
    );
    let mut b = base();
    b.as_object_mut().unwrap().remove("max_tokens");
    assert_eq!(error(b), "max_tokens: Field required");
    let mut b = base();
    b["max_tokens"] = json!(0);
    assert!(error(b).starts_with("max_tokens"));
    let mut b = base();
    b["temperature"] = json!(1.5);
    assert!(error(b).starts_with("temperature"));
    let mut b = base();
    b["tools"] = Value::Null;
    assert_eq!(error(b), "tools: Input should be a valid list");
    let mut b = base();
    b["messages"] = json!([{"role": "system", "content": "x"}]);
    assert!(error(b).contains("messages.0.role"));
    let mut b = base();
    b["messages"] = json!([{"role": "user", "content": [{"type": "video"}]}]);
    assert!(error(b).contains("Input tag 'video'"));
    let mut b = base();
    b["messages"] =
        json!([{"role": "user", "content": [{"type": "text", "text": "x", "extra": 1}]}]);
    assert_eq!(
        error(b),
        "messages.0.content.0.text.extra: Extra inputs are not permitted"
    );
    let mut b = base();
    b["messages"] = json!([]);
    assert!(error(b).starts_with("messages"));
    let mut b = base();
    b["tools"] = json!([{"name": "t", "input_schema": {"type": "array"}}]);
    assert!(error(b).contains("input_schema.type"));
    let mut b = base();
    b["tool_choice"] = json!({"type": "tool"});
    assert_eq!(error(b), "tool_choice.tool.name: Field required");
}

fn tool_turn(result_ids: Option<&[&str]>) -> Value {
    let mut msgs = vec![
        json!({"role": "user", "content": "weather?"}),
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "checking"},
            {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}
        ]}),
    ];
    match result_ids {
        Some(ids) => {
            let blocks: Vec<Value> = ids
                .iter()
                .map(|id| {
                    json!({"type": "tool_result", "tool_use_id": id,
                    "content": [{"type": "text", "text": "sunny"}]})
                })
                .collect();
            msgs.push(json!({"role": "user", "content": blocks}));
        }
        None => msgs.push(json!({"role": "user", "content": "well?"})),
    }
    json!({"model": "m", "max_tokens": 10, "messages": msgs})
}

#[test]
fn tool_pairing() {
    assert!(error(tool_turn(None)).contains("`tool_use` ids were found without `tool_result`"));
    assert!(
        error(tool_turn(Some(&["toolu_1", "toolu_other"]))).contains("unexpected `tool_use_id`")
    );
    let (status, v) = call(tool_turn(Some(&["toolu_1"])), &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["content"][0]["text"], "Tool result received: sunny");
    assert_eq!(v["stop_reason"], "end_turn");
    let b = json!({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}
    ]});
    assert!(error(b).contains("unexpected `tool_use_id`"));
}

fn tools_body() -> Value {
    let mut b = base();
    b["tools"] = json!([
        {"name": "a", "input_schema": {"type": "object"}},
        {"name": "b", "description": "d", "input_schema": {"type": "object",
            "properties": {"n": {"type": "integer"}, "ok": {"type": "boolean"}}, "required": ["n", "ok"]}}
    ]);
    b["tool_choice"] = json!({"type": "tool", "name": "b"});
    b
}

#[test]
fn tool_use_response() {
    let (status, v) = call(tools_body(), &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stop_reason"], "tool_use");
    let block = &v["content"][0];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["id"], "toolu_mock_1");
    assert_eq!(block["name"], "b");
    assert_eq!(block["input"], json!({"n": 1, "ok": true}));
}

#[test]
fn stream_text_and_stop_sequence() {
    let mut b = base();
    b["stream"] = json!(true);
    b["stop_sequences"] = json!(["world"]);
    let events = sse(b, &[]);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..3], ["message_start", "ping", "content_block_start"]);
    assert_eq!(
        names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(events[0].1["message"]["usage"]["output_tokens"], 1);
    let text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Mock reply ✓ from claude-x: hello ");
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "stop_sequence");
    assert_eq!(delta["delta"]["stop_sequence"], "world");
    assert_eq!(delta["usage"]["output_tokens"], 6);
}

#[test]
fn stream_tool_use_and_error() {
    let mut b = tools_body();
    b["stream"] = json!(true);
    let events = sse(b.clone(), &[]);
    assert_eq!(events[2].1["content_block"]["type"], "tool_use");
    let json_text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(json_text, r#"{"n":1,"ok":true}"#);
    assert_eq!(
        events[events.len() - 2].1["delta"]["stop_reason"],
        "tool_use"
    );
    let mut b = base();
    b["stream"] = json!(true);
    let events = sse(b, &[("x-mock-stream-error", "1")]);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(events[4].1["error"]["type"], "overloaded_error");
}

#[test]
fn max_tokens_cut() {
    let mut b = base();
    b["max_tokens"] = json!(3);
    let (_, v) = call(b, &[]);
    assert_eq!(v["content"][0]["text"], "Mock reply ✓");
    assert_eq!(v["stop_reason"], "max_tokens");
    assert_eq!(v["usage"]["output_tokens"], 3);
}

fn thinking_tools_body() -> Value {
    let mut b = tools_body();
    b["max_tokens"] = json!(4000);
    b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    b["tool_choice"] = json!({"type": "auto"});
    b
}

#[test]
fn thinking_reply_is_signed_and_must_come_back_first() {
    let (status, v) = call(thinking_tools_body(), &[]);
    assert_eq!(status, 200, "{v}");
    let thinking = v["content"][0].clone();
    assert_eq!(thinking["type"], "thinking");
    let text = thinking["thinking"].as_str().unwrap();
    assert_eq!(thinking["signature"], thinking::signature(text).as_str());
    let call_block = v["content"][1].clone();
    assert_eq!(call_block["type"], "tool_use");
    let turn = |content: Value| {
        let mut b = thinking_tools_body();
        b["messages"] = json!([
            {"role": "user", "content": "hello world"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call_block["id"], "content": "ok"}]}
        ]);
        call(b, &[])
    };
    assert_eq!(turn(json!([thinking.clone(), call_block.clone()])).0, 200);
    let (status, v) = turn(json!([call_block.clone()]));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("must start with a thinking block"));
    let mut forged = thinking.clone();
    forged["signature"] = json!("mocksig-0000000000000000");
    let (status, v) = turn(json!([forged, call_block.clone()]));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid `signature`"));
}

#[test]
fn thinking_streams_as_deltas_then_signature() {
    let mut b = base();
    b["max_tokens"] = json!(4000);
    b["stream"] = json!(true);
    b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let events = sse(b, &[]);
    let starts: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(starts[0]["content_block"]["type"], "thinking");
    assert_eq!(starts[1]["content_block"]["type"], "text");
    assert_eq!(starts[1]["index"], 1);
    let kinds: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .filter(|(_, d)| d["index"] == 0)
        .map(|(_, d)| d["delta"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"signature_delta"));
    assert!(kinds.iter().filter(|k| **k == "thinking_delta").count() >= 1);
}

#[test]
fn structured_output_reply_is_json() {
    let mut b = base();
    b["output_config"] = json!({"format": {"type": "json_schema", "schema": {"type": "object"}}});
    let (status, v) = call(b.clone(), &[]);
    assert_eq!(status, 200, "{v}");
    let text = v["content"][0]["text"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert!(parsed["reply"].as_str().unwrap().starts_with("Mock reply"));
    b["output_config"] = json!({"format": {"type": "json_object"}});
    assert!(error(b).contains("output_config.format.type"));
}
