use serde_json::{json, Value};

use super::provider;
use crate::error::ApiError;
use crate::openai::embeddings::parse_embeddings_request;
use crate::providers::{BodyEdit, BodyMode, EmbedRequest, Outbound, TargetCtx, Translator};

fn start(body: &Value) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let bytes = serde_json::to_vec(body).unwrap();
    let req = parse_embeddings_request(&bytes)?;
    let input = EmbedRequest { body: &bytes, req };
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model: "gemini-embedding-001",
        public_model: "embed",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::embeddings(&input, ctx)
}

/// The client's status (when changed) and body for an upstream answer.
fn answer(chat: &mut Box<dyn Translator>, status: u16, body: &[u8]) -> (Option<u16>, Value) {
    let edit = chat.response_headers(status, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    let half = body.len() / 2;
    assert_eq!(
        chat.response_body(&body[..half], false),
        BodyEdit::Replace(Vec::new())
    );
    match chat.response_body(&body[half..], true) {
        BodyEdit::Replace(b) => (None, serde_json::from_slice(&b).unwrap()),
        BodyEdit::Fail { status, body } => (Some(status), serde_json::from_slice(&body).unwrap()),
        BodyEdit::Keep => panic!("kept"),
    }
}

#[test]
fn request_path_and_body() {
    let (_, out) =
        start(&json!({"model": "embed", "input": ["alpha", "beta"], "dimensions": 256})).unwrap();
    assert_eq!(
        out.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert!(out
        .headers
        .contains(&("x-goog-api-key", "AIza-test".to_string())));
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "alpha"}]}, "outputDimensionality": 256},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "beta"}]}, "outputDimensionality": 256},
        ]})
    );
    let (_, out) = start(&json!({"model": "embed", "input": "one"})).unwrap();
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "one"}]}}]})
    );
}

#[test]
fn token_input_is_refused() {
    for input in [json!([1, 2, 3]), json!([[1], [2]])] {
        let e = start(&json!({"model": "embed", "input": input})).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("input")));
    }
}

#[test]
fn vectors_as_floats_and_base64() {
    let upstream = br#"{"embeddings": [{"values": [0.5, -1.0]}, {"values": [1.0]}]}"#;
    let (mut chat, _) = start(&json!({"model": "embed", "input": ["a", "b"]})).unwrap();
    let (status, out) = answer(&mut chat, 200, upstream);
    assert_eq!(status, None);
    assert_eq!(
        out,
        json!({"object": "list", "model": "embed",
               "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.0]},
                        {"object": "embedding", "index": 1, "embedding": [1.0]}],
               "usage": {"prompt_tokens": 0, "total_tokens": 0}})
    );
    assert!(!chat.failed());
    let (mut chat, _) =
        start(&json!({"model": "embed", "input": ["a", "b"], "encoding_format": "base64"}))
            .unwrap();
    let (_, out) = answer(&mut chat, 200, upstream);
    assert_eq!(out["data"][1]["embedding"], json!("AACAPw=="));
}

#[test]
fn errors_and_malformed_answers() {
    let (mut chat, _) = start(&json!({"model": "embed", "input": "a"})).unwrap();
    let body = br#"{"error":{"code":400,"message":"bad dims","status":"INVALID_ARGUMENT"}}"#;
    let (status, out) = answer(&mut chat, 400, body);
    assert_eq!(status, None);
    assert_eq!(
        out,
        json!({"error": {"message": "bad dims", "type": "invalid_request_error", "param": null,
                         "code": "invalid_argument"}})
    );
    assert!(chat.failed());
    for bad in [
        &br#"{"not":"gemini"}"#[..],
        br#"{"embeddings": [{"values": [1.0]}, {"values": [2.0]}]}"#,
        b"oops",
    ] {
        let (mut chat, _) = start(&json!({"model": "embed", "input": "a"})).unwrap();
        let (status, out) = answer(&mut chat, 200, bad);
        assert_eq!(status, Some(502), "{}", String::from_utf8_lossy(bad));
        assert_eq!(out["error"]["type"], json!("server_error"));
        let f = chat.outcome().failure.unwrap();
        assert_eq!(f.cause, crate::providers::Cause::Malformed);
    }
}
