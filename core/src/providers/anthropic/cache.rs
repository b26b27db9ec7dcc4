//! The `cache_control` extension → Anthropic prompt-cache breakpoints.
//!
//! Accepted values: `{"type":"ephemeral"}`, optionally with `"ttl":"5m"` or
//! `"ttl":"1h"` (sent as given, no beta header: the 1-hour TTL is generally
//! available). Anything else is a 400 naming the field.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::{Block, CacheControl};
use crate::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheControlIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    ttl: Option<Cow<'a, str>>,
}

/// Validates a client `cache_control`; `param` names it in the 400.
pub(super) fn parse(
    raw: Option<&RawValue>,
    param: impl FnOnce() -> String,
) -> Result<Option<CacheControl>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.get().trim() == "null" {
        return Ok(None);
    }
    let parsed = serde_json::from_str::<CacheControlIn<'_>>(raw.get()).ok();
    let ttl = match parsed.as_ref().map(|c| (c.kind.as_ref(), c.ttl.as_deref())) {
        Some(("ephemeral", None)) => Ok(None),
        Some(("ephemeral", Some("5m"))) => Ok(Some("5m")),
        Some(("ephemeral", Some("1h"))) => Ok(Some("1h")),
        _ => Err(()),
    };
    match ttl {
        Ok(ttl) => Ok(Some(CacheControl {
            kind: "ephemeral",
            ttl,
        })),
        Err(()) => {
            let p = param();
            Err(ApiError::invalid_param(
                &p,
                format!(
                    "`{p}` must be {{\"type\": \"ephemeral\"}}, optionally with \"ttl\": \"5m\" or \"1h\"."
                ),
            ))
        }
    }
}

/// Puts `cc` on the last block of `blocks` that can carry a breakpoint
/// (thinking blocks cannot); nothing happens when there is none.
pub(super) fn mark_last(blocks: &mut [Block<'_>], cc: Option<CacheControl>) {
    let Some(cc) = cc else { return };
    if let Some(slot) = blocks.iter_mut().rev().find_map(Block::cache_control_mut) {
        *slot = Some(cc);
    }
}
