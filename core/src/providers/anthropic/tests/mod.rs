mod request;
mod response;

use crate::gateway::probe::Probe;
use serde_json::Value;

use super::AnthropicChat;
use crate::config::Provider;
use crate::error::ApiError;
use crate::providers::{ChatTranslator, Outbound, ProviderKind, TargetCtx};

fn provider() -> Provider {
    Provider {
        cluster: "anthropic".into(),
        api_key: Some(crate::config::Secret::new("sk-ant-test")),
        default_max_tokens: 4096,
        ..Provider::new("claude", ProviderKind::Anthropic, "api.anthropic.com")
    }
}

fn start(body: &Value) -> Result<(AnthropicChat, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model: "claude-sonnet-4-5",
        public_model: "smart",
        now_unix_secs: 1_700_000_000,
    };
    // The Anthropic translator parses the body itself; the routing probe is unused.
    AnthropicChat::request(&serde_json::to_vec(body).unwrap(), &Probe::default(), ctx)
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
