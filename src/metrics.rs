//! Envoy counters for the core's [`Stats`], defined once per VM; the root's
//! tick hands the pending amounts to Envoy.

use modelmux_core::stats::Stats;
use proxy_wasm::hostcalls::{define_metric, increment_metric};
use proxy_wasm::types::MetricType;

pub struct Metrics {
    /// Envoy metric id per stats slot.
    ids: Vec<u32>,
}

impl Metrics {
    pub fn define(stats: &Stats) -> Result<Self, String> {
        let ids = stats
            .names()
            .iter()
            .map(|n| define_metric(MetricType::Counter, n).map_err(|s| format!("{n}: {s:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Metrics { ids })
    }

    pub fn flush(&self, stats: &Stats) {
        stats.drain(|slot, v| {
            if let Some(id) = self.ids.get(slot) {
                let _ = increment_metric(*id, i64::try_from(v).unwrap_or(i64::MAX));
            }
        });
    }
}
