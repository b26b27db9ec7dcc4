//! Validation of a `GenerateContentRequest` (everything but `contents`,
//! which is in `contents.rs`). `Err` is the INVALID_ARGUMENT message.

use serde_json::{Map, Value};

use super::contents;
use super::json::{
    boolean, camel, enumeration, field, integer, join, known, list, number, object, string,
    violation, Check,
};
use super::schema;

const REQUEST: &str = "GenerateContentRequest";

const FIELDS: &[&str] = &[
    "model",
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
];

const GENERATION_FIELDS: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "mediaResolution",
    "imageConfig",
];

const MIME_TYPES: &[&str] = &[
    "text/plain",
    "application/json",
    "application/xml",
    "application/yaml",
    "text/x.enum",
];

const TOOL_FIELDS: &[&str] = &[
    "functionDeclarations",
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "computerUse",
    "fileSearch",
    "googleMaps",
];

const DECLARATION_FIELDS: &[&str] = &[
    "name",
    "description",
    "behavior",
    "parameters",
    "parametersJsonSchema",
    "response",
    "responseJsonSchema",
];

const HARM_CATEGORIES: &[&str] = &[
    "HARM_CATEGORY_UNSPECIFIED",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
];

const THRESHOLDS: &[&str] = &[
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
];

fn bad(path: &str, message: &str) -> String {
    violation(REQUEST, path, message)
}

/// Validates a whole request for `model` (the name from the URL).
pub fn validate(body: &Map<String, Value>, model: &str) -> Check {
    known(body, FIELDS, "")?;
    if let Some(m) = field(body, "model") {
        string(m, "model")?;
    }
    if let Some(sys) = field(body, "systemInstruction") {
        contents::validate_content(sys, "system_instruction", true)?;
    }
    let names = validate_tools(field(body, "tools"))?;
    if let Some(tc) = field(body, "toolConfig") {
        validate_tool_config(tc, &names)?;
    }
    if let Some(ss) = field(body, "safetySettings") {
        validate_safety(ss)?;
    }
    if let Some(gc) = field(body, "generationConfig") {
        validate_generation(gc, model)?;
    }
    if let Some(cc) = field(body, "cachedContent") {
        if !string(cc, "cached_content")?.starts_with("cachedContents/") {
            return Err(bad(
                "cached_content",
                "cached_content must be of the form cachedContents/{id}",
            ));
        }
    }
    contents::validate_contents(field(body, "contents"), model)
}

fn validate_generation(v: &Value, model: &str) -> Check {
    let p = "generation_config";
    let gc = object(v, p, "GenerationConfig")?;
    known(gc, GENERATION_FIELDS, p)?;
    for (key, value) in gc {
        let key = camel(key);
        generation_field(&key, value, &join(p, &key), model)?;
    }
    let has = |k: &str| field(gc, k).is_some();
    if has("responseSchema") && has("responseJsonSchema") {
        return Err(bad(
            "generation_config.response_schema",
            "response_schema and response_json_schema cannot both be set",
        ));
    }
    let mime = field(gc, "responseMimeType").and_then(Value::as_str);
    if (has("responseSchema") || has("responseJsonSchema"))
        && !matches!(mime, Some("application/json") | Some("text/x.enum"))
    {
        return Err(bad(
            "generation_config.response_mime_type",
            "a response schema requires response_mime_type application/json or text/x.enum",
        ));
    }
    Ok(())
}

/// One `generationConfig` field (`key` in camelCase, at path `fp`).
fn generation_field(key: &str, value: &Value, fp: &str, model: &str) -> Check {
    match key {
        "stopSequences" => {
            let stops = list(value, fp, "TYPE_STRING")?;
            for (i, s) in stops.iter().enumerate() {
                string(s, &format!("{fp}[{i}]"))?;
            }
            if stops.len() > 5 {
                return Err(bad(fp, "the number of stop_sequences must not exceed 5"));
            }
        }
        "responseMimeType" if !MIME_TYPES.contains(&string(value, fp)?) => {
            return Err(bad(fp, "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`."));
        }
        "responseSchema" => schema::validate(value, fp)?,
        "responseJsonSchema" => object(value, fp, "Value").map(|_| ())?,
        "candidateCount" if integer(value, fp)? != 1 => {
            return Err(format!(
                "Multiple candidates is not enabled for models/{model}"
            ))
        }
        "maxOutputTokens" | "topK" if integer(value, fp)? < 1 => {
            let name = super::json::snake(key);
            return Err(bad(fp, &format!("{name} must be positive")));
        }
        "temperature" => range(value, fp, 0.0, 2.0)?,
        "topP" => range(value, fp, 0.0, 1.0)?,
        "presencePenalty" | "frequencyPenalty" => range(value, fp, -2.0, 2.0)?,
        "seed" | "logprobs" => integer(value, fp).map(|_| ())?,
        "responseLogprobs" | "enableEnhancedCivicAnswers" => boolean(value, fp).map(|_| ())?,
        "thinkingConfig" => validate_thinking(value, fp)?,
        "responseModalities" => {
            for (i, m) in list(value, fp, "Modality")?.iter().enumerate() {
                let modes = ["MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"];
                enumeration(m, &format!("{fp}[{i}]"), "Modality", &modes)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn range(v: &Value, path: &str, min: f64, max: f64) -> Check {
    let n = number(v, path)?;
    if !(min..=max).contains(&n) {
        let name = path.rsplit('.').next().unwrap_or(path);
        return Err(bad(
            path,
            &format!("{name} must be in the range [{min}, {max}]"),
        ));
    }
    Ok(())
}

fn validate_thinking(v: &Value, p: &str) -> Check {
    let tc = object(v, p, "ThinkingConfig")?;
    known(
        tc,
        &["includeThoughts", "thinkingBudget", "thinkingLevel"],
        p,
    )?;
    if let Some(b) = field(tc, "includeThoughts") {
        boolean(b, &join(p, "includeThoughts"))?;
    }
    if let Some(b) = field(tc, "thinkingBudget") {
        integer(b, &join(p, "thinkingBudget"))?;
    }
    if let Some(l) = field(tc, "thinkingLevel") {
        let levels = [
            "THINKING_LEVEL_UNSPECIFIED",
            "MINIMAL",
            "LOW",
            "MEDIUM",
            "HIGH",
        ];
        enumeration(l, &join(p, "thinkingLevel"), "ThinkingLevel", &levels)?;
        if field(tc, "thinkingBudget").is_some() {
            return Err("You can only set only one of thinking budget and thinking level.".into());
        }
    }
    Ok(())
}

fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name.len() <= 64 && chars.all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
}

fn validate_declaration(v: &Value, p: &str) -> Result<String, String> {
    let decl = object(v, p, "FunctionDeclaration")?;
    known(decl, DECLARATION_FIELDS, p)?;
    let name = match field(decl, "name") {
        None => return Err(bad(&join(p, "name"), "function name is required")),
        Some(n) => string(n, &join(p, "name"))?,
    };
    if !valid_function_name(name) {
        return Err(bad(&join(p, "name"), "Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64."));
    }
    if let Some(d) = field(decl, "description") {
        string(d, &join(p, "description"))?;
    }
    for key in ["parameters", "response"] {
        if let Some(s) = field(decl, key) {
            schema::validate(s, &join(p, key))?;
        }
    }
    for key in ["parametersJsonSchema", "responseJsonSchema"] {
        if let Some(s) = field(decl, key) {
            object(s, &join(p, key), "Value")?;
        }
    }
    if field(decl, "parameters").is_some() && field(decl, "parametersJsonSchema").is_some() {
        return Err(bad(
            &join(p, "parameters_json_schema"),
            "parameters_json_schema and parameters cannot both be set",
        ));
    }
    if let Some(b) = field(decl, "behavior") {
        let values = ["UNSPECIFIED", "BLOCKING", "NON_BLOCKING"];
        enumeration(
            b,
            &join(p, "behavior"),
            "FunctionDeclaration.Behavior",
            &values,
        )?;
    }
    Ok(name.to_string())
}

/// Validates `tools`; returns the declared function names.
fn validate_tools(tools: Option<&Value>) -> Result<Vec<String>, String> {
    let Some(tools) = tools else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = Vec::new();
    for (i, tool) in list(tools, "tools", "Tool")?.iter().enumerate() {
        let p = format!("tools[{i}]");
        let obj = object(tool, &p, "Tool")?;
        known(obj, TOOL_FIELDS, &p)?;
        let Some(decls) = field(obj, "functionDeclarations") else {
            continue;
        };
        let dp = join(&p, "functionDeclarations");
        for (j, d) in list(decls, &dp, "FunctionDeclaration")?.iter().enumerate() {
            let name = validate_declaration(d, &format!("{dp}[{j}]"))?;
            if names.contains(&name) {
                return Err(bad(
                    "tools",
                    &format!("Duplicate function declaration found: {name}"),
                ));
            }
            names.push(name);
        }
    }
    Ok(names)
}

fn validate_tool_config(v: &Value, names: &[String]) -> Check {
    let tc = object(v, "tool_config", "ToolConfig")?;
    known(
        tc,
        &["functionCallingConfig", "retrievalConfig"],
        "tool_config",
    )?;
    let Some(fc) = field(tc, "functionCallingConfig") else {
        return Ok(());
    };
    let p = "tool_config.function_calling_config";
    let fc = object(fc, p, "FunctionCallingConfig")?;
    known(fc, &["mode", "allowedFunctionNames"], p)?;
    let modes = ["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"];
    let mode = match field(fc, "mode") {
        Some(m) => enumeration(m, &join(p, "mode"), "FunctionCallingConfig.Mode", &modes)?,
        None => "AUTO",
    };
    let Some(allowed) = field(fc, "allowedFunctionNames") else {
        return Ok(());
    };
    let ap = join(p, "allowedFunctionNames");
    if !["ANY", "VALIDATED"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(mode))
    {
        return Err(bad(
            &ap,
            "allowed_function_names is only allowed when the mode is ANY or VALIDATED.",
        ));
    }
    for (i, n) in list(allowed, &ap, "TYPE_STRING")?.iter().enumerate() {
        let name = string(n, &format!("{ap}[{i}]"))?;
        if !names.iter().any(|d| d == name) {
            return Err(bad(
                &ap,
                &format!("function {name} is not declared in tools"),
            ));
        }
    }
    Ok(())
}

fn validate_safety(v: &Value) -> Check {
    for (i, s) in list(v, "safety_settings", "SafetySetting")?
        .iter()
        .enumerate()
    {
        let p = format!("safety_settings[{i}]");
        let obj = object(s, &p, "SafetySetting")?;
        known(obj, &["category", "threshold", "method"], &p)?;
        match field(obj, "category") {
            Some(c) => enumeration(c, &join(&p, "category"), "HarmCategory", HARM_CATEGORIES)?,
            None => return Err(bad(&join(&p, "category"), "category must be specified")),
        };
        match field(obj, "threshold") {
            Some(t) => enumeration(
                t,
                &join(&p, "threshold"),
                "SafetySetting.HarmBlockThreshold",
                THRESHOLDS,
            )?,
            None => return Err(bad(&join(&p, "threshold"), "threshold must be specified")),
        };
    }
    Ok(())
}
