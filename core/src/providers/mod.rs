//! Providers behind one small, object-safe interface.
//!
//! A provider is a wire format × its options × an auth scheme:
//! * [`Kind`] is implemented once per provider module. Its `Options` type is
//!   what the config may say for that `type` (serde, `deny_unknown_fields`),
//!   and its constructors build one [`Translator`] per operation.
//! * [`auth::Auth`] adds the credential after the request is assembled.
//! * Translating providers implement [`decoded::Codec`] (decode their
//!   responses into neutral [`crate::events`]); the client's encoder writes
//!   the client's format, so no provider writes OpenAI chunks itself.
//!
//! Adding a provider: a folder here with its `Kind`, its fixtures and mock,
//! and one line in the `providers!` registry below (see the README recipe).

pub mod anthropic;
pub mod auth;
pub mod azure;
pub mod bedrock;
pub mod cohere;
pub mod count;
pub mod decoded;
pub mod gemini;
pub mod openai;
pub mod vertex;

use serde::de::DeserializeOwned;

use crate::config::Secret;
use crate::config::{ConfigError, Provider};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::gateway::probe::Probe;
use crate::usage::Usage;
use auth::{Auth, AuthEnv, AuthScheme, TokenSource};

/// The registry: config `type` → provider module. One line per provider.
macro_rules! providers {
    ($($name:literal => $variant:ident($kind:ty)),* $(,)?) => {
        /// A configured provider's kind and kind-specific options.
        #[derive(Debug, Clone)]
        pub enum Options {
            $($variant(<$kind as Kind>::Options),)*
        }

        /// The provider `type`s, for error messages and docs.
        pub const KINDS: &[&str] = &[$($name),*];

        impl Options {
            /// Parses the kind-specific fields for `kind`; `None` when the
            /// kind is not registered (it may still be a preset).
            fn parse_kind(
                kind: &str,
                raw: serde_json::Value,
                path: &str,
            ) -> Option<Result<Self, ConfigError>> {
                match kind {
                    $($name => Some(
                        parse_options::<$kind>(raw, path, kind).map(Options::$variant),
                    ),)*
                    _ => None,
                }
            }

            /// The registered kind this provider speaks.
            pub fn kind(&self) -> &'static str {
                match self { $(Options::$variant(_) => $name,)* }
            }

            pub fn defaults(&self) -> Defaults {
                match self { $(Options::$variant(o) => <$kind as Kind>::defaults(o),)* }
            }

            fn chat(&self, input: &ChatInput<'_>, t: TargetCtx<'_>) -> Started {
                match self { $(Options::$variant(o) => <$kind as Kind>::chat(o, input, t),)* }
            }

            /// Where the provider lives unless the config says (see
            /// [`Kind::default_host`]).
            pub fn default_host(&self) -> Option<String> {
                match self { $(Options::$variant(o) => <$kind as Kind>::default_host(o),)* }
            }

            /// The region Envoy's `aws_request_signing` filter must sign
            /// for, when the kind leaves SigV4 to Envoy (see
            /// [`Kind::envoy_signing`]).
            pub fn envoy_signing(&self) -> Option<EnvoySigning> {
                match self { $(Options::$variant(o) => <$kind as Kind>::envoy_signing(o),)* }
            }

            /// Protocol headers its clients may send (see
            /// [`Kind::client_headers`]).
            pub fn client_headers(&self) -> &'static [&'static str] {
                match self { $(Options::$variant(o) => <$kind as Kind>::client_headers(o),)* }
            }

            /// Response headers its clients read (see [`Kind::reply_headers`]).
            pub fn reply_headers(&self) -> &'static [&'static str] {
                match self { $(Options::$variant(o) => <$kind as Kind>::reply_headers(o),)* }
            }

            /// The compiled credential (see [`Kind::auth`]).
            pub fn auth(&self, input: AuthInput<'_>) -> Result<Auth, ConfigError> {
                match self { $(Options::$variant(o) => <$kind as Kind>::auth(o, input),)* }
            }

            fn embeddings(&self, input: &EmbedRequest<'_>, t: TargetCtx<'_>) -> Started {
                match self {
                    $(Options::$variant(o) => <$kind as Kind>::embeddings(o, input, t),)*
                }
            }

            fn count_tokens(&self, input: &ChatInput<'_>, t: TargetCtx<'_>) -> Option<Started> {
                match self {
                    $(Options::$variant(o) => <$kind as Kind>::count_tokens(o, input, t),)*
                }
            }
        }
    };
}

providers! {
    "openai" => OpenAi(openai::OpenAi),
    "anthropic" => Anthropic(anthropic::Anthropic),
    "gemini" => Gemini(gemini::Gemini),
    "azure" => Azure(azure::Azure),
    "vertex" => Vertex(vertex::Vertex),
    "cohere" => Cohere(cohere::Cohere),
    "bedrock" => Bedrock(bedrock::Bedrock),
}

impl Options {
    /// Parses the options of `kind`, a registered kind or a preset.
    pub fn parse(kind: &str, raw: serde_json::Value, path: &str) -> Result<Self, ConfigError> {
        if let Some(parsed) = Self::parse_kind(kind, raw.clone(), path) {
            return parsed;
        }
        openai::preset_options(kind, raw, path).unwrap_or_else(|| {
            if let Some((_, why)) = openai::presets::RETIRED.iter().find(|(n, _)| *n == kind) {
                return Err(crate::config::err(
                    format!("{path}.type"),
                    format!("the `{kind}` preset was removed: {why}"),
                ));
            }
            let presets: Vec<&str> = openai::presets::PRESETS.iter().map(|p| p.name).collect();
            Err(crate::config::err(
                format!("{path}.type"),
                format!(
                    "unknown provider type `{kind}` (kinds: {}; OpenAI-compatible presets: {})",
                    KINDS.join(", "),
                    presets.join(", ")
                ),
            ))
        })
    }
}

fn parse_options<K: Kind>(
    raw: serde_json::Value,
    path: &str,
    kind: &str,
) -> Result<K::Options, ConfigError> {
    let opts: K::Options = serde_path_to_error::deserialize(raw).map_err(|e| {
        let field = e.path().to_string();
        let at = if field == "." {
            path.to_string()
        } else {
            format!("{path}.{field}")
        };
        let message = crate::config::suggest::unknown_field(
            &e.inner().to_string(),
            crate::config::suggest::PROVIDER_FIELDS,
        );
        crate::config::err(at, format!("{message} (options of type `{kind}`)"))
    })?;
    K::validate(&opts, path)?;
    Ok(opts)
}

/// Where a kind lives unless the config says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// Default `host`; `None` when the config must give one.
    /// Its port (or none, meaning 443) also decides TLS by default.
    pub host: Option<&'static str>,
    pub base_path: &'static str,
    pub auth: AuthScheme,
    /// `api_key_env` must be set.
    pub key_required: bool,
}

/// What `translate` returns: the translator and the upstream request.
pub type Started = Result<(Box<dyn Translator>, Outbound), ApiError>;

/// One provider module.
pub trait Kind {
    /// The config fields of this `type` (beyond the common ones).
    type Options: DeserializeOwned + std::fmt::Debug + Clone;
    /// Checks the options once parsed (ranges, combinations).
    fn validate(_opts: &Self::Options, _path: &str) -> Result<(), ConfigError> {
        Ok(())
    }
    fn defaults(opts: &Self::Options) -> Defaults;
    /// The host when the config gives none: by default `defaults().host`.
    /// Kinds whose host depends on their options (a region) compute it.
    fn default_host(opts: &Self::Options) -> Option<String> {
        Self::defaults(opts).host.map(str::to_string)
    }
    /// `Some` when requests must be signed by Envoy's
    /// `envoy.filters.http.aws_request_signing` upstream filter on the
    /// provider's cluster (rendered by `modelmux render`).
    fn envoy_signing(_opts: &Self::Options) -> Option<EnvoySigning> {
        None
    }
    /// The protocol headers of this kind that a client may set and that go
    /// up as sent (documented, client-settable, not account or credential
    /// headers; see `gateway::headers`). Headers the translator sets itself
    /// still override them.
    fn client_headers(_opts: &Self::Options) -> &'static [&'static str] {
        &[]
    }
    /// Response headers of this kind its clients read (its request id),
    /// beyond the common response allowlist.
    fn reply_headers(_opts: &Self::Options) -> &'static [&'static str] {
        &[]
    }
    /// The credential: by default the config's key in the kind's scheme.
    /// Kinds that sign requests or fetch tokens build their own.
    fn auth(opts: &Self::Options, input: AuthInput<'_>) -> Result<Auth, ConfigError> {
        Ok(Auth::new(Self::defaults(opts).auth, input.key))
    }
    /// `POST /v1/chat/completions`.
    fn chat(opts: &Self::Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started;
    /// `POST /v1/embeddings`; kinds without embeddings keep the default.
    fn embeddings(
        _opts: &Self::Options,
        _input: &EmbedRequest<'_>,
        target: TargetCtx<'_>,
    ) -> Started {
        Err(no_embeddings(target))
    }
    /// `POST /v1/messages/count_tokens` (see [`count`]): `None` when the
    /// kind has no counter, and the gateway estimates.
    fn count_tokens(
        _opts: &Self::Options,
        _input: &ChatInput<'_>,
        _target: TargetCtx<'_>,
    ) -> Option<Started> {
        None
    }
}

/// The 400 for an embeddings request to a chat-only provider.
pub fn no_embeddings(target: TargetCtx<'_>) -> ApiError {
    ApiError::invalid_param(
        "model",
        format!(
            "The model `{}` does not support embeddings (provider `{}`).",
            target.public_model, target.provider.name
        ),
    )
    .with_reason(crate::rejection::Rejection::UnsupportedOperation)
}

/// SigV4 left to Envoy: what its signing filter needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvoySigning {
    pub service: &'static str,
    pub region: String,
}

/// What a kind may build its credential from, at config load.
pub struct AuthInput<'a> {
    /// The provider's configured name (the cache slot of fetched tokens).
    pub provider: &'a str,
    /// The key read from `api_key_env`, if the config gave one.
    pub key: Option<Secret>,
    /// The VM's environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Config path of the provider, for errors.
    pub path: &'a str,
}

/// The client's embeddings request, parsed, with its raw body.
#[derive(Debug)]
pub struct EmbedRequest<'a> {
    pub body: &'a [u8],
    pub req: crate::openai::embeddings::EmbeddingsRequest<'a>,
}

/// The client's chat request, as the gateway received and probed it.
#[derive(Debug, Clone, Copy)]
pub struct ChatInput<'a> {
    pub body: &'a [u8],
    /// The routing pass already made over it (see `gateway::probe`).
    pub probe: &'a Probe<'a>,
    pub dialect: Dialect,
    /// The client's `anthropic-beta` header, for providers that take betas
    /// in the body (Claude on Vertex); Anthropic gets the header itself.
    pub betas: Option<&'a str>,
}

impl<'a> ChatInput<'a> {
    /// The whole request, decoded from the client's dialect into the
    /// neutral request (translating providers; a passthrough never needs it).
    pub fn request(&self) -> Result<crate::openai::ChatRequest<'a>, ApiError> {
        self.dialect.decode(self.body)
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
    /// Wall clock, for `created` and for signing schemes.
    pub now_unix_secs: u64,
    /// Tokens the VM fetched (OAuth providers).
    pub tokens: &'a dyn TokenSource,
}

impl<'a> TargetCtx<'a> {
    fn auth_env(&self) -> AuthEnv<'a> {
        AuthEnv {
            now_unix_secs: self.now_unix_secs,
            tokens: self.tokens,
        }
    }
}

/// Starts a chat exchange with the target's provider, credential applied.
pub fn chat(input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
    let (translator, mut out) = target.provider.options.chat(input, target)?;
    let p = target.provider;
    p.auth.apply(&mut out, &p.host, target.auth_env())?;
    Ok((translator, out))
}

/// Starts an embeddings exchange with the target's provider.
pub fn embeddings(input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
    let (translator, mut out) = target.provider.options.embeddings(input, target)?;
    let p = target.provider;
    p.auth.apply(&mut out, &p.host, target.auth_env())?;
    Ok((translator, out))
}

/// Counts a Messages request's tokens at the target's provider, or
/// estimates them (see [`count`]).
pub fn count_tokens(
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
) -> Result<count::Count, ApiError> {
    match target.provider.options.count_tokens(input, target) {
        None => {
            // Refuse what Anthropic's counter would (a 400 naming the field).
            crate::dialect::anthropic::decode_count(input.body)?;
            Ok(count::Count::Estimate(count::estimate(input.body)))
        }
        Some(started) => {
            let (translator, mut out) = started?;
            let p = target.provider;
            p.auth.apply(&mut out, &p.host, target.auth_env())?;
            Ok(count::Count::Upstream(translator, out))
        }
    }
}

/// Probes `body` and starts a chat for an OpenAI client (tests and tools).
pub fn chat_body(body: &[u8], target: TargetCtx<'_>) -> Started {
    let probe = crate::gateway::probe::probe(body)?;
    let input = ChatInput {
        body,
        probe: &probe,
        dialect: Dialect::OpenAiChat,
        betas: None,
    };
    chat(&input, target)
}

/// The upstream request, as edits for the shell to apply.
#[derive(Debug, Default)]
pub struct Outbound {
    /// Upstream `:path`.
    pub path: String,
    /// Headers to set (auth, version headers, content type).
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

/// Edits to the response headers, decided from the upstream head.
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

/// What went wrong with an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The upstream answered with an error status.
    Status,
    /// An error object behind a 2xx, or an error event in a stream.
    ErrorEvent,
    /// A 2xx body or stream that is not the provider's format.
    Malformed,
    /// The stream ended before the reply was complete.
    Truncated,
}

/// A failed exchange: the cause, the client-facing status, and the
/// provider's `Retry-After`, when it sent one (in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    pub status: u16,
    pub retry_after_ms: Option<u64>,
}

/// What an exchange came to so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub usage: Usage,
    pub failure: Option<Failure>,
    /// Content (text, reasoning or a tool call) has gone to the client: the
    /// first token, for time-to-first-token.
    pub content: bool,
    /// Streams: bytes of generated text (content, reasoning, tool names
    /// and arguments) that went to the client, for the usage estimate of
    /// a stream that ends without the provider's usage.
    pub streamed: u64,
}

/// Looks up an upstream response header by lowercase name.
pub type HeaderLookup<'h> = &'h dyn Fn(&str) -> Option<String>;

/// One in-flight exchange with a provider, one method per response phase.
pub trait Translator: std::fmt::Debug {
    /// Called once with the upstream status and headers.
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit;
    /// Called per `HeaderEdit::mode`; `end` marks the last bytes.
    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit;
    fn outcome(&self) -> Outcome;

    fn usage(&self) -> Usage {
        self.outcome().usage
    }

    fn failed(&self) -> bool {
        self.outcome().failure.is_some()
    }
}

/// A provider's error status as a [`Failure`], with its retry hint.
pub fn status_failure(status: u16, headers: HeaderLookup<'_>) -> Failure {
    Failure {
        cause: Cause::Status,
        status,
        retry_after_ms: retry_after_ms(headers),
    }
}

/// `retry-after-ms`, else `retry-after` in seconds (dates are the session's
/// business: they need the clock).
fn retry_after_ms(headers: HeaderLookup<'_>) -> Option<u64> {
    if let Some(ms) = headers("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then_some(ms as u64);
    }
    headers("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1000))
}

/// `base_path` + `suffix`, e.g. `/v1` + `/messages`.
pub fn join_path(base: &str, suffix: &str) -> String {
    let mut p = String::with_capacity(base.len() + suffix.len());
    p.push_str(base);
    p.push_str(suffix);
    p
}
