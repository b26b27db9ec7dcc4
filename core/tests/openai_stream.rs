//! The OpenAI passthrough stream (`type: "openai"`): a stream that breaks
//! (an event over the framer's limit, a line that is not UTF-8) ends with
//! one error event and no `[DONE]`, and implausible usage is clamped and
//! flagged while the reply still reaches the client; the same at every
//! byte split.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::config::Provider;
use modelmux_core::providers::{BodyMode, TargetCtx, Translator};
use modelmux_core::sse::MAX_EVENT_BYTES;
use modelmux_core::usage::{Usage, MAX_TOKENS};
use serde_json::json;

mod common;
use common::{chunks, text_of, Event, Run};

fn translator(include_usage: bool) -> Box<dyn Translator> {
    let provider = Provider::new("oai", "openai", "api.openai.com").with_key("k");
    let target = TargetCtx {
        provider: &provider,
        model: "gpt-x",
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let body = json!({"model": "smart", "stream": true,
                      "stream_options": {"include_usage": include_usage},
                      "messages": [{"role": "user", "content": "hi"}]});
    let (mut chat, _) =
        modelmux_core::providers::chat_body(&serde_json::to_vec(&body).unwrap(), target).unwrap();
    assert_eq!(chat.response_headers(200, &|_| None).mode, BodyMode::Stream);
    chat
}

fn run(input: &[u8], include_usage: bool, cuts: &[usize]) -> Run {
    common::run(translator(include_usage), input, cuts)
}

fn chunk(content: &str) -> String {
    let c = json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-x",
                   "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
    format!("data: {c}\n\n")
}

fn usage_chunk(tokens: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"choices\":[],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{tokens}}}}}\n\n"
    )
}

fn stream(middle: &[u8], tokens: &str) -> Vec<u8> {
    [
        chunk("Hel").as_bytes(),
        middle,
        chunk("lo \u{2713}").as_bytes(),
        usage_chunk(tokens).as_bytes(),
        b"data: [DONE]\n\n",
    ]
    .concat()
}

fn ends_in_one_error(run: &Run, text: &str) {
    assert!(run.failed);
    assert!(!run.events.contains(&Event::Done), "{:?}", run.events);
    let all = chunks(run);
    let last = all.last().unwrap();
    assert_eq!(last["error"]["type"], "server_error", "{last}");
    assert_eq!(all.iter().filter(|c| c.get("error").is_some()).count(), 1);
    assert_eq!(text_of(run), text);
}

#[test]
fn invalid_utf8_event_ends_the_stream_with_an_error_at_any_split() {
    let input = stream(b"data: {\"x\":\"\xff\xfe\"}\n\n", "7");
    let whole = run(&input, true, &[]);
    ends_in_one_error(&whole, "Hel");
    assert_eq!(whole.usage, Usage::default());
    common::assert_any_split_matches_whole("invalid utf-8", &input, run);
}

#[test]
fn oversized_event_ends_the_stream_with_an_error() {
    let big = format!("data: {{\"x\":\"{}\"}}\n\n", "a".repeat(MAX_EVENT_BYTES));
    let input = stream(big.as_bytes(), "7");
    let whole = run(&input, false, &[]);
    ends_in_one_error(&whole, "Hel");
    // Cuts in the first event, in and around the big one, and at the end
    // (every byte of 4 MiB would take too long).
    let n = input.len();
    let cuts = (0..120).chain([n / 2, MAX_EVENT_BYTES]).chain(n - 120..=n);
    for include_usage in [false, true] {
        for cut in cuts.clone() {
            assert_eq!(run(&input, include_usage, &[cut]), whole, "cut at {cut}");
        }
    }
}

#[test]
fn huge_usage_is_clamped_and_flagged_but_the_reply_goes_through() {
    for (tokens, output) in [
        ("18446744073709551615", MAX_TOKENS),
        ("-3", 0),
        ("2.5", 2),
        ("\"7\"", 0),
    ] {
        let input = stream(b"", tokens);
        let r = run(&input, false, &[]);
        assert!(!r.failed, "{tokens}");
        assert_eq!(r.events.last(), Some(&Event::Done), "{tokens}");
        assert_eq!(text_of(&r), "Hello \u{2713}");
        let want = Usage {
            input: 5,
            output,
            implausible: true,
            ..Usage::default()
        };
        assert_eq!(r.usage, want, "{tokens}");
        common::assert_any_split_matches_whole(tokens, &input, run);
    }
}

#[test]
fn plausible_usage_is_not_flagged() {
    let r = run(&stream(b"", "7"), true, &[]);
    assert_eq!((r.usage.output, r.usage.implausible), (7, false));
    assert!(!r.failed);
}

#[test]
fn streamed_bytes_count_generated_text() {
    let mut chat = translator(false);
    let call = json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}]});
    let input = [
        chunk("Hel"),
        chunk("lo \u{2713}"),
        format!("data: {call}\n\n"),
    ]
    .concat();
    chat.response_body(input.as_bytes(), false);
    let out = chat.outcome();
    assert!(out.content);
    // "Hel" + "lo ✓" (3 + 6 bytes) + "f" + `{"a":1}`.
    assert_eq!(out.streamed, 3 + 6 + 1 + 7);
}
