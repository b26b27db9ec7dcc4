//! A computed Gemini answer as one `GenerateContentResponse` or as the
//! chunks of `streamGenerateContent` (SSE with `alt=sse`, else a JSON array).
//!
//! Streams send the optional thought first, then the text word by word (a
//! function call in one piece, or, for Vertex's streamed arguments, as
//! `partialArgs`: the name with `willContinue`, one leaf value per chunk
//! with strings split in two, and an empty `functionCall` to end it);
//! every chunk has `usageMetadata` with the prompt count, and the last one
//! has `finishReason` and the full usage.

use serde_json::{json, Value};

use super::respond::{call_part, candidate, finish_reason, response, usage_json, Answer, Counts};
use super::status_error;
use crate::reply::{word_pieces, Outcome};

/// Everything needed to render one answer.
pub struct Built {
    pub n: u64,
    pub model: String,
    pub answer: Answer,
    pub thought: Option<String>,
    pub counts: Counts,
    /// Stream a function call's arguments as `partialArgs` (Vertex).
    pub partial_args: bool,
}

impl Built {
    fn thought_part(&self) -> Option<Value> {
        self.thought
            .as_ref()
            .map(|t| json!({"text": t, "thought": true}))
    }

    fn output(&self) -> u64 {
        match self.answer {
            Answer::Outcome(_) => self.counts.usage.output,
            _ => 0,
        }
    }

    fn wrap(&self, candidate: Option<Value>, done: bool) -> Value {
        let out = done.then(|| self.output());
        response(
            self.n,
            &self.model,
            candidate,
            usage_json(&self.counts, out),
        )
    }

    /// The final parts and finish reason of an outcome.
    fn last_parts(&self, outcome: &Outcome) -> (Vec<Value>, &'static str) {
        let part = match outcome {
            Outcome::Text { text, .. } => json!({"text": text}),
            Outcome::ToolCall { name, arguments } => call_part(&self.model, name, arguments),
        };
        (vec![part], finish_reason(outcome))
    }
}

/// The non-streaming response.
pub fn full(b: &Built) -> Value {
    let thought: Vec<Value> = b.thought_part().into_iter().collect();
    match &b.answer {
        Answer::Blocked => b.wrap(None, true),
        Answer::Filtered(reason) => b.wrap(Some(candidate(thought, Some(reason))), true),
        Answer::Outcome(outcome) => {
            let (parts, finish) = b.last_parts(outcome);
            let all = thought.into_iter().chain(parts).collect();
            b.wrap(Some(candidate(all, Some(finish))), true)
        }
    }
}

/// The chunks of a stream; with `stream_error` at most the first chunk,
/// then a google.rpc error.
pub fn chunks(b: &Built, stream_error: bool) -> Vec<Value> {
    let mut out = Vec::new();
    if let Answer::Outcome(outcome) = &b.answer {
        if let Some(t) = b.thought_part() {
            out.push(b.wrap(Some(candidate(vec![t], None)), false));
        }
        let (mut parts, finish) = b.last_parts(outcome);
        if let (Outcome::ToolCall { .. }, true) = (outcome, b.partial_args) {
            let (first, pieces) = partial_call(parts.pop().unwrap_or_default());
            out.push(b.wrap(Some(candidate(vec![first], None)), false));
            for piece in pieces {
                out.push(b.wrap(Some(candidate(vec![piece], None)), false));
            }
            parts = vec![json!({"functionCall": {}})];
        }
        if let Outcome::Text { text, .. } = outcome {
            let pieces = word_pieces(text);
            if let Some((last, rest)) = pieces.split_last() {
                for piece in rest {
                    out.push(b.wrap(Some(candidate(vec![json!({"text": piece})], None)), false));
                }
                parts = vec![json!({"text": last})];
            }
        }
        out.push(b.wrap(Some(candidate(parts, Some(finish))), true));
    } else {
        out.push(full(b));
    }
    if stream_error {
        out.truncate(if out.len() > 1 { 1 } else { 0 });
        out.push(status_error(500));
    }
    out
}

/// A whole `functionCall` part as Vertex streams it: the first part (name,
/// signature, `willContinue`) and the argument parts, one leaf each.
fn partial_call(part: Value) -> (Value, Vec<Value>) {
    let call = &part["functionCall"];
    let mut first = json!({"functionCall": {"name": call["name"], "willContinue": true}});
    if let Some(sig) = part.get("thoughtSignature") {
        first["thoughtSignature"] = sig.clone();
    }
    let mut leaves = Vec::new();
    leaves_of(&call["args"], "$".to_string(), &mut leaves);
    let mut pieces = Vec::new();
    for (path, value) in leaves {
        let args = match value.as_str() {
            Some(s) if s.chars().count() > 1 => {
                let mid = s.chars().count() / 2;
                let head: String = s.chars().take(mid).collect();
                let tail: String = s.chars().skip(mid).collect();
                vec![
                    json!({"jsonPath": path, "stringValue": head, "willContinue": true}),
                    json!({"jsonPath": path, "stringValue": tail}),
                ]
            }
            Some(s) => vec![json!({"jsonPath": path, "stringValue": s})],
            None => vec![match value {
                Value::Number(n) => json!({"jsonPath": path, "numberValue": n}),
                Value::Bool(b) => json!({"jsonPath": path, "boolValue": b}),
                _ => json!({"jsonPath": path, "nullValue": null}),
            }],
        };
        for a in args {
            pieces.push(json!({"functionCall": {"partialArgs": [a], "willContinue": true}}));
        }
    }
    (first, pieces)
}

/// The leaf values of `v` with their JSON paths, in document order.
fn leaves_of(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves_of(x, format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves_of(x, format!("{path}[{i}]"), out);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

/// SSE events: `data: <json>\r\n\r\n`, as the real API frames them.
pub fn sse(chunks: &[Value]) -> Vec<Vec<u8>> {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n").into_bytes())
        .collect()
}

/// The chunks as one JSON array (`streamGenerateContent` without `alt=sse`).
pub fn json_array(chunks: &[Value]) -> Vec<u8> {
    let items: Vec<String> = chunks.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(",\r\n")).into_bytes()
}
