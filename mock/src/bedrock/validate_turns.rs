//! Conversation rules of `messages`: the first turn is the user's, roles
//! alternate, each user turn after tool uses answers every one of them by
//! id, and tool blocks need a `toolConfig`.

use serde_json::Value;

use super::validate::{
    constraint, content_of, ids, known, list, object, one_of, required, validate_block,
};

type Check = Result<(), String>;

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

/// Validates every message, then the turn rules.
pub fn validate_messages(messages: &[Value], has_tools: bool, thinking: bool) -> Check {
    if messages.is_empty() {
        return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
    }
    let mut uses_tools = false;
    for (i, m) in messages.iter().enumerate() {
        let p = format!("messages.{}.member", i + 1);
        let obj = object(m, &p)?;
        known(obj, &["role", "content"], &p)?;
        one_of(
            required(obj, "role", &p)?,
            &["user", "assistant"],
            &format!("{p}.role"),
        )?;
        let content = list(required(obj, "content", &p)?, &format!("{p}.content"))?;
        if content.is_empty() {
            return Err(format!("The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."));
        }
        for (j, b) in content.iter().enumerate() {
            let kind = validate_block(b, role(m), i, j, thinking)?;
            uses_tools |= kind == "toolUse" || kind == "toolResult";
        }
    }
    if uses_tools && !has_tools {
        return Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".into());
    }
    turns(messages)
}

fn turns(messages: &[Value]) -> Check {
    if messages.first().map(role) != Some("user") {
        return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
    }
    let mut prev: Option<&Value> = None;
    for (i, m) in messages.iter().enumerate() {
        if prev.is_some_and(|p| role(p) == role(m)) {
            return Err("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".into());
        }
        let uses = prev
            .map(|p| ids(content_of(p), "toolUse"))
            .unwrap_or_default();
        let results = ids(content_of(m), "toolResult");
        if results.len() > uses.len() {
            return Err(format!("The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse blocks of previous turn."));
        }
        let missing: Vec<&str> = uses
            .iter()
            .filter(|u| !results.contains(u))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
                missing.join(", ")
            ));
        }
        prev = Some(m);
    }
    if messages.len() > 5000 {
        return Err(constraint(
            "list",
            "messages",
            "have length less than or equal to 5000",
        ));
    }
    Ok(())
}
