mod cache;
mod dialect_ext;
mod format;
mod passthrough;
mod request;
mod response;
mod roundtrip;
mod thinking;

use serde_json::{json, Value};

use crate::config::Provider;
use crate::error::ApiError;
use crate::providers::{Outbound, TargetCtx, Translator};

fn provider() -> Provider {
    Provider::new("claude", "anthropic", "api.anthropic.com").with_key("sk-ant-test")
}

fn start(body: &Value) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model: "claude-sonnet-4-5",
        public_model: "smart",
        now_unix_secs: 1_700_000_000,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::chat_body(&serde_json::to_vec(body).unwrap(), ctx)
}

/// The upstream body for a request that must translate.
fn upstream(body: Value) -> Value {
    let (_, out) = start(&body).unwrap();
    serde_json::from_slice(&out.body.unwrap()).unwrap()
}

/// The 400 for a request that must not translate.
fn rejected(body: Value) -> ApiError {
    let e = start(&body).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    e
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// A one-message request with `extra` as further top-level fields.
fn with(extra: Value) -> Value {
    let mut body = json!({"model": "smart", "messages": [user("hi")]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}
