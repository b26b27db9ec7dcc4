//! Provider translators behind one small interface.
//!
//! A provider turns the client's OpenAI chat request into its native request
//! ([`ChatTranslator::request`]) and its native response back into OpenAI
//! format ([`ChatTranslator::response_headers`] then
//! [`ChatTranslator::response_body`]), reporting token usage on the way.
//! Adding a provider means a folder here, a fixture dir and one line in each
//! `match` of [`ProviderKind`] and [`Exchange`].

pub mod anthropic;
pub mod auth;
pub mod openai;

use crate::config::Provider;
use crate::error::ApiError;
use crate::gateway::probe::Probe;
use crate::usage::Usage;

/// The wire protocol an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI or any OpenAI-compatible API (Mistral, Groq, vLLM, Ollama...).
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
}

impl ProviderKind {
    pub const NAMES: &'static [&'static str] = &["openai", "anthropic"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "openai" => Some(Self::OpenAi),
            "anthropic" => Some(Self::Anthropic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    pub fn default_base_path(self) -> &'static str {
        "/v1"
    }
}

/// What the chosen target needs to know to build the upstream request.
#[derive(Debug, Clone, Copy)]
pub struct TargetCtx<'a> {
    pub provider: &'a Provider,
    /// The upstream model name to send.
    pub model: &'a str,
    /// The model name the client asked for (echoed back in responses).
    pub public_model: &'a str,
    /// Wall clock, for the `created` field of translated responses.
    pub now_unix_secs: u64,
}

/// The upstream request, as edits for the shell to apply.
#[derive(Debug, Default)]
pub struct Outbound {
    /// Upstream `:path`.
    pub path: String,
    /// Headers to set (provider auth, version headers, content type).
    pub headers: Vec<(&'static str, String)>,
    /// New body, or `None` to forward the client's body unchanged.
    pub body: Option<Vec<u8>>,
}

/// How the shell must hand the response body to the translator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// Wait for the whole body, then call `response_body(whole, true)` once.
    Buffer,
    /// Call `response_body(chunk, end)` for every chunk as it arrives.
    Stream,
    /// Observe only: call `response_body` with at most the last `n` bytes of
    /// each chunk; the body is forwarded untouched (edits are ignored). Lets
    /// a passthrough read usage without copying or holding the whole body.
    Tail(usize),
}

/// Edits to the response headers, decided from the upstream status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEdit {
    pub mode: BodyMode,
    /// Replace `:status` with this value.
    pub status: Option<u16>,
    /// Set `content-type`.
    pub content_type: Option<&'static str>,
    /// The body will change size: drop `content-length`.
    pub drop_content_length: bool,
}

/// What to do with the body bytes just handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEdit {
    /// Forward the bytes unchanged.
    Keep,
    /// Forward these bytes instead (may be empty to hold nothing back).
    Replace(Vec<u8>),
    /// The upstream's successful answer cannot be delivered (e.g. not a
    /// valid message): send this error body with this status instead. The
    /// status only takes effect in `BodyMode::Buffer`, where headers are
    /// still held back; in a stream it degrades to `Replace`.
    Fail { status: u16, body: Vec<u8> },
}

/// One in-flight chat exchange with a provider.
pub trait ChatTranslator: Sized {
    /// Builds the upstream request from the client's OpenAI body; `probe`
    /// is the routing pass already made over it (see `gateway::probe`).
    fn request(
        body: &[u8],
        probe: &Probe<'_>,
        target: TargetCtx<'_>,
    ) -> Result<(Self, Outbound), ApiError>;
    /// Called once with the upstream status.
    fn response_headers(&mut self, status: u16) -> HeaderEdit;
    /// Called per `HeaderEdit::mode`; `end` marks the last bytes.
    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit;
    /// Tokens seen so far.
    fn usage(&self) -> Usage;
    /// The exchange failed (upstream error status, error event, broken stream).
    fn failed(&self) -> bool;
}

/// Per-request provider state: one variant per provider.
#[derive(Debug)]
pub enum Exchange {
    OpenAi(openai::OpenAiChat),
    Anthropic(anthropic::AnthropicChat),
}

impl Exchange {
    /// Translates the request for the target's provider.
    pub fn start(
        body: &[u8],
        probe: &Probe<'_>,
        target: TargetCtx<'_>,
    ) -> Result<(Self, Outbound), ApiError> {
        match target.provider.kind {
            ProviderKind::OpenAi => {
                openai::OpenAiChat::request(body, probe, target).map(|(s, o)| (Self::OpenAi(s), o))
            }
            ProviderKind::Anthropic => anthropic::AnthropicChat::request(body, probe, target)
                .map(|(s, o)| (Self::Anthropic(s), o)),
        }
    }

    pub fn response_headers(&mut self, status: u16) -> HeaderEdit {
        match self {
            Self::OpenAi(s) => s.response_headers(status),
            Self::Anthropic(s) => s.response_headers(status),
        }
    }

    pub fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        match self {
            Self::OpenAi(s) => s.response_body(data, end),
            Self::Anthropic(s) => s.response_body(data, end),
        }
    }

    pub fn usage(&self) -> Usage {
        match self {
            Self::OpenAi(s) => s.usage(),
            Self::Anthropic(s) => s.usage(),
        }
    }

    pub fn failed(&self) -> bool {
        match self {
            Self::OpenAi(s) => s.failed(),
            Self::Anthropic(s) => s.failed(),
        }
    }
}

/// `base_path` + `suffix`, e.g. `/v1` + `/messages`.
pub fn join_path(base: &str, suffix: &str) -> String {
    let mut p = String::with_capacity(base.len() + suffix.len());
    p.push_str(base);
    p.push_str(suffix);
    p
}
