//! Validation of `toolConfig`: tool specs (names unique, `[a-zA-Z0-9_-]`,
//! `inputSchema.json` an object) and `toolChoice` (`auto`, `any`, or
//! `tool` naming a declared tool).

use serde_json::Value;

use super::validate::{cache_point, join, known, list, object, pattern, required, string, union};

/// Validates `toolConfig`; returns the declared tool names.
pub fn validate_tool_config(v: &Value) -> Result<Vec<String>, String> {
    let p = "toolConfig";
    let tc = object(v, p)?;
    known(tc, &["tools", "toolChoice"], p)?;
    let tools = list(required(tc, "tools", p)?, "toolConfig.tools")?;
    if tools.is_empty() {
        return Err(super::validate::constraint(
            "'[]'",
            "toolConfig.tools",
            "have length greater than or equal to 1",
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let tp = format!("toolConfig.tools.{}.member", i + 1);
        match union(t, &["toolSpec", "systemTool", "cachePoint"], &tp)? {
            ("toolSpec", spec) => {
                let name = tool_spec(spec, &join(&tp, "toolSpec"))?;
                if names.contains(&name) {
                    return Err(format!(
                        "The toolConfig field contains duplicate tool names: {name}."
                    ));
                }
                names.push(name);
            }
            ("cachePoint", c) => cache_point(c, &join(&tp, "cachePoint"))?,
            (_, s) => drop(object(s, &join(&tp, "systemTool"))?),
        }
    }
    if let Some(choice) = tc.get("toolChoice") {
        tool_choice(choice, &names)?;
    }
    Ok(names)
}

fn tool_spec(v: &Value, p: &str) -> Result<String, String> {
    let spec = object(v, p)?;
    known(spec, &["name", "description", "inputSchema", "strict"], p)?;
    let name = required(spec, "name", p)?;
    pattern(name, &join(p, "name"), b"")?;
    if let Some(d) = spec.get("description") {
        if string(d, &join(p, "description"))?.is_empty() {
            return Err(super::validate::constraint(
                "''",
                &join(p, "description"),
                "have length greater than or equal to 1",
            ));
        }
    }
    let sp = join(p, "inputSchema");
    let (_, schema) = union(required(spec, "inputSchema", p)?, &["json"], &sp)?;
    object(schema, &join(&sp, "json"))?;
    if let Some(s) = spec.get("strict") {
        s.as_bool()
            .ok_or_else(|| super::validate::malformed("expected a boolean", &join(p, "strict")))?;
    }
    Ok(string(name, p)?.to_string())
}

fn tool_choice(v: &Value, names: &[String]) -> Result<(), String> {
    let p = "toolConfig.toolChoice";
    match union(v, &["auto", "any", "tool"], p)? {
        ("tool", t) => {
            let tp = join(p, "tool");
            let obj = object(t, &tp)?;
            known(obj, &["name"], &tp)?;
            let name = required(obj, "name", &tp)?;
            pattern(name, &join(&tp, "name"), b"")?;
            let name = string(name, &tp)?;
            if !names.iter().any(|n| n == name) {
                return Err(format!(
                    "The tool {name} specified in toolChoice is not defined in toolConfig.tools."
                ));
            }
            Ok(())
        }
        (kind, o) => known(object(o, &join(p, kind))?, &[], &join(p, kind)),
    }
}
