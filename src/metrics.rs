//! Envoy counters per model and target, defined once at configuration time.
//!
//! Every host call crosses the VM boundary, which costs more than the work
//! around it, so requests only add to counters kept in the VM; the root's
//! one-second tick flushes the non-zero ones to Envoy. Stats therefore lag by
//! at most a second per worker, far below any scrape interval.

use std::cell::Cell;

use modelmux_core::config::Config;
use modelmux_core::stats::{metric_name, Counter, REJECTED};
use modelmux_core::usage::Usage;
use proxy_wasm::hostcalls::{define_metric, increment_metric};
use proxy_wasm::types::MetricType;

const N: usize = Counter::ALL.len();

/// One Envoy counter and the amount not yet handed to Envoy.
struct Slot {
    id: u32,
    pending: Cell<u64>,
}

impl Slot {
    fn define(name: &str) -> Result<Self, String> {
        let id = define_metric(MetricType::Counter, name).map_err(|s| format!("{name}: {s:?}"))?;
        Ok(Slot {
            id,
            pending: Cell::new(0),
        })
    }

    fn add(&self, v: u64) {
        self.pending.set(self.pending.get().saturating_add(v));
    }
}

pub struct Metrics {
    /// `[model][target]` → one slot per `Counter::ALL` entry.
    slots: Vec<Vec<Vec<Slot>>>,
    rejected: Slot,
}

/// What one finished request contributes.
pub struct Outcome {
    pub failed: bool,
    pub usage: Usage,
}

impl Metrics {
    pub fn define(cfg: &Config) -> Result<Self, String> {
        let mut slots = Vec::with_capacity(cfg.models.len());
        for m in &cfg.models {
            let mut per_target = Vec::with_capacity(m.targets.len());
            for t in &m.targets {
                let provider = cfg
                    .provider(t.provider)
                    .map(|p| p.name.as_str())
                    .unwrap_or("");
                let row = Counter::ALL
                    .iter()
                    .map(|c| Slot::define(&metric_name(&m.name, provider, *c)))
                    .collect::<Result<Vec<_>, _>>()?;
                per_target.push(row);
            }
            slots.push(per_target);
        }
        Ok(Metrics {
            slots,
            rejected: Slot::define(REJECTED)?,
        })
    }

    pub fn record(&self, model: usize, target: usize, o: &Outcome) {
        let Some(row) = self.slots.get(model).and_then(|m| m.get(target)) else {
            return;
        };
        let values: [u64; N] = [
            1,
            u64::from(o.failed),
            o.usage.input,
            o.usage.output,
            o.usage.cached,
            o.usage.reasoning,
        ];
        for (slot, v) in row.iter().zip(values) {
            slot.add(v);
        }
    }

    pub fn rejected(&self) {
        self.rejected.add(1);
    }

    /// Hands the pending amounts to Envoy.
    pub fn flush(&self) {
        let all = self.slots.iter().flatten().flatten();
        for slot in all.chain(std::iter::once(&self.rejected)) {
            let v = slot.pending.replace(0);
            if v > 0 {
                let _ = increment_metric(slot.id, i64::try_from(v).unwrap_or(i64::MAX));
            }
        }
    }
}
