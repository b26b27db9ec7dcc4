//! The VM's OAuth tokens: the shared-data cache and the fetch scheduler.
//!
//! **Cache.** One entry per provider slot, `modelmux.token.<slot>`, holding
//! `<expires_at_unix_ms> <token>`; any worker that fetched a token writes it
//! there, so every worker's VM sends the same token. A token is used only
//! until [`EXPIRY_MARGIN_MS`] before its expiry, so that it never reaches
//! the provider already expired.
//!
//! **Scheduler.** The shell's tick asks [`Worker::token_fetches`] which
//! calls to make and hands each answer to [`Worker::token_response`] (or
//! [`Worker::token_failed`] when the call could not be made or timed out).
//! * A slot is fetched when it has no token, and refreshed at the earlier
//!   of half its lifetime and [`REFRESH_BEFORE_MS`] before expiry, but never
//!   sooner than [`MIN_REFRESH_MS`] after the last fetch. The metadata
//!   server caches its token and hands the same one out until its last
//!   minutes, with a shorter `expires_in` each time: an early refresh
//!   returns the same token, and the floor keeps that from turning into a
//!   call per tick near the end of its life.
//! * One call per slot at a time across every worker: a worker first claims
//!   a short lease in `modelmux.token_lease.<slot>` with compare-and-swap.
//!   The same record holds when the slot is next due and its failure count,
//!   so a backoff one worker earned holds for all. Proxy-wasm shared data
//!   has no "create if absent", so two workers may both fetch the very first
//!   time; after that the CAS decides.
//! * After a failure the slot waits 1 s, doubling up to [`MAX_BACKOFF_MS`].
//!   A lease outlives the call's timeout, so a worker that never hears back
//!   does not block the slot for long.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::config::Provider;
use crate::providers::auth::oauth::{self, Source, CALL_TIMEOUT_MS};
use crate::providers::auth::{Auth, TokenSource};
use crate::session::worker::Worker;
use crate::session::{Level, SharedStore};

/// A token is not sent in its last 30 seconds.
pub const EXPIRY_MARGIN_MS: u64 = 30_000;
/// Refresh at the latest this long before expiry.
pub const REFRESH_BEFORE_MS: u64 = 5 * 60_000;
/// A fresh token is not refreshed sooner than this.
pub const MIN_REFRESH_MS: u64 = 30_000;
pub const FIRST_BACKOFF_MS: u64 = 1_000;
pub const MAX_BACKOFF_MS: u64 = 30_000;
/// How long a claim on a slot lasts: the call's timeout and some slack.
pub const LEASE_MS: u64 = CALL_TIMEOUT_MS + 5_000;
const CAS_TRIES: usize = 8;

/// The shared-data key of `slot`'s token.
pub fn key(slot: &str) -> String {
    format!("modelmux.token.{slot}")
}

fn lease_key(slot: &str) -> String {
    format!("modelmux.token_lease.{slot}")
}

/// `(expires_at_ms, token)` as stored.
pub fn parse(value: &[u8]) -> Option<(u64, &str)> {
    let text = std::str::from_utf8(value).ok()?;
    let (at, token) = text.split_once(' ')?;
    Some((at.parse().ok()?, token))
}

/// Stores `token` for `slot` until `expires_at_ms`.
pub fn store(store: &dyn SharedStore, slot: &str, token: &str, expires_at_ms: u64) -> bool {
    let key = key(slot);
    let value = format!("{expires_at_ms} {token}");
    for _ in 0..4 {
        let (_, cas) = store.get(&key);
        if store.set(&key, value.as_bytes(), cas) {
            return true;
        }
    }
    false
}

/// The usable token of `slot` at `now_ms`.
pub fn current(store: &dyn SharedStore, slot: &str, now_ms: u64) -> Option<String> {
    let (value, _) = store.get(&key(slot));
    let value = value?;
    let (expires, token) = parse(&value)?;
    (now_ms.saturating_add(EXPIRY_MARGIN_MS) < expires && !token.is_empty())
        .then(|| token.to_string())
}

impl TokenSource for Worker {
    fn token(&self, slot: &str) -> Option<String> {
        current(self.store(), slot, self.now_ms())
    }
}

/// When a token lifetime of `lifetime_ms`, granted at `now`, is refreshed.
pub fn refresh_at(now: u64, lifetime_ms: u64) -> u64 {
    let delay = (lifetime_ms / 2).min(lifetime_ms.saturating_sub(REFRESH_BEFORE_MS));
    now.saturating_add(delay.max(MIN_REFRESH_MS))
}

/// The wait after the `failures`-th failure in a row (1 s, 2 s, … 30 s).
pub fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF_MS
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// A slot's fetch record in shared data:
/// `<holder> <lease_until_ms> <not_before_ms> <failures>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Lease {
    /// The worker fetching now (0: none).
    holder: u64,
    lease_until: u64,
    /// When the slot is next due (refresh time or end of backoff).
    not_before: u64,
    failures: u32,
}

impl Lease {
    fn read(store: &dyn SharedStore, slot: &str) -> (Lease, Option<u32>) {
        let (value, cas) = store.get(&lease_key(slot));
        let lease = value.as_deref().and_then(Lease::parse).unwrap_or_default();
        (lease, cas)
    }

    fn parse(v: &[u8]) -> Option<Lease> {
        let mut it = std::str::from_utf8(v).ok()?.split(' ');
        Some(Lease {
            holder: it.next()?.parse().ok()?,
            lease_until: it.next()?.parse().ok()?,
            not_before: it.next()?.parse().ok()?,
            failures: it.next()?.parse().ok()?,
        })
    }

    fn write(self, store: &dyn SharedStore, slot: &str, cas: Option<u32>) -> bool {
        let v = format!(
            "{} {} {} {}",
            self.holder, self.lease_until, self.not_before, self.failures
        );
        store.set(&lease_key(slot), v.as_bytes(), cas)
    }
}

/// One call the shell must dispatch now (`dispatch_http_call`).
#[derive(Debug)]
pub struct TokenFetch {
    /// Hand the answer back under this slot.
    pub slot: String,
    pub call: oauth::TokenCall,
}

/// This VM's side of the scheduler: its calls in flight and its notes.
#[derive(Debug, Default)]
pub struct Scheduler {
    /// Lease holder id of this VM, claimed from shared data on first use.
    holder: Cell<u64>,
    /// Slot → when this VM gives up waiting for its call.
    flights: RefCell<HashMap<String, u64>>,
    notes: RefCell<Vec<(Level, String)>>,
}

impl Scheduler {
    fn note(&self, level: Level, message: String) {
        let mut notes = self.notes.borrow_mut();
        if notes.len() < 64 {
            notes.push((level, message));
        }
    }
}

/// A unique id for this VM among the VMs sharing the store.
fn claim_holder(store: &dyn SharedStore) -> u64 {
    const SEQ: &str = "modelmux.token_holders";
    for _ in 0..CAS_TRIES {
        let (value, cas) = store.get(SEQ);
        let n = value
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(1);
        if store.set(SEQ, n.to_string().as_bytes(), cas) {
            return n;
        }
    }
    u64::MAX
}

impl Worker {
    fn oauth_sources(&self) -> impl Iterator<Item = (usize, &Source)> {
        self.cfg
            .providers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match &p.auth {
                Auth::OAuth(s) => Some((i, s.as_ref())),
                _ => None,
            })
    }

    fn holder(&self) -> u64 {
        let s = &self.token_scheduler;
        if s.holder.get() == 0 {
            s.holder.set(claim_holder(self.store()));
        }
        s.holder.get()
    }

    /// Whether `provider` can authenticate now: `false` only for an OAuth
    /// provider without a usable token.
    pub fn credential_ready(&self, provider: &Provider) -> bool {
        match &provider.auth {
            Auth::OAuth(s) => current(self.store(), &s.slot, self.now_ms()).is_some(),
            _ => true,
        }
    }

    /// Some OAuth slot has no usable token (the shell ticks faster then).
    pub fn tokens_missing(&self, now_ms: u64) -> bool {
        self.oauth_sources()
            .any(|(_, s)| current(self.store(), &s.slot, now_ms).is_none())
    }

    /// The token calls to make now.
    pub fn token_fetches(&self, now_ms: u64) -> Vec<TokenFetch> {
        let due: Vec<(usize, &Source)> = self
            .oauth_sources()
            .filter(|(_, s)| self.claim(s, now_ms))
            .collect();
        let mut out = Vec::new();
        for (provider, source) in due {
            match source.call(now_ms / 1000) {
                Ok(call) => {
                    let deadline = now_ms.saturating_add(LEASE_MS);
                    let mut flights = self.token_scheduler.flights.borrow_mut();
                    flights.insert(source.slot.clone(), deadline);
                    out.push(TokenFetch {
                        slot: source.slot.clone(),
                        call,
                    });
                }
                Err(reason) => self.fail(provider, source, now_ms, &reason),
            }
        }
        out
    }

    /// Claims `source`'s lease if it is due and nobody holds it.
    fn claim(&self, source: &Source, now: u64) -> bool {
        let slot = &source.slot;
        let lost = {
            let flights = self.token_scheduler.flights.borrow();
            match flights.get(slot) {
                Some(deadline) if *deadline > now => return false,
                Some(_) => true,
                None => false,
            }
        };
        if lost {
            self.token_failed(slot, now);
        }
        let (lease, cas) = Lease::read(self.store(), slot);
        if lease.lease_until > now {
            return false;
        }
        let have = current(self.store(), slot, now).is_some();
        let due = now >= lease.not_before || (!have && lease.failures == 0);
        if !due {
            return false;
        }
        let holder = self.holder();
        let mut cas = cas;
        if cas.is_none() {
            // No record yet: create one, so that the claim below is a CAS.
            let _ = Lease::default().write(self.store(), slot, None);
            cas = Lease::read(self.store(), slot).1;
        }
        Lease {
            holder,
            lease_until: now.saturating_add(LEASE_MS),
            ..lease
        }
        .write(self.store(), slot, cas)
    }

    /// The answer to the call for `slot`: `status` 0 when Envoy had none.
    pub fn token_response(&self, slot: &str, status: u16, body: &[u8], now_ms: u64) {
        if self
            .token_scheduler
            .flights
            .borrow_mut()
            .remove(slot)
            .is_none()
        {
            return;
        }
        let Some((provider, source)) = self.oauth_sources().find(|(_, s)| s.slot == slot) else {
            return;
        };
        match oauth::parse_grant(status, body) {
            Ok(grant) => {
                let lifetime = grant.expires_in_s.saturating_mul(1000);
                let expires = now_ms.saturating_add(lifetime);
                if !store(self.store(), slot, &grant.token, expires) {
                    self.fail(provider, source, now_ms, "the token cache did not take it");
                    return;
                }
                self.release(slot, |_| Lease {
                    not_before: refresh_at(now_ms, lifetime),
                    ..Lease::default()
                });
                self.stats.token_refreshed(provider);
                self.token_scheduler.note(
                    Level::Debug,
                    format!(
                        "modelmux: access token for `{slot}` refreshed, valid for {} s",
                        grant.expires_in_s
                    ),
                );
            }
            Err(reason) => self.fail(provider, source, now_ms, &reason),
        }
    }

    /// The call for `slot` could not be made, or failed without an answer.
    pub fn token_failed(&self, slot: &str, now_ms: u64) {
        self.token_scheduler.flights.borrow_mut().remove(slot);
        if let Some((provider, source)) = self.oauth_sources().find(|(_, s)| s.slot == slot) {
            self.fail(
                provider,
                source,
                now_ms,
                "no answer from the token endpoint",
            );
        }
    }

    fn fail(&self, provider: usize, source: &Source, now: u64, reason: &str) {
        let slot = &source.slot;
        self.token_scheduler.flights.borrow_mut().remove(slot);
        let mut wait = 0;
        self.release(slot, |old| {
            let failures = old.failures.saturating_add(1);
            wait = backoff_ms(failures);
            Lease {
                not_before: now.saturating_add(wait),
                failures,
                ..Lease::default()
            }
        });
        self.stats.token_failed(provider);
        self.token_scheduler.note(
            Level::Warn,
            format!(
                "modelmux: token fetch for `{slot}` via cluster `{}` failed: {reason}; next try in {} s",
                source.cluster,
                wait.div_ceil(1000)
            ),
        );
    }

    /// Ends this VM's lease on `slot` with the record `next(old)`; a lease
    /// another VM took over meanwhile is left alone.
    fn release(&self, slot: &str, mut next: impl FnMut(Lease) -> Lease) {
        let me = self.holder();
        for _ in 0..CAS_TRIES {
            let (old, cas) = Lease::read(self.store(), slot);
            if old.holder != me && old.holder != 0 {
                return;
            }
            if next(old).write(self.store(), slot, cas) {
                return;
            }
        }
    }

    /// Log lines the scheduler left for the shell (no secrets in them).
    pub fn token_notes(&self) -> Vec<(Level, String)> {
        std::mem::take(&mut *self.token_scheduler.notes.borrow_mut())
    }
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
