use std::borrow::Cow;

use serde_json::{json, Value};

use crate::dialect::anthropic::encoder;
use crate::error::ApiError;
use crate::events::{Choice, Event, Finish, Meta, Reply, Thinking, ToolCall};
use crate::sse::{SseFramer, SseItem};
use crate::usage::Usage;

fn meta() -> Meta {
    Meta {
        model: "claude-public".into(),
        created: 1_700_000_000,
        include_usage: false,
        encrypted_reasoning: false,
    }
}

fn usage() -> Usage {
    Usage {
        input: 100,
        cache_read: 60,
        cache_write: 10,
        output: 25,
        reasoning: 0,
        implausible: false,
    }
}

/// The Anthropic usage object for [`usage`]: input excludes the cache.
fn wire_usage() -> Value {
    json!({"input_tokens": 30, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60, "output_tokens": 25})
}

/// Runs the events through the encoder; returns (event name, data) pairs.
fn stream(events: Vec<Event<'_>>) -> Vec<(String, Value)> {
    let mut enc = encoder(meta());
    let mut out = Vec::new();
    for ev in events {
        enc.event(ev, &mut out);
    }
    let mut framer = SseFramer::new();
    let mut parsed = Vec::new();
    framer.push_items(&out, |item| match item {
        SseItem::Event(ev) => {
            let data: Value = serde_json::from_str(&ev.data).unwrap();
            let name = ev.event.unwrap();
            if name != "error" {
                assert_eq!(data["type"], json!(name), "type matches the event name");
            }
            parsed.push((name, data));
        }
        SseItem::Error(e) => panic!("{e:?}"),
    });
    assert!(framer.is_idle(), "every event is complete");
    parsed
}

fn start_event(id: &str, u: Value) -> (String, Value) {
    (
        "message_start".into(),
        json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": "claude-public",
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": u}}),
    )
}

fn ev(name: &str, v: Value) -> (String, Value) {
    (name.to_string(), v)
}

fn delta(index: u32, d: Value) -> (String, Value) {
    ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": d}),
    )
}

fn block_start(index: u32, b: Value) -> (String, Value) {
    ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": b}),
    )
}

fn stop(index: u32) -> (String, Value) {
    ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}

#[test]
fn whole_reply_is_a_message() {
    let reply = Reply {
        id: "msg_abc".into(),
        choice: Choice {
            text: Some("Hello".into()),
            reasoning: Some("think".into()),
            thinking: vec![
                Thinking::Signed {
                    text: "think".into(),
                    signature: "SIG==".into(),
                },
                Thinking::Redacted { data: "ENC".into() },
            ],
            tool_calls: vec![ToolCall {
                id: "".into(),
                name: "get".into(),
                arguments: Cow::Borrowed("{\"city\": \"Paris\"}"),
                signature: None,
            }],
            finish: Finish::ToolCalls,
            ..Choice::default()
        },
        usage: usage(),
        ..Reply::default()
    };
    let body = encoder(meta()).reply(&reply).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let want = json!({
        "id": "msg_abc", "type": "message", "role": "assistant", "model": "claude-public",
        "content": [
            {"type": "thinking", "thinking": "think", "signature": "SIG=="},
            {"type": "redacted_thinking", "data": "ENC"},
            {"type": "text", "text": "Hello"},
            {"type": "tool_use", "id": "toolu_abc_0", "name": "get", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null, "usage": wire_usage()
    });
    assert_eq!(v, want);
}

#[test]
fn whole_reply_stop_reasons_ids_and_unsigned_reasoning() {
    for (finish, reason) in [
        (Finish::Stop, "end_turn"),
        (Finish::Length, "max_tokens"),
        (Finish::ToolCalls, "tool_use"),
        (Finish::ContentFilter, "refusal"),
    ] {
        let reply = Reply {
            choice: Choice {
                text: Some("x".into()),
                reasoning: Some("r".into()),
                finish,
                ..Choice::default()
            },
            ..Reply::default()
        };
        let v: Value = serde_json::from_slice(&encoder(meta()).reply(&reply).unwrap()).unwrap();
        assert_eq!(v["stop_reason"], json!(reason));
        assert!(v["id"].as_str().unwrap().starts_with("msg_"), "{v}");
        assert_eq!(
            v["content"][0],
            json!({"type": "thinking", "thinking": "r", "signature": ""})
        );
    }
    let bad = Reply {
        choice: Choice {
            tool_calls: vec![ToolCall {
                id: "t".into(),
                name: "f".into(),
                arguments: "[1]".into(),
                signature: None,
            }],
            ..Choice::default()
        },
        ..Reply::default()
    };
    assert_eq!(encoder(meta()).reply(&bad).unwrap_err().status, 502);
}

#[test]
fn stream_is_anthropics_event_sequence() {
    let events = vec![
        Event::Usage(Usage {
            input: 100,
            cache_read: 60,
            cache_write: 10,
            output: 1,
            ..Usage::default()
        }),
        Event::Start { id: "msg_1" },
        Event::Reasoning(""),
        Event::Reasoning("let me "),
        Event::Reasoning("think"),
        Event::Thinking(Thinking::Signed {
            text: "".into(),
            signature: "SIG".into(),
        }),
        Event::Thinking(Thinking::Redacted { data: "ENC".into() }),
        Event::Text(""),
        Event::Text("Hi"),
        Event::ToolStart {
            index: 0,
            id: "toolu_x",
            name: "get",
            signature: None,
        },
        Event::ToolArgs {
            index: 0,
            json: "{\"a\":",
        },
        Event::ToolArgs {
            index: 0,
            json: "1}",
        },
        Event::ToolStart {
            index: 1,
            id: "",
            name: "put",
            signature: None,
        },
        Event::Finish(Finish::ToolCalls),
        Event::Usage(usage()),
        Event::End,
        Event::Text("after the end is ignored"),
    ];
    let first_usage = json!({"input_tokens": 30, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60, "output_tokens": 1});
    let want = vec![
        start_event("msg_1", first_usage),
        ev("ping", json!({"type": "ping"})),
        block_start(
            0,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
        ),
        delta(0, json!({"type": "thinking_delta", "thinking": "let me "})),
        delta(0, json!({"type": "thinking_delta", "thinking": "think"})),
        delta(0, json!({"type": "signature_delta", "signature": "SIG"})),
        stop(0),
        block_start(1, json!({"type": "redacted_thinking", "data": "ENC"})),
        stop(1),
        block_start(2, json!({"type": "text", "text": ""})),
        delta(2, json!({"type": "text_delta", "text": "Hi"})),
        stop(2),
        block_start(
            3,
            json!({"type": "tool_use", "id": "toolu_x", "name": "get", "input": {}}),
        ),
        delta(
            3,
            json!({"type": "input_json_delta", "partial_json": "{\"a\":"}),
        ),
        delta(3, json!({"type": "input_json_delta", "partial_json": "1}"})),
        stop(3),
        block_start(
            4,
            json!({"type": "tool_use", "id": "toolu_1_1", "name": "put", "input": {}}),
        ),
        stop(4),
        ev(
            "message_delta",
            json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": wire_usage()}),
        ),
        ev("message_stop", json!({"type": "message_stop"})),
    ];
    assert_eq!(stream(events), want);
}

#[test]
fn stream_without_start_or_usage_up_front_still_opens_and_reports_at_the_end() {
    // An OpenAI-like provider: no id, usage only at the end, no finish.
    let got = stream(vec![Event::Text("Hey"), Event::Usage(usage()), Event::End]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let id = got[0].1["message"]["id"].as_str().unwrap();
    assert!(id.starts_with("msg_"), "{id}");
    assert_eq!(got[0].1["message"]["usage"]["input_tokens"], json!(0));
    assert_eq!(got[5].1["delta"]["stop_reason"], json!("end_turn"));
    assert_eq!(got[5].1["usage"], wire_usage());
}

#[test]
fn signed_thinking_without_streamed_text_carries_its_text() {
    let got = stream(vec![
        Event::Start { id: "m" },
        Event::Thinking(Thinking::Signed {
            text: "whole".into(),
            signature: "S".into(),
        }),
        Event::End,
    ]);
    assert_eq!(
        got[2],
        block_start(
            0,
            json!({"type": "thinking", "thinking": "", "signature": ""})
        )
    );
    assert_eq!(
        got[3],
        delta(0, json!({"type": "thinking_delta", "thinking": "whole"}))
    );
    assert_eq!(
        got[4],
        delta(0, json!({"type": "signature_delta", "signature": "S"}))
    );
    assert_eq!(got[5], stop(0));
}

#[test]
fn interleaved_tool_arguments_keep_their_block_index() {
    let got = stream(vec![
        Event::Start { id: "m" },
        Event::ToolStart {
            index: 0,
            id: "a",
            name: "f",
            signature: None,
        },
        Event::ToolStart {
            index: 1,
            id: "b",
            name: "g",
            signature: None,
        },
        Event::ToolArgs {
            index: 0,
            json: "{}",
        },
        Event::ToolArgs {
            index: 1,
            json: "{}",
        },
        Event::End,
    ]);
    let deltas: Vec<&Value> = got
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, v)| &v["index"])
        .collect();
    assert_eq!(deltas, [&json!(0), &json!(1)]);
}

#[test]
fn an_error_event_is_anthropics_error_and_ends_the_stream() {
    let got = stream(vec![
        Event::Start { id: "m" },
        Event::Text("partial"),
        Event::Error(ApiError::new(529, "overloaded", "Overloaded")),
        Event::Text("more"),
        Event::End,
    ]);
    let last = got.last().unwrap();
    assert_eq!(
        last,
        &ev(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        )
    );
    assert_eq!(got.iter().filter(|(n, _)| n == "error").count(), 1);
    assert!(!got.iter().any(|(n, _)| n == "message_stop"));
}

#[test]
fn other_choices_are_not_written() {
    let got = stream(vec![
        Event::Start { id: "m" },
        Event::Text("zero"),
        Event::Choice(1),
        Event::Text("one"),
        Event::Choice(0),
        Event::End,
    ]);
    let texts: Vec<&Value> = got
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, v)| &v["delta"]["text"])
        .collect();
    assert_eq!(texts, [&json!("zero")]);
}

#[test]
fn empty_text_opens_no_block() {
    let got = stream(vec![
        Event::Start { id: "m" },
        Event::Text(""),
        Event::Reasoning(""),
        Event::Text(""),
        Event::End,
    ]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["message_start", "ping", "message_delta", "message_stop"]
    );
}
