//! What one Envoy worker's VM keeps between requests.
//!
//! Downstream and upstream contexts of a request run on the same worker and
//! share one VM (same `vm_id` and code), so the request's record can live
//! here, keyed by its `x-request-id`, from the downstream body phase until
//! the downstream stream ends.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::config::Config;
use crate::gateway::{models_json, Operation};
use crate::stats::Stats;

use super::SharedStore;

/// The part of a failover request both roles see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub model: usize,
    /// What every attempt asks its provider for.
    pub op: Operation,
    /// The client's headers without what never goes upstream (credentials,
    /// its account, the consumer header, routing headers): every attempt's
    /// header set is rebuilt from these through its provider's allowlist.
    pub headers: Vec<(String, String)>,
    pub attempts: u32,
    /// Target of the first attempt.
    pub first: Option<usize>,
    /// Target of the latest attempt.
    pub last: Option<usize>,
    /// Target whose 2xx went to the client.
    pub served: Option<usize>,
    /// The served attempt's tokens, once its response ended.
    pub usage: Option<crate::usage::Usage>,
    /// The request's consumer label index.
    pub consumer: usize,
    /// When the serving attempt's first content went out (µs).
    pub first_content_us: Option<u64>,
    /// The client status the latest attempt released (what its
    /// `x-modelmux-status` says); the downstream side trusts only this.
    pub status: Option<u16>,
}

impl RequestRecord {
    pub fn new(model: usize, op: Operation, headers: Vec<(String, String)>) -> Self {
        RequestRecord {
            model,
            op,
            headers,
            attempts: 0,
            first: None,
            last: None,
            served: None,
            usage: None,
            consumer: 0,
            first_content_us: None,
            status: None,
        }
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

pub struct Worker {
    pub cfg: Config,
    pub models_json: Vec<u8>,
    /// `created` reported for every model: when the configuration loaded.
    pub models_created: u64,
    pub stats: Stats,
    store: Box<dyn SharedStore>,
    /// Round-robin ticket for weighted target selection.
    ticket: Cell<u64>,
    /// Wall clock in ms, refreshed by the shell's tick.
    now_ms: Cell<u64>,
    records: RefCell<HashMap<String, RequestRecord>>,
    next_id: Cell<u64>,
    /// Distinguishes generated request ids of this VM from other workers'.
    nonce: u64,
    /// OAuth token fetches of this VM (see [`super::tokens`]).
    pub(crate) token_scheduler: super::tokens::Scheduler,
}

impl Worker {
    pub fn new(cfg: Config, store: Box<dyn SharedStore>, now_ms: u64, nonce: u64) -> Self {
        let created = now_ms / 1000;
        Worker {
            models_json: models_json(&cfg, created),
            models_created: created,
            stats: Stats::new(&cfg),
            cfg,
            store,
            ticket: Cell::new(0),
            now_ms: Cell::new(now_ms),
            records: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            nonce,
            token_scheduler: super::tokens::Scheduler::default(),
        }
    }

    pub fn store(&self) -> &dyn SharedStore {
        self.store.as_ref()
    }

    pub fn tick(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
    }

    /// Clock and fetched tokens, for building a request's credential.
    pub fn auth_env(&self) -> crate::providers::auth::AuthEnv<'_> {
        crate::providers::auth::AuthEnv {
            now_unix_secs: self.now_ms() / 1000,
            tokens: self,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }

    pub fn next_ticket(&self) -> u64 {
        let t = self.ticket.get();
        self.ticket.set(t.wrapping_add(1));
        t
    }

    /// `id` if no live request uses it, else a fresh one.
    pub fn claim_id(&self, id: Option<String>) -> (String, bool) {
        let records = self.records.borrow();
        match id {
            Some(id) if !id.is_empty() && !records.contains_key(&id) => (id, false),
            _ => {
                let n = self.next_id.get().wrapping_add(1);
                self.next_id.set(n);
                (format!("modelmux-{:x}-{n:x}", self.nonce), true)
            }
        }
    }

    pub fn insert(&self, id: String, record: RequestRecord) {
        self.records.borrow_mut().insert(id, record);
    }

    pub fn remove(&self, id: &str) -> Option<RequestRecord> {
        self.records.borrow_mut().remove(id)
    }

    /// Runs `f` on the live record `id`.
    pub fn with_record<T>(&self, id: &str, f: impl FnOnce(&mut RequestRecord) -> T) -> Option<T> {
        self.records.borrow_mut().get_mut(id).map(f)
    }

    pub fn live_records(&self) -> usize {
        self.records.borrow().len()
    }
}
