//! `response_format` → Anthropic structured outputs.
//!
//! * `json_schema` → `output_config: {"format": {"type": "json_schema",
//!   "schema": <json_schema.schema>}}`. This is Anthropic's generally
//!   available structured-outputs field (the older beta `output_format` and
//!   its `anthropic-beta: structured-outputs-2025-11-13` header are
//!   deprecated), so no beta header is sent. The model's answer is the JSON
//!   text, which arrives in `message.content` as OpenAI clients expect. The
//!   schema goes through unchanged; `name`, `description` and `strict` have
//!   no equivalent (decoding is always constrained) and are dropped.
//!   Anthropic accepts a subset of JSON Schema (every object needs
//!   `"additionalProperties": false`, as OpenAI's strict mode also
//!   requires); a schema outside it is Anthropic's 400, passed on. Only
//!   models with structured outputs (Claude Sonnet 4.5, Opus 4.5, Haiku 4.5
//!   and later) accept it.
//! * `json_object` has no constrained equivalent: Anthropic's schemas must
//!   close every object, so "any object" cannot be expressed. It becomes an
//!   instruction appended as the last `system` block (after any cache
//!   breakpoint the client set there): best effort, like OpenAI's JSON mode,
//!   which also relies on the prompt asking for JSON.
//!
//! A forced tool was the other option; it is not used because it turns the
//! answer into a tool call (not `message.content`), clashes with the
//! client's own `tool_choice`, and Anthropic refuses forced tool use with
//! thinking.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::{OutputConfig, OutputFormat};
use crate::error::ApiError;
use crate::openai::{ChatRequest, ResponseFormatType};

/// The system instruction that stands in for `json_object`.
pub(super) const JSON_OBJECT_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else: no prose, no Markdown code fences.";

/// What `response_format` asks of the request.
#[derive(Debug, Default)]
pub(super) struct Format<'r> {
    pub output_config: Option<OutputConfig<'r>>,
    /// Append [`JSON_OBJECT_INSTRUCTION`] to the system prompt.
    pub json_object: bool,
}

#[derive(Deserialize)]
struct JsonSchemaIn<'a> {
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
}

pub(super) fn convert<'r>(req: &'r ChatRequest<'_>) -> Result<Format<'r>, ApiError> {
    let Some(f) = &req.response_format else {
        return Ok(Format::default());
    };
    match f.kind {
        ResponseFormatType::Text => Ok(Format::default()),
        ResponseFormatType::JsonObject => Ok(Format {
            output_config: None,
            json_object: true,
        }),
        ResponseFormatType::JsonSchema => {
            let raw = f.json_schema.ok_or_else(|| {
                ApiError::invalid_param(
                    "response_format.json_schema",
                    "`response_format.json_schema` is required when `response_format.type` is `json_schema`.",
                )
            })?;
            let spec: JsonSchemaIn<'r> = serde_json::from_str(raw.get()).map_err(|_| {
                ApiError::invalid_param(
                    "response_format.json_schema",
                    "`response_format.json_schema` must be an object with a `schema`.",
                )
            })?;
            let schema = spec
                .schema
                .filter(|s| s.get().trim_start().starts_with('{'))
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        "response_format.json_schema.schema",
                        "`response_format.json_schema.schema` must be a JSON Schema object for provider anthropic.",
                    )
                })?;
            Ok(Format {
                output_config: Some(OutputConfig {
                    format: OutputFormat {
                        kind: "json_schema",
                        schema,
                    },
                }),
                json_object: false,
            })
        }
        ResponseFormatType::Unknown => Err(super::request::unsupported("response_format")),
    }
}
