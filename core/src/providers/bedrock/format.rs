//! `response_format` → Converse `outputConfig` (structured output, GA
//! since February 2026).
//!
//! * `text` (or none) sends nothing.
//! * `json_schema` → `outputConfig.textFormat`
//!   `{type: "json_schema", structure: {jsonSchema: {schema, name,
//!   description}}}`; `schema` is the client's schema object as JSON text,
//!   which is what Converse takes. `strict` is dropped: Bedrock always
//!   enforces the schema. A missing or non-object schema is a 400.
//! * `json_object` has no Converse equivalent (a schema is required), so
//!   it stays a 400, as does an unknown type.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::request::unsupported;
use super::wire::{JsonSchemaDefinition, OutputConfig, Structure, TextFormat};
use crate::error::ApiError;
use crate::openai::{ChatRequest, ResponseFormatType};

#[derive(Deserialize)]
struct JsonSchemaIn<'a> {
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

const SCHEMA: &str = "response_format.json_schema.schema";

fn bad_schema() -> ApiError {
    ApiError::invalid_param(
        SCHEMA,
        format!("`{SCHEMA}` must be a JSON Schema object for provider bedrock."),
    )
}

/// The `outputConfig` for the request's `response_format`, if any.
pub(super) fn output_config<'r>(
    req: &'r ChatRequest<'_>,
) -> Result<Option<OutputConfig<'r>>, ApiError> {
    let Some(f) = &req.response_format else {
        return Ok(None);
    };
    match f.kind {
        ResponseFormatType::Text => Ok(None),
        ResponseFormatType::JsonObject | ResponseFormatType::Unknown => {
            Err(unsupported("response_format"))
        }
        ResponseFormatType::JsonSchema => {
            let raw = f.json_schema.ok_or_else(bad_schema)?;
            let spec: JsonSchemaIn<'r> =
                serde_json::from_str(raw.get()).map_err(|_| bad_schema())?;
            let schema = spec
                .schema
                .map(|s| s.get().trim())
                .filter(|s| s.starts_with('{'))
                .ok_or_else(bad_schema)?;
            Ok(Some(OutputConfig {
                text_format: TextFormat {
                    kind: "json_schema",
                    structure: Structure::JsonSchema(JsonSchemaDefinition {
                        schema,
                        name: spec.name.filter(|n| !n.is_empty()),
                        description: spec.description.filter(|d| !d.is_empty()),
                    }),
                },
            }))
        }
    }
}
