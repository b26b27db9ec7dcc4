//! The translated path end to end. The Messages and Responses decoders are
//! not in this branch yet, so the client dialect here is OpenAI chat, whose
//! decode is the identity and whose encoder is known: a chat body must
//! come out of the translation as the same chat completion.

use serde_json::{json, Value};

use super::*;
use crate::config::Provider;
use crate::dialect::Dialect;
use crate::providers::openai::{normalize_upstream_error, presets, Passthrough};
use crate::providers::{BodyEdit, Translator};

fn run(spec: Passthrough, body: &Value, model: &str) -> (Box<dyn Translator>, Outbound) {
    let raw = serde_json::to_vec(body).unwrap();
    let probe = crate::gateway::probe::probe(&raw).unwrap();
    let p = Provider::new("oa", "openai", "h");
    let input = ChatInput {
        body: &raw,
        probe: &probe,
        dialect: Dialect::OpenAiChat,
        betas: None,
    };
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "public",
        now_unix_secs: 7,
        tokens: &crate::providers::auth::NoTokens,
    };
    translated(spec, &input, ctx).unwrap()
}

fn spec(preset: Option<&'static presets::Preset>, stream_usage: bool) -> Passthrough {
    Passthrough {
        path: "/v1/chat/completions".into(),
        stream_usage,
        preset,
        normalize: normalize_upstream_error,
    }
}

#[test]
fn preset_quirks_apply_to_the_encoded_body() {
    let mistral = presets::find("mistral").unwrap();
    let body = json!({"model": "public", "stream": true, "user": "u", "max_completion_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}]});
    let (_, out) = run(
        spec(Some(mistral), mistral.stream_usage),
        &body,
        "mistral-large",
    );
    let sent: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"model": "mistral-large", "stream": true, "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}]})
    );
    assert_eq!(out.path, "/v1/chat/completions");

    let body = json!({"model": "public", "logprobs": true, "messages": [{"role": "user", "content": "hi"}]});
    let raw = serde_json::to_vec(&body).unwrap();
    let probe = crate::gateway::probe::probe(&raw).unwrap();
    let input = ChatInput {
        body: &raw,
        probe: &probe,
        dialect: Dialect::OpenAiChat,
        betas: None,
    };
    let p = Provider::new("m", "mistral", "h");
    let ctx = TargetCtx {
        provider: &p,
        model: "m",
        public_model: "public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let e = translated(spec(Some(mistral), false), &input, ctx).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("logprobs"));
}

#[test]
fn a_stream_comes_back_in_the_clients_dialect() {
    let body =
        json!({"model": "public", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (mut t, out) = run(spec(None, true), &body, "gpt-5");
    let sent: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    let edit = t.response_headers(200, &|_| None);
    assert_eq!(edit.content_type, Some("text/event-stream"));
    let upstream = concat!(
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n",
        "data: [DONE]\n\n",
    );
    let BodyEdit::Replace(client) = t.response_body(upstream.as_bytes(), true) else {
        panic!("not replaced")
    };
    let client = String::from_utf8(client).unwrap();
    let mut text = String::new();
    let mut finish = None;
    for data in client
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
    {
        if data == "[DONE]" {
            continue;
        }
        let chunk: Value = serde_json::from_str(data).unwrap();
        assert_eq!(chunk["model"], "public");
        for c in chunk["choices"].as_array().unwrap() {
            text.push_str(c["delta"]["content"].as_str().unwrap_or(""));
            if !c["finish_reason"].is_null() {
                finish = Some(c["finish_reason"].clone());
            }
        }
    }
    assert_eq!(text, "Hello");
    assert_eq!(finish, Some(json!("stop")));
    assert!(client.ends_with("data: [DONE]\n\n"), "{client}");
    let o = t.outcome();
    assert_eq!((o.usage.input, o.usage.output, o.failure), (3, 2, None));
}

#[test]
fn a_whole_reply_comes_back_in_the_clients_dialect() {
    let body = json!({"model": "public", "messages": [{"role": "user", "content": "hi"}]});
    let (mut t, _) = run(spec(None, true), &body, "gpt-5");
    t.response_headers(200, &|_| None);
    let upstream = br#"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
    let BodyEdit::Replace(client) = t.response_body(upstream, true) else {
        panic!("not replaced")
    };
    let v: Value = serde_json::from_slice(&client).unwrap();
    assert_eq!(v["model"], "public");
    assert_eq!(v["choices"][0]["message"]["content"], "yo");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    assert_eq!(t.outcome().usage.output, 1);

    // An upstream error status reaches the client in its dialect.
    let (mut t, _) = run(spec(None, true), &body, "gpt-5");
    t.response_headers(429, &|_| None);
    let BodyEdit::Replace(client) = t.response_body(
        br#"{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#,
        true,
    ) else {
        panic!("not replaced")
    };
    let v: Value = serde_json::from_slice(&client).unwrap();
    assert_eq!(v["error"]["message"], "slow down");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(t.outcome().failure.map(|f| f.status), Some(429));
}

/// Kind `openai`, Azure (deployments path) and a preset route a Messages
/// client through the translation: the body sent is chat completions for
/// the upstream model, at the chat path. Until the Messages decoder lands
/// its refusal comes back instead (a passthrough would have answered).
#[test]
fn every_openai_wire_kind_translates_a_messages_client() {
    let body = br#"{"model":"public","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#;
    let probe = crate::gateway::probe::Probe {
        model: "public".into(),
        model_span: 9..17,
        stream: false,
        stream_options: None,
        object_start: 0,
    };
    let input = ChatInput {
        body,
        probe: &probe,
        dialect: Dialect::AnthropicMessages,
        betas: None,
    };
    let decodes = Dialect::AnthropicMessages.decode(body).is_ok();
    for (kind, path) in [
        ("openai", "/v1/chat/completions"),
        (
            "azure",
            "/openai/deployments/dep/chat/completions?api-version=2024-10-21",
        ),
        ("mistral", "/v1/chat/completions"),
    ] {
        let p = Provider::new("p", kind, "h").with_key("k");
        let ctx = TargetCtx {
            provider: &p,
            model: "dep",
            public_model: "public",
            now_unix_secs: 0,
            tokens: &crate::providers::auth::NoTokens,
        };
        match crate::providers::chat(&input, ctx) {
            Ok((_, out)) => {
                assert!(decodes, "{kind}: passed through undecoded");
                assert_eq!(out.path, path, "{kind}");
                let sent: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
                assert_eq!(sent["model"], "dep", "{kind}");
                assert_eq!(sent["messages"][0]["content"], "hi", "{kind}");
            }
            Err(e) => assert!(!decodes, "{kind}: {e:?}"),
        }
    }
}
