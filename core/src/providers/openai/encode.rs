//! The neutral request written as an OpenAI chat completions body, for
//! clients of another dialect (Anthropic Messages, Responses) reaching an
//! OpenAI-wire provider. OpenAI chat clients never come here: their body
//! passes through.
//!
//! Every field OpenAI chat defines is written as the neutral request holds
//! it (the neutral request *is* OpenAI chat, see `crate::dialect`), so an
//! OpenAI chat body parsed and re-encoded comes out equal as JSON. The
//! output limit is always `max_completion_tokens` (reasoning models reject
//! `max_tokens`; presets that only know `max_tokens` get it renamed by
//! their quirks, applied after this). Streams always ask for usage
//! (`stream_options.include_usage`) unless the provider opted out.
//!
//! What the other dialects can say and OpenAI chat cannot:
//! * `thinking_blocks`, `reasoning_content` of earlier turns and
//!   `cache_control` are dropped: they are other providers' state and
//!   caching hints, and OpenAI caches prompts by itself.
//! * `ext.top_k` is a 400 naming `top_k`: OpenAI has no such sampling
//!   parameter and dropping it would silently change how the answer is
//!   sampled. (Claude Code and Codex never send it.)
//! * `ext.server_tools` are a 400 naming the tool's `type`: the provider
//!   would not run them.
//! * `ext.thinking` with a budget becomes `reasoning_effort` when the
//!   client gave none and the upstream model is a reasoning model (names
//!   starting `o1`, `o3`, `o4`, `gpt-5`, `gpt-oss`): budget below 4096
//!   tokens → `low`, below 16384 → `medium`, else `high`. `adaptive` leaves
//!   the model's default. For other models thinking is dropped: it asks for
//!   more deliberation, not a different answer shape, and those models
//!   reject `reasoning_effort`.
//! * `ext.previous_response_id` and `store: true` are a 400: the gateway
//!   keeps no conversation state, only OpenAI's Responses API does (reached
//!   by passthrough when the client speaks Responses to kind `openai`).
//! * `ext.reasoning_summary` and `ext.encrypted_reasoning` are dropped:
//!   chat completions return neither.
//! * Unknown parameters (`extra`) are a 400 naming the first one: they are
//!   the other dialect's, not OpenAI's.
//! * `tools: []`, and `tool_choice` / `parallel_tool_calls` without tools,
//!   are left out: OpenAI rejects them, and other dialects (Messages'
//!   `tool_choice` with `disable_parallel_tool_use`) say them harmlessly.

use std::borrow::Cow;

use super::encode_wire::*;
use crate::error::ApiError;
use crate::openai::request::{
    ChatMessage, ChatRequest, ContentPart, PartType, ResponseFormatType, Role, TextOr,
    ThinkingRequest, Tool, ToolChoice, ToolType,
};

/// What of the provider the body depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'t> {
    /// The upstream model name.
    pub model: &'t str,
    /// Ask streams for usage.
    pub stream_usage: bool,
}

/// The chat completions body for `req`, or the 400 for what OpenAI chat
/// cannot carry.
pub(crate) fn chat_body(req: &ChatRequest<'_>, target: Target<'_>) -> Result<Vec<u8>, ApiError> {
    refuse_unsupported(req)?;
    let stream = req.is_stream();
    let tools = req.tools.as_deref().filter(|t| !t.is_empty());
    let body = Body {
        model: target.model,
        messages: req
            .messages()
            .iter()
            .enumerate()
            .map(|(i, m)| message(i, m))
            .collect::<Result<_, _>>()?,
        tools: tools
            .map(|t| t.iter().enumerate().map(|(i, t)| tool(i, t)).collect())
            .transpose()?,
        tool_choice: req
            .tool_choice
            .as_ref()
            .filter(|_| tools.is_some())
            .map(tool_choice)
            .transpose()?,
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| tools.is_some()),
        stream: req.stream,
        stream_options: (stream && target.stream_usage).then_some(StreamOptionsOut {
            include_usage: true,
        }),
        max_completion_tokens: req.max_output_tokens().map(|(_, n)| n),
        sampling: sampling(req, target.model)?,
    };
    serde_json::to_vec(&body).map_err(|_| ApiError::internal("cannot encode the request"))
}

/// The 400s for what the neutral request says and OpenAI chat cannot.
fn refuse_unsupported(req: &ChatRequest<'_>) -> Result<(), ApiError> {
    if req.ext.top_k.is_some() {
        return Err(ApiError::invalid_param(
            "top_k",
            "`top_k` is not supported by OpenAI-compatible chat providers; remove it.",
        ));
    }
    if let Some(t) = req.ext.server_tools.first() {
        return Err(ApiError::invalid_param(
            "tools",
            format!(
                "The server tool `{}` cannot run on an OpenAI-compatible chat provider.",
                t.kind
            ),
        ));
    }
    let stateless = "the gateway keeps no conversation state (only OpenAI's Responses API does); send the whole conversation instead.";
    if req.ext.previous_response_id.is_some() {
        let msg = format!("`previous_response_id` is not supported for this model: {stateless}");
        return Err(ApiError::invalid_param("previous_response_id", msg));
    }
    if req.store == Some(true) {
        let msg = format!("`store: true` is not supported for this model: {stateless}");
        return Err(ApiError::invalid_param("store", msg));
    }
    if let Some(key) = req.extra.keys().next() {
        return Err(ApiError::invalid_param(
            key,
            format!("Unrecognized request argument supplied: {key}"),
        ));
    }
    Ok(())
}

fn sampling<'r>(req: &'r ChatRequest<'_>, model: &str) -> Result<Sampling<'r>, ApiError> {
    let response_format = match &req.response_format {
        None => None,
        Some(f) => Some(FormatOut {
            kind: match f.kind {
                ResponseFormatType::Text => "text",
                ResponseFormatType::JsonObject => "json_object",
                ResponseFormatType::JsonSchema => "json_schema",
                ResponseFormatType::Unknown => {
                    return Err(ApiError::invalid_param(
                        "response_format.type",
                        "Unsupported `response_format.type`.",
                    ))
                }
            },
            json_schema: f.json_schema,
        }),
    };
    Ok(Sampling {
        temperature: req.temperature,
        top_p: req.top_p,
        stop: req.stop.as_ref().map(|s| match s {
            TextOr::Text(t) => TextOr::Text(Cow::Borrowed(t.as_ref())),
            TextOr::Items(v) => TextOr::Items(v.iter().map(|s| s.as_str()).collect()),
        }),
        n: req.n,
        response_format,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        logit_bias: req.logit_bias,
        logprobs: req.logprobs,
        top_logprobs: req.top_logprobs,
        seed: req.seed,
        user: req.user.as_deref(),
        safety_identifier: req.safety_identifier.as_deref(),
        prompt_cache_key: req.prompt_cache_key.as_deref(),
        metadata: req.metadata,
        store: req.store,
        service_tier: req.service_tier.as_deref(),
        reasoning_effort: req
            .reasoning_effort
            .as_deref()
            .or_else(|| effort_for(req.ext.thinking, model)),
        verbosity: req.verbosity.as_deref(),
        modalities: req
            .modalities
            .as_ref()
            .map(|m| m.iter().map(|s| s.as_str()).collect()),
        audio: req.audio,
        prediction: req.prediction,
        web_search_options: req.web_search_options,
        functions: req.functions,
        function_call: req.function_call,
    })
}

/// `reasoning_effort` for a thinking budget (see the module doc).
fn effort_for(thinking: Option<ThinkingRequest>, model: &str) -> Option<&'static str> {
    let ThinkingRequest::Enabled { budget_tokens } = thinking? else {
        return None;
    };
    let reasoning = ["o1", "o3", "o4", "gpt-5", "gpt-oss"]
        .iter()
        .any(|p| model.starts_with(p));
    if !reasoning {
        return None;
    }
    Some(match budget_tokens {
        0..=4095 => "low",
        4096..=16383 => "medium",
        _ => "high",
    })
}

fn role(r: Role) -> &'static str {
    match r {
        Role::System => "system",
        Role::Developer => "developer",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        Role::Function => "function",
    }
}

fn message<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Message<'r>, ApiError> {
    let content = match &m.content {
        None => None,
        Some(TextOr::Text(t)) => Some(TextOr::Text(Cow::Borrowed(t.as_ref()))),
        Some(TextOr::Items(parts)) => Some(TextOr::Items(
            parts
                .iter()
                .enumerate()
                .map(|(j, p)| part(i, j, p))
                .collect::<Result<_, _>>()?,
        )),
    };
    let tool_calls = m.tool_calls.as_ref().map(|calls| {
        calls
            .iter()
            .map(|c| CallOut {
                id: &c.id,
                kind: "function",
                function: FunctionOut {
                    name: &c.function.name,
                    arguments: &c.function.arguments,
                },
                extra_content: c.thought_signature().map(|s| ExtraOut {
                    google: GoogleOut {
                        thought_signature: s,
                    },
                }),
            })
            .collect()
    });
    Ok(Message {
        role: role(m.role),
        content,
        name: m.name.as_deref(),
        tool_calls,
        tool_call_id: m.tool_call_id.as_deref(),
        refusal: m.refusal.as_deref(),
        function_call: m.function_call,
        audio: m.audio,
    })
}

fn part<'r>(i: usize, j: usize, p: &'r ContentPart<'_>) -> Result<PartOut<'r>, ApiError> {
    let unsupported = || {
        let param = format!("messages[{i}].content[{j}].type");
        ApiError::invalid_param(
            &param,
            format!("This content part cannot be sent to an OpenAI-compatible chat provider (`{param}`)."),
        )
    };
    let missing = |field: &str| {
        let param = format!("messages[{i}].content[{j}].{field}");
        ApiError::invalid_param(&param, format!("Missing required parameter: '{param}'."))
    };
    Ok(match p.kind {
        PartType::Text => PartOut::Text {
            text: p.text.as_deref().ok_or_else(|| missing("text"))?,
        },
        PartType::ImageUrl => {
            let img = p.image_url.as_ref().ok_or_else(|| missing("image_url"))?;
            PartOut::ImageUrl {
                image_url: ImageOut {
                    url: &img.url,
                    detail: img.detail.as_deref(),
                },
            }
        }
        PartType::File => {
            let f = p.file.as_ref().ok_or_else(|| missing("file"))?;
            PartOut::File {
                file: FileOut {
                    file_data: f.file_data.as_deref(),
                    file_id: f.file_id.as_deref(),
                    filename: f.filename.as_deref(),
                },
            }
        }
        PartType::Refusal => PartOut::Refusal {
            refusal: p.refusal.as_deref().ok_or_else(|| missing("refusal"))?,
        },
        PartType::InputAudio | PartType::Unknown => return Err(unsupported()),
    })
}

fn tool<'r>(i: usize, t: &'r Tool<'_>) -> Result<ToolOut<'r>, ApiError> {
    let f = match (t.kind, &t.function) {
        (ToolType::Function, Some(f)) => f,
        (ToolType::Function, None) => {
            let param = format!("tools[{i}].function");
            return Err(ApiError::invalid_param(
                &param,
                format!("Missing required parameter: '{param}'."),
            ));
        }
        _ => {
            let param = format!("tools[{i}].type");
            return Err(ApiError::invalid_param(
                &param,
                "Only `function` tools can be sent to an OpenAI-compatible chat provider.",
            ));
        }
    };
    Ok(ToolOut {
        kind: "function",
        function: FunctionDefOut {
            name: &f.name,
            description: f.description.as_deref(),
            parameters: f.parameters,
            strict: f.strict,
        },
    })
}

fn tool_choice<'r>(c: &'r ToolChoice<'_>) -> Result<ChoiceOut<'r>, ApiError> {
    Ok(match c {
        ToolChoice::None => ChoiceOut::Mode("none"),
        ToolChoice::Auto => ChoiceOut::Mode("auto"),
        ToolChoice::Required => ChoiceOut::Mode("required"),
        ToolChoice::Named(n) => match (&n.kind, &n.function) {
            (ToolType::Function, Some(f)) => ChoiceOut::Named {
                kind: "function",
                function: NameOut { name: &f.name },
            },
            _ => {
                return Err(ApiError::invalid_param(
                    "tool_choice",
                    "Only a `function` tool can be named in `tool_choice` for an OpenAI-compatible chat provider.",
                ))
            }
        },
    })
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
