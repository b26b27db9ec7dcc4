//! Telemetry configuration: prices per target and the consumer label.
//!
//! Prices are USD per million tokens, as every provider publishes them.
//! One token at $1/M is exactly one micro-USD, so the cost counters count
//! micro-USD; the filter accumulates nano-USD per request (prices may have
//! up to three decimals) and carries the remainder, so no rounding error
//! builds up. A target without a price gets no cost series at all.

use serde::Deserialize;

use super::{err, ConfigError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrice {
    input: f64,
    output: f64,
    #[serde(default)]
    cache_read: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
    #[serde(default)]
    reasoning: Option<f64>,
}

/// A target's price, in nano-USD per token (= milli-USD per million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
    /// Reasoning tokens are billed as output unless the table says otherwise.
    pub reasoning: u64,
}

fn nano(v: f64, path: &str) -> Result<u64, ConfigError> {
    let scaled = v * 1000.0;
    if !(v.is_finite() && (0.0..=1_000_000.0).contains(&v)) {
        return Err(err(
            path,
            "must be a USD price per million tokens from 0 to 1000000",
        ));
    }
    if (scaled - scaled.round()).abs() > 1e-6 {
        return Err(err(
            path,
            "at most three decimals (a thousandth of a dollar per million tokens)",
        ));
    }
    Ok(scaled.round() as u64)
}

pub(super) fn compile_price(raw: RawPrice, path: &str) -> Result<Price, ConfigError> {
    let input = nano(raw.input, &format!("{path}.input"))?;
    let output = nano(raw.output, &format!("{path}.output"))?;
    let opt = |v: Option<f64>, field: &str, default: u64| match v {
        Some(v) => nano(v, &format!("{path}.{field}")),
        None => Ok(default),
    };
    Ok(Price {
        input,
        output,
        // A provider without a cache discount bills cached tokens as input.
        cache_read: opt(raw.cache_read, "cache_read", input)?,
        cache_write: opt(raw.cache_write, "cache_write", input)?,
        reasoning: opt(raw.reasoning, "reasoning", output)?,
    })
}

impl Price {
    /// The cost of `u` in nano-USD.
    pub fn cost_nano(&self, u: &crate::usage::Usage) -> u64 {
        let visible_output = u.output.saturating_sub(u.reasoning);
        [
            (u.uncached_input(), self.input),
            (u.cache_read, self.cache_read),
            (u.cache_write, self.cache_write),
            (visible_output, self.output),
            (u.reasoning, self.reasoning),
        ]
        .iter()
        .fold(0u64, |acc, (n, p)| acc.saturating_add(n.saturating_mul(*p)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsumers {
    header: String,
    allowed: Vec<String>,
}

/// The `consumer` label: a request header's value, bounded to a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumers {
    /// Lowercase header name.
    pub header: String,
    /// Allowed values; then `other` (any other value) and `none` (absent).
    pub values: Vec<String>,
}

pub const OTHER: &str = "other";
pub const NONE: &str = "none";

impl Consumers {
    /// The label index for a header value (`allowed`, then other, then none).
    pub fn index(&self, value: Option<&str>) -> usize {
        let n = self.values.len();
        match value {
            None => n + 1,
            Some(v) => self.values.iter().position(|a| a == v).unwrap_or(n),
        }
    }

    /// Every label value, in index order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(String::as_str).chain([OTHER, NONE])
    }
}

pub(super) fn compile_consumers(raw: RawConsumers) -> Result<Consumers, ConfigError> {
    let header = raw.header.to_ascii_lowercase();
    if !super::is_token(&header) {
        return Err(err("consumers.header", "must be a valid HTTP header name"));
    }
    if matches!(
        header.as_str(),
        "authorization" | "x-api-key" | "api-key" | "x-goog-api-key"
    ) {
        return Err(err(
            "consumers.header",
            "a credential header must not become a label",
        ));
    }
    for (i, v) in raw.allowed.iter().enumerate() {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok || v == OTHER || v == NONE {
            return Err(err(
                format!("consumers.allowed[{i}]"),
                "must be 1-64 letters, digits, `-` or `_`, and not `other` or `none`",
            ));
        }
        if raw.allowed.iter().take(i).any(|o| o == v) {
            return Err(err(format!("consumers.allowed[{i}]"), "listed twice"));
        }
    }
    Ok(Consumers {
        header,
        values: raw.allowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;

    fn price(v: serde_json::Value) -> Result<Price, ConfigError> {
        compile_price(serde_json::from_value(v).unwrap(), "p")
    }

    #[test]
    fn gemini_shape_bills_thoughts_at_their_own_price() {
        // Gemini: 1000 prompt (200 cached), 500 output of which 300 thoughts.
        let u = Usage {
            implausible: false,
            input: 1000,
            cache_read: 200,
            cache_write: 0,
            output: 500,
            reasoning: 300,
        };
        let p = price(
            serde_json::json!({"input": 0.3, "cache_read": 0.03, "output": 2.5, "reasoning": 3.5}),
        )
        .unwrap();
        // 800 × 0.3 + 200 × 0.03 + 200 × 2.5 + 300 × 3.5 µUSD = 240 + 6 + 500 + 1050.
        assert_eq!(p.cost_nano(&u), 1_796_000);
        let p = price(serde_json::json!({"input": 0.3, "output": 2.5})).unwrap();
        // Defaults: cache reads at input, reasoning at output: 300 + 1250.
        assert_eq!(p.cost_nano(&u), 1_550_000);
    }

    #[test]
    fn prices_are_refused_with_the_field_named() {
        let e = price(serde_json::json!({"input": 0.0001, "output": 1})).unwrap_err();
        assert_eq!(e.path, "p.input");
        let e = price(serde_json::json!({"input": 1, "output": -2})).unwrap_err();
        assert_eq!(e.path, "p.output");
    }
}
