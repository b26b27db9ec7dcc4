//! Google Vertex AI (`type: "vertex"`): Gemini and Claude models behind the
//! OpenAI chat interface, Google's text embeddings behind `/v1/embeddings`.
//!
//! Vertex serves models of several publishers under one project and
//! location; the publisher decides the wire format:
//! * `google` (Gemini): the Gemini API's `GenerateContentRequest` and
//!   responses, unchanged, so the Gemini provider's translation is used as
//!   is (see `providers::gemini`); only the path and the credential differ.
//! * `anthropic` (Claude): the Anthropic Messages body with two changes
//!   Vertex requires: no `model` field (the model is in the path) and
//!   `anthropic_version: "vertex-2023-10-16"` in the body instead of the
//!   `anthropic-version` header. See `claude.rs`.
//!
//! The publisher of a target follows its model: an explicit `google/` or
//! `anthropic/` prefix decides (and is not sent), else ids starting with
//! `claude` are Anthropic's and everything else Google's. A Gemini model
//! named `models/x` is sent as `x`, as for the Gemini API.
//!
//! Paths (`base_path` defaults to `/v1`):
//! `{base}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`
//! with `generateContent`, `streamGenerateContent?alt=sse` (without
//! `alt=sse` Vertex streams one JSON array), `rawPredict`,
//! `streamRawPredict` (SSE, Anthropic's events) and `predict` (embeddings,
//! see `embed.rs`). The host is `{location}-aiplatform.googleapis.com`, or
//! `aiplatform.googleapis.com` for the `global` location, which has no
//! regional host.
//!
//! Credentials: Vertex takes no API keys on these paths, only OAuth2 access
//! tokens (`Authorization: Bearer`), which the filter fetches itself from
//! the `auth` source (metadata server or service-account key, see
//! `providers::auth::oauth`); `api_key_env` is refused. Errors from Vertex
//! itself (authentication, quota, unknown model) are google.rpc errors
//! `{"error":{"code","message","status"}}` for both publishers, while
//! Claude's own errors keep Anthropic's shape, so the Claude codec reads
//! both.

mod claude;
mod embed;

use serde::Deserialize;

use crate::config::{err, ConfigError};
use crate::providers::auth::oauth::RawSource;
use crate::providers::auth::{Auth, AuthScheme};
use crate::providers::gemini::{self, Gemini};
use crate::providers::{AuthInput, ChatInput, Defaults, EmbedRequest, Kind, Started, TargetCtx};

/// `anthropic_version` Claude on Vertex requires in the body.
pub const CLAUDE_VERSION: &str = "vertex-2023-10-16";

/// `type: "vertex"`.
#[derive(Debug)]
pub struct Vertex;

/// The config fields of `type: "vertex"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Google Cloud project id (or number).
    pub project: String,
    /// Region such as `us-central1`, or `global`.
    pub location: String,
    /// Where the access token comes from.
    pub auth: RawSource,
    /// `max_tokens` for Claude when the client sets none.
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
}

fn default_max_tokens() -> u32 {
    crate::providers::anthropic::DEFAULT_MAX_TOKENS
}

/// Who publishes a model, hence its wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    Google,
    Anthropic,
}

impl Publisher {
    fn segment(self) -> &'static str {
        match self {
            Publisher::Google => "google",
            Publisher::Anthropic => "anthropic",
        }
    }
}

/// The publisher of `model` and the model id to send.
pub fn publisher(model: &str) -> (Publisher, &str) {
    if let Some(m) = model.strip_prefix("google/") {
        return (Publisher::Google, gemini_model(m));
    }
    if let Some(m) = model.strip_prefix("anthropic/") {
        return (Publisher::Anthropic, m);
    }
    if model.starts_with("claude") {
        (Publisher::Anthropic, model)
    } else {
        (Publisher::Google, gemini_model(model))
    }
}

fn gemini_model(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// A project id or location as one path segment: no separators, no
/// characters that would need escaping.
fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl Options {
    /// `{base}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method}`.
    pub fn path(&self, base: &str, publisher: Publisher, model: &str, method: &str) -> String {
        format!(
            "{base}/projects/{}/locations/{}/publishers/{}/models/{model}:{method}",
            self.project,
            self.location,
            publisher.segment()
        )
    }
}

impl Kind for Vertex {
    type Options = Options;

    fn validate(opts: &Options, path: &str) -> Result<(), ConfigError> {
        if !segment_ok(&opts.project) {
            return Err(err(
                format!("{path}.project"),
                "must be a Google Cloud project id (letters, digits, `-`)",
            ));
        }
        if !segment_ok(&opts.location) {
            return Err(err(
                format!("{path}.location"),
                "must be a Vertex AI location such as `us-central1` or `global`",
            ));
        }
        if opts.default_max_tokens == 0 {
            return Err(err(
                format!("{path}.default_max_tokens"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn defaults(_: &Options) -> Defaults {
        Defaults {
            host: None,
            base_path: "/v1",
            auth: AuthScheme::Bearer,
            key_required: false,
        }
    }

    fn default_host(opts: &Options) -> Option<String> {
        Some(if opts.location == "global" {
            "aiplatform.googleapis.com".to_string()
        } else {
            format!("{}-aiplatform.googleapis.com", opts.location)
        })
    }

    fn auth(opts: &Options, input: AuthInput<'_>) -> Result<Auth, ConfigError> {
        if input.key.is_some() {
            return Err(err(
                format!("{}.api_key_env", input.path),
                "not used by type `vertex`: access tokens come from `auth`",
            ));
        }
        let at = format!("{}.auth", input.path);
        let source = opts.auth.clone().compile(input.provider, input.env, &at)?;
        Ok(Auth::OAuth(Box::new(source)))
    }

    fn chat(opts: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        match publisher(target.model) {
            (Publisher::Google, model) => gemini_chat(opts, input, target, model),
            (Publisher::Anthropic, model) => claude::chat(opts, input, target, model),
        }
    }

    fn embeddings(opts: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
        match publisher(target.model) {
            (Publisher::Google, model) => embed::start(opts, input, target, model),
            (Publisher::Anthropic, _) => Err(crate::providers::no_embeddings(target)),
        }
    }

    /// Claude's counter (`count-tokens:rawPredict`); Gemini on Vertex is
    /// estimated (see `providers::count`).
    fn count_tokens(
        opts: &Options,
        input: &ChatInput<'_>,
        target: TargetCtx<'_>,
    ) -> Option<Started> {
        match publisher(target.model) {
            (Publisher::Anthropic, model) => Some(claude::count_tokens(opts, input, target, model)),
            (Publisher::Google, _) => None,
        }
    }
}

/// The Gemini API's translation, on the Vertex path.
fn gemini_chat(
    opts: &Options,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
    model: &str,
) -> Started {
    let target = TargetCtx { model, ..target };
    let (translator, mut out) = Gemini::chat(&gemini::Options::default(), input, target)?;
    // The Gemini provider ends its path with `:{method}` (with `?alt=sse`
    // when streaming); the same method names exist on Vertex.
    let method = out
        .path
        .rsplit_once(':')
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| "generateContent".to_string());
    out.path = opts.path(
        &target.provider.base_path,
        Publisher::Google,
        model,
        &method,
    );
    Ok((translator, out))
}

#[cfg(test)]
mod tests;
