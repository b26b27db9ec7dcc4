//! What crosses the gateway, through both roles: the request headers each
//! provider receives and the response headers the client gets back.

use serde_json::json;

use super::fake::MemoryStore;
use super::router::{respond, run, Answer, Sent};
use crate::config::Config;
use crate::session::Worker;

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN",
             "headers": {"request": ["x-an-only"], "response": ["x-an-cache"]}}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"}, {"provider": "an", "model": "claude-x"}]}
        ],
        "headers": {"request": ["x-trace-*"], "response": ["x-cache-*"]},
        "consumers": {"header": "x-team", "allowed": ["search"]}
    });
    let env = |name: &str| Some(format!("key-{name}"));
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    Worker::new(cfg, Box::new(MemoryStore::default()), 1_000, 7)
}

const NOISY: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    (":scheme", "https"),
    ("content-type", "application/json"),
    ("accept", "application/json"),
    ("x-request-id", "req-1"),
    ("authorization", "Bearer client-secret"),
    ("cookie", "session=client"),
    ("proxy-authorization", "Basic client"),
    ("x-internal-token", "internal"),
    ("openai-organization", "org-client"),
    ("openai-project", "proj-client"),
    ("x-team", "search"),
    ("x-envoy-foo", "1"),
    ("x-random", "1"),
    ("user-agent", "sdk"),
    ("anthropic-beta", "beta-1"),
    ("x-an-only", "1"),
    ("x-trace-id", "t-1"),
];

fn chat(model: &str) -> Vec<u8> {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn names(s: &Sent) -> Vec<&str> {
    let mut n: Vec<&str> = s.headers.iter().map(|(n, _)| n.as_str()).collect();
    n.sort_unstable();
    n
}

fn openai_ok() -> Answer {
    let body = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

fn anthropic_ok() -> Answer {
    let body = json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 4, "output_tokens": 6}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

const OPENAI_SENT: &[&str] = &[
    ":authority",
    ":method",
    ":path",
    ":scheme",
    "accept",
    "authorization",
    "content-length",
    "content-type",
    "x-request-id",
    "x-trace-id",
];
const ANTHROPIC_SENT: &[&str] = &[
    ":authority",
    ":method",
    ":path",
    ":scheme",
    "accept",
    "anthropic-beta",
    "anthropic-version",
    "content-length",
    "content-type",
    "x-an-only",
    "x-api-key",
    "x-request-id",
    "x-trace-id",
];

#[test]
fn a_single_target_provider_gets_only_the_allowlist() {
    let w = worker();
    let out = run(&w, NOISY, &chat("gpt"), |_, _| openai_ok());
    assert_eq!(out.status, 200);
    let sent = &out.sent[0];
    assert_eq!(names(sent), OPENAI_SENT);
    assert_eq!(sent.header("authorization"), Some("Bearer key-OA"));
    let out = run(&w, NOISY, &chat("claude"), |_, _| anthropic_ok());
    let sent = &out.sent[0];
    assert_eq!(names(sent), ANTHROPIC_SENT);
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("anthropic-beta"), Some("beta-1"));
}

#[test]
fn every_failover_attempt_gets_only_its_providers_allowlist() {
    let w = worker();
    let out = run(&w, NOISY, &chat("smart"), |p, _| match p {
        "oa" => respond(503, &[("content-type", "application/json")], &[b"{}"]),
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(names(&out.sent[0]), OPENAI_SENT);
    assert_eq!(names(&out.sent[1]), ANTHROPIC_SENT);
    assert_eq!(out.sent[1].header("x-request-id"), Some("req-1"));
}
