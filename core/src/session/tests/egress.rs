//! What crosses the gateway, through both roles: the request headers each
//! provider receives and the response headers the client gets back.

use serde_json::json;

use super::answers::{anthropic_ok, chat, openai_ok};
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
    // Envoy's router finds no route without it (set by the HCM).
    ("x-forwarded-proto", "https"),
    ("anthropic-beta", "beta-1"),
    ("x-an-only", "1"),
    ("x-trace-id", "t-1"),
];

fn names(s: &Sent) -> Vec<&str> {
    let mut n: Vec<&str> = s.headers.iter().map(|(n, _)| n.as_str()).collect();
    n.sort_unstable();
    n
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
    "x-forwarded-proto",
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
    "x-forwarded-proto",
    "x-request-id",
    "x-trace-id",
];

#[test]
fn a_single_target_provider_gets_only_the_allowlist() {
    let w = worker();
    let out = run(&w, NOISY, &chat("gpt", false), |_, _| openai_ok());
    assert_eq!(out.status, 200);
    let sent = &out.sent[0];
    assert_eq!(names(sent), OPENAI_SENT);
    assert_eq!(sent.header("authorization"), Some("Bearer key-OA"));
    let out = run(&w, NOISY, &chat("claude", false), |_, _| anthropic_ok());
    let sent = &out.sent[0];
    assert_eq!(names(sent), ANTHROPIC_SENT);
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("anthropic-beta"), Some("beta-1"));
}

#[test]
fn every_failover_attempt_gets_only_its_providers_allowlist() {
    let w = worker();
    let out = run(&w, NOISY, &chat("smart", false), |p, _| match p {
        "oa" => respond(503, &[("content-type", "application/json")], &[b"{}"]),
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(names(&out.sent[0]), OPENAI_SENT);
    assert_eq!(names(&out.sent[1]), ANTHROPIC_SENT);
    // The request id every attempt carries is the filter's record id.
    let id = out.sent[0].header("x-request-id");
    assert!(id.is_some_and(|id| id != "req-1"));
    assert_eq!(out.sent[1].header("x-request-id"), id);
}

/// A response head a hostile or careless provider might send.
const HOSTILE: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("date", "Mon, 07 Dec 2026 00:00:00 GMT"),
    ("retry-after", "1"),
    ("x-ratelimit-remaining-requests", "9"),
    ("anthropic-ratelimit-tokens-remaining", "99"),
    ("request-id", "req_an"),
    ("x-request-id", "req_oa"),
    ("set-cookie", "sid=provider; Path=/"),
    ("location", "https://evil.example/"),
    ("x-envoy-upstream-service-time", "1"),
    ("x-envoy-degraded", "1"),
    ("x-modelmux-provider", "forged"),
    ("x-modelmux-status", "503"),
    ("x-cache-hit", "1"),
    ("x-an-cache", "1"),
    ("x-random", "1"),
];

fn with_head(answer: Answer, status: u16) -> Answer {
    let Answer::Respond { chunks, .. } = answer else {
        unreachable!()
    };
    let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    respond(status, HOSTILE, &chunks)
}

fn header_names(out: &super::router::Outcome) -> Vec<&str> {
    let mut n: Vec<&str> = out.headers.iter().map(|(n, _)| n.as_str()).collect();
    n.sort_unstable();
    n
}

#[test]
fn a_single_target_response_reaches_the_client_through_the_allowlist() {
    let w = worker();
    let out = run(&w, NOISY, &chat("gpt", false), |_, _| {
        with_head(openai_ok(), 200)
    });
    assert_eq!(
        out.status, 200,
        "a forged x-modelmux-status changes nothing"
    );
    assert_eq!(
        header_names(&out),
        [
            ":status",
            "anthropic-ratelimit-tokens-remaining",
            "content-type",
            "date",
            "retry-after",
            "x-cache-hit",
            "x-ratelimit-remaining-requests",
            "x-request-id",
        ]
    );
    let out = run(&w, NOISY, &chat("claude", false), |_, _| {
        with_head(anthropic_ok(), 200)
    });
    assert_eq!(out.status, 200);
    assert_eq!(
        out.json()["choices"][0]["message"]["content"],
        "from anthropic"
    );
    assert_eq!(
        header_names(&out),
        [
            ":status",
            "anthropic-ratelimit-tokens-remaining",
            "content-length",
            "content-type",
            "date",
            "request-id",
            "retry-after",
            "x-an-cache",
            "x-cache-hit",
            "x-ratelimit-remaining-requests",
        ]
    );
    assert_eq!(
        out.header("content-length"),
        Some(out.body.len().to_string().as_str())
    );
}

#[test]
fn failover_attempts_filter_their_heads_and_only_the_attempts_marker_counts() {
    let w = worker();
    let out = run(&w, NOISY, &chat("smart", false), |p, _| match p {
        "oa" => with_head(
            respond(
                429,
                &[],
                &[br#"{"error":{"message":"slow","type":"requests"}}"#],
            ),
            429,
        ),
        _ => with_head(anthropic_ok(), 200),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(out.header("x-modelmux-provider"), Some("an"));
    let names = header_names(&out);
    for gone in [
        "set-cookie",
        "location",
        "x-envoy-upstream-service-time",
        "x-envoy-degraded",
        "x-modelmux-status",
        "x-random",
        "x-request-id",
    ] {
        assert!(!names.contains(&gone), "{gone}: {names:?}");
    }
    for kept in [
        "retry-after",
        "x-ratelimit-remaining-requests",
        "request-id",
    ] {
        assert!(names.contains(&kept), "{kept}: {names:?}");
    }
    // Every target failing: the client gets the last real status, not a
    // provider's forged marker.
    let out = run(&w, NOISY, &chat("smart", false), |_, _| {
        with_head(
            respond(429, &[], &[br#"{"error":{"message":"slow"}}"#]),
            429,
        )
    });
    assert_eq!(out.status, 429);
    assert_eq!(out.header("x-modelmux-status"), None);
}

#[test]
fn a_marker_no_attempt_wrote_is_not_believed() {
    let w = worker();
    let body = chat("smart", false);
    let mut d = crate::session::Downstream::default();
    let mut dh = super::fake::FakeHost::with_request(NOISY, &body);
    d.on_request_headers(&w, &mut dh, false);
    d.on_request_body(&w, &mut dh, body.len(), true);
    // A response no upstream attempt handled (its filter missing from the
    // rotation cluster), carrying a provider's own markers.
    dh.resp_headers = vec![
        (":status".into(), "200".into()),
        ("x-modelmux-status".into(), "418".into()),
        ("x-modelmux-provider".into(), "forged".into()),
    ];
    d.on_response_headers(&w, &mut dh, true);
    assert_eq!(dh.resp(":status"), Some("200"));
    assert_eq!(dh.resp("x-modelmux-status"), None);
    assert_eq!(dh.resp("x-modelmux-provider"), None);
    assert!(!dh.filter_state.contains_key("modelmux_provider"));
}
