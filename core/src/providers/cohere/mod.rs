//! Cohere API v2 (`api.cohere.com`) behind the OpenAI chat and embeddings
//! interfaces.
//!
//! Paths: `{base_path}/chat` (streaming is the same path with `stream:
//! true`) and `{base_path}/embed`; the default `base_path` is `/v2`. The key
//! goes as `Authorization: Bearer`.
//!
//! # Request
//! Messages: see `messages.rs`.
//! * `max_completion_tokens` (else `max_tokens`) → `max_tokens`;
//!   `temperature`, `seed`, `frequency_penalty` and `presence_penalty` keep
//!   their names, `top_p` → `p`, `stop` → `stop_sequences`. Cohere's
//!   penalties range over 0..1 (OpenAI's over -2..2) and its `p` over
//!   0.01..0.99; values outside are passed on for Cohere to reject, not
//!   clamped. The `top_k` extension → `k`.
//! * `tools` → Cohere's function tools, which have OpenAI's shape (a
//!   function without `parameters` gets an empty object schema: Cohere
//!   requires one). `strict: true` on any function → `strict_tools: true`
//!   (Cohere's switch is per request). `tool_choice`: `auto` is Cohere's
//!   default and not sent, `required` → `REQUIRED`, `none` → `NONE`; a
//!   named function has no Cohere equivalent (a 400 naming `tool_choice`).
//! * `response_format`: `json_object` → `{type: json_object}`;
//!   `json_schema` → the same with `json_schema: <schema>`. Cohere refuses
//!   a response format together with tools; that 400 is Cohere's.
//! * `reasoning_effort` → `thinking`: `none` → `{type: disabled}`, else
//!   `{type: enabled, token_budget}` with minimal 512, low 1024, medium
//!   8192, high/xhigh 24576 tokens. Without it nothing is sent and the
//!   model's default applies (reasoning models think by default).
//!
//! Parameters that would change the output and cannot be honoured are a 400
//! naming them: `n` > 1 (Cohere makes one generation), `logprobs` and
//! `top_logprobs` (Cohere's token log-probabilities are not OpenAI's
//! shape), `logit_bias`, `audio`, non-text `modalities`, `prediction`,
//! `web_search_options`, the deprecated `functions`/`function_call`,
//! `parallel_tool_calls: false` while tools may be called, and any
//! parameter the schema does not know. `store`, `metadata`, `service_tier`,
//! `verbosity`, `prompt_cache_key`, `user` and `safety_identifier` are
//! accepted and ignored.
//!
//! # Response
//! `message.content` text items → `content`, `thinking` items and the
//! `tool_plan` (the model's plan before calling tools) → `reasoning_content`;
//! `message.tool_calls` → `tool_calls` with Cohere's ids and argument
//! strings. `finish_reason`: `COMPLETE` and `STOP_SEQUENCE` → `stop`
//! (`tool_calls` when the reply has calls), `MAX_TOKENS` → `length`,
//! `TOOL_CALL` → `tool_calls`, unknown values → `stop`; `ERROR` and
//! `TIMEOUT` mean the generation failed and become a 502 / 504 rather
//! than a reply that looks complete. Usage: `usage.tokens` (what the model
//! processed), else `usage.billed_units`; `cached_tokens` are the cache
//! reads, counted among the input. Cohere reports no reasoning tokens apart.
//! A 2xx body without `message` is a 502. Errors: see `errors.rs`; streams:
//! see `stream.rs`; embeddings: see `embed.rs`.
//!
//! # Options
//! `embed_input_type` (default `search_document`): Cohere's embed models
//! (v3 and later) require an `input_type`, which OpenAI's embeddings API has
//! no field for. `search_document` is the default because the common use
//! of an OpenAI-style embeddings endpoint is indexing documents for
//! retrieval, and it is what other OpenAI-compatible layers over Cohere
//! default to, so vectors stay comparable when moving between them. A
//! deployment that embeds queries (or classifies, or clusters) configures
//! a provider with `search_query` (`classification`, `clustering`) and
//! routes those models to it.

mod embed;
mod errors;
mod messages;
mod request;
mod response;
mod stream;
mod wire;

use serde::Deserialize;

use crate::error::ApiError;
use crate::events::{Event, Meta, Reply};
use crate::providers::auth::AuthScheme;
use crate::providers::decoded::{Codec, Decoded, Rejection};
use crate::providers::{
    join_path, ChatInput, Defaults, EmbedRequest, Kind, Outbound, Started, TargetCtx,
};

/// `type: "cohere"`.
#[derive(Debug)]
pub struct Cohere;

/// Cohere's `input_type` for embeddings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    #[default]
    SearchDocument,
    SearchQuery,
    Classification,
    Clustering,
}

impl InputType {
    pub fn as_str(self) -> &'static str {
        match self {
            InputType::SearchDocument => "search_document",
            InputType::SearchQuery => "search_query",
            InputType::Classification => "classification",
            InputType::Clustering => "clustering",
        }
    }
}

/// The config fields of `type: "cohere"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// `input_type` of every embeddings request (default `search_document`).
    #[serde(default)]
    pub embed_input_type: Option<InputType>,
}

impl Options {
    pub fn input_type(&self) -> InputType {
        self.embed_input_type.unwrap_or_default()
    }
}

impl Kind for Cohere {
    type Options = Options;
    /// `x-client-name`: the SDKs' `client_name`, for Cohere's logs.
    fn client_headers(_: &Options) -> &'static [&'static str] {
        &["x-client-name"]
    }

    fn defaults(_: &Options) -> Defaults {
        Defaults {
            host: Some("api.cohere.com"),
            base_path: "/v2",
            auth: AuthScheme::Bearer,
            key_required: true,
        }
    }

    fn chat(_: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        let req = input.request()?;
        let upstream = request::chat_body(&req, target.model)?;
        let meta = Meta {
            model: target.public_model.to_string(),
            created: target.now_unix_secs,
            include_usage: req.include_usage(),
            encrypted_reasoning: req.ext.encrypted_reasoning,
        };
        let chat = Decoded::new(
            CohereCodec::default(),
            input.dialect.encoder(meta),
            req.is_stream(),
        );
        let out = Outbound {
            path: join_path(&target.provider.base_path, "/chat"),
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(upstream),
        };
        Ok((Box::new(chat), out))
    }

    fn embeddings(opts: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
        embed::start(opts, input, target)
    }
}

/// Cohere's response formats, for one exchange.
#[derive(Debug, Default)]
pub struct CohereCodec {
    stream: stream::StreamDecoder,
}

impl Codec for CohereCodec {
    fn name(&self) -> &'static str {
        "cohere"
    }

    fn client_status(&self, upstream: u16) -> u16 {
        errors::client_status(upstream)
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        errors::translate_error(status, body)
    }

    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection> {
        response::reply(body)
    }

    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>)) {
        self.stream.event(data, emit);
    }
}

#[cfg(test)]
mod tests;
