//! Converse response → neutral [`Reply`], and Bedrock errors.
//!
//! * `output.message.content`: `text` blocks → `content`; `toolUse` →
//!   `tool_calls` (its `input` object as the arguments' JSON text);
//!   `reasoningContent.reasoningText` → `reasoning_content` plus a signed
//!   thinking block (the signature must come back next turn), and
//!   `redactedContent` → a redacted thinking block.
//! * Server tools: a system tool (`toolConfig.tools[].systemTool`, e.g.
//!   Nova's `nova_code_interpreter`) runs inside Bedrock, and the reply
//!   shows its `toolUse` (`type: "server_tool_use"`) and its `toolResult`.
//!   Neither is for the client: the use is not a tool call (the client
//!   declared no such tool and must not run it), the result is not text
//!   (the model's own text says what came of it), and a reply whose only
//!   tool uses were the server's does not finish with `tool_calls`.
//! * `stopReason`: `end_turn`, `stop_sequence` → `stop`; `max_tokens` →
//!   `length`; `tool_use` → `tool_calls`; `guardrail_intervened`,
//!   `content_filtered` → `content_filter`; unknown → `stop`.
//! * The id is the response's `x-amzn-requestid` (the body has none).
//! * `usage`: Bedrock's `inputTokens` leaves out the prompt-cache reads and
//!   writes (`cacheReadInputTokens`, `cacheWriteInputTokens`), as
//!   Anthropic's API does, so the prompt count is their sum.
//!
//! # Errors
//! Bedrock answers `{"message": "..."}` with the exception's name in the
//! `x-amzn-errortype` header (`ValidationException:http://...`; the part
//! before `:` is the name). The status carries over (Throttling 429,
//! AccessDenied 403, Validation 400, ResourceNotFound 404, ModelNotReady and
//! ServiceUnavailable 503), except 424 (`ModelErrorException`, the model
//! itself failed), which becomes 502: no OpenAI SDK knows 424.

use std::borrow::Cow;

use super::wire::{client_tool, ConverseResponse, ErrorBody, StopReason, WireUsage};
use crate::error::{kind_for_status, ApiError};
use crate::events::{Choice, Finish, Reply, Thinking, ToolCall};
use crate::providers::decoded::Rejection;
use crate::providers::Cause;
use crate::usage::{Count, Usage};

pub(super) fn usage_from_wire(u: &WireUsage) -> Usage {
    let read = Count::get(u.cache_read_input_tokens);
    let write = Count::get(u.cache_write_input_tokens);
    let all = [
        u.input_tokens,
        u.output_tokens,
        u.cache_read_input_tokens,
        u.cache_write_input_tokens,
    ];
    Usage {
        input: Count::get(u.input_tokens)
            .saturating_add(read)
            .saturating_add(write),
        cache_read: read,
        cache_write: write,
        output: Count::get(u.output_tokens),
        reasoning: 0,
        implausible: Count::any_implausible(&all),
    }
}

/// `calls`: the reply has client tool calls (`tool_use` without them
/// means only server tools ran).
pub(super) fn finish(reason: Option<StopReason>, calls: bool) -> Finish {
    match reason {
        Some(StopReason::MaxTokens) => Finish::Length,
        Some(StopReason::ToolUse) if calls => Finish::ToolCalls,
        Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered) => {
            Finish::ContentFilter
        }
        _ => Finish::Stop,
    }
}

/// The status the client sees for an upstream error status.
pub(super) fn client_status(upstream: u16) -> u16 {
    match upstream {
        424 => 502,
        s => s,
    }
}

/// An error of `status` (the client's) with Bedrock's message and the
/// exception name, when known.
pub(super) fn error(status: u16, name: Option<&str>, message: Option<&str>) -> ApiError {
    let message = message.filter(|m| !m.is_empty());
    let text = match (name.filter(|n| !n.is_empty()), message) {
        (Some(n), Some(m)) => format!("{n}: {m}"),
        (Some(n), None) => format!("Provider bedrock returned {n}."),
        (None, Some(m)) => m.to_string(),
        (None, None) => "Provider bedrock returned an error.".to_string(),
    };
    ApiError::new(status, kind_for_status(status), text)
}

/// Translates a buffered error response: `errortype` is the
/// `x-amzn-errortype` header.
pub(super) fn translate_error(status: u16, errortype: Option<&str>, body: &[u8]) -> ApiError {
    let name = errortype.map(|t| t.split(':').next().unwrap_or(t).trim());
    let client = client_status(status);
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => error(client, name, e.message.as_deref()),
        Err(_) => {
            let mut e = crate::error::foreign_error(status, body, "provider bedrock");
            e.status = client;
            e.kind = kind_for_status(client);
            e
        }
    }
}

fn malformed(detail: &str) -> Rejection {
    let msg =
        format!("Provider bedrock returned a response that is not a Converse response: {detail}");
    (Cause::Malformed, ApiError::new(502, "server_error", msg))
}

fn push(to: &mut Option<Cow<'_, str>>, text: &str) {
    match to {
        None => *to = Some(Cow::Owned(text.to_string())),
        Some(t) => t.to_mut().push_str(text),
    }
}

/// Decodes a whole 2xx body; `Err` when it is not a Converse response.
pub(super) fn reply(body: &[u8]) -> Result<Reply<'_>, Rejection> {
    let resp: ConverseResponse<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&e.to_string()))?;
    let mut choice = Choice::default();
    for block in resp.output.message.content {
        if let Some(t) = block.text.filter(|t| !t.is_empty()) {
            push(&mut choice.text, &t);
        }
        if let Some(call) = block.tool_use.filter(|c| client_tool(c.kind.as_deref())) {
            let arguments = call.input.map(|raw| raw.get()).unwrap_or("{}");
            choice.tool_calls.push(ToolCall {
                id: Cow::Owned(call.tool_use_id),
                name: Cow::Owned(call.name),
                arguments: Cow::Borrowed(arguments),
                signature: None,
            });
        }
        let Some(r) = block.reasoning_content else {
            continue;
        };
        if let Some(rt) = r.reasoning_text {
            let text = rt.text.unwrap_or_default();
            push(&mut choice.reasoning, &text);
            if let Some(signature) = rt.signature {
                choice.thinking.push(Thinking::Signed {
                    text: Cow::Owned(text),
                    signature: Cow::Owned(signature),
                });
            }
        }
        if let Some(data) = r.redacted_content {
            choice.thinking.push(Thinking::Redacted {
                data: Cow::Owned(data),
            });
        }
    }
    choice.finish = finish(resp.stop_reason, !choice.tool_calls.is_empty());
    Ok(Reply {
        id: Cow::Borrowed(""),
        choice,
        more: Vec::new(),
        usage: resp.usage.as_ref().map(usage_from_wire).unwrap_or_default(),
    })
}
