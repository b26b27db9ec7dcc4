use std::collections::HashMap;

use serde_json::{json, Value};

use super::encode::meta;
use crate::dialect::responses::encoder;
use crate::error::ApiError;
use crate::events::{Event, Finish, Thinking};
use crate::sse::SseFramer;
use crate::usage::Usage;

/// The encoder's bytes for `events`.
pub fn encode(events: Vec<Event<'_>>, encrypted: bool) -> Vec<u8> {
    let mut enc = encoder(meta(encrypted));
    let mut out = Vec::new();
    for ev in events {
        enc.event(ev, &mut out);
    }
    out
}

/// The SSE events in `bytes` as (event name, data), fed in pieces cut at
/// `cut` bytes.
fn parse(bytes: &[u8], cut: usize) -> Vec<(String, Value)> {
    let mut framer = SseFramer::new();
    let mut events = Vec::new();
    for piece in bytes.chunks(cut.max(1)) {
        framer
            .push(piece, |ev| {
                let data = serde_json::from_str(&ev.data).unwrap();
                events.push((ev.event.unwrap_or_default(), data));
            })
            .unwrap();
    }
    assert!(framer.is_idle(), "stream ends mid-event");
    events
}

/// Checks what every stream must hold and returns (types, last data).
pub fn check(bytes: &[u8]) -> (Vec<String>, Value) {
    let events = parse(bytes, bytes.len());
    for cut in 1..bytes.len().min(64) {
        assert_eq!(parse(bytes, cut), events, "split at every {cut} bytes");
    }
    let mut ids: HashMap<u64, String> = HashMap::new();
    let mut done_items = Vec::new();
    let mut deltas: HashMap<String, String> = HashMap::new();
    for (n, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], json!(name), "event line and type");
        assert_eq!(data["sequence_number"], json!(n), "contiguous from 0");
        let kind = name.as_str();
        if let Some(item) = data.get("item") {
            let index = data["output_index"].as_u64().unwrap();
            let id = item["id"].as_str().unwrap().to_string();
            if kind == "response.output_item.added" {
                assert_eq!(index, ids.len() as u64, "items open in order");
                ids.insert(index, id);
            } else {
                assert_eq!(ids.get(&index), Some(&id), "{kind}");
                done_items.push(item.clone());
            }
        } else if let Some(item_id) = data.get("item_id") {
            let index = data["output_index"].as_u64().unwrap();
            assert_eq!(
                ids.get(&index).map(String::as_str),
                item_id.as_str(),
                "{kind}"
            );
            let key = format!(
                "{item_id}/{}/{}",
                data["content_index"], data["summary_index"]
            );
            if let Some(d) = data["delta"].as_str() {
                deltas.entry(key).or_default().push_str(d);
            } else if let Some(full) = data.get("text").or(data.get("arguments")) {
                assert_eq!(
                    deltas.get(&key).map(String::as_str).unwrap_or(""),
                    full.as_str().unwrap(),
                    "{kind}"
                );
            }
        }
    }
    let names: Vec<String> = events.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(&names[..2], ["response.created", "response.in_progress"]);
    let last = events.last().unwrap().1.clone();
    if last["type"] != "response.failed" {
        assert_eq!(
            last["response"]["output"],
            Value::Array(done_items),
            "done items = final output"
        );
    }
    (names, last)
}

fn usage() -> Usage {
    Usage {
        input: 20,
        output: 9,
        reasoning: 4,
        ..Usage::default()
    }
}

pub fn full_events() -> Vec<Event<'static>> {
    vec![
        Event::Start { id: "msg_1" },
        Event::Reasoning(""),
        Event::Reasoning("think "),
        Event::Reasoning("more"),
        Event::Thinking(Thinking::Signed {
            text: "".into(),
            signature: "S1".into(),
        }),
        Event::Thinking(Thinking::Redacted { data: "R".into() }),
        Event::Text("Hel"),
        Event::Text("lo"),
        Event::ToolStart {
            index: 0,
            id: "call_1",
            name: "f",
            signature: None,
        },
        Event::ToolArgs {
            index: 0,
            json: "{\"a\"",
        },
        Event::ToolArgs {
            index: 0,
            json: ":1}",
        },
        Event::ToolStart {
            index: 1,
            id: "call_2",
            name: "g",
            signature: Some("TS"),
        },
        Event::ToolArgs {
            index: 1,
            json: "{}",
        },
        Event::Finish(Finish::ToolCalls),
        Event::Usage(usage()),
        Event::End,
    ]
}

#[test]
fn full_stream_event_order_and_items() {
    let (names, last) = check(&encode(full_events(), true));
    let expected = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ];
    assert_eq!(names, expected);
    let r = &last["response"];
    assert_eq!(r["status"], "completed");
    assert_eq!(r["id"], "resp_msg_1");
    assert_eq!(r["usage"]["output_tokens_details"]["reasoning_tokens"], 4);
    assert_eq!(r["usage"]["total_tokens"], 29);
    let out = r["output"].as_array().unwrap();
    let kinds: Vec<&str> = out.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "reasoning",
            "message",
            "function_call",
            "reasoning",
            "function_call"
        ]
    );
    assert_eq!(
        out[0]["summary"],
        json!([{"type": "summary_text", "text": "think more"}])
    );
    assert_eq!(out[1]["content"][0]["text"], "Hello");
    assert_eq!(out[1]["status"], "completed");
    assert_eq!(out[2]["arguments"], "{\"a\":1}");
    assert_eq!(out[2]["call_id"], "call_1");
    assert_eq!(out[3]["summary"], json!([]));
    assert_eq!(out[4]["call_id"], "call_2");
    let state = |i: usize| {
        let sealed = out[i]["encrypted_content"].as_str().unwrap();
        let st = crate::dialect::responses::state::State::open(sealed)
            .unwrap()
            .unwrap();
        serde_json::to_value(st).unwrap()
    };
    assert_eq!(
        state(0),
        json!({"blocks": [
            {"type": "thinking", "thinking": "think more", "signature": "S1"},
            {"type": "redacted_thinking", "data": "R"}
        ]})
    );
    assert_eq!(
        state(3),
        json!({"calls": [{"call_id": "call_2", "signature": "TS"}]})
    );
}

#[test]
fn without_include_no_state_goes_out() {
    let (names, last) = check(&encode(full_events(), false));
    let out = last["response"]["output"].as_array().unwrap();
    let kinds: Vec<&str> = out.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["reasoning", "message", "function_call", "function_call"]
    );
    assert!(out.iter().all(|i| i.get("encrypted_content").is_none()));
    assert_eq!(names.last().unwrap(), "response.completed");
}

#[test]
fn error_after_start_is_error_then_failed() {
    let e = ApiError::new(502, "server_error", "upstream broke").with_code("upstream_error");
    let events = vec![
        Event::Start { id: "" },
        Event::Text("a"),
        Event::Error(e),
        Event::Text("late"),
    ];
    let (names, last) = check(&encode(events, false));
    assert_eq!(&names[names.len() - 2..], ["error", "response.failed"]);
    let bytes = encode(
        vec![
            Event::Start { id: "" },
            Event::Error(ApiError::new(429, "rate_limit_error", "slow down")),
        ],
        false,
    );
    let (_, failed) = check(&bytes);
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(
        failed["response"]["error"],
        json!({"code": "rate_limit_exceeded", "message": "slow down"})
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(r#""type":"error","sequence_number":2,"code":"rate_limit_error","message":"slow down","param":null"#), "{text}");
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "a");
}

#[test]
fn token_limit_ends_incomplete() {
    let events = vec![
        Event::Start { id: "x" },
        Event::Text("a"),
        Event::Finish(Finish::Length),
        Event::End,
    ];
    let (names, last) = check(&encode(events, false));
    assert_eq!(names.last().unwrap(), "response.incomplete");
    let r = &last["response"];
    assert_eq!(r["status"], "incomplete");
    assert_eq!(
        r["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(r["output"][0]["status"], "incomplete");
}

#[test]
fn no_start_other_choices_and_late_events() {
    let events = vec![
        Event::Text("a"),
        Event::Choice(1),
        Event::Text("other choice"),
        Event::Choice(0),
        Event::Text("b"),
        Event::End,
        Event::Text("after end"),
    ];
    let (names, last) = check(&encode(events, false));
    assert_eq!(names.last().unwrap(), "response.completed");
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "ab");
    assert_eq!(last["response"]["id"], "resp_6553f100");
    // A reply with nothing in it still opens and closes the stream.
    let (names, _) = check(&encode(vec![Event::Start { id: "" }, Event::End], false));
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.completed"
        ]
    );
}

/// Writes encoder output for `scripts/check_responses_sdk.py`, which checks
/// it against the openai Python SDK's types; only when
/// `RESPONSES_SDK_FIXTURES` names a directory.
#[test]
fn write_sdk_fixtures() {
    let Some(dir) = std::env::var_os("RESPONSES_SDK_FIXTURES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let e = ApiError::new(502, "server_error", "upstream broke");
    let streams = [
        ("full.sse", encode(full_events(), true)),
        ("plain.sse", encode(full_events(), false)),
        (
            "error.sse",
            encode(
                vec![Event::Start { id: "" }, Event::Text("a"), Event::Error(e)],
                false,
            ),
        ),
        (
            "incomplete.sse",
            encode(
                vec![
                    Event::Start { id: "x" },
                    Event::Text("a"),
                    Event::Finish(Finish::Length),
                    Event::End,
                ],
                false,
            ),
        ),
    ];
    for (name, bytes) in streams {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    for (name, v) in super::encode::sdk_replies() {
        std::fs::write(dir.join(name), serde_json::to_vec(&v).unwrap()).unwrap();
    }
}
