//! OpenAI-compatible services as data: where they live and how they differ.
//!
//! A preset is selected by the provider's `type` (e.g. `"groq"`). It fills in
//! the defaults (host, TLS, base path, auth) and the quirks the OpenAI
//! passthrough must respect. Each entry names the documentation its facts
//! come from; the README's preset table is generated from the same facts.

use crate::providers::auth::AuthScheme;

/// Which output-limit parameter a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokens {
    /// Both `max_tokens` and `max_completion_tokens` are accepted.
    Either,
    /// Only `max_tokens`: `max_completion_tokens` is renamed to it.
    Legacy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The config `type` that selects it.
    pub name: &'static str,
    /// Default `host[:port]` (the `:authority` sent upstream).
    pub host: &'static str,
    /// Default endpoint port and TLS (local servers are plain HTTP).
    pub port: u16,
    pub tls: bool,
    /// Path prefix before `/chat/completions`, without trailing slash.
    pub base_path: &'static str,
    pub auth: AuthScheme,
    /// Whether an API key is required (`api_key_env` must be set).
    pub key_required: bool,
    /// Accepts `stream_options.include_usage`.
    pub stream_usage: bool,
    pub max_tokens: MaxTokens,
    /// Request fields the server rejects or mishandles that are removed
    /// before forwarding (documented as having no effect there).
    pub drop: &'static [&'static str],
    /// Request fields that change the answer and that the server does not
    /// support: answered with a 400 naming the parameter.
    pub reject: &'static [&'static str],
    /// Serves `POST {base_path}/embeddings`.
    pub embeddings: bool,
    /// Sends reasoning text as `reasoning_content` (DeepSeek style).
    pub reasoning_content: bool,
    /// The documentation the facts above come from.
    pub docs: &'static str,
}

/// Every preset. Names are unique and distinct from the provider kinds.
pub const PRESETS: &[Preset] = &[];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
