//! Provider authentication, applied after the request is assembled.
//!
//! A translator builds the path, headers and body; [`Auth::apply`] then adds
//! the credential. Keeping it last leaves room for schemes that sign the
//! finished request (SigV4 hashes the body and needs the clock) or fetch a
//! token (OAuth), without any translator knowing about keys.

use crate::config::Secret;
use crate::providers::Outbound;

/// How a provider expects its key, as presets and defaults name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// No credential (local servers such as Ollama or vLLM).
    None,
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key as the whole value of this header, e.g. `x-api-key`.
    Header(&'static str),
}

/// A provider's compiled credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(Secret),
    Header { name: &'static str, key: Secret },
}

impl Auth {
    /// Binds a scheme to a key; a scheme without a key sends nothing.
    pub fn new(scheme: AuthScheme, key: Option<Secret>) -> Self {
        match (scheme, key) {
            (AuthScheme::None, _) | (_, None) => Auth::None,
            (AuthScheme::Bearer, Some(k)) => Auth::Bearer(k),
            (AuthScheme::Header(name), Some(key)) => Auth::Header { name, key },
        }
    }

    /// Adds the credential to a finished request. `_now_unix_secs` is for
    /// signing schemes.
    pub fn apply(&self, out: &mut Outbound, _now_unix_secs: u64) {
        match self {
            Auth::None => {}
            Auth::Bearer(k) => out
                .headers
                .push(("authorization", format!("Bearer {}", k.expose()))),
            Auth::Header { name, key } => out.headers.push((name, key.expose().to_string())),
        }
    }
}
