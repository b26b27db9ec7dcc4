//! What the provider alerts read: client mistakes are rejections with a
//! reason (never a model × provider request or error), provider failures
//! carry their class on every model, and a cut stream still has a duration.

use std::rc::Rc;

use serde_json::json;

use super::fake::{FakeHost, MemoryStore};
use super::router::{respond, run, Answer};
use crate::config::Config;
use crate::session::{Downstream, Worker};

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "an", "model": "claude-x"},
                                          {"provider": "oa", "model": "gpt-4o"}]}
        ]
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    Worker::new(cfg, Box::new(Rc::new(MemoryStore::default())), 1_000_000, 7)
}

const CLIENT: [(&str, &str); 4] = [
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("content-type", "application/json"),
];

fn chat(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn stat(w: &Worker, model: &str, provider: &str, name: &str) -> u64 {
    w.stats
        .pending(&format!("modelmux.m.{model}.p.{provider}.{name}"))
}

const CLASSES: [&str; 6] = [
    "failures_429",
    "failures_5xx",
    "failures_connect",
    "failures_timeout",
    "failures_overloaded",
    "failures_malformed",
];

/// Every counter a provider alert reads for one model × provider.
fn provider_side(w: &Worker, model: &str, provider: &str) -> Vec<(String, u64)> {
    ["requests", "errors", "attempts"]
        .iter()
        .chain(CLASSES.iter())
        .map(|c| (c.to_string(), stat(w, model, provider, c)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn rejections(w: &Worker, model: Option<&str>, reason: &str) -> u64 {
    let m = model.map_or(String::new(), |m| format!("m.{m}."));
    w.stats
        .pending(&format!("modelmux.{m}r.{reason}.rejections"))
}

fn not_sent(_: &str, _: usize) -> Answer {
    panic!("a refused request reached a provider")
}

#[test]
fn client_mistakes_are_rejections_by_reason_not_provider_errors() {
    let w = worker();
    let unknown_param = json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}],
        "not_a_parameter": 1});
    let cases: [(Vec<u8>, u16); 4] = [
        (b"{not json".to_vec(), 400),
        (br#"{"model":"gpt","messages":"hi"}"#.to_vec(), 400),
        (chat("no-such-model", false), 404),
        (unknown_param.to_string().into_bytes(), 400),
    ];
    for (body, status) in &cases {
        let out = run(&w, &CLIENT, body, not_sent);
        assert_eq!(out.status, *status, "{}", out.text());
    }
    let mut gz = CLIENT.to_vec();
    gz.push(("content-encoding", "gzip"));
    assert_eq!(run(&w, &gz, &chat("gpt", false), not_sent).status, 415);
    assert_eq!(rejections(&w, None, "invalid_json"), 1);
    assert_eq!(rejections(&w, None, "invalid_request"), 1);
    assert_eq!(rejections(&w, None, "unknown_model"), 1);
    assert_eq!(rejections(&w, None, "unsupported_content_encoding"), 1);
    assert_eq!(rejections(&w, Some("claude"), "unsupported_parameter"), 1);
    for (m, p) in [("gpt", "oa"), ("claude", "an")] {
        assert_eq!(provider_side(&w, m, p), vec![], "{m} × {p}");
    }
    assert!(w.stats.names().iter().all(|n| !n.contains("no-such")));
}

#[test]
fn envoys_413_before_routing_is_a_rejection() {
    let w = worker();
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&CLIENT, b"");
    d.on_request_headers(&w, &mut h, false);
    h.resp_headers = vec![(":status".into(), "413".into())];
    d.on_response_headers(&w, &mut h, true);
    d.on_done(&w, &h);
    assert_eq!(rejections(&w, None, "body_too_large"), 1);
}

/// One single-target exchange driven by hand: `details` is what Envoy
/// reports in `response.code_details`; `end` whether the body ended.
fn single(w: &Worker, body: &[u8], head: &[(&str, &str)], chunk: &[u8], end: bool, details: &str) {
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&CLIENT, body);
    h.now.set(1_000);
    d.on_request_headers(w, &mut h, false);
    d.on_request_body(w, &mut h, body.len(), true);
    h.resp_headers = head
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    d.on_response_headers(w, &mut h, chunk.is_empty() && end);
    h.resp_body = chunk.to_vec();
    if !chunk.is_empty() {
        d.on_response_body(w, &mut h, chunk.len(), end);
    }
    h.now.set(1_250);
    h.properties
        .insert("response.code_details".into(), details.into());
    d.on_done(w, &h);
}

const JSON_HEAD: [(&str, &str); 2] = [(":status", "200"), ("content-type", "application/json")];

/// The class expected, the response head and body, `response.code_details`.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u8], &'a str);

#[test]
fn single_target_failures_carry_their_class() {
    let w = worker();
    let req = chat("claude", false);
    let err = br#"{"type":"error","error":{"type":"api_error","message":"x"}}"#;
    let plain = [("content-type", "application/json")];
    let cases: [Case<'_>; 6] = [
        (
            "failures_429",
            [&[(":status", "429")][..], &plain].concat(),
            err,
            "via_upstream",
        ),
        (
            "failures_5xx",
            [&[(":status", "500")][..], &plain].concat(),
            err,
            "via_upstream",
        ),
        (
            "failures_connect",
            vec![(":status", "503")],
            b"upstream connect error",
            "upstream_reset_before_response_started{remote_connection_failure}",
        ),
        (
            "failures_timeout",
            vec![(":status", "504")],
            b"upstream request timeout",
            "response_timeout",
        ),
        (
            "failures_overloaded",
            JSON_HEAD.to_vec(),
            br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
            "via_upstream",
        ),
        (
            "failures_malformed",
            JSON_HEAD.to_vec(),
            br#"{"unexpected":true}"#,
            "via_upstream",
        ),
    ];
    for (i, (class, head, body, details)) in cases.iter().enumerate() {
        single(&w, &req, head, body, true, details);
        let n = u64::try_from(i).unwrap() + 1;
        assert_eq!(stat(&w, "claude", "an", class), 1, "{class}");
        assert_eq!(stat(&w, "claude", "an", "errors"), n, "{class}");
        assert_eq!(stat(&w, "claude", "an", "attempts"), n, "{class}");
    }
    // A final 4xx from the provider and a client that went away are
    // errors, but no provider failure.
    let bad = [&[(":status", "400")][..], &plain].concat();
    single(&w, &req, &bad, err, true, "via_upstream");
    single(
        &w,
        &req,
        &JSON_HEAD,
        b"{",
        false,
        "downstream_remote_disconnect",
    );
    let total: u64 = CLASSES.iter().map(|c| stat(&w, "claude", "an", c)).sum();
    assert_eq!(total, 6);
    assert_eq!(stat(&w, "claude", "an", "errors"), 8);
}

#[test]
fn a_malformed_answer_fails_over_as_malformed() {
    let w = worker();
    let ok = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}]});
    let ok = ok.to_string();
    let out = run(&w, &CLIENT, &chat("smart", false), |p, _| match p {
        "an" => respond(
            200,
            &[("content-type", "application/json")],
            &[b"{\"unexpected\":1}"],
        ),
        _ => respond(
            200,
            &[("content-type", "application/json")],
            &[ok.as_bytes()],
        ),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(stat(&w, "smart", "an", "failures_malformed"), 1);
    assert_eq!(stat(&w, "smart", "an", "failures_overloaded"), 0);
}

#[test]
fn a_stream_the_upstream_cuts_has_a_duration_and_a_connect_failure() {
    let w = worker();
    let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";
    let head = [(":status", "200"), ("content-type", "text/event-stream")];
    single(
        &w,
        &chat("gpt", true),
        &head,
        first.as_bytes(),
        false,
        "upstream_reset_after_response_started{remote_reset}",
    );
    let durations = w
        .stats
        .pending_samples("modelmux.m.gpt.p.oa.request_duration_ms");
    assert_eq!(durations, vec![250]);
    assert_eq!(stat(&w, "gpt", "oa", "failures_connect"), 1);
    assert_eq!(stat(&w, "gpt", "oa", "errors"), 1);
}
