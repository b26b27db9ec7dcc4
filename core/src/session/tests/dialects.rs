//! Client dialects through the session: the endpoints, local answers and
//! errors in the client's format, and token counting.

use serde_json::{json, Value};

use super::fake::MemoryStore;
use super::router::{respond, run, Outcome};
use crate::config::Config;
use crate::session::Worker;

fn worker() -> Worker {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test", "api_key_env": "AN"},
            {"name": "ge", "type": "gemini", "cluster": "c_ge", "host": "ge.test", "api_key_env": "GE"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}]},
            {"name": "gem", "targets": [{"provider": "ge", "model": "gemini-2.5-flash"}]}
        ]
    });
    let env = |name: &str| Some(format!("key-{name}"));
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    Worker::new(
        cfg,
        Box::new(std::rc::Rc::new(MemoryStore::default())),
        1_000_000,
        7,
    )
}

fn client(path: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "POST"),
        (":path", path),
        (":authority", "gw"),
        ("x-api-key", "client-secret"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ]
}

fn count_body(model: &str) -> Vec<u8> {
    json!({"model": model, "messages": [{"role": "user", "content": "How many tokens is this?"}]})
        .to_string()
        .into_bytes()
}

fn no_upstream(_: &str, _: usize) -> super::router::Answer {
    panic!("no provider may be asked")
}

fn anthropic_error(out: &Outcome, status: u16, kind: &str) {
    assert_eq!(out.status, status, "{}", out.text());
    let v = out.json();
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["error"]["type"], kind, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
}

#[test]
fn count_tokens_passes_through_to_anthropic_with_the_model_renamed() {
    let w = worker();
    let answer = br#"{"input_tokens":12}"#;
    let out = run(
        &w,
        &client("/v1/messages/count_tokens"),
        &count_body("claude"),
        |_, _| respond(200, &[("content-type", "application/json")], &[answer]),
    );
    assert_eq!(out.status, 200);
    assert_eq!(out.json(), json!({"input_tokens": 12}));
    let sent = &out.sent[0];
    assert_eq!(sent.provider, "an");
    assert_eq!(sent.header(":path"), Some("/v1/messages/count_tokens"));
    assert_eq!(sent.header("x-api-key"), Some("key-AN"));
    let mut want: Value = serde_json::from_slice(&count_body("claude")).unwrap();
    want["model"] = json!("claude-x");
    assert_eq!(sent.json(), want);
}

#[test]
fn count_tokens_asks_gemini_s_counter_and_answers_in_anthropic_s_format() {
    let w = worker();
    let out = run(
        &w,
        &client("/v1/messages/count_tokens"),
        &count_body("gem"),
        |_, _| {
            respond(
                200,
                &[("content-type", "application/json")],
                &[br#"{"totalTokens": 9}"#],
            )
        },
    );
    assert_eq!(out.json(), json!({"input_tokens": 9}), "{}", out.text());
    let sent = &out.sent[0];
    assert_eq!(
        sent.header(":path"),
        Some("/v1beta/models/gemini-2.5-flash:countTokens")
    );
    let v = sent.json();
    assert_eq!(
        v["generateContentRequest"]["model"],
        "models/gemini-2.5-flash"
    );
    let text = &v["generateContentRequest"]["contents"][0]["parts"][0]["text"];
    assert_eq!(text, "How many tokens is this?");
}

#[test]
fn count_tokens_without_a_counter_is_estimated_locally() {
    let w = worker();
    let body = count_body("gpt");
    let out = run(&w, &client("/v1/messages/count_tokens"), &body, no_upstream);
    assert_eq!(out.status, 200);
    let want = u64::try_from(body.len()).unwrap().div_ceil(4);
    assert_eq!(out.json(), json!({"input_tokens": want}));
}

#[test]
fn anthropic_clients_get_anthropic_errors_before_any_upstream_call() {
    let w = worker();
    let out = run(
        &w,
        &client("/v1/messages"),
        &count_body("nope"),
        no_upstream,
    );
    anthropic_error(&out, 404, "not_found_error");
    let out = run(&w, &client("/v1/messages"), b"{not json", no_upstream);
    anthropic_error(&out, 400, "invalid_request_error");
    let out = run(
        &w,
        &client("/v1/messages/count_tokens"),
        br#"{"messages":[]}"#,
        no_upstream,
    );
    anthropic_error(&out, 400, "invalid_request_error");
    assert!(out.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("model"));
    let mut get = client("/v1/messages");
    get[0] = (":method", "GET");
    let out = run(&w, &get, b"", no_upstream);
    anthropic_error(&out, 405, "invalid_request_error");
}

#[test]
fn the_model_list_is_anthropic_s_for_anthropic_clients_only() {
    let w = worker();
    let mut get = client("/v1/models");
    get[0] = (":method", "GET");
    let out = run(&w, &get, b"", no_upstream);
    let v = out.json();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt", "claude", "gem"]);
    assert_eq!(v["data"][0]["type"], "model");
    assert_eq!(v["data"][0]["created_at"], "1970-01-01T00:16:40Z");
    assert_eq!(
        (v["has_more"].clone(), v["first_id"].clone()),
        (json!(false), json!("gpt"))
    );
    get.retain(|(n, _)| *n != "anthropic-version");
    let v = run(&w, &get, b"", no_upstream).json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["object"], "model");
    let mut one = client("/v1/models/claude");
    one[0] = (":method", "GET");
    let v = run(&w, &one, b"", no_upstream).json();
    assert_eq!(
        (v["type"].clone(), v["id"].clone()),
        (json!("model"), json!("claude"))
    );
    one[1] = (":path", "/v1/models/nope");
    anthropic_error(&run(&w, &one, b"", no_upstream), 404, "not_found_error");
}
