//! The translated path with what chat clients cannot say: `file` parts
//! from any client, and the neutral request's `ext` as the Messages
//! decoder fills it.

use serde_json::{json, Value};

use super::{rejected, upstream, user};
use crate::openai::{ServerTool, ThinkingRequest};

#[test]
fn inline_pdfs_become_document_blocks() {
    let body = json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
        {"type": "text", "text": "summarise"}
    ]}]});
    let up = upstream(body);
    assert_eq!(
        up["messages"][0]["content"][0],
        json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}, "title": "a.pdf"})
    );
    for file in [
        json!({"file_data": "data:text/csv;base64,YSxi"}),
        json!({"file_id": "file-123"}),
    ] {
        let body = json!({"model": "smart", "messages": [{"role": "user", "content": [{"type": "file", "file": file}]}]});
        let e = rejected(body);
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[0].file.file_data")
        );
    }
}

/// Builds the upstream body for a chat request after `ext` is set, as a
/// Messages client's decoder would.
fn with_ext(body: Value, set: impl FnOnce(&mut crate::openai::Ext<'_>)) -> Value {
    let bytes = serde_json::to_vec(&body).unwrap();
    let mut req = crate::openai::parse_chat_request(&bytes).unwrap();
    set(&mut req.ext);
    let p = super::provider();
    let ctx = crate::providers::TargetCtx {
        provider: &p,
        model: "claude-x",
        public_model: "smart",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let out = super::super::request::build(&super::super::Options::default(), &req, &ctx).unwrap();
    serde_json::from_slice(&super::super::encode::messages_request(&out)).unwrap()
}

#[test]
fn ext_thinking_wins_over_reasoning_effort_and_keeps_the_cap() {
    let body = json!({"model": "smart", "messages": [user("hi")], "reasoning_effort": "high", "max_tokens": 3000});
    let up = with_ext(body.clone(), |e| {
        e.thinking = Some(ThinkingRequest::Enabled {
            budget_tokens: 2000,
        })
    });
    assert_eq!(
        up["thinking"],
        json!({"type": "enabled", "budget_tokens": 2000})
    );
    assert_eq!(up["max_tokens"], json!(3000));
    let up = with_ext(body, |e| e.thinking = Some(ThinkingRequest::Adaptive));
    assert_eq!(up["thinking"], json!({"type": "adaptive"}));
}

#[test]
fn server_tools_and_top_k_are_sent() {
    let raw: &serde_json::value::RawValue =
        serde_json::from_str(r#"{"type":"web_search_20250305","name":"web_search"}"#).unwrap();
    let body = json!({"model": "smart", "messages": [user("hi")]});
    let up = with_ext(body, |e| {
        e.top_k = Some(5);
        e.server_tools.push(ServerTool {
            kind: "web_search_20250305".into(),
            name: Some("web_search".into()),
            raw,
        });
    });
    assert_eq!(up["top_k"], json!(5));
    assert_eq!(
        up["tools"],
        json!([{"type": "web_search_20250305", "name": "web_search"}])
    );
}
