//! OpenAI and OpenAI-compatible upstreams (Mistral, Groq, DeepSeek, vLLM...).
//!
//! The body already speaks the upstream's language, so the request is
//! forwarded byte for byte except for two splices: the `model` value (only
//! when the upstream name differs) and, on streams, `stream_options` so the
//! upstream reports usage. When the client did not ask for usage itself, the
//! extra usage-only chunk is removed again before it reaches the client, so
//! the stream it sees is the one it asked for. A client's
//! `"stream_options": null` is replaced in place like any other value:
//! inserted next to it, the upstream would keep the last key and send no
//! usage. Stream events are re-emitted whole (see `stream.rs`). Servers
//! that reject `stream_options` can opt out per provider
//! (`stream_usage: false`); usage is then counted only when they send it
//! anyway. Unknown fields pass
//! through untouched: compatible servers add their own parameters.
//!
//! That passthrough is for OpenAI chat clients only, and gets no extra
//! work for the other dialects. A client of another dialect is served by:
//! * `responses.rs`: a Responses client of kind `openai` (not a preset)
//!   is passed through to `{base_path}/responses`, usage observed;
//! * `translate.rs`: anyone else (Anthropic Messages; Responses to a
//!   preset) gets the neutral request encoded as chat completions
//!   (`encode.rs`) and the answer decoded (`decode.rs`) into the client's
//!   dialect.

mod decode;
mod embed;
mod encode;
mod encode_wire;
pub mod presets;
mod quirks;
mod responses;
mod stream;
mod tail;
mod translate;

use std::ops::Range;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::dialect::Dialect;
use crate::error::{normalize_error_body, ApiError};
use crate::providers::auth::AuthScheme;
use crate::providers::{
    join_path, no_embeddings, status_failure, BodyEdit, BodyMode, ChatInput, Defaults,
    EmbedRequest, Failure, HeaderEdit, HeaderLookup, Kind, Options as ProviderOptions, Outbound,
    Outcome, Started, TargetCtx, Translator,
};
use crate::usage::{Count, Usage};
use presets::Preset;

pub(crate) use embed::passthrough as embeddings_passthrough;
pub(crate) use responses::passthrough as responses_passthrough;
pub use stream::UsageStream;
pub use tail::TailScan;

/// Rewrites an upstream error body into OpenAI's envelope; `None` keeps it.
pub(crate) type Normalize = fn(u16, &[u8]) -> Option<Vec<u8>>;

/// The OpenAI normaliser: keeps OpenAI-shaped errors, wraps the others.
pub(crate) fn normalize_upstream_error(status: u16, body: &[u8]) -> Option<Vec<u8>> {
    normalize_error_body(status, body, "upstream")
}

/// Usage as OpenAI reports it; unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<Count>,
    #[serde(default)]
    pub completion_tokens: Option<Count>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<Count>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<Count>,
}

impl WireUsage {
    pub fn to_usage(&self) -> Usage {
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens);
        let reasoning = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens);
        let all = [
            self.prompt_tokens,
            self.completion_tokens,
            cached,
            reasoning,
        ];
        Usage {
            input: Count::get(self.prompt_tokens),
            output: Count::get(self.completion_tokens),
            cache_write: 0,
            cache_read: Count::get(cached),
            reasoning: Count::get(reasoning),
            implausible: Count::any_implausible(&all),
        }
    }
}

#[derive(Debug)]
enum State {
    /// Waiting for response headers.
    Sent,
    /// An error body, buffered whole so it can be normalised.
    Whole,
    /// A successful JSON body, forwarded as it arrives; its tail is scanned.
    Tail(TailScan),
    /// An SSE stream, scanned for usage.
    Streaming(UsageStream),
}

/// `type: "openai"`, and every preset.
#[derive(Debug)]
pub struct OpenAi;

/// The config fields of `type: "openai"` and of the presets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Ask streams for usage (`stream_options.include_usage`); defaults to
    /// the preset's support for it.
    #[serde(default)]
    pub stream_usage: Option<bool>,
    /// The preset the `type` named, if any.
    #[serde(skip)]
    pub preset: Option<&'static Preset>,
}

impl Options {
    pub fn stream_usage(&self) -> bool {
        self.stream_usage
            .unwrap_or_else(|| self.preset.is_none_or(|p| p.stream_usage))
    }
}

/// Options for a preset `type`; `None` when `kind` is not a preset.
pub fn preset_options(
    kind: &str,
    raw: serde_json::Value,
    path: &str,
) -> Option<Result<ProviderOptions, ConfigError>> {
    let preset = presets::find(kind)?;
    Some(
        super::parse_options::<OpenAi>(raw, path, kind).map(|mut o| {
            o.preset = Some(preset);
            ProviderOptions::OpenAi(o)
        }),
    )
}

impl Kind for OpenAi {
    type Options = Options;
    fn reply_headers(_: &Options) -> &'static [&'static str] {
        &["x-request-id"]
    }

    fn defaults(opts: &Options) -> Defaults {
        match opts.preset {
            Some(p) => Defaults {
                host: Some(p.host),
                base_path: p.base_path,
                auth: p.auth,
                key_required: p.key_required,
            },
            None => Defaults {
                host: Some("api.openai.com"),
                base_path: "/v1",
                auth: AuthScheme::Bearer,
                key_required: false,
            },
        }
    }

    fn chat(opts: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        let base = &target.provider.base_path;
        if input.dialect == Dialect::OpenAiResponses && opts.preset.is_none() {
            let path = join_path(base, "/responses");
            return responses::passthrough(path, normalize_upstream_error, input, target);
        }
        let spec = Passthrough {
            path: join_path(base, "/chat/completions"),
            stream_usage: opts.stream_usage(),
            preset: opts.preset,
            normalize: normalize_upstream_error,
        };
        start(spec, input, target)
    }

    fn embeddings(opts: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
        if opts.preset.is_some_and(|p| !p.embeddings) {
            return Err(no_embeddings(target));
        }
        let path = join_path(&target.provider.base_path, "/embeddings");
        let (exchange, out) = embed::passthrough(input, target, path, normalize_upstream_error)?;
        Ok((Box::new(exchange), out))
    }
}

/// What differs between the upstreams that speak OpenAI's chat wire format
/// (OpenAI and its presets, Azure OpenAI).
#[derive(Debug)]
pub(crate) struct Passthrough {
    /// Upstream `:path`, query included.
    pub path: String,
    /// Ask streams for usage (`stream_options.include_usage`).
    pub stream_usage: bool,
    /// Preset quirks to apply to the body.
    pub preset: Option<&'static Preset>,
    pub normalize: Normalize,
}

/// Starts a chat: the passthrough for an OpenAI chat client, the
/// translation (see `translate.rs`) for any other dialect.
pub(crate) fn start(spec: Passthrough, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
    if input.dialect != Dialect::OpenAiChat {
        return translate::translated(spec, input, target);
    }
    let (chat, out) = passthrough(spec, input, target)?;
    Ok((Box::new(chat), out))
}

/// Builds the forwarded request: the client's body with the few splices
/// the upstream needs.
pub(crate) fn passthrough(
    spec: Passthrough,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
) -> Result<(OpenAiChat, Outbound), ApiError> {
    if input.dialect != crate::dialect::Dialect::OpenAiChat {
        // `start` translates other dialects; forwarding one would send a
        // body the chat endpoint cannot read.
        return Err(ApiError::internal(
            "the chat passthrough got another dialect",
        ));
    }
    let (body, p) = (input.body, input.probe);
    let mut edits: Vec<Edit> = Vec::new();
    let mut strip_usage = false;
    if p.stream && spec.stream_usage {
        match &p.stream_options {
            None => {
                let at = p.object_start + 1;
                edits.push((
                    at..at,
                    br#""stream_options":{"include_usage":true},"#.to_vec(),
                ));
                strip_usage = true;
            }
            Some((raw, span)) => {
                if let Some(fixed) = force_include_usage(raw)? {
                    edits.push((span.clone(), fixed));
                    strip_usage = true;
                }
            }
        }
    }
    edits.extend(model_edit(&p.model, p.model_span.clone(), target.model)?);
    let mut new_body = (!edits.is_empty()).then(|| splice(body, edits));
    if let Some(preset) = spec.preset {
        let current = new_body.as_deref().unwrap_or(body);
        if let Some(fixed) = quirks::apply(preset, current)? {
            new_body = Some(fixed);
        }
    }
    let out = Outbound {
        path: spec.path,
        headers: vec![("content-type", "application/json".to_string())],
        body: new_body,
    };
    let mut chat = OpenAiChat::json(spec.normalize);
    chat.stream = p.stream;
    chat.strip_usage = strip_usage;
    Ok((chat, out))
}

/// Replaces the bytes in the range with these.
type Edit = (Range<usize>, Vec<u8>);

/// The splice that renames the body's `model` (at `span`) to `upstream`,
/// or none when the client already used that name.
fn model_edit(client: &str, span: Range<usize>, upstream: &str) -> Result<Option<Edit>, ApiError> {
    if client == upstream {
        return Ok(None);
    }
    let quoted =
        serde_json::to_vec(upstream).map_err(|_| ApiError::internal("cannot encode model name"))?;
    Ok(Some((span, quoted)))
}

/// One exchange with an OpenAI-compatible upstream: a chat, or any other
/// JSON answer with `usage` at its end (embeddings).
#[derive(Debug)]
pub struct OpenAiChat {
    stream: bool,
    /// We injected `include_usage`; the client must not see the usage chunk.
    strip_usage: bool,
    state: State,
    status: u16,
    usage: Usage,
    failure: Option<Failure>,
    normalize: Normalize,
}

impl OpenAiChat {
    /// An exchange whose 2xx answer is one JSON body (tail-scanned for
    /// usage) and whose errors go through `normalize`.
    pub(crate) fn json(normalize: Normalize) -> Self {
        OpenAiChat {
            stream: false,
            strip_usage: false,
            state: State::Sent,
            status: 0,
            usage: Usage::default(),
            failure: None,
            normalize,
        }
    }
}

impl Translator for OpenAiChat {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        let ok = (200..300).contains(&status);
        self.status = status;
        if ok && self.stream {
            self.state = State::Streaming(UsageStream::new(self.strip_usage));
            return HeaderEdit {
                mode: BodyMode::Stream,
                status: None,
                content_type: None,
                // Bytes change when usage is stripped or a truncation is
                // reported, so no upstream length can be trusted.
                drop_content_length: true,
            };
        }
        if ok {
            self.state = State::Tail(TailScan::default());
            return HeaderEdit {
                mode: BodyMode::Tail(tail::TAIL_BYTES),
                status: None,
                content_type: None,
                drop_content_length: false,
            };
        }
        self.failure = Some(status_failure(status, headers));
        self.state = State::Whole;
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: None,
            content_type: Some("application/json"),
            drop_content_length: true,
        }
    }

    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        match &mut self.state {
            State::Sent => BodyEdit::Keep,
            State::Whole => match (self.normalize)(self.status, data) {
                None => BodyEdit::Keep,
                Some(body) => BodyEdit::Replace(body),
            },
            State::Tail(t) => {
                t.push(data);
                if end {
                    if let Some(u) = t.usage() {
                        self.usage = u;
                    }
                }
                BodyEdit::Keep
            }
            State::Streaming(s) => {
                let edit = s.push(data, end);
                self.usage = s.usage();
                if let Some(cause) = s.failure() {
                    self.failure.get_or_insert(Failure {
                        cause,
                        status: 502,
                        retry_after_ms: None,
                    });
                }
                edit
            }
        }
    }

    fn outcome(&self) -> Outcome {
        Outcome {
            usage: self.usage,
            failure: self.failure,
            content: match &self.state {
                State::Streaming(s) => s.content(),
                _ => false,
            },
            streamed: match &self.state {
                State::Streaming(s) => s.streamed(),
                _ => 0,
            },
        }
    }
}

/// Returns a replacement for `stream_options` with `include_usage: true`,
/// or `None` when the client already asked for usage.
/// A client's `null` is replaced in place like any other value, so the
/// upstream sees one `stream_options` key.
fn force_include_usage(raw: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let mut obj: serde_json::Map<String, serde_json::Value> = match raw {
        "null" => serde_json::Map::new(),
        _ => serde_json::from_str(raw).map_err(|_| {
            ApiError::invalid_param("stream_options", "`stream_options` must be an object.")
        })?,
    };
    if obj.get("include_usage") == Some(&serde_json::Value::Bool(true)) {
        return Ok(None);
    }
    obj.insert("include_usage".to_string(), serde_json::Value::Bool(true));
    serde_json::to_vec(&obj)
        .map(Some)
        .map_err(|_| ApiError::internal("cannot encode stream_options"))
}

/// Applies non-overlapping edits to `body` in one copy.
fn splice(body: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|(r, _)| r.start);
    let extra: usize = edits.iter().map(|(_, v)| v.len()).sum();
    let mut out = Vec::with_capacity(body.len() + extra);
    let mut at = 0;
    for (range, bytes) in edits {
        out.extend_from_slice(body.get(at..range.start).unwrap_or(&[]));
        out.extend_from_slice(&bytes);
        at = range.end.max(at);
    }
    out.extend_from_slice(body.get(at..).unwrap_or(&[]));
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
