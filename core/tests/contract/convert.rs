//! Expresses a contract request (OpenAI chat JSON) in the other client
//! dialects, for the dialect axis: a Messages body and a Responses body
//! meaning the same conversation. What a dialect cannot say (`n`,
//! `logprobs`, `seed`, a conversation with no user turn in Messages) is
//! `Err(reason)`, and the case is not applicable for that dialect.
//!
//! Only the shapes the cases use are converted (string or text/image
//! parts, function tools, `tool_choice: "auto"`); anything else is an
//! `Err` too, so a new case is never silently mistranslated.

use modelmux_core::dialect::Dialect;
use serde_json::{json, Map, Value};

/// Why a request cannot be expressed in a dialect.
pub type Unsaid = &'static str;

/// `chat` (an OpenAI chat body) in `dialect`.
pub fn to_dialect(chat: &Value, dialect: Dialect) -> Result<Value, Unsaid> {
    match dialect {
        Dialect::OpenAiChat => Ok(chat.clone()),
        Dialect::AnthropicMessages => to_messages(chat),
        Dialect::OpenAiResponses => to_responses(chat),
    }
}

fn no_chat_only(chat: &Value) -> Result<(), Unsaid> {
    if chat.get("n").is_some() {
        return Err("`n` (several choices) has no equivalent in this dialect");
    }
    if chat.get("logprobs").is_some() {
        return Err("`logprobs` has no equivalent in this dialect");
    }
    if chat.get("seed").is_some() {
        return Err("`seed` has no equivalent in this dialect");
    }
    Ok(())
}

fn text_of(content: &Value) -> Result<String, Unsaid> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        _ => Err("structured content in a non-user message is not converted"),
    }
}

// ---- Anthropic Messages ----

fn to_messages(chat: &Value) -> Result<Value, Unsaid> {
    no_chat_only(chat)?;
    if chat.get("response_format").is_some() {
        return Err(
            "the gateway decodes no structured-output field of Messages (`output_config` \
                    keys other than `effort` stay Anthropic-only)",
        );
    }
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for m in chat["messages"].as_array().ok_or("no messages")? {
        let (role, blocks) = match m["role"].as_str() {
            Some("system" | "developer") => {
                system.push(json!({"type": "text", "text": text_of(&m["content"])?}));
                continue;
            }
            Some("user") => ("user", user_blocks(&m["content"])?),
            Some("assistant") => ("assistant", assistant_blocks(m)?),
            Some("tool") => (
                "user",
                vec![json!({"type": "tool_result",
                "tool_use_id": m["tool_call_id"], "content": text_of(&m["content"])?})],
            ),
            _ => return Err("unknown role"),
        };
        // Consecutive tool results are one user turn in Messages.
        match messages.last_mut() {
            Some(last) if last["role"] == role && role == "user" => {
                let prev = last["content"].as_array_mut().ok_or("content")?;
                prev.extend(blocks);
            }
            _ => messages.push(json!({"role": role, "content": blocks})),
        }
    }
    if messages.is_empty() {
        return Err("Messages needs at least one message; instructions alone cannot be said");
    }
    let max_tokens = chat
        .get("max_completion_tokens")
        .cloned()
        .unwrap_or(json!(1024));
    let mut body = json!({"model": chat["model"], "max_tokens": max_tokens, "messages": messages});
    if let Some(effort) = chat.get("reasoning_effort") {
        // Anthropic's effort parameter, which the gateway reads as the
        // neutral reasoning effort.
        body["output_config"] = json!({"effort": effort});
    }
    if !system.is_empty() {
        body["system"] = json!(system);
    }
    if let Some(tools) = chat.get("tools") {
        body["tools"] = messages_tools(tools)?;
    }
    match chat.get("tool_choice").and_then(Value::as_str) {
        None => {}
        Some("auto") => body["tool_choice"] = json!({"type": "auto"}),
        Some(_) => return Err("tool_choice other than auto is not converted"),
    }
    if chat["stream"] == json!(true) {
        body["stream"] = json!(true);
    }
    Ok(body)
}

fn user_blocks(content: &Value) -> Result<Vec<Value>, Unsaid> {
    let Some(parts) = content.as_array() else {
        return Ok(vec![json!({"type": "text", "text": text_of(content)?})]);
    };
    parts
        .iter()
        .map(|p| match p["type"].as_str() {
            Some("text") => Ok(json!({"type": "text", "text": p["text"]})),
            Some("image_url") => {
                let url = p["image_url"]["url"].as_str().ok_or("image url")?;
                let source = match url.strip_prefix("data:") {
                    Some(rest) => {
                        let (media, data) = rest.split_once(";base64,").ok_or("data url")?;
                        json!({"type": "base64", "media_type": media, "data": data})
                    }
                    None => json!({"type": "url", "url": url}),
                };
                Ok(json!({"type": "image", "source": source}))
            }
            _ => Err("content part not converted"),
        })
        .collect()
}

fn assistant_blocks(m: &Value) -> Result<Vec<Value>, Unsaid> {
    let mut blocks = Vec::new();
    let text = text_of(&m["content"])?;
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for c in m["tool_calls"].as_array().into_iter().flatten() {
        let args = c["function"]["arguments"].as_str().ok_or("arguments")?;
        let input: Value = serde_json::from_str(args).map_err(|_| "arguments not JSON")?;
        blocks.push(json!({"type": "tool_use", "id": c["id"],
                           "name": c["function"]["name"], "input": input}));
    }
    Ok(blocks)
}

fn messages_tools(tools: &Value) -> Result<Value, Unsaid> {
    let tools = tools.as_array().ok_or("tools")?;
    let out: Result<Vec<Value>, Unsaid> = tools
        .iter()
        .map(|t| {
            let f = &t["function"];
            let mut tool = Map::new();
            tool.insert("name".into(), f["name"].clone());
            if let Some(d) = f.get("description") {
                tool.insert("description".into(), d.clone());
            }
            tool.insert("input_schema".into(), f["parameters"].clone());
            Ok(Value::Object(tool))
        })
        .collect();
    Ok(json!(out?))
}

// ---- OpenAI Responses ----

fn to_responses(chat: &Value) -> Result<Value, Unsaid> {
    no_chat_only(chat)?;
    let mut input = Vec::new();
    for m in chat["messages"].as_array().ok_or("no messages")? {
        match m["role"].as_str() {
            Some(role @ ("system" | "developer" | "user")) => input.push(json!({
                "type": "message", "role": role, "content": input_parts(&m["content"])?})),
            Some("assistant") => {
                let text = text_of(&m["content"])?;
                if !text.is_empty() {
                    input.push(json!({"type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": text}]}));
                }
                for c in m["tool_calls"].as_array().into_iter().flatten() {
                    input.push(json!({"type": "function_call", "call_id": c["id"],
                        "name": c["function"]["name"], "arguments": c["function"]["arguments"]}));
                }
            }
            Some("tool") => input.push(json!({"type": "function_call_output",
                "call_id": m["tool_call_id"], "output": text_of(&m["content"])?})),
            _ => return Err("unknown role"),
        }
    }
    let mut body = json!({"model": chat["model"], "input": input, "store": false});
    if let Some(tools) = chat.get("tools").and_then(Value::as_array) {
        let tools: Vec<Value> = tools
            .iter()
            .map(|t| {
                let f = &t["function"];
                json!({"type": "function", "name": f["name"], "description": f["description"],
                       "parameters": f["parameters"]})
            })
            .collect();
        body["tools"] = json!(tools);
    }
    if let Some(choice) = chat.get("tool_choice") {
        body["tool_choice"] = choice.clone();
    }
    if let Some(format) = chat.get("response_format") {
        body["text"] = json!({"format": responses_format(format)?});
    }
    if let Some(effort) = chat.get("reasoning_effort") {
        body["reasoning"] = json!({"effort": effort});
    }
    if let Some(max) = chat.get("max_completion_tokens") {
        body["max_output_tokens"] = max.clone();
    }
    if chat["stream"] == json!(true) {
        body["stream"] = json!(true);
    }
    Ok(body)
}

fn input_parts(content: &Value) -> Result<Value, Unsaid> {
    let Some(parts) = content.as_array() else {
        return Ok(json!([{"type": "input_text", "text": text_of(content)?}]));
    };
    let parts: Result<Vec<Value>, Unsaid> = parts
        .iter()
        .map(|p| match p["type"].as_str() {
            Some("text") => Ok(json!({"type": "input_text", "text": p["text"]})),
            Some("image_url") => Ok(json!({"type": "input_image",
                "image_url": p["image_url"]["url"], "detail": p["image_url"]["detail"]})),
            _ => Err("content part not converted"),
        })
        .collect();
    Ok(json!(parts?))
}

fn responses_format(format: &Value) -> Result<Value, Unsaid> {
    match format["type"].as_str() {
        Some("json_object") => Ok(json!({"type": "json_object"})),
        Some("json_schema") => {
            let s = &format["json_schema"];
            Ok(
                json!({"type": "json_schema", "name": s["name"], "strict": s["strict"],
                      "schema": s["schema"]}),
            )
        }
        _ => Err("response_format not converted"),
    }
}
