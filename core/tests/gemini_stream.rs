//! Gemini `streamGenerateContent?alt=sse` → OpenAI chunk translation,
//! driven by hand-written synthetic fixtures, including every way of
//! splitting each fixture into pieces; plus a multi-turn round trip of a
//! signed function call through an OpenAI client.

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
    "thoughts_crlf",
    "usage_last",
    "error_midstream",
    "truncated",
    "blocked",
];

/// Fixtures short enough to cut at every pair of offsets.
const SHORT: &[&str] = &["blocked", "truncated"];

fn provider() -> Provider {
    Provider::new("gem", "gemini", "generativelanguage.googleapis.com").with_key("k")
}

fn target(provider: &Provider) -> TargetCtx<'_> {
    TargetCtx {
        provider,
        model: "gemini-2.5-flash",
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    }
}

fn translator(include_usage: bool) -> Box<dyn Translator> {
    let provider = provider();
    let body = json!({"model": "smart", "stream": true, "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "hi"}]});
    let (mut chat, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target(&provider))
            .unwrap();
    assert_eq!(
        out.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
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
    common::fixture("gemini", name)
}

fn chunk(id: &str, delta: Value, finish: Value) -> Event {
    Event::Chunk(json!({
        "id": id, "object": "chat.completion.chunk",
        "created": 1_750_000_000u64, "model": "smart",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    }))
}

fn usage(input: u64, cache_read: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        implausible: false,
        input,
        cache_read,
        cache_write: 0,
        output,
        reasoning,
    }
}

#[test]
fn text_stream_exact_output() {
    let run = run(&fixture("text"), false, &[]);
    let id = "mM3aZ-synthetic-text";
    let want = vec![
        chunk(id, json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(id, json!({"content": "Grüß"}), Value::Null),
        chunk(
            id,
            json!({"content": " Gott, naïve “café” 🚀\n"}),
            Value::Null,
        ),
        chunk(id, json!({"content": "done."}), Value::Null),
        chunk(id, json!({}), json!("stop")),
        Event::Done,
    ];
    assert_eq!(run.events, want);
    assert_eq!(run.usage, usage(12, 0, 11, 0));
    assert!(!run.failed);
}

#[test]
fn include_usage_adds_a_final_usage_chunk() {
    let run = run(&fixture("usage_last"), true, &[]);
    assert!(!run.failed);
    assert_eq!(text_of(&run), "Short answer.");
    let all = chunks(&run);
    let (usage_chunk, before) = all.split_last().unwrap();
    for c in before {
        assert_eq!(c.get("usage"), Some(&Value::Null), "{c}");
    }
    assert_eq!(
        before.last().unwrap()["choices"][0]["finish_reason"],
        json!("stop")
    );
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(
        usage_chunk["usage"],
        json!({"prompt_tokens": 2048, "completion_tokens": 13, "total_tokens": 2061,
               "prompt_tokens_details": {"cached_tokens": 1024},
               "completion_tokens_details": {"reasoning_tokens": 10}})
    );
    assert_eq!(run.events.last(), Some(&Event::Done));
    assert_eq!(run.usage, usage(2048, 1024, 13, 10));
}

#[test]
fn parallel_tool_calls_with_thought_signature() {
    let run = run(&fixture("tool_calls"), false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let c = chunks(&run);
    assert_eq!(
        c[1]["choices"][0]["delta"],
        json!({"reasoning_content": "I will look up both cities."})
    );
    let deltas: Vec<&Value> = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert_eq!(deltas.len(), 4, "start + args for each call: {deltas:?}");
    let id0 = deltas[0]["id"].as_str().unwrap();
    let id1 = deltas[2]["id"].as_str().unwrap();
    assert!(id0.starts_with("call_") && id1.starts_with("call_") && id0 != id1);
    assert_eq!(
        deltas[0],
        &json!({"index": 0, "id": id0, "type": "function",
                "function": {"name": "lookup_forecast", "arguments": ""},
                "extra_content": {"google": {"thought_signature": "U3ludGhldGljU2lnbmF0dXJlT25l"}}})
    );
    assert_eq!(
        deltas[1],
        &json!({"index": 0, "function": {"arguments": "{\"place\":\"Zürich, CH\",\"days\":2}"}})
    );
    assert_eq!(
        deltas[2],
        &json!({"index": 1, "id": id1, "type": "function",
                "function": {"name": "lookup_forecast", "arguments": ""}})
    );
    assert_eq!(
        deltas[3],
        &json!({"index": 1, "function": {"arguments": "{\"place\":\"Lyon, FR\",\"days\":2}"}})
    );
    let finish: Vec<&Value> = c
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
    assert_eq!(run.events.last(), Some(&Event::Done));
    assert_eq!(run.usage, usage(85, 0, 57, 17));
}

#[test]
fn thoughts_and_crlf_framing() {
    let run = run(&fixture("thoughts_crlf"), false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let id = "th-syn-7";
    assert_eq!(
        run.events,
        vec![
            chunk(id, json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(
                id,
                json!({"reasoning_content": "Count the letters first."}),
                Value::Null
            ),
            chunk(
                id,
                json!({"reasoning_content": " Then compare."}),
                Value::Null
            ),
            chunk(id, json!({"content": "Three"}), Value::Null),
            chunk(id, json!({}), json!("length")),
            Event::Done,
        ]
    );
    assert_eq!(run.usage, usage(30, 0, 49, 48));
}

#[test]
fn error_object_ends_the_stream_with_an_openai_error() {
    let run = run(&fixture("error_midstream"), true, &[]);
    assert!(run.failed);
    assert!(!run.events.contains(&Event::Done));
    assert_eq!(text_of(&run), "Partial ans");
    let Some(Event::Chunk(last)) = run.events.last() else {
        panic!("no events")
    };
    assert_eq!(
        last,
        &json!({"error": {"message": "The model is overloaded. Please try again later.",
                          "type": "server_error", "param": null, "code": "unavailable"}})
    );
    assert_eq!(run.usage, usage(6, 0, 2, 0));
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
    assert!(last["error"]["message"]
        .as_str()
        .unwrap()
        .contains("before the reply was complete"));
    assert!(!run.events.contains(&Event::Done));
}

#[test]
fn blocked_prompt_is_a_content_filter_completion() {
    let run = run(&fixture("blocked"), false, &[]);
    assert!(!run.failed);
    let id = "bl-syn-5";
    let want = vec![
        chunk(id, json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(id, json!({}), json!("content_filter")),
        Event::Done,
    ];
    assert_eq!(run.events, want);
    assert_eq!(run.usage, usage(9, 0, 0, 0));
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
    let mut chat = translator(false);
    let edit = chat.response_headers(429, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    assert_eq!(edit.status, None);
    let body =
        br#"{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}"#;
    let BodyEdit::Replace(out) = chat.response_body(body, true) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v,
        json!({"error": {"message": "Quota exceeded.", "type": "rate_limit_error", "param": null,
                         "code": "resource_exhausted"}})
    );
    assert!(chat.failed());
}

/// The upstream request body for an OpenAI client's `body`.
fn gemini_request(body: &Value) -> Value {
    let provider = provider();
    let (_, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(body).unwrap(), target(&provider))
            .unwrap();
    serde_json::from_slice(&out.body.unwrap()).unwrap()
}

#[test]
fn signed_function_call_round_trips_through_an_openai_client() {
    // Turn 1: the client asks; Gemini answers with a signed call.
    let provider = provider();
    let first = json!({"model": "smart", "messages": [{"role": "user", "content": "Forecast for Zürich?"}],
        "tools": [{"type": "function", "function": {"name": "lookup_forecast",
            "parameters": {"type": "object", "properties": {"place": {"type": "string"}, "days": {"type": "integer"}}}}}]});
    let (mut chat, _) = modelmux_core::providers::chat_body(
        &serde_json::to_vec(&first).unwrap(),
        target(&provider),
    )
    .unwrap();
    chat.response_headers(200, &|_| None);
    let reply = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "lookup_forecast", "args": {"place": "Zürich", "days": 1}},
             "thoughtSignature": "Um91bmRUcmlwU2lnbmF0dXJl"}]},
        "finishReason": "STOP"}], "responseId": "rt-syn-1"});
    let BodyEdit::Replace(out) = chat.response_body(&serde_json::to_vec(&reply).unwrap(), true)
    else {
        panic!()
    };
    let completion: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        completion["choices"][0]["finish_reason"],
        json!("tool_calls")
    );
    let message = completion["choices"][0]["message"].clone();
    let call = &message["tool_calls"][0];
    assert_eq!(
        call["extra_content"],
        json!({"google": {"thought_signature": "Um91bmRUcmlwU2lnbmF0dXJl"}})
    );

    // Turn 2: the client sends the assistant message back as the OpenAI SDK
    // does (tool_calls with extra_content), plus the tool result.
    let mut second = first.clone();
    let messages = second["messages"].as_array_mut().unwrap();
    messages.push(message.clone());
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "{\"high\": 4}"}));
    let upstream = gemini_request(&second);
    assert_eq!(
        upstream["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Forecast for Zürich?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "lookup_forecast", "args": {"place": "Zürich", "days": 1}},
                 "thoughtSignature": "Um91bmRUcmlwU2lnbmF0dXJl"}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "lookup_forecast", "response": {"high": 4}}}]},
        ])
    );
}

#[test]
fn streamed_signed_call_round_trips_too() {
    let run = run(&fixture("tool_calls"), false, &[]);
    // Reassemble the assistant message from the deltas, as SDKs do.
    let mut calls: Vec<Value> = Vec::new();
    for c in chunks(&run) {
        for d in c["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = d["index"].as_u64().unwrap() as usize;
            if i == calls.len() {
                let mut call = json!({"id": d["id"], "type": "function",
                    "function": {"name": d["function"]["name"], "arguments": ""}});
                if let Some(extra) = d.get("extra_content") {
                    call["extra_content"] = extra.clone();
                }
                calls.push(call);
            } else {
                let args = calls[i]["function"]["arguments"]
                    .as_str()
                    .unwrap()
                    .to_string()
                    + d["function"]["arguments"].as_str().unwrap();
                calls[i]["function"]["arguments"] = json!(args);
            }
        }
    }
    let mut messages = vec![
        json!({"role": "user", "content": "Forecasts?"}),
        json!({"role": "assistant", "content": null, "tool_calls": calls}),
    ];
    for (k, call) in calls.iter().enumerate() {
        messages
            .push(json!({"role": "tool", "tool_call_id": call["id"], "content": format!("r{k}")}));
    }
    let upstream = gemini_request(&json!({"model": "smart", "messages": messages}));
    assert_eq!(
        upstream["contents"][1]["parts"],
        json!([
            {"functionCall": {"name": "lookup_forecast", "args": {"place": "Zürich, CH", "days": 2}},
             "thoughtSignature": "U3ludGhldGljU2lnbmF0dXJlT25l"},
            {"functionCall": {"name": "lookup_forecast", "args": {"place": "Lyon, FR", "days": 2}}},
        ])
    );
    assert_eq!(
        upstream["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "lookup_forecast", "response": {"result": "r0"}}},
            {"functionResponse": {"name": "lookup_forecast", "response": {"result": "r1"}}},
        ])
    );
}

#[test]
fn streamed_call_arguments_arrive_as_fragments_and_close_at_the_finish() {
    let native = [
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "willContinue": true}}]}}],
            "responseId": "pa-1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"partialArgs": [{"jsonPath": "$.city", "stringValue": "Os", "willContinue": true}],
                              "willContinue": true}}]}}], "responseId": "pa-1"}),
        // The end part never comes: the finish closes the call.
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"partialArgs": [{"jsonPath": "$.city", "stringValue": "lo"}],
                              "willContinue": true}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3}, "responseId": "pa-1"}),
    ];
    let input: String = native
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect();
    let run = run(input.as_bytes(), false, &[]);
    assert!(!run.failed);
    let args: Vec<String> = chunks(&run)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .map(str::to_string)
        .collect();
    // The start chunk carries the name and empty arguments, as OpenAI does.
    assert_eq!(args, vec!["", r#"{"#, r#""city":"Os"#, r#"lo""#, r#"}"#]);
    let whole: Value = serde_json::from_str(&args.concat()).unwrap();
    assert_eq!(whole, json!({"city": "Oslo"}));
    let finish = chunks(&run).last().unwrap()["choices"][0]["finish_reason"].clone();
    assert_eq!(finish, json!("tool_calls"));
}

#[test]
fn a_call_piece_without_a_started_call_is_an_error_not_a_crash() {
    let chunk = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"partialArgs": [{"jsonPath": "$.city", "stringValue": "x"}]}}]}}],
        "responseId": "pa-2"});
    let run = run(format!("data: {chunk}\r\n\r\n").as_bytes(), false, &[]);
    assert!(run.failed);
    let Some(Event::Chunk(last)) = run.events.last() else {
        panic!("no events")
    };
    assert_eq!(last["error"]["type"], json!("server_error"));
}
