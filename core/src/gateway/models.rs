//! `GET /v1/models` and `/v1/models/{id}`, answered locally, in the
//! client's format: OpenAI's list by default, Anthropic's when the client
//! sends `anthropic-version` (Claude Code and the Anthropic SDKs always
//! do; an OpenAI client never does).

use serde::Serialize;

use crate::config::{Config, Model};
use crate::error::ApiError;

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelEntry<'a>>,
}

#[derive(Serialize)]
struct ModelEntry<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

fn entry(m: &Model, created: u64) -> ModelEntry<'_> {
    ModelEntry {
        id: &m.name,
        object: "model",
        created,
        owned_by: &m.owned_by,
    }
}

/// The `/v1/models` body; built once per configuration.
pub fn models_json(cfg: &Config, created: u64) -> Vec<u8> {
    let list = ModelList {
        object: "list",
        data: cfg.models.iter().map(|m| entry(m, created)).collect(),
    };
    serde_json::to_vec(&list).unwrap_or_else(|_| br#"{"object":"list","data":[]}"#.to_vec())
}

/// The `/v1/models/{id}` answer: the model object, or a 404 error.
pub fn model_json(cfg: &Config, id: &str, created: u64) -> Result<Vec<u8>, ApiError> {
    let (_, m) = cfg.model(id).ok_or_else(|| ApiError::model_not_found(id))?;
    serde_json::to_vec(&entry(m, created)).map_err(|_| ApiError::internal("cannot encode model"))
}

#[derive(Serialize)]
struct AnthropicList<'a> {
    data: Vec<AnthropicEntry<'a>>,
    has_more: bool,
    first_id: Option<&'a str>,
    last_id: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    display_name: &'a str,
    created_at: &'a str,
}

fn anthropic_entry<'a>(m: &'a Model, created_at: &'a str) -> AnthropicEntry<'a> {
    AnthropicEntry {
        kind: "model",
        id: &m.name,
        display_name: &m.name,
        created_at,
    }
}

/// Anthropic's model list (one page: the gateway's list is short).
pub fn anthropic_models_json(cfg: &Config, created: u64) -> Vec<u8> {
    let at = rfc3339(created);
    let data: Vec<AnthropicEntry<'_>> =
        cfg.models.iter().map(|m| anthropic_entry(m, &at)).collect();
    let list = AnthropicList {
        first_id: data.first().map(|e| e.id),
        last_id: data.last().map(|e| e.id),
        data,
        has_more: false,
    };
    serde_json::to_vec(&list).unwrap_or_else(|_| br#"{"data":[],"has_more":false}"#.to_vec())
}

/// Anthropic's model object for `/v1/models/{id}`.
pub fn anthropic_model_json(cfg: &Config, id: &str, created: u64) -> Result<Vec<u8>, ApiError> {
    let (_, m) = cfg.model(id).ok_or_else(|| ApiError::model_not_found(id))?;
    let at = rfc3339(created);
    serde_json::to_vec(&anthropic_entry(m, &at))
        .map_err(|_| ApiError::internal("cannot encode model"))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic
/// Gregorian; no date crate in the filter for one timestamp).
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_601_599), "2026-12-06T23:59:59Z");
    }
}
