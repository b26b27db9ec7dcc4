use super::*;
use crate::config::Provider;
use serde_json::{json, Value};

fn provider(key: Option<&str>) -> Provider {
    let p = Provider::new("oa", "openai", "h");
    match key {
        Some(k) => p.with_key(k),
        None => p,
    }
}

fn start(body: &[u8], upstream: &str, key: Option<&str>) -> (Box<dyn Translator>, Outbound) {
    let p = provider(key);
    let ctx = TargetCtx {
        provider: &p,
        model: upstream,
        public_model: "public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::chat_body(body, ctx).unwrap()
}

#[test]
fn same_model_forwards_body_untouched() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}],"x_vendor":{"a":1}}"#;
    let (_, out) = start(body, "m", None);
    assert!(out.body.is_none());
    assert_eq!(
        out.headers,
        vec![("content-type", "application/json".to_string())]
    );
    assert_eq!(out.path, "/v1/chat/completions");
}

#[test]
fn rewrites_only_the_model() {
    let body =
        br#"{ "model" : "public", "messages":[{"role":"user","content":"x"}], "zz": [1,2] }"#;
    let (_, out) = start(body, "up\"stream", Some("sk"));
    let new = out.body.unwrap();
    let expected =
        br#"{ "model" : "up\"stream", "messages":[{"role":"user","content":"x"}], "zz": [1,2] }"#;
    assert_eq!(new, expected.to_vec());
    assert_eq!(
        out.headers,
        vec![
            ("content-type", "application/json".to_string()),
            ("authorization", "Bearer sk".to_string())
        ]
    );
}

/// Whether the usage-only chunk is removed from the stream.
fn strips_usage(chat: &mut Box<dyn Translator>) -> bool {
    chat.response_headers(200, &|_| None);
    let usage_only = b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n";
    match chat.response_body(usage_only, false) {
        BodyEdit::Replace(b) => b.is_empty(),
        _ => false,
    }
}

#[test]
fn stream_injects_usage_request() {
    let body = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, out) = start(body, "m", None);
    let v: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(v["stream_options"], json!({"include_usage": true}));
    assert_eq!(v["messages"][0]["content"], json!("x"));
    assert!(strips_usage(&mut chat));

    let body = br#"{"model":"m","stream":true,"stream_options":{"other":1},"messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, out) = start(body, "m", None);
    let v: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        v["stream_options"],
        json!({"include_usage": true, "other": 1})
    );
    assert!(strips_usage(&mut chat));

    let body = br#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, out) = start(body, "m", None);
    assert!(out.body.is_none());
    assert!(!strips_usage(&mut chat));
}

#[test]
fn null_stream_options_is_replaced_in_place() {
    let body = br#"{"model":"m","stream":true,"stream_options":null,"messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, out) = start(body, "m", None);
    let sent = out.body.unwrap();
    let text = String::from_utf8(sent.clone()).unwrap();
    assert_eq!(text.matches("\"stream_options\"").count(), 1, "{text}");
    let v: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(v["stream_options"], json!({"include_usage": true}));
    assert!(strips_usage(&mut chat));
}

#[test]
fn stream_usage_opt_out_leaves_body_alone() {
    let mut p = provider(None);
    p.options = crate::providers::Options::OpenAi(super::Options {
        stream_usage: Some(false),
        preset: None,
    });
    let body = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let ctx = TargetCtx {
        provider: &p,
        model: "m",
        public_model: "m",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let (mut chat, out) = crate::providers::chat_body(body, ctx).unwrap();
    assert!(out.body.is_none());
    assert!(!strips_usage(&mut chat));
}

#[test]
fn tail_scanned_response_yields_usage() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, _) = start(body, "m", None);
    let h = chat.response_headers(200, &|_| None);
    assert_eq!(h.mode, BodyMode::Tail(tail::TAIL_BYTES));
    assert!(!h.drop_content_length);
    let resp = br#"{"id":"x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}"#;
    assert_eq!(chat.response_body(resp, true), BodyEdit::Keep);
    assert_eq!(
        chat.usage(),
        Usage {
            implausible: false,
            cache_write: 0,
            input: 5,
            output: 7,
            cache_read: 2,
            reasoning: 1
        }
    );
    assert!(!chat.failed());
}

#[test]
fn error_status_marks_failure_and_keeps_body() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, _) = start(body, "m", None);
    chat.response_headers(429, &|_| None);
    assert_eq!(chat.response_body(br#"{"error":{}}"#, true), BodyEdit::Keep);
    assert!(chat.failed());
}

#[test]
fn non_json_error_becomes_openai_error() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let (mut chat, _) = start(body, "m", None);
    let h = chat.response_headers(503, &|_| None);
    assert_eq!(h.content_type, Some("application/json"));
    assert!(h.drop_content_length);
    let BodyEdit::Replace(out) = chat.response_body(b"no healthy upstream", true) else {
        panic!("expected a replacement");
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["error"]["type"], json!("server_error"));
    assert_eq!(
        v["error"]["message"],
        json!("upstream returned HTTP 503: no healthy upstream")
    );
}

const STREAM: &str = concat!(
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"h\u{e9} \u{2713}\"}}],\"usage\":null}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n",
    "data: [DONE]\n\n"
);

fn run_stream(strip: bool, pieces: &[&[u8]]) -> (Vec<u8>, Box<dyn Translator>) {
    let body: &[u8] = if strip {
        br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#
    } else {
        br#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}"#
    };
    let (mut chat, _) = start(body, "m", None);
    assert_eq!(chat.response_headers(200, &|_| None).mode, BodyMode::Stream);
    let mut out = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        match chat.response_body(p, i + 1 == pieces.len()) {
            BodyEdit::Keep => out.extend_from_slice(p),
            BodyEdit::Replace(b) => out.extend_from_slice(&b),
            BodyEdit::Fail { .. } => panic!("a stream never fails the exchange"),
        }
    }
    (out, chat)
}

fn events(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn stream_strips_injected_usage_at_every_split() {
    let bytes = STREAM.as_bytes();
    for i in 0..=bytes.len() {
        let (out, chat) = run_stream(true, &[&bytes[..i], &bytes[i..]]);
        let ev = events(&out);
        assert_eq!(ev.len(), 3, "split {i}");
        assert!(ev.iter().all(|e| !e.contains("prompt_tokens")));
        assert_eq!(ev[2], "data: [DONE]");
        assert_eq!(chat.usage().input, 3);
        assert_eq!(chat.usage().output, 4);
        assert!(!chat.failed());
    }
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    let (out, _) = run_stream(true, &singles);
    assert_eq!(events(&out).len(), 3);
}

#[test]
fn stream_passthrough_is_untouched_at_every_split() {
    let bytes = STREAM.as_bytes();
    for i in 0..=bytes.len() {
        let (out, chat) = run_stream(false, &[&bytes[..i], &bytes[i..]]);
        assert_eq!(out, bytes);
        assert_eq!(chat.usage().output, 4, "split {i}");
    }
}

#[test]
fn stream_without_done_is_failure() {
    let bytes = &STREAM.as_bytes()[..60];
    let (_, chat) = run_stream(false, &[bytes]);
    assert!(chat.failed());
}
