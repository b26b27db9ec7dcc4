//! Cohere `/v2/chat` response → neutral [`Reply`], plus the pieces the
//! stream decoder shares (usage, finish reason).

use std::borrow::Cow;

use super::errors::with_message;
use super::wire::{ChatResponse, FinishReason, ItemType, Tokens, WireUsage};
use crate::error::ApiError;
use crate::events::{Choice, Finish, Reply, ToolCall};
use crate::providers::decoded::Rejection;
use crate::providers::Cause;
use crate::usage::{Count, Usage};

/// `usage.tokens` (what the model processed), else `usage.billed_units`;
/// `cached_tokens` are among the input tokens.
pub(super) fn usage_from_wire(u: &WireUsage) -> Usage {
    let t: Tokens = u.tokens.or(u.billed_units).unwrap_or_default();
    let all = [t.input_tokens, t.output_tokens, u.cached_tokens];
    Usage {
        input: Count::get(t.input_tokens),
        cache_read: Count::get(u.cached_tokens),
        cache_write: 0,
        output: Count::get(t.output_tokens),
        reasoning: 0,
        implausible: Count::any_implausible(&all),
    }
}

/// The neutral finish of a reason that is not a failure (see
/// [`failure`]); `calls`: the reply made tool calls.
pub(super) fn finish_reason(reason: Option<FinishReason>, calls: bool) -> Finish {
    match reason {
        Some(FinishReason::MaxTokens) => Finish::Length,
        Some(FinishReason::ToolCall) => Finish::ToolCalls,
        _ if calls => Finish::ToolCalls,
        _ => Finish::Stop,
    }
}

/// `ERROR` and `TIMEOUT` mean the generation failed: an error (502, 504)
/// with Cohere's message when it sent one, not a reply that looks whole.
pub(super) fn failure(reason: Option<FinishReason>, message: Option<&str>) -> Option<ApiError> {
    let (status, fallback) = match reason {
        Some(FinishReason::Error) => (502, "Provider cohere failed to generate the reply."),
        Some(FinishReason::Timeout) => (504, "Provider cohere timed out generating the reply."),
        _ => match message {
            Some(m) if !m.is_empty() => (502, m),
            _ => return None,
        },
    };
    Some(with_message(
        status,
        message.filter(|m| !m.is_empty()).unwrap_or(fallback),
    ))
}

fn malformed(detail: &str) -> Rejection {
    let msg = format!("Provider cohere returned a response that is not a chat response: {detail}");
    (Cause::Malformed, ApiError::new(502, "server_error", msg))
}

fn push(to: &mut Option<Cow<'_, str>>, text: &str) {
    match to {
        None => *to = Some(Cow::Owned(text.to_string())),
        Some(t) => t.to_mut().push_str(text),
    }
}

/// Decodes a whole 2xx body; `Err` when it is a failure or not a response.
pub(super) fn reply(body: &[u8]) -> Result<Reply<'_>, Rejection> {
    let resp: ChatResponse<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&e.to_string()))?;
    if let Some(e) = failure(resp.finish_reason, None) {
        return Err((Cause::ErrorEvent, e));
    }
    let msg = resp.message;
    let mut choice = Choice::default();
    for item in msg.content.unwrap_or_default() {
        match (item.kind, item.text, item.thinking) {
            (Some(ItemType::Thinking), _, Some(t)) => push(&mut choice.reasoning, &t),
            (Some(ItemType::Text) | None, Some(t), _) => push(&mut choice.text, &t),
            _ => {}
        }
    }
    if let Some(plan) = msg.tool_plan.filter(|p| !p.is_empty()) {
        push(&mut choice.reasoning, &plan);
    }
    for (n, call) in msg.tool_calls.unwrap_or_default().into_iter().enumerate() {
        let f = call
            .function
            .ok_or_else(|| malformed("a tool call without function"))?;
        let name = f
            .name
            .ok_or_else(|| malformed("a tool call without name"))?;
        let arguments = f.arguments.filter(|a| !a.trim().is_empty());
        choice.tool_calls.push(ToolCall {
            id: call.id.unwrap_or_else(|| Cow::Owned(format!("call_{n}"))),
            name,
            arguments: arguments.unwrap_or(Cow::Borrowed("{}")),
            signature: None,
        });
    }
    choice.finish = finish_reason(resp.finish_reason, !choice.tool_calls.is_empty());
    Ok(Reply {
        id: resp.id.unwrap_or_default(),
        choice,
        more: Vec::new(),
        usage: resp.usage.as_ref().map(usage_from_wire).unwrap_or_default(),
    })
}
