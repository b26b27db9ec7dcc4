//! Reading a Messages or Responses client's output into the neutral
//! summary the chat runner compares ([`Neutral`]): text, reasoning, tool
//! calls, the finish mapped to chat's names, and usage in chat's
//! semantics.
//!
//! Quirks the mapping undoes:
//! * Anthropic's `input_tokens` excludes cache reads and writes; the
//!   neutral prompt count is their sum, `cached` the reads.
//! * Messages has no reasoning-token split, so its reasoning count is 0.
//! * Responses has no finish reason: `completed` with a `function_call`
//!   item is `tool_calls`, `incomplete` says why in `incomplete_details`.
//! * Streams carry usage whatever the client asked (there is no
//!   `include_usage`), so a complete stream always reports it.

use std::collections::BTreeMap;

use modelmux_core::dialect::Dialect;
use serde_json::Value;

use crate::sse;
use crate::summary::Tokens;

/// What a client of any dialect read, in chat's terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Neutral {
    pub text: String,
    pub reasoning: String,
    /// (id, name, arguments text), in order.
    pub calls: Vec<(String, String, String)>,
    pub finish: Option<String>,
    pub usage: Option<Tokens>,
    /// The error of a failed stream (or `response.failed`).
    pub error: Option<Value>,
    /// The stream ended as the dialect ends a complete one.
    pub done: bool,
}

/// A whole (non-streamed) body in `dialect`.
pub fn read_body(dialect: Dialect, v: &Value) -> Result<Neutral, String> {
    match dialect {
        Dialect::AnthropicMessages => message(v),
        Dialect::OpenAiResponses => response(v),
        Dialect::OpenAiChat => Err("chat bodies are read by summary.rs".into()),
    }
}

/// A stream in `dialect`.
pub fn read_stream(dialect: Dialect, out: &[u8]) -> Result<Neutral, String> {
    let events = sse::data_events(out)?
        .iter()
        .map(|d| serde_json::from_str(d).map_err(|e| format!("event {d:?} is not JSON: {e}")))
        .collect::<Result<Vec<Value>, String>>()?;
    match dialect {
        Dialect::AnthropicMessages => message_events(&events),
        Dialect::OpenAiResponses => response_events(&events),
        Dialect::OpenAiChat => Err("chat streams are read by summary.rs".into()),
    }
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

// ---- Anthropic Messages ----

fn stop_reason(r: &str) -> Result<String, String> {
    Ok(match r {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => return Err(format!("unknown stop_reason {other:?}")),
    }
    .to_string())
}

fn anthropic_usage(u: &Value) -> Tokens {
    let cached = n(&u["cache_read_input_tokens"]);
    let prompt = n(&u["input_tokens"]) + cached + n(&u["cache_creation_input_tokens"]);
    Tokens::new(prompt, n(&u["output_tokens"])).cached(cached)
}

fn message(v: &Value) -> Result<Neutral, String> {
    ensure_eq!(v["type"], "message", "type of {v}");
    ensure_eq!(v["role"], "assistant", "role of {v}");
    let mut out = Neutral::default();
    for b in v["content"].as_array().ok_or(format!("no content: {v}"))? {
        match b["type"].as_str() {
            Some("text") => out.text.push_str(b["text"].as_str().unwrap_or_default()),
            Some("thinking") => out
                .reasoning
                .push_str(b["thinking"].as_str().unwrap_or_default()),
            Some("redacted_thinking") => {}
            Some("tool_use") => {
                ensure!(
                    b["input"].is_object(),
                    "tool_use input is not an object: {b}"
                );
                out.calls
                    .push((s(&b["id"]), s(&b["name"]), b["input"].to_string()));
            }
            _ => return Err(format!("unexpected content block {b}")),
        }
    }
    out.finish = Some(stop_reason(v["stop_reason"].as_str().unwrap_or_default())?);
    out.usage = Some(anthropic_usage(&v["usage"]));
    out.done = true;
    Ok(out)
}

/// Content blocks by index as the events build them.
#[derive(Default)]
struct Block {
    kind: String,
    id: String,
    name: String,
    text: String,
    stopped: bool,
}

fn message_events(events: &[Value]) -> Result<Neutral, String> {
    let mut out = Neutral::default();
    let mut blocks: BTreeMap<u64, Block> = BTreeMap::new();
    let mut usage = Value::Object(Default::default());
    let mut started = false;
    for e in events {
        ensure!(
            !out.done && out.error.is_none(),
            "an event after the end: {e}"
        );
        let t = e["type"].as_str().unwrap_or_default();
        ensure!(
            started || t == "message_start" || t == "error",
            "{t} before message_start"
        );
        match t {
            "message_start" => {
                ensure!(!started, "a second message_start");
                started = true;
                merge(&mut usage, &e["message"]["usage"]);
            }
            "ping" => {}
            "content_block_start" => {
                let b = &e["content_block"];
                let i = n(&e["index"]);
                ensure!(!blocks.contains_key(&i), "block {i} started twice");
                ensure_eq!(i, blocks.len() as u64, "index of a new block");
                blocks.insert(
                    i,
                    Block {
                        kind: s(&b["type"]),
                        id: s(&b["id"]),
                        name: s(&b["name"]),
                        ..Block::default()
                    },
                );
            }
            "content_block_delta" => block_delta(&mut blocks, e)?,
            "content_block_stop" => {
                let b = blocks
                    .get_mut(&n(&e["index"]))
                    .ok_or(format!("stop of no block: {e}"))?;
                ensure!(!b.stopped, "block stopped twice: {e}");
                b.stopped = true;
            }
            "message_delta" => {
                if let Some(r) = e["delta"]["stop_reason"].as_str() {
                    ensure!(out.finish.is_none(), "a second stop_reason: {e}");
                    out.finish = Some(stop_reason(r)?);
                }
                merge(&mut usage, &e["usage"]);
            }
            "message_stop" => out.done = true,
            "error" => out.error = Some(e["error"].clone()),
            other => return Err(format!("unknown event type {other:?}")),
        }
    }
    collect_blocks(&mut out, blocks)?;
    if out.done {
        out.usage = Some(anthropic_usage(&usage));
    }
    Ok(out)
}

/// The finished blocks' text, reasoning and tool calls, in index order.
fn collect_blocks(out: &mut Neutral, blocks: BTreeMap<u64, Block>) -> Result<(), String> {
    for (i, b) in blocks {
        ensure!(b.stopped || !out.done, "block {i} never stopped");
        match b.kind.as_str() {
            "text" => out.text.push_str(&b.text),
            "thinking" => out.reasoning.push_str(&b.text),
            "tool_use" => {
                let args = if b.text.is_empty() {
                    "{}".to_string()
                } else {
                    b.text
                };
                out.calls.push((b.id, b.name, args));
            }
            "redacted_thinking" => {}
            other => return Err(format!("unexpected block type {other:?}")),
        }
    }
    Ok(())
}

fn block_delta(blocks: &mut BTreeMap<u64, Block>, e: &Value) -> Result<(), String> {
    let b = blocks
        .get_mut(&n(&e["index"]))
        .ok_or(format!("delta of no block: {e}"))?;
    ensure!(!b.stopped, "delta after block stop: {e}");
    let d = &e["delta"];
    let (want_kind, field) = match d["type"].as_str().unwrap_or_default() {
        "text_delta" => ("text", "text"),
        "thinking_delta" => ("thinking", "thinking"),
        "signature_delta" => return Ok(()),
        "input_json_delta" => ("tool_use", "partial_json"),
        other => return Err(format!("unknown delta type {other:?}")),
    };
    ensure_eq!(b.kind.as_str(), want_kind, "delta {d} in a block of type");
    b.text.push_str(d[field].as_str().unwrap_or_default());
    Ok(())
}

/// Usage fields seen later replace earlier ones (message_delta's counts
/// are cumulative).
fn merge(into: &mut Value, from: &Value) {
    for (k, v) in from.as_object().into_iter().flatten() {
        if !v.is_null() {
            into[k] = v.clone();
        }
    }
}

// ---- OpenAI Responses ----

fn responses_usage(u: &Value) -> Result<Tokens, String> {
    let t = Tokens::new(n(&u["input_tokens"]), n(&u["output_tokens"]))
        .cached(n(&u["input_tokens_details"]["cached_tokens"]))
        .reasoning(n(&u["output_tokens_details"]["reasoning_tokens"]));
    ensure_eq!(
        n(&u["total_tokens"]),
        t.prompt + t.completion,
        "total_tokens of {u}"
    );
    Ok(t)
}

fn response(v: &Value) -> Result<Neutral, String> {
    ensure_eq!(v["object"], "response", "object of {v}");
    let mut out = Neutral::default();
    for item in v["output"].as_array().ok_or(format!("no output: {v}"))? {
        match item["type"].as_str() {
            Some("message") => {
                for c in item["content"].as_array().into_iter().flatten() {
                    match c["type"].as_str() {
                        Some("output_text") => out.text.push_str(&s(&c["text"])),
                        Some("refusal") => {}
                        _ => return Err(format!("unexpected content part {c}")),
                    }
                }
            }
            Some("reasoning") => {
                for p in item["summary"].as_array().into_iter().flatten() {
                    out.reasoning.push_str(&s(&p["text"]));
                }
            }
            Some("function_call") => {
                out.calls
                    .push((s(&item["call_id"]), s(&item["name"]), s(&item["arguments"])));
            }
            _ => return Err(format!("unexpected output item {item}")),
        }
    }
    out.finish = Some(match v["status"].as_str() {
        Some("completed") if out.calls.is_empty() => "stop".to_string(),
        Some("completed") => "tool_calls".to_string(),
        Some("incomplete") => match v["incomplete_details"]["reason"].as_str() {
            Some("max_output_tokens") => "length".to_string(),
            Some("content_filter") => "content_filter".to_string(),
            other => return Err(format!("unknown incomplete reason {other:?}")),
        },
        other => return Err(format!("status {other:?} of a finished response")),
    });
    out.usage = Some(responses_usage(&v["usage"])?);
    out.done = true;
    Ok(out)
}

fn response_events(events: &[Value]) -> Result<Neutral, String> {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut error = None;
    let mut end = None;
    // Function calls by output index, as the added item and the argument
    // deltas build them.
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        ensure!(end.is_none(), "an event after the end: {e}");
        ensure_eq!(
            e["sequence_number"].as_u64(),
            Some(i as u64),
            "sequence_number of {e}"
        );
        match e["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" => text.push_str(&s(&e["delta"])),
            "response.reasoning_summary_text.delta" => reasoning.push_str(&s(&e["delta"])),
            "response.output_item.added" if e["item"]["type"] == "function_call" => {
                let item = &e["item"];
                let call = (s(&item["call_id"]), s(&item["name"]), s(&item["arguments"]));
                ensure!(
                    calls.insert(n(&e["output_index"]), call).is_none(),
                    "item added twice: {e}"
                );
            }
            "response.function_call_arguments.delta" => {
                let call = calls.get_mut(&n(&e["output_index"]));
                call.ok_or(format!("arguments of no call: {e}"))?
                    .2
                    .push_str(&s(&e["delta"]));
            }
            "response.completed" | "response.incomplete" => {
                ensure!(error.is_none(), "a finished response after an error: {e}");
                end = Some(response(&e["response"])?);
            }
            "response.failed" => {
                let failed = e["response"]["error"].clone();
                error = Some(error.unwrap_or(failed));
                end = Some(Neutral::default());
            }
            "error" => {
                ensure!(error.is_none(), "a second error event: {e}");
                error = Some(e.clone());
            }
            _ => ensure!(error.is_none(), "an event after the error: {e}"),
        }
    }
    let streamed = Streamed {
        text,
        reasoning,
        calls: calls.into_values().collect(),
        error,
    };
    finish_response(events, end, streamed)
}

/// What the delta events of a Responses stream said.
struct Streamed {
    text: String,
    reasoning: String,
    calls: Vec<(String, String, String)>,
    error: Option<Value>,
}

/// The stream's summary: a finished response must agree with its deltas.
fn finish_response(
    events: &[Value],
    end: Option<Neutral>,
    streamed: Streamed,
) -> Result<Neutral, String> {
    ensure!(
        events
            .first()
            .is_some_and(|e| e["type"] == "response.created"),
        "the stream does not start with response.created"
    );
    let mut out = end.unwrap_or_default();
    if out.done {
        ensure_eq!(
            streamed.text,
            out.text,
            "streamed text deltas vs the final response"
        );
        ensure_eq!(
            streamed.reasoning,
            out.reasoning,
            "streamed reasoning deltas vs the final response"
        );
        ensure_eq!(
            streamed.calls,
            out.calls,
            "streamed calls vs the final response"
        );
    }
    out.text = streamed.text;
    out.reasoning = streamed.reasoning;
    out.error = streamed.error;
    Ok(out)
}
