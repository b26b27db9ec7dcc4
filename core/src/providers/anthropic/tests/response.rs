use serde_json::{json, Value};

use super::super::response::compact_json;
use super::start;
use crate::providers::{BodyEdit, BodyMode, HeaderEdit, Translator};
use crate::usage::Usage;

/// Runs a buffered exchange; returns the header edit, body and translator.
fn exchange(status: u16, body: &[u8]) -> (HeaderEdit, Value, Box<dyn Translator>) {
    let (mut chat, _) =
        start(&json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]})).unwrap();
    let edit = chat.response_headers(status, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    let BodyEdit::Replace(out) = chat.response_body(body, true) else {
        panic!("keep")
    };
    (edit, serde_json::from_slice(&out).unwrap(), chat)
}

fn message(content: Value, stop_reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 12, "output_tokens": 7}
    }))
    .unwrap()
}

#[test]
fn text_message() {
    let body = message(
        json!([{"type": "text", "text": "Hello "}, {"type": "text", "text": "there ✓"}]),
        "end_turn",
    );
    let (edit, v, chat) = exchange(200, &body);
    assert_eq!(edit.content_type, Some("application/json"));
    assert!(edit.drop_content_length);
    assert_eq!(edit.status, None);
    assert_eq!(
        v,
        json!({
            "id": "msg_01", "object": "chat.completion", "created": 1_700_000_000u64, "model": "smart",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there ✓"},
                         "finish_reason": "stop", "logprobs": null}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19,
                      "prompt_tokens_details": {"cached_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0}}
        })
    );
    assert_eq!(
        chat.usage(),
        Usage {
            implausible: false,
            cache_write: 0,
            input: 12,
            output: 7,
            cache_read: 0,
            reasoning: 0
        }
    );
    assert!(!chat.failed());
}

#[test]
fn tool_use_message() {
    let body = message(
        json!([
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris", "days": [1, 2]}},
            {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}
        ]),
        "tool_use",
    );
    let (_, v, _) = exchange(200, &body);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], json!("tool_calls"));
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([
            {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\",\"days\":[1,2]}"}},
            {"id": "toolu_2", "type": "function", "function": {"name": "now", "arguments": "{}"}},
        ])
    );
    let body = message(
        json!([{"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
        "tool_use",
    );
    let (_, v, _) = exchange(200, &body);
    assert_eq!(
        v["choices"][0]["message"]["content"],
        json!("Let me check.")
    );
}

#[test]
fn stop_reasons() {
    let cases = [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
        ("something_new", "stop"),
    ];
    for (reason, want) in cases {
        let (_, v, _) = exchange(
            200,
            &message(json!([{"type": "text", "text": "x"}]), reason),
        );
        assert_eq!(v["choices"][0]["finish_reason"], json!(want), "{reason}");
    }
}

#[test]
fn usage_counts_cache_as_prompt() {
    let body = serde_json::to_vec(&json!({
        "id": "msg_02", "type": "message", "content": [], "stop_reason": "end_turn", "unknown_field": 1,
        "usage": {"input_tokens": 10, "output_tokens": 3, "cache_read_input_tokens": 100,
                  "cache_creation_input_tokens": 5, "service_tier": "standard"}
    }))
    .unwrap();
    let (_, v, chat) = exchange(200, &body);
    assert_eq!(v["choices"][0]["message"]["content"], json!(""));
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 115, "completion_tokens": 3, "total_tokens": 118,
               "prompt_tokens_details": {"cached_tokens": 100},
               "completion_tokens_details": {"reasoning_tokens": 0}})
    );
    assert_eq!(
        chat.usage(),
        Usage {
            implausible: false,
            cache_write: 5,
            input: 115,
            output: 3,
            cache_read: 100,
            reasoning: 0
        }
    );
}

#[test]
fn errors_translate_with_status() {
    let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#;
    let (edit, v, chat) = exchange(400, body);
    assert_eq!(edit.status, None);
    assert_eq!(
        v,
        json!({"error": {"message": "max_tokens: too large", "type": "invalid_request_error",
                         "param": null, "code": "invalid_request_error"}})
    );
    assert!(chat.failed());

    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let (edit, v, chat) = exchange(529, body);
    assert_eq!(edit.status, Some(503));
    assert_eq!(v["error"]["type"], json!("server_error"));
    assert_eq!(v["error"]["code"], json!("overloaded_error"));
    assert_eq!(v["error"]["message"], json!("Overloaded"));
    assert!(chat.failed());

    let (_, v, _) = exchange(401, br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#);
    assert_eq!(v["error"]["type"], json!("authentication_error"));

    let (edit, v, chat) = exchange(502, b"<html>Bad Gateway</html>");
    assert_eq!(edit.status, None);
    assert_eq!(v["error"]["type"], json!("server_error"));
    assert!(v["error"]["message"].as_str().unwrap().contains("502"));
    assert!(chat.failed());
}

#[test]
fn unreadable_success_body_fails() {
    for (body, status, message) in [
        (&b"not json"[..], 502, None),
        (
            &br#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#[..],
            500,
            Some("boom"),
        ),
    ] {
        let (mut chat, _) =
            start(&json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]}))
                .unwrap();
        chat.response_headers(200, &|_| None);
        let BodyEdit::Fail { status: got, body } = chat.response_body(body, true) else {
            panic!("expected Fail")
        };
        assert_eq!(got, status);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["type"], json!("server_error"));
        if let Some(m) = message {
            assert_eq!(v["error"]["message"], json!(m));
        }
        assert!(chat.failed());
    }
}

#[test]
fn buffered_body_in_pieces() {
    let body = message(json!([{"type": "text", "text": "héllo"}]), "end_turn");
    let (mut chat, _) =
        start(&json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]})).unwrap();
    chat.response_headers(200, &|_| None);
    let (a, b) = body.split_at(20);
    assert_eq!(chat.response_body(a, false), BodyEdit::Replace(Vec::new()));
    let BodyEdit::Replace(out) = chat.response_body(b, true) else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], json!("héllo"));
    assert_eq!(chat.response_body(b"late", true), BodyEdit::Keep);
}

#[test]
fn compacting_json_keeps_order_and_strings() {
    assert_eq!(
        compact_json("{\"b\": 1, \"a\" : [1, 2]}"),
        "{\"b\":1,\"a\":[1,2]}"
    );
    assert_eq!(
        compact_json("{\"s\": \"a b \\\" c\"}"),
        "{\"s\":\"a b \\\" c\"}"
    );
    assert!(matches!(
        compact_json("{\"x\":1}"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn non_json_error_quotes_what_was_sent() {
    let (edit, v, chat) = exchange(529, b"no healthy upstream");
    assert_eq!(edit.status, Some(503));
    assert_eq!(v["error"]["type"], json!("server_error"));
    assert_eq!(
        v["error"]["message"],
        json!("provider anthropic returned HTTP 529: no healthy upstream")
    );
    assert!(chat.failed());
}

#[test]
fn implausible_usage_is_clamped_not_a_502() {
    for (tokens, output) in [
        (json!(u64::MAX), crate::usage::MAX_TOKENS),
        (json!(-4), 0),
        (json!(3.5), 3),
    ] {
        let mut body: Value = serde_json::from_slice(&message(json!([]), "end_turn")).unwrap();
        body["usage"]["output_tokens"] = tokens.clone();
        let (edit, v, chat) = exchange(200, &serde_json::to_vec(&body).unwrap());
        assert_eq!(edit.status, None, "{tokens}");
        assert_eq!(v["object"], "chat.completion", "{tokens}");
        assert!(!chat.failed(), "{tokens}");
        let u = chat.usage();
        assert_eq!((u.input, u.output, u.implausible), (12, output, true));
    }
}
