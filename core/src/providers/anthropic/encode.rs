//! Writes a `MessagesRequest` as JSON with `json_out`, so prompt text and
//! base64 images are copied in runs rather than escaped byte by byte. Field
//! order and omissions mirror the `Serialize` derives in `wire.rs`, which a
//! test checks value for value.

use super::wire::{
    Block, CacheControl, ImageSource, Message, MessagesRequest, OutputConfig, Role, TextBlock,
    ThinkingConfig, Tool, ToolChoice, ToolResultContent,
};
use crate::json_out::{array, string, Object};

pub fn messages_request(req: &MessagesRequest<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(estimate(req));
    let mut o = Object::open(&mut out);
    o.str("model", req.model)
        .uint("max_tokens", u64::from(req.max_tokens));
    array(o.key("messages"), &req.messages, message);
    if !req.system.is_empty() {
        array(o.key("system"), &req.system, text_block);
    }
    if let Some(m) = &req.metadata {
        let mut meta = Object::open(o.key("metadata"));
        meta.str("user_id", m.user_id);
        meta.close();
    }
    if !req.stop_sequences.is_empty() {
        array(o.key("stop_sequences"), &req.stop_sequences, |out, s| {
            string(out, s)
        });
    }
    if let Some(stream) = req.stream {
        o.bool("stream", stream);
    }
    if let Some(t) = req.temperature {
        o.float("temperature", t);
    }
    if let Some(p) = req.top_p {
        o.float("top_p", p);
    }
    if let Some(k) = req.top_k {
        o.uint("top_k", u64::from(k));
    }
    if !req.tools.is_empty() {
        array(o.key("tools"), &req.tools, tool);
    }
    if let Some(choice) = &req.tool_choice {
        tool_choice(o.key("tool_choice"), choice);
    }
    if let Some(t) = &req.thinking {
        thinking(o.key("thinking"), t);
    }
    if let Some(c) = &req.output_config {
        output_config(o.key("output_config"), c);
    }
    o.close();
    out
}

fn thinking(out: &mut Vec<u8>, t: &ThinkingConfig<'_>) {
    match t {
        ThinkingConfig::Budget {
            kind,
            budget_tokens,
        } => {
            let mut o = Object::open(out);
            o.str("type", kind)
                .uint("budget_tokens", u64::from(*budget_tokens));
            o.close();
        }
        // A small object the client wrote: serde_json writes it as serde would.
        ThinkingConfig::Given(v) => match serde_json::to_vec(v) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(_) => out.extend_from_slice(b"null"),
        },
        ThinkingConfig::Kind { kind } => {
            let mut o = Object::open(out);
            o.str("type", kind);
            o.close();
        }
    }
}

fn output_config(out: &mut Vec<u8>, c: &OutputConfig<'_>) {
    let mut o = Object::open(out);
    let mut f = Object::open(o.key("format"));
    f.str("type", c.format.kind).raw("schema", c.format.schema);
    f.close();
    o.close();
}

fn cache_control(o: &mut Object<'_>, cc: Option<&CacheControl>) {
    if let Some(cc) = cc {
        let mut c = Object::open(o.key("cache_control"));
        c.str("type", cc.kind).opt_str("ttl", cc.ttl);
        c.close();
    }
}

/// Output size guess: the text dominates, so sum it once to allocate once.
fn estimate(req: &MessagesRequest<'_>) -> usize {
    let text: usize = req
        .messages
        .iter()
        .flat_map(|m| m.content.iter())
        .map(|b| match b {
            Block::Text { text, .. } => text.len(),
            Block::Image {
                source: ImageSource::Base64 { data, .. },
                ..
            }
            | Block::Document {
                source: ImageSource::Base64 { data, .. },
                ..
            } => data.len(),
            Block::Thinking {
                thinking,
                signature,
            } => thinking.len() + signature.len() + 64,
            Block::RedactedThinking { data } => data.len() + 64,
            _ => 64,
        })
        .sum();
    let system: usize = req.system.iter().map(|b| b.text.len()).sum();
    text + system + 256
}

fn message(out: &mut Vec<u8>, m: &Message<'_>) {
    let mut o = Object::open(out);
    o.str(
        "role",
        match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        },
    );
    array(o.key("content"), &m.content, block);
    o.close();
}

fn text_block(out: &mut Vec<u8>, b: &TextBlock<'_>) {
    let mut o = Object::open(out);
    o.str("type", b.kind).str("text", b.text);
    cache_control(&mut o, b.cache_control.as_ref());
    o.close();
}

fn block(out: &mut Vec<u8>, b: &Block<'_>) {
    let mut o = Object::open(out);
    match b {
        Block::Text {
            text,
            cache_control: cc,
        } => {
            o.str("type", "text").str("text", text);
            cache_control(&mut o, cc.as_ref());
        }
        Block::Image {
            source,
            cache_control: cc,
        } => {
            o.str("type", "image");
            image_source(o.key("source"), source);
            cache_control(&mut o, cc.as_ref());
        }
        Block::Document {
            source,
            title,
            cache_control: cc,
        } => {
            o.str("type", "document");
            image_source(o.key("source"), source);
            o.opt_str("title", *title);
            cache_control(&mut o, cc.as_ref());
        }
        Block::ToolUse {
            id,
            name,
            input,
            cache_control: cc,
        } => {
            o.str("type", "tool_use")
                .str("id", id)
                .str("name", name)
                .raw("input", input);
            cache_control(&mut o, cc.as_ref());
        }
        Block::Thinking {
            thinking,
            signature,
        } => {
            o.str("type", "thinking")
                .str("thinking", thinking)
                .str("signature", signature);
        }
        Block::RedactedThinking { data } => {
            o.str("type", "redacted_thinking").str("data", data);
        }
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
            cache_control: cc,
        } => {
            o.str("type", "tool_result").str("tool_use_id", tool_use_id);
            match content {
                None => {}
                Some(ToolResultContent::Text(t)) => {
                    o.str("content", t);
                }
                Some(ToolResultContent::Blocks(blocks)) => array(o.key("content"), blocks, block),
            }
            if let Some(e) = is_error {
                o.bool("is_error", *e);
            }
            cache_control(&mut o, cc.as_ref());
        }
    }
    o.close();
}

fn image_source(out: &mut Vec<u8>, s: &ImageSource<'_>) {
    let mut o = Object::open(out);
    match s {
        ImageSource::Base64 { media_type, data } => {
            o.str("type", "base64")
                .str("media_type", media_type)
                .str("data", data);
        }
        ImageSource::Url { url } => {
            o.str("type", "url").str("url", url);
        }
    }
    o.close();
}

fn tool(out: &mut Vec<u8>, t: &Tool<'_>) {
    let t = match t {
        Tool::Server(raw) => {
            out.extend_from_slice(raw.get().as_bytes());
            return;
        }
        Tool::Custom(t) => t,
    };
    let mut o = Object::open(out);
    o.str("name", t.name)
        .opt_str("description", t.description)
        .raw("input_schema", t.input_schema);
    cache_control(&mut o, t.cache_control.as_ref());
    o.close();
}

fn tool_choice(out: &mut Vec<u8>, c: &ToolChoice<'_>) {
    let mut o = Object::open(out);
    o.str("type", c.kind).opt_str("name", c.name);
    if let Some(d) = c.disable_parallel_tool_use {
        o.bool("disable_parallel_tool_use", d);
    }
    o.close();
}
