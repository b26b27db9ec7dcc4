//! OpenAI chat completions responses decoded into neutral events, for
//! clients that speak another dialect (Anthropic Messages, Responses).
//!
//! An OpenAI chat client never comes here: its answer passes through (see
//! the module doc of `openai`). This codec serves OpenAI, Azure and every
//! preset, so it is lenient where compatible servers differ:
//! * reasoning text comes as `reasoning_content` (DeepSeek, vLLM, Qwen) or
//!   `reasoning` (OpenRouter, newer vLLM, Groq); a `reasoning` that is not a
//!   string (an object some servers send) is ignored rather than failing
//!   the reply;
//! * a streamed tool call without `index` (some servers send each call
//!   whole in one delta) is a new call when it carries a new `id`, else
//!   more arguments for the last one;
//! * `content` may be an array of parts (Mistral's reasoning models):
//!   its `text` parts are the text;
//! * a refusal (`message.refusal`) becomes the text when there is no
//!   content, since the neutral reply has no refusal field;
//! * the deprecated `function_call` is a tool call, `finish_reason:
//!   "function_call"` is `tool_calls`;
//! * a tool call without an id gets `call_{index}` (clients answer calls
//!   by id);
//! * Gemini's OpenAI surface (`gemini-openai`) puts a tool call's thought
//!   signature in `extra_content.google.thought_signature`; it becomes the
//!   call's signature, and `encode.rs` sends it back the same way, as
//!   Gemini requires on the next turn.
//!
//! An `error` object behind a 2xx (whole body or stream chunk) is an
//! `ErrorEvent` failure with the provider's message; a body without
//! `choices` is malformed (502). A stream ends with `[DONE]`; one that
//! stops before it is truncated (the translator reports it), as for the
//! passthrough.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Normalize, WireUsage};
use crate::error::{kind_for_status, ApiError};
use crate::events::{Choice, Event, Finish, Reply, ToolCall};
use crate::openai::request::{opt_str, ExtraContentIn};
use crate::providers::decoded::{Codec, Rejection};
use crate::providers::Cause;

/// A `chat.completion` object or one `chat.completion.chunk`.
#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Option<Vec<WireChoice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireChoice<'a> {
    #[serde(default)]
    index: u32,
    /// A whole reply's message.
    #[serde(borrow, default)]
    message: Option<WireMessage<'a>>,
    /// A chunk's delta.
    #[serde(borrow, default)]
    delta: Option<WireMessage<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(borrow, default, deserialize_with = "text_or_parts")]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<WireToolCall<'a>>>,
    #[serde(borrow, default)]
    function_call: Option<WireFunction<'a>>,
}

impl<'a> WireMessage<'a> {
    /// `reasoning_content`, else a string `reasoning`.
    fn reasoning(&self) -> Option<Cow<'a, str>> {
        if let Some(r) = &self.reasoning_content {
            return Some(r.clone());
        }
        let raw = self.reasoning?;
        let s: Cow<'a, str> = serde_json::from_str::<crate::openai::Str<'a>>(raw.get())
            .ok()?
            .0;
        Some(s)
    }
}

/// A content part some servers answer with (Mistral's reasoning models).
#[derive(Deserialize)]
struct PartIn<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    text: Option<Cow<'a, str>>,
}

/// `content` as a string, or the text of an array of parts (only `text`
/// parts: other kinds, such as Mistral's `thinking` chunks, are left out
/// of the answer).
fn text_or_parts<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    use crate::openai::request::TextOr;
    Ok(match Option::<TextOr<'de, PartIn<'de>>>::deserialize(d)? {
        None => None,
        Some(TextOr::Text(t)) => Some(t),
        Some(TextOr::Items(parts)) => {
            let mut text = String::new();
            for p in &parts {
                if p.kind.as_deref() == Some("text") {
                    text.push_str(p.text.as_deref().unwrap_or(""));
                }
            }
            Some(Cow::Owned(text))
        }
    })
}

#[derive(Deserialize)]
struct WireToolCall<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<WireFunction<'a>>,
    /// Gemini's OpenAI surface: `{"google":{"thought_signature":...}}`.
    #[serde(borrow, default)]
    extra_content: Option<ExtraContentIn<'a>>,
}

impl WireToolCall<'_> {
    fn signature(&self) -> Option<&str> {
        self.extra_content
            .as_ref()?
            .google
            .as_ref()?
            .thought_signature
            .as_deref()
    }
}

#[derive(Deserialize)]
struct WireFunction<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    arguments: Option<Cow<'a, str>>,
}

/// An OpenAI error object.
#[derive(Deserialize)]
struct WireError<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    code: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    param: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    error: &'a RawValue,
}

/// `finish_reason` in the neutral vocabulary; unknown reasons are `stop`.
fn finish(reason: &str) -> Finish {
    match reason {
        "length" => Finish::Length,
        "tool_calls" | "function_call" => Finish::ToolCalls,
        "content_filter" => Finish::ContentFilter,
        _ => Finish::Stop,
    }
}

/// The codes clients branch on, kept; others are dropped (the message
/// still says what happened).
fn known_code(raw: Option<&RawValue>) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "context_length_exceeded",
        "rate_limit_exceeded",
        "insufficient_quota",
        "invalid_api_key",
        "model_not_found",
        "content_filter",
        "invalid_prompt",
        "server_error",
    ];
    let code: Cow<'_, str> = serde_json::from_str::<crate::openai::Str<'_>>(raw?.get())
        .ok()?
        .0;
    KNOWN.iter().copied().find(|k| *k == code)
}

/// An OpenAI error object (the value of `error`) as an [`ApiError`].
fn from_error_object(status: u16, raw: &RawValue, provider: &str) -> ApiError {
    let parsed = serde_json::from_str::<WireError<'_>>(raw.get()).ok();
    let message = parsed
        .as_ref()
        .and_then(|e| e.message.as_deref())
        .filter(|m| !m.is_empty())
        .map_or_else(
            || format!("Provider {provider} returned an error."),
            str::to_string,
        );
    let mut e = ApiError::new(status, kind_for_status(status), message);
    e.code = known_code(parsed.as_ref().and_then(|p| p.code));
    e.param = parsed.and_then(|p| p.param.map(Cow::into_owned));
    e
}

/// An upstream error response, normalised first (Azure's shapes), as an
/// [`ApiError`] with the upstream status.
pub(crate) fn error_response(normalize: Normalize, status: u16, body: &[u8]) -> ApiError {
    let normalized = normalize(status, body);
    let body = normalized.as_deref().unwrap_or(body);
    match serde_json::from_slice::<Envelope<'_>>(body) {
        Ok(env) => from_error_object(status, env.error, "upstream"),
        Err(_) => crate::error::foreign_error(status, body, "upstream"),
    }
}

/// The OpenAI chat format, for one exchange.
#[derive(Debug)]
pub struct OpenAiCodec {
    normalize: Normalize,
    started: bool,
    /// The choice the events go to.
    choice: u32,
    /// Per choice seen so far: tool calls started, and the last one's id.
    calls: Vec<(u32, u32, String)>,
}

impl OpenAiCodec {
    pub(crate) fn new(normalize: Normalize) -> Self {
        OpenAiCodec {
            normalize,
            started: false,
            choice: 0,
            calls: Vec::new(),
        }
    }

    fn chunk(&mut self, c: Completion<'_>, emit: &mut dyn FnMut(Event<'_>)) {
        if let Some(err) = c.error.filter(|e| e.get() != "null") {
            emit(Event::Error(from_error_object(502, err, "openai")));
            return;
        }
        let choices = c.choices.unwrap_or_default();
        if !self.started && (!choices.is_empty() || c.id.as_deref().is_some_and(|i| !i.is_empty()))
        {
            self.started = true;
            emit(Event::Start {
                id: c.id.as_deref().unwrap_or(""),
            });
        }
        for ch in choices {
            if ch.index != self.choice {
                self.choice = ch.index;
                emit(Event::Choice(ch.index));
            }
            if let Some(d) = &ch.delta {
                self.delta(ch.index, d, emit);
            }
            if let Some(r) = &ch.finish_reason {
                emit(Event::Finish(finish(r)));
            }
        }
        if let Some(u) = &c.usage {
            emit(Event::Usage(u.to_usage()));
        }
    }

    fn delta(&mut self, choice: u32, d: &WireMessage<'_>, emit: &mut dyn FnMut(Event<'_>)) {
        if let Some(r) = d.reasoning() {
            emit(Event::Reasoning(&r));
        }
        if let Some(t) = d.content.as_deref().or(d.refusal.as_deref()) {
            emit(Event::Text(t));
        }
        let legacy = d.function_call.as_ref().map(|f| WireToolCall {
            index: Some(0),
            id: None,
            extra_content: None,
            function: Some(WireFunction {
                name: f.name.clone(),
                arguments: f.arguments.clone(),
            }),
        });
        for call in d.tool_calls.iter().flatten().chain(legacy.as_ref()) {
            self.tool_delta(choice, call, emit);
        }
    }

    fn tool_delta(
        &mut self,
        choice: u32,
        call: &WireToolCall<'_>,
        emit: &mut dyn FnMut(Event<'_>),
    ) {
        let slot = match self.calls.iter().position(|(c, _, _)| *c == choice) {
            Some(i) => i,
            None => {
                self.calls.push((choice, 0, String::new()));
                self.calls.len() - 1
            }
        };
        let Some((_, started, last_id)) = self.calls.get_mut(slot) else {
            return;
        };
        let id = call.id.as_deref().unwrap_or("");
        let name = call.function.as_ref().and_then(|f| f.name.as_deref());
        let index = match call.index {
            Some(i) => i,
            None if !id.is_empty() && id != last_id.as_str() => *started,
            None => started.saturating_sub(1),
        };
        if index >= *started {
            *started = index + 1;
            *last_id = id.to_string();
            // Clients answer a call by its id: never leave it empty.
            let made;
            let id = if id.is_empty() {
                made = format!("call_{index}");
                made.as_str()
            } else {
                id
            };
            emit(Event::ToolStart {
                index,
                id,
                name: name.unwrap_or(""),
                signature: call.signature(),
            });
        }
        if let Some(args) = call.function.as_ref().and_then(|f| f.arguments.as_deref()) {
            if !args.is_empty() {
                emit(Event::ToolArgs { index, json: args });
            }
        }
    }
}

fn reply_choice<'b>(ch: WireChoice<'b>) -> Choice<'b> {
    let Some(m) = ch.message else {
        return Choice {
            index: ch.index,
            finish: ch.finish_reason.as_deref().map_or(Finish::Stop, finish),
            ..Choice::default()
        };
    };
    let reasoning = m.reasoning();
    let mut tool_calls: Vec<ToolCall<'b>> = Vec::new();
    for (i, call) in m.tool_calls.into_iter().flatten().enumerate() {
        let signature = call.signature().map(|s| Cow::Owned(s.to_string()));
        let f = call.function;
        tool_calls.push(ToolCall {
            id: call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| Cow::Owned(format!("call_{i}"))),
            name: f.as_ref().and_then(|f| f.name.clone()).unwrap_or_default(),
            arguments: f.and_then(|f| f.arguments).unwrap_or(Cow::Borrowed("{}")),
            signature,
        });
    }
    if let Some(f) = m.function_call {
        tool_calls.push(ToolCall {
            id: Cow::Borrowed("call_0"),
            name: f.name.unwrap_or_default(),
            arguments: f.arguments.unwrap_or(Cow::Borrowed("{}")),
            signature: None,
        });
    }
    Choice {
        index: ch.index,
        text: m.content.or(m.refusal),
        reasoning,
        thinking: Vec::new(),
        tool_calls,
        finish: ch.finish_reason.as_deref().map_or(Finish::Stop, finish),
    }
}

fn malformed(why: &str) -> Rejection {
    let msg = format!("Provider openai sent a response that is not a chat completion ({why}).");
    (Cause::Malformed, ApiError::new(502, "server_error", msg))
}

impl Codec for OpenAiCodec {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        error_response(self.normalize, status, body)
    }

    fn reply<'b>(&self, body: &'b [u8]) -> Result<Reply<'b>, Rejection> {
        let c: Completion<'b> =
            serde_json::from_slice(body).map_err(|e| malformed(&e.to_string()))?;
        if let Some(err) = c.error.filter(|e| e.get() != "null") {
            return Err((Cause::ErrorEvent, from_error_object(502, err, "openai")));
        }
        let mut choices = c
            .choices
            .ok_or_else(|| malformed("no `choices`"))?
            .into_iter()
            .map(reply_choice);
        let first = choices.next().ok_or_else(|| malformed("empty `choices`"))?;
        Ok(Reply {
            id: c.id.unwrap_or_default(),
            choice: first,
            more: choices.collect(),
            usage: c
                .usage
                .as_ref()
                .map(WireUsage::to_usage)
                .unwrap_or_default(),
        })
    }

    fn stream_event(&mut self, data: &str, emit: &mut dyn FnMut(Event<'_>)) {
        if data.trim() == "[DONE]" {
            if !self.started {
                self.started = true;
                emit(Event::Start { id: "" });
            }
            emit(Event::End);
            return;
        }
        match serde_json::from_str::<Completion<'_>>(data) {
            Ok(c) => self.chunk(c, emit),
            Err(e) => {
                let msg = format!("Provider openai sent an invalid stream chunk: {e}");
                emit(Event::Error(ApiError::new(502, "server_error", msg)));
            }
        }
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "decode_fixture_tests.rs"]
mod fixture_tests;
