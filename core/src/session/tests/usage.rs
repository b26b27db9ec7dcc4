//! Usage integrity through whole flows: implausible usage is clamped and
//! counted as a provider fault, and a stream that ends without the
//! provider's usage (client gone, upstream cut) is estimated, on the
//! single-target and the failover path.

use std::rc::Rc;

use serde_json::json;

use super::fake::{FakeHost, MemoryStore};
use super::router::{respond, run};
use crate::config::Config;
use crate::session::downstream::Downstream;
use crate::session::{Flow, Worker};
use crate::usage::MAX_TOKENS;

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"},
                                          {"provider": "an", "model": "claude-x"}]}
        ],
        "failover": {"attempt_timeout_ms": 1000}
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    Worker::new(cfg, Box::new(Rc::new(MemoryStore::default())), 1_000_000, 7)
}

fn stat(w: &Worker, model: &str, provider: &str, name: &str) -> u64 {
    w.stats
        .pending(&format!("modelmux.m.{model}.p.{provider}.{name}"))
}

const CLIENT: [(&str, &str); 4] = [
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("content-type", "application/json"),
];

fn body(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn content(text: &str) -> String {
    let c = json!({"id": "c", "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    format!("data: {c}\n\n")
}

const SSE: [(&str, &str); 1] = [("content-type", "text/event-stream")];

#[test]
fn implausible_openai_usage_is_clamped_and_counted() {
    let w = worker();
    let reply = json!({"id": "c1", "object": "chat.completion", "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": -5, "completion_tokens": 18446744073709551615u64}});
    let out = run(&w, &CLIENT, &body("gpt", false), |_, _| {
        respond(
            200,
            &[("content-type", "application/json")],
            &[reply.to_string().as_bytes()],
        )
    });
    assert_eq!(out.status, 200);
    assert_eq!(out.json()["choices"][0]["message"]["content"], "ok");
    assert_eq!(stat(&w, "gpt", "oa", "output_tokens"), MAX_TOKENS);
    assert_eq!(stat(&w, "gpt", "oa", "input_tokens"), 0);
    assert_eq!(stat(&w, "gpt", "oa", "implausible_usage"), 1);
    assert_eq!(stat(&w, "gpt", "oa", "errors"), 0);
}

#[test]
fn implausible_anthropic_usage_is_clamped_not_a_502() {
    let w = worker();
    let reply = json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 1.5, "output_tokens": 18446744073709551615u64}});
    let out = run(&w, &CLIENT, &body("claude", false), |_, _| {
        respond(
            200,
            &[("content-type", "application/json")],
            &[reply.to_string().as_bytes()],
        )
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(stat(&w, "claude", "an", "output_tokens"), MAX_TOKENS);
    assert_eq!(stat(&w, "claude", "an", "input_tokens"), 1);
    assert_eq!(stat(&w, "claude", "an", "implausible_usage"), 1);
}

#[test]
fn plausible_usage_is_no_fault_and_no_estimate() {
    let w = worker();
    let usage =
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n";
    let stream = [
        content("Hello"),
        usage.to_string(),
        "data: [DONE]\n\n".into(),
    ]
    .concat();
    run(&w, &CLIENT, &body("gpt", true), |_, _| {
        respond(200, &SSE, &[stream.as_bytes()])
    });
    assert_eq!(stat(&w, "gpt", "oa", "output_tokens"), 2);
    assert_eq!(stat(&w, "gpt", "oa", "implausible_usage"), 0);
    assert_eq!(stat(&w, "gpt", "oa", "usage_estimated"), 0);
    assert_eq!(stat(&w, "gpt", "oa", "estimated_output_tokens"), 0);
}

#[test]
fn client_gone_mid_stream_is_estimated() {
    let w = worker();
    let req = body("gpt", true);
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&CLIENT, &req);
    d.on_request_headers(&w, &mut h, false);
    d.on_request_body(&w, &mut h, req.len(), true);
    h.resp_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "text/event-stream".into()),
    ];
    assert_eq!(d.on_response_headers(&w, &mut h, false), Flow::Continue);
    // 41 bytes of text, then the client resets: no usage chunk, no end.
    let sent = [content(&"a".repeat(40)), content("b")].concat();
    h.resp_body = sent.into_bytes();
    let size = h.resp_body.len();
    d.on_response_body(&w, &mut h, size, false);
    d.on_done(&w, &h);
    assert_eq!(stat(&w, "gpt", "oa", "output_tokens"), 0);
    assert_eq!(stat(&w, "gpt", "oa", "estimated_output_tokens"), 11);
    let prompt = u64::try_from(req.len().div_ceil(4)).unwrap();
    assert_eq!(stat(&w, "gpt", "oa", "estimated_input_tokens"), prompt);
    assert_eq!(stat(&w, "gpt", "oa", "usage_estimated"), 1);
}

#[test]
fn upstream_cut_on_failover_is_estimated() {
    let w = worker();
    // No usage and no `[DONE]`: the provider cut the stream.
    let (first, second) = (content("Hello, world"), content("!"));
    let out = run(&w, &CLIENT, &body("smart", true), |p, _| match p {
        "oa" => respond(200, &SSE, &[first.as_bytes(), second.as_bytes()]),
        _ => respond(503, &[], &[b"{}"]),
    });
    assert!(
        out.text().contains("before it was complete"),
        "{}",
        out.text()
    );
    assert_eq!(stat(&w, "smart", "oa", "estimated_output_tokens"), 4);
    assert_eq!(stat(&w, "smart", "oa", "usage_estimated"), 1);
    assert!(stat(&w, "smart", "oa", "estimated_input_tokens") > 0);
}

fn small_buffer_worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"},
                                          {"provider": "an", "model": "claude-x"}]}
        ],
        "response_buffer_bytes": 100
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    Worker::new(cfg, Box::new(Rc::new(MemoryStore::default())), 1_000_000, 7)
}

#[test]
fn a_translated_reply_over_the_buffer_is_an_openai_502() {
    let w = small_buffer_worker();
    let req = body("claude", false);
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&CLIENT, &req);
    d.on_request_headers(&w, &mut h, false);
    d.on_request_body(&w, &mut h, req.len(), true);
    h.resp_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    assert_eq!(d.on_response_headers(&w, &mut h, false), Flow::Pause);
    h.resp_body = vec![b' '; 60];
    assert_eq!(d.on_response_body(&w, &mut h, 60, false), Flow::Pause);
    assert!(h.reply.is_none());
    h.resp_body = vec![b' '; 101];
    d.on_response_body(&w, &mut h, 101, false);
    let (status, reply) = h.reply.take().expect("a local reply");
    assert_eq!(status, 502);
    let v: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(v["error"]["code"], "response_too_large");
    assert_eq!(v["error"]["type"], "server_error");
    d.on_done(&w, &h);
    assert_eq!(stat(&w, "claude", "an", "errors"), 1);
}

#[test]
fn a_failover_reply_over_the_buffer_is_an_openai_502() {
    let w = small_buffer_worker();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(200));
    let (a, b) = big.as_bytes().split_at(120);
    let out = run(&w, &CLIENT, &body("smart", false), |_, _| {
        respond(200, &[("content-type", "application/json")], &[a, b])
    });
    assert_eq!(out.status, 502, "{}", out.text());
    assert_eq!(out.json()["error"]["code"], "response_too_large");
}
