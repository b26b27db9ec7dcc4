//! `input` items → chat messages.
//!
//! Responses lists a turn as separate items where chat has one assistant
//! message: `reasoning`, then a `message`, then any `function_call`s. So a
//! `function_call` joins the assistant message just before it (text or
//! earlier calls of the same turn) and starts one only when anything else
//! came between; each `function_call_output` is a `tool` message.
//!
//! Reasoning items restore the provider state the encoder sealed into
//! `encrypted_content` (see [`super::state`]): thinking blocks go to the
//! next assistant message's `thinking_blocks` (or to the open one, when
//! calls follow it), thought signatures to the function call with the same
//! `call_id`. Reasoning in any other format (OpenAI's own encryption, bare
//! summaries) means nothing to another provider and is dropped.
//!
//! Item types that need OpenAI's server state or its built-in tools
//! (`item_reference`, `web_search_call`, `custom_tool_call`...) are
//! refused by index: they only make sense passed through to OpenAI.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::decode::parse_obj_at;
use super::state::{Block, CallSignature, State};
use super::wire::{Item, Part};
use crate::error::ApiError;
use crate::openai::{
    ChatMessage, ContentPart, ExtraContentIn, FileIn, FunctionCall, GoogleExtraIn, ImageUrl,
    MessageContent, PartType, Role, TextOr, ThinkingBlockIn, ToolCall, ToolType,
};

/// Builds the messages from the items in order.
#[derive(Default)]
pub(super) struct Messages<'a> {
    pub out: Vec<ChatMessage<'a>>,
    /// Thinking blocks waiting for the next assistant message.
    thinking: Vec<ThinkingBlockIn<'a>>,
    /// Thought signatures by call id, from every reasoning item so far.
    signatures: Vec<CallSignature>,
    /// The last message is an assistant turn that calls may still join.
    open: bool,
}

pub(super) fn message<'a>(role: Role, content: Option<MessageContent<'a>>) -> ChatMessage<'a> {
    ChatMessage {
        role,
        content,
        name: None,
        tool_calls: None,
        tool_call_id: None,
        refusal: None,
        function_call: None,
        audio: None,
        reasoning_content: None,
        thinking_blocks: None,
        cache_control: None,
    }
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid_param(param, format!("Missing required parameter: '{param}'."))
}

impl<'a> Messages<'a> {
    pub fn item(&mut self, i: usize, raw: &'a RawValue) -> Result<(), ApiError> {
        let at = format!("input[{i}]");
        let item: Item<'a> = parse_obj_at(raw.get(), &at)?;
        let kind = match (&item.kind, &item.role) {
            (Some(k), _) => k.as_ref(),
            (None, Some(_)) => "message",
            (None, None) => return Err(missing(&format!("{at}.type"))),
        };
        match kind {
            "message" => self.message(&at, item),
            "function_call" => self.function_call(&at, item),
            "function_call_output" => self.call_output(&at, item),
            "reasoning" => self.reasoning(&at, item),
            other => {
                let p = format!("{at}.type");
                Err(ApiError::invalid_param(
                    &p,
                    format!(
                        "Invalid value for `{p}`: `{other}` items are not supported here: the \
                         gateway is stateless and translates only message, function_call, \
                         function_call_output and reasoning items."
                    ),
                ))
            }
        }
    }

    fn message(&mut self, at: &str, item: Item<'a>) -> Result<(), ApiError> {
        let role = match item.role.as_deref() {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some("system") => Role::System,
            Some("developer") => Role::Developer,
            Some(other) => {
                let p = format!("{at}.role");
                return Err(ApiError::invalid_param(
                    &p,
                    format!("Invalid value for `{p}`: `{other}` (expected user, assistant, system or developer)."),
                ));
            }
            None => return Err(missing(&format!("{at}.role"))),
        };
        let content = match item.content {
            Some(TextOr::Text(t)) => TextOr::Text(t),
            Some(TextOr::Items(parts)) => {
                let mut out = Vec::with_capacity(parts.len());
                for (j, p) in parts.into_iter().enumerate() {
                    out.push(part(&format!("{at}.content[{j}]"), p)?);
                }
                TextOr::Items(out)
            }
            None => return Err(missing(&format!("{at}.content"))),
        };
        let mut m = message(role, Some(content));
        if role == Role::Assistant {
            self.take_thinking(&mut m);
        }
        self.open = role == Role::Assistant;
        self.out.push(m);
        Ok(())
    }

    fn function_call(&mut self, at: &str, item: Item<'a>) -> Result<(), ApiError> {
        let call_id = item
            .call_id
            .ok_or_else(|| missing(&format!("{at}.call_id")))?;
        let name = item.name.ok_or_else(|| missing(&format!("{at}.name")))?;
        let arguments = item
            .arguments
            .ok_or_else(|| missing(&format!("{at}.arguments")))?;
        let signature = self
            .signatures
            .iter()
            .find(|s| s.call_id == call_id)
            .map(|s| s.signature.clone());
        let call = ToolCall {
            id: call_id,
            kind: ToolType::Function,
            function: FunctionCall { name, arguments },
            extra_content: signature.map(|s| ExtraContentIn {
                google: Some(GoogleExtraIn {
                    thought_signature: Some(Cow::Owned(s)),
                }),
            }),
        };
        let thinking = std::mem::take(&mut self.thinking);
        match self.out.last_mut() {
            Some(m) if self.open => {
                if !thinking.is_empty() {
                    m.thinking_blocks
                        .get_or_insert_with(Vec::new)
                        .extend(thinking);
                }
                m.tool_calls.get_or_insert_with(Vec::new).push(call);
            }
            _ => {
                let mut m = message(Role::Assistant, None);
                m.thinking_blocks = (!thinking.is_empty()).then_some(thinking);
                m.tool_calls = Some(vec![call]);
                self.out.push(m);
                self.open = true;
            }
        }
        Ok(())
    }

    fn call_output(&mut self, at: &str, item: Item<'a>) -> Result<(), ApiError> {
        let call_id = item
            .call_id
            .ok_or_else(|| missing(&format!("{at}.call_id")))?;
        let content = match item.output {
            Some(TextOr::Text(t)) => TextOr::Text(t),
            Some(TextOr::Items(parts)) => {
                let mut out = Vec::with_capacity(parts.len());
                for (j, p) in parts.into_iter().enumerate() {
                    out.push(part(&format!("{at}.output[{j}]"), p)?);
                }
                TextOr::Items(out)
            }
            None => return Err(missing(&format!("{at}.output"))),
        };
        let mut m = message(Role::Tool, Some(content));
        m.tool_call_id = Some(call_id);
        self.out.push(m);
        self.open = false;
        Ok(())
    }

    fn reasoning(&mut self, at: &str, item: Item<'a>) -> Result<(), ApiError> {
        let Some(sealed) = item.encrypted_content else {
            return Ok(());
        };
        let state = State::open(&sealed).map_err(|why| {
            let p = format!("{at}.encrypted_content");
            ApiError::invalid_param(&p, format!("Invalid value for `{p}`: {why}."))
        })?;
        let Some(state) = state else {
            return Ok(());
        };
        self.thinking
            .extend(state.blocks.into_iter().map(thinking_block));
        self.signatures.extend(state.calls);
        Ok(())
    }

    fn take_thinking(&mut self, m: &mut ChatMessage<'a>) {
        if !self.thinking.is_empty() {
            m.thinking_blocks = Some(std::mem::take(&mut self.thinking));
        }
    }
}

fn thinking_block<'a>(b: Block) -> ThinkingBlockIn<'a> {
    match b {
        Block::Thinking {
            thinking,
            signature,
        } => ThinkingBlockIn {
            kind: Cow::Borrowed("thinking"),
            thinking: Some(Cow::Owned(thinking)),
            signature: Some(Cow::Owned(signature)),
            data: None,
        },
        Block::RedactedThinking { data } => ThinkingBlockIn {
            kind: Cow::Borrowed("redacted_thinking"),
            thinking: None,
            signature: None,
            data: Some(Cow::Owned(data)),
        },
    }
}

fn empty_part<'a>(kind: PartType) -> ContentPart<'a> {
    ContentPart {
        kind,
        text: None,
        image_url: None,
        file: None,
        refusal: None,
        cache_control: None,
    }
}

/// One content part; `at` is its path (`input[2].content[0]`).
fn part<'a>(at: &str, p: Part<'a>) -> Result<ContentPart<'a>, ApiError> {
    let need = |field: &str| missing(&format!("{at}.{field}"));
    match p.kind.as_ref() {
        "input_text" | "output_text" | "text" => {
            let mut out = empty_part(PartType::Text);
            out.text = Some(p.text.ok_or_else(|| need("text"))?);
            Ok(out)
        }
        "refusal" => {
            let mut out = empty_part(PartType::Refusal);
            out.refusal = Some(p.refusal.ok_or_else(|| need("refusal"))?);
            Ok(out)
        }
        "input_image" => image(at, p),
        "input_file" => file(at, p),
        other => {
            let param = format!("{at}.type");
            Err(ApiError::invalid_param(
                &param,
                format!("Invalid value for `{param}`: `{other}` (expected input_text, input_image, input_file, output_text or refusal)."),
            ))
        }
    }
}

fn image<'a>(at: &str, p: Part<'a>) -> Result<ContentPart<'a>, ApiError> {
    if let Some(url) = p.image_url {
        let mut out = empty_part(PartType::ImageUrl);
        out.image_url = Some(ImageUrl {
            url,
            detail: p.detail,
        });
        return Ok(out);
    }
    // An uploaded image by id: a file part, which only OpenAI resolves.
    let file_id = p
        .file_id
        .ok_or_else(|| missing(&format!("{at}.image_url")))?;
    let mut out = empty_part(PartType::File);
    out.file = Some(FileIn {
        file_data: None,
        file_id: Some(file_id),
        filename: None,
    });
    Ok(out)
}

fn file<'a>(at: &str, p: Part<'a>) -> Result<ContentPart<'a>, ApiError> {
    if p.file_url.is_some() {
        let param = format!("{at}.file_url");
        return Err(ApiError::invalid_param(
            &param,
            format!("`{param}` is not supported: send the document inline as `file_data`."),
        ));
    }
    if p.file_data.is_none() && p.file_id.is_none() {
        return Err(missing(&format!("{at}.file_data")));
    }
    let mut out = empty_part(PartType::File);
    out.file = Some(FileIn {
        file_data: p.file_data,
        file_id: p.file_id,
        filename: p.filename,
    });
    Ok(out)
}
