//! The counters the filter keeps, and their Envoy stat names.
//!
//! Envoy prefixes wasm metrics with `wasmcustom.`; labels are encoded in the
//! name as `modelmux.m.<model>.p.<provider>.<counter>` so that two
//! `stats_tags` regexes in the bootstrap turn them into Prometheus labels
//! (`model`, `provider`). Dots would break that split, so they become `_`.
//!
//! Every host call crosses the VM boundary, which costs more than the work
//! around it, so requests only add to [`Stats`], kept in the VM; the shell
//! defines one Envoy counter per [`Stats::names`] entry at load and flushes
//! the pending amounts on its one-second tick.

use std::cell::Cell;

use crate::config::Config;
use crate::usage::Usage;

/// The per model/target counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Client requests answered from this target (served or failed last).
    Requests,
    /// Of those, answered with an error.
    Errors,
    InputTokens,
    OutputTokens,
    CachedTokens,
    ReasoningTokens,
    /// Upstream attempts sent to this target (failover models).
    Attempts,
    /// Failed attempts, by class.
    Failures429,
    Failures5xx,
    FailuresConnect,
    FailuresTimeout,
    FailuresOverloaded,
    /// Requests this target served after another target was tried first.
    Failovers,
    /// Requests that failed on every target (counted on the last one tried).
    Exhausted,
    /// A `Retry-After` opened this target's circuit.
    CircuitOpened,
    /// New requests that skipped this target because its circuit was open.
    CircuitSkips,
}

impl Counter {
    pub const ALL: [Counter; 16] = [
        Counter::Requests,
        Counter::Errors,
        Counter::InputTokens,
        Counter::OutputTokens,
        Counter::CachedTokens,
        Counter::ReasoningTokens,
        Counter::Attempts,
        Counter::Failures429,
        Counter::Failures5xx,
        Counter::FailuresConnect,
        Counter::FailuresTimeout,
        Counter::FailuresOverloaded,
        Counter::Failovers,
        Counter::Exhausted,
        Counter::CircuitOpened,
        Counter::CircuitSkips,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Requests => "requests",
            Counter::Errors => "errors",
            Counter::InputTokens => "input_tokens",
            Counter::OutputTokens => "output_tokens",
            Counter::CachedTokens => "cached_tokens",
            Counter::ReasoningTokens => "reasoning_tokens",
            Counter::Attempts => "attempts",
            Counter::Failures429 => "failures_429",
            Counter::Failures5xx => "failures_5xx",
            Counter::FailuresConnect => "failures_connect",
            Counter::FailuresTimeout => "failures_timeout",
            Counter::FailuresOverloaded => "failures_overloaded",
            Counter::Failovers => "failovers",
            Counter::Exhausted => "exhausted",
            Counter::CircuitOpened => "circuit_opened",
            Counter::CircuitSkips => "circuit_skips",
        }
    }

    fn index(self) -> usize {
        Counter::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Requests rejected before a model was resolved (bad JSON, unknown model...).
pub const REJECTED: &str = "modelmux.rejected";
/// Attempts that landed on an endpoint the filter's config does not know.
pub const CONFIG_MISMATCH: &str = "modelmux.config_mismatch";

/// Replaces characters that would split or break a stat name.
pub fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn metric_name(model: &str, provider: &str, counter: Counter) -> String {
    format!(
        "modelmux.m.{}.p.{}.{}",
        sanitize(model),
        sanitize(provider),
        counter.as_str()
    )
}

/// Pending counter increments, one slot per name, flushed by the shell.
#[derive(Debug)]
pub struct Stats {
    names: Vec<String>,
    pending: Vec<Cell<u64>>,
    /// Offset of each model's first slot; target rows follow.
    model_base: Vec<usize>,
}

impl Stats {
    const N: usize = Counter::ALL.len();

    pub fn new(cfg: &Config) -> Self {
        let mut names = vec![REJECTED.to_string(), CONFIG_MISMATCH.to_string()];
        let mut model_base = Vec::with_capacity(cfg.models.len());
        for m in &cfg.models {
            model_base.push(names.len());
            for t in &m.targets {
                let provider = cfg.provider(t.provider).map_or("", |p| p.name.as_str());
                names.extend(
                    Counter::ALL
                        .iter()
                        .map(|c| metric_name(&m.name, provider, *c)),
                );
            }
        }
        let pending = names.iter().map(|_| Cell::new(0)).collect();
        Stats {
            names,
            pending,
            model_base,
        }
    }

    /// Every stat name, in slot order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn add_slot(&self, slot: usize, v: u64) {
        if let Some(c) = self.pending.get(slot) {
            c.set(c.get().saturating_add(v));
        }
    }

    pub fn add(&self, model: usize, target: usize, counter: Counter, v: u64) {
        if v == 0 {
            return;
        }
        if let Some(base) = self.model_base.get(model) {
            self.add_slot(base + target * Self::N + counter.index(), v);
        }
    }

    pub fn rejected(&self) {
        self.add_slot(0, 1);
    }

    pub fn config_mismatch(&self) {
        self.add_slot(1, 1);
    }

    /// A finished client request answered from `target`.
    pub fn request(&self, model: usize, target: usize, failed: bool, usage: &Usage) {
        self.add(model, target, Counter::Requests, 1);
        self.add(model, target, Counter::Errors, u64::from(failed));
        self.add(model, target, Counter::InputTokens, usage.input);
        self.add(model, target, Counter::OutputTokens, usage.output);
        self.add(model, target, Counter::CachedTokens, usage.cache_read);
        self.add(model, target, Counter::ReasoningTokens, usage.reasoning);
    }

    /// Hands each non-zero pending amount to `sink(slot, amount)`.
    pub fn drain(&self, mut sink: impl FnMut(usize, u64)) {
        for (slot, c) in self.pending.iter().enumerate() {
            let v = c.replace(0);
            if v > 0 {
                sink(slot, v);
            }
        }
    }

    /// The pending amount of one stat, by name (tests).
    pub fn pending(&self, name: &str) -> u64 {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.pending.get(i))
            .map_or(0, Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_splittable() {
        assert_eq!(
            metric_name("gpt-4.1/mini", "open.ai", Counter::InputTokens),
            "modelmux.m.gpt-4_1_mini.p.open_ai.input_tokens"
        );
    }
}
