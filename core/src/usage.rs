//! Token accounting shared by all providers.
//!
//! The kinds are kept apart because they are priced apart: `input` is every
//! prompt token as OpenAI's `prompt_tokens` counts it (cache reads and cache
//! writes included), and `cache_read`/`cache_write` say how many of those
//! were served from or written to a prompt cache. `output` counts every
//! generated token including reasoning (OpenAI's `completion_tokens`), and
//! `reasoning` how many of those were reasoning. Providers that report
//! these apart (Anthropic: cache tokens outside `input_tokens`; Gemini:
//! thoughts outside `candidatesTokenCount`) add them in when decoding.
//!
//! Every provider's token numbers go through [`Count`], one tolerant
//! deserializer: a provider that reports `u64::MAX` tokens would otherwise
//! price a request at billions of dollars and wrap Envoy's (signed) counters,
//! and a negative, fractional or non-numeric count used to be 0 for
//! OpenAI-type providers but a 502 for Anthropic. Now each field is clamped
//! to [`MAX_TOKENS`], anything that is not a whole non-negative number counts
//! as 0 (its whole part when it is a positive fraction), and the usage is
//! flagged [`Usage::implausible`] so the request is counted as a provider
//! fault. The reply itself still reaches the client: a bad usage number is
//! the provider's accounting bug, not a reason to drop an answer the client
//! may already be reading.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The most tokens one usage field of one request may hold: ten million.
/// The largest context window offered today (Llama 4 Scout) is 10M tokens
/// and output limits are far lower, so a count above it is a provider bug;
/// clamped there, one request still costs at most a few hundred dollars at
/// any listed price, and Envoy's counters can not wrap.
pub const MAX_TOKENS: u64 = 10_000_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
    /// A count was out of range or not a whole number and was clamped.
    pub implausible: bool,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_write)
    }

    /// Keeps the larger of each field: streams repeat cumulative counts.
    pub fn merge_max(&mut self, other: Usage) {
        self.input = self.input.max(other.input);
        self.cache_read = self.cache_read.max(other.cache_read);
        self.cache_write = self.cache_write.max(other.cache_write);
        self.output = self.output.max(other.output);
        self.reasoning = self.reasoning.max(other.reasoning);
        self.implausible |= other.implausible;
    }

    /// No token of any kind was reported.
    pub fn is_empty(&self) -> bool {
        self.input == 0 && self.output == 0 && self.cache_read == 0 && self.cache_write == 0
    }
}

/// Bytes of text per token for estimates: the usual rule of thumb for
/// English with OpenAI's and Anthropic's tokenizers (code and other
/// languages run denser, so this errs low on output).
pub const BYTES_PER_TOKEN: u64 = 4;

/// Tokens a stream delivered that its provider's usage does not cover.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub input: u64,
    pub output: u64,
}

/// The estimate for a stream that ended without complete provider usage.
///
/// OpenAI-wire streams report usage only in their last chunk, so a client
/// that stops reading just before the end (or an upstream cut) would keep
/// the answer and be metered nothing. When a stream delivered text and
/// either did not end complete or ended without any usage, the output is
/// estimated as `streamed / BYTES_PER_TOKEN` beyond the output the provider
/// did report, and the prompt, when the provider reported none, as
/// `request_bytes / BYTES_PER_TOKEN` (JSON syntax and inline media make
/// that an overestimate of text prompts: the provider bills the whole
/// prompt for a cut stream). `None` when nothing needs estimating.
pub fn estimate(
    reported: &Usage,
    streamed: u64,
    complete: bool,
    request_bytes: u64,
) -> Option<Estimate> {
    if streamed == 0 || (complete && !reported.is_empty()) {
        return None;
    }
    let tokens = |bytes: u64| bytes.div_ceil(BYTES_PER_TOKEN).min(MAX_TOKENS);
    let est = Estimate {
        input: if reported.input == 0 {
            tokens(request_bytes)
        } else {
            0
        },
        output: tokens(streamed).saturating_sub(reported.output),
    };
    (est != Estimate::default()).then_some(est)
}

/// A token count as a provider sent it, made plausible (see the module
/// docs). `null` is handled by `Option<Count>` and is not a fault.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub n: u64,
    pub implausible: bool,
}

impl Count {
    fn of(n: u64) -> Count {
        Count {
            n: n.min(MAX_TOKENS),
            implausible: n > MAX_TOKENS,
        }
    }

    fn bad(n: u64) -> Count {
        Count {
            n: n.min(MAX_TOKENS),
            implausible: true,
        }
    }

    /// The value of an optional count (absent: 0).
    pub fn get(c: Option<Count>) -> u64 {
        c.map_or(0, |c| c.n)
    }

    /// Whether any of these counts was clamped.
    pub fn any_implausible(counts: &[Option<Count>]) -> bool {
        counts.iter().flatten().any(|c| c.implausible)
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Count;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token count")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
        Ok(Count::of(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
        Ok(match u64::try_from(v) {
            Ok(n) => Count::of(n),
            Err(_) => Count::bad(0),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
        if !v.is_finite() || v < 0.0 {
            return Ok(Count::bad(0));
        }
        // Saturating cast; Cohere sends whole counts as `12.0`.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = v.trunc() as u64;
        if v.fract() == 0.0 {
            Ok(Count::of(whole))
        } else {
            Ok(Count::bad(whole))
        }
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Count, E> {
        Ok(Count::bad(0))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Count, E> {
        Ok(Count::bad(0))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
        Ok(Count::default())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Count::bad(0))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Count::bad(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(json: &str) -> Option<Count> {
        serde_json::from_str::<Option<Count>>(json).unwrap()
    }

    #[test]
    fn plausible_counts_pass() {
        for (json, n) in [("0", 0), ("12", 12), ("12.0", 12), ("10000000", MAX_TOKENS)] {
            assert_eq!(
                count(json),
                Some(Count {
                    n,
                    implausible: false
                }),
                "{json}"
            );
        }
        assert_eq!(count("null"), None);
    }

    #[test]
    fn implausible_counts_are_clamped_and_flagged() {
        let cases = [
            ("18446744073709551615", MAX_TOKENS),
            ("10000001", MAX_TOKENS),
            ("1e30", MAX_TOKENS),
            ("1000000000000000000000000", MAX_TOKENS),
            ("-5", 0),
            ("-0.5", 0),
            ("2.5", 2),
            ("\"12\"", 0),
            ("true", 0),
            ("[1]", 0),
            ("{\"a\":1}", 0),
        ];
        for (json, n) in cases {
            assert_eq!(
                count(json),
                Some(Count {
                    n,
                    implausible: true
                }),
                "{json}"
            );
        }
    }

    #[test]
    fn estimates_only_what_the_provider_did_not_report() {
        let none = Usage::default();
        let full = Usage {
            input: 10,
            output: 2,
            ..Usage::default()
        };
        // A complete stream with usage, or nothing streamed: no estimate.
        assert_eq!(estimate(&full, 400, true, 4000), None);
        assert_eq!(estimate(&none, 0, false, 4000), None);
        // Cut short without usage: both estimated, rounded up.
        let e = estimate(&none, 401, false, 4000);
        assert_eq!(
            e,
            Some(Estimate {
                input: 1000,
                output: 101
            })
        );
        // Complete but the provider sent no usage.
        assert_eq!(
            estimate(&none, 4, true, 0),
            Some(Estimate {
                input: 0,
                output: 1
            })
        );
        // Cut after the provider reported the prompt and some output.
        let e = estimate(&full, 400, false, 4000);
        assert_eq!(
            e,
            Some(Estimate {
                input: 0,
                output: 98
            })
        );
    }

    #[test]
    fn merge_keeps_the_flag() {
        let mut u = Usage::default();
        u.merge_max(Usage {
            output: 3,
            implausible: true,
            ..Usage::default()
        });
        u.merge_max(Usage {
            output: 5,
            ..Usage::default()
        });
        assert_eq!((u.output, u.implausible), (5, true));
    }
}
