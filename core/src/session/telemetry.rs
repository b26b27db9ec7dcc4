//! Per-request telemetry: timings for the latency histograms and the
//! fields Envoy's access log reads from filter state.
//!
//! Each timestamp is one host call (`now_us`): the request start, the first
//! content a stream sends, and the response end, so at most three per
//! request. Histogram samples are queued in the VM and recorded on the
//! shell's one-second tick, off the request path.
//!
//! Access-log fields are set once, when the response ends, as
//! `wasm.modelmux_<field>` filter state (`%FILTER_STATE(wasm.modelmux_input_tokens:PLAIN)%`).
//! They hold counts, names and timings only: never prompt or completion
//! text, never a key.

use crate::stats::{Histogram, Tally};
use crate::usage::Usage;

use super::worker::Worker;
use super::Host;

/// What one request measured.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timing {
    pub consumer: usize,
    started_us: u64,
    first_content_us: Option<u64>,
    ended_us: Option<u64>,
}

impl Timing {
    /// At request headers: the start time and the consumer label, read
    /// from the headers already in hand (no host call).
    pub fn start(w: &Worker, host: &dyn Host, headers: &[(String, String)]) -> Self {
        let consumer = w.cfg.consumers.as_ref().map_or(0, |c| {
            let value = headers.iter().find(|(n, _)| *n == c.header);
            c.index(value.map(|(_, v)| v.as_str()))
        });
        Timing {
            consumer,
            started_us: host.now_us(),
            first_content_us: None,
            ended_us: None,
        }
    }

    /// After each response body chunk: note the first content and the end.
    pub fn progress(&mut self, host: &dyn Host, content: bool, end: bool) {
        if content && self.first_content_us.is_none() {
            self.first_content_us = Some(host.now_us());
        }
        if end && self.ended_us.is_none() {
            self.ended_us = Some(host.now_us());
        }
    }

    /// The first content's time as another role measured it.
    pub fn content_at(&mut self, us: Option<u64>) {
        if self.first_content_us.is_none() {
            self.first_content_us = us;
        }
    }

    /// Milliseconds to the first content, if any came.
    pub fn ttft_ms(&self) -> Option<u64> {
        self.first_content_us
            .map(|t| t.saturating_sub(self.started_us) / 1000)
    }

    /// Queues the request's histogram samples (at the end of the request).
    /// A response that never ended (the upstream cut it, or the client
    /// left) ends now: one more host call, on that path only.
    pub fn record(&self, w: &Worker, host: &dyn Host, at: Tally, stream: bool, usage: &Usage) {
        let end = self.ended_us.unwrap_or_else(|| host.now_us());
        let ms = end.saturating_sub(self.started_us) / 1000;
        w.stats
            .sample(at.model, at.target, Histogram::RequestDurationMs, ms);
        if !stream {
            return;
        }
        let Some(first) = self.first_content_us else {
            return;
        };
        w.stats.sample(
            at.model,
            at.target,
            Histogram::TtftMs,
            first.saturating_sub(self.started_us) / 1000,
        );
        if let Some(per) = end.saturating_sub(first).checked_div(usage.output) {
            w.stats
                .sample(at.model, at.target, Histogram::TimePerOutputTokenUs, per);
        }
    }
}

/// Filter state (without the `wasm.` prefix) with the client's request
/// path, set for every request the filter sees: the access log's `path`.
pub const CLIENT_PATH: &str = "modelmux_path";
/// Filter state with the path sent upstream (the serving attempt's, for
/// failover models): the access log's `upstream_path`.
pub const UPSTREAM_PATH: &str = "modelmux_upstream_path";

/// What the access log gets about one request.
#[derive(Debug)]
pub struct LogFields<'a> {
    pub upstream_model: &'a str,
    pub usage: Usage,
    pub cost_nano: Option<u64>,
    pub ttft_ms: Option<u64>,
}

/// Sets the access-log filter state (names without the `wasm.` prefix).
pub fn set_log_fields(host: &mut dyn Host, f: &LogFields<'_>) {
    host.set_filter_state("modelmux_upstream_model", f.upstream_model);
    let u = &f.usage;
    host.set_filter_state("modelmux_input_tokens", &u.input.to_string());
    host.set_filter_state("modelmux_output_tokens", &u.output.to_string());
    host.set_filter_state("modelmux_cached_tokens", &u.cache_read.to_string());
    host.set_filter_state("modelmux_cache_write_tokens", &u.cache_write.to_string());
    host.set_filter_state("modelmux_reasoning_tokens", &u.reasoning.to_string());
    if let Some(nano) = f.cost_nano {
        // USD with nine decimals: exact for nano-USD.
        let usd = format!("{}.{:09}", nano / 1_000_000_000, nano % 1_000_000_000);
        host.set_filter_state("modelmux_cost_usd", &usd);
    }
    if let Some(ms) = f.ttft_ms {
        host.set_filter_state("modelmux_ttft_ms", &ms.to_string());
    }
}
