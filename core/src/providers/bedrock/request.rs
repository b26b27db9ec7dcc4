//! OpenAI chat request → Converse body (messages in `messages.rs`).
//!
//! * `max_completion_tokens` (else `max_tokens`) → `inferenceConfig.maxTokens`;
//!   `temperature`, `top_p` → `topP`, `stop` → `stopSequences`.
//! * `tools` → `toolConfig.tools[].toolSpec` (`inputSchema.json` is the
//!   function's parameters, an empty object schema when it has none).
//!   `tool_choice`: `auto` → `{auto:{}}`, `required` → `{any:{}}`, a named
//!   function → `{tool:{name}}`, `none` → no `toolConfig` at all (Converse
//!   has no "none"; without tools the model cannot call one). Bedrock
//!   rejects `toolUse`/`toolResult` history without a `toolConfig`, so
//!   `none` over a conversation with tool turns is Bedrock's 400.
//! * `reasoning_effort` on Claude models (ids containing
//!   `anthropic.claude`) → `additionalModelRequestFields.thinking`
//!   `{type: enabled, budget_tokens}` with Anthropic's budgets (minimal
//!   1024, low 2048, medium 8192, high 16384, xhigh 32768). Claude requires
//!   `maxTokens` above the budget: without a client cap `maxTokens` is the
//!   budget plus 4096; with a cap the budget is clamped to `cap - 1`, and a
//!   cap that leaves less than 1024 is a 400. `none` sends nothing. Other
//!   models have no common switch, so any other effort is a 400 for them.
//!
//! Parameters that would change the output and have no Converse field are
//! a 400 naming them: `n` > 1, `logprobs`, `top_logprobs`, `presence_penalty`,
//! `frequency_penalty`, `seed`, `logit_bias`, `audio`, non-text
//! `modalities`, `prediction`, `web_search_options`, `functions`,
//! `function_call`, a `response_format` of `json_object` (`json_schema`
//! → `outputConfig`, in `format.rs`),
//! `parallel_tool_calls: false` while tools may be called, and unknown
//! parameters. `store`, `metadata`, `user`, `service_tier` and the like are
//! accepted and ignored.

use serde_json::value::RawValue;

use super::messages;
use super::wire::{
    ConverseRequest, Empty, InferenceConfig, InputSchema, ToolChoice as WireChoice, ToolConfig,
    ToolDef, ToolSpec,
};
use crate::error::ApiError;
use crate::openai::{ChatRequest, Str, TextOr, ToolChoice, ToolType};

/// Anthropic's smallest thinking budget.
const MIN_BUDGET: u32 = 1024;
/// Room for the answer on top of the thinking budget without a client cap.
const ANSWER_ROOM: u32 = 4096;

const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;

/// 400 for a parameter OpenAI accepts but Bedrock cannot honour.
pub(super) fn unsupported(param: &str) -> ApiError {
    crate::openai::features::unsupported("bedrock", param)
}

/// Serialises the Converse body for `req` to `model`.
pub(super) fn converse_body(req: &ChatRequest<'_>, model: &str) -> Result<Vec<u8>, ApiError> {
    let body = build(req, model)?;
    serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Bedrock request: {e}")))
}

/// The Converse request for `req`, borrowing from it.
pub(super) fn build<'r>(
    req: &'r ChatRequest<'_>,
    model: &str,
) -> Result<ConverseRequest<'r>, ApiError> {
    check_params(req)?;
    let (system, messages) = messages::convert(req.messages())?;
    let cap = match req.max_output_tokens() {
        Some((param, 0)) => {
            return Err(ApiError::invalid_param(
                param,
                format!("`{param}` must be at least 1."),
            ))
        }
        other => other,
    };
    let (budget, max_tokens) = thinking(req, model, cap)?;
    let inference = InferenceConfig {
        max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: stop_sequences(req),
    };
    let empty = inference.max_tokens.is_none()
        && inference.temperature.is_none()
        && inference.top_p.is_none()
        && inference.stop_sequences.is_empty();
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: (!empty).then_some(inference),
        tool_config: tool_config(req)?,
        additional_model_request_fields: budget
            .map(|b| serde_json::json!({"thinking": {"type": "enabled", "budget_tokens": b}})),
        output_config: super::format::output_config(req)?,
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
        F::PresencePenalty,
        F::FrequencyPenalty,
        F::LogitBias,
        F::Seed,
        F::Prediction,
        F::WebSearch,
        F::Functions,
        F::FunctionCall,
        F::ServerTools,
        F::PreviousResponse,
        F::Store,
        F::TopK,
    ];
    req.refuse("bedrock", LACKING, &[])?;
    let calls_possible = req.tools.as_ref().is_some_and(|t| !t.is_empty())
        && req.tool_choice != Some(ToolChoice::None);
    if calls_possible && req.parallel_tool_calls == Some(false) {
        return Err(unsupported("parallel_tool_calls"));
    }
    Ok(())
}

fn effort_budget(effort: &str) -> Result<Option<u32>, ApiError> {
    Ok(Some(match effort {
        "none" => return Ok(None),
        "minimal" => MIN_BUDGET,
        "low" => 2048,
        "medium" => 8192,
        "high" => 16_384,
        "xhigh" => 32_768,
        other => {
            return Err(ApiError::invalid_param(
                "reasoning_effort",
                format!("Invalid value for `reasoning_effort`: '{other}'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'."),
            ))
        }
    }))
}

/// The thinking budget (Claude only) and the `maxTokens` to send.
fn thinking(
    req: &ChatRequest<'_>,
    model: &str,
    cap: Option<(&'static str, u32)>,
) -> Result<(Option<u32>, Option<u32>), ApiError> {
    let cap_n = cap.map(|(_, n)| n);
    let Some(effort) = req.effort() else {
        return Ok((None, cap_n));
    };
    let Some(budget) = effort_budget(effort)? else {
        return Ok((None, cap_n));
    };
    if !model.contains("anthropic.claude") {
        return Err(unsupported("reasoning_effort"));
    }
    match cap {
        None => Ok((Some(budget), Some(budget.saturating_add(ANSWER_ROOM)))),
        Some((param, n)) if n <= MIN_BUDGET => Err(ApiError::invalid_param(
            param,
            format!("`{param}` must be above {MIN_BUDGET} with `reasoning_effort` on provider bedrock (Claude's smallest thinking budget)."),
        )),
        Some((_, n)) => Ok((Some(budget.min(n.saturating_sub(1))), Some(n))),
    }
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

fn tool_config<'r>(req: &'r ChatRequest<'_>) -> Result<Option<ToolConfig<'r>>, ApiError> {
    if req.tool_choice == Some(ToolChoice::None) {
        return Ok(None);
    }
    let empty: &'static RawValue = serde_json::from_str(EMPTY_SCHEMA)
        .map_err(|e| ApiError::internal(format!("empty schema: {e}")))?;
    let mut tools = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let (ToolType::Function, Some(f)) = (t.kind, &t.function) else {
            return Err(unsupported(&format!("tools[{i}].type")));
        };
        let json = match f.parameters {
            Some(raw) if raw.get().starts_with('{') => raw,
            Some(_) => {
                let p = format!("tools[{i}].function.parameters");
                return Err(ApiError::invalid_param(
                    &p,
                    format!("`{p}` must be a JSON schema object."),
                ));
            }
            None => empty,
        };
        tools.push(ToolDef {
            tool_spec: ToolSpec {
                name: &f.name,
                description: f.description.as_deref(),
                input_schema: InputSchema { json },
            },
        });
    }
    if tools.is_empty() {
        return Ok(None);
    }
    let tool_choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Auto) => Some(WireChoice::Auto(Empty {})),
        Some(ToolChoice::Required) => Some(WireChoice::Any(Empty {})),
        Some(ToolChoice::Named(n)) => {
            let name = n.function.as_ref().map(|f| f.name.as_ref());
            let name = name.ok_or_else(|| unsupported("tool_choice"))?;
            Some(WireChoice::Tool { name })
        }
        Some(ToolChoice::None) => None,
    };
    Ok(Some(ToolConfig { tools, tool_choice }))
}
