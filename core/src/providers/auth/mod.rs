//! Provider authentication, applied after the request is assembled.
//!
//! A translator builds the path, headers and body; [`Auth::apply`] then adds
//! the credential. Keeping it last lets schemes sign the finished request
//! (SigV4 hashes the final body and needs the clock) or attach a token that
//! the VM fetched on its own (OAuth), without any translator knowing about
//! keys. A credential that is not there yet (no OAuth token so far) is an
//! error for this attempt: the request is never sent unauthenticated.

pub mod jwt;
pub mod oauth;
pub mod sigv4;

use crate::config::Secret;
use crate::error::ApiError;
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

/// Tokens the VM obtained itself (OAuth access tokens), by slot.
pub trait TokenSource: std::fmt::Debug {
    /// The current, unexpired token of `slot`, if there is one.
    fn token(&self, slot: &str) -> Option<String>;
    /// `false` when the request is translated only to validate it (a
    /// failover model checks every target up front): no credential is
    /// applied, nothing is signed.
    fn live(&self) -> bool {
        true
    }
}

/// For translations that only validate the request; see [`TokenSource::live`].
#[derive(Debug)]
pub struct ValidateOnly;

impl TokenSource for ValidateOnly {
    fn token(&self, _slot: &str) -> Option<String> {
        None
    }
    fn live(&self) -> bool {
        false
    }
}

/// A source with no tokens (tests and tools).
#[derive(Debug)]
pub struct NoTokens;

impl TokenSource for NoTokens {
    fn token(&self, _slot: &str) -> Option<String> {
        None
    }
}

/// What an auth scheme may need beyond the request itself.
#[derive(Debug, Clone, Copy)]
pub struct AuthEnv<'a> {
    /// Wall clock, for `created` and for signing schemes.
    pub now_unix_secs: u64,
    pub tokens: &'a dyn TokenSource,
}

impl AuthEnv<'static> {
    /// A clock reading and no tokens (tests and tools).
    pub fn at(now_unix_secs: u64) -> Self {
        AuthEnv {
            now_unix_secs,
            tokens: &NoTokens,
        }
    }
}

/// A provider's compiled credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(Secret),
    Header {
        name: &'static str,
        key: Secret,
    },
    /// `Authorization: Bearer <token>` with a token the VM fetches and
    /// refreshes itself (see [`oauth`]).
    OAuth(Box<oauth::Source>),
    /// AWS Signature Version 4 over the finished request (see [`sigv4`]).
    SigV4(Box<sigv4::SigV4>),
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

    /// Adds the credential to a finished request for `host`.
    pub fn apply(&self, out: &mut Outbound, host: &str, env: AuthEnv<'_>) -> Result<(), ApiError> {
        if !env.tokens.live() {
            return Ok(());
        }
        match self {
            Auth::None => {}
            Auth::Bearer(k) => out
                .headers
                .push(("authorization", format!("Bearer {}", k.expose()))),
            Auth::Header { name, key } => out.headers.push((name, key.expose().to_string())),
            Auth::OAuth(source) => {
                let token = env
                    .tokens
                    .token(&source.slot)
                    .ok_or_else(|| oauth::no_token(&source.slot))?;
                out.headers
                    .push(("authorization", format!("Bearer {token}")));
            }
            Auth::SigV4(signer) => signer.sign(out, host, env.now_unix_secs)?,
        }
        Ok(())
    }
}
