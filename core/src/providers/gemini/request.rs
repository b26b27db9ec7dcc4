//! OpenAI chat request → Gemini `GenerateContentRequest` (messages in
//! `contents.rs`, tool schemas in `schema.rs`).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::contents;
use super::wire::{
    FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig,
    SystemInstruction, ThinkingConfig, Tool, ToolConfig,
};
use crate::error::ApiError;
use crate::openai::{
    ChatRequest, ResponseFormatType, Str, TextOr, ToolChoice as ChatToolChoice, ToolType,
};

/// 400 for a parameter OpenAI accepts but Gemini cannot honour.
pub(super) fn unsupported(param: &str) -> ApiError {
    crate::openai::features::unsupported("gemini", param)
}

/// Serialises the `generateContent` body for `req` to `model`.
pub(super) fn generate_body(req: &ChatRequest<'_>, model: &str) -> Result<Vec<u8>, ApiError> {
    let body = build(req, model)?;
    serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Gemini request: {e}")))
}

/// The `generateContent` request for `req`, borrowing from it.
pub(super) fn build<'r>(
    req: &'r ChatRequest<'_>,
    model: &str,
) -> Result<GenerateContentRequest<'r>, ApiError> {
    check_params(req)?;
    let (system, contents) = contents::convert(req.messages())?;
    let tools = convert_tools(req)?;
    let tool_config = if tools.is_empty() {
        None
    } else {
        tool_choice(req, &tools)?
    };
    Ok(GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(SystemInstruction { parts: system }),
        tools,
        tool_config,
        generation_config: generation_config(req, model)?,
    })
}

/// Rejects parameters that would otherwise be silently ignored.
fn check_params(req: &ChatRequest<'_>) -> Result<(), ApiError> {
    use crate::openai::features::Feature as F;
    const LACKING: &[F] = &[
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
    req.refuse("gemini", LACKING, &["top_k"])?;
    let calls_possible = req.tools.as_ref().is_some_and(|t| !t.is_empty())
        && req.tool_choice != Some(ChatToolChoice::None);
    if req.n == Some(0) {
        return Err(ApiError::invalid_param("n", "`n` must be at least 1."));
    }
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

fn generation_config<'r>(
    req: &'r ChatRequest<'_>,
    model: &str,
) -> Result<GenerationConfig<'r>, ApiError> {
    let max_output_tokens = match req.max_output_tokens() {
        Some((param, 0)) => {
            return Err(ApiError::invalid_param(
                param,
                format!("`{param}` must be at least 1."),
            ))
        }
        Some((_, n)) => Some(n),
        None => None,
    };
    let seed = req
        .seed
        .map(|s| {
            i32::try_from(s).map_err(|_| {
                ApiError::invalid_param("seed", "`seed` must fit in 32 bits for provider gemini.")
            })
        })
        .transpose()?;
    let (response_mime_type, response_json_schema) = response_format(req)?;
    Ok(GenerationConfig {
        candidate_count: req.n.filter(|&n| n > 1),
        stop_sequences: stop_sequences(req),
        max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k()?,
        seed,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        response_mime_type,
        response_json_schema,
        thinking_config: thinking(req.effort(), model)?,
    })
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

type ResponseFormat<'r> = (Option<&'static str>, Option<&'r RawValue>);

/// JSON mode → `application/json`; a JSON schema also goes as
/// `responseJsonSchema`, which takes JSON Schema as is (unlike
/// `responseSchema`, the OpenAPI subset).
fn response_format<'r>(req: &'r ChatRequest<'_>) -> Result<ResponseFormat<'r>, ApiError> {
    const JSON: Option<&str> = Some("application/json");
    let Some(f) = &req.response_format else {
        return Ok((None, None));
    };
    match f.kind {
        ResponseFormatType::Text | ResponseFormatType::Unknown => Ok((None, None)),
        ResponseFormatType::JsonObject => Ok((JSON, None)),
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
            Ok((JSON, Some(schema)))
        }
    }
}

/// Gemini 3 and later take a `thinkingLevel`, earlier models a
/// `thinkingBudget` in tokens (see the module docs for the table).
pub(super) fn thinking(
    effort: Option<&str>,
    model: &str,
) -> Result<Option<ThinkingConfig>, ApiError> {
    let Some(effort) = effort else {
        return Ok(None);
    };
    let levels = major_version(model).is_some_and(|v| v >= 3);
    let (budget, level) = match effort {
        "none" => (0, "MINIMAL"),
        "minimal" => (512, "MINIMAL"),
        "low" => (1024, "LOW"),
        "medium" => (8192, "MEDIUM"),
        "high" | "xhigh" => (24576, "HIGH"),
        other => {
            return Err(ApiError::invalid_param(
                "reasoning_effort",
                format!("`reasoning_effort` `{other}` is not one of none, minimal, low, medium, high, xhigh."),
            ))
        }
    };
    let thoughts = effort != "none";
    Ok(Some(ThinkingConfig {
        include_thoughts: thoughts.then_some(true),
        thinking_budget: (!levels).then_some(budget),
        thinking_level: levels.then_some(level),
    }))
}

/// `3` for `gemini-3-pro-preview`, `2` for `gemini-2.5-flash`.
fn major_version(model: &str) -> Option<u32> {
    let rest = model.strip_prefix("gemini-")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn convert_tools<'r>(req: &'r ChatRequest<'_>) -> Result<Vec<Tool<'r>>, ApiError> {
    let mut declarations = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let (ToolType::Function, Some(f)) = (t.kind, &t.function) else {
            return Err(unsupported(&format!("tools[{i}].type")));
        };
        let parameters = match f.parameters {
            Some(raw) => super::schema::parameters(raw.get(), i)?,
            None => None,
        };
        declarations.push(FunctionDeclaration {
            name: &f.name,
            description: f.description.as_deref(),
            parameters,
        });
    }
    Ok(if declarations.is_empty() {
        Vec::new()
    } else {
        vec![Tool {
            function_declarations: declarations,
        }]
    })
}

fn tool_choice<'r>(
    req: &'r ChatRequest<'_>,
    tools: &[Tool<'_>],
) -> Result<Option<ToolConfig<'r>>, ApiError> {
    let (mode, allowed) = match &req.tool_choice {
        None => return Ok(None),
        Some(ChatToolChoice::None) => ("NONE", Vec::new()),
        Some(ChatToolChoice::Auto) => ("AUTO", Vec::new()),
        Some(ChatToolChoice::Required) => ("ANY", Vec::new()),
        Some(ChatToolChoice::Named(n)) => match (n.kind, &n.function) {
            (ToolType::Function, Some(f)) => {
                let declared = tools
                    .iter()
                    .flat_map(|t| &t.function_declarations)
                    .any(|d| d.name == f.name);
                if !declared {
                    return Err(ApiError::invalid_param(
                        "tool_choice.function.name",
                        format!("`tool_choice` names `{}`, which is not in `tools`.", f.name),
                    ));
                }
                ("ANY", vec![f.name.as_ref()])
            }
            _ => return Err(unsupported("tool_choice.type")),
        },
    };
    Ok(Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names: allowed,
        },
    }))
}
