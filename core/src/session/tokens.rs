//! The VM's OAuth tokens, read from proxy-wasm shared data.
//!
//! One entry per provider slot, `modelmux.token.<slot>`, holding
//! `<expires_at_unix_ms> <token>`; any worker that fetched a token writes it
//! there, so every worker's VM sends the same token. A token is used only
//! until [`EXPIRY_MARGIN_MS`] before its expiry, so that it never reaches
//! the provider already expired.

use crate::providers::auth::TokenSource;
use crate::session::worker::Worker;
use crate::session::SharedStore;

/// A token is not sent in its last 30 seconds.
pub const EXPIRY_MARGIN_MS: u64 = 30_000;

/// The shared-data key of `slot`'s token.
pub fn key(slot: &str) -> String {
    format!("modelmux.token.{slot}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::fake::MemoryStore;

    #[test]
    fn stored_tokens_expire_with_a_margin() {
        let s = MemoryStore::default();
        assert_eq!(current(&s, "v", 0), None);
        assert!(store(&s, "v", "ya29.tok", 100_000));
        assert_eq!(current(&s, "v", 10_000).as_deref(), Some("ya29.tok"));
        assert_eq!(current(&s, "v", 70_000), None, "inside the margin");
        assert_eq!(current(&s, "other", 10_000), None);
    }
}
