//! Host-call budget: every host call crosses the VM boundary in Envoy, so
//! header filtering must not add any. The numbers are the calls each role
//! made before the allowlists existed (measured with this fake).

use serde_json::json;

use super::fake::MemoryStore;
use super::router::{respond, run, Answer};
use crate::config::Config;
use crate::session::Worker;

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
        ],
        "consumers": {"header": "x-team", "allowed": ["search"]}
    });
    let env = |name: &str| Some(format!("key-{name}"));
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    Worker::new(cfg, Box::new(MemoryStore::default()), 1_000, 7)
}

const CLIENT: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("content-type", "application/json"),
    ("x-request-id", "req-1"),
    ("x-team", "search"),
];

fn chat(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn openai_ok() -> Answer {
    let body = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}});
    let headers = [
        ("content-type", "application/json"),
        ("x-request-id", "up-1"),
        ("set-cookie", "a=b"),
    ];
    respond(200, &headers, &[body.to_string().as_bytes()])
}

fn anthropic_ok() -> Answer {
    let body = json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 4, "output_tokens": 6}});
    let headers = [
        ("content-type", "application/json"),
        ("request-id", "up-1"),
        ("set-cookie", "a=b"),
    ];
    respond(200, &headers, &[body.to_string().as_bytes()])
}

#[test]
fn header_filtering_adds_no_host_calls() {
    let w = worker();
    // (model, stream, calls before the allowlists)
    for (model, stream, before) in [
        ("gpt", false, BEFORE_GPT),
        ("gpt", true, BEFORE_GPT_STREAM),
        ("claude", false, BEFORE_CLAUDE),
    ] {
        let out = run(&w, CLIENT, &chat(model, stream), |p, _| match p {
            "oa" => openai_ok(),
            _ => anthropic_ok(),
        });
        assert_eq!(out.status, 200, "{}", out.text());
        println!(
            "{model} stream={stream}: downstream {} calls",
            out.down_calls
        );
        assert!(
            out.down_calls <= before + LOG_PATHS,
            "{model} stream={stream}: {} host calls, {before} before",
            out.down_calls
        );
    }
    let out = run(&w, CLIENT, &chat("smart", false), |p, _| match p {
        "oa" => respond(503, &[("content-type", "application/json")], &[b"{}"]),
        _ => anthropic_ok(),
    });
    assert_eq!(out.status, 200, "{}", out.text());
    println!(
        "failover: downstream {}, attempts {:?}",
        out.down_calls, out.up_calls
    );
    assert!(out.down_calls <= BEFORE_FAILOVER_DOWN + LOG_PATHS);
    for (calls, before) in out.up_calls.iter().zip(BEFORE_ATTEMPTS) {
        assert!(
            *calls <= before,
            "attempt: {calls} host calls, {before} before"
        );
    }
}

// Measured on commit 59a2808 (per-header response reads and writes, the
// consumer header read with its own call), with this config and client.
const BEFORE_GPT: u32 = 49;
const BEFORE_GPT_STREAM: u32 = 84;
const BEFORE_CLAUDE: u32 = 20;
const BEFORE_FAILOVER_DOWN: u32 = 18;
const BEFORE_ATTEMPTS: [u32; 2] = [19, 15];
// Added since, on purpose: the access log's client and upstream paths (one
// filter-state write each, downstream; an attempt notes its path in the
// record, no host call).
const LOG_PATHS: u32 = 2;
