//! Anthropic SSE → OpenAI chunk translation, driven by recorded-style
//! fixtures, including every way of splitting each fixture into pieces.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::Provider;
use modelmux_core::providers::{BodyEdit, BodyMode, TargetCtx, Translator};
use modelmux_core::usage::Usage;
use serde_json::{json, Value};

mod common;
use common::{chunks, parse_output, text_of, Event, Run};

const FIXTURES: &[&str] = &[
    "text",
    "tool_use",
    "error_midstream",
    "truncated",
    "thinking_crlf",
    "thinking_tool_use",
];

fn translator(include_usage: bool) -> Box<dyn Translator> {
    let provider = Provider::new("claude", "anthropic", "api.anthropic.com");
    let target = TargetCtx {
        provider: &provider,
        model: "claude-sonnet-4-5",
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let body = json!({"model": "smart", "stream": true, "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "hi"}]});
    let (mut chat, _) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target).unwrap();
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
    common::fixture("anthropic", name)
}

fn chunk(delta: Value, finish: Value) -> Event {
    Event::Chunk(json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "object": "chat.completion.chunk",
        "created": 1_750_000_000u64, "model": "smart",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    }))
}

#[test]
fn text_stream_exact_output() {
    let run = run(&fixture("text"), false, &[]);
    let want = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Café"}), Value::Null),
        chunk(json!({"content": " au lait ✓\n"}), Value::Null),
        chunk(json!({"content": "naïve “quotes” 🚀"}), Value::Null),
        chunk(json!({}), json!("stop")),
        Event::Done,
    ];
    assert_eq!(run.events, want);
    assert_eq!(
        run.usage,
        Usage {
            implausible: false,
            cache_write: 0,
            input: 35,
            output: 15,
            cache_read: 10,
            reasoning: 0
        }
    );
    assert!(!run.failed);
}

#[test]
fn include_usage_adds_null_usage_and_a_final_usage_chunk() {
    let run = run(&fixture("text"), true, &[]);
    let (last, rest) = run.events.split_last().unwrap();
    assert_eq!(last, &Event::Done);
    let all = chunks(&run);
    let (usage_chunk, before) = all.split_last().unwrap();
    assert_eq!(rest.len(), all.len());
    for c in before {
        assert_eq!(c.get("usage"), Some(&Value::Null), "{c}");
        assert_eq!(c["choices"].as_array().unwrap().len(), 1);
    }
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["id"], json!("msg_01XFDUDYJgAACzvnptvVoYEL"));
    assert_eq!(
        usage_chunk["usage"],
        json!({"prompt_tokens": 35, "completion_tokens": 15, "total_tokens": 50,
               "prompt_tokens_details": {"cached_tokens": 10},
               "completion_tokens_details": {"reasoning_tokens": 0}})
    );
    let without = run_without_usage_fields(&run);
    assert_eq!(without, self::run(&fixture("text"), false, &[]).events);
}

/// The include_usage stream minus its usage chunk and `usage` fields.
fn run_without_usage_fields(run: &Run) -> Vec<Event> {
    run.events
        .iter()
        .filter(|e| !matches!(e, Event::Chunk(c) if c["choices"] == json!([])))
        .map(|e| match e {
            Event::Chunk(c) => {
                let mut c = c.clone();
                c.as_object_mut().unwrap().remove("usage");
                Event::Chunk(c)
            }
            Event::Done => Event::Done,
        })
        .collect()
}

#[test]
fn tool_use_stream() {
    let run = run(&fixture("tool_use"), false, &[]);
    assert!(!run.failed);
    assert_eq!(text_of(&run), "Let me check the weather.");
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for c in chunks(&run) {
        for d in c["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = d["index"].as_u64().unwrap() as usize;
            if i == calls.len() {
                assert_eq!(d["type"], json!("function"));
                assert_eq!(d["function"]["arguments"], json!(""));
                let id = d["id"].as_str().unwrap().to_string();
                calls.push((
                    id,
                    d["function"]["name"].as_str().unwrap().to_string(),
                    String::new(),
                ));
            } else {
                assert!(
                    d.get("id").is_none() && d["function"].get("name").is_none(),
                    "{d}"
                );
                calls[i]
                    .2
                    .push_str(d["function"]["arguments"].as_str().unwrap());
            }
        }
    }
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].0.as_str(), calls[0].1.as_str()),
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    );
    let args: Value = serde_json::from_str(&calls[0].2).unwrap();
    assert_eq!(args, json!({"location": "Zürich, CH", "unit": "°C"}));
    assert_eq!(
        (
            calls[1].0.as_str(),
            calls[1].1.as_str(),
            calls[1].2.as_str()
        ),
        ("toolu_02", "get_time", "{}")
    );
    let finish: Vec<&Value> = chunks(&run)
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
    assert_eq!(run.events.last(), Some(&Event::Done));
    assert_eq!(
        run.usage,
        Usage {
            implausible: false,
            cache_write: 0,
            input: 472,
            output: 89,
            cache_read: 0,
            reasoning: 0
        }
    );
}

#[test]
fn error_event_ends_the_stream_with_an_openai_error() {
    let run = run(&fixture("error_midstream"), true, &[]);
    assert!(run.failed);
    assert!(!run.events.contains(&Event::Done));
    assert_eq!(text_of(&run), "Partial an");
    let Some(Event::Chunk(last)) = run.events.last() else {
        panic!("no events")
    };
    assert_eq!(
        last,
        &json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": "overloaded_error"}})
    );
    assert_eq!(
        run.usage,
        Usage {
            implausible: false,
            cache_write: 0,
            input: 8,
            output: 1,
            cache_read: 0,
            reasoning: 0
        }
    );
}

#[test]
fn truncated_stream_fails() {
    let run = run(&fixture("truncated"), false, &[]);
    assert!(run.failed);
    assert_eq!(text_of(&run), "Cut off mid-");
    let Some(Event::Chunk(last)) = run.events.last() else {
        panic!("no events")
    };
    assert_eq!(last["error"]["type"], json!("server_error"));
    assert!(!run.events.contains(&Event::Done));
}

#[test]
fn thinking_unknown_events_and_crlf() {
    let run = run(&fixture("thinking_crlf"), false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    assert_eq!(text_of(&run), "42");
    let c = chunks(&run);
    assert_eq!(c.len(), 5, "role, reasoning, signature, text, finish");
    assert_eq!(
        c[1]["choices"][0]["delta"],
        json!({"reasoning_content": "The user wants a number."})
    );
    assert_eq!(
        c[2]["choices"][0]["delta"],
        json!({"thinking_blocks": [{"type": "thinking", "signature": "EqQBCgIYAhIM"}]})
    );
    assert_eq!(c[4]["choices"][0]["finish_reason"], json!("length"));
    assert_eq!(
        run.usage,
        Usage {
            implausible: false,
            cache_write: 12,
            input: 42,
            output: 64,
            cache_read: 0,
            reasoning: 0
        }
    );
}

const SIGNATURE: &str = "ErUBCkYIBxgCIkAx+/9Lh3nZ2FtZQ8wKZ/lp7c6VhE0sUNzDE2r0nJ5xQ==";
const REDACTED: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP";

/// The assistant message a client assembles from the chunks: text,
/// reasoning, every `thinking_blocks` entry in order, and the tool calls.
fn assembled_message(run: &Run) -> Value {
    let (mut content, mut reasoning) = (String::new(), String::new());
    let mut blocks = Vec::new();
    let mut calls: Vec<Value> = Vec::new();
    for c in chunks(run) {
        let d = &c["choices"][0]["delta"];
        content.push_str(d["content"].as_str().unwrap_or(""));
        reasoning.push_str(d["reasoning_content"].as_str().unwrap_or(""));
        blocks.extend(
            d["thinking_blocks"]
                .as_array()
                .into_iter()
                .flatten()
                .cloned(),
        );
        for t in d["tool_calls"].as_array().into_iter().flatten() {
            let i = t["index"].as_u64().unwrap() as usize;
            if i == calls.len() {
                calls.push(json!({"id": t["id"], "type": "function",
                    "function": {"name": t["function"]["name"], "arguments": ""}}));
            }
            let args = calls[i]["function"]["arguments"]
                .as_str()
                .unwrap()
                .to_string()
                + t["function"]["arguments"].as_str().unwrap_or("");
            calls[i]["function"]["arguments"] = json!(args);
        }
    }
    json!({"role": "assistant", "content": content, "reasoning_content": reasoning,
           "thinking_blocks": blocks, "tool_calls": calls})
}

#[test]
fn thinking_signature_and_tool_use_stream_round_trip() {
    let run = run(&fixture("thinking_tool_use"), true, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let thinking = "The user asks for Zürich weather.\nCall \"get_weather\" — unit °C.";
    let message = assembled_message(&run);
    assert_eq!(
        message,
        json!({"role": "assistant", "content": "Checking.", "reasoning_content": thinking,
            "thinking_blocks": [{"type": "thinking", "signature": SIGNATURE},
                                {"type": "redacted_thinking", "data": REDACTED}],
            "tool_calls": [{"id": "toolu_01Think", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"location\": \"Zürich\"}"}}]})
    );
    let finish: Vec<&Value> = chunks(&run)
        .iter()
        .filter_map(|c| c["choices"].get(0))
        .map(|c| &c["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
    assert_eq!(
        run.usage,
        Usage {
            implausible: false,
            cache_write: 300,
            input: 1520,
            output: 120,
            cache_read: 1200,
            reasoning: 0
        }
    );

    // The client sends the assembled message back with the tool result.
    let provider = Provider::new("claude", "anthropic", "api.anthropic.com");
    let target = TargetCtx {
        provider: &provider,
        model: "claude-sonnet-4-5",
        public_model: "smart",
        now_unix_secs: 0,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let next = json!({"model": "smart", "reasoning_effort": "low", "messages": [
        {"role": "user", "content": "Weather in Zürich?"},
        message,
        {"role": "tool", "tool_call_id": "toolu_01Think", "content": "12°C"}]});
    let (_, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&next).unwrap(), target).unwrap();
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": thinking, "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_01Think", "name": "get_weather", "input": {"location": "Zürich"}},
        ])
    );
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_01Think", "content": "12°C"}])
    );
}

#[test]
fn any_split_matches_whole() {
    for name in FIXTURES {
        common::assert_any_split_matches_whole(name, &fixture(name), run);
    }
}

#[test]
fn empty_final_call_and_late_bytes() {
    let input = fixture("text");
    let mut chat = translator(false);
    let BodyEdit::Replace(first) = chat.response_body(&input, false) else {
        panic!()
    };
    assert_eq!(chat.response_body(b"", true), BodyEdit::Replace(Vec::new()));
    assert_eq!(
        chat.response_body(b"data: {}\n\n", true),
        BodyEdit::Replace(Vec::new())
    );
    assert_eq!(parse_output(&first), run(&input, false, &[]).events);
}

#[test]
fn upstream_error_status_on_stream_request_is_buffered() {
    let mut chat = translator(false);
    let edit = chat.response_headers(529, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    assert_eq!(edit.status, Some(503));
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let BodyEdit::Replace(out) = chat.response_body(body, true) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["error"]["code"], json!("overloaded_error"));
    assert!(chat.failed());
}
