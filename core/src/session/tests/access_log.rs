//! The access log's two paths: `path` is the client's, `upstream_path`
//! what went to the provider (the serving attempt's, with failover). The
//! single-target role writes the upstream path into the very header map
//! Envoy's `%REQ(:PATH)%` reads, so the client's is kept in filter state.

use serde_json::json;

use super::fake::MemoryStore;
use super::router::{respond, run, Answer, Outcome};
use crate::config::Config;
use crate::session::Worker;

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "smart", "targets": [{"provider": "an", "model": "claude-x"},
                                          {"provider": "oa", "model": "gpt-4o"}]}
        ]
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    Worker::new(cfg, Box::new(MemoryStore::default()), 1_000, 7)
}

fn client(path: &str) -> Vec<(&str, &str)> {
    vec![
        (":method", "POST"),
        (":path", path),
        (":authority", "gw"),
        ("content-type", "application/json"),
    ]
}

fn chat(model: &str) -> Vec<u8> {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn answer(provider: &str, anthropic_fails: bool) -> Answer {
    let json = [("content-type", "application/json")];
    let body = match provider {
        "an" if anthropic_fails => return respond(503, &json, &[b"{}"]),
        "an" => json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1}}),
        _ => json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
    };
    respond(200, &json, &[body.to_string().as_bytes()])
}

fn state<'a>(out: &'a Outcome, name: &str) -> Option<&'a str> {
    out.filter_state.get(name).map(String::as_str)
}

#[test]
fn a_translated_request_logs_the_client_path_and_the_upstream_path_apart() {
    let w = worker();
    let out = run(
        &w,
        &client("/v1/chat/completions"),
        &chat("claude"),
        |p, _| answer(p, false),
    );
    assert_eq!(out.status, 200);
    // The header map the log would read holds the upstream path...
    let logged_header = out.request_headers.iter().find(|(n, _)| n == ":path");
    assert_eq!(logged_header.map(|(_, v)| v.as_str()), Some("/v1/messages"));
    // ...so the client's is kept apart.
    assert_eq!(state(&out, "modelmux_path"), Some("/v1/chat/completions"));
    assert_eq!(state(&out, "modelmux_upstream_path"), Some("/v1/messages"));
}

#[test]
fn failover_logs_the_serving_attempts_upstream_path() {
    for (anthropic_fails, served) in [(false, "/v1/messages"), (true, "/v1/chat/completions")] {
        let w = worker();
        let out = run(
            &w,
            &client("/v1/chat/completions"),
            &chat("smart"),
            |p, _| answer(p, anthropic_fails),
        );
        assert_eq!(out.status, 200);
        assert_eq!(state(&out, "modelmux_path"), Some("/v1/chat/completions"));
        assert_eq!(state(&out, "modelmux_upstream_path"), Some(served));
    }
}

#[test]
fn requests_the_filter_answers_itself_log_their_path_and_no_upstream_path() {
    let w = worker();
    let out = run(&w, &client("/v1/chat/completions"), b"{not json", |p, _| {
        answer(p, false)
    });
    assert_eq!(out.status, 400);
    assert_eq!(state(&out, "modelmux_path"), Some("/v1/chat/completions"));
    assert_eq!(state(&out, "modelmux_upstream_path"), None);
}
