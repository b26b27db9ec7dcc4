//! Requests the filter must finish: bodies ended by trailers, client
//! routing headers, record ids the client cannot name, compressed bodies.

use serde_json::json;

use super::answers::{anthropic_ok, chat, openai_ok};
use super::fake::{FakeHost, MemoryStore};
use super::router::{respond, run_with};
use crate::config::Config;
use crate::session::{Downstream, Flow, Upstream, Worker, FAILOVER_HEADER};

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"}, {"provider": "an", "model": "claude-x"}]}
        ]
    });
    let env = |name: &str| Some(format!("key-{name}"));
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    Worker::new(cfg, Box::new(MemoryStore::default()), 1_000_000, 7)
}

/// A client that tries to pick the cluster, the retry policy and a record.
const SPOOFING: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("authorization", "Bearer client-secret"),
    ("content-type", "application/json"),
    ("x-request-id", "req-1"),
    ("x-modelmux-cluster", "c_an"),
    ("x-modelmux-failover", "1"),
    ("x-modelmux-record", "guessed"),
    ("x-envoy-max-retries", "9"),
    ("x-envoy-upstream-rq-timeout-ms", "1"),
];

fn no_client_control(headers: &[(String, String)]) {
    for (n, v) in headers {
        assert!(!n.starts_with("x-envoy-"), "{n} reached the provider");
        assert!(!n.starts_with("x-modelmux-"), "{n} reached the provider");
        assert!(!v.contains("client-secret"), "client credential in {n}");
    }
}

#[test]
fn trailers_end_the_body_of_a_single_target_request() {
    let w = worker();
    let out = run_with(&w, SPOOFING, &chat("gpt", false), true, |p, _| {
        assert_eq!(p, "oa", "the client's x-modelmux-cluster was honoured");
        openai_ok()
    });
    assert_eq!(out.status, 200);
    let sent = &out.sent[0];
    assert_eq!(sent.header("authorization"), Some("Bearer key-OA"));
    assert_eq!(sent.header(":authority"), Some("oa.test"));
    no_client_control(&sent.headers);
}

#[test]
fn trailers_end_the_body_when_translating() {
    let w = worker();
    let out = run_with(&w, SPOOFING, &chat("claude", false), true, |p, _| {
        assert_eq!(p, "an");
        anthropic_ok()
    });
    assert_eq!(out.status, 200);
    let sent = &out.sent[0];
    assert_eq!(sent.header(":path"), Some("/v1/messages"));
    assert_eq!(sent.json()["model"], "claude-x");
    no_client_control(&sent.headers);
}

#[test]
fn trailers_end_the_body_of_every_failover_attempt() {
    let w = worker();
    let out = run_with(&w, SPOOFING, &chat("smart", false), true, |p, _| match p {
        "an" => anthropic_ok(),
        _ => respond(503, &[("content-type", "application/json")], &[b"{}"]),
    });
    assert_eq!(out.status, 200);
    assert_eq!(out.sent.len(), 2);
    assert_eq!(out.sent[0].header("authorization"), Some("Bearer key-OA"));
    assert_eq!(out.sent[1].header("x-api-key"), Some("key-AN"));
    assert_eq!(out.sent[1].json()["model"], "claude-x");
    let id = out.sent[0].header("x-request-id").unwrap();
    assert_ne!(id, "req-1");
    for s in &out.sent {
        no_client_control(&s.headers);
        assert_eq!(s.header("x-request-id"), Some(id));
    }
    // The access log reads the client's id again once the response starts.
    let logged = out
        .request_headers
        .iter()
        .find(|(n, _)| n == "x-request-id");
    assert_eq!(logged.map(|(_, v)| v.as_str()), Some("req-1"));
}

#[test]
fn a_bad_body_ended_by_trailers_is_a_400() {
    let w = worker();
    let out = run_with(&w, SPOOFING, b"{not json", true, |_, _| {
        panic!("nothing may be sent")
    });
    assert_eq!(out.status, 400);
    assert!(out.json()["error"]["message"].is_string());
}

#[test]
fn routing_headers_go_in_the_headers_phase() {
    // Whatever the body phase then does (or never does), the client's
    // routing is already gone: an unfinished request finds no cluster.
    let w = worker();
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(SPOOFING, b"");
    assert_eq!(d.on_request_headers(&w, &mut h, false), Flow::Pause);
    for name in [
        "x-modelmux-cluster",
        FAILOVER_HEADER,
        "x-modelmux-record",
        "x-envoy-max-retries",
        "x-envoy-upstream-rq-timeout-ms",
    ] {
        assert_eq!(h.req(name), None, "{name} survived the headers phase");
    }
    assert_eq!(h.req("x-request-id"), Some("req-1"));
}

#[test]
fn the_record_key_is_issued_by_the_filter() {
    let w = worker();
    let start = |w: &Worker| {
        let mut d = Downstream::default();
        let mut h = FakeHost::with_request(SPOOFING, &chat("smart", false));
        d.on_request_headers(w, &mut h, false);
        let len = h.req_body.len();
        d.on_request_body(w, &mut h, len, true);
        (d, h)
    };
    // Two live requests with the same x-request-id get their own records.
    let (_d1, h1) = start(&w);
    let (_d2, h2) = start(&w);
    let (k1, k2) = (
        h1.req("x-request-id").unwrap(),
        h2.req("x-request-id").unwrap(),
    );
    assert_ne!(k1, k2);
    assert_ne!(k1, "req-1");
    assert_ne!(k1, "guessed");
    assert_eq!(w.live_records(), 2);
    // An attempt that names only the client's x-request-id attaches to
    // nothing: it is refused, not translated.
    let mut up = Upstream::default();
    let mut uh = FakeHost::with_request(
        &[(":path", "/v1/chat/completions"), ("x-request-id", "req-1")],
        b"",
    );
    uh.properties.insert(
        "xds.upstream_host_metadata.filter_metadata.modelmux.provider".into(),
        "oa".into(),
    );
    up.on_request_headers(&w, &mut uh);
    assert_eq!(uh.reply.as_ref().map(|r| r.0), Some(502));
}

#[test]
fn a_compressed_body_is_a_415() {
    let w = worker();
    let mut client = SPOOFING.to_vec();
    client.push(("content-encoding", "gzip"));
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&client, b"\x1f\x8b");
    d.on_request_headers(&w, &mut h, false);
    let (status, body) = h.reply.clone().unwrap();
    assert_eq!(status, 415);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "unsupported_content_encoding");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    // identity is no encoding at all.
    let mut client = SPOOFING.to_vec();
    client.push(("content-encoding", "identity"));
    let mut h = FakeHost::with_request(&client, b"");
    assert_eq!(
        Downstream::default().on_request_headers(&w, &mut h, false),
        Flow::Pause
    );
    assert!(h.reply.is_none());
}
