//! Root context: loads the configuration once per VM and hands each HTTP
//! stream a reference to the compiled form.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use log::{error, info};
use modelmux_core::config::Config;
use modelmux_core::gateway::models_json;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::filter::Filter;
use crate::metrics::Metrics;

/// Everything an HTTP stream needs, shared within one VM (one worker).
pub struct Shared {
    pub cfg: Config,
    pub models_json: Vec<u8>,
    /// `created` reported for every model: when the configuration loaded.
    pub models_created: u64,
    pub metrics: Metrics,
    /// Round-robin ticket for weighted target selection.
    pub ticket: Cell<u64>,
    /// Wall clock in seconds, refreshed by the root's tick so that requests
    /// don't each pay a host call for it.
    pub now_unix_secs: Cell<u64>,
}

#[derive(Default)]
pub struct Root {
    shared: Option<Rc<Shared>>,
}

impl Context for Root {}

impl Root {
    fn unix_secs(&self) -> u64 {
        self.get_current_time()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let Some(raw) = self.get_plugin_configuration() else {
            error!(
                "modelmux: no plugin configuration given (set `configuration` in the wasm filter)"
            );
            return false;
        };
        let cfg = match Config::from_json(&raw, &|name| std::env::var(name).ok()) {
            Ok(cfg) => cfg,
            Err(e) => {
                error!("modelmux: {e}");
                return false;
            }
        };
        let metrics = match Metrics::define(&cfg) {
            Ok(m) => m,
            Err(e) => {
                error!("modelmux: cannot define stats: {e}");
                return false;
            }
        };
        let created = self.unix_secs();
        info!(
            "modelmux: loaded {} providers and {} models",
            cfg.providers.len(),
            cfg.models.len()
        );
        self.shared = Some(Rc::new(Shared {
            models_json: models_json(&cfg, created),
            models_created: created,
            cfg,
            metrics,
            ticket: Cell::new(0),
            now_unix_secs: Cell::new(created),
        }));
        self.set_tick_period(Duration::from_secs(1));
        true
    }

    fn on_tick(&mut self) {
        let now = self.unix_secs();
        if let Some(shared) = &self.shared {
            shared.now_unix_secs.set(now);
            shared.metrics.flush();
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Filter::new(shared)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
