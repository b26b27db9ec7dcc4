//! Usage from the end of a non-streamed OpenAI response, without holding it.
//!
//! OpenAI-compatible servers put `usage` at the end of the completion object
//! (only short fields such as `service_tier` or `system_fingerprint` follow),
//! so the last few KiB of the body are enough. Inside JSON strings quotes are
//! escaped, so the byte sequence `"usage":` can only be a key; the last one is
//! the top-level field.

use serde::de::DeserializeOwned;

use super::WireUsage;
use crate::usage::Usage;

/// How much of the end of the body is kept.
pub const TAIL_BYTES: usize = 8 * 1024;

#[derive(Debug)]
pub struct TailScan {
    tail: Vec<u8>,
    /// How many bytes of the end are kept.
    cap: usize,
}

impl Default for TailScan {
    fn default() -> Self {
        Self::with_capacity(TAIL_BYTES)
    }
}

impl TailScan {
    /// A scan keeping the last `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        TailScan {
            tail: Vec::new(),
            cap,
        }
    }

    /// Appends bytes, keeping at most `cap` bytes of the end.
    pub fn push(&mut self, data: &[u8]) {
        let keep_new = data.len().min(self.cap);
        let new = data.get(data.len() - keep_new..).unwrap_or(&[]);
        let room = self.cap - keep_new;
        if self.tail.len() > room {
            self.tail.drain(..self.tail.len() - room);
        }
        self.tail.extend_from_slice(new);
    }

    /// Usage from the last top-level `"usage":` key, if it is in the tail.
    pub fn usage(&self) -> Option<Usage> {
        self.find::<WireUsage>().map(|u| u.to_usage())
    }

    /// The value of the last `"usage":` key that parses as `T`.
    pub fn find<T: DeserializeOwned>(&self) -> Option<T> {
        const KEY: &[u8] = b"\"usage\"";
        let mut at = self.tail.len();
        while let Some(pos) = self
            .tail
            .get(..at)?
            .windows(KEY.len())
            .rposition(|w| w == KEY)
        {
            let rest = self.tail.get(pos + KEY.len()..)?;
            let rest = trim_colon(rest);
            if let Some(rest) = rest {
                let mut de = serde_json::Deserializer::from_slice(rest);
                if let Ok(u) = T::deserialize(&mut de) {
                    return Some(u);
                }
            }
            at = pos;
        }
        None
    }
}

/// Skips whitespace, a `:` and whitespace; `None` if the key isn't followed by one.
fn trim_colon(bytes: &[u8]) -> Option<&[u8]> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = bytes.get(start..)?.strip_prefix(b":")?;
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"x","choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 99}"}}],"usage" : {"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}},"system_fingerprint":"fp"}"#;

    #[test]
    fn finds_top_level_usage_at_every_split() {
        let b = BODY.as_bytes();
        for i in 0..=b.len() {
            let mut t = TailScan::default();
            t.push(&b[..i]);
            t.push(&b[i..]);
            let u = t.usage().unwrap();
            assert_eq!((u.input, u.output, u.cache_read), (5, 7, 2), "split {i}");
        }
    }

    #[test]
    fn keeps_only_the_tail() {
        let mut t = TailScan::default();
        let filler = format!("{{\"pad\":\"{}\",", "a".repeat(3 * TAIL_BYTES));
        for chunk in filler.as_bytes().chunks(1000) {
            t.push(chunk);
        }
        t.push(br#""usage":{"prompt_tokens":1,"completion_tokens":2}}"#);
        assert!(t.tail.len() <= TAIL_BYTES);
        assert_eq!(t.usage().map(|u| u.output), Some(2));
    }

    #[test]
    fn no_usage_is_none() {
        let mut t = TailScan::default();
        t.push(br#"{"id":"x","usage":null}"#);
        assert_eq!(t.usage(), None);
        t.push(br#"{"choices":[]}"#);
        assert_eq!(t.usage(), None);
    }

    #[test]
    fn implausible_usage_in_the_tail_is_clamped_and_flagged() {
        let mut t = TailScan::default();
        t.push(
            br#"{"id":"x","usage":{"prompt_tokens":-1,"completion_tokens":18446744073709551615}}"#,
        );
        let u = t.usage().unwrap();
        assert_eq!((u.input, u.output), (0, crate::usage::MAX_TOKENS));
        assert!(u.implausible);
    }
}
