//! Bedrock ConverseStream (AWS event-stream frames) → OpenAI chunk
//! translation, driven by hand-written synthetic event lists encoded with
//! `eventstream::encode`, including every way of splitting each stream in
//! two and byte-at-a-time feeding.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::{Config, Provider};
use modelmux_core::eventstream::encode;
use modelmux_core::providers::{BodyMode, TargetCtx, Translator};
use modelmux_core::usage::Usage;
use serde_json::{json, Value};

mod common;
use common::{chunks, text_of, Event, Run};

const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

fn provider() -> Provider {
    let v = json!({
        "providers": [{"name": "br", "type": "bedrock", "cluster": "c_br",
                       "region": "eu-west-1", "auth": {"type": "envoy"}}],
        "models": [{"name": "smart", "targets": [{"provider": "br", "model": MODEL}]}]
    });
    let mut c = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    c.providers.remove(0)
}

fn translator(include_usage: bool) -> Box<dyn Translator> {
    let provider = provider();
    let target = TargetCtx {
        provider: &provider,
        model: MODEL,
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let body = json!({"model": "smart", "stream": true, "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "hi"}]});
    let (mut chat, out) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target).unwrap();
    assert_eq!(
        out.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
    );
    let edit = chat.response_headers(200, &|h| {
        (h == "x-amzn-requestid").then(|| "5e8c-req".to_string())
    });
    assert_eq!(edit.mode, BodyMode::Stream);
    assert_eq!(edit.content_type, Some("text/event-stream"));
    assert!(edit.drop_content_length);
    chat
}

fn run(input: &[u8], include_usage: bool, cuts: &[usize]) -> Run {
    common::run(translator(include_usage), input, cuts)
}

/// One event frame as ConverseStream sends it.
fn event(kind: &str, payload: Value) -> Vec<u8> {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

fn exception(kind: &str, message: &str) -> Vec<u8> {
    encode(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json!({"message": message}).to_string().as_bytes(),
    )
}

fn stream(events: &[(&str, Value)]) -> Vec<u8> {
    events
        .iter()
        .flat_map(|(k, p)| event(k, p.clone()))
        .collect()
}

fn text_stream() -> Vec<u8> {
    stream(&[
        (
            "messageStart",
            json!({"role": "assistant", "p": "abcdefgh"}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Grüß"}, "p": "ab"}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": " Gott 🚀"}}),
        ),
        (
            "contentBlockStop",
            json!({"contentBlockIndex": 0, "p": "abcd"}),
        ),
        ("messageStop", json!({"stopReason": "end_turn", "p": "x"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 12, "outputTokens": 4, "totalTokens": 46,
                                      "cacheReadInputTokens": 30}, "metrics": {"latencyMs": 321}}),
        ),
    ])
}

fn tool_stream() -> Vec<u8> {
    stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Check."}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "c2ln"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_A", "name": "get_weather"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Zürich\"}"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_B", "name": "now"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 2})),
        ("someFutureEvent", json!({"x": 1})),
        ("messageStop", json!({"stopReason": "tool_use"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 100, "outputTokens": 20, "cacheWriteInputTokens": 5}}),
        ),
    ])
}

fn exception_stream() -> Vec<u8> {
    let mut s = stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Part"}}),
        ),
    ]);
    s.extend(exception(
        "throttlingException",
        "Too many requests, please wait.",
    ));
    s
}

fn truncated_stream() -> Vec<u8> {
    stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Cut"}}),
        ),
    ])
}

fn chunk(delta: Value, finish: Value) -> Event {
    Event::Chunk(json!({
        "id": "5e8c-req", "object": "chat.completion.chunk",
        "created": 1_750_000_000u64, "model": "smart",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    }))
}

#[test]
fn text_stream_exact_output() {
    let run = run(&text_stream(), false, &[]);
    let want = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Grüß"}), Value::Null),
        chunk(json!({"content": " Gott 🚀"}), Value::Null),
        chunk(json!({}), json!("stop")),
        Event::Done,
    ];
    assert_eq!(run.events, want);
    let usage = Usage {
        implausible: false,
        input: 42,
        cache_read: 30,
        cache_write: 0,
        output: 4,
        reasoning: 0,
    };
    assert_eq!(run.usage, usage);
    assert!(!run.failed);
}

#[test]
fn usage_chunk_comes_from_metadata_after_message_stop() {
    let run = run(&text_stream(), true, &[]);
    let c = chunks(&run);
    let last = c.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 42);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["prompt_tokens_details"]["cached_tokens"], 30);
    assert_eq!(run.events.last(), Some(&Event::Done));
}

#[test]
fn reasoning_and_tool_calls() {
    let run = run(&tool_stream(), false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    let c = chunks(&run);
    let reasoning: String = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "Check.");
    let deltas: Vec<&Value> = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert_eq!(
        deltas,
        vec![
            &json!({"index": 0, "id": "tooluse_A", "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}),
            &json!({"index": 0, "function": {"arguments": "{\"city\":"}}),
            &json!({"index": 0, "function": {"arguments": "\"Zürich\"}"}}),
            &json!({"index": 1, "id": "tooluse_B", "type": "function",
                    "function": {"name": "now", "arguments": ""}}),
            &json!({"index": 1, "function": {"arguments": "{}"}}),
        ]
    );
    let signatures: Vec<&Value> = c
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("thinking_blocks"))
        .collect();
    assert_eq!(
        signatures,
        vec![&json!([{"type": "thinking", "signature": "c2ln"}])]
    );
    let finish: Vec<&Value> = c
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, vec![&json!("tool_calls")]);
    let usage = Usage {
        implausible: false,
        input: 105,
        cache_read: 0,
        cache_write: 5,
        output: 20,
        reasoning: 0,
    };
    assert_eq!(run.usage, usage);
}

#[test]
fn exception_frame_ends_with_an_openai_error() {
    let run = run(&exception_stream(), false, &[]);
    assert!(run.failed);
    assert_eq!(text_of(&run), "Part");
    let c = chunks(&run);
    let err = &c.last().unwrap()["error"];
    assert_eq!(
        err["message"],
        "throttlingException: Too many requests, please wait."
    );
    assert_eq!(err["type"], "rate_limit_error");
    assert!(!run.events.contains(&Event::Done));
    let mut model_err = truncated_stream();
    model_err.extend(exception("modelStreamErrorException", "boom"));
    let second = self::run(&model_err, false, &[]);
    let c = chunks(&second);
    assert_eq!(c.last().unwrap()["error"]["type"], "server_error");
    assert_eq!(
        c.last().unwrap()["error"]["message"],
        "modelStreamErrorException: boom"
    );
}

#[test]
fn truncated_streams_fail() {
    let run = run(&truncated_stream(), false, &[]);
    assert!(run.failed);
    assert_eq!(text_of(&run), "Cut");
    let c = chunks(&run);
    let msg = c.last().unwrap()["error"]["message"].as_str().unwrap();
    assert!(msg.contains("ended the stream"), "{msg}");
    // Cut inside the last frame, after messageStop went by: still truncated.
    let whole = text_stream();
    let cut = self::run(&whole[..whole.len() - 3], false, &[]);
    assert!(cut.failed);
    assert!(!cut.events.contains(&Event::Done));
}

#[test]
fn message_stop_without_metadata_still_ends() {
    let s = stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        ),
        ("messageStop", json!({"stopReason": "max_tokens"})),
    ]);
    let run = run(&s, false, &[]);
    assert!(!run.failed, "{:?}", run.events);
    assert_eq!(run.events.last(), Some(&Event::Done));
    let c = chunks(&run);
    assert_eq!(c.last().unwrap()["choices"][0]["finish_reason"], "length");
}

#[test]
fn corrupted_crc_is_malformed() {
    let mut s = text_stream();
    let at = s.len() / 2;
    s[at] ^= 0x01;
    let run = run(&s, false, &[]);
    assert!(run.failed);
    let c = chunks(&run);
    let msg = c.last().unwrap()["error"]["message"].as_str().unwrap();
    assert!(msg.contains("malformed event stream"), "{msg}");
    assert!(!run.events.contains(&Event::Done));
}

#[test]
fn invalid_known_event_fails() {
    let s = stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": 7}}),
        ),
    ]);
    assert!(run(&s, false, &[]).failed);
    let s = stream(&[(
        "contentBlockDelta",
        json!({"contentBlockIndex": 4, "delta": {"toolUse": {"input": "{}"}}}),
    )]);
    let run = run(&s, false, &[]);
    let c = chunks(&run);
    let msg = c.last().unwrap()["error"]["message"].as_str().unwrap();
    assert!(msg.contains("invalid stream event"), "{msg}");
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("text", text_stream()),
        ("tools", tool_stream()),
        ("exception", exception_stream()),
        ("truncated", truncated_stream()),
    ]
}

#[test]
fn any_split_matches_whole() {
    for (name, input) in fixtures() {
        common::assert_any_split_matches_whole(name, &input, run);
    }
}

#[test]
fn server_tool_blocks_are_skipped_and_a_tool_use_stop_without_calls_is_stop() {
    let input = stream(&[
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {
            "toolUseId": "tooluse_srv", "name": "nova_code_interpreter", "type": "server_tool_use"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"code\":\"print(6*7)\"}"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolResult": {
            "toolUseId": "tooluse_srv", "status": "success"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolResult": [{"text": "42\n"}]}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"text": "It is 42."}}),
        ),
        ("messageStop", json!({"stopReason": "tool_use"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 5, "outputTokens": 2}}),
        ),
    ]);
    let run = run(&input, false, &[]);
    assert!(!run.failed);
    assert_eq!(text_of(&run), "It is 42.");
    let all = chunks(&run);
    assert!(all
        .iter()
        .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()));
    let last = all.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], json!("stop"));
}
