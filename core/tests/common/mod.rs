//! Helpers shared by the stream integration tests: fixtures, feeding a
//! translator a body cut at chosen offsets, and reading its SSE output.

// Each test crate uses a different subset.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelmux_core::providers::{BodyEdit, Translator};
use modelmux_core::usage::Usage;
use serde_json::Value;

/// `core/tests/fixtures/<dir>/<name>.sse`.
pub fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/{dir}/{name}.sse",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Chunk(Value),
    Done,
}

#[derive(Debug, PartialEq)]
pub struct Run {
    pub events: Vec<Event>,
    pub usage: Usage,
    pub failed: bool,
}

/// Feeds `input` cut at `cuts` (ascending byte offsets), `end` on the last
/// piece; every piece's bytes must be replaced (a translated stream).
pub fn run(mut chat: Box<dyn Translator>, input: &[u8], cuts: &[usize]) -> Run {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, &to) in cuts.iter().chain(std::iter::once(&input.len())).enumerate() {
        let last = i == cuts.len();
        match chat.response_body(&input[from..to], last) {
            BodyEdit::Replace(bytes) => out.extend_from_slice(&bytes),
            other => panic!("stream bytes must be replaced, got {other:?}"),
        }
        from = to;
    }
    Run {
        events: parse_output(&out),
        usage: chat.usage(),
        failed: chat.failed(),
    }
}

/// The output's `data:` events: one line each, `\n\n`-terminated.
pub fn parse_output(out: &[u8]) -> Vec<Event> {
    let text = std::str::from_utf8(out).expect("output is UTF-8");
    assert!(
        text.is_empty() || text.ends_with("\n\n"),
        "unterminated output: {text:?}"
    );
    text.split_terminator("\n\n")
        .map(|ev| {
            let data = ev
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {ev:?}"));
            assert!(!data.contains('\n'), "multi-line event: {ev:?}");
            if data == "[DONE]" {
                Event::Done
            } else {
                Event::Chunk(serde_json::from_str(data).unwrap())
            }
        })
        .collect()
}

pub fn chunks(run: &Run) -> Vec<&Value> {
    run.events
        .iter()
        .filter_map(|e| match e {
            Event::Chunk(v) => Some(v),
            Event::Done => None,
        })
        .collect()
}

/// The concatenated `delta.content` of the first choice.
pub fn text_of(run: &Run) -> String {
    chunks(run)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// A stream translation of `input` must not depend on where the body is
/// cut: every two-piece split and byte-at-a-time feeding give the same
/// [`Run`] as the whole body, with and without usage asked for.
/// `run(input, include_usage, cuts)` does one translation.
pub fn assert_any_split_matches_whole(
    name: &str,
    input: &[u8],
    run: impl Fn(&[u8], bool, &[usize]) -> Run,
) {
    for include_usage in [false, true] {
        let whole = run(input, include_usage, &[]);
        for cut in 0..=input.len() {
            assert_eq!(
                run(input, include_usage, &[cut]),
                whole,
                "{name} cut at {cut}"
            );
        }
        let bytes: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run(input, include_usage, &bytes),
            whole,
            "{name} byte at a time"
        );
    }
}

/// Every three-piece split of a short `input` gives the whole body's run.
pub fn assert_any_three_piece_split_matches_whole(
    name: &str,
    input: &[u8],
    run: impl Fn(&[u8], bool, &[usize]) -> Run,
) {
    let whole = run(input, true, &[]);
    for a in 0..=input.len() {
        for b in a..=input.len() {
            assert_eq!(run(input, true, &[a, b]), whole, "{name} cut at {a},{b}");
        }
    }
}
