use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-openai";

fn request(body: &Value, extra: &[(&str, &str)]) -> Request {
    let bearer = format!("Bearer {KEY}");
    crate::test_support::post(PATH, &[("authorization", &bearer)], body, extra)
}

fn call_req(req: &Request) -> Response {
    let state = Listener::new(Provider::OpenAi, KEY);
    handle(&state, req, &Faults::from_request(req))
}

fn call(body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let resp = call_req(&request(&body, extra));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

fn sse(body: Value, extra: &[(&str, &str)]) -> Vec<String> {
    let resp = call_req(&request(&body, extra));
    match resp.body {
        Body::Sse(events) => events
            .into_iter()
            .map(|e| String::from_utf8(e).unwrap())
            .collect(),
        Body::Json(b) => panic!("not a stream: {}", String::from_utf8_lossy(&b)),
        Body::Reset => panic!("reset"),
    }
}

fn base() -> Value {
    json!({"model": "gpt-x", "messages": [{"role": "user", "content": "hi there"}]})
}

fn error_message(body: Value) -> String {
    let (status, v) = call(body, &[]);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    v["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn completion_ok() {
    let (status, v) = call(base(), &[("x-mock-cached-tokens", "5")]);
    assert_eq!(status, 200);
    assert_eq!(v["id"], "chatcmpl-mock-1");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-x");
    let choice = &v["choices"][0];
    assert_eq!(
        choice["message"]["content"],
        "Mock reply ✓ from gpt-x: hi there"
    );
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 7);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
    assert_eq!(v["usage"]["completion_tokens"], 7);
    assert_eq!(v["usage"]["total_tokens"], 14);
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
}

#[test]
fn auth_and_routing() {
    let (status, v) = call(base(), &[("authorization", "Bearer wrong")]);
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "invalid_api_key");
    assert_eq!(v["error"]["message"], "Incorrect API key provided.");
    let mut req = request(&base(), &[]);
    req.target = "/v1/completions".into();
    assert_eq!(call_req(&req).status, 404);
    let mut req = request(&base(), &[]);
    req.method = "GET".into();
    assert_eq!(call_req(&req).status, 405);
    // Auth is checked before the injected status.
    let (status, _) = call(base(), &[("authorization", "x"), ("x-mock-status", "500")]);
    assert_eq!(status, 401);
    let (status, v) = call(base(), &[("x-mock-status", "429")]);
    assert_eq!(status, 429);
    assert_eq!(v["error"]["type"], "requests");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    let (status, v) = call(base(), &[("x-mock-status", "503")]);
    assert_eq!(
        (status, v["error"]["type"].as_str()),
        (503, Some("server_error"))
    );
}

#[test]
fn validation_rules() {
    let mut b = base();
    b["foo"] = json!(1);
    assert_eq!(
        error_message(b),
        "Unrecognized request argument supplied: foo"
    );
    assert!(error_message(json!({"messages": []})).contains("model"));
    assert!(error_message(json!({"model": "m", "messages": []})).contains("empty array"));
    let mut b = base();
    b["temperature"] = json!(2.5);
    assert!(error_message(b).contains("temperature"));
    let mut b = base();
    b["max_tokens"] = json!(0);
    assert!(error_message(b).contains("max_tokens"));
    let mut b = base();
    b["stream"] = json!("yes");
    assert!(error_message(b).contains("stream"));
    let b = json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]});
    assert!(error_message(b).contains("'robot'"));
    let b = json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]});
    assert!(error_message(b).contains("tool_call_id"));
    let b = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "audio"}]}]});
    assert!(error_message(b).contains("Invalid value: 'audio'"));
    let (status, _) = call(json!([1]), &[]);
    assert_eq!(status, 400);
}

fn tool_conversation(arguments: Value, answer: bool) -> Value {
    let mut msgs = vec![
        json!({"role": "user", "content": "weather?"}),
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": arguments}}
        ]}),
    ];
    if answer {
        msgs.push(json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny"}));
    }
    json!({"model": "m", "messages": msgs})
}

#[test]
fn tool_pairing_and_result() {
    assert!(error_message(tool_conversation(json!("{}"), false)).contains("call_1"));
    assert!(error_message(tool_conversation(json!({}), true)).contains("arguments"));
    let (status, v) = call(tool_conversation(json!("{}"), true), &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Tool result received: sunny"
    );
    let b = json!({"model": "m", "messages": [
        {"role": "user", "content": "x"},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    ]});
    assert!(error_message(b).contains("role 'tool'"));
}

fn tools_body() -> Value {
    let mut b = base();
    b["tools"] = json!([{"type": "function", "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }}]);
    b
}

#[test]
fn tool_call_response() {
    let (status, v) = call(tools_body(), &[]);
    assert_eq!(status, 200);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call_mock_1");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"city":"mock-city"}"#);
    let mut b = tools_body();
    b["tool_choice"] = json!("none");
    let (_, v) = call_body(b);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let mut b = base();
    b["tool_choice"] = json!("auto");
    assert!(error_message(b).contains("only allowed when 'tools'"));
}

fn call_body(b: Value) -> (u16, Value) {
    call(b, &[])
}

#[test]
fn stream_text_with_usage() {
    let mut b = base();
    b["stream"] = json!(true);
    b["stream_options"] = json!({"include_usage": true});
    let events = sse(b, &[]);
    assert_eq!(events.last().unwrap(), "data: [DONE]\n\n");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap().trim()).unwrap())
        .collect();
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Mock reply ✓ from gpt-x: hi there");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert!(finish["usage"].is_null() && finish.get("usage").is_some());
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 7);
}

#[test]
fn stream_tool_call_and_error() {
    let mut b = tools_body();
    b["stream"] = json!(true);
    let events = sse(b.clone(), &[]);
    let first: Value =
        serde_json::from_str(events[0].strip_prefix("data: ").unwrap().trim()).unwrap();
    let call = &first["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["function"]["arguments"], "");
    assert_eq!(call["id"], "call_mock_1");
    assert!(first.get("usage").is_none());
    let args: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e.strip_prefix("data: ")?.trim()).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(args, r#"{"city":"mock-city"}"#);
    let events = sse(b, &[("x-mock-stream-error", "1")]);
    assert!(events.last().unwrap().contains("mock stream error"));
    assert!(!events.iter().any(|e| e.contains("[DONE]")));
}

#[test]
fn stop_and_max_tokens() {
    let mut b = base();
    b["stop"] = json!(["✓"]);
    let (_, v) = call_body(b);
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply ");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let mut b = base();
    b["max_completion_tokens"] = json!(2);
    let (_, v) = call_body(b);
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 2);
}

fn embed(body: Value) -> (u16, Value) {
    let mut req = request(&body, &[]);
    req.target = embeddings::PATH.into();
    let resp = call_req(&req);
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

#[test]
fn embeddings_float_and_base64() {
    use crate::embedding::{base64_f32, vector};
    let (status, v) =
        embed(json!({"model": "text-embedding-3-small", "input": "hello big world", "user": "u"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-3-small");
    assert_eq!(
        v["data"][0],
        json!({"object": "embedding", "index": 0, "embedding": vector("hello big world", 8)})
    );
    assert_eq!(v["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
    let (_, v) = embed(
        json!({"model": "m", "input": ["a", "b c"], "dimensions": 5, "encoding_format": "base64"}),
    );
    assert_eq!(v["data"][1]["embedding"], base64_f32(&vector("b c", 5)));
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    // Token arrays: embedded as their numbers joined by spaces, counted as tokens.
    let (_, v) = embed(json!({"model": "m", "input": [1, 2, 3]}));
    assert_eq!(v["data"][0]["embedding"], json!(vector("1 2 3", 8)));
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    let (_, v) = embed(json!({"model": "m", "input": [[1, 2], [3]]}));
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["usage"]["prompt_tokens"], 3);
}

#[test]
fn embeddings_rejections() {
    let msg = |body: Value| {
        let (status, v) = embed(body);
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        v["error"]["message"].as_str().unwrap().to_string()
    };
    assert_eq!(
        msg(json!({"model": "m", "input": "a", "foo": 1})),
        "Unrecognized request argument supplied: foo"
    );
    assert_eq!(
        msg(json!({"input": "a"})),
        "you must provide a model parameter"
    );
    assert_eq!(
        msg(json!({"model": "m"})),
        "Missing required parameter: 'input'."
    );
    for input in [
        json!(""),
        json!([]),
        json!([""]),
        json!([[]]),
        json!({"a": 1}),
        json!([1, "a"]),
        json!(5),
    ] {
        assert!(msg(json!({"model": "m", "input": input})).starts_with("'$.input' is invalid"));
    }
    assert!(msg(json!({"model": "m", "input": "a", "dimensions": 0})).contains("'dimensions'"));
    assert!(msg(json!({"model": "m", "input": "a", "dimensions": "4"}))
        .contains("Invalid type for 'dimensions'"));
    assert!(
        msg(json!({"model": "m", "input": "a", "encoding_format": "int8"}))
            .contains("Supported values are: 'float', 'base64'")
    );
}

#[test]
fn a_listener_with_its_own_base_path_serves_only_under_it() {
    let mut state = Listener::new(Provider::OpenAi, "k");
    state.base = "/openai/v1".into();
    let serve = |path: &str| {
        let mut req = request(&base(), &[("authorization", "Bearer k")]);
        req.target = path.into();
        handle(&state, &req, &Faults::default()).status
    };
    assert_eq!(serve("/openai/v1/chat/completions"), 200);
    assert_eq!(serve("/v1/chat/completions"), 404);
    state.base = String::new();
    let serve = |path: &str| {
        let mut req = request(&base(), &[("authorization", "Bearer k")]);
        req.target = path.into();
        handle(&state, &req, &Faults::default()).status
    };
    assert_eq!(serve("/chat/completions"), 200);
    assert_eq!(serve("/v1/chat/completions"), 404);
}
