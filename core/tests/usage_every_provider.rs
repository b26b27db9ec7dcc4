//! Implausible usage (far too large, negative, fractional, not a number)
//! is treated alike by every provider: clamped, flagged, and the reply still
//! reaches the client. Each provider's own whole-reply contract fixture gets
//! its output-token count replaced.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::{Provider, Secret};
use modelmux_core::providers::auth::{sigv4::SigV4, Auth};
use modelmux_core::providers::Options;
use modelmux_core::providers::{chat_body, BodyEdit, TargetCtx};
use modelmux_core::usage::MAX_TOKENS;
use serde_json::{json, Value};

/// The keys providers put output-token counts under.
const OUTPUT_KEYS: [&str; 4] = [
    "completion_tokens",
    "output_tokens",
    "candidatesTokenCount",
    "outputTokens",
];

fn with_output(v: &mut Value, n: &Value) -> usize {
    let mut hits = 0;
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if OUTPUT_KEYS.contains(&k.as_str()) && child.is_number() {
                    *child = n.clone();
                    hits += 1;
                } else {
                    hits += with_output(child, n);
                }
            }
        }
        Value::Array(items) => hits += items.iter_mut().map(|c| with_output(c, n)).sum::<usize>(),
        _ => {}
    }
    hits
}

fn bedrock() -> Provider {
    let mut p = Provider::new("br", "bedrock", "bedrock-runtime.us-east-1.amazonaws.com");
    p.options = Options::parse("bedrock", json!({"region": "us-east-1"}), "$").unwrap();
    p.base_path = String::new();
    p.auth = Auth::SigV4(Box::new(SigV4 {
        access_key_id: Secret::new("AKIDEXAMPLE"),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        region: "us-east-1".to_string(),
        service: "bedrock",
    }));
    p
}

fn vertex() -> Provider {
    let raw = json!({"project": "proj-1", "location": "us-east5",
                     "auth": {"source": "metadata", "cluster": "metadata"}});
    let mut p = Provider::new("vx", "vertex", "us-east5-aiplatform.googleapis.com");
    p.options = Options::parse("vertex", raw, "$").unwrap();
    p.base_path = "/v1".to_string();
    p.auth = Auth::Bearer(Secret::new("ya29.test-token"));
    p
}

/// `(fixture dir, provider, upstream model)`.
fn providers() -> Vec<(&'static str, Provider, &'static str)> {
    vec![
        (
            "openai",
            Provider::new("o", "openai", "api.openai.com").with_key("k"),
            "m",
        ),
        (
            "azure",
            Provider::new("a", "azure", "r.openai.azure.com").with_key("k"),
            "m",
        ),
        (
            "anthropic",
            Provider::new("c", "anthropic", "api.anthropic.com").with_key("k"),
            "m",
        ),
        (
            "gemini",
            Provider::new("g", "gemini", "generativelanguage.googleapis.com").with_key("k"),
            "m",
        ),
        (
            "cohere",
            Provider::new("co", "cohere", "api.cohere.com").with_key("k"),
            "m",
        ),
        (
            "bedrock",
            bedrock(),
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("vertex/gemini", vertex(), "gemini-2.5-flash"),
        ("vertex/claude", vertex(), "anthropic/claude-x"),
    ]
}

#[test]
fn every_provider_clamps_and_flags_implausible_usage() {
    let cases = [
        (json!(u64::MAX), MAX_TOKENS),
        (json!(-3), 0),
        (json!(2.5), 2),
        (json!("7"), 0),
    ];
    for (dir, provider, model) in providers() {
        let path = format!(
            "{}/tests/fixtures/contract/{dir}/text.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let fixture: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for (bad, want) in &cases {
            let mut reply = fixture.clone();
            assert!(with_output(&mut reply, bad) > 0, "{dir}: no output count");
            let target = TargetCtx {
                provider: &provider,
                model,
                public_model: "pub",
                now_unix_secs: 1_750_000_000,
                tokens: &modelmux_core::providers::auth::NoTokens,
            };
            let body = json!({"model": "pub", "messages": [{"role": "user", "content": "hi"}]});
            let (mut chat, _) = chat_body(&serde_json::to_vec(&body).unwrap(), target).unwrap();
            chat.response_headers(200, &|_| None);
            let edit = chat.response_body(&serde_json::to_vec(&reply).unwrap(), true);
            let out = match edit {
                BodyEdit::Replace(b) => serde_json::from_slice::<Value>(&b).unwrap(),
                BodyEdit::Keep => reply.clone(),
                BodyEdit::Fail { body, .. } => {
                    panic!("{dir} {bad}: {}", String::from_utf8_lossy(&body))
                }
            };
            assert!(out["choices"].is_array(), "{dir} {bad}: {out}");
            assert!(!chat.failed(), "{dir} {bad}");
            let u = chat.usage();
            assert!(u.implausible, "{dir} {bad}: {u:?}");
            assert_eq!(u.output - u.reasoning, *want, "{dir} {bad}: {u:?}");
        }
    }
}
