//! Cohere v2 typed SSE events → OpenAI chunk translation, driven by
//! hand-written synthetic fixtures, including every way of splitting each
//! fixture into pieces.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::Provider;
use modelmux_core::providers::{BodyEdit, BodyMode, TargetCtx, Translator};
use modelmux_core::usage::Usage;
use serde_json::{json, Value};

mod common;
use common::{chunks, text_of, Event, Run};

const FIXTURES: &[&str] = &[
    "text",
    "tool_calls",
    "thinking",
    "error_end",
    "truncated",
    "error_object",
];

/// Fixtures short enough to cut at every pair of offsets.
const SHORT: &[&str] = &["truncated", "error_object"];

fn provider() -> Provider {
    Provider::new("co", "cohere", "api.cohere.com").with_key("k")
}

fn translator(include_usage: bool) -> Box<dyn Translator> {
    let provider = provider();
    let target = TargetCtx {
        provider: &provider,
        model: "command-a-03-2025",
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let body = json!({"model": "smart", "stream": true, "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "hi"}]});
    let (mut chat, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target).unwrap();
    assert_eq!(out.path, "/v2/chat");
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["stream"], true);
    let edit = chat.response_headers(200, &|_| None);
    assert_eq!(edit.mode, BodyMode::Stream);
    assert_eq!(edit.content_type, Some("text/event-stream"));
    assert!(edit.drop_content_length);
    chat
}

fn run(input: &[u8], include_usage: bool, cuts: &[usize]) -> Run {
    common::run(translator(include_usage), input, cuts)
}

fn fixture(name: &str) -> Vec<u8> {
    common::fixture("cohere", name)
}

fn chunk(id: &str, delta: Value, finish: Value) -> Event {
    Event::Chunk(json!({
        "id": id, "object": "chat.completion.chunk",
        "created": 1_750_000_000u64, "model": "smart",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    }))
}

fn usage(input: u64, cache_read: u64, output: u64) -> Usage {
    Usage {
        implausible: false,
        input,
        cache_read,
        cache_write: 0,
        output,
        reasoning: 0,
    }
}

#[test]
fn text_stream_exact_output() {
    let run = run(&fixture("text"), false, &[]);
    let id = "5f0c1e7a-syn-text";
    let want = vec![
        chunk(id, json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(id, json!({"content": "Grüß"}), Value::Null),
        chunk(id, json!({"content": " Gott, “café” 🚀\n"}), Value::Null),
        chunk(id, json!({"content": "done."}), Value::Null),
        chunk(id, json!({}), json!("stop")),
        Event::Done,
    ];
    assert_eq!(run.events, want);
    // `usage.tokens`, not `billed_units`.
    assert_eq!(run.usage, usage(215, 0, 6));
    assert!(!run.failed);
}

#[test]
fn tool_plan_and_two_calls_become_reasoning_and_indexed_tool_deltas() {
    let run = run(&fixture("tool_calls"), true, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let c = chunks(&run);
    let reasoning: String = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "I will check both cities.");
    let deltas: Vec<&Value> = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert_eq!(
        deltas,
        vec![
            &json!({"index": 0, "id": "get_weather_4kq1", "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}),
            &json!({"index": 0, "function": {"arguments": "{\"city\":"}}),
            &json!({"index": 0, "function": {"arguments": "\"Zürich\"}"}}),
            &json!({"index": 1, "id": "get_weather_8zz2", "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}),
            &json!({"index": 1, "function": {"arguments": "{\"city\":\"Lyon\"}"}}),
        ]
    );
    let finish: Vec<&Value> = c
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
    let last = c.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 1021);
    assert_eq!(last["usage"]["completion_tokens"], 62);
    assert_eq!(run.events.last(), Some(&Event::Done));
}

#[test]
fn thinking_citations_debug_and_done_sentinel() {
    let run = run(&fixture("thinking"), false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let id = "c7-syn-think";
    assert_eq!(
        run.events,
        vec![
            chunk(id, json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(
                id,
                json!({"reasoning_content": "Count first."}),
                Value::Null
            ),
            chunk(id, json!({"content": "Three."}), Value::Null),
            chunk(id, json!({}), json!("length")),
            Event::Done,
        ]
    );
    assert_eq!(run.usage, usage(12, 8, 30));
}

#[test]
fn error_finish_ends_the_stream_with_an_openai_error() {
    let run = run(&fixture("error_end"), false, &[]);
    assert!(run.failed);
    assert_eq!(text_of(&run), "Partial");
    let c = chunks(&run);
    let last = c.last().unwrap();
    assert_eq!(last["error"]["message"], "internal error while generating");
    assert_eq!(last["error"]["type"], "server_error");
    assert!(!run.events.contains(&Event::Done));
}

#[test]
fn error_object_in_place_of_an_event() {
    let run = run(&fixture("error_object"), false, &[]);
    assert!(run.failed);
    let c = chunks(&run);
    assert_eq!(
        c.last().unwrap()["error"]["message"],
        "too many tokens: total number of tokens exceeds the limit"
    );
}

#[test]
fn truncated_stream_fails() {
    let run = run(&fixture("truncated"), false, &[]);
    assert!(run.failed);
    assert_eq!(text_of(&run), "Cut");
    let c = chunks(&run);
    let msg = c.last().unwrap()["error"]["message"].as_str().unwrap();
    assert!(msg.contains("ended the stream"), "{msg}");
}

#[test]
fn malformed_event_data_fails() {
    let bad = b"event: message-start\ndata: {\"type\":\"message-start\",\"id\":\"x\"}\n\nevent: content-delta\ndata: {not json\n\n";
    let run = run(bad, false, &[]);
    assert!(run.failed);
    let c = chunks(&run);
    let msg = c.last().unwrap()["error"]["message"].as_str().unwrap();
    assert!(msg.contains("invalid stream event"), "{msg}");
    // A known event with a delta of the wrong shape fails too.
    let bad = b"data: {\"type\":\"content-delta\",\"delta\":{\"message\":{\"content\":7}}}\n\n";
    assert!(run_failed(bad));
    // A tool call delta for a call that never started.
    let bad = b"data: {\"type\":\"tool-call-delta\",\"index\":3,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":\"{}\"}}}}}\n\n";
    assert!(run_failed(bad));
}

fn run_failed(input: &[u8]) -> bool {
    run(input, false, &[]).failed
}

#[test]
fn any_split_matches_whole() {
    for name in FIXTURES {
        common::assert_any_split_matches_whole(name, &fixture(name), run);
    }
}

#[test]
fn every_three_piece_split_of_short_fixtures_matches_whole() {
    for name in SHORT {
        common::assert_any_three_piece_split_matches_whole(name, &fixture(name), run);
    }
}

#[test]
fn upstream_error_status_on_stream_request_is_buffered() {
    let mut chat = {
        let provider = provider();
        let target = TargetCtx {
            provider: &provider,
            model: "command-a-03-2025",
            public_model: "smart",
            now_unix_secs: 1_750_000_000,
            tokens: &modelmux_core::providers::auth::NoTokens,
        };
        let body =
            br#"{"model":"smart","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        modelmux_core::providers::chat_body(body, target).unwrap().0
    };
    let edit = chat.response_headers(401, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    let body = match chat.response_body(br#"{"id":"e","message":"invalid api token"}"#, true) {
        BodyEdit::Replace(b) => serde_json::from_slice::<Value>(&b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(body["error"]["message"], "invalid api token");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(chat.failed());
}

/// A call without argument text and without `tool-call-end` still gets
/// `{}` (at `message-end`), once, under any split.
#[test]
fn call_without_arguments_or_end_gets_empty_object_at_message_end() {
    let input = concat!(
        "event: message-start\ndata: {\"id\":\"s-na\",\"type\":\"message-start\"}\n\n",
        "event: tool-call-start\ndata: {\"type\":\"tool-call-start\",\"index\":3,\"delta\":{\"message\":",
        "{\"tool_calls\":{\"id\":\"t0\",\"type\":\"function\",\"function\":{\"name\":\"now\",\"arguments\":\"\"}}}}}\n\n",
        "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"TOOL_CALL\"}}\n\n",
    )
    .as_bytes();
    let whole = run(input, false, &[]);
    assert!(!whole.failed, "{:?}", whole.events);
    let deltas: Vec<Value> = chunks(&whole)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .cloned()
        .collect();
    assert_eq!(
        deltas,
        vec![
            json!({"index": 0, "id": "t0", "type": "function",
                   "function": {"name": "now", "arguments": ""}}),
            json!({"index": 0, "function": {"arguments": "{}"}}),
        ]
    );
    for cut in 1..input.len() {
        assert_eq!(
            run(input, false, &[cut]).events,
            whole.events,
            "cut at {cut}"
        );
    }
}
