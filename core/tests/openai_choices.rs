//! The OpenAI encoder with several choices (`n` > 1): one indexed choice
//! per chunk, a role delta opening each choice, one finish per choice,
//! tool call indexes per choice, and whole replies sorted by index.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use modelmux_core::dialect::openai_chat::encode::OpenAiEncoder;
use modelmux_core::events::{Choice, Encoder, Event, Finish, Meta, Reply, ToolCall};
use modelmux_core::usage::Usage;
use serde_json::{json, Value};

fn encoder(include_usage: bool) -> OpenAiEncoder {
    OpenAiEncoder::new(Meta {
        model: "m".to_string(),
        created: 7,
        include_usage,
        encrypted_reasoning: false,
    })
}

/// The `choices[0]` of every chunk (`"[DONE]"` for the end, the
/// whole chunk when it has no single choice).
fn run(include_usage: bool, events: Vec<Event<'_>>) -> Vec<Value> {
    let mut enc = encoder(include_usage);
    let mut out = Vec::new();
    for ev in events {
        enc.event(ev, &mut out);
    }
    let text = String::from_utf8(out).unwrap();
    text.split_terminator("\n\n")
        .map(|ev| {
            let data = ev.strip_prefix("data: ").unwrap();
            if data == "[DONE]" {
                return json!("[DONE]");
            }
            let v: Value = serde_json::from_str(data).unwrap();
            match v["choices"].as_array().map(Vec::as_slice) {
                Some([one]) => one.clone(),
                _ => v,
            }
        })
        .collect()
}

fn delta(index: u32, delta: Value) -> Value {
    json!({"index": index, "delta": delta, "logprobs": null, "finish_reason": null})
}

fn finish(index: u32, reason: &str) -> Value {
    json!({"index": index, "delta": {}, "logprobs": null, "finish_reason": reason})
}

fn role() -> Value {
    json!({"role": "assistant", "content": ""})
}

#[test]
fn choices_stream_with_their_index_and_own_tool_indexes() {
    let got = run(
        false,
        vec![
            Event::Start { id: "r" },
            Event::Text("a"),
            Event::Choice(1),
            Event::Text("b"),
            Event::ToolStart {
                index: 0,
                id: "c1",
                name: "f",
                signature: None,
            },
            Event::ToolArgs {
                index: 0,
                json: "{}",
            },
            Event::Finish(Finish::ToolCalls),
            Event::Choice(0),
            Event::Text("c"),
            Event::Choice(1),
            Event::Text("late"),
            Event::Finish(Finish::Stop),
            Event::Choice(0),
            Event::Finish(Finish::Length),
            Event::End,
        ],
    );
    let want = vec![
        delta(0, role()),
        delta(0, json!({"content": "a"})),
        delta(1, role()),
        delta(1, json!({"content": "b"})),
        delta(
            1,
            json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                                   "function": {"name": "f", "arguments": ""}}]}),
        ),
        delta(
            1,
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        ),
        finish(1, "tool_calls"),
        delta(0, json!({"content": "c"})),
        // Choice 1 is open again only for its content; its finish went.
        delta(1, json!({"content": "late"})),
        finish(0, "length"),
        json!("[DONE]"),
    ];
    assert_eq!(got, want);
}

#[test]
fn end_closes_every_open_choice_then_sends_usage() {
    let usage = Usage {
        input: 3,
        output: 5,
        ..Usage::default()
    };
    let got = run(
        true,
        vec![
            Event::Start { id: "r" },
            Event::Choice(2),
            Event::Text("x"),
            Event::Choice(1),
            Event::Finish(Finish::ContentFilter),
            Event::Usage(usage),
            Event::End,
        ],
    );
    let want_usage = json!({"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0}});
    assert_eq!(
        got,
        vec![
            delta(0, role()),
            delta(2, role()),
            delta(2, json!({"content": "x"})),
            delta(1, role()),
            finish(1, "content_filter"),
            finish(0, "stop"),
            finish(2, "stop"),
            json!({"id": "r", "object": "chat.completion.chunk", "created": 7, "model": "m",
                   "choices": [], "usage": want_usage}),
            json!("[DONE]"),
        ]
    );
}

#[test]
fn a_single_choice_finishes_once() {
    let got = run(
        false,
        vec![
            Event::Start { id: "" },
            Event::Text("hi"),
            Event::Finish(Finish::Length),
            Event::Finish(Finish::Stop),
            Event::End,
        ],
    );
    assert_eq!(
        got,
        vec![
            delta(0, role()),
            delta(0, json!({"content": "hi"})),
            finish(0, "length"),
            json!("[DONE]"),
        ]
    );
}

#[test]
fn a_whole_reply_lists_its_choices_by_index() {
    let reply = Reply {
        id: Cow::Borrowed("r"),
        choice: Choice {
            index: 1,
            tool_calls: vec![ToolCall {
                id: Cow::Borrowed("c"),
                name: Cow::Borrowed("f"),
                arguments: Cow::Borrowed("{\"a\":1}"),
                signature: None,
            }],
            finish: Finish::ToolCalls,
            ..Choice::default()
        },
        more: vec![
            Choice {
                index: 2,
                finish: Finish::Length,
                ..Choice::default()
            },
            Choice {
                index: 0,
                text: Some(Cow::Borrowed("yes")),
                reasoning: Some(Cow::Borrowed("why")),
                ..Choice::default()
            },
        ],
        usage: Usage::default(),
    };
    let v: Value = serde_json::from_slice(&encoder(false).reply(&reply).unwrap()).unwrap();
    assert_eq!(
        v["choices"],
        json!([
            {"index": 0, "message": {"role": "assistant", "content": "yes", "reasoning_content": "why"},
             "finish_reason": "stop", "logprobs": null},
            {"index": 1, "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
             "finish_reason": "tool_calls", "logprobs": null},
            {"index": 2, "message": {"role": "assistant", "content": ""},
             "finish_reason": "length", "logprobs": null},
        ])
    );
    assert_eq!(v["id"], "r");
}
