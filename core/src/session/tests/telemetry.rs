//! Token kinds, cost, the consumer label, histogram samples and the
//! access-log fields, through whole flows.

use std::rc::Rc;

use serde_json::json;

use super::fake::MemoryStore;
use super::router::{respond, run, Answer};
use crate::config::Config;
use crate::session::Worker;

fn config() -> Config {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o",
                "price": {"input": 2.5, "cache_read": 1.25, "output": 10}}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x",
                "price": {"input": 3, "cache_read": 0.3, "cache_write": 3.75, "output": 15}}]},
            {"name": "free", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "smart", "targets": [{"provider": "an", "model": "claude-x",
                "price": {"input": 3, "output": 15}}, {"provider": "oa", "model": "gpt-4o"}]}
        ],
        "consumers": {"header": "x-team", "allowed": ["alpha", "beta"]}
    });
    Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap()
}

fn client(team: Option<&str>) -> Vec<(&str, &str)> {
    let mut h = vec![
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        (":authority", "gw"),
        ("content-type", "application/json"),
        ("x-request-id", "req-t"),
    ];
    if let Some(t) = team {
        h.push(("x-team", t));
    }
    h
}

fn body(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

/// OpenAI usage: 1000 prompt tokens of which 400 cached, 200 completion
/// of which 50 reasoning.
fn openai_ok() -> Answer {
    let body = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                  "prompt_tokens_details": {"cached_tokens": 400},
                  "completion_tokens_details": {"reasoning_tokens": 50}}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

/// Anthropic usage: 100 uncached, 2000 cache reads, 500 cache writes, 300 out.
fn anthropic_ok() -> Answer {
    let body = json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "cache_read_input_tokens": 2000,
                  "cache_creation_input_tokens": 500, "output_tokens": 300}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

fn worker() -> Worker {
    Worker::new(
        config(),
        Box::new(Rc::new(MemoryStore::default())),
        1_000_000,
        7,
    )
}

fn pending(w: &Worker, name: &str) -> u64 {
    w.stats.pending(&format!("modelmux.{name}"))
}

#[test]
fn openai_tokens_apart_and_cost_by_hand() {
    let w = worker();
    let out = run(&w, &client(Some("alpha")), &body("gpt", false), |_, _| {
        openai_ok()
    });
    assert_eq!(out.status, 200);
    let s = |c: &str| pending(&w, &format!("m.gpt.p.oa.c.alpha.{c}"));
    assert_eq!(s("requests"), 1);
    assert_eq!(s("input_tokens"), 1000);
    assert_eq!(s("uncached_input_tokens"), 600);
    assert_eq!(s("cached_tokens"), 400);
    assert_eq!(s("cache_write_tokens"), 0);
    assert_eq!(s("output_tokens"), 200);
    assert_eq!(s("reasoning_tokens"), 50);
    // 600 × 2.5 + 400 × 1.25 + 150 × 10 + 50 × 10 (reasoning as output) µUSD,
    // held in nano-USD until the flush.
    assert_eq!(s("cost_micro_usd"), (1500 + 500 + 1500 + 500) * 1000);
    assert_eq!(
        out.filter_state
            .get("modelmux_cost_usd")
            .map(String::as_str),
        Some("0.004000000")
    );
    assert_eq!(
        out.filter_state
            .get("modelmux_input_tokens")
            .map(String::as_str),
        Some("1000")
    );
    assert_eq!(
        out.filter_state
            .get("modelmux_upstream_model")
            .map(String::as_str),
        Some("gpt-4o")
    );
}

#[test]
fn anthropic_cache_writes_are_priced_apart() {
    let w = worker();
    run(&w, &client(Some("beta")), &body("claude", false), |_, _| {
        anthropic_ok()
    });
    let s = |c: &str| pending(&w, &format!("m.claude.p.an.c.beta.{c}"));
    assert_eq!(s("input_tokens"), 2600);
    assert_eq!(s("uncached_input_tokens"), 100);
    assert_eq!(s("cached_tokens"), 2000);
    assert_eq!(s("cache_write_tokens"), 500);
    // 100 × 3 + 2000 × 0.3 + 500 × 3.75 + 300 × 15 = 300 + 600 + 1875 + 4500 µUSD.
    assert_eq!(s("cost_micro_usd"), 7275 * 1000);
}

#[test]
fn flushed_cost_is_whole_micro_usd_and_keeps_the_remainder() {
    let w = worker();
    run(&w, &client(Some("alpha")), &body("gpt", false), |_, _| {
        openai_ok()
    });
    let name = "modelmux.m.gpt.p.oa.c.alpha.cost_micro_usd";
    let slot = w.stats.names().iter().position(|n| n == name).unwrap();
    let mut flushed = Vec::new();
    w.stats.drain(|s, v| {
        if s == slot {
            flushed.push(v)
        }
    });
    assert_eq!(flushed, vec![4000]);
}

#[test]
fn consumers_are_bounded_and_unpriced_models_have_no_cost_series() {
    let w = worker();
    run(
        &w,
        &client(Some("mallory")),
        &body("free", false),
        |_, _| openai_ok(),
    );
    run(&w, &client(None), &body("free", false), |_, _| openai_ok());
    assert_eq!(pending(&w, "m.free.p.oa.c.other.requests"), 1);
    assert_eq!(pending(&w, "m.free.p.oa.c.none.requests"), 1);
    assert!(w.stats.names().iter().all(|n| !n.contains("mallory")));
    assert!(!w
        .stats
        .names()
        .iter()
        .any(|n| n.starts_with("modelmux.m.free.") && n.ends_with("cost_micro_usd")));
    assert!(w
        .stats
        .names()
        .iter()
        .any(|n| n == "modelmux.m.gpt.p.oa.c.none.cost_micro_usd"));
}

#[test]
fn failover_counts_tokens_and_cost_for_the_serving_target_and_consumer() {
    let w = worker();
    let out = run(&w, &client(Some("alpha")), &body("smart", false), |p, _| {
        if p == "an" {
            anthropic_ok()
        } else {
            openai_ok()
        }
    });
    assert_eq!(out.status, 200);
    assert_eq!(pending(&w, "m.smart.p.an.c.alpha.requests"), 1);
    assert_eq!(pending(&w, "m.smart.p.an.c.alpha.output_tokens"), 300);
    // input 3, output 15; cache tokens bill as input without their own price.
    assert_eq!(
        pending(&w, "m.smart.p.an.c.alpha.cost_micro_usd"),
        (2600 * 3 + 300 * 15) * 1000
    );
    assert_eq!(
        out.filter_state
            .get("modelmux_output_tokens")
            .map(String::as_str),
        Some("300")
    );
}

#[test]
fn a_request_queues_one_duration_sample_and_streams_queue_ttft() {
    let w = worker();
    run(&w, &client(None), &body("gpt", false), |_, _| openai_ok());
    assert_eq!(
        w.stats
            .pending_samples("modelmux.m.gpt.p.oa.request_duration_ms")
            .len(),
        1
    );
    assert!(w
        .stats
        .pending_samples("modelmux.m.gpt.p.oa.ttft_ms")
        .is_empty());
    let sse = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\ndata: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"}}]}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n";
    run(&w, &client(None), &body("gpt", true), |_, _| {
        respond(200, &[("content-type", "text/event-stream")], &[sse])
    });
    assert_eq!(
        w.stats.pending_samples("modelmux.m.gpt.p.oa.ttft_ms").len(),
        1
    );
    assert_eq!(
        w.stats
            .pending_samples("modelmux.m.gpt.p.oa.time_per_output_token_us")
            .len(),
        1
    );
    assert_eq!(
        w.stats
            .pending_samples("modelmux.m.gpt.p.oa.request_duration_ms")
            .len(),
        2
    );
}

/// An Anthropic stream; `text` empty means a reply without any content.
fn anthropic_stream(text: &str) -> Answer {
    let mut sse = String::from("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n");
    if !text.is_empty() {
        sse.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        sse.push_str(&format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"));
    }
    sse.push_str("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n");
    sse.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    respond(
        200,
        &[("content-type", "text/event-stream")],
        &[sse.as_bytes()],
    )
}

#[test]
fn failover_ttft_is_the_serving_attempts_first_content() {
    let w = worker();
    let ttft = "modelmux.m.smart.p.an.ttft_ms";
    let out = run(&w, &client(None), &body("smart", true), |_, _| {
        anthropic_stream("")
    });
    assert_eq!(out.status, 200);
    // The role chunk went out, but no content: no time to first token.
    assert!(w.stats.pending_samples(ttft).is_empty());
    assert!(!out.filter_state.contains_key("modelmux_ttft_ms"));
    let out = run(&w, &client(None), &body("smart", true), |_, _| {
        anthropic_stream("hi")
    });
    assert_eq!(out.status, 200);
    assert_eq!(w.stats.pending_samples(ttft).len(), 1);
    assert!(out.filter_state.contains_key("modelmux_ttft_ms"));
}
