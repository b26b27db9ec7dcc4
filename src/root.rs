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
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use log::{error, info};
use modelmux_core::config::Config;
use modelmux_core::session::{Downstream, Level, Upstream, Worker, UPSTREAM_ROOT_ID};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, MapType};

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

/// The tick period; shorter while an OAuth token is still missing, so the
/// first fetch goes out right after load and a failed one is retried when
/// its backoff ends rather than up to a second later.
const TICK: Duration = Duration::from_secs(1);
const FAST_TICK: Duration = Duration::from_millis(200);

#[derive(Default)]
pub struct Root {
    worker: Option<Rc<Worker>>,
    metrics: Option<Rc<Metrics>>,
    upstream: bool,
    /// Token calls in flight: dispatch token → slot.
    calls: HashMap<u32, String>,
    fast: bool,
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body: usize,
        _trailers: usize,
    ) {
        let (Some(slot), Some(w)) = (self.calls.remove(&token), &self.worker) else {
            return;
        };
        // A reset or timeout comes back without headers: status 0.
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body)
            .ok()
            .flatten()
            .unwrap_or_default();
        w.token_response(&slot, status, &body, now_ms());
        log_notes(w);
    }
}

fn log_notes(w: &Worker) {
    for (level, message) in w.token_notes() {
        match level {
            Level::Warn => log::warn!("{message}"),
            Level::Debug => log::debug!("{message}"),
            Level::Trace => log::trace!("{message}"),
        }
    }
}

impl Root {
    /// Dispatches the token calls the core asks for. Only the downstream
    /// root does: the upstream root shares its VM and reads the same cache.
    fn fetch_tokens(&mut self, w: &Worker, now: u64) {
        for f in w.token_fetches(now) {
            let headers = f
                .call
                .headers
                .iter()
                .map(|(n, v)| (*n, v.as_str()))
                .collect();
            let timeout = Duration::from_millis(f.call.timeout_ms);
            let body = f.call.body.as_deref();
            match hostcalls::dispatch_http_call(&f.call.cluster, headers, body, vec![], timeout) {
                Ok(token) => {
                    self.calls.insert(token, f.slot);
                }
                Err(status) => {
                    log::warn!(
                        "modelmux: cannot call cluster `{}` for the token of `{}`: {status:?}",
                        f.call.cluster,
                        f.slot
                    );
                    w.token_failed(&f.slot, now);
                }
            }
        }
        log_notes(w);
        let fast = w.tokens_missing(now);
        if fast != self.fast {
            self.fast = fast;
            self.set_tick_period(if fast { FAST_TICK } else { TICK });
        }
    }
}

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
        self.fast = !self.upstream && worker.tokens_missing(now_ms());
        self.worker = Some(worker);
        self.metrics = Some(metrics);
        self.set_tick_period(if self.fast { FAST_TICK } else { TICK });
        true
    }

    fn on_tick(&mut self) {
        let (Some(w), Some(m)) = (self.worker.clone(), &self.metrics) else {
            return;
        };
        let now = now_ms();
        w.tick(now);
        m.flush(&w.stats);
        if !self.upstream {
            self.fetch_tokens(&w, now);
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
