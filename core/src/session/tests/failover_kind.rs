//! Streamed and non-streamed failover requests take different routes
//! (`x-modelmux-failover: stream|json`), and an attempt the router ends
//! without a response is classed as a timeout against its own route's
//! timeout.

use serde_json::json;

use super::fake::{FakeHost, MemoryStore};
use crate::config::Config;
use crate::session::{Downstream, Flow, Upstream, Worker, FAILOVER_HEADER};

const NOW: u64 = 1_000_000;

fn worker(failover: serde_json::Value) -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN"}
        ],
        "models": [
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"}, {"provider": "an", "model": "claude-x"}]},
            {"name": "embed", "targets": [{"provider": "oa", "model": "e"}, {"provider": "oa2", "model": "e"}]}
        ],
        "failover": failover
    });
    let mut v = v;
    v["providers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "oa2", "type": "openai", "cluster": "c_oa2", "host": "oa2.test", "api_key_env": "OA"}));
    let env = |name: &str| Some(format!("key-{name}"));
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    Worker::new(cfg, Box::new(MemoryStore::default()), NOW, 7)
}

/// The downstream role's routed request headers for `body` on `path`.
fn downstream(w: &Worker, path: &str, body: &[u8]) -> Vec<(String, String)> {
    let client = [
        (":method", "POST"),
        (":path", path),
        (":authority", "gw"),
        ("content-type", "application/json"),
        ("x-request-id", "req-k"),
    ];
    let mut d = Downstream::default();
    let mut dh = FakeHost::with_request(&client, body);
    dh.now.set(NOW);
    assert_eq!(d.on_request_headers(w, &mut dh, false), Flow::Pause);
    d.on_request_body(w, &mut dh, body.len(), true);
    dh.req_headers
}

fn chat(stream: bool) -> Vec<u8> {
    json!({"model": "smart", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn kind(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(n, _)| n == FAILOVER_HEADER)
        .map(|(_, v)| v.as_str())
}

#[test]
fn requests_are_marked_by_kind() {
    let w = worker(json!({}));
    assert_eq!(
        kind(&downstream(&w, "/v1/chat/completions", &chat(true))),
        Some("stream")
    );
    assert_eq!(
        kind(&downstream(&w, "/v1/chat/completions", &chat(false))),
        Some("json")
    );
    let embed = json!({"model": "embed", "input": "a"}).to_string();
    assert_eq!(
        kind(&downstream(&w, "/v1/embeddings", embed.as_bytes())),
        Some("json")
    );
}

/// One attempt that the router ends after `elapsed_ms` with no response;
/// returns (timeouts, connect failures) counted for the first target.
fn abandoned_attempt(w: &Worker, stream: bool, elapsed_ms: u64) -> (u64, u64) {
    let body = chat(stream);
    let headers = downstream(w, "/v1/chat/completions", &body);
    let mut uh = FakeHost {
        req_headers: headers,
        req_body: body.clone(),
        ..Default::default()
    };
    uh.now.set(NOW);
    uh.properties.insert(
        "xds.upstream_host_metadata.filter_metadata.modelmux.provider".into(),
        "oa".into(),
    );
    let mut up = Upstream::default();
    up.on_request_headers(w, &mut uh);
    up.on_request_body(w, &mut uh, body.len(), true);
    uh.now.set(NOW + elapsed_ms);
    up.on_done(w, &uh);
    let stat = |c: &str| w.stats.pending(&format!("modelmux.m.smart.p.oa.{c}"));
    (stat("failures_timeout"), stat("failures_connect"))
}

#[test]
fn a_stream_times_out_at_the_attempt_timeout() {
    let w = worker(json!({"attempt_timeout_ms": 2000}));
    assert_eq!(abandoned_attempt(&w, true, 2000), (1, 0));
    assert_eq!(abandoned_attempt(&w, true, 10), (1, 1));
}

#[test]
fn a_json_request_times_out_at_its_own_timeouts() {
    let w = worker(json!({"attempt_timeout_ms": 2000, "json_timeout_ms": 9000}));
    // Past the stream timeout but well before its own: not a timeout.
    assert_eq!(abandoned_attempt(&w, false, 2000), (0, 1));
    assert_eq!(abandoned_attempt(&w, false, 9000), (1, 1));
    let w = worker(json!({"json_timeout_ms": 9000, "json_attempt_timeout_ms": 4000}));
    assert_eq!(abandoned_attempt(&w, false, 4000), (1, 0));
}
