//! Extended thinking: `reasoning_effort` (or the `thinking` extension) →
//! Anthropic `thinking`, the `max_tokens` it needs, the parameters it
//! excludes, and earlier turns' thinking blocks sent back.
//!
//! # Budget
//! | `reasoning_effort` | `budget_tokens` |
//! | --- | --- |
//! | `none` | no thinking |
//! | `minimal` | 1024 (Anthropic's minimum) |
//! | `low` | 2048 |
//! | `medium` | 8192 |
//! | `high` | 16384 |
//! | `xhigh` | 32768 |
//!
//! Thinking counts against `max_tokens`, and Anthropic requires
//! `budget_tokens < max_tokens`. Without a client cap, `max_tokens` is the
//! budget plus the provider's `default_max_tokens`, so the answer keeps the
//! room it has without thinking. With a cap (`max_completion_tokens` or
//! `max_tokens`, which for OpenAI reasoning models also includes reasoning),
//! the cap stays and the budget is clamped to `cap - 1`; a cap of 1024 or
//! less leaves no room for the minimum budget and is a 400.
//!
//! The extension `thinking` object (e.g. `{"type":"enabled",
//! "budget_tokens":N}` or `{"type":"adaptive"}` for models that only think
//! adaptively) is sent as given and wins over `reasoning_effort`; only its
//! `budget_tokens` is read, to size `max_tokens` when the client set no cap.
//!
//! # Incompatible parameters
//! With thinking on (anything but `reasoning_effort: none` or
//! `thinking.type: disabled`), Anthropic rejects a `temperature` other than
//! 1, a `top_p` below 0.95 and forced tool use; these are a 400 naming the
//! parameter (`tool_choice` for `required` or a named function).
//!
//! # Round trip
//! An assistant message's `thinking_blocks` go back first in that turn:
//! `{"type":"thinking","thinking","signature"}` as a thinking block and
//! `{"type":"redacted_thinking","data"}` as a redacted one, unchanged
//! (Anthropic checks the signature). A streamed reply carries the thinking
//! text in `reasoning_content` and only the signature in its
//! `thinking_blocks` entry; so an entry without text takes the message's
//! `reasoning_content` when it is the message's only `thinking` entry.
//! `reasoning_content` alone (no signed block) is not sent: Anthropic
//! rejects unsigned thinking. Blocks are sent back whether or not this
//! request enables thinking.

use serde_json::Value;

use super::wire::{Block, ThinkingConfig};
use crate::error::ApiError;
use crate::openai::{ChatMessage, ChatRequest, ThinkingRequest, ToolChoice};

/// Anthropic's smallest `budget_tokens`.
pub(super) const MIN_BUDGET: u32 = 1024;

/// `thinking` and the `max_tokens` that goes with it.
#[derive(Debug)]
pub(super) struct Plan<'r> {
    pub thinking: Option<ThinkingConfig<'r>>,
    pub max_tokens: u32,
}

fn effort_budget(effort: &str) -> Option<Option<u32>> {
    Some(match effort {
        "none" => None,
        "minimal" => Some(MIN_BUDGET),
        "low" => Some(2048),
        "medium" => Some(8192),
        "high" => Some(16_384),
        "xhigh" => Some(32_768),
        _ => return None,
    })
}

pub(super) fn plan<'r>(req: &'r ChatRequest<'_>, default_max: u32) -> Result<Plan<'r>, ApiError> {
    let cap = match req.max_output_tokens() {
        Some((param, 0)) => {
            return Err(ApiError::invalid_param(
                param,
                format!("`{param}` must be at least 1."),
            ))
        }
        other => other,
    };
    let with_room = |budget: u32| budget.saturating_add(default_max);
    if let Some(t) = req.ext.thinking {
        return from_dialect(req, t, cap, default_max);
    }
    if let Some(given) = req.extra.get("thinking") {
        let kind = given.get("type").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid_param(
                "thinking",
                "`thinking` must be an object with a string `type`, e.g. {\"type\": \"enabled\", \"budget_tokens\": 2048}.",
            )
        })?;
        let budget = given
            .get("budget_tokens")
            .and_then(Value::as_u64)
            .filter(|_| kind == "enabled")
            .map(|b| u32::try_from(b).unwrap_or(u32::MAX));
        let max_tokens = match (cap, budget) {
            (Some((_, n)), _) => n,
            (None, Some(b)) => with_room(b),
            (None, None) => default_max,
        };
        let plan = Plan {
            thinking: Some(ThinkingConfig::Given(given)),
            max_tokens,
        };
        if kind != "disabled" {
            check_compatible(req)?;
        }
        return Ok(plan);
    }
    let effort = req.reasoning_effort.as_deref();
    let budget = match effort.map(|e| (e, effort_budget(e))) {
        None => None,
        Some((_, Some(b))) => b,
        Some((e, None)) => {
            return Err(ApiError::invalid_param(
                "reasoning_effort",
                format!("Invalid value for `reasoning_effort`: '{e}'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'."),
            ))
        }
    };
    let Some(budget) = budget else {
        return Ok(Plan {
            thinking: None,
            max_tokens: cap.map_or(default_max, |(_, n)| n),
        });
    };
    let (budget, max_tokens) = match cap {
        None => (budget, with_room(budget)),
        Some((param, n)) if n <= MIN_BUDGET => {
            return Err(ApiError::invalid_param(
                param,
                format!("`{param}` must be greater than {MIN_BUDGET} when `reasoning_effort` enables thinking on provider anthropic (got {n})."),
            ))
        }
        Some((_, n)) => (budget.min(n - 1), n),
    };
    check_compatible(req)?;
    Ok(Plan {
        thinking: Some(ThinkingConfig::Budget {
            kind: "enabled",
            budget_tokens: budget,
        }),
        max_tokens,
    })
}

/// `thinking` as a client dialect asked for it (Anthropic Messages): sent
/// as asked, budget unclamped (Anthropic validates it against
/// `max_tokens`, which Messages clients always give).
fn from_dialect<'r>(
    req: &'r ChatRequest<'_>,
    t: ThinkingRequest,
    cap: Option<(&'static str, u32)>,
    default_max: u32,
) -> Result<Plan<'r>, ApiError> {
    let (thinking, budget) = match t {
        ThinkingRequest::Enabled { budget_tokens } => (
            ThinkingConfig::Budget {
                kind: "enabled",
                budget_tokens,
            },
            Some(budget_tokens),
        ),
        ThinkingRequest::Adaptive => (ThinkingConfig::Kind { kind: "adaptive" }, None),
        ThinkingRequest::Disabled => (ThinkingConfig::Kind { kind: "disabled" }, None),
    };
    if t != ThinkingRequest::Disabled {
        check_compatible(req)?;
    }
    let max_tokens = match (cap, budget) {
        (Some((_, n)), _) => n,
        (None, Some(b)) => b.saturating_add(default_max),
        (None, None) => default_max,
    };
    Ok(Plan {
        thinking: Some(thinking),
        max_tokens,
    })
}

/// Parameters Anthropic refuses together with thinking.
fn check_compatible(req: &ChatRequest<'_>) -> Result<(), ApiError> {
    let why = "when thinking is enabled (`reasoning_effort` or `thinking`) on provider anthropic";
    if let Some(t) = req.temperature.filter(|t| *t != 1.0) {
        return Err(ApiError::invalid_param(
            "temperature",
            format!("`temperature` can only be 1 {why} (got {t})."),
        ));
    }
    if let Some(p) = req.top_p.filter(|p| *p < 0.95) {
        return Err(ApiError::invalid_param(
            "top_p",
            format!("`top_p` must be between 0.95 and 1 {why} (got {p})."),
        ));
    }
    let has_tools = req.tools.as_ref().is_some_and(|t| !t.is_empty());
    let forced = matches!(
        req.tool_choice,
        Some(ToolChoice::Required | ToolChoice::Named(_))
    );
    if has_tools && forced {
        return Err(ApiError::invalid_param(
            "tool_choice",
            format!("`tool_choice` cannot force a tool call {why}; use \"auto\" or \"none\"."),
        ));
    }
    Ok(())
}

/// The thinking blocks of assistant message `i`, for the front of its turn.
pub(super) fn history_blocks<'r>(
    i: usize,
    m: &'r ChatMessage<'_>,
    out: &mut Vec<Block<'r>>,
) -> Result<(), ApiError> {
    let entries = m.thinking_blocks.as_deref().unwrap_or(&[]);
    let signed = entries.iter().filter(|b| b.kind == "thinking").count();
    let param = |k: usize, field: &str| format!("messages[{i}].thinking_blocks[{k}].{field}");
    for (k, b) in entries.iter().enumerate() {
        match b.kind.as_ref() {
            "thinking" => {
                let signature = b.signature.as_deref().ok_or_else(|| {
                    let p = param(k, "signature");
                    ApiError::invalid_param(
                        &p,
                        format!("`{p}` is required: provider anthropic rejects unsigned thinking."),
                    )
                })?;
                let thinking = b
                    .thinking
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .or(if signed == 1 {
                        m.reasoning_content.as_deref()
                    } else {
                        None
                    })
                    .unwrap_or("");
                out.push(Block::Thinking {
                    thinking,
                    signature,
                });
            }
            "redacted_thinking" => {
                let data = b.data.as_deref().ok_or_else(|| {
                    let p = param(k, "data");
                    ApiError::invalid_param(&p, format!("`{p}` is required."))
                })?;
                out.push(Block::RedactedThinking { data });
            }
            _ => {
                let p = param(k, "type");
                return Err(ApiError::invalid_param(
                    &p,
                    format!("`{p}` must be \"thinking\" or \"redacted_thinking\"."),
                ));
            }
        }
    }
    Ok(())
}
