use serde_json::{json, Value};

use super::provider;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::providers::{BodyEdit, BodyMode, Cause, ChatInput, Outbound, TargetCtx, Translator};
use crate::usage::Usage;

fn start_messages(body: &[u8], model: &str) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "claude-public",
        now_unix_secs: 1_700_000_000,
        tokens: &crate::providers::auth::NoTokens,
    };
    let probe = crate::gateway::probe::probe(body)?;
    let input = ChatInput {
        body,
        probe: &probe,
        dialect: Dialect::AnthropicMessages,
        betas: None,
    };
    crate::providers::chat(&input, ctx)
}

const REQUEST: &str = r#"{ "model" : "claude-public", "max_tokens": 64, "betas_unknown_to_us": {"x": 1},
 "messages": [{"role": "user", "content": [{"type": "text", "text": "caf\u00e9 \"q\""}]},
   {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "S/+= "}]}]}"#;

#[test]
fn the_body_goes_up_as_sent_with_only_the_model_rewritten() {
    let (_, out) = start_messages(REQUEST.as_bytes(), "claude-sonnet-4-5").unwrap();
    let want = REQUEST.replace(r#""claude-public""#, r#""claude-sonnet-4-5""#);
    assert_eq!(String::from_utf8(out.body.unwrap()).unwrap(), want);
    assert_eq!(out.path, "/v1/messages");
    assert!(out
        .headers
        .contains(&("anthropic-version", "2023-06-01".to_string())));
    assert!(out
        .headers
        .contains(&("x-api-key", "sk-ant-test".to_string())));
    // Same name upstream: the body is not even copied.
    let (_, out) = start_messages(REQUEST.as_bytes(), "claude-public").unwrap();
    assert!(out.body.is_none());
}

const MESSAGE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"usage":{"input_tokens":999}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":5,"output_tokens":7,"service_tier":"standard"}}"#;

fn usage(input: u64, cache_read: u64, cache_write: u64, output: u64) -> Usage {
    Usage {
        input,
        cache_read,
        cache_write,
        output,
        ..Usage::default()
    }
}

/// Feeds `chunks` as the shell would in `mode` (Tail: the last n bytes).
fn feed(t: &mut dyn Translator, mode: BodyMode, chunks: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, c) in chunks.iter().enumerate() {
        let end = k + 1 == chunks.len();
        let given = match mode {
            BodyMode::Tail(n) => &c[c.len().saturating_sub(n)..],
            _ => c,
        };
        match t.response_body(given, end) {
            BodyEdit::Keep => out.extend_from_slice(c),
            BodyEdit::Replace(b) => out.extend_from_slice(&b),
            BodyEdit::Fail { .. } => panic!("fail"),
        }
    }
    out
}

#[test]
fn json_usage_is_read_from_the_tail_at_every_split() {
    let b = MESSAGE.as_bytes();
    for i in 0..=b.len() {
        let (mut t, _) = start_messages(REQUEST.as_bytes(), "m").unwrap();
        let edit = t.response_headers(200, &|_| None);
        assert!(matches!(edit.mode, BodyMode::Tail(_)));
        assert!(!edit.drop_content_length);
        let out = feed(t.as_mut(), edit.mode, &[&b[..i], &b[i..]]);
        assert_eq!(out, b, "forwarded untouched");
        let o = t.outcome();
        assert_eq!(o.usage, usage(18, 5, 3, 7), "split {i}");
        assert_eq!(o.failure, None);
    }
}

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {}\n\n", e["type"].as_str().unwrap(), e))
        .collect()
}

fn stream_events() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 1}}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bonjour é"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ]
}

fn run_stream(body: &[u8], split: usize) -> (Vec<u8>, crate::providers::Outcome) {
    let req = br#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let (mut t, _) = start_messages(req, "claude-sonnet-4-5").unwrap();
    let edit = t.response_headers(200, &|_| None);
    assert_eq!(edit.mode, BodyMode::Stream);
    let out = feed(t.as_mut(), edit.mode, &[&body[..split], &body[split..]]);
    (out, t.outcome())
}

#[test]
fn stream_is_forwarded_unchanged_and_usage_observed_at_every_split() {
    let body = sse(&stream_events());
    let b = body.as_bytes();
    for i in 0..=b.len() {
        let (out, o) = run_stream(b, i);
        assert_eq!(out, b, "split {i}");
        assert_eq!(o.usage, usage(60, 40, 0, 9), "split {i}");
        assert_eq!(o.failure, None);
        assert!(o.content);
        assert_eq!(o.streamed, "Bonjour é".len() as u64);
    }
    // And one byte at a time.
    let req = br#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let (mut t, _) = start_messages(req, "claude-sonnet-4-5").unwrap();
    let edit = t.response_headers(200, &|_| None);
    let bytes: Vec<&[u8]> = b.chunks(1).collect();
    assert_eq!(feed(t.as_mut(), edit.mode, &bytes), b);
    assert_eq!(t.outcome().usage, usage(60, 40, 0, 9));
}

#[test]
fn a_provider_error_event_passes_and_is_a_failure() {
    let mut events = stream_events();
    events.truncate(3);
    events.push(
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    let body = sse(&events);
    let b = body.as_bytes();
    for i in 0..=b.len() {
        let (out, o) = run_stream(b, i);
        assert_eq!(out, b, "split {i}");
        let f = o.failure.unwrap();
        assert_eq!((f.cause, f.status), (Cause::ErrorEvent, 503));
    }
}

#[test]
fn a_cut_stream_ends_with_an_anthropic_error_event() {
    let full = sse(&stream_events());
    let cut_at = full.find("event: message_delta").unwrap() + 10;
    let b = &full.as_bytes()[..cut_at];
    for i in 0..=b.len() {
        let (out, o) = run_stream(b, i);
        let text = String::from_utf8(out).unwrap();
        let (kept, error) = text.rsplit_once("event: error\ndata: ").unwrap();
        assert!(full.starts_with(kept), "only whole events before the error");
        let v: Value = serde_json::from_str(error.trim_end()).unwrap();
        assert_eq!(v["type"], json!("error"));
        assert_eq!(v["error"]["type"], json!("api_error"));
        assert_eq!(o.failure.unwrap().cause, Cause::Truncated, "split {i}");
    }
}

#[test]
fn error_statuses_pass_as_they_are() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let (mut t, _) = start_messages(REQUEST.as_bytes(), "m").unwrap();
    let edit = t.response_headers(529, &|h| (h == "retry-after").then(|| "2".to_string()));
    assert_eq!((edit.mode, edit.status), (BodyMode::Buffer, None));
    assert_eq!(t.response_body(body, true), BodyEdit::Keep);
    let f = t.outcome().failure.unwrap();
    assert_eq!(
        (f.cause, f.status, f.retry_after_ms),
        (Cause::Status, 529, Some(2000))
    );
    // A proxy's own text becomes Anthropic's envelope.
    let (mut t, _) = start_messages(REQUEST.as_bytes(), "m").unwrap();
    t.response_headers(503, &|_| None);
    let BodyEdit::Replace(out) = t.response_body(b"upstream connect error", true) else {
        panic!("kept a foreign body")
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["type"], json!("error"));
    assert_eq!(v["error"]["type"], json!("api_error"));
}
