//! Claude on Vertex AI: `:rawPredict` and `:streamRawPredict`.
//!
//! The body is the Anthropic Messages request the Anthropic provider
//! builds, with `model` removed (Vertex rejects it: the model is in the
//! path) and `anthropic_version: "vertex-2023-10-16"` added (Vertex reads
//! the version from the body; there is no `anthropic-version` header).
//! `stream: true` stays in the body, as Vertex wants for
//! `:streamRawPredict`. Responses and stream events are Anthropic's and are
//! decoded by the Anthropic codec.
//!
//! # Messages clients
//! A Messages client's body goes up as sent (see
//! `providers::anthropic::passthrough`), with the same two edits: `model`
//! removed and `anthropic_version` set. Usage is observed on the way, and
//! errors pass as they are, except google.rpc ones, which become
//! Anthropic's envelope (with their status). The client's `anthropic-beta`
//! header is not turned into the body's `anthropic_beta` here: the
//! provider does not see client headers.
//!
//! Errors come in two shapes: the Vertex front end (authentication,
//! permission, quota, unknown model) answers google.rpc errors
//! `{"error":{"code","message","status"}}`, while Claude's own errors are
//! Anthropic's `{"type":"error","error":{"type","message"}}`. The shape is
//! told by `error.status`, which only google.rpc errors have.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Options, Publisher, CLAUDE_VERSION};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::events::{Event, Meta, Reply};
use crate::providers::anthropic::passthrough::Passthrough;
use crate::providers::anthropic::{self, AnthropicCodec};
use crate::providers::decoded::{Codec, Decoded, Rejection};
use crate::providers::gemini::GeminiCodec;
use crate::providers::{ChatInput, Outbound, Started, TargetCtx};

/// Starts a Claude exchange for `model` (publisher prefix removed).
pub(super) fn chat(
    opts: &Options,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
    model: &str,
) -> Started {
    if input.dialect == Dialect::AnthropicMessages {
        return passthrough(opts, input, target, model);
    }
    let req = input.request()?;
    let anthropic_opts = anthropic::Options {
        default_max_tokens: opts.default_max_tokens,
        ..anthropic::Options::default()
    };
    let target = TargetCtx { model, ..target };
    let messages = anthropic::request::messages_body(&anthropic_opts, &req, &target)?;
    let body = vertex_body(&messages, None)?;
    let meta = Meta {
        model: target.public_model.to_string(),
        created: target.now_unix_secs,
        include_usage: req.include_usage(),
        encrypted_reasoning: req.ext.encrypted_reasoning,
    };
    let stream = req.is_stream();
    let chat = Decoded::new(
        VertexClaudeCodec::default(),
        input.dialect.encoder(meta),
        stream,
    );
    let method = if stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    };
    let out = Outbound {
        path: opts.path(
            &target.provider.base_path,
            Publisher::Anthropic,
            model,
            method,
        ),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    Ok((Box::new(chat), out))
}

/// A Messages client's body, as sent but for `model` and the version.
fn passthrough(
    opts: &Options,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
    model: &str,
) -> Started {
    let stream = input.probe.stream;
    let body = vertex_body(input.body, input.betas)
        .map_err(|_| ApiError::invalid_request("The request body must be a JSON object."))?;
    let foreign = |status: u16, body: &[u8]| VertexClaudeCodec::default().error(status, body);
    let method = if stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    };
    let out = Outbound {
        path: opts.path(
            &target.provider.base_path,
            Publisher::Anthropic,
            model,
            method,
        ),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    Ok((Box::new(Passthrough::new(stream, foreign)), out))
}

/// Claude's token counter on Vertex: the path's model is `count-tokens`
/// and the body names the model (unlike every other Claude call there).
pub(super) fn count_tokens(
    opts: &Options,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
    model: &str,
) -> Started {
    crate::dialect::anthropic::decode_count(input.body)?;
    let p = input.probe;
    let body = crate::providers::anthropic::passthrough::model_splice(
        input.body,
        &p.model,
        p.model_span.clone(),
        model,
    )?;
    let out = Outbound {
        path: opts.path(
            &target.provider.base_path,
            Publisher::Anthropic,
            "count-tokens",
            "rawPredict",
        ),
        headers: vec![("content-type", "application/json".to_string())],
        body,
    };
    let counter = crate::providers::count::Translated::new(
        crate::providers::count::anthropic_total,
        |status, body| VertexClaudeCodec::default().error(status, body),
    );
    Ok((Box::new(counter), out))
}

/// The Messages body without `model` and with the Vertex version, and
/// the client's `anthropic-beta` header as the body's `anthropic_beta`
/// list (Vertex takes betas there, not as a header). Values are kept as
/// raw JSON, so prompt text is copied, not re-escaped.
pub(super) fn vertex_body(messages: &[u8], betas: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let bad = |e: serde_json::Error| ApiError::internal(format!("cannot encode the request: {e}"));
    let mut fields: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_slice(messages).map_err(bad)?;
    fields.remove("model");
    let version = serde_json::to_string(CLAUDE_VERSION).map_err(bad)?;
    let version = RawValue::from_string(version).map_err(bad)?;
    fields.insert(Cow::Borrowed("anthropic_version"), &version);
    let list: Vec<&str> = betas
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    let list = RawValue::from_string(serde_json::to_string(&list).map_err(bad)?).map_err(bad)?;
    if list.get() != "[]" {
        fields.insert(Cow::Borrowed("anthropic_beta"), &list);
    }
    serde_json::to_vec(&fields).map_err(bad)
}

/// Anthropic's formats, with Vertex's google.rpc errors understood too.
#[derive(Debug, Default)]
pub struct VertexClaudeCodec {
    inner: AnthropicCodec,
}

#[derive(Deserialize)]
struct Probe {
    error: Option<ProbeError>,
}

#[derive(Deserialize)]
struct ProbeError {
    status: Option<serde::de::IgnoredAny>,
}

/// The body is a google.rpc error (it has `error.status`).
fn is_rpc_error(body: &[u8]) -> bool {
    serde_json::from_slice::<Probe>(body)
        .ok()
        .and_then(|p| p.error)
        .is_some_and(|e| e.status.is_some())
}

impl Codec for VertexClaudeCodec {
    fn name(&self) -> &'static str {
        "vertex"
    }

    fn client_status(&self, upstream: u16) -> u16 {
        self.inner.client_status(upstream)
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        if is_rpc_error(body) {
            GeminiCodec::default().error(status, body)
        } else {
            self.inner.error(status, body)
        }
    }

    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection> {
        self.inner.reply(body)
    }

    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>)) {
        self.inner.stream_event(data, emit);
    }
}
