mod embed;
mod partial;
mod request;
mod response;
mod schema;

use serde_json::{json, Value};

use crate::config::Provider;
use crate::error::ApiError;
use crate::providers::{BodyEdit, Outbound, TargetCtx, Translator};

fn provider() -> Provider {
    Provider::new("gem", "gemini", "generativelanguage.googleapis.com").with_key("AIza-test")
}

fn start_model(body: &Value, model: &str) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "smart",
        now_unix_secs: 1_700_000_000,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::chat_body(&serde_json::to_vec(body).unwrap(), ctx)
}

fn start(body: &Value) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    start_model(body, "gemini-2.5-flash")
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

/// A chat request with one user message plus `extra` top-level fields.
fn with(extra: Value) -> Value {
    let mut body = json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// A non-streamed exchange: the client's status and JSON body.
fn exchange(status: u16, upstream_body: &[u8]) -> (Box<dyn Translator>, Option<u16>, Value) {
    let (mut chat, _) = start(&with(json!({}))).unwrap();
    let edit = chat.response_headers(status, &|_| None);
    let (client_status, bytes) = match chat.response_body(upstream_body, true) {
        BodyEdit::Replace(b) => (edit.status, b),
        BodyEdit::Fail { status, body } => (Some(status), body),
        BodyEdit::Keep => panic!("body kept"),
    };
    (chat, client_status, serde_json::from_slice(&bytes).unwrap())
}
