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
use crate::providers::BodyEdit;
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
    failed: bool,
}

impl UsageStream {
    pub fn new(strip_usage: bool) -> Self {
        UsageStream {
            framer: SseFramer::new(),
            strip_usage,
            usage: Usage::default(),
            done: false,
            failed: false,
        }
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub fn failed(&self) -> bool {
        self.failed
    }

    pub fn push(&mut self, data: &[u8], end: bool) -> BodyEdit {
        let mut out = Vec::new();
        let strip = self.strip_usage;
        let (usage, done, failed) = (&mut self.usage, &mut self.done, &mut self.failed);
        let res = self.framer.push(data, |ev| {
            if ev.data == "[DONE]" {
                *done = true;
            } else if let Ok(probe) = serde_json::from_str::<ChunkProbe<'_>>(&ev.data) {
                *failed |= probe.error.is_some();
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
        if res.is_err() || (end && !self.done) {
            self.failed = true;
        }
        if strip {
            BodyEdit::Replace(out)
        } else {
            BodyEdit::Keep
        }
    }
}
