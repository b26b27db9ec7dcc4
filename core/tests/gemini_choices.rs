//! OpenAI's `n` on Gemini: `candidateCount` in the request, one choice per
//! candidate in whole replies, and streams whose chunks interleave the
//! candidates (driven by a synthetic fixture, cut at every byte).

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::Provider;
use modelmux_core::providers::{BodyEdit, BodyMode, TargetCtx, Translator};
use modelmux_core::usage::Usage;
use serde_json::{json, Value};

mod common;

fn fixture(name: &str) -> Vec<u8> {
    common::fixture("gemini", name)
}

fn provider() -> Provider {
    Provider::new("gem", "gemini", "generativelanguage.googleapis.com").with_key("k")
}

/// Starts a chat for the client body `extra` + one user message.
fn start(extra: Value) -> Result<(Box<dyn Translator>, Value), modelmux_core::error::ApiError> {
    let provider = provider();
    let target = TargetCtx {
        provider: &provider,
        model: "gemini-2.5-flash",
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let mut body = json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (chat, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target)?;
    Ok((chat, serde_json::from_slice(&out.body.unwrap()).unwrap()))
}

#[test]
fn n_becomes_candidate_count() {
    let (_, up) = start(json!({"n": 3})).unwrap();
    assert_eq!(up["generationConfig"], json!({"candidateCount": 3}));
    let (_, up) = start(json!({"n": 2, "temperature": 0.5})).unwrap();
    assert_eq!(
        up["generationConfig"],
        json!({"candidateCount": 2, "temperature": 0.5})
    );
    for one in [json!({"n": 1}), json!({})] {
        let (_, up) = start(one).unwrap();
        assert_eq!(up.get("generationConfig"), None, "{up}");
    }
    let e = start(json!({"n": 0})).err().unwrap();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("n")));
}

/// A whole exchange for `n: 2`: the client's body and whether it failed.
fn whole(native: &Value) -> (Value, bool) {
    let (mut chat, _) = start(json!({"n": 2})).unwrap();
    assert_eq!(chat.response_headers(200, &|_| None).mode, BodyMode::Buffer);
    let bytes = match chat.response_body(&serde_json::to_vec(native).unwrap(), true) {
        BodyEdit::Replace(b) | BodyEdit::Fail { body: b, .. } => b,
        BodyEdit::Keep => panic!("body kept"),
    };
    (serde_json::from_slice(&bytes).unwrap(), chat.failed())
}

#[test]
fn each_candidate_is_a_choice_sorted_by_index() {
    // The second candidate comes first; the first has no `index` (0).
    let native = json!({"candidates": [
        {"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
             "thoughtSignature": "U2ln"}]},
         "finishReason": "STOP", "index": 1},
        {"content": {"role": "model", "parts": [{"text": "Sunny, "}, {"text": "probably."}]},
         "finishReason": "MAX_TOKENS"}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 9, "totalTokenCount": 19},
        "responseId": "two-1"});
    let (v, failed) = whole(&native);
    assert!(!failed, "{v}");
    let choices = v["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2, "{v}");
    assert_eq!(
        choices[0],
        json!({"index": 0, "message": {"role": "assistant", "content": "Sunny, probably."},
               "finish_reason": "length", "logprobs": null})
    );
    let call = &choices[1]["message"]["tool_calls"][0];
    let id = call["id"].as_str().unwrap();
    assert!(id.starts_with("call_") && id.ends_with("_1_0"), "{id}");
    assert_eq!(
        choices[1],
        json!({"index": 1, "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
             "extra_content": {"google": {"thought_signature": "U2ln"}}}]},
         "finish_reason": "tool_calls", "logprobs": null})
    );
    assert_eq!(v["usage"]["completion_tokens"], 9);
}

#[test]
fn two_candidates_with_one_index_are_not_a_response() {
    let c = json!({"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": "STOP"});
    let (v, failed) = whole(&json!({"candidates": [c, c], "responseId": "dup"}));
    assert!(failed);
    assert_eq!(v["error"]["type"], "server_error", "{v}");
}

#[derive(Debug, PartialEq)]
struct Run {
    events: Vec<Value>,
    usage: Usage,
    failed: bool,
}

/// Streams `input` cut at `cuts` through a chat of `n` choices.
fn run(input: &[u8], n: u32, include_usage: bool, cuts: &[usize]) -> Run {
    let (mut chat, _) = start(json!({"n": n, "stream": true,
        "stream_options": {"include_usage": include_usage}}))
    .unwrap();
    assert_eq!(chat.response_headers(200, &|_| None).mode, BodyMode::Stream);
    let r = common::run(chat, input, cuts);
    let events = r.events.into_iter().map(|e| match e {
        common::Event::Chunk(v) => v,
        common::Event::Done => json!("[DONE]"),
    });
    Run {
        events: events.collect(),
        usage: r.usage,
        failed: r.failed,
    }
}

fn chunk(index: u32, delta: Value, finish: Value) -> Value {
    json!({"id": "mc-syn-2", "object": "chat.completion.chunk",
           "created": 1_750_000_000u64, "model": "smart",
           "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}

#[test]
fn interleaved_candidates_stream_as_indexed_choices() {
    let run = run(&fixture("choices"), 2, false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let id = run.events[4]["choices"][0]["delta"]["tool_calls"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("call_") && id.ends_with("_1_0"), "{id}");
    let role = json!({"role": "assistant", "content": ""});
    let none = Value::Null;
    let want = vec![
        chunk(0, role.clone(), none.clone()),
        chunk(0, json!({"content": "Paris"}), none.clone()),
        chunk(1, role, none.clone()),
        chunk(
            1,
            json!({"reasoning_content": "Check the tool."}),
            none.clone(),
        ),
        chunk(
            1,
            json!({"tool_calls": [{"index": 0, "id": id, "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
                "extra_content": {"google": {"thought_signature": "U2lnQ2hvaWNlT25l"}}}]}),
            none.clone(),
        ),
        chunk(
            1,
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}}]}),
            none.clone(),
        ),
        chunk(
            0,
            json!({"content": " is the capital, naïvely “sure”."}),
            none.clone(),
        ),
        chunk(0, json!({"content": "!"}), none),
        chunk(0, json!({}), json!("stop")),
        chunk(1, json!({}), json!("tool_calls")),
        json!("[DONE]"),
    ];
    assert_eq!(run.events, want);
    let usage = Usage {
        input: 20,
        output: 35,
        reasoning: 5,
        ..Usage::default()
    };
    assert_eq!(run.usage, usage);
}

#[test]
fn the_usage_chunk_follows_every_choice() {
    let run = run(&fixture("choices"), 2, true, &[]);
    assert!(!run.failed);
    let n = run.events.len();
    assert_eq!(run.events[n - 1], json!("[DONE]"));
    assert_eq!(run.events[n - 2]["choices"], json!([]));
    assert_eq!(run.events[n - 2]["usage"]["completion_tokens"], 35);
    assert_eq!(run.events[n - 3]["choices"][0]["index"], 1);
    for e in &run.events[..n - 2] {
        assert_eq!(e["usage"], Value::Null, "{e}");
        assert_eq!(e["choices"].as_array().unwrap().len(), 1, "{e}");
    }
}

#[test]
fn a_stream_ends_only_when_every_candidate_has() {
    let input = fixture("choices");
    let text = std::str::from_utf8(&input).unwrap();
    let last = text.trim_end().rfind("data: ").unwrap();
    let cut = run(&input[..last], 2, false, &[]);
    assert!(cut.failed);
    let end = cut.events.last().unwrap();
    assert_eq!(end["error"]["type"], "server_error", "{end}");
    assert!(!cut.events.contains(&json!("[DONE]")));
    // Asked for one candidate, the first finish ends the stream.
    let one = run(&input[..last], 1, false, &[]);
    assert!(!one.failed, "{:?}", one.events);
    assert_eq!(one.events.last(), Some(&json!("[DONE]")));
}

#[test]
fn every_split_matches_whole() {
    let input = fixture("choices");
    for include_usage in [false, true] {
        let whole = run(&input, 2, include_usage, &[]);
        for cut in 0..=input.len() {
            assert_eq!(run(&input, 2, include_usage, &[cut]), whole, "cut at {cut}");
        }
        let cuts: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run(&input, 2, include_usage, &cuts),
            whole,
            "byte at a time"
        );
    }
}

#[test]
fn a_blocked_prompt_filters_every_choice_asked_for() {
    let native = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                        "usageMetadata": {"promptTokenCount": 6, "totalTokenCount": 6},
                        "responseId": "blk-n"});
    let (out, failed) = whole(&native);
    assert!(!failed, "{out}");
    let choices: Vec<(Value, Value, Value)> = out["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["index"].clone(),
                c["finish_reason"].clone(),
                c["message"]["content"].clone(),
            )
        })
        .collect();
    let filtered = |i: u32| (json!(i), json!("content_filter"), json!(""));
    assert_eq!(choices, vec![filtered(0), filtered(1)]);
    assert_eq!(out["usage"]["prompt_tokens"], json!(6));
}

#[test]
fn a_blocked_prompt_stream_finishes_every_choice() {
    let input = "data: {\"promptFeedback\": {\"blockReason\": \"SAFETY\"},\"usageMetadata\": {\"promptTokenCount\": 6},\"responseId\": \"blk-s\"}\r\n\r\n";
    let run = run(input.as_bytes(), 2, true, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let finishes: Vec<(Value, Value)> = run
        .events
        .iter()
        .filter_map(|e| e["choices"].as_array().and_then(|c| c.first()))
        .filter(|c| !c["finish_reason"].is_null())
        .map(|c| (c["index"].clone(), c["finish_reason"].clone()))
        .collect();
    let filtered = |i: u32| (json!(i), json!("content_filter"));
    assert_eq!(finishes, vec![filtered(0), filtered(1)]);
    assert_eq!(run.events.last(), Some(&json!("[DONE]")));
    assert_eq!(run.usage.input, 6);
}
