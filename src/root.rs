//! Root contexts: load the configuration once per VM and hand each HTTP
//! stream the worker state.
//!
//! The downstream filter (`root_id: modelmux`) and the rotation clusters'
//! upstream filter (`root_id: modelmux-upstream`) run in one VM per worker
//! when they share `vm_id` and code. Both must see the same [`Worker`],
//! since an attempt finds its request's record there, so workers are kept
//! per VM by configuration bytes and reused by every root with that
//! configuration.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use log::{error, info};
use modelmux_core::config::Config;
use modelmux_core::session::{Downstream, Upstream, Worker, UPSTREAM_ROOT_ID};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::filter::{DownFilter, UpFilter};
use crate::host::{now_ms, Shared};
use crate::metrics::Metrics;

struct Loaded {
    config: Vec<u8>,
    worker: Rc<Worker>,
    metrics: Rc<Metrics>,
}

thread_local! {
    static LOADED: RefCell<Vec<Loaded>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
pub struct Root {
    worker: Option<Rc<Worker>>,
    metrics: Option<Rc<Metrics>>,
    upstream: bool,
}

impl Context for Root {}

fn load(raw: &[u8]) -> Option<(Rc<Worker>, Rc<Metrics>)> {
    let existing = LOADED.with(|l| {
        l.borrow()
            .iter()
            .find(|x| x.config == raw)
            .map(|x| (Rc::clone(&x.worker), Rc::clone(&x.metrics)))
    });
    if existing.is_some() {
        return existing;
    }
    let cfg = match Config::from_json(raw, &|name| std::env::var(name).ok()) {
        Ok(cfg) => cfg,
        Err(e) => {
            error!("modelmux: {e}");
            return None;
        }
    };
    let now = now_ms();
    let worker = Rc::new(Worker::new(cfg, Box::new(Shared), now, now));
    let metrics = match Metrics::define(&worker.stats) {
        Ok(m) => Rc::new(m),
        Err(e) => {
            error!("modelmux: cannot define stats: {e}");
            return None;
        }
    };
    info!(
        "modelmux: loaded {} providers and {} models",
        worker.cfg.providers.len(),
        worker.cfg.models.len()
    );
    for (model, provider) in worker.cfg.unpriced_targets() {
        info!("modelmux: model `{model}` via `{provider}` has no price: no cost series for it");
    }
    LOADED.with(|l| {
        l.borrow_mut().push(Loaded {
            config: raw.to_vec(),
            worker: Rc::clone(&worker),
            metrics: Rc::clone(&metrics),
        })
    });
    Some((worker, metrics))
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let Some(raw) = self.get_plugin_configuration() else {
            error!(
                "modelmux: no plugin configuration given (set `configuration` in the wasm filter)"
            );
            return false;
        };
        let root_id = hostcalls::get_property(vec!["plugin_root_id"])
            .ok()
            .flatten()
            .unwrap_or_default();
        self.upstream = root_id == UPSTREAM_ROOT_ID.as_bytes();
        let Some((worker, metrics)) = load(&raw) else {
            return false;
        };
        self.worker = Some(worker);
        self.metrics = Some(metrics);
        self.set_tick_period(Duration::from_secs(1));
        true
    }

    fn on_tick(&mut self) {
        if let (Some(w), Some(m)) = (&self.worker, &self.metrics) {
            w.tick(now_ms());
            m.flush(&w.stats);
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let worker = self.worker.clone()?;
        if self.upstream {
            Some(Box::new(UpFilter {
                worker,
                attempt: Upstream::default(),
            }))
        } else {
            Some(Box::new(DownFilter {
                worker,
                session: Downstream::default(),
            }))
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
