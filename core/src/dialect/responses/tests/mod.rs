//! Tests of the Responses dialect: decoding, the whole-reply encoder, the
//! stream and the reasoning state round trip.

mod decode;
mod encode;
mod roundtrip;
mod stream;

use serde_json::{json, Map, Value};

use crate::openai::{ChatMessage, ChatRequest, ContentPart, PartType, TextOr};

/// A decoded message as JSON, for comparing as values.
pub fn message_json(m: &ChatMessage<'_>) -> Value {
    let mut o = Map::new();
    o.insert("role".into(), json!(format!("{:?}", m.role).to_lowercase()));
    match &m.content {
        Some(TextOr::Text(t)) => {
            o.insert("content".into(), json!(t));
        }
        Some(TextOr::Items(parts)) => {
            o.insert("content".into(), parts.iter().map(part_json).collect());
        }
        None => {}
    }
    if let Some(id) = &m.tool_call_id {
        o.insert("tool_call_id".into(), json!(id));
    }
    if let Some(calls) = &m.tool_calls {
        let calls: Vec<Value> = calls
            .iter()
            .map(|c| {
                let mut v =
                    json!({"id": c.id, "name": c.function.name, "arguments": c.function.arguments});
                if let Some(sig) = c.thought_signature() {
                    v["thought_signature"] = json!(sig);
                }
                v
            })
            .collect();
        o.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(blocks) = &m.thinking_blocks {
        let blocks: Vec<Value> = blocks
            .iter()
            .map(|b| json!({"type": b.kind, "thinking": b.thinking, "signature": b.signature, "data": b.data}))
            .collect();
        o.insert("thinking_blocks".into(), Value::Array(blocks));
    }
    Value::Object(o)
}

fn part_json(p: &ContentPart<'_>) -> Value {
    match p.kind {
        PartType::Text => json!({"text": p.text}),
        PartType::Refusal => json!({"refusal": p.refusal}),
        PartType::ImageUrl => {
            let i = p.image_url.as_ref();
            json!({"image_url": i.map(|i| &i.url), "detail": i.and_then(|i| i.detail.as_ref())})
        }
        PartType::File => {
            let f = p.file.as_ref();
            json!({"file_data": f.and_then(|f| f.file_data.as_ref()),
                   "file_id": f.and_then(|f| f.file_id.as_ref()),
                   "filename": f.and_then(|f| f.filename.as_ref())})
        }
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn messages_json(r: &ChatRequest<'_>) -> Value {
    r.messages().iter().map(message_json).collect()
}
