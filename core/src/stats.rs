//! The counters the filter keeps, and their Envoy stat names.
//!
//! Envoy prefixes wasm metrics with `wasmcustom.`; labels are encoded in the
//! name as `modelmux.m.<model>.p.<provider>.<counter>` so that two
//! `stats_tags` regexes in the bootstrap turn them into Prometheus labels
//! (`model`, `provider`). Dots would break that split, so they become `_`.
//!
//! Requests the filter refuses before any upstream call are the client's
//! mistakes: they are counted as `modelmux.[m.<model>.]r.<reason>.rejections`
//! (labels `model`, `reason`), never as a model × provider request or error.
//! A model the client named but the gateway does not serve gets no `model`
//! label at all: a client-chosen name never becomes a label value.
//!
//! Every host call crosses the VM boundary, which costs more than the work
//! around it, so requests only add to [`Stats`], kept in the VM; the shell
//! defines one Envoy counter per [`Stats::names`] entry at load and flushes
//! the pending amounts on its one-second tick.

use std::cell::{Cell, RefCell};

use crate::config::Config;
use crate::rejection::Rejection;
use crate::series::{cluster_series, rejection_series};
use crate::usage::Usage;

/// The per model/target counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Client requests sent to this target (served or failed last); not
    /// the ones refused before any upstream call (see `rejections`).
    Requests,
    /// Of those, answered with an error.
    Errors,
    /// Every prompt token (OpenAI's `prompt_tokens`).
    InputTokens,
    /// Prompt tokens neither read from nor written to a cache.
    UncachedInputTokens,
    /// Prompt tokens read from a cache.
    CachedTokens,
    /// Prompt tokens written to a cache.
    CacheWriteTokens,
    /// Every generated token, reasoning included.
    OutputTokens,
    ReasoningTokens,
    /// Micro-USD, for targets with a price.
    CostMicroUsd,
    /// Streams that ended without the provider's usage (client gone,
    /// upstream cut): prompt tokens estimated from the request body size.
    EstimatedInputTokens,
    /// The same streams: output tokens estimated from the text streamed.
    EstimatedOutputTokens,
    /// Requests whose usage was estimated.
    UsageEstimated,
    /// Responses whose provider reported implausible usage (a provider
    /// fault): clamped to `usage::MAX_TOKENS`, or 0 when not a number.
    ImplausibleUsage,
    /// Upstream attempts sent to this target (every model: one per
    /// request for a single target, one per try for failover).
    Attempts,
    /// Failed attempts, by class (the failover classes, every model).
    Failures429,
    Failures5xx,
    FailuresConnect,
    FailuresTimeout,
    FailuresOverloaded,
    /// A provider answer that could not be decoded.
    FailuresMalformed,
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
    /// Broken down by consumer when consumers are configured.
    pub const PER_CONSUMER: [Counter; 11] = [
        Counter::Requests,
        Counter::Errors,
        Counter::InputTokens,
        Counter::UncachedInputTokens,
        Counter::CachedTokens,
        Counter::CacheWriteTokens,
        Counter::OutputTokens,
        Counter::ReasoningTokens,
        Counter::CostMicroUsd,
        Counter::EstimatedInputTokens,
        Counter::EstimatedOutputTokens,
    ];
    /// Per model and target only.
    pub const PLAIN: [Counter; 13] = [
        Counter::Attempts,
        Counter::Failures429,
        Counter::Failures5xx,
        Counter::FailuresConnect,
        Counter::FailuresTimeout,
        Counter::FailuresOverloaded,
        Counter::FailuresMalformed,
        Counter::Failovers,
        Counter::Exhausted,
        Counter::CircuitOpened,
        Counter::CircuitSkips,
        Counter::UsageEstimated,
        Counter::ImplausibleUsage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Requests => "requests",
            Counter::Errors => "errors",
            Counter::InputTokens => "input_tokens",
            Counter::UncachedInputTokens => "uncached_input_tokens",
            Counter::CachedTokens => "cached_tokens",
            Counter::CacheWriteTokens => "cache_write_tokens",
            Counter::OutputTokens => "output_tokens",
            Counter::ReasoningTokens => "reasoning_tokens",
            Counter::CostMicroUsd => "cost_micro_usd",
            Counter::EstimatedInputTokens => "estimated_input_tokens",
            Counter::EstimatedOutputTokens => "estimated_output_tokens",
            Counter::UsageEstimated => "usage_estimated",
            Counter::ImplausibleUsage => "implausible_usage",
            Counter::Attempts => "attempts",
            Counter::Failures429 => "failures_429",
            Counter::Failures5xx => "failures_5xx",
            Counter::FailuresConnect => "failures_connect",
            Counter::FailuresTimeout => "failures_timeout",
            Counter::FailuresOverloaded => "failures_overloaded",
            Counter::FailuresMalformed => "failures_malformed",
            Counter::Failovers => "failovers",
            Counter::Exhausted => "exhausted",
            Counter::CircuitOpened => "circuit_opened",
            Counter::CircuitSkips => "circuit_skips",
        }
    }

    /// `(per consumer, index within its group)`.
    fn place(self) -> (bool, usize) {
        match Counter::PER_CONSUMER.iter().position(|c| *c == self) {
            Some(i) => (true, i),
            None => (
                false,
                Counter::PLAIN.iter().position(|c| *c == self).unwrap_or(0),
            ),
        }
    }
}

/// The per model/target histograms (Envoy native histograms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Histogram {
    /// Request headers to the end of the response, in ms.
    RequestDurationMs,
    /// Streams: request headers to the first content-bearing chunk, in ms.
    TtftMs,
    /// Streams: from the first content to the end, per output token, in µs.
    TimePerOutputTokenUs,
}

impl Histogram {
    pub const ALL: [Histogram; 3] = [
        Histogram::RequestDurationMs,
        Histogram::TtftMs,
        Histogram::TimePerOutputTokenUs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Histogram::RequestDurationMs => "request_duration_ms",
            Histogram::TtftMs => "ttft_ms",
            Histogram::TimePerOutputTokenUs => "time_per_output_token_us",
        }
    }
}

/// Samples held for the next flush; beyond this they are counted as dropped.
pub const MAX_SAMPLES: usize = 1 << 16;

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
    series(model, provider, None, counter.as_str())
}

/// `modelmux.m.<model>.p.<provider>[.c.<consumer>].<name>`.
pub fn series(model: &str, provider: &str, consumer: Option<&str>, name: &str) -> String {
    let c = consumer.map_or(String::new(), |c| format!("c.{}.", sanitize(c)));
    format!(
        "modelmux.m.{}.p.{}.{c}{name}",
        sanitize(model),
        sanitize(provider)
    )
}

/// Histogram samples dropped because the flush fell behind.
pub const SAMPLES_DROPPED: &str = "modelmux.histogram_samples_dropped";

/// Per-provider counters of the OAuth token fetches, for providers whose
/// credential the filter fetches itself.
pub const TOKEN_REFRESHES: &str = "token_refreshes";
pub const TOKEN_FAILURES: &str = "token_failures";

/// `modelmux.p.<provider>.<name>`: series of a provider, not of a model.
pub fn provider_series(provider: &str, name: &str) -> String {
    format!("modelmux.p.{}.{name}", sanitize(provider))
}

/// Pending counter increments, one slot per name, flushed by the shell,
/// and histogram samples waiting for the flush.
#[derive(Debug)]
pub struct Stats {
    /// Counter names by slot; empty for a slot with no series (the cost of
    /// a target without a price).
    names: Vec<String>,
    pending: Vec<Cell<u64>>,
    /// Slots whose pending amount is nano-USD, flushed as micro-USD.
    nano: Vec<bool>,
    /// Offset of each model's first target row.
    model_base: Vec<usize>,
    /// Offset of each model's rejection slots (one per reason).
    rejection_base: Vec<usize>,
    /// Consumer label values (one unnamed group when not configured).
    consumers: usize,
    histograms: Vec<String>,
    hist_base: Vec<usize>,
    samples: RefCell<Vec<(u32, u64)>>,
    /// Per provider: slot of its `token_refreshes` (`token_failures`
    /// follows), for providers with a fetched token.
    token_base: Vec<Option<usize>>,
}

impl Stats {
    const H: usize = Histogram::ALL.len();

    pub fn new(cfg: &Config) -> Self {
        let labels: Vec<Option<&str>> = match &cfg.consumers {
            Some(c) => c.labels().map(Some).collect(),
            None => vec![None],
        };
        let mut names = vec![CONFIG_MISMATCH.to_string(), SAMPLES_DROPPED.to_string()];
        names.extend(Rejection::ALL.map(|r| rejection_series(None, r)));
        names.extend(cluster_series(cfg));
        let mut nano = vec![false; names.len()];
        let (mut model_base, mut histograms, mut hist_base) = (Vec::new(), Vec::new(), Vec::new());
        let mut rejection_base = Vec::new();
        for m in &cfg.models {
            rejection_base.push(names.len());
            names.extend(Rejection::ALL.map(|r| rejection_series(Some(&m.name), r)));
            nano.extend(Rejection::ALL.map(|_| false));
            model_base.push(names.len());
            hist_base.push(histograms.len());
            for t in &m.targets {
                let provider = cfg.provider(t.provider).map_or("", |p| p.name.as_str());
                for c in Counter::PLAIN {
                    names.push(series(&m.name, provider, None, c.as_str()));
                    nano.push(false);
                }
                for label in &labels {
                    for c in Counter::PER_CONSUMER {
                        let cost = c == Counter::CostMicroUsd;
                        names.push(if cost && t.price.is_none() {
                            String::new()
                        } else {
                            series(&m.name, provider, *label, c.as_str())
                        });
                        nano.push(cost);
                    }
                }
                histograms.extend(
                    Histogram::ALL
                        .iter()
                        .map(|h| series(&m.name, provider, None, h.as_str())),
                );
            }
        }
        let mut token_base = Vec::new();
        for p in &cfg.providers {
            let fetched = matches!(p.auth, crate::providers::auth::Auth::OAuth(_));
            token_base.push(fetched.then_some(names.len()));
            if fetched {
                for n in [TOKEN_REFRESHES, TOKEN_FAILURES] {
                    names.push(provider_series(&p.name, n));
                    nano.push(false);
                }
            }
        }
        let pending = names.iter().map(|_| Cell::new(0)).collect();
        Stats {
            names,
            pending,
            nano,
            model_base,
            rejection_base,
            consumers: labels.len(),
            histograms,
            hist_base,
            samples: RefCell::new(Vec::new()),
            token_base,
        }
    }

    /// A token fetch for provider `provider` (config index) succeeded.
    pub fn token_refreshed(&self, provider: usize) {
        if let Some(Some(slot)) = self.token_base.get(provider) {
            self.add_slot(*slot, 1);
        }
    }

    /// A token fetch for provider `provider` failed.
    pub fn token_failed(&self, provider: usize) {
        if let Some(Some(slot)) = self.token_base.get(provider) {
            self.add_slot(slot + 1, 1);
        }
    }

    /// Every counter name, in slot order (empty: no series for that slot).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Every histogram name, in slot order.
    pub fn histogram_names(&self) -> &[String] {
        &self.histograms
    }

    fn row(&self) -> usize {
        Counter::PLAIN.len() + self.consumers * Counter::PER_CONSUMER.len()
    }

    fn add_slot(&self, slot: usize, v: u64) {
        if let Some(c) = self.pending.get(slot) {
            c.set(c.get().saturating_add(v));
        }
    }

    fn slot(
        &self,
        model: usize,
        target: usize,
        consumer: usize,
        counter: Counter,
    ) -> Option<usize> {
        let base = *self.model_base.get(model)? + target * self.row();
        Some(match counter.place() {
            (false, i) => base + i,
            (true, i) => {
                let group = consumer.min(self.consumers.saturating_sub(1));
                base + Counter::PLAIN.len() + group * Counter::PER_CONSUMER.len() + i
            }
        })
    }

    /// Adds to a counter; per-consumer counters go to consumer 0.
    pub fn add(&self, model: usize, target: usize, counter: Counter, v: u64) {
        self.add_for(model, target, 0, counter, v);
    }

    pub fn add_for(&self, model: usize, target: usize, consumer: usize, counter: Counter, v: u64) {
        if v == 0 {
            return;
        }
        if let Some(slot) = self.slot(model, target, consumer, counter) {
            self.add_slot(slot, v);
        }
    }

    /// A request refused before any upstream call; `model` once resolved.
    pub fn rejected(&self, model: Option<usize>, reason: Rejection) {
        let base = match model {
            Some(m) => self.rejection_base.get(m).copied(),
            None => Some(2),
        };
        if let Some(base) = base {
            self.add_slot(base + reason.index(), 1);
        }
    }

    pub fn config_mismatch(&self) {
        self.add_slot(0, 1);
    }

    /// The tokens of a served exchange, every kind apart, and their cost
    /// when the target has a price; returns the cost in nano-USD.
    pub fn tokens(&self, cfg: &Config, at: Tally, usage: &Usage) -> Option<u64> {
        let add = |c, v| self.add_for(at.model, at.target, at.consumer, c, v);
        add(Counter::InputTokens, usage.input);
        add(Counter::UncachedInputTokens, usage.uncached_input());
        add(Counter::CachedTokens, usage.cache_read);
        add(Counter::CacheWriteTokens, usage.cache_write);
        add(Counter::OutputTokens, usage.output);
        add(Counter::ReasoningTokens, usage.reasoning);
        add(Counter::ImplausibleUsage, u64::from(usage.implausible));
        let price = cfg.models.get(at.model)?.targets.get(at.target)?.price?;
        let cost = price.cost_nano(usage);
        add(Counter::CostMicroUsd, cost);
        Some(cost)
    }

    /// A finished client request answered from `at`.
    pub fn request(&self, cfg: &Config, at: Tally, failed: bool, usage: &Usage) -> Option<u64> {
        self.add_for(at.model, at.target, at.consumer, Counter::Requests, 1);
        self.add_for(
            at.model,
            at.target,
            at.consumer,
            Counter::Errors,
            u64::from(failed),
        );
        self.tokens(cfg, at, usage)
    }

    /// The estimated tokens of a stream that ended without the provider's
    /// usage (see [`crate::usage::estimate`]).
    pub fn estimated(&self, at: Tally, est: &crate::usage::Estimate) {
        let add = |c, v| self.add_for(at.model, at.target, at.consumer, c, v);
        add(Counter::EstimatedInputTokens, est.input);
        add(Counter::EstimatedOutputTokens, est.output);
        add(Counter::UsageEstimated, 1);
    }

    /// Queues a histogram sample for the next flush.
    pub fn sample(&self, model: usize, target: usize, h: Histogram, v: u64) {
        let Some(base) = self.hist_base.get(model) else {
            return;
        };
        let slot =
            base + target * Self::H + Histogram::ALL.iter().position(|x| *x == h).unwrap_or(0);
        let mut samples = self.samples.borrow_mut();
        if samples.len() >= MAX_SAMPLES {
            drop(samples);
            self.add_slot(1, 1);
            return;
        }
        samples.push((u32::try_from(slot).unwrap_or(u32::MAX), v));
    }

    /// Hands each non-zero pending amount to `sink(slot, amount)`; nano-USD
    /// slots hand over whole micro-USD and keep the remainder.
    pub fn drain(&self, mut sink: impl FnMut(usize, u64)) {
        for (slot, c) in self.pending.iter().enumerate() {
            let nano = self.nano.get(slot).copied().unwrap_or(false);
            let v = if nano {
                let whole = c.get() / 1000;
                c.set(c.get() % 1000);
                whole
            } else {
                c.replace(0)
            };
            if v > 0 {
                sink(slot, v);
            }
        }
    }

    /// Hands every queued histogram sample to `sink(slot, value)`.
    pub fn drain_samples(&self, mut sink: impl FnMut(usize, u64)) {
        let samples = std::mem::take(&mut *self.samples.borrow_mut());
        for (slot, v) in samples {
            sink(slot as usize, v);
        }
    }
}

/// Where a request's tokens are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub model: usize,
    pub target: usize,
    pub consumer: usize,
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
