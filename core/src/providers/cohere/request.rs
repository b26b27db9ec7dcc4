//! OpenAI chat request → Cohere `POST /v2/chat` body (messages in
//! `messages.rs`).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::messages;
use super::wire::{
    ChatRequest as Wire, EmptySchema, FunctionDef, Parameters, ResponseFormat, Thinking, Tool,
};
use crate::error::ApiError;
use crate::openai::{ChatRequest, ResponseFormatType, Str, TextOr, ToolChoice, ToolType};

/// The request extensions Cohere understands beyond OpenAI's schema.
const EXTENSIONS: &[&str] = &["top_k"];

/// 400 for a parameter OpenAI accepts but Cohere cannot honour.
pub(super) fn unsupported(param: &str) -> ApiError {
    crate::openai::features::unsupported("cohere", param)
}

/// Serialises the `/v2/chat` body for `req` to `model`.
pub(super) fn chat_body(req: &ChatRequest<'_>, model: &str) -> Result<Vec<u8>, ApiError> {
    let body = build(req, model)?;
    serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Cohere request: {e}")))
}

/// The `/v2/chat` request for `req`, borrowing from it.
pub(super) fn build<'r>(req: &'r ChatRequest<'_>, model: &'r str) -> Result<Wire<'r>, ApiError> {
    check_params(req)?;
    let tools = convert_tools(req)?;
    let strict = req
        .tools
        .iter()
        .flatten()
        .any(|t| t.function.as_ref().and_then(|f| f.strict) == Some(true));
    let tool_choice = if tools.is_empty() {
        None
    } else {
        tool_choice(req)?
    };
    Ok(Wire {
        model,
        messages: messages::convert(req.messages())?,
        tools,
        strict_tools: strict.then_some(true),
        tool_choice,
        response_format: response_format(req)?,
        max_tokens: max_tokens(req)?,
        stop_sequences: stop_sequences(req),
        temperature: req.temperature,
        seed: req.seed,
        frequency_penalty: req.frequency_penalty,
        presence_penalty: req.presence_penalty,
        k: top_k(req)?,
        p: req.top_p,
        thinking: thinking(req.effort())?,
        stream: req.is_stream(),
    })
}

/// Rejects parameters that would otherwise be silently ignored.
fn check_params(req: &ChatRequest<'_>) -> Result<(), ApiError> {
    use crate::openai::features::Feature as F;
    const LACKING: &[F] = &[
        F::Choices,
        F::Logprobs,
        F::TopLogprobs,
        F::Audio,
        F::NonTextModalities,
        F::LogitBias,
        F::Prediction,
        F::WebSearch,
        F::Functions,
        F::FunctionCall,
        F::ServerTools,
        F::PreviousResponse,
        F::Store,
    ];
    req.refuse("cohere", LACKING, EXTENSIONS)?;
    let calls_possible = req.tools.as_ref().is_some_and(|t| !t.is_empty())
        && req.tool_choice != Some(ToolChoice::None);
    let rejected = [
        (
            "response_format",
            req.response_format
                .as_ref()
                .is_some_and(|f| f.kind == ResponseFormatType::Unknown),
        ),
        (
            "parallel_tool_calls",
            calls_possible && req.parallel_tool_calls == Some(false),
        ),
    ];
    match rejected.iter().find(|(_, bad)| *bad) {
        Some((param, _)) => Err(unsupported(param)),
        None => Ok(()),
    }
}

fn max_tokens(req: &ChatRequest<'_>) -> Result<Option<u32>, ApiError> {
    match req.max_output_tokens() {
        Some((param, 0)) => Err(ApiError::invalid_param(
            param,
            format!("`{param}` must be at least 1."),
        )),
        Some((_, n)) => Ok(Some(n)),
        None => Ok(None),
    }
}

/// The `top_k` extension → `k` (a non-negative integer).
fn top_k(req: &ChatRequest<'_>) -> Result<Option<u64>, ApiError> {
    Ok(req.top_k()?.map(u64::from))
}

fn stop_sequences<'r>(req: &'r ChatRequest<'_>) -> Vec<&'r str> {
    match &req.stop {
        None => Vec::new(),
        Some(TextOr::Text(s)) => [s.as_ref()].into_iter().filter(|s| !s.is_empty()).collect(),
        Some(TextOr::Items(v)) => v
            .iter()
            .map(Str::as_str)
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// `json_schema` of `response_format: {type: "json_schema"}`.
#[derive(Deserialize)]
struct JsonSchemaSpec<'a> {
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
}

/// `json_object` → `{type: json_object}`; `json_schema` → the same with
/// the schema as Cohere's `json_schema`; `text` → nothing.
fn response_format<'r>(req: &'r ChatRequest<'_>) -> Result<Option<ResponseFormat<'r>>, ApiError> {
    let Some(f) = &req.response_format else {
        return Ok(None);
    };
    let json_schema = match f.kind {
        ResponseFormatType::Text | ResponseFormatType::Unknown => return Ok(None),
        ResponseFormatType::JsonObject => None,
        ResponseFormatType::JsonSchema => {
            let param = "response_format.json_schema.schema";
            let schema = f
                .json_schema
                .and_then(|raw| serde_json::from_str::<JsonSchemaSpec<'_>>(raw.get()).ok())
                .and_then(|spec| spec.schema)
                .filter(|s| s.get().starts_with('{'))
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        param,
                        format!("`{param}` must be a JSON schema object."),
                    )
                })?;
            Some(schema)
        }
    };
    Ok(Some(ResponseFormat {
        kind: "json_object",
        json_schema,
    }))
}

/// `reasoning_effort` → `thinking` (see the module docs for the budgets).
pub(super) fn thinking(effort: Option<&str>) -> Result<Option<Thinking>, ApiError> {
    let Some(effort) = effort else {
        return Ok(None);
    };
    let budget = match effort {
        "none" => {
            return Ok(Some(Thinking {
                kind: "disabled",
                token_budget: None,
            }))
        }
        "minimal" => 512,
        "low" => 1024,
        "medium" => 8192,
        "high" | "xhigh" => 24576,
        other => {
            return Err(ApiError::invalid_param(
                "reasoning_effort",
                format!("`reasoning_effort` `{other}` is not one of none, minimal, low, medium, high, xhigh."),
            ))
        }
    };
    Ok(Some(Thinking {
        kind: "enabled",
        token_budget: Some(budget),
    }))
}

fn convert_tools<'r>(req: &'r ChatRequest<'_>) -> Result<Vec<Tool<'r>>, ApiError> {
    let mut tools = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let (ToolType::Function, Some(f)) = (t.kind, &t.function) else {
            return Err(unsupported(&format!("tools[{i}].type")));
        };
        let parameters = match f.parameters {
            Some(raw) if raw.get().starts_with('{') => Parameters::Raw(raw),
            Some(_) => {
                let p = format!("tools[{i}].function.parameters");
                return Err(ApiError::invalid_param(
                    &p,
                    format!("`{p}` must be a JSON schema object."),
                ));
            }
            None => Parameters::Empty(EmptySchema::default()),
        };
        tools.push(Tool {
            kind: "function",
            function: FunctionDef {
                name: &f.name,
                description: f.description.as_deref(),
                parameters,
            },
        });
    }
    Ok(tools)
}

/// `auto` is Cohere's default (not sent); `required` → `REQUIRED`, `none`
/// → `NONE`. Cohere cannot be told to call one named function.
fn tool_choice(req: &ChatRequest<'_>) -> Result<Option<&'static str>, ApiError> {
    match &req.tool_choice {
        None | Some(ToolChoice::Auto) => Ok(None),
        Some(ToolChoice::None) => Ok(Some("NONE")),
        Some(ToolChoice::Required) => Ok(Some("REQUIRED")),
        Some(ToolChoice::Named(_)) => Err(unsupported("tool_choice")),
    }
}
