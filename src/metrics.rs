//! Envoy counters and histograms for the core's [`Stats`], defined once per
//! VM; the root's tick hands the pending amounts and the queued histogram
//! samples to Envoy.

use modelmux_core::stats::Stats;
use proxy_wasm::hostcalls::{define_metric, increment_metric, record_metric};
use proxy_wasm::types::MetricType;

pub struct Metrics {
    /// Envoy metric id per counter slot (`None`: the slot has no series).
    counters: Vec<Option<u32>>,
    histograms: Vec<u32>,
}

fn define_all(kind: MetricType, names: &[String]) -> Result<Vec<Option<u32>>, String> {
    names
        .iter()
        .map(|n| match n.is_empty() {
            true => Ok(None),
            false => define_metric(kind, n)
                .map(Some)
                .map_err(|s| format!("{n}: {s:?}")),
        })
        .collect()
}

impl Metrics {
    pub fn define(stats: &Stats) -> Result<Self, String> {
        let counters = define_all(MetricType::Counter, stats.names())?;
        let histograms = define_all(MetricType::Histogram, stats.histogram_names())?
            .into_iter()
            .map(|id| id.unwrap_or(u32::MAX))
            .collect();
        Ok(Metrics {
            counters,
            histograms,
        })
    }

    pub fn flush(&self, stats: &Stats) {
        stats.drain(|slot, v| {
            if let Some(Some(id)) = self.counters.get(slot) {
                let _ = increment_metric(*id, i64::try_from(v).unwrap_or(i64::MAX));
            }
        });
        stats.drain_samples(|slot, v| {
            if let Some(id) = self.histograms.get(slot) {
                let _ = record_metric(*id, v);
            }
        });
    }
}
