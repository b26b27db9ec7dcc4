//! `POST /v1/embeddings` through both roles: the direct path, failover,
//! and the refusals that happen before any upstream call.

use serde_json::{json, Value};

use super::fake::{FakeHost, MemoryStore};
use super::router::{respond, run, Answer};
use crate::config::Config;
use crate::session::{Downstream, Flow, Worker};

fn config() -> Config {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "az", "type": "azure", "cluster": "c_az", "host": "res.openai.azure.com", "api_key_env": "AZ"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN"},
            {"name": "gq", "type": "groq", "cluster": "c_gq", "api_key_env": "GQ"}
        ],
        "models": [
            {"name": "embed", "targets": [{"provider": "oa", "model": "text-embedding-3-small"}]},
            {"name": "embed-fo", "targets": [{"provider": "az", "model": "ada-prod"}, {"provider": "oa", "model": "text-embedding-3-small"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "mixed", "targets": [{"provider": "oa", "model": "e"}, {"provider": "an", "model": "claude-x"}]},
            {"name": "fast", "targets": [{"provider": "gq", "model": "llama"}]}
        ],
        "failover": {"attempt_timeout_ms": 1000}
    });
    let env = |name: &str| Some(format!("key-{name}"));
    Config::from_json(v.to_string().as_bytes(), &env).unwrap()
}

fn worker() -> Worker {
    Worker::new(config(), Box::new(MemoryStore::default()), 1_000_000, 7)
}

const CLIENT: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/embeddings"),
    (":authority", "gw"),
    ("authorization", "Bearer client-secret"),
    ("content-type", "application/json"),
    ("x-request-id", "req-e"),
];

fn embed(model: &str) -> Vec<u8> {
    json!({"model": model, "input": ["a", "b"], "encoding_format": "base64"})
        .to_string()
        .into_bytes()
}

fn list(prompt_tokens: u64) -> Value {
    json!({"object": "list", "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": "AACAPw=="},
                 {"object": "embedding", "index": 1, "embedding": "AAAAQA=="}],
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}})
}

fn ok(prompt_tokens: u64) -> Answer {
    let body = list(prompt_tokens).to_string();
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.as_bytes()],
    )
}

fn stat(w: &Worker, model: &str, provider: &str, counter: &str) -> u64 {
    w.stats
        .pending(&format!("modelmux.m.{model}.p.{provider}.{counter}"))
}

#[test]
fn single_target_embeddings_pass_through_and_count_tokens() {
    let w = worker();
    let out = run(&w, CLIENT, &embed("embed"), |p, _| {
        assert_eq!(p, "oa");
        ok(5)
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(out.json(), list(5));
    let sent = &out.sent[0];
    assert_eq!(sent.header(":path"), Some("/v1/embeddings"));
    assert_eq!(sent.header(":authority"), Some("oa.test"));
    assert_eq!(sent.header("authorization"), Some("Bearer key-OA"));
    assert_eq!(
        sent.json(),
        json!({"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "base64"})
    );
    assert_eq!(stat(&w, "embed", "oa", "requests"), 1);
    assert_eq!(stat(&w, "embed", "oa", "errors"), 0);
    assert_eq!(stat(&w, "embed", "oa", "input_tokens"), 5);
    assert_eq!(stat(&w, "embed", "oa", "output_tokens"), 0);
}

#[test]
fn azure_429_fails_over_to_openai() {
    let w = worker();
    let throttled =
        br#"{"error":{"code":"429","message":"Requests have exceeded the call rate limit."}}"#;
    let out = run(&w, CLIENT, &embed("embed-fo"), |p, _| match p {
        "az" => respond(429, &[("content-type", "application/json")], &[throttled]),
        _ => ok(7),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(out.json(), list(7));
    assert_eq!(out.header("x-modelmux-provider"), Some("oa"));
    let (a, b) = (&out.sent[0], &out.sent[1]);
    assert_eq!((a.provider.as_str(), b.provider.as_str()), ("az", "oa"));
    assert_eq!(
        a.header(":path"),
        Some("/openai/deployments/ada-prod/embeddings?api-version=2024-10-21")
    );
    assert_eq!(a.header(":authority"), Some("res.openai.azure.com"));
    assert_eq!(a.header("api-key"), Some("key-AZ"));
    assert_eq!(a.header("authorization"), None);
    assert_eq!(a.json()["model"], json!("ada-prod"));
    assert_eq!(b.header(":path"), Some("/v1/embeddings"));
    assert_eq!(b.header("authorization"), Some("Bearer key-OA"));
    assert_eq!(b.header("api-key"), None, "attempt 1's key must not leak");
    assert_eq!(b.json()["model"], json!("text-embedding-3-small"));
    assert_eq!(
        b.header("content-length"),
        Some(b.body.len().to_string().as_str())
    );
    assert_eq!(stat(&w, "embed-fo", "az", "failures_429"), 1);
    assert_eq!(stat(&w, "embed-fo", "oa", "failovers"), 1);
    assert_eq!(stat(&w, "embed-fo", "oa", "requests"), 1);
    assert_eq!(stat(&w, "embed-fo", "oa", "input_tokens"), 7);
    assert_eq!(stat(&w, "embed-fo", "az", "input_tokens"), 0);
    assert_eq!(w.live_records(), 0);
}

#[test]
fn an_azure_client_error_is_final_and_openai_shaped() {
    let w = worker();
    let filtered = json!({"error": {"code": "content_filter", "message": "filtered", "param": "prompt", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation"}}})
    .to_string();
    let out = run(&w, CLIENT, &embed("embed-fo"), |p, _| match p {
        "az" => respond(
            400,
            &[("content-type", "application/json")],
            &[filtered.as_bytes()],
        ),
        _ => panic!("a 400 must not fail over"),
    });
    assert_eq!(out.status, 400);
    assert_eq!(
        out.json(),
        json!({"error": {"message": "filtered", "type": "invalid_request_error", "param": "prompt",
            "code": "content_filter", "innererror": {"code": "ResponsibleAIPolicyViolation"}}})
    );
    assert_eq!(out.sent.len(), 1);
}

#[test]
fn chat_only_targets_are_refused_before_any_call() {
    let w = worker();
    for model in ["claude", "mixed", "fast"] {
        let out = run(&w, CLIENT, &embed(model), |_, _| panic!("not sent"));
        assert_eq!(out.status, 400, "{model}");
        let v = out.json();
        assert_eq!(v["error"]["param"], json!("model"), "{model}");
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not support embeddings"));
    }
    // The client's mistake: a rejection of the model, not a request or an
    // error of its provider.
    assert_eq!(stat(&w, "claude", "an", "requests"), 0);
    assert_eq!(stat(&w, "claude", "an", "errors"), 0);
    for model in ["claude", "mixed", "fast"] {
        let name = format!("modelmux.m.{model}.r.unsupported_operation.rejections");
        assert_eq!(w.stats.pending(&name), 1, "{model}");
    }
    assert_eq!(w.live_records(), 0);
}

#[test]
fn bad_bodies_are_400s_naming_the_field() {
    let w = worker();
    let cases: &[(&[u8], Value)] = &[
        (br#"{"model":"embed","input":[]}"#, json!("input")),
        (
            br#"{"model":"embed","input":"x","dimensions":0}"#,
            json!("dimensions"),
        ),
        (
            br#"{"model":"embed","input":"x","encoding_format":"hex"}"#,
            json!("encoding_format"),
        ),
        (br#"{"input":"x"}"#, Value::Null),
    ];
    for (body, param) in cases {
        let out = run(&w, CLIENT, body, |_, _| panic!("not sent"));
        assert_eq!(out.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(&out.json()["error"]["param"], param);
    }
    let out = run(&w, CLIENT, br#"{"model":"nope","input":"x"}"#, |_, _| {
        panic!("not sent")
    });
    assert_eq!(out.status, 404);
    assert_eq!(w.stats.pending("modelmux.r.invalid_request.rejections"), 4);
    // Never the client's model name as a label.
    assert_eq!(w.stats.pending("modelmux.r.unknown_model.rejections"), 1);
    assert!(w.stats.names().iter().all(|n| !n.contains("nope")));
}

#[test]
fn empty_body_and_models_list() {
    let w = worker();
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(CLIENT, b"");
    assert_eq!(d.on_request_headers(&w, &mut h, true), Flow::Pause);
    let (status, body) = h.reply.clone().unwrap();
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("embeddings request"));
    let mut d = Downstream::default();
    let mut h = FakeHost::with_request(&[(":method", "GET"), (":path", "/v1/models")], b"");
    d.on_request_headers(&w, &mut h, true);
    let (_, body) = h.reply.clone().unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["embed", "embed-fo", "claude", "mixed", "fast"]);
}
