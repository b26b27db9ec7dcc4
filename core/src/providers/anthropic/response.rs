//! Anthropic `message` → neutral [`Reply`], plus the pieces the stream
//! decoder shares (usage, finish reason).

use std::borrow::Cow;

use super::errors;
use super::wire::{BlockType, MessageResponse, ResponseBlock, StopReason, WireUsage};
use crate::error::ApiError;
use crate::events::{Choice, Finish, Reply, Thinking, ToolCall};
use crate::providers::decoded::Rejection;
use crate::providers::Cause;
use crate::usage::{Count, Usage};

/// Anthropic reports cache reads and writes apart from `input_tokens`;
/// the neutral `input` (OpenAI's `prompt_tokens`) includes them.
pub(super) fn usage_from_wire(u: &WireUsage) -> Usage {
    let cache_read = Count::get(u.cache_read_input_tokens);
    let cache_write = Count::get(u.cache_creation_input_tokens);
    let all = [
        u.input_tokens,
        u.output_tokens,
        u.cache_read_input_tokens,
        u.cache_creation_input_tokens,
    ];
    Usage {
        input: Count::get(u.input_tokens)
            .saturating_add(cache_read)
            .saturating_add(cache_write),
        cache_read,
        cache_write,
        output: Count::get(u.output_tokens),
        reasoning: 0,
        implausible: Count::any_implausible(&all),
    }
}

pub(super) fn finish_reason(reason: Option<StopReason>) -> Finish {
    match reason {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => Finish::Length,
        Some(StopReason::ToolUse) => Finish::ToolCalls,
        Some(StopReason::Refusal) => Finish::ContentFilter,
        Some(
            StopReason::EndTurn
            | StopReason::StopSequence
            | StopReason::PauseTurn
            | StopReason::Unknown,
        )
        | None => Finish::Stop,
    }
}

/// Decodes a whole 2xx body; `Err` when it is an error or not a message.
pub(super) fn reply(body: &[u8]) -> Result<Reply<'_>, Rejection> {
    let msg: MessageResponse<'_> = match serde_json::from_slice(body) {
        Ok(m) => m,
        Err(e) => {
            if let Ok(errors::Envelope { error: Some(e) }) = serde_json::from_slice(body) {
                return Err((Cause::ErrorEvent, errors::from_stream_event(Some(&e))));
            }
            let msg = format!("Provider anthropic returned a response that is not a message: {e}");
            return Err((Cause::Malformed, ApiError::new(502, "server_error", msg)));
        }
    };
    if let Some(e) = &msg.error {
        return Err((Cause::ErrorEvent, errors::from_stream_event(Some(e))));
    }
    let mut r = Reply {
        id: msg.id,
        usage: msg.usage.as_ref().map(usage_from_wire).unwrap_or_default(),
        choice: Choice {
            finish: finish_reason(msg.stop_reason),
            ..Choice::default()
        },
        ..Reply::default()
    };
    for b in msg.content {
        add_block(&mut r.choice, b);
    }
    Ok(r)
}

/// Text blocks are concatenated (Anthropic splits text around citations);
/// thinking goes to `reasoning` and, signed, to `thinking` for the round trip.
fn add_block<'a>(r: &mut Choice<'a>, b: ResponseBlock<'a>) {
    match b.kind {
        BlockType::Text => append(&mut r.text, b.text.unwrap_or_default()),
        BlockType::ToolUse => r.tool_calls.push(ToolCall {
            id: b.id.unwrap_or_default(),
            name: b.name.unwrap_or_default(),
            arguments: b
                .input
                .map_or(Cow::Borrowed("{}"), |raw| compact_json(raw.get())),
            signature: None,
        }),
        BlockType::Thinking => {
            let text = b.thinking.unwrap_or_default();
            append(&mut r.reasoning, text.clone());
            r.thinking.push(Thinking::Signed {
                text,
                signature: b.signature.unwrap_or_default(),
            });
        }
        BlockType::RedactedThinking => r.thinking.push(Thinking::Redacted {
            data: b.data.unwrap_or_default(),
        }),
        BlockType::Unknown => {}
    }
}

fn append<'a>(to: &mut Option<Cow<'a, str>>, piece: Cow<'a, str>) {
    match to {
        None => *to = Some(piece),
        Some(t) => t.to_mut().push_str(&piece),
    }
}

/// Removes insignificant whitespace from valid JSON text, preserving key
/// order (a round trip through `serde_json::Value` would sort keys).
pub(crate) fn compact_json(raw: &str) -> Cow<'_, str> {
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
