//! Azure OpenAI (`type: "azure"`): OpenAI's wire format behind Azure's
//! paths, auth and error shapes.
//!
//! The body is OpenAI's, so requests and responses go through the OpenAI
//! passthrough ([`openai::passthrough`]) unchanged; only the path, the
//! credential header and error normalisation differ:
//!
//! * `api_style: "deployments"` (default): `{base}/openai/deployments/{d}/
//!   chat/completions?api-version=V`, where the deployment `d` is the
//!   target's `model` (URL-encoded). Azure routes by the path and ignores
//!   the body's `model`; it is still spliced to the deployment name, as for
//!   OpenAI, so upstream logs show what was called.
//! * `api_style: "v1"`: `{base}/openai/v1/chat/completions`, the
//!   OpenAI-compatible surface (GA since August 2025), which needs no
//!   `api-version` and takes the deployment name as the body's `model`. An
//!   explicit `api_version` (e.g. `"preview"`) is still appended.
//! * `auth: "api-key"` (default) sends the key as `api-key`; `"bearer"`
//!   sends it as `Authorization: Bearer` (a Microsoft Entra ID token given
//!   as the key).
//!
//! Content filtering: a filtered completion is a 2xx whose choice has
//! `finish_reason: "content_filter"`, already OpenAI vocabulary, and stream
//! chunks carrying `prompt_filter_results` / `content_filter_results` (the
//! first has `choices: []` and no usage) pass through as they are. A
//! filtered prompt is a 400 with `code: "content_filter"`, kept as that
//! code by [`errors::normalize`].
//!
//! Clients of other dialects: an OpenAI Responses client is passed through
//! to `{base}/openai/v1/responses` (see [`Options::responses_path`]); an
//! Anthropic Messages client is translated to chat completions at the
//! usual path (see `openai::translate`).
//!
//! `stream_options.include_usage` is accepted from API version
//! `2024-09-01-preview` and GA `2024-10-21`; `stream_usage: false` turns the
//! injection off for older pinned versions.

mod errors;

use serde::Deserialize;

use crate::config::{err, ConfigError};
use crate::dialect::Dialect;
use crate::providers::auth::AuthScheme;
use crate::providers::openai::{self, Passthrough};
use crate::providers::{ChatInput, Defaults, EmbedRequest, Kind, Started, TargetCtx};

pub use errors::normalize;

/// The latest GA data-plane inference version, the default for
/// `api_style: "deployments"`.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// `type: "azure"`.
#[derive(Debug)]
pub struct Azure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ApiStyle {
    /// `/openai/deployments/{deployment}/...?api-version=...`.
    #[default]
    Deployments,
    /// `/openai/v1/...`, deployment as `model`.
    V1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthStyle {
    /// `api-key: <key>`.
    #[default]
    #[serde(rename = "api-key")]
    ApiKey,
    /// `Authorization: Bearer <key>` (an Entra ID token).
    Bearer,
}

/// The config fields of `type: "azure"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// `api-version` query value; defaults to [`DEFAULT_API_VERSION`] for
    /// deployments and to none for v1.
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub api_style: ApiStyle,
    #[serde(default)]
    pub auth: AuthStyle,
    /// Ask streams for usage (`stream_options.include_usage`); default true.
    #[serde(default)]
    pub stream_usage: Option<bool>,
}

impl Options {
    fn api_version(&self) -> Option<&str> {
        match (self.api_version.as_deref(), self.api_style) {
            (Some(v), _) => Some(v),
            (None, ApiStyle::Deployments) => Some(DEFAULT_API_VERSION),
            (None, ApiStyle::V1) => None,
        }
    }

    /// The upstream path of `operation` (`chat/completions`, `embeddings`).
    pub fn path(&self, base_path: &str, deployment: &str, operation: &str) -> String {
        let mut p = String::from(base_path);
        match self.api_style {
            ApiStyle::Deployments => {
                p.push_str("/openai/deployments/");
                p.push_str(&encode_segment(deployment));
            }
            ApiStyle::V1 => p.push_str("/openai/v1"),
        }
        p.push('/');
        p.push_str(operation);
        if let Some(v) = self.api_version() {
            p.push_str("?api-version=");
            p.push_str(v);
        }
        p
    }

    /// `{base}/openai/v1/responses`: Azure serves Responses only on its
    /// v1 surface, deployment as the body's `model`, whatever `api_style`
    /// says. An `api_version` given with `api_style: "v1"` is appended;
    /// one given for deployments is a deployments API version and is not.
    pub fn responses_path(&self, base_path: &str) -> String {
        let mut p = String::from(base_path);
        p.push_str("/openai/v1/responses");
        if let (ApiStyle::V1, Some(v)) = (self.api_style, self.api_version.as_deref()) {
            p.push_str("?api-version=");
            p.push_str(v);
        }
        p
    }
}

impl Kind for Azure {
    type Options = Options;
    /// `x-ms-client-request-id`: Azure's client correlation id, echoed back.
    fn client_headers(_: &Options) -> &'static [&'static str] {
        &["x-ms-client-request-id"]
    }
    fn reply_headers(_: &Options) -> &'static [&'static str] {
        &["apim-request-id", "x-request-id", "x-ms-client-request-id"]
    }

    fn validate(opts: &Options, path: &str) -> Result<(), ConfigError> {
        if let Some(v) = &opts.api_version {
            let ok = !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !ok {
                return Err(err(
                    format!("{path}.api_version"),
                    "must be an API version such as `2024-10-21` (letters, digits, `-`, `.`, `_`)",
                ));
            }
        }
        Ok(())
    }

    fn defaults(opts: &Options) -> Defaults {
        Defaults {
            // The resource host (`<resource>.openai.azure.com`) is per customer.
            host: None,
            base_path: "",
            auth: match opts.auth {
                AuthStyle::ApiKey => AuthScheme::Header("api-key"),
                AuthStyle::Bearer => AuthScheme::Bearer,
            },
            key_required: true,
        }
    }

    fn chat(opts: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        if input.dialect == Dialect::OpenAiResponses {
            let path = opts.responses_path(&target.provider.base_path);
            return openai::responses_passthrough(path, normalize, input, target);
        }
        let spec = Passthrough {
            path: opts.path(&target.provider.base_path, target.model, "chat/completions"),
            stream_usage: opts.stream_usage.unwrap_or(true),
            preset: None,
            normalize,
        };
        openai::start(spec, input, target)
    }

    fn embeddings(opts: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
        let path = opts.path(&target.provider.base_path, target.model, "embeddings");
        let (exchange, out) = openai::embeddings_passthrough(input, target, path, normalize)?;
        Ok((Box::new(exchange), out))
    }
}

/// Percent-encodes a path segment: everything but RFC 3986 unreserved bytes.
fn encode_segment(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 15] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
