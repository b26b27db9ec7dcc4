//! The SSE stream of a Responses request: `event: <type>` plus `data:`
//! with the same `type` and a `sequence_number` counting from 0, no
//! `[DONE]`. Order, as the API sends it: `response.created`,
//! `response.in_progress`, `response.output_item.added`, then for text
//! `response.content_part.added`, `response.output_text.delta`...,
//! `response.output_text.done`, `response.content_part.done`, or for a call
//! `response.function_call_arguments.delta`...,
//! `response.function_call_arguments.done`; then
//! `response.output_item.done` and `response.completed` (or
//! `response.incomplete` after a length cut). A reasoning item (see
//! `respond::reasoning_item`) comes first at `output_index` 0, as
//! `response.output_item.added` and `.done` only. With a stream fault the
//! stream ends with `response.failed` after the first delta.

use serde_json::{json, Map, Value};

use super::respond::{
    call_item_id, message_id, output_item, reasoning_item, response, status, text_part,
};
use crate::reply::{byte_pieces, word_pieces, Outcome, Usage};

struct Events {
    seq: u64,
    out: Vec<Vec<u8>>,
}

impl Events {
    fn push(&mut self, mut v: Value) {
        v["sequence_number"] = Value::from(self.seq);
        self.seq += 1;
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        self.out
            .push(format!("event: {ty}\ndata: {v}\n\n").into_bytes());
    }
}

/// All events of a streamed response.
pub fn events(
    n: u64,
    body: &Map<String, Value>,
    outcome: &Outcome,
    usage: &Usage,
    stream_error: bool,
) -> Vec<Vec<u8>> {
    let mut ev = Events {
        seq: 0,
        out: Vec::new(),
    };
    let started = response(n, body, "in_progress", Vec::new(), None);
    ev.push(json!({"type": "response.created", "response": started}));
    ev.push(json!({"type": "response.in_progress", "response": started}));
    let mut items = Vec::new();
    if let Some(r) = reasoning_item(n, body) {
        let mut added = r.clone();
        added["encrypted_content"] = Value::Null;
        ev.push(json!({"type": "response.output_item.added", "output_index": 0, "item": added}));
        ev.push(json!({"type": "response.output_item.done", "output_index": 0, "item": r}));
        items.push(r);
    }
    let at = items.len() as u64;
    let done = output_item(n, outcome);
    let completed = match outcome {
        Outcome::Text { text, .. } => text_events(&mut ev, n, at, text, stream_error),
        Outcome::ToolCall { name, arguments } => {
            call_events(&mut ev, n, at, name, arguments, stream_error)
        }
    };
    if !completed {
        let mut failed = response(n, body, "failed", Vec::new(), None);
        failed["error"] = json!({"code": "server_error", "message": "mock stream error"});
        ev.push(json!({"type": "response.failed", "response": failed}));
        return ev.out;
    }
    ev.push(json!({"type": "response.output_item.done", "output_index": at, "item": done}));
    items.push(done);
    let (st, _) = status(outcome);
    let fin = response(n, body, st, items, Some(usage));
    ev.push(json!({"type": format!("response.{st}"), "response": fin}));
    ev.out
}

/// Text item events; false when cut by a stream fault.
fn text_events(ev: &mut Events, n: u64, at: u64, text: &str, stream_error: bool) -> bool {
    let id = message_id(n);
    let item = json!({"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []});
    ev.push(json!({"type": "response.output_item.added", "output_index": at, "item": item}));
    let at = json!({"item_id": id, "output_index": at, "content_index": 0});
    let with = |ty: &str, extra: Value| {
        let mut v = at.clone();
        v["type"] = Value::from(ty);
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    };
    ev.push(with(
        "response.content_part.added",
        json!({"part": text_part("")}),
    ));
    for (i, piece) in word_pieces(text).into_iter().enumerate() {
        if stream_error && i == 1 {
            return false;
        }
        ev.push(with(
            "response.output_text.delta",
            json!({"delta": piece, "logprobs": []}),
        ));
    }
    ev.push(with(
        "response.output_text.done",
        json!({"text": text, "logprobs": []}),
    ));
    ev.push(with(
        "response.content_part.done",
        json!({"part": text_part(text)}),
    ));
    true
}

/// Function call item events; false when cut by a stream fault.
fn call_events(
    ev: &mut Events,
    n: u64,
    at: u64,
    name: &str,
    arguments: &str,
    stream_error: bool,
) -> bool {
    let id = call_item_id(n);
    let item = json!({
        "id": id, "type": "function_call", "status": "in_progress",
        "arguments": "", "call_id": format!("call_mock_{n}"), "name": name,
    });
    ev.push(json!({"type": "response.output_item.added", "output_index": at, "item": item}));
    for (i, piece) in byte_pieces(arguments, 5).into_iter().enumerate() {
        if stream_error && i == 1 {
            return false;
        }
        ev.push(json!({
            "type": "response.function_call_arguments.delta",
            "item_id": id, "output_index": at, "delta": piece,
        }));
    }
    ev.push(json!({
        "type": "response.function_call_arguments.done",
        "item_id": id, "output_index": at, "name": name, "arguments": arguments,
    }));
    true
}
