//! Envoy counters per model and target, defined once at configuration time
//! so the request path only increments ids.

use modelmux_core::config::Config;
use modelmux_core::stats::{metric_name, Counter, REJECTED};
use modelmux_core::usage::Usage;
use proxy_wasm::hostcalls::{define_metric, increment_metric};
use proxy_wasm::types::MetricType;

const N: usize = Counter::ALL.len();

pub struct Metrics {
    /// `[model][target]` → one id per `Counter::ALL` entry.
    ids: Vec<Vec<[u32; N]>>,
    rejected: u32,
}

/// What one finished request contributes.
pub struct Outcome {
    pub failed: bool,
    pub usage: Usage,
}

impl Metrics {
    pub fn define(cfg: &Config) -> Result<Self, String> {
        let mut ids = Vec::with_capacity(cfg.models.len());
        for m in &cfg.models {
            let mut per_target = Vec::with_capacity(m.targets.len());
            for t in &m.targets {
                let provider = cfg
                    .provider(t.provider)
                    .map(|p| p.name.as_str())
                    .unwrap_or("");
                let mut row = [0u32; N];
                for (slot, c) in row.iter_mut().zip(Counter::ALL) {
                    let name = metric_name(&m.name, provider, c);
                    *slot = define_metric(MetricType::Counter, &name)
                        .map_err(|s| format!("{name}: {s:?}"))?;
                }
                per_target.push(row);
            }
            ids.push(per_target);
        }
        let rejected = define_metric(MetricType::Counter, REJECTED)
            .map_err(|s| format!("{REJECTED}: {s:?}"))?;
        Ok(Metrics { ids, rejected })
    }

    pub fn record(&self, model: usize, target: usize, o: &Outcome) {
        let Some(row) = self.ids.get(model).and_then(|m| m.get(target)) else {
            return;
        };
        let values = [
            1,
            u64::from(o.failed),
            o.usage.input,
            o.usage.output,
            o.usage.cached,
            o.usage.reasoning,
        ];
        for (id, v) in row.iter().zip(values) {
            if v > 0 {
                let _ = increment_metric(*id, i64::try_from(v).unwrap_or(i64::MAX));
            }
        }
    }

    pub fn rejected(&self) {
        let _ = increment_metric(self.rejected, 1);
    }
}
