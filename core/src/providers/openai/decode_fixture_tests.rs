//! The contract suite's OpenAI and Azure fixtures decoded by this codec and
//! written back by the OpenAI chat encoder: OpenAI → neutral → OpenAI must
//! keep what a client reads (text, reasoning, tool calls, finish reasons,
//! usage), as values, at every byte split for streams.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::dialect::Dialect;
use crate::events::Meta;
use crate::providers::decoded::Decoded;
use crate::providers::{BodyEdit, Outcome, Translator};

fn fixtures(provider: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/contract")
        .join(provider);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("error_")
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() > 5, "{dir:?}");
    out
}

fn translator(stream: bool, normalize: Normalize) -> Decoded<OpenAiCodec> {
    let meta = Meta {
        model: "public".into(),
        created: 1,
        include_usage: true,
        encrypted_reasoning: false,
    };
    let enc = Dialect::OpenAiChat.encoder(meta);
    Decoded::new(OpenAiCodec::new(normalize), enc, stream)
}

fn usage_of(u: &Value) -> Value {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    json!([
        n(&u["prompt_tokens"]),
        n(&u["completion_tokens"]),
        n(&u["prompt_tokens_details"]["cached_tokens"]),
        n(&u["completion_tokens_details"]["reasoning_tokens"]),
    ])
}

fn text(v: &Value) -> Value {
    match v.as_str() {
        Some("") | None => Value::Null,
        Some(s) => json!(s),
    }
}

/// What a client reads from a `chat.completion`, per choice index.
fn summary(v: &Value) -> Value {
    let mut choices = BTreeMap::new();
    for c in v["choices"].as_array().unwrap() {
        let m = &c["message"];
        let calls: Vec<Value> = m["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let args: Value =
                    serde_json::from_str(t["function"]["arguments"].as_str().unwrap())
                        .unwrap_or(Value::Null);
                json!([t["id"], t["function"]["name"], args])
            })
            .collect();
        let body = json!([
            text(&m["content"]),
            text(&m["reasoning_content"]),
            calls,
            c["finish_reason"]
        ]);
        choices.insert(c["index"].as_u64().unwrap(), body);
    }
    json!({"choices": choices, "usage": usage_of(&v["usage"])})
}

/// What a client reads from a chunk stream, per choice index.
fn stream_summary(sse: &str) -> Value {
    let mut choices: BTreeMap<u64, (String, String, BTreeMap<u64, Value>, Value)> = BTreeMap::new();
    let mut usage = Value::Null;
    let mut errors = 0;
    for data in sse
        .split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: "))
    {
        if data == "[DONE]" {
            continue;
        }
        let chunk: Value = serde_json::from_str(data).unwrap();
        if !chunk["error"].is_null() {
            errors += 1;
            continue;
        }
        if !chunk["usage"].is_null() {
            usage = usage_of(&chunk["usage"]);
        }
        for c in chunk["choices"].as_array().unwrap() {
            let e = choices.entry(c["index"].as_u64().unwrap()).or_default();
            let d = &c["delta"];
            e.0.push_str(d["content"].as_str().unwrap_or(""));
            e.1.push_str(d["reasoning_content"].as_str().unwrap_or(""));
            for t in d["tool_calls"].as_array().into_iter().flatten() {
                let call = e.2.entry(t["index"].as_u64().unwrap()).or_insert_with(
                    || json!({"id": t["id"], "name": t["function"]["name"], "args": ""}),
                );
                let more = t["function"]["arguments"].as_str().unwrap_or("");
                let args = format!("{}{more}", call["args"].as_str().unwrap());
                call["args"] = json!(args);
            }
            if !c["finish_reason"].is_null() {
                e.3 = c["finish_reason"].clone();
            }
        }
    }
    let choices: BTreeMap<u64, Value> = choices
        .into_iter()
        .map(|(i, (t, r, calls, f))| (i, json!([t, r, calls.into_values().collect::<Vec<_>>(), f])))
        .collect();
    json!({"choices": choices, "usage": usage, "errors": errors})
}

fn run_stream(body: &[u8], at: usize, normalize: Normalize) -> (Vec<u8>, Outcome) {
    let mut t = translator(true, normalize);
    t.response_headers(200, &|_| None);
    let mut out = Vec::new();
    let (a, b) = body.split_at(at.min(body.len()));
    for (part, end) in [(a, false), (b, true)] {
        if let BodyEdit::Replace(bytes) = t.response_body(part, end) {
            out.extend(bytes);
        }
    }
    (out, t.outcome())
}

fn check(provider: &str, normalize: Normalize) {
    for (name, body) in fixtures(provider) {
        if name.ends_with(".json") {
            let mut t = translator(false, normalize);
            t.response_headers(200, &|_| None);
            let BodyEdit::Replace(out) = t.response_body(&body, true) else {
                panic!("{name}: not replaced")
            };
            let native: Value = serde_json::from_slice(&body).unwrap();
            let client: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(summary(&client), summary(&native), "{provider}/{name}");
            assert_eq!(client["model"], "public", "{name}");
            continue;
        }
        let whole = run_stream(&body, usize::MAX, normalize);
        for at in 0..=body.len() {
            assert_eq!(
                run_stream(&body, at, normalize),
                whole,
                "{provider}/{name} split {at}"
            );
        }
        let (out, outcome) = whole;
        let client = stream_summary(std::str::from_utf8(&out).unwrap());
        let native = stream_summary(std::str::from_utf8(&body).unwrap());
        let cause = outcome.failure.map(|f| f.cause);
        match name.as_str() {
            "truncated.sse" => {
                assert_eq!(cause, Some(Cause::Truncated), "{name}");
                assert_eq!(client["errors"], 1, "{name}");
                assert_eq!(client["choices"], native["choices"], "{name}");
            }
            "mid_stream_error.sse" => {
                assert_eq!(cause, Some(Cause::ErrorEvent), "{name}");
                assert_eq!(client["errors"], 1, "{name}");
                assert_eq!(client["choices"], native["choices"], "{name}");
            }
            _ => {
                assert_eq!(cause, None, "{name}");
                assert_eq!(client, native, "{provider}/{name}");
            }
        }
    }
}

#[test]
fn openai_fixtures_survive_the_round_trip() {
    check("openai", crate::providers::openai::normalize_upstream_error);
}

#[test]
fn azure_fixtures_survive_the_round_trip() {
    check("azure", crate::providers::azure::normalize);
}
