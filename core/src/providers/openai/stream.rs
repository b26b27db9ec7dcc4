//! Usage extraction from an OpenAI SSE stream.
//!
//! When the client asked for usage itself the bytes are forwarded as they
//! are and only read. When modelmux injected `include_usage`, events are
//! re-emitted as they complete, minus the usage-only chunk (`choices: []`)
//! and the `usage: null` fields the upstream adds to every other chunk are
//! left alone (clients ignore them).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::WireUsage;
use crate::error::ApiError;
use crate::providers::{BodyEdit, Cause};
use crate::sse::{write_data_event, SseFramer};
use crate::usage::Usage;

#[derive(Deserialize)]
struct ChunkProbe<'a> {
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(borrow, default)]
    choices: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Debug)]
pub struct UsageStream {
    framer: SseFramer,
    strip_usage: bool,
    usage: Usage,
    done: bool,
    failure: Option<Cause>,
    content: bool,
}

impl UsageStream {
    pub fn new(strip_usage: bool) -> Self {
        UsageStream {
            framer: SseFramer::new(),
            strip_usage,
            usage: Usage::default(),
            done: false,
            failure: None,
            content: false,
        }
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// A chunk with content (text, reasoning or a tool call) went by.
    pub fn content(&self) -> bool {
        self.content
    }

    /// Why the stream failed: an error event, bad framing, or no `[DONE]`.
    pub fn failure(&self) -> Option<Cause> {
        self.failure
    }

    pub fn push(&mut self, data: &[u8], end: bool) -> BodyEdit {
        let mut out = Vec::new();
        let strip = self.strip_usage;
        let (usage, done, failure) = (&mut self.usage, &mut self.done, &mut self.failure);
        let content = &mut self.content;
        let res = self.framer.push(data, |ev| {
            if ev.data == "[DONE]" {
                *done = true;
            } else if let Ok(probe) = serde_json::from_str::<ChunkProbe<'_>>(&ev.data) {
                if probe.error.is_some() {
                    failure.get_or_insert(Cause::ErrorEvent);
                }
                if !*content {
                    *content = probe.choices.is_some_and(|c| carries_content(c.get()));
                }
                if let Some(u) = &probe.usage {
                    usage.merge_max(u.to_usage());
                    let usage_only = probe.choices.is_none_or(|c| c.get().trim() == "[]");
                    if strip && usage_only {
                        return;
                    }
                }
            }
            if strip {
                write_data_event(&mut out, ev.data.as_bytes());
            }
        });
        if res.is_err() {
            self.failure.get_or_insert(Cause::Malformed);
        } else if end && !self.done {
            self.failure.get_or_insert(Cause::Truncated);
        }
        if end && self.failure == Some(Cause::Truncated) {
            // Clients treat a stream that just stops as complete; say it is not.
            let mut o = if strip { out } else { data.to_vec() };
            if !self.framer.is_idle() {
                o.extend_from_slice(b"\n\n");
            }
            let msg = "The provider ended the stream before it was complete.";
            write_data_event(&mut o, &ApiError::new(502, "server_error", msg).to_json());
            return BodyEdit::Replace(o);
        }
        if strip {
            BodyEdit::Replace(out)
        } else {
            BodyEdit::Keep
        }
    }
}

/// Whether a chunk's `choices` carry content: non-empty text or reasoning,
/// or a tool call. A scan of the raw text: the role-only first chunk and
/// empty deltas do not count.
fn carries_content(choices: &str) -> bool {
    let non_empty = |key: &str| {
        choices.match_indices(key).any(|(at, k)| {
            let rest = choices.get(at + k.len()..).unwrap_or("").trim_start();
            rest.strip_prefix(':')
                .map(str::trim_start)
                .is_some_and(|v| v.starts_with('"') && !v.starts_with("\"\""))
        })
    };
    non_empty("\"content\"")
        || non_empty("\"reasoning_content\"")
        || choices.contains("\"tool_calls\"")
}
