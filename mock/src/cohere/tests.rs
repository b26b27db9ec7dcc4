//! Unit tests of the Cohere mock.

use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-cohere";
const AUTH: &str = "Bearer k-cohere";

fn request(target: &str, body: &Value, extra: &[(&str, &str)]) -> Request {
    crate::test_support::post(target, &[("authorization", AUTH)], body, extra)
}

fn call_req(req: &Request) -> Response {
    let state = Listener::new(Provider::Cohere, KEY);
    handle(&state, req, &Faults::from_request(req))
}

fn call_at(target: &str, body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let resp = call_req(&request(target, &body, extra));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

fn chat(body: Value) -> (u16, Value) {
    call_at("/v2/chat", body, &[])
}

/// `(event name, data)` of each SSE event, checking the typed framing.
fn stream(body: Value, extra: &[(&str, &str)]) -> Vec<(String, Value)> {
    let resp = call_req(&request("/v2/chat", &body, extra));
    let Body::Sse(events) = resp.body else {
        panic!("not a stream")
    };
    events
        .into_iter()
        .map(|e| {
            let text = String::from_utf8(e).unwrap();
            let (name, data) = text.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_string();
            let data = data
                .strip_prefix("data: ")
                .unwrap()
                .strip_suffix("\n\n")
                .unwrap();
            let data: Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

fn base() -> Value {
    json!({"model": "command-a-03-2025", "messages": [{"role": "user", "content": "hi there"}]})
}

fn with(extra: Value) -> Value {
    let mut b = base();
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn rejected(body: Value) -> String {
    let (status, v) = chat(body);
    assert_eq!(status, 400, "{v}");
    assert!(v["id"].is_string(), "{v}");
    v["message"].as_str().unwrap().to_string()
}

const WEATHER: &str = "get_weather";

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": WEATHER, "description": "Weather.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}])
}

#[test]
fn auth_and_paths() {
    let (status, v) = call_at("/v2/chat", base(), &[("authorization", "")]);
    assert_eq!(
        (status, v["message"].as_str()),
        (401, Some("no api key supplied"))
    );
    let (status, v) = call_at("/v2/chat", base(), &[("authorization", "Bearer nope")]);
    assert_eq!(
        (status, v["message"].as_str()),
        (401, Some("invalid api token"))
    );
    let (status, _) = call_at("/v1/chat", base(), &[]);
    assert_eq!(status, 404);
    let (status, _) = call_at("/v2/chat/completions", base(), &[]);
    assert_eq!(status, 404);
}

#[test]
fn text_reply_shape_and_usage() {
    let (status, v) = chat(base());
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["finish_reason"], "COMPLETE");
    assert_eq!(v["message"]["role"], "assistant");
    let text = v["message"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("hi there"), "{text}");
    assert_eq!(v["message"]["content"][0]["type"], "text");
    let billed = v["usage"]["billed_units"]["input_tokens"].as_u64().unwrap();
    assert_eq!(billed, 2);
    assert_eq!(
        v["usage"]["tokens"]["input_tokens"].as_u64().unwrap(),
        billed + respond::TEMPLATE_TOKENS
    );
}

#[test]
fn tool_call_then_tool_result() {
    let body = json!({"model": "command-a-03-2025", "tools": tools(),
                      "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    let (status, v) = chat(body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["finish_reason"], "TOOL_CALL");
    let call = &v["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], WEATHER);
    assert_eq!(call["function"]["arguments"], "{\"city\":\"mock-city\"}");
    assert!(v["message"]["tool_plan"].is_string());
    let id = call["id"].as_str().unwrap().to_string();
    let next = json!({"model": "command-a-03-2025", "tools": tools(), "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_plan": "I will look.", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": id, "content": "18C"}]});
    let (status, v) = chat(next);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["finish_reason"], "COMPLETE");
    assert_eq!(
        v["message"]["content"][0]["text"],
        "Tool result received: 18C"
    );
    let orphan = json!({"model": "m", "messages": [
        {"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "zz", "content": "r"}]});
    assert!(rejected(orphan).contains("tool_call_id zz"));
    let none = json!({"model": "m", "tools": tools(), "tool_choice": "NONE",
                      "messages": [{"role": "user", "content": "Weather?"}]});
    assert_eq!(chat(none).1["finish_reason"], "COMPLETE");
}

#[test]
fn strict_validation() {
    assert!(rejected(with(json!({"bogus": 1}))).contains("parameter bogus is not a valid field"));
    assert!(rejected(json!({"messages": [{"role": "user", "content": "x"}]})).contains("model"));
    assert!(rejected(json!({"model": "m"})).contains("messages is required"));
    assert!(
        rejected(json!({"model": "m", "messages": [{"role": "developer", "content": "x"}]}))
            .contains("role")
    );
    assert!(rejected(
        json!({"model": "m", "messages": [{"role": "user", "content": "x", "name": "n"}]})
    )
    .contains("messages[0].name"));
    assert!(
        rejected(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}))
            .contains("tool_call_id is required")
    );
    assert!(rejected(with(json!({"tool_choice": "REQUIRED"}))).contains("requires tools"));
    assert!(
        rejected(with(json!({"tool_choice": "AUTO", "tools": tools()}))).contains("tool_choice")
    );
    assert!(rejected(with(
        json!({"tools": tools(), "response_format": {"type": "json_object"}})
    ))
    .contains("not supported with tools"));
    assert!(
        rejected(with(json!({"response_format": {"type": "json_schema"}})))
            .contains("response_format.type")
    );
    assert!(rejected(with(json!({"p": 1.0}))).contains("p must be"));
    assert!(rejected(with(json!({"frequency_penalty": -0.5}))).contains("frequency_penalty"));
    assert!(rejected(with(json!({"max_tokens": 0}))).contains("max_tokens"));
    assert!(rejected(with(
        json!({"stop_sequences": ["a", "b", "c", "d", "e", "f"]})
    ))
    .contains("stop_sequences"));
    assert!(rejected(with(json!({"thinking": {"type": "on"}}))).contains("thinking.type"));
    let no_params = json!([{"type": "function", "function": {"name": "f"}}]);
    assert!(rejected(with(json!({"tools": no_params}))).contains("parameters is required"));
    let image = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}}]}]});
    assert_eq!(chat(image).0, 200);
    let (status, _) = chat(with(json!({"response_format": {"type": "json_object",
        "json_schema": {"type": "object"}}, "temperature": 0.3, "k": 10, "p": 0.5, "seed": 1})));
    assert_eq!(status, 200);
}

#[test]
fn stream_events_text_and_tool_call() {
    let events = stream(with(json!({"stream": true})), &[]);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message-start"));
    assert_eq!(names[1], "content-start");
    assert_eq!(names[names.len() - 2], "content-end");
    assert_eq!(names.last(), Some(&"message-end"));
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "content-delta")
        .filter_map(|(_, d)| d["delta"]["message"]["content"]["text"].as_str())
        .collect();
    assert_eq!(
        text,
        chat(base()).1["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
    );
    let end = &events.last().unwrap().1["delta"];
    assert_eq!(end["finish_reason"], "COMPLETE");
    assert!(end["usage"]["tokens"]["output_tokens"].as_u64().unwrap() > 0);

    let events = stream(with(json!({"stream": true, "tools": tools()})), &[]);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message-start",
            "tool-plan-delta",
            "tool-call-start",
            "tool-call-delta",
            "tool-call-delta",
            "tool-call-end",
            "message-end"
        ]
    );
    let args: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["message"]["tool_calls"]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"city\":\"mock-city\"}");
    assert_eq!(
        events.last().unwrap().1["delta"]["finish_reason"],
        "TOOL_CALL"
    );
}

#[test]
fn thinking_magic_words_and_faults() {
    let (_, v) = chat(with(
        json!({"thinking": {"type": "enabled", "token_budget": 100}}),
    ));
    assert_eq!(v["message"]["content"][0]["type"], "thinking");
    assert_eq!(v["message"]["content"][1]["type"], "text");
    let words = json!({"model": "m", "messages": [{"role": "user",
        "content": "MOCK_MAX_TOKENS tell me a long story please now"}]});
    let (_, v) = chat(words);
    assert_eq!(v["finish_reason"], "MAX_TOKENS");
    let cached = json!({"model": "m", "messages": [{"role": "user", "content": "MOCK_CACHED hi"}]});
    assert_eq!(chat(cached).1["usage"]["cached_tokens"], 8);
    let (status, v) = call_at("/v2/chat", base(), &[("x-mock-status", "429")]);
    assert_eq!(status, 429);
    assert!(v["message"].as_str().unwrap().contains("Trial key"));
    let events = stream(
        with(json!({"stream": true})),
        &[("x-mock-stream-error", "1")],
    );
    let end = &events.last().unwrap().1;
    assert_eq!(end["delta"]["finish_reason"], "ERROR");
    assert!(end["delta"]["error"].is_string());
    let (status, v) = call_at("/v2/chat", base(), &[("x-mock-overloaded", "1")]);
    assert_eq!((status, v["finish_reason"].as_str()), (200, Some("ERROR")));
}

#[test]
fn embed_types_dimensions_and_validation() {
    let body = json!({"model": "embed-v4.0", "texts": ["alpha beta", "gamma"],
                      "input_type": "search_document", "embedding_types": ["float", "base64"],
                      "output_dimension": 256});
    let (status, v) = call_at("/v2/embed", body, &[]);
    assert_eq!(status, 200, "{v}");
    let floats = v["embeddings"]["float"].as_array().unwrap();
    assert_eq!(floats.len(), 2);
    assert_eq!(floats[0].as_array().unwrap().len(), 256);
    let want: Vec<f64> = crate::embedding::vector("alpha beta", 256);
    assert_eq!(floats[0], json!(want));
    assert_eq!(
        v["embeddings"]["base64"][0],
        crate::embedding::base64_f32(&want)
    );
    assert_eq!(v["meta"]["billed_units"]["input_tokens"], 3);
    assert_eq!(v["response_type"], "embeddings_by_type");
    let err = |b: Value| {
        let (s, v) = call_at("/v2/embed", b, &[]);
        assert_eq!(s, 400, "{v}");
        v["message"].as_str().unwrap().to_string()
    };
    let ok = json!({"model": "embed-english-v3.0", "texts": ["a"], "input_type": "search_query",
                    "embedding_types": ["float"]});
    assert_eq!(call_at("/v2/embed", ok.clone(), &[]).0, 200);
    let mut b = ok.clone();
    b.as_object_mut().unwrap().remove("input_type");
    assert!(err(b).contains("input_type is required"));
    let mut b = ok.clone();
    b["output_dimension"] = json!(256);
    assert!(err(b).contains("embed-v4"));
    let mut b = ok.clone();
    b["encoding_format"] = json!("float");
    assert!(err(b).contains("encoding_format"));
    let mut b = ok;
    b["embedding_types"] = json!(["f16"]);
    assert!(err(b).contains("f16"));
}
