//! Google Gemini API (`generativelanguage.googleapis.com`) behind the
//! OpenAI chat and embeddings interfaces.
//!
//! Paths: `{base_path}/models/{model}:generateContent`, streaming
//! `:streamGenerateContent?alt=sse` (SSE framing; without `alt=sse` Gemini
//! streams one JSON array), embeddings `:batchEmbedContents`. The default
//! `base_path` is `/v1beta`, where every current feature lives; a config may
//! say `/v1`. The key goes in `x-goog-api-key` (not `?key=`, which would end
//! up in access logs). A model named `models/x` is sent as `x`.
//!
//! # Request
//! Messages: see `contents.rs`; tool schemas: see `schema.rs`.
//! * `n` > 1 → `candidateCount` (1 is the default and not sent; 0 is a
//!   400); each candidate becomes the choice of its `index`.
//! * `max_completion_tokens` (else `max_tokens`) → `maxOutputTokens`;
//!   `temperature`, `top_p`, `stop`, `seed` (must fit in 32 bits),
//!   `presence_penalty` and `frequency_penalty` map to their
//!   `generationConfig` namesakes (Gemini's ranges match OpenAI's).
//! * `response_format`: `json_object` → `responseMimeType:
//!   application/json`; `json_schema` → the same plus `responseJsonSchema`,
//!   which takes the JSON Schema as is.
//! * `tools` → one `tools[].functionDeclarations`; `tool_choice`
//!   auto/none/required/named → `toolConfig.functionCallingConfig.mode`
//!   `AUTO`/`NONE`/`ANY`/`ANY` + `allowedFunctionNames: [name]`. `strict` is
//!   ignored (Gemini has no such switch).
//! * `reasoning_effort` → `thinkingConfig`, with `includeThoughts: true` so
//!   thought summaries come back as `reasoning_content` (not for `none`).
//!   Gemini 3 and later models (`gemini-N…`, N ≥ 3) take a level, earlier
//!   ones a token budget (Google's own OpenAI layer uses the same budgets):
//!
//!   | effort        | `thinkingLevel` (≥ 3) | `thinkingBudget` (< 3) |
//!   |---------------|-----------------------|------------------------|
//!   | none          | MINIMAL               | 0 (thinking off)       |
//!   | minimal       | MINIMAL               | 512                    |
//!   | low           | LOW                   | 1024                   |
//!   | medium        | MEDIUM                | 8192                   |
//!   | high, xhigh   | HIGH                  | 24576                  |
//!
//!   Gemini 3 cannot switch thinking off; MINIMAL is the closest. Models
//!   that do not support a level or budget answer with their own 400.
//!   Without `reasoning_effort` no `thinkingConfig` is sent (models without
//!   thinking reject one) and the model's default applies.
//!
//! Parameters that would change the output and cannot be honoured are a 400
//! naming them: `logprobs`, `top_logprobs`, `logit_bias`, `audio`,
//! non-text `modalities`, `prediction`, `web_search_options`, the deprecated
//! `functions`/`function_call`, `parallel_tool_calls: false` while tools
//! may be called (Gemini cannot limit itself to one call), and any
//! parameter the schema does not know. `store`, `metadata`,
//! `service_tier`, `verbosity`, `prompt_cache_key`, `user` and
//! `safety_identifier` are accepted and ignored.
//!
//! # Response
//! Each candidate is one choice: `index` (absent means 0) → the choice's
//! `index`, choices sorted by it; two candidates with one index are a 502.
//! In a candidate, text parts → `content`, `thought: true` parts →
//! `reasoning_content`, `functionCall` parts → `tool_calls` (ids
//! synthesised, see `response::call_id`; `thoughtSignature` →
//! `extra_content.google.thought_signature`). `finishReason`: `MAX_TOKENS` → `length`; `SAFETY`,
//! `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, the `IMAGE_*`
//! blocks and Vertex's `MODEL_ARMOR` → `content_filter`; `STOP` →
//! `tool_calls` when the candidate has calls, else `stop`; anything else
//! (also unknown values) → `stop`. A prompt blocked outright
//! (`promptFeedback.blockReason`, no candidates) is a normal completion:
//! every choice asked for empty with `content_filter`, and the prompt's
//! usage (see `response.rs`). Usage: `promptTokenCount` (cached
//! tokens included) is the input, `cachedContentTokenCount` the cache
//! reads, `candidatesTokenCount + thoughtsTokenCount` the output and
//! `thoughtsTokenCount` the reasoning. A 2xx body without candidates or a
//! block reason is not a response: 502. Errors: see `errors.rs`; streams:
//! see `stream.rs`; embeddings: see `embed.rs`.

mod contents;
mod embed;
mod errors;
mod partial;
mod request;
mod response;
pub(super) mod schema;
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

/// `type: "gemini"`.
#[derive(Debug)]
pub struct Gemini;

/// The config fields of `type: "gemini"`: none beyond the common ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {}

/// The model id without a `models/` prefix.
fn model_name(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// `{base}/models/{model}:{method}`.
fn method_path(base: &str, model: &str, method: &str) -> String {
    join_path(base, &format!("/models/{model}:{method}"))
}

impl Kind for Gemini {
    type Options = Options;

    fn defaults(_: &Options) -> Defaults {
        Defaults {
            host: Some("generativelanguage.googleapis.com"),
            base_path: "/v1beta",
            auth: AuthScheme::Header("x-goog-api-key"),
            key_required: false,
        }
    }

    fn chat(_: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        let req = input.request()?;
        let model = model_name(target.model);
        let upstream = request::generate_body(&req, model)?;
        let meta = Meta {
            model: target.public_model.to_string(),
            created: target.now_unix_secs,
            include_usage: req.include_usage(),
            encrypted_reasoning: req.ext.encrypted_reasoning,
        };
        let stream = req.is_stream();
        let codec = GeminiCodec::new(req.n.unwrap_or(1));
        let chat = Decoded::new(codec, input.dialect.encoder(meta), stream);
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let out = Outbound {
            path: method_path(&target.provider.base_path, model, method),
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(upstream),
        };
        Ok((Box::new(chat), out))
    }

    fn embeddings(_: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
        embed::start(input, target)
    }

    fn count_tokens(_: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Option<Started> {
        Some(count_tokens(input, target))
    }
}

/// `countTokens` with the whole turn as a `generateContentRequest`, so
/// system instruction and tools count too (see `providers::count`).
fn count_tokens(input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
    let req = crate::dialect::anthropic::decode_count(input.body)?;
    let model = model_name(target.model);
    let turn = request::build(&req, model)?;
    let mut inner = serde_json::to_value(&turn)
        .map_err(|e| ApiError::internal(format!("cannot encode the Gemini request: {e}")))?;
    if let Some(obj) = inner.as_object_mut() {
        obj.insert("model".into(), format!("models/{model}").into());
    }
    let body = serde_json::json!({ "generateContentRequest": inner });
    let out = Outbound {
        path: method_path(&target.provider.base_path, model, "countTokens"),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body.to_string().into_bytes()),
    };
    let counter = crate::providers::count::Translated::new(
        crate::providers::count::gemini_total,
        errors::translate_error,
    );
    Ok((Box::new(counter), out))
}

/// Gemini's response formats, for one exchange.
#[derive(Debug, Default)]
pub struct GeminiCodec {
    /// The candidates asked for (a blocked prompt answers as many).
    candidates: u32,
    stream: stream::StreamDecoder,
}

impl GeminiCodec {
    /// For a request of `candidates` candidates (OpenAI's `n`).
    pub fn new(candidates: u32) -> Self {
        GeminiCodec {
            candidates,
            stream: stream::StreamDecoder::new(candidates),
        }
    }
}

impl Codec for GeminiCodec {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        errors::translate_error(status, body)
    }

    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection> {
        response::reply(body, self.candidates)
    }

    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>)) {
        self.stream.event(data, emit);
    }
}

#[cfg(test)]
mod tests;
