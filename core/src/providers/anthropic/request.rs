//! OpenAI chat request → Anthropic Messages request.

use serde_json::value::RawValue;

use super::wire::{
    Block, CustomTool, ImageSource, Message, MessagesRequest, Metadata, Role, TextBlock, Tool,
    ToolChoice, ToolResultContent,
};
use super::{cache, format, thinking};
use crate::error::ApiError;
use crate::openai::{
    ChatMessage, ChatRequest, ContentPart, MessageContent, PartType, Role as ChatRole, Str, TextOr,
    ToolChoice as ChatToolChoice, ToolType,
};
use crate::providers::TargetCtx;

/// `input_schema` for a function declared without `parameters`.
const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;
const EMPTY_OBJECT: &str = "{}";

/// 400 for a parameter OpenAI accepts but Anthropic cannot honour.
pub(super) fn unsupported(param: &str) -> ApiError {
    crate::openai::features::unsupported("anthropic", param)
}

/// Serialises the Messages API body for `req`.
pub(crate) fn messages_body(
    opts: &super::Options,
    req: &ChatRequest<'_>,
    target: &TargetCtx<'_>,
) -> Result<Vec<u8>, ApiError> {
    build(opts, req, target).map(|body| super::encode::messages_request(&body))
}

/// The Messages API request for `req`, borrowing from it.
pub(super) fn build<'r>(
    opts: &super::Options,
    req: &'r ChatRequest<'_>,
    target: &TargetCtx<'r>,
) -> Result<MessagesRequest<'r>, ApiError> {
    check_params(req)?;
    let plan = thinking::plan(req, opts.default_max_tokens)?;
    let format = format::convert(req)?;
    let (mut system, mut messages) = convert_messages(req.messages(), &req.ext.tool_errors)?;
    if messages.is_empty() {
        // OpenAI accepts a conversation of instructions only; Anthropic
        // needs a user turn, so the instructions become it.
        let content = system
            .drain(..)
            .map(|b| Block::Text {
                text: b.text,
                cache_control: b.cache_control,
            })
            .collect::<Vec<_>>();
        if content.is_empty() {
            return Err(ApiError::invalid_param(
                "messages",
                "`messages` must contain a user or assistant message, or non-empty instructions.",
            ));
        }
        messages.push(Message {
            role: Role::User,
            content,
        });
    }
    if format.json_object {
        system.push(TextBlock::new(format::JSON_OBJECT_INSTRUCTION, None));
    }
    let tools = convert_tools(req)?;
    let tool_choice = if tools.is_empty() {
        None
    } else {
        convert_tool_choice(req)?
    };
    let body = MessagesRequest {
        model: target.model,
        max_tokens: plan.max_tokens,
        messages,
        system,
        metadata: req
            .user
            .as_deref()
            .or(req.safety_identifier.as_deref())
            .map(|user_id| Metadata { user_id }),
        stop_sequences: stop_sequences(req),
        stream: req.is_stream().then_some(true),
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.ext.top_k,
        tools,
        tool_choice,
        thinking: plan.thinking,
        output_config: format.output_config,
    };
    Ok(body)
}

/// Extension parameters this provider understands beyond the OpenAI schema.
const EXTENSIONS: &[&str] = &["thinking"];

/// Rejects parameters that would be silently ignored otherwise.
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
    ];
    req.refuse("anthropic", LACKING, EXTENSIONS)?;
    check_unit_range("temperature", req.temperature)?;
    check_unit_range("top_p", req.top_p)
}

/// Anthropic samples on 0..=1; OpenAI's temperature goes up to 2 and there
/// is no faithful rescaling, so out-of-range values are refused.
fn check_unit_range(param: &str, value: Option<f64>) -> Result<(), ApiError> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(ApiError::invalid_param(
            param,
            format!("`{param}` must be between 0 and 1 for provider anthropic (got {v})."),
        )),
        _ => Ok(()),
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

type Conversation<'r> = (Vec<TextBlock<'r>>, Vec<Message<'r>>);

/// Splits off the system prompt and folds the turns into strictly
/// alternating user/assistant messages.
fn convert_messages<'r>(
    msgs: &'r [ChatMessage<'_>],
    tool_errors: &[usize],
) -> Result<Conversation<'r>, ApiError> {
    let mut system = Vec::new();
    let mut turns: Vec<Message<'r>> = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        match m.role {
            ChatRole::System | ChatRole::Developer => system_blocks(i, m, &mut system)?,
            ChatRole::User => {
                let mut blocks = Vec::new();
                content_blocks(i, m.content.as_ref(), true, &mut blocks)?;
                cache::mark_last(&mut blocks, message_cache(i, m)?);
                append(&mut turns, Role::User, blocks);
            }
            ChatRole::Assistant => {
                let mut blocks = assistant_blocks(i, m)?;
                cache::mark_last(&mut blocks, message_cache(i, m)?);
                append(&mut turns, Role::Assistant, blocks);
            }
            ChatRole::Tool => {
                let mut block = tool_result(i, m, tool_errors.contains(&i))?;
                cache::mark_last(std::slice::from_mut(&mut block), message_cache(i, m)?);
                append_tool_result(&mut turns, block);
            }
            ChatRole::Function => {
                return Err(ApiError::invalid_param(
                    &format!("messages[{i}].role"),
                    "The deprecated `function` role is not supported by provider anthropic; use `tool` messages.",
                ))
            }
        }
    }
    Ok((system, turns))
}

/// The message-level breakpoint: on the last block the message produced.
fn message_cache(
    i: usize,
    m: &ChatMessage<'_>,
) -> Result<Option<super::wire::CacheControl>, ApiError> {
    cache::parse(m.cache_control, || format!("messages[{i}].cache_control"))
}

fn system_blocks<'r>(
    i: usize,
    m: &'r ChatMessage<'_>,
    out: &mut Vec<TextBlock<'r>>,
) -> Result<(), ApiError> {
    let mut blocks = Vec::new();
    content_blocks(i, m.content.as_ref(), false, &mut blocks)?;
    cache::mark_last(&mut blocks, message_cache(i, m)?);
    out.extend(blocks.into_iter().filter_map(|b| match b {
        Block::Text {
            text,
            cache_control,
        } => Some(TextBlock::new(text, cache_control)),
        _ => None,
    }));
    Ok(())
}

fn assistant_blocks<'r>(i: usize, m: &'r ChatMessage<'_>) -> Result<Vec<Block<'r>>, ApiError> {
    if m.function_call.is_some() {
        return Err(unsupported(&format!("messages[{i}].function_call")));
    }
    let mut blocks = Vec::new();
    thinking::history_blocks(i, m, &mut blocks)?;
    content_blocks(i, m.content.as_ref(), false, &mut blocks)?;
    if m.content.is_none() {
        push_text(&mut blocks, m.refusal.as_deref());
    }
    for (k, call) in m.tool_calls.iter().flatten().enumerate() {
        if call.kind != ToolType::Function {
            return Err(unsupported(&format!("messages[{i}].tool_calls[{k}].type")));
        }
        let input = tool_input(&call.function.arguments).ok_or_else(|| {
            let p = format!("messages[{i}].tool_calls[{k}].function.arguments");
            ApiError::invalid_param(&p, format!("`{p}` must be a JSON object."))
        })?;
        blocks.push(Block::ToolUse {
            id: &call.id,
            name: &call.function.name,
            input,
            cache_control: None,
        });
    }
    Ok(blocks)
}

/// Tool arguments as a JSON object; an empty string counts as `{}`.
fn tool_input(args: &str) -> Option<&RawValue> {
    let raw: &RawValue = serde_json::from_str(if args.trim().is_empty() {
        EMPTY_OBJECT
    } else {
        args
    })
    .ok()?;
    raw.get().starts_with('{').then_some(raw)
}

fn tool_result<'r>(
    i: usize,
    m: &'r ChatMessage<'_>,
    is_error: bool,
) -> Result<Block<'r>, ApiError> {
    let tool_use_id = m.tool_call_id.as_deref().ok_or_else(|| {
        ApiError::invalid_param(
            &format!("messages[{i}].tool_call_id"),
            "A tool message needs `tool_call_id`.",
        )
    })?;
    let content = match &m.content {
        None => None,
        Some(TextOr::Text(t)) => (!t.is_empty()).then_some(ToolResultContent::Text(t)),
        Some(content) => {
            let mut blocks = Vec::new();
            content_blocks(i, Some(content), true, &mut blocks)?;
            (!blocks.is_empty()).then_some(ToolResultContent::Blocks(blocks))
        }
    };
    Ok(Block::ToolResult {
        tool_use_id,
        content,
        is_error: is_error.then_some(true),
        cache_control: None,
    })
}

/// Appends to the last turn when it has the same role (Anthropic requires
/// alternation), dropping empty contributions.
fn append<'r>(turns: &mut Vec<Message<'r>>, role: Role, blocks: Vec<Block<'r>>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(Message {
            role,
            content: blocks,
        }),
    }
}

/// Tool results open a user turn; Anthropic wants them before any text.
fn append_tool_result<'r>(turns: &mut Vec<Message<'r>>, block: Block<'r>) {
    match turns.last_mut() {
        Some(last) if last.role == Role::User => {
            let at = last
                .content
                .iter()
                .position(|b| !matches!(b, Block::ToolResult { .. }))
                .unwrap_or(last.content.len());
            last.content.insert(at, block);
        }
        _ => turns.push(Message {
            role: Role::User,
            content: vec![block],
        }),
    }
}

fn content_blocks<'r>(
    i: usize,
    content: Option<&'r MessageContent<'_>>,
    images: bool,
    out: &mut Vec<Block<'r>>,
) -> Result<(), ApiError> {
    match content {
        None => {}
        Some(TextOr::Text(t)) => push_text(out, Some(t)),
        Some(TextOr::Items(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                part_block(i, j, part, images, out)?;
            }
        }
    }
    Ok(())
}

/// Anthropic rejects empty text blocks, so they are dropped.
fn push_text<'r>(out: &mut Vec<Block<'r>>, text: Option<&'r str>) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        out.push(Block::text(text));
    }
}

fn part_block<'r>(
    i: usize,
    j: usize,
    part: &'r ContentPart<'_>,
    images: bool,
    out: &mut Vec<Block<'r>>,
) -> Result<(), ApiError> {
    let cc = cache::parse(part.cache_control, || {
        format!("messages[{i}].content[{j}].cache_control")
    })?;
    let before = out.len();
    match (part.kind, &part.image_url) {
        (PartType::Text, _) => push_text(out, part.text.as_deref()),
        (PartType::Refusal, _) => push_text(out, part.refusal.as_deref()),
        (PartType::ImageUrl, Some(img)) if images => {
            let source = image_source(&img.url).ok_or_else(|| {
                ApiError::invalid_param(
                    &format!("messages[{i}].content[{j}].image_url.url"),
                    "Image URLs must be http(s) URLs or base64 `data:` URLs for provider anthropic.",
                )
            })?;
            out.push(Block::Image {
                source,
                cache_control: None,
            });
        }
        (PartType::File, _) if images => out.push(document(i, j, part)?),
        _ => {
            let p = format!("messages[{i}].content[{j}]");
            return Err(ApiError::invalid_param(
                &p,
                format!("This content part type is not supported by provider anthropic in `{p}`."),
            ));
        }
    }
    // An empty text part is dropped, and its breakpoint with it.
    if let Some(added) = out.get_mut(before..) {
        cache::mark_last(added, cc);
    }
    Ok(())
}

/// A `file` part: an inline PDF becomes a `document` block.
fn document<'r>(i: usize, j: usize, part: &'r ContentPart<'_>) -> Result<Block<'r>, ApiError> {
    let file = part.file.as_ref();
    let source = file
        .and_then(|f| f.file_data.as_deref())
        .and_then(image_source)
        .filter(|s| matches!(s, ImageSource::Base64 { media_type: "application/pdf", .. }))
        .ok_or_else(|| {
            ApiError::invalid_param(
                &format!("messages[{i}].content[{j}].file.file_data"),
                "Files must be PDFs given inline as a `data:application/pdf;base64,` URL for provider anthropic.",
            )
        })?;
    Ok(Block::Document {
        source,
        title: file.and_then(|f| f.filename.as_deref()),
        cache_control: None,
    })
}

/// `data:<media type>;base64,<data>` or an http(s) URL.
fn image_source(url: &str) -> Option<ImageSource<'_>> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest.split_once(',')?;
        let media_type = meta.strip_suffix(";base64").filter(|m| !m.is_empty())?;
        return Some(ImageSource::Base64 { media_type, data });
    }
    let (scheme, rest) = url.split_once("://")?;
    let web = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    (web && !rest.is_empty()).then_some(ImageSource::Url { url })
}

fn convert_tools<'r>(req: &'r ChatRequest<'_>) -> Result<Vec<Tool<'r>>, ApiError> {
    let empty_schema: &'static RawValue = serde_json::from_str(EMPTY_SCHEMA)
        .map_err(|_| ApiError::internal("invalid built-in tool schema"))?;
    let tools = req.tools.iter().flatten().enumerate();
    tools
        .map(|(i, t)| match (t.kind, &t.function) {
            (ToolType::Function, Some(f)) => Ok(Tool::Custom(CustomTool {
                name: &f.name,
                description: f.description.as_deref(),
                input_schema: f.parameters.unwrap_or(empty_schema),
                cache_control: cache::parse(t.cache_control, || {
                    format!("tools[{i}].cache_control")
                })?,
            })),
            _ => Err(unsupported(&format!("tools[{i}].type"))),
        })
        .chain(req.ext.server_tools.iter().map(|t| Ok(Tool::Server(t.raw))))
        .collect()
}

fn convert_tool_choice<'r>(req: &'r ChatRequest<'_>) -> Result<Option<ToolChoice<'r>>, ApiError> {
    let serial = req.parallel_tool_calls == Some(false);
    let (kind, name) = match &req.tool_choice {
        None if serial => ("auto", None),
        None => return Ok(None),
        Some(ChatToolChoice::None) => ("none", None),
        Some(ChatToolChoice::Auto) => ("auto", None),
        Some(ChatToolChoice::Required) => ("any", None),
        Some(ChatToolChoice::Named(n)) => match (n.kind, &n.function) {
            (ToolType::Function, Some(f)) => ("tool", Some(f.name.as_ref())),
            _ => return Err(unsupported("tool_choice.type")),
        },
    };
    Ok(Some(ToolChoice {
        kind,
        name,
        disable_parallel_tool_use: (serial && kind != "none").then_some(true),
    }))
}
