//! Anthropic Messages API (`POST {base_path}/messages`) behind the OpenAI
//! chat interface.
//!
//! # Request
//! * `system` and `developer` messages, wherever they appear, become the
//!   top-level `system` text blocks, in order: Anthropic has no system turns.
//! * Anthropic requires strictly alternating user/assistant turns, so
//!   consecutive same-role messages are merged into one message with several
//!   blocks. `tool` messages become `tool_result` blocks of a user turn, ahead
//!   of any user text in that turn (Anthropic rejects text before results).
//! * Assistant `tool_calls` become `tool_use` blocks after the text; their
//!   `arguments` must be a JSON object (an empty string counts as `{}`).
//! * Image parts: `data:<type>;base64,` URLs are sent inline, http(s) URLs by
//!   reference; `detail` has no equivalent and is dropped. Message `name`s
//!   are dropped too. Empty text is dropped (Anthropic rejects empty blocks).
//! * `max_tokens` is mandatory upstream: `max_completion_tokens`, else
//!   `max_tokens`, else the provider's `default_max_tokens`.
//! * `temperature` and `top_p` must be within 0..=1. OpenAI's temperature
//!   goes to 2 and there is no faithful rescaling, so higher values are a 400.
//! * `tool_choice` maps auto/none/required/named to auto/none/any/tool;
//!   `parallel_tool_calls: false` sets `disable_parallel_tool_use`. A
//!   `tool_choice` without `tools` is dropped. `strict` on tools is ignored.
//! * `user` (or `safety_identifier`) becomes `metadata.user_id`.
//!
//! Parameters that would change the output and cannot be honoured are a 400
//! naming them: `n` > 1, `response_format` other than text, `logprobs`,
//! `top_logprobs`, `audio`, non-text `modalities`, non-zero penalties,
//! `logit_bias`, `seed`, `prediction`, `web_search_options` and the
//! deprecated `functions`/`function_call`. So is any parameter the schema
//! does not know, as OpenAI itself does. Hints that do not change the shape
//! of the answer are accepted and ignored: `store`, `metadata` (OpenAI's
//! stored-completion tags), `service_tier`, `reasoning_effort`, `verbosity`,
//! `prompt_cache_key`, `stream_options.include_obfuscation`.
//!
//! # Response
//! `model` is the name the client asked for and `created` the gateway's
//! clock: Anthropic returns neither in OpenAI's sense. Usage counts cache
//! reads and writes into `prompt_tokens`, as OpenAI does. `stop_reason` maps
//! to `finish_reason`: `max_tokens` (and context exhaustion) → `length`,
//! `tool_use` → `tool_calls`, `refusal` → `content_filter`, anything else →
//! `stop`. Thinking blocks are not forwarded (chat completions has no field
//! for them). Errors keep their status, except 529 → 503 (see `errors.rs`).
//! A stream that fails midway ends with an OpenAI error event, see
//! `stream.rs`.

mod encode;
mod errors;
mod request;
mod response;
mod stream;
mod wire;

use crate::error::ApiError;
use crate::gateway::probe::Probe;
use crate::openai::parse_chat_request;
use crate::providers::{
    join_path, BodyEdit, BodyMode, ChatTranslator, HeaderEdit, Outbound, TargetCtx,
};
use crate::usage::Usage;

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// What every translated response repeats.
#[derive(Debug)]
struct Meta {
    /// The public model name the client asked for.
    model: String,
    created: u64,
    include_usage: bool,
}

#[derive(Debug)]
enum State {
    /// Waiting for response headers.
    Sent,
    /// Collecting a whole JSON body (a message, or an error when not 2xx).
    Whole {
        status: u16,
        buf: Vec<u8>,
    },
    Streaming(Box<stream::StreamState>),
    /// The body has been translated; anything else is passed through.
    Finished,
}

/// One chat exchange with the Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicChat {
    meta: Meta,
    stream: bool,
    state: State,
    usage: Usage,
    failed: bool,
}

impl ChatTranslator for AnthropicChat {
    fn request(
        body: &[u8],
        _probe: &Probe<'_>,
        target: TargetCtx<'_>,
    ) -> Result<(Self, Outbound), ApiError> {
        let req = parse_chat_request(body)?;
        let upstream = request::messages_body(&req, &target)?;
        let provider = target.provider;
        let mut headers = Vec::with_capacity(3);
        if let Some(key) = &provider.api_key {
            headers.push(("x-api-key", key.expose().to_string()));
        }
        headers.push(("anthropic-version", provider.anthropic_version.clone()));
        headers.push(("content-type", JSON.to_string()));
        let chat = AnthropicChat {
            meta: Meta {
                model: target.public_model.to_string(),
                created: target.now_unix_secs,
                include_usage: req.include_usage(),
            },
            stream: req.is_stream(),
            state: State::Sent,
            usage: Usage::default(),
            failed: false,
        };
        let out = Outbound {
            path: join_path(&provider.base_path, "/messages"),
            headers,
            body: Some(upstream),
        };
        Ok((chat, out))
    }

    fn response_headers(&mut self, status: u16) -> HeaderEdit {
        let ok = (200..300).contains(&status);
        self.failed = !ok;
        if ok && self.stream {
            self.state = State::Streaming(Box::new(stream::StreamState::new()));
            return HeaderEdit {
                mode: BodyMode::Stream,
                status: None,
                content_type: Some(EVENT_STREAM),
                drop_content_length: true,
            };
        }
        self.state = State::Whole {
            status,
            buf: Vec::new(),
        };
        let client = errors::client_status(status);
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: (client != status).then_some(client),
            content_type: Some(JSON),
            drop_content_length: true,
        }
    }

    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        match &mut self.state {
            State::Sent | State::Finished => BodyEdit::Keep,
            State::Whole { buf, .. } if !end => {
                buf.extend_from_slice(data);
                BodyEdit::Replace(Vec::new())
            }
            State::Whole { status, buf } => {
                let status = *status;
                let mut whole = std::mem::take(buf);
                self.state = State::Finished;
                let body = if whole.is_empty() {
                    data
                } else {
                    whole.extend_from_slice(data);
                    &whole
                };
                self.translate_whole(status, body)
            }
            State::Streaming(s) => {
                let out = s.push(&self.meta, data, end);
                self.usage = s.usage();
                self.failed |= s.failed();
                BodyEdit::Replace(out)
            }
        }
    }

    fn usage(&self) -> Usage {
        self.usage
    }

    fn failed(&self) -> bool {
        self.failed
    }
}

impl AnthropicChat {
    fn translate_whole(&mut self, status: u16, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&status) {
            return BodyEdit::Replace(errors::translate_error(status, body).to_json());
        }
        match response::completion_json(body, &self.meta) {
            Ok((json, usage)) => {
                self.usage = usage;
                BodyEdit::Replace(json)
            }
            Err(e) => {
                self.failed = true;
                BodyEdit::Fail {
                    status: e.status,
                    body: e.to_json(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
