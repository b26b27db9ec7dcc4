//! A computed answer as a `/v2/chat` response or as its typed SSE events.
//!
//! Streams: `message-start`, then per content item `content-start`, one
//! `content-delta` per word, `content-end`; a tool call is a
//! `tool-plan-delta`, `tool-call-start` (empty arguments), the arguments in
//! two `tool-call-delta`s and `tool-call-end`; last `message-end` with the
//! finish reason and usage.

use serde_json::{json, Value};

use super::respond::{Built, TEMPLATE_TOKENS};
use crate::reply::{word_pieces, Finish, Outcome};

fn id(n: u64) -> String {
    format!("c0a1e5e0-0000-4000-8000-{n:012x}")
}

fn usage(b: &Built) -> Value {
    let input = b.usage.input + b.usage.cached;
    let mut u = json!({
        "billed_units": {"input_tokens": input, "output_tokens": b.usage.output},
        "tokens": {"input_tokens": input + TEMPLATE_TOKENS, "output_tokens": b.usage.output},
    });
    if b.usage.cached > 0 {
        u["cached_tokens"] = json!(b.usage.cached);
    }
    u
}

fn finish_reason(o: &Outcome) -> &'static str {
    match o {
        Outcome::ToolCall { .. } => "TOOL_CALL",
        Outcome::Text { finish, .. } => match finish {
            Finish::Stop => "COMPLETE",
            Finish::StopSequence(_) => "STOP_SEQUENCE",
            Finish::Length => "MAX_TOKENS",
        },
    }
}

fn call_id(name: &str, n: u64) -> String {
    format!("{name}_{n}")
}

fn plan(name: &str) -> String {
    format!("I will call {name}.")
}

/// The non-streaming response.
pub fn full(b: &Built) -> Value {
    let mut content: Vec<Value> = b
        .thinking
        .iter()
        .map(|t| json!({"type": "thinking", "thinking": t}))
        .collect();
    let mut message = json!({"role": "assistant"});
    match &b.outcome {
        Outcome::Text { text, .. } => content.push(json!({"type": "text", "text": text})),
        Outcome::ToolCall { name, arguments } => {
            message["tool_plan"] = json!(plan(name));
            message["tool_calls"] = json!([{"id": call_id(name, b.n), "type": "function",
                "function": {"name": name, "arguments": arguments}}]);
        }
    }
    if !content.is_empty() {
        message["content"] = Value::Array(content);
    }
    json!({"id": id(b.n), "message": message, "finish_reason": finish_reason(&b.outcome),
           "usage": usage(b)})
}

/// A 200 whose generation failed.
pub fn failed(n: u64, error: &str) -> Value {
    json!({"id": id(n), "message": {"role": "assistant", "content": []},
           "finish_reason": "ERROR", "error": error})
}

fn start(n: u64) -> Value {
    json!({"id": id(n), "type": "message-start", "delta": {"message": {"role": "assistant",
           "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}})
}

fn end_error(error: &str) -> Value {
    json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": error}})
}

/// A stream whose generation failed at once.
pub fn failed_stream(n: u64, error: &str) -> Vec<Value> {
    vec![start(n), end_error(error)]
}

fn content_item(out: &mut Vec<Value>, index: usize, kind: &str, text: &str) {
    out.push(json!({"type": "content-start", "index": index,
                    "delta": {"message": {"content": {"type": kind, kind: ""}}}}));
    for piece in word_pieces(text) {
        out.push(json!({"type": "content-delta", "index": index,
                        "delta": {"message": {"content": {kind: piece}}}}));
    }
    out.push(json!({"type": "content-end", "index": index}));
}

fn tool_call(out: &mut Vec<Value>, n: u64, name: &str, arguments: &str) {
    out.push(json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": plan(name)}}}));
    out.push(json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls":
        {"id": call_id(name, n), "type": "function", "function": {"name": name, "arguments": ""}}}}}));
    let mid = (0..=arguments.len() / 2)
        .rev()
        .find(|i| arguments.is_char_boundary(*i))
        .unwrap_or(0);
    for piece in [&arguments[..mid], &arguments[mid..]] {
        out.push(
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message":
            {"tool_calls": {"function": {"arguments": piece}}}}}),
        );
    }
    out.push(json!({"type": "tool-call-end", "index": 0}));
}

/// The events of a stream; with `stream_error` the generation fails after
/// the first delta.
pub fn events(b: &Built, stream_error: bool) -> Vec<Value> {
    let mut out = vec![start(b.n)];
    let mut index = 0;
    if let Some(t) = &b.thinking {
        content_item(&mut out, index, "thinking", t);
        index += 1;
    }
    match &b.outcome {
        Outcome::Text { text, .. } => content_item(&mut out, index, "text", text),
        Outcome::ToolCall { name, arguments } => tool_call(&mut out, b.n, name, arguments),
    }
    if stream_error {
        out.truncate(3);
        out.push(end_error(
            "internal server error, this has been reported to our developers",
        ));
        return out;
    }
    out.push(
        json!({"type": "message-end", "delta": {"finish_reason": finish_reason(&b.outcome),
                    "usage": usage(b)}}),
    );
    out
}

/// `event: <type>\ndata: <json>\n\n`, as the real API frames them.
pub fn sse(events: &[Value]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|e| {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
            format!("event: {kind}\ndata: {e}\n\n").into_bytes()
        })
        .collect()
}
