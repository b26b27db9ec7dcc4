//! Gemini `GenerateContentResponse` → neutral [`Reply`], plus the pieces
//! the stream decoder shares (usage, finish reason, call ids, blocks).
//!
//! Each candidate becomes the choice of its `index` (absent means 0; the
//! encoder sorts them); two candidates with one index are not a response.
//!
//! # Blocks
//! A candidate stopped by a filter (`SAFETY`, `RECITATION`, `BLOCKLIST`,
//! `PROHIBITED_CONTENT`, `SPII`, the `IMAGE_*` blocks, Vertex's
//! `MODEL_ARMOR`) finishes with `content_filter`. A prompt refused before
//! generation (`promptFeedback.blockReason`, no candidates) is answered the
//! same way, as OpenAI does: a normal completion with empty content,
//! `content_filter` and the prompt's usage (the prompt was billed), not an
//! error the client would retry.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::errors;
use super::wire::{Candidate, FinishReason, GenerateContentResponse, ResponsePart, UsageMetadata};
use crate::error::ApiError;
use crate::events::{Choice, Finish, Reply, ToolCall};
use crate::providers::decoded::Rejection;
use crate::providers::Cause;
use crate::usage::{Count, Usage};

/// `promptTokenCount` already includes the cached tokens; thoughts are
/// counted apart from `candidatesTokenCount` and added to the output.
pub(super) fn usage_from_wire(u: &UsageMetadata) -> Usage {
    let thoughts = Count::get(u.thoughts_token_count);
    let all = [
        u.prompt_token_count,
        u.cached_content_token_count,
        u.candidates_token_count,
        u.thoughts_token_count,
    ];
    Usage {
        input: Count::get(u.prompt_token_count),
        cache_read: Count::get(u.cached_content_token_count),
        cache_write: 0,
        output: Count::get(u.candidates_token_count).saturating_add(thoughts),
        reasoning: thoughts,
        implausible: Count::any_implausible(&all),
    }
}

/// `calls`: the reply has function calls (Gemini says `STOP` for those).
pub(super) fn finish_reason(reason: Option<FinishReason>, calls: bool) -> Finish {
    match reason {
        Some(FinishReason::MaxTokens) => Finish::Length,
        Some(
            FinishReason::Safety
            | FinishReason::Recitation
            | FinishReason::Blocklist
            | FinishReason::ProhibitedContent
            | FinishReason::Spii
            | FinishReason::ImageSafety
            | FinishReason::ImageProhibitedContent
            | FinishReason::ImageRecitation
            | FinishReason::ModelArmor,
        ) => Finish::ContentFilter,
        Some(FinishReason::Stop) | None if calls => Finish::ToolCalls,
        Some(FinishReason::Stop | FinishReason::Unknown) | None => Finish::Stop,
    }
}

/// The id of function call `n` of candidate `choice`: Gemini's own `id`
/// when it sends one, else `call_` + a hash of the response id + `_n`
/// (`_choice_n` for candidates after the first), unique per response and
/// the same however the stream was split.
pub(super) fn call_id(own: Option<&str>, response_id: &str, choice: u32, n: u32) -> String {
    if let Some(id) = own.filter(|id| !id.is_empty()) {
        return id.to_string();
    }
    // FNV-1a: small, stable, good enough to tell responses apart.
    let hash = response_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut id = String::with_capacity(28);
    let _ = if choice == 0 {
        write!(id, "call_{hash:016x}_{n}")
    } else {
        write!(id, "call_{hash:016x}_{choice}_{n}")
    };
    id
}

fn malformed(detail: &str) -> Rejection {
    let msg = format!(
        "Provider gemini returned a response that is not a GenerateContentResponse: {detail}"
    );
    (Cause::Malformed, ApiError::new(502, "server_error", msg))
}

/// Decodes a whole 2xx body of a request for `candidates` candidates;
/// `Err` when it is an error or not a response.
pub(super) fn reply(body: &[u8], candidates: u32) -> Result<Reply<'_>, Rejection> {
    let resp: GenerateContentResponse<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&e.to_string()))?;
    if let Some(e) = &resp.error {
        return Err((Cause::ErrorEvent, errors::from_rpc(None, e)));
    }
    let usage = resp.usage_metadata.as_ref().map(usage_from_wire);
    let blocked = resp.blocked().is_some();
    let response_id = resp.response_id.unwrap_or_default();
    if blocked {
        let filtered = |index| Choice {
            index,
            finish: Finish::ContentFilter,
            ..Choice::default()
        };
        return Ok(Reply {
            id: response_id,
            choice: filtered(0),
            more: (1..candidates).map(filtered).collect(),
            usage: usage.unwrap_or_default(),
        });
    }
    let mut candidates = resp.candidates.unwrap_or_default().into_iter();
    let Some(first) = candidates.next() else {
        return Err(malformed("no candidates"));
    };
    let choice = to_choice(first, &response_id);
    let more: Vec<Choice<'_>> = candidates.map(|c| to_choice(c, &response_id)).collect();
    for (k, c) in more.iter().enumerate() {
        let mut earlier = std::iter::once(&choice).chain(more.iter().take(k));
        if earlier.any(|e| e.index == c.index) {
            return Err(malformed(&format!("two candidates with index {}", c.index)));
        }
    }
    Ok(Reply {
        id: response_id,
        choice,
        more,
        usage: usage.unwrap_or_default(),
    })
}

fn to_choice<'a>(candidate: Candidate<'a>, response_id: &str) -> Choice<'a> {
    let mut c = Choice {
        index: candidate.index.unwrap_or(0),
        ..Choice::default()
    };
    let parts = candidate.content.and_then(|c| c.parts).unwrap_or_default();
    for part in parts {
        add_part(&mut c, part, response_id);
    }
    c.finish = finish_reason(candidate.finish_reason, !c.tool_calls.is_empty());
    c
}

/// Text parts are concatenated, thought parts go to `reasoning`, function
/// calls to `tool_calls` with their signature. A signature on a text part
/// is dropped: chat completions has no place for it and Gemini validates
/// only those of function calls.
fn add_part<'a>(r: &mut Choice<'a>, part: ResponsePart<'a>, response_id: &str) {
    if let Some(call) = part.function_call {
        let n = u32::try_from(r.tool_calls.len()).unwrap_or(u32::MAX);
        r.tool_calls.push(ToolCall {
            id: Cow::Owned(call_id(call.id.as_deref(), response_id, r.index, n)),
            name: call.name.unwrap_or_default(),
            arguments: Cow::Owned(
                call.args
                    .map_or_else(|| "{}".to_string(), |a| compact_json(a.get())),
            ),
            signature: part.thought_signature,
        });
        return;
    }
    let Some(text) = part.text else {
        return;
    };
    let to = if part.thought == Some(true) {
        &mut r.reasoning
    } else {
        &mut r.text
    };
    match to {
        None => *to = Some(text),
        Some(t) => t.to_mut().push_str(&text),
    }
}

/// Removes insignificant whitespace from valid JSON text, keeping key order.
pub(super) fn compact_json(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}
