//! What one Envoy worker's VM keeps between requests.
//!
//! Downstream and upstream contexts of a request run on the same worker and
//! share one VM (same `vm_id` and code), so the request's record can live
//! here, keyed by an id the filter issues, from the downstream body phase
//! until the downstream stream ends.
//!
//! Record ids must be unique across workers and VMs and unguessable: an
//! attempt finds its record by the id alone. Each VM draws a secret 128-bit
//! key from the host's random source (std's `RandomState`, which WASI's
//! `random_get` seeds in the VM), and an id is a VM nonce derived from that
//! key, a counter and a keyed hash of the counter. Nothing in it follows
//! from the load time.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use crate::config::Config;
use crate::gateway::{anthropic_models_json, models_json, Operation};
use crate::split::Picks;
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
    /// Streams: bytes of generated text the serving attempt sent so far.
    pub streamed: u64,
    /// The client status the latest attempt released (what its
    /// `x-modelmux-status` says); the downstream side trusts only this.
    pub status: Option<u16>,
    /// The latest attempt's upstream path (for the access log).
    pub upstream_path: Option<String>,
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
            streamed: 0,
            status: None,
            upstream_path: None,
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
    /// The same list in Anthropic's format.
    pub anthropic_models_json: Vec<u8>,
    /// `created` reported for every model: when the configuration loaded.
    pub models_created: u64,
    pub stats: Stats,
    store: Box<dyn SharedStore>,
    /// Each model's weighted split state (see [`crate::split`]).
    pub picks: Picks,
    /// Wall clock in ms, refreshed by the shell's tick.
    now_ms: Cell<u64>,
    records: RefCell<HashMap<String, RequestRecord>>,
    ids: RecordIds,
    /// OAuth token fetches of this VM (see [`super::tokens`]).
    pub(crate) token_scheduler: super::tokens::Scheduler,
}

impl Worker {
    /// `seed` is mixed into the VM's random key (tests pass any value).
    pub fn new(cfg: Config, store: Box<dyn SharedStore>, now_ms: u64, seed: u64) -> Self {
        let created = now_ms / 1000;
        Worker {
            models_json: models_json(&cfg, created),
            anthropic_models_json: anthropic_models_json(&cfg, created),
            models_created: created,
            stats: Stats::new(&cfg),
            cfg,
            store,
            picks: Picks::default(),
            now_ms: Cell::new(now_ms),
            records: RefCell::new(HashMap::new()),
            ids: RecordIds::new(seed),
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

    /// A fresh record id (see the module docs).
    pub fn issue_id(&self) -> String {
        self.ids.issue()
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

/// Issues record ids: `<nonce><counter><mac>`, all hex.
struct RecordIds {
    key: RandomState,
    nonce: u64,
    next: Cell<u64>,
}

impl RecordIds {
    fn new(seed: u64) -> Self {
        let key = RandomState::new();
        let nonce = key.hash_one((seed, "modelmux-vm"));
        RecordIds {
            key,
            nonce,
            next: Cell::new(0),
        }
    }

    fn issue(&self) -> String {
        let n = self.next.get().wrapping_add(1);
        self.next.set(n);
        let mut h = self.key.build_hasher();
        h.write_u64(self.nonce);
        h.write_u64(n);
        format!("{:016x}{n:x}-{:016x}", self.nonce, h.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::RecordIds;
    use std::collections::HashSet;

    #[test]
    fn record_ids_are_unique_across_vms_and_not_from_the_seed() {
        // Two VMs loaded in the same millisecond with the same seed.
        let (a, b) = (RecordIds::new(1_000), RecordIds::new(1_000));
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.issue()));
            assert!(seen.insert(b.issue()));
        }
        // The VM part comes from each VM's random key, not the seed.
        assert_ne!(a.nonce, b.nonce);
        assert!(a.issue().len() >= 34);
    }
}
