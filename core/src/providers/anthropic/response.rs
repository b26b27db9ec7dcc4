//! Anthropic `message` → OpenAI `chat.completion`, plus the pieces the
//! stream translation shares (usage, finish reason).

use std::borrow::Cow;

use super::errors;
use super::wire::{BlockType, MessageResponse, ResponseBlock, StopReason, WireUsage};
use super::Meta;
use crate::error::ApiError;
use crate::openai::{
    ChatCompletion, Choice, CompletionUsage, FinishReason, ResponseFunction, ResponseMessage,
    ResponseToolCall, COMPLETION_OBJECT,
};
use crate::usage::Usage;

/// Anthropic reports cache reads and writes apart from `input_tokens`;
/// OpenAI's `prompt_tokens` includes them.
pub(super) fn usage_from_wire(u: &WireUsage) -> Usage {
    let cached = u.cache_read_input_tokens.unwrap_or(0);
    Usage {
        input: u
            .input_tokens
            .unwrap_or(0)
            .saturating_add(cached)
            .saturating_add(u.cache_creation_input_tokens.unwrap_or(0)),
        output: u.output_tokens.unwrap_or(0),
        cached,
        reasoning: 0,
    }
}

pub(super) fn finish_reason(reason: Option<StopReason>) -> FinishReason {
    match reason {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => {
            FinishReason::Length
        }
        Some(StopReason::ToolUse) => FinishReason::ToolCalls,
        Some(StopReason::Refusal) => FinishReason::ContentFilter,
        Some(
            StopReason::EndTurn
            | StopReason::StopSequence
            | StopReason::PauseTurn
            | StopReason::Unknown,
        )
        | None => FinishReason::Stop,
    }
}

/// Translates a whole 2xx body; `Err` when it is not a message.
pub(super) fn completion_json(body: &[u8], meta: &Meta) -> Result<(Vec<u8>, Usage), ApiError> {
    let msg: MessageResponse<'_> = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            502,
            "server_error",
            format!("Provider anthropic returned a response that is not a message: {e}"),
        )
    })?;
    if let Some(e) = &msg.error {
        return Err(errors::from_stream_event(Some(e)));
    }
    let usage = msg.usage.as_ref().map(usage_from_wire).unwrap_or_default();
    let (content, tool_calls) = convert_content(&msg.content);
    let completion = ChatCompletion {
        id: &msg.id,
        object: COMPLETION_OBJECT,
        created: meta.created,
        model: &meta.model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant",
                content,
                tool_calls,
            },
            finish_reason: finish_reason(msg.stop_reason),
            logprobs: None,
        }],
        usage: CompletionUsage::from_usage(&usage),
    };
    let json = serde_json::to_vec(&completion)
        .map_err(|e| ApiError::internal(format!("cannot encode the completion: {e}")))?;
    Ok((json, usage))
}

type Content<'a> = (Option<Cow<'a, str>>, Option<Vec<ResponseToolCall<'a>>>);

/// Text blocks are concatenated (Anthropic splits text around citations);
/// content is `null` only when the reply is nothing but tool calls.
fn convert_content<'a>(blocks: &'a [ResponseBlock<'_>]) -> Content<'a> {
    let mut text: Option<Cow<'a, str>> = None;
    let mut calls = Vec::new();
    for b in blocks {
        match b.kind {
            BlockType::Text => {
                let piece = b.text.as_deref().unwrap_or("");
                match &mut text {
                    None => text = Some(Cow::Borrowed(piece)),
                    Some(t) => t.to_mut().push_str(piece),
                }
            }
            BlockType::ToolUse => calls.push(ResponseToolCall {
                id: b.id.as_deref().unwrap_or(""),
                kind: "function",
                function: ResponseFunction {
                    name: b.name.as_deref().unwrap_or(""),
                    arguments: b
                        .input
                        .map_or(Cow::Borrowed("{}"), |raw| compact_json(raw.get())),
                },
            }),
            BlockType::Unknown => {}
        }
    }
    if calls.is_empty() {
        return (Some(text.unwrap_or_default()), None);
    }
    (text, Some(calls))
}

/// Removes insignificant whitespace from valid JSON text, preserving key
/// order (a round trip through `serde_json::Value` would sort keys).
pub(super) fn compact_json(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        let skip = !in_string && matches!(b, b' ' | b'\n' | b'\r' | b'\t');
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        }
        match (&mut out, skip) {
            (Some(o), false) => o.push(b),
            (None, true) => out = Some(bytes.get(..i).unwrap_or_default().to_vec()),
            _ => {}
        }
    }
    match out {
        None => Cow::Borrowed(raw),
        Some(o) => String::from_utf8(o).map_or(Cow::Borrowed(raw), Cow::Owned),
    }
}
