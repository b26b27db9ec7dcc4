//! Anthropic's own stream, decoded into neutral events and written again
//! by the Messages encoder, is the same event sequence (as JSON values) at
//! every byte split: the encoder loses nothing the decoder keeps.

use serde_json::{json, Value};

use crate::dialect::Dialect;
use crate::events::Meta;
use crate::providers::anthropic::AnthropicCodec;
use crate::providers::decoded::Decoded;
use crate::providers::{BodyEdit, Translator};
use crate::sse::{SseFramer, SseItem};

fn events() -> Vec<Value> {
    let usage = |i: u64, w: u64, r: u64, o: u64| json!({"input_tokens": i, "cache_creation_input_tokens": w, "cache_read_input_tokens": r, "output_tokens": o});
    vec![
        json!({"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant",
            "model": "claude-public", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": usage(12, 100, 2000, 1)}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm, \u{00e9}t\u{00e9} \"quoted\"\n"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCkgIARAB/+=="}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "EmwKAhgB"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "I'll read it. \u{1f4c4}"}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {}}}),
        json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{\"file_path\": "}}),
        json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "\"/tmp/a.txt\"}"}}),
        json!({"type": "content_block_stop", "index": 3}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": usage(12, 100, 2000, 87)}),
        json!({"type": "message_stop"}),
    ]
}

fn sse(events: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "event: {}\ndata: {}\n\n",
            e["type"].as_str().unwrap(),
            e
        ));
    }
    out.into_bytes()
}

fn parse(bytes: &[u8]) -> Vec<Value> {
    let mut framer = SseFramer::new();
    let mut out = Vec::new();
    framer.push_items(bytes, |item| match item {
        SseItem::Event(ev) => out.push(serde_json::from_str(&ev.data).unwrap()),
        SseItem::Error(e) => panic!("{e:?}"),
    });
    assert!(framer.is_idle());
    out
}

#[test]
fn anthropic_stream_survives_decode_and_encode_at_every_split() {
    let want = events();
    let body = sse(&want);
    for i in 0..=body.len() {
        let meta = Meta {
            model: "claude-public".into(),
            created: 0,
            include_usage: false,
            encrypted_reasoning: false,
        };
        let encoder = Dialect::AnthropicMessages.encoder(meta);
        let mut t = Decoded::new(AnthropicCodec::default(), encoder, true);
        t.response_headers(200, &|_| None);
        let mut out = Vec::new();
        for (part, end) in [(&body[..i], false), (&body[i..], true)] {
            match t.response_body(part, end) {
                BodyEdit::Replace(b) => out.extend_from_slice(&b),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(parse(&out), want, "split {i}");
        let o = t.outcome();
        assert_eq!((o.usage.input, o.usage.output, o.failure), (2112, 87, None));
    }
}

#[test]
fn anthropic_message_survives_decode_and_encode() {
    let want = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-public",
        "content": [
            {"type": "thinking", "thinking": "why \"not\"", "signature": "EqQB+/=="},
            {"type": "redacted_thinking", "data": "EmwK"},
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"file_path": "/tmp/a", "n": [1, 2.5]}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 5, "cache_creation_input_tokens": 6, "cache_read_input_tokens": 7, "output_tokens": 8}
    });
    let meta = Meta {
        model: "claude-public".into(),
        created: 0,
        include_usage: false,
        encrypted_reasoning: false,
    };
    let mut t = Decoded::new(
        AnthropicCodec::default(),
        Dialect::AnthropicMessages.encoder(meta),
        false,
    );
    t.response_headers(200, &|_| None);
    let BodyEdit::Replace(out) = t.response_body(want.to_string().as_bytes(), true) else {
        panic!("not replaced")
    };
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), want);
}
