//! Validation of a Converse request body (`Err` is the ValidationException
//! message).
//!
//! Shapes follow the Bedrock Runtime service model: unions (content
//! blocks, tools, tool choice, sources) must set exactly one member,
//! constraint violations are reported Smithy style with 1-based
//! `messages.N.member.content.M.member` paths, while the conversation rules
//! (first turn user, roles alternate, tool results answer every tool use of
//! the previous turn, `toolConfig` present when tool blocks are) use the
//! service's own sentences and 0-based `messages.N.content` paths, as the
//! real API mixes both. Errors that Bedrock passes through from the model
//! (Anthropic `thinking` rules, reasoning signatures) start with "The
//! model returned the following errors:".

use serde_json::{Map, Value};

use super::respond::{blocks, signature, thinking};

pub type Check = Result<(), String>;

const FIELDS: &[&str] = &[
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "projectIdentifier",
    "additionalModelRequestFields",
    "promptVariables",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
];

const CONTENT: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
    "toolAddition",
    "toolRemoval",
];

const RESULT_CONTENT: &[&str] = &["json", "text", "image", "document", "video", "searchResult"];
const IMAGE_FORMATS: &[&str] = &["png", "jpeg", "gif", "webp"];
const DOC_FORMATS: &[&str] = &[
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

pub fn malformed(what: &str, path: &str) -> String {
    format!(
        "Malformed input request: {what} at '{path}', please reformat your input and try again."
    )
}

pub fn constraint(value: &str, path: &str, rule: &str) -> String {
    format!("1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: Member must {rule}")
}

pub fn model_error(message: &str) -> String {
    format!("The model returned the following errors: {message}")
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| malformed("expected an object", path))
}

pub fn list<'a>(v: &'a Value, path: &str) -> Result<&'a [Value], String> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| malformed("expected a list", path))
}

pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| malformed("expected a string", path))
}

pub fn known(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Check {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("Malformed input request: extraneous key [{k}] is not permitted{}, please reformat your input and try again.", if path.is_empty() { String::new() } else { format!(" at '{path}'") })),
        None => Ok(()),
    }
}

pub fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| constraint("null", &join(path, key), "not be null"))
}

/// The one member a union sets.
pub fn union<'a>(
    v: &'a Value,
    members: &[&str],
    path: &str,
) -> Result<(&'a str, &'a Value), String> {
    let obj = object(v, path)?;
    known(obj, members, path)?;
    let mut set = obj.iter();
    match (set.next(), set.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => Err(constraint(
            "null",
            path,
            "have exactly one member of the union set",
        )),
    }
}

pub fn one_of(v: &Value, values: &[&str], path: &str) -> Check {
    let s = string(v, path)?;
    if values.contains(&s) {
        return Ok(());
    }
    let rule = format!("satisfy enum value set: [{}]", values.join(", "));
    Err(constraint(&format!("'{s}'"), path, &rule))
}

pub fn pattern(v: &Value, path: &str, extra: &[u8]) -> Check {
    let s = string(v, path)?;
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b) || extra.contains(&b));
    if s.is_empty() || s.len() > 64 || !ok {
        let class = if extra.is_empty() {
            "[a-zA-Z0-9_-]+"
        } else {
            "[a-zA-Z0-9_.:-]+"
        };
        let rule =
            format!("satisfy regular expression pattern: {class} and have length between 1 and 64");
        return Err(constraint(&format!("'{s}'"), path, &rule));
    }
    Ok(())
}

fn number_in(v: &Value, path: &str, min: f64, max: f64) -> Check {
    let n = v
        .as_f64()
        .ok_or_else(|| malformed("expected a number", path))?;
    if n < min {
        return Err(constraint(
            &format!("'{n}'"),
            path,
            &format!("have value greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            &format!("'{n}'"),
            path,
            &format!("have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn base64_blob(v: &Value, path: &str) -> Check {
    let s = string(v, path)?;
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    if s.is_empty() || !ok || !s.len().is_multiple_of(4) {
        return Err(malformed("invalid base64 blob", path));
    }
    Ok(())
}

/// Validates a whole request.
pub fn validate(body: &Map<String, Value>) -> Check {
    known(body, FIELDS, "")?;
    if let Some(sys) = body.get("system") {
        validate_system(sys)?;
    }
    if let Some(ic) = body.get("inferenceConfig") {
        validate_inference(ic)?;
    }
    let tools = match body.get("toolConfig") {
        Some(tc) => Some(super::validate_tools::validate_tool_config(tc)?),
        None => None,
    };
    validate_extras(body)?;
    let messages = body
        .get("messages")
        .ok_or_else(|| constraint("null", "messages", "not be null"))?;
    let messages = list(messages, "messages")?;
    super::validate_turns::validate_messages(messages, tools.is_some(), thinking(body))
}

fn validate_system(v: &Value) -> Check {
    for (i, b) in list(v, "system")?.iter().enumerate() {
        let p = format!("system.{}.member", i + 1);
        match union(b, &["text", "guardContent", "cachePoint"], &p)? {
            ("text", t) if string(t, &join(&p, "text"))?.is_empty() => {
                return Err(constraint(
                    "''",
                    &join(&p, "text"),
                    "have length greater than or equal to 1",
                ))
            }
            ("cachePoint", c) => cache_point(c, &join(&p, "cachePoint"))?,
            ("guardContent", g) => drop(object(g, &join(&p, "guardContent"))?),
            _ => {}
        }
    }
    Ok(())
}

pub fn cache_point(v: &Value, p: &str) -> Check {
    let obj = object(v, p)?;
    known(obj, &["type", "ttl"], p)?;
    one_of(required(obj, "type", p)?, &["default"], &join(p, "type"))
}

fn validate_inference(v: &Value) -> Check {
    let p = "inferenceConfig";
    let ic = object(v, p)?;
    known(
        ic,
        &["maxTokens", "temperature", "topP", "stopSequences"],
        p,
    )?;
    if let Some(m) = ic.get("maxTokens") {
        let n = m
            .as_i64()
            .ok_or_else(|| malformed("expected an integer", "inferenceConfig.maxTokens"))?;
        if n < 1 {
            return Err(constraint(
                &format!("'{n}'"),
                "inferenceConfig.maxTokens",
                "have value greater than or equal to 1",
            ));
        }
    }
    if let Some(t) = ic.get("temperature") {
        number_in(t, "inferenceConfig.temperature", 0.0, 1.0)?;
    }
    if let Some(t) = ic.get("topP") {
        number_in(t, "inferenceConfig.topP", 0.0, 1.0)?;
    }
    if let Some(s) = ic.get("stopSequences") {
        let stops = list(s, "inferenceConfig.stopSequences")?;
        if stops.len() > 2500 {
            return Err(constraint(
                "list",
                "inferenceConfig.stopSequences",
                "have length less than or equal to 2500",
            ));
        }
        for (i, stop) in stops.iter().enumerate() {
            let sp = format!("inferenceConfig.stopSequences.{}.member", i + 1);
            if string(stop, &sp)?.is_empty() {
                return Err(constraint(
                    "''",
                    &sp,
                    "have length greater than or equal to 1",
                ));
            }
        }
    }
    Ok(())
}

/// Everything but messages, system, inference and tool configuration.
fn validate_extras(body: &Map<String, Value>) -> Check {
    if let Some(f) = body.get("additionalModelRequestFields") {
        let fields = object(f, "additionalModelRequestFields")?;
        validate_thinking(fields, body)?;
    }
    if let Some(g) = body.get("guardrailConfig") {
        let p = "guardrailConfig";
        let g = object(g, p)?;
        known(g, &["guardrailIdentifier", "guardrailVersion", "trace"], p)?;
        string(
            required(g, "guardrailIdentifier", p)?,
            "guardrailConfig.guardrailIdentifier",
        )?;
        string(
            required(g, "guardrailVersion", p)?,
            "guardrailConfig.guardrailVersion",
        )?;
    }
    if let Some(v) = body.get("promptVariables") {
        object(v, "promptVariables")?;
    }
    if let Some(v) = body.get("outputConfig") {
        super::validate_output::validate_output_config(v)?;
    }
    if let Some(v) = body.get("projectIdentifier") {
        string(v, "projectIdentifier")?;
    }
    if let Some(v) = body.get("additionalModelResponseFieldPaths") {
        for (i, path) in list(v, "additionalModelResponseFieldPaths")?
            .iter()
            .enumerate()
        {
            string(
                path,
                &format!("additionalModelResponseFieldPaths.{}.member", i + 1),
            )?;
        }
    }
    if let Some(v) = body.get("requestMetadata") {
        for (k, val) in object(v, "requestMetadata")? {
            string(val, &format!("requestMetadata.{k}"))?;
        }
    }
    if let Some(v) = body.get("performanceConfig") {
        let pc = object(v, "performanceConfig")?;
        known(pc, &["latency"], "performanceConfig")?;
        if let Some(l) = pc.get("latency") {
            one_of(l, &["standard", "optimized"], "performanceConfig.latency")?;
        }
    }
    if let Some(v) = body.get("serviceTier") {
        let st = object(v, "serviceTier")?;
        known(st, &["type"], "serviceTier")?;
        one_of(
            required(st, "type", "serviceTier")?,
            &["priority", "default", "flex", "reserved"],
            "serviceTier.type",
        )?;
    }
    Ok(())
}

/// Anthropic's `thinking` rules, which Bedrock reports as model errors.
fn validate_thinking(fields: &Map<String, Value>, body: &Map<String, Value>) -> Check {
    let Some(t) = fields.get("thinking") else {
        return Ok(());
    };
    let t = t
        .as_object()
        .ok_or_else(|| model_error("thinking: Input should be an object"))?;
    let kind = t.get("type").and_then(Value::as_str);
    match kind {
        Some("enabled") => {}
        Some("disabled" | "adaptive") => return Ok(()),
        _ => {
            return Err(model_error(
                "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'",
            ))
        }
    }
    let budget = t
        .get("budget_tokens")
        .and_then(Value::as_i64)
        .ok_or_else(|| model_error("thinking.enabled.budget_tokens: Field required"))?;
    if budget < 1024 {
        return Err(model_error(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ));
    }
    let max = body
        .get("inferenceConfig")
        .and_then(|c| c.get("maxTokens"))
        .and_then(Value::as_i64);
    if max.is_some_and(|m| m <= budget) {
        return Err(model_error("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"));
    }
    Ok(())
}

/// One message content block (`role` `user` or `assistant`, 0-based `i`,
/// `j`); returns the member it sets.
pub fn validate_block(
    b: &Value,
    role: &str,
    i: usize,
    j: usize,
    thinking: bool,
) -> Result<&'static str, String> {
    let p = format!("messages.{}.member.content.{}.member", i + 1, j + 1);
    let (kind, v) = union(b, CONTENT, &p)?;
    let kind = CONTENT
        .iter()
        .copied()
        .find(|c| *c == kind)
        .unwrap_or("text");
    let vp = join(&p, kind);
    let only = |allowed: &str| -> Check {
        if role == allowed {
            return Ok(());
        }
        Err(format!(
            "The {kind} block at messages.{i}.content.{j} is only allowed in {allowed} messages."
        ))
    };
    match kind {
        "text" => {
            if string(v, &vp)?.trim().is_empty() {
                return Err(format!("The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to the text field, and try again."));
            }
        }
        "image" => image(v, &vp)?,
        "document" => document(v, &vp)?,
        "cachePoint" => cache_point(v, &vp)?,
        "toolUse" => {
            only("assistant")?;
            tool_use(v, &vp)?;
        }
        "toolResult" => {
            only("user")?;
            tool_result(v, &vp)?;
        }
        "reasoningContent" => {
            only("assistant")?;
            reasoning(v, &vp, i, j, thinking)?;
        }
        _ => drop(object(v, &vp)?),
    }
    Ok(kind)
}

fn image(v: &Value, p: &str) -> Check {
    let obj = object(v, p)?;
    known(obj, &["format", "source", "error"], p)?;
    one_of(
        required(obj, "format", p)?,
        IMAGE_FORMATS,
        &join(p, "format"),
    )?;
    let sp = join(p, "source");
    match union(required(obj, "source", p)?, &["bytes", "s3Location"], &sp)? {
        ("bytes", b) => base64_blob(b, &join(&sp, "bytes")),
        (_, loc) => object(loc, &join(&sp, "s3Location")).map(|_| ()),
    }
}

fn document(v: &Value, p: &str) -> Check {
    let obj = object(v, p)?;
    known(
        obj,
        &["format", "name", "source", "context", "citations"],
        p,
    )?;
    if let Some(f) = obj.get("format") {
        one_of(f, DOC_FORMATS, &join(p, "format"))?;
    }
    let name = string(required(obj, "name", p)?, &join(p, "name"))?;
    if name.is_empty() || name.len() > 200 {
        return Err(constraint(
            &format!("'{name}'"),
            &join(p, "name"),
            "have length between 1 and 200",
        ));
    }
    let sp = join(p, "source");
    match union(
        required(obj, "source", p)?,
        &["bytes", "s3Location", "text", "content"],
        &sp,
    )? {
        ("bytes", b) => base64_blob(b, &join(&sp, "bytes")),
        ("text", t) => string(t, &join(&sp, "text")).map(|_| ()),
        ("content", c) => list(c, &join(&sp, "content")).map(|_| ()),
        (_, loc) => object(loc, &join(&sp, "s3Location")).map(|_| ()),
    }
}

fn tool_use(v: &Value, p: &str) -> Check {
    let obj = object(v, p)?;
    known(obj, &["toolUseId", "name", "input", "type"], p)?;
    pattern(required(obj, "toolUseId", p)?, &join(p, "toolUseId"), b".:")?;
    pattern(required(obj, "name", p)?, &join(p, "name"), b"")?;
    object(required(obj, "input", p)?, &join(p, "input")).map(|_| ())
}

fn tool_result(v: &Value, p: &str) -> Check {
    let obj = object(v, p)?;
    known(obj, &["toolUseId", "content", "status", "type"], p)?;
    pattern(required(obj, "toolUseId", p)?, &join(p, "toolUseId"), b".:")?;
    if let Some(s) = obj.get("status") {
        one_of(s, &["success", "error"], &join(p, "status"))?;
    }
    let cp = join(p, "content");
    for (k, c) in list(required(obj, "content", p)?, &cp)?.iter().enumerate() {
        let ep = format!("{cp}.{}.member", k + 1);
        match union(c, RESULT_CONTENT, &ep)? {
            ("text", t) => drop(string(t, &join(&ep, "text"))?),
            ("json", _) => {}
            ("image", i) => image(i, &join(&ep, "image"))?,
            ("document", d) => document(d, &join(&ep, "document"))?,
            (kind, o) => drop(object(o, &join(&ep, kind))?),
        }
    }
    Ok(())
}

/// A reasoning block from an earlier turn: its signature must be the one
/// the mock gave (required when thinking is on, as Anthropic requires).
fn reasoning(v: &Value, p: &str, i: usize, j: usize, thinking: bool) -> Check {
    match union(v, &["reasoningText", "redactedContent"], p)? {
        ("reasoningText", rt) => {
            let rp = join(p, "reasoningText");
            let obj = object(rt, &rp)?;
            known(obj, &["text", "signature"], &rp)?;
            let text = string(required(obj, "text", &rp)?, &join(&rp, "text"))?;
            match obj.get("signature") {
                Some(s) if string(s, &join(&rp, "signature"))? != signature(text) => {
                    Err(model_error(&format!(
                        "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                    )))
                }
                None if thinking => Err(model_error(&format!(
                    "messages.{i}.content.{j}.thinking.signature: Field required"
                ))),
                _ => Ok(()),
            }
        }
        (_, r) => base64_blob(r, &join(p, "redactedContent")),
    }
}

/// The tool use ids of a message's blocks (`toolUse` or `toolResult`).
pub fn ids<'a>(content: &'a [Value], kind: &str) -> Vec<&'a str> {
    content
        .iter()
        .filter_map(|b| b.get(kind))
        .filter_map(|t| t.get("toolUseId").and_then(Value::as_str))
        .collect()
}

/// The content blocks of a message value.
pub fn content_of(m: &Value) -> &[Value] {
    blocks(m.get("content"))
}
