//! A Responses request body → the neutral request.
//!
//! What maps where:
//! * `instructions` → a `system` message before the input (`system`
//!   rather than `developer`, which every provider and OpenAI-compatible
//!   server accepts); `input` → messages (see [`super::items`]);
//! * flat function `tools` → chat's nested ones (a `namespace` tool's
//!   functions too, flattened); every other tool type is
//!   a built-in one that OpenAI runs → `ext.server_tools`, which a provider
//!   that cannot run it refuses by name;
//! * `text.format` → `response_format`: its `json_schema` form is flat
//!   (`name`, `schema`, `strict` beside `type`), a superset of chat's
//!   `json_schema` object, so that object is borrowed as is;
//! * `reasoning.effort` → `reasoning_effort`, `reasoning.summary` →
//!   `ext.reasoning_summary`; `max_output_tokens` → `max_completion_tokens`;
//! * `store: true`, `previous_response_id` → `ext.store`, `ext.previous_response_id`:
//!   the gateway keeps no state, so only OpenAI can honour them and every
//!   other provider refuses them;
//! * `include`: `reasoning.encrypted_content` → `ext.encrypted_reasoning`;
//!   the values about built-in tools' output and input echoes are accepted
//!   (nothing to include without those tools); `message.output_text.logprobs`
//!   goes to `extra` with `include`, `truncation: "auto"` and the
//!   parameters only OpenAI keeps (`background`, `conversation`, `prompt`,
//!   `max_tool_calls`, `top_logprobs`...), so a translating provider
//!   refuses each by name.
//!
//! `client_metadata` (Codex's session and turn ids) is accepted and not
//! passed on: nothing in it changes the answer.
//!
//! A streamed request also asks the provider for usage
//! (`stream_options.include_usage`): the Responses stream always reports it
//! in `response.completed`.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::items::{message, Messages};
use super::wire::{Format, Request, TextConfig, ToolChoiceObj, ToolDef};
use crate::error::ApiError;
use crate::openai::{
    ChatRequest, FunctionDef, FunctionName, NamedToolChoice, ResponseFormat, ResponseFormatType,
    Role, ServerTool, StreamOptions, TextOr, Tool, ToolChoice, ToolType,
};

/// The Responses body as the neutral request.
pub fn decode(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    if !is_object(body) {
        return Err(ApiError::invalid_request(
            "The request body must be a JSON object.",
        ));
    }
    let req: Request<'_> = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => return Err(diagnose::<Request<'_>>(body, "")),
    };
    let model = req.model.clone().ok_or_else(ApiError::missing_model)?;
    let mut out = ChatRequest {
        model: Some(model),
        ..ChatRequest::default()
    };
    out.messages = Some(messages(&req)?);
    if out.messages().is_empty() && req.previous_response_id.is_none() {
        return Err(ApiError::invalid_param(
            "input",
            "Missing required parameter: 'input'.",
        ));
    }
    tools(&req, &mut out)?;
    include(req.include.as_deref(), &mut out)?;
    openai_only(&req, &mut out.extra)?;
    out.tool_choice = tool_choice(req.tool_choice)?;
    out.parallel_tool_calls = req.parallel_tool_calls;
    if let Some(text) = &req.text {
        text_config(text, &mut out)?;
    }
    if let Some(r) = req.reasoning {
        out.reasoning_effort = r.effort;
        out.ext.reasoning_summary = r.summary.or(r.generate_summary);
    }
    out.max_completion_tokens = req.max_output_tokens;
    out.temperature = req.temperature;
    out.top_p = req.top_p;
    out.stream = req.stream;
    if req.stream == Some(true) {
        out.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            include_obfuscation: req.stream_options.and_then(|o| o.include_obfuscation),
        });
    }
    out.metadata = req.metadata;
    out.user = req.user;
    out.safety_identifier = req.safety_identifier;
    out.prompt_cache_key = req.prompt_cache_key;
    out.service_tier = req.service_tier;
    out.ext.store = req.store == Some(true);
    out.ext.previous_response_id = req.previous_response_id;
    Ok(out)
}

fn messages<'a>(req: &Request<'a>) -> Result<Vec<crate::openai::ChatMessage<'a>>, ApiError> {
    let mut m = Messages::default();
    if let Some(text) = &req.instructions {
        m.out
            .push(message(Role::System, Some(TextOr::Text(text.clone()))));
    }
    match &req.input {
        Some(TextOr::Text(t)) => m
            .out
            .push(message(Role::User, Some(TextOr::Text(t.clone())))),
        Some(TextOr::Items(items)) => {
            for (i, raw) in items.iter().enumerate() {
                m.item(i, raw)?;
            }
        }
        None => {}
    }
    Ok(m.out)
}

fn tools<'a>(req: &Request<'a>, out: &mut ChatRequest<'a>) -> Result<(), ApiError> {
    let Some(list) = &req.tools else {
        return Ok(());
    };
    let mut functions = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        tool(&format!("tools[{i}]"), raw, out, &mut functions)?;
    }
    out.tools = Some(functions);
    Ok(())
}

/// One tool: a function, a namespace of functions (flattened: the names
/// go to the provider as they are, and calls come back without their
/// `namespace`), or a built-in tool.
fn tool<'a>(
    at: &str,
    raw: &'a RawValue,
    out: &mut ChatRequest<'a>,
    functions: &mut Vec<Tool<'a>>,
) -> Result<(), ApiError> {
    let def: ToolDef<'a> = parse_obj_at(raw.get(), at)?;
    match def.kind.as_ref() {
        "function" => {}
        "namespace" => {
            let inner = def.tools.ok_or_else(|| missing(&format!("{at}.tools")))?;
            for (j, raw) in inner.into_iter().enumerate() {
                let at = format!("{at}.tools[{j}]");
                let def: ToolDef<'a> = parse_obj_at(raw.get(), &at)?;
                if def.kind != "function" {
                    let p = format!("{at}.type");
                    return Err(ApiError::invalid_param(
                        &p,
                        format!("Invalid value for `{p}`: a namespace holds function tools."),
                    ));
                }
                functions.push(function(&at, def)?);
            }
            return Ok(());
        }
        _ => {
            out.ext.server_tools.push(ServerTool {
                kind: def.kind,
                name: def.name,
                raw,
            });
            return Ok(());
        }
    }
    functions.push(function(at, def)?);
    Ok(())
}

fn function<'a>(at: &str, def: ToolDef<'a>) -> Result<Tool<'a>, ApiError> {
    let name = def.name.ok_or_else(|| missing(&format!("{at}.name")))?;
    Ok(Tool {
        kind: ToolType::Function,
        function: Some(FunctionDef {
            name,
            description: def.description,
            parameters: def.parameters,
            strict: def.strict,
        }),
        cache_control: None,
    })
}

fn tool_choice<'a>(raw: Option<&'a RawValue>) -> Result<Option<ToolChoice<'a>>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let invalid = |what: &str| {
        ApiError::invalid_param(
            "tool_choice",
            format!("Invalid value for `tool_choice`: {what} (expected \"auto\", \"none\", \"required\" or {{\"type\":\"function\",\"name\":...}})."),
        )
    };
    if raw.get().starts_with('"') {
        let mode: &str = serde_json::from_str(raw.get()).map_err(|_| invalid("not a string"))?;
        return match mode {
            "auto" => Ok(Some(ToolChoice::Auto)),
            "none" => Ok(Some(ToolChoice::None)),
            "required" => Ok(Some(ToolChoice::Required)),
            other => Err(invalid(&format!("`{other}`"))),
        };
    }
    let obj: ToolChoiceObj<'a> = parse_obj_at(raw.get(), "tool_choice")?;
    if obj.kind != "function" {
        let kind = obj.kind;
        return Err(invalid(&format!(
            "choosing the `{kind}` tool is only possible with OpenAI"
        )));
    }
    let name = obj.name.ok_or_else(|| missing("tool_choice.name"))?;
    Ok(Some(ToolChoice::Named(NamedToolChoice {
        kind: ToolType::Function,
        function: Some(FunctionName { name }),
    })))
}

fn text_config<'a>(text: &TextConfig<'a>, out: &mut ChatRequest<'a>) -> Result<(), ApiError> {
    out.verbosity = text.verbosity.clone();
    let Some(raw) = text.format else {
        return Ok(());
    };
    let f: Format<'_> = parse_obj_at(raw.get(), "text.format")?;
    let kind = match f.kind.as_ref() {
        "text" => ResponseFormatType::Text,
        "json_object" => ResponseFormatType::JsonObject,
        "json_schema" => {
            if f.name.is_none() {
                return Err(missing("text.format.name"));
            }
            if f.schema.is_none() {
                return Err(missing("text.format.schema"));
            }
            ResponseFormatType::JsonSchema
        }
        other => {
            return Err(ApiError::invalid_param(
                "text.format.type",
                format!("Invalid value for `text.format.type`: `{other}` (expected text, json_object or json_schema)."),
            ))
        }
    };
    out.response_format = Some(ResponseFormat {
        kind,
        json_schema: (kind == ResponseFormatType::JsonSchema).then_some(raw),
    });
    Ok(())
}

/// `include` values that ask for the output of OpenAI's built-in tools or
/// echo the input: nothing to add when translating.
const INCLUDE_NOTHING_TO_ADD: [&str; 6] = [
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
];

fn include(
    list: Option<&[crate::openai::Str<'_>]>,
    out: &mut ChatRequest<'_>,
) -> Result<(), ApiError> {
    for (i, v) in list.unwrap_or_default().iter().enumerate() {
        match v.as_str() {
            "reasoning.encrypted_content" => out.ext.encrypted_reasoning = true,
            "message.output_text.logprobs" => {
                let all = list
                    .unwrap_or_default()
                    .iter()
                    .map(|s| Value::from(s.as_str()));
                out.extra
                    .insert("include".into(), Value::Array(all.collect()));
            }
            s if INCLUDE_NOTHING_TO_ADD.contains(&s) => {}
            other => {
                let p = format!("include[{i}]");
                return Err(ApiError::invalid_param(
                    &p,
                    format!("Invalid value for `{p}`: `{other}` is not a supported include value."),
                ));
            }
        }
    }
    Ok(())
}

/// Parameters only OpenAI can honour, kept in `extra` for the provider to
/// pass on or refuse by name.
fn openai_only(req: &Request<'_>, extra: &mut Map<String, Value>) -> Result<(), ApiError> {
    match req.truncation.as_deref() {
        None | Some("disabled") => {}
        Some("auto") => {
            extra.insert("truncation".into(), Value::from("auto"));
        }
        Some(other) => {
            return Err(ApiError::invalid_param(
                "truncation",
                format!("Invalid value for `truncation`: `{other}` (expected auto or disabled)."),
            ))
        }
    }
    let raws = [
        ("top_logprobs", req.top_logprobs),
        ("background", req.background),
        ("conversation", req.conversation),
        ("prompt", req.prompt),
        ("max_tool_calls", req.max_tool_calls),
        ("context_management", req.context_management),
        ("prompt_cache_retention", req.prompt_cache_retention),
    ];
    for (name, raw) in raws {
        let Some(raw) = raw else { continue };
        let v: Value = parse_at(raw.get(), name)?;
        // `"background": false` and the like ask for nothing.
        if !matches!(v, Value::Null | Value::Bool(false)) {
            extra.insert(name.into(), v);
        }
    }
    Ok(())
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid_param(param, format!("Missing required parameter: '{param}'."))
}

/// Parses `json`, the value at `at` (`""` for the body), naming the
/// offending field on failure.
pub(super) fn parse_at<'a, T: Deserialize<'a>>(json: &'a str, at: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(|_| diagnose::<T>(json.as_bytes(), at))
}

/// [`parse_at`] for a value that must be a JSON object (serde's derive
/// would also take a struct written as an array).
pub(super) fn parse_obj_at<'a, T: Deserialize<'a>>(json: &'a str, at: &str) -> Result<T, ApiError> {
    if !is_object(json.as_bytes()) {
        return Err(ApiError::invalid_param(
            at,
            format!("Invalid value for `{at}`: expected an object."),
        ));
    }
    parse_at(json, at)
}

fn is_object(json: &[u8]) -> bool {
    json.trim_ascii_start().first() == Some(&b'{')
}

/// The second, path-tracking parse that names what failed.
fn diagnose<'a, T: Deserialize<'a>>(json: &'a [u8], at: &str) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(json);
    let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => e,
        Ok(_) => {
            return ApiError::invalid_request("We could not parse the JSON body of your request.")
        }
    };
    let inner = err.inner();
    let path = join(at, &err.path().to_string());
    let msg = inner.to_string();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        // The path names the key already, unless it stopped at its object.
        let param = if path == key || path.ends_with(&format!(".{key}")) {
            path
        } else {
            join(&path, key)
        };
        return ApiError::invalid_param(&param, format!("Unknown parameter: '{param}'."));
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let param = join(&path, rest.split('`').next().unwrap_or_default());
        return missing(&param);
    }
    if let Some(dup) = crate::openai::duplicate_key(&path, inner) {
        return dup;
    }
    let location = format!(" at line {} column {}", inner.line(), inner.column());
    let msg = msg.strip_suffix(&location).unwrap_or(&msg);
    match inner.classify() {
        serde_json::error::Category::Data if !path.is_empty() => {
            ApiError::invalid_param(&path, format!("Invalid value for `{path}`: {msg}."))
        }
        serde_json::error::Category::Data => {
            ApiError::invalid_request("The request body must be a JSON object.")
        }
        _ => ApiError::invalid_request(format!(
            "We could not parse the JSON body of your request: {msg} (line {}, column {}).",
            inner.line(),
            inner.column()
        )),
    }
}

/// `a` + `.b` as a parameter path; serde_path_to_error writes `.` for the
/// root and `[3]` for indexes.
fn join(at: &str, path: &str) -> String {
    let path = path.trim_start_matches('.');
    match (at.is_empty(), path.is_empty()) {
        (_, true) => at.to_string(),
        (true, false) => path.to_string(),
        (false, false) if path.starts_with('[') => format!("{at}{path}"),
        (false, false) => format!("{at}.{path}"),
    }
}
