use std::rc::Rc;

use serde_json::{json, Value};

use super::answers::{anthropic_ok, chat, openai_ok};
use super::fake::MemoryStore;
use super::router::{respond, run, Answer};
use crate::config::Config;
use crate::session::health;
use crate::session::Worker;

fn config() -> Config {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN"},
            {"name": "ob", "type": "openai", "cluster": "c_ob", "host": "ob.test", "api_key_env": "OB"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"}, {"provider": "an", "model": "claude-x"}]},
            {"name": "rev", "targets": [{"provider": "an", "model": "claude-x"}, {"provider": "oa", "model": "gpt-4o"}]},
            {"name": "tri", "targets": [{"provider": "oa", "model": "gpt-4o"}, {"provider": "an", "model": "claude-x"}, {"provider": "ob", "model": "gpt-4o-mini"}]},
            {"name": "split", "targets": [{"provider": "oa", "model": "gpt-4o", "weight": 10}, {"provider": "an", "model": "claude-x", "weight": 90}]}
        ],
        "failover": {"attempt_timeout_ms": 1000}
    });
    let env = |name: &str| Some(format!("key-{name}"));
    Config::from_json(v.to_string().as_bytes(), &env).unwrap()
}

fn worker_on(store: Rc<MemoryStore>, now_ms: u64) -> Worker {
    Worker::new(config(), Box::new(store), now_ms, 7)
}

fn worker() -> Worker {
    worker_on(Rc::new(MemoryStore::default()), 1_000_000)
}

const CLIENT: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("authorization", "Bearer client-secret"),
    ("content-type", "application/json"),
    ("x-request-id", "req-1"),
];

fn anthropic_stream() -> Answer {
    let sse = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"streamed\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let chunks: Vec<&[u8]> = sse.as_bytes().chunks(13).collect();
    respond(200, &[("content-type", "text/event-stream")], &chunks)
}

fn error(status: u16, kind: &str, extra: &[(&str, &str)]) -> Answer {
    let body = match kind {
        "anthropic" => {
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        }
        _ => {
            json!({"error": {"message": "slow down", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
        }
    };
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(extra);
    respond(status, &h, &[body.to_string().as_bytes()])
}

fn stat(w: &Worker, model: &str, provider: &str, counter: &str) -> u64 {
    w.stats
        .pending(&format!("modelmux.m.{model}.p.{provider}.{counter}"))
}

fn content(v: &Value) -> &str {
    v["choices"][0]["message"]["content"].as_str().unwrap()
}

#[test]
fn single_target_keeps_the_direct_path() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("gpt", false), |p, _| {
        assert_eq!(p, "oa");
        openai_ok()
    });
    assert_eq!(out.status, 200);
    assert_eq!(content(&out.json()), "from openai");
    assert_eq!(out.sent[0].header("authorization"), Some("Bearer key-OA"));
    assert_eq!(out.header("x-modelmux-provider"), None);
    assert_eq!(stat(&w, "gpt", "oa", "requests"), 1);
    // One attempt per request on the direct path (the failure ratio's
    // denominator for every model).
    assert_eq!(stat(&w, "gpt", "oa", "attempts"), 1);
    assert_eq!(w.live_records(), 0);
}

#[test]
fn openai_429_fails_over_to_anthropic_translated() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => error(429, "openai", &[]),
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(content(&out.json()), "from anthropic");
    assert_eq!(out.json()["model"], "smart");
    assert_eq!(out.header("x-modelmux-status"), None);
    assert_eq!(out.header("x-modelmux-provider"), Some("an"));
    assert_eq!(
        out.filter_state
            .get("modelmux_provider")
            .map(String::as_str),
        Some("an")
    );
    let (a, b) = (&out.sent[0], &out.sent[1]);
    assert_eq!((a.provider.as_str(), b.provider.as_str()), ("oa", "an"));
    assert_eq!(a.header(":path"), Some("/v1/chat/completions"));
    assert_eq!(a.header("authorization"), Some("Bearer key-OA"));
    assert_eq!(b.header(":path"), Some("/v1/messages"));
    assert_eq!(b.header(":authority"), Some("an.test"));
    assert_eq!(b.header("x-api-key"), Some("key-AN"));
    assert_eq!(
        b.header("authorization"),
        None,
        "attempt 1's key must not reach attempt 2"
    );
    assert_eq!(b.json()["model"], "claude-x");
    assert_eq!(b.json()["max_tokens"], 4096);
    assert_eq!(
        b.header("content-length"),
        Some(b.body.len().to_string().as_str())
    );
    assert_eq!(stat(&w, "smart", "oa", "attempts"), 1);
    assert_eq!(stat(&w, "smart", "oa", "failures_429"), 1);
    assert_eq!(stat(&w, "smart", "an", "attempts"), 1);
    assert_eq!(stat(&w, "smart", "an", "failovers"), 1);
    assert_eq!(stat(&w, "smart", "an", "requests"), 1);
    assert_eq!(stat(&w, "smart", "an", "errors"), 0);
    assert_eq!(stat(&w, "smart", "an", "input_tokens"), 4);
    assert_eq!(stat(&w, "smart", "oa", "input_tokens"), 0);
    assert_eq!(w.live_records(), 0);
}

#[test]
fn anthropic_529_fails_over_to_openai() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("rev", false), |p, _| match p {
        "an" => error(529, "anthropic", &[]),
        _ => openai_ok(),
    });
    assert_eq!(out.status, 200);
    assert_eq!(content(&out.json()), "from openai");
    assert_eq!(out.sent[1].header("x-api-key"), None);
    assert_eq!(out.sent[1].header("anthropic-version"), None);
    assert_eq!(out.sent[1].json()["model"], "gpt-4o");
    assert_eq!(stat(&w, "rev", "an", "failures_5xx"), 1);
}

#[test]
fn a_to_b_to_a_never_leaks_a_foreign_key() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("tri", false), |p, _| match p {
        "ob" => openai_ok(),
        _ => error(503, "openai", &[]),
    });
    assert_eq!(out.status, 200);
    let third = &out.sent[2];
    assert_eq!(third.provider, "ob");
    assert_eq!(third.header("authorization"), Some("Bearer key-OB"));
    assert_eq!(third.header("x-api-key"), None);
    assert_eq!(third.header("anthropic-version"), None);
    assert_eq!(third.json()["model"], "gpt-4o-mini");
    // Every attempt carries the record id the filter issued.
    let id = out.sent[0].header("x-request-id").unwrap();
    assert_ne!(id, "req-1");
    for s in &out.sent {
        assert!(!s.headers.iter().any(|(_, v)| v.contains("client-secret")));
        assert_eq!(s.header("x-request-id"), Some(id));
    }
}

#[test]
fn client_retry_and_routing_headers_are_not_honoured() {
    let w = worker();
    let mut client = CLIENT.to_vec();
    client.extend([
        ("x-envoy-max-retries", "7"),
        ("x-envoy-retry-on", "4xx"),
        ("x-modelmux-failover", "1"),
    ]);
    let out = run(&w, &client, &chat("gpt", false), |_, _| openai_ok());
    assert_eq!(out.status, 200);
    assert!(out.sent[0]
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("x-envoy-") && n != "x-modelmux-failover"));
    let mut d = crate::session::Downstream::default();
    let body = chat("tri", false);
    let mut dh = super::fake::FakeHost::with_request(&client, &body);
    d.on_request_headers(&w, &mut dh, false);
    d.on_request_body(&w, &mut dh, body.len(), true);
    assert_eq!(dh.req("x-envoy-max-retries"), Some("2"));
    assert_eq!(dh.req("x-envoy-retry-on"), None);
}

#[test]
fn every_target_failing_returns_the_last_real_status() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => error(503, "openai", &[]),
        _ => respond(
            429,
            &[("content-type", "application/json")],
            &[br#"{"type":"error","error":{"type":"rate_limit_error","message":"Too many"}}"#],
        ),
    });
    assert_eq!(out.status, 429);
    assert_eq!(out.json()["error"]["message"], "Too many");
    assert_eq!(out.header("x-modelmux-status"), None);
    assert_eq!(stat(&w, "smart", "an", "exhausted"), 1);
    assert_eq!(stat(&w, "smart", "an", "errors"), 1);
    assert_eq!(stat(&w, "smart", "oa", "exhausted"), 0);
}

#[test]
fn refused_connections_fail_over_and_exhaust_as_envoy_reply() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => Answer::Refuse,
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200);
    assert_eq!(stat(&w, "smart", "oa", "failures_connect"), 1);
    let out = run(&w, CLIENT, &chat("smart", false), |_, _| Answer::Refuse);
    assert_eq!(out.status, 503);
    assert_eq!(out.json()["error"]["type"], "server_error");
    assert!(out.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("connection failure"));
    assert_eq!(stat(&w, "smart", "an", "exhausted"), 1);
}

#[test]
fn an_error_behind_a_2xx_fails_over() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("rev", false), |p, _| match p {
        "an" => error(200, "anthropic", &[]),
        _ => openai_ok(),
    });
    assert_eq!(out.status, 200);
    assert_eq!(content(&out.json()), "from openai");
    assert_eq!(stat(&w, "rev", "an", "failures_overloaded"), 1);
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => error(200, "openai", &[]),
        _ => anthropic_ok(),
    });
    assert_eq!(content(&out.json()), "from anthropic");
    assert_eq!(stat(&w, "smart", "oa", "failures_overloaded"), 1);
}

#[test]
fn streams_fail_over_before_the_first_byte() {
    let w = worker();
    let overloaded = respond(200, &[("content-type", "text/event-stream")], &[b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"]);
    let out = run(&w, CLIENT, &chat("rev", true), |p, _| {
        match p {
        "an" => overloaded.clone(),
        _ => respond(200, &[("content-type", "text/event-stream")], &[b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hey\"},\"finish_reason\":null}]}\n\n", b"data: [DONE]\n\n"]),
    }
    });
    assert_eq!(out.status, 200);
    assert!(out.text().contains("\"hey\""), "{}", out.text());
    assert!(out.text().ends_with("data: [DONE]\n\n"));
    assert_eq!(out.sent[1].json()["stream_options"]["include_usage"], true);
    assert_eq!(stat(&w, "rev", "an", "failures_overloaded"), 1);
    let out = run(&w, CLIENT, &chat("smart", true), |p, _| match p {
        "oa" => error(500, "openai", &[]),
        _ => anthropic_stream(),
    });
    assert_eq!(out.status, 200);
    assert_eq!(out.header("content-type"), Some("text/event-stream"));
    assert!(out.text().contains("\"streamed\""), "{}", out.text());
    assert!(out.text().ends_with("data: [DONE]\n\n"));
    assert_eq!(stat(&w, "smart", "an", "output_tokens"), 5);
}

#[test]
fn client_errors_do_not_fail_over() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| {
        match p {
        "oa" => respond(400, &[("content-type", "application/json")], &[br#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#]),
        _ => panic!("must not be tried"),
    }
    });
    assert_eq!(out.status, 400);
    assert_eq!(out.sent.len(), 1);
    assert_eq!(stat(&w, "smart", "oa", "exhausted"), 0);
}

#[test]
fn retry_after_opens_a_circuit_seen_by_every_worker() {
    let store = Rc::new(MemoryStore::default());
    let w1 = worker_on(Rc::clone(&store), 1_000_000);
    let w2 = worker_on(Rc::clone(&store), 1_000_000);
    let out = run(&w1, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => error(429, "openai", &[("retry-after", "2")]),
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200);
    assert_eq!(stat(&w1, "smart", "oa", "circuit_opened"), 1);
    assert_eq!(health::open_until(store.as_ref(), "oa"), 1_002_000);
    // Worker 2 starts its next request on Anthropic without trying OpenAI.
    let out = run(&w2, CLIENT, &chat("smart", false), |p, _| match p {
        "an" => anthropic_ok(),
        _ => panic!("circuit open: oa must not be first"),
    });
    assert_eq!(out.sent.len(), 1);
    assert_eq!(stat(&w2, "smart", "oa", "circuit_skips"), 1);
    // Once the time has passed, OpenAI is first again.
    w2.tick(1_002_001);
    let out = run(&w2, CLIENT, &chat("smart", false), |_, _| openai_ok());
    assert_eq!(out.sent[0].provider, "oa");
}

#[test]
fn weighted_split_follows_the_weights_and_skips_an_open_side() {
    let store = Rc::new(MemoryStore::default());
    let w = worker_on(Rc::clone(&store), 1_000);
    let mut first = std::collections::HashMap::new();
    for _ in 0..100 {
        let out = run(&w, CLIENT, &chat("split", false), |p, _| {
            if p == "oa" {
                openai_ok()
            } else {
                anthropic_ok()
            }
        });
        *first.entry(out.sent[0].provider.clone()).or_insert(0) += 1;
    }
    assert_eq!(first.get("oa"), Some(&10));
    assert_eq!(first.get("an"), Some(&90));
    health::trip(store.as_ref(), "an", 60_000);
    for _ in 0..20 {
        let out = run(&w, CLIENT, &chat("split", false), |_, _| openai_ok());
        assert_eq!(out.sent[0].provider, "oa");
    }
}

#[test]
fn an_unknown_endpoint_is_a_clear_error_not_a_wrong_translation() {
    let w = worker();
    let mut d = crate::session::Downstream::default();
    let body = chat("smart", false);
    let mut dh = super::fake::FakeHost::with_request(CLIENT, &body);
    d.on_request_headers(&w, &mut dh, false);
    d.on_request_body(&w, &mut dh, body.len(), true);
    let mut uh = super::fake::FakeHost {
        req_headers: dh.req_headers.clone(),
        req_body: body.clone(),
        ..Default::default()
    };
    uh.properties.insert(
        "xds.upstream_host_metadata.filter_metadata.modelmux.provider".into(),
        "ghost".into(),
    );
    let mut up = crate::session::Upstream::default();
    up.on_request_headers(&w, &mut uh);
    let (status, reply) = uh.reply.clone().unwrap();
    assert_eq!(status, 502);
    let v: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(v["error"]["code"], "gateway_config_mismatch");
    assert_eq!(w.stats.pending("modelmux.config_mismatch"), 1);
    assert!(uh
        .logs
        .borrow()
        .iter()
        .any(|(_, m)| m.contains("provider is `ghost`")));
}

#[test]
fn a_request_one_target_cannot_take_is_refused_up_front() {
    let w = worker();
    let body = json!({"model": "smart", "n": 2, "messages": [{"role": "user", "content": "hi"}]})
        .to_string();
    let out = run(&w, CLIENT, body.as_bytes(), |_, _| panic!("not sent"));
    assert_eq!(out.status, 400);
    assert_eq!(out.json()["error"]["param"], "n");
}

#[test]
fn a_body_over_the_retry_buffer_is_refused_and_logged() {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [{"name": "smart", "targets": [{"provider": "oa", "model": "a"}, {"provider": "an", "model": "b"}]}],
        "failover": {"retry_buffer_bytes": 64}
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    let w = Worker::new(cfg, Box::new(MemoryStore::default()), 0, 1);
    let out = run(&w, CLIENT, &chat("smart", false), |_, _| panic!("not sent"));
    assert_eq!(out.status, 413);
}

#[test]
fn a_held_stream_is_the_same_under_every_split() {
    let Answer::Respond { chunks, .. } = anthropic_stream() else {
        unreachable!()
    };
    let whole = chunks.concat();
    let run_with = |pieces: Vec<Vec<u8>>| {
        let w = worker();
        let answer = Answer::Respond {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: pieces,
        };
        let out = run(&w, CLIENT, &chat("rev", true), |_, _| answer.clone());
        (out.status, out.text())
    };
    let reference = run_with(vec![whole.clone()]);
    assert_eq!(reference.0, 200);
    assert!(reference.1.contains("\"streamed\"") && reference.1.ends_with("data: [DONE]\n\n"));
    for cut in 1..whole.len() {
        let pieces = vec![whole[..cut].to_vec(), whole[cut..].to_vec()];
        assert_eq!(run_with(pieces), reference, "split at byte {cut}");
    }
    let bytes = whole.iter().map(|b| vec![*b]).collect();
    assert_eq!(run_with(bytes), reference, "one byte at a time");
}

#[test]
fn a_stream_failing_first_on_the_last_attempt_is_one_clean_json_error() {
    let w = worker();
    let err =
        br#"data: {"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}

"#;
    let out = run(&w, CLIENT, &chat("rev", true), |p, _| match p {
        "oa" => respond(
            200,
            &[("content-type", "text/event-stream")],
            &[err, b"data: [DONE]\n\n"],
        ),
        _ => error(503, "anthropic", &[]),
    });
    assert_eq!(out.status, 503);
    assert_eq!(out.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&out.body).unwrap_or_else(|_| panic!("{}", out.text()));
    assert_eq!(v["error"]["type"], "server_error");
    assert_eq!(
        out.header("content-length"),
        Some(out.body.len().to_string().as_str())
    );
}
