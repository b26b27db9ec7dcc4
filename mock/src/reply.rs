//! Provider-neutral deterministic reply logic: text, tool calls, usage.

use serde_json::{Map, Value};

use crate::magic::{self, Directive};

/// What the last message of the conversation is.
#[derive(Debug, Clone, PartialEq)]
pub enum Last {
    /// A user message with (only) text content.
    UserText,
    /// A tool result; holds its content text.
    ToolResult(String),
    /// Anything else (assistant prefill, system, ...).
    Other,
}

/// How the caller restricted tool use.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    Named(String),
}

/// A tool definition: name plus JSON schema of its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub schema: Value,
}

/// Everything the reply logic needs, extracted from a validated request.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub model: String,
    pub last: Last,
    pub last_user_text: String,
    /// Words across all text of system prompt and messages.
    pub input_words: u64,
    pub tools: Vec<Tool>,
    pub tool_choice: ToolChoice,
    pub stops: Vec<String>,
    pub max_tokens: Option<u64>,
}

/// Why the text reply ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Stop,
    StopSequence(String),
    Length,
}

/// The generated answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Text { text: String, finish: Finish },
    ToolCall { name: String, arguments: String },
}

/// Token accounting (cached tokens are reported separately by each provider).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
}

const MAX_ECHO_CHARS: usize = 200;

/// The string value of an optional JSON value ("" when absent or not a string).
pub fn string_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").to_string()
}

/// Counts whitespace-separated words.
pub fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Splits text into words that keep their trailing whitespace, so that
/// concatenating the pieces gives back the text exactly.
pub fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut prev_ws = false;
    for (i, c) in text.char_indices() {
        let ws = c.is_whitespace();
        if prev_ws && !ws && i > start {
            pieces.push(&text[start..i]);
            start = i;
        }
        prev_ws = ws;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Splits text into pieces of about `n` bytes on UTF-8 boundaries.
pub fn byte_pieces(text: &str, n: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + n.max(1)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Keeps the first `n` words (and the whitespace between them).
fn first_words(text: &str, n: usize) -> String {
    let pieces = word_pieces(text);
    let kept: String = pieces.iter().take(n).copied().collect();
    kept.trim_end().to_string()
}

/// The user's own text: Claude Code wraps a prompt in
/// `<system-reminder>…</system-reminder>` text, which translating gateways
/// hand over as part of the user's text. It is left out of the echo unless
/// nothing else is there (as the Anthropic mock does for its blocks).
pub fn without_reminders(text: &str) -> String {
    let own = AGENT_CONTEXT
        .iter()
        .fold(text.to_string(), |t, (open, close)| cut(&t, open, close));
    let own = own.split_whitespace().collect::<Vec<_>>().join(" ");
    if own.is_empty() {
        text.to_string()
    } else {
        own
    }
}

/// Context the coding agents put beside the user's prompt: Claude Code's
/// reminders and Codex's environment description (which a translation to
/// a provider that merges consecutive user turns puts in the same turn).
pub const AGENT_CONTEXT: [(&str, &str); 2] = [
    ("<system-reminder>", "</system-reminder>"),
    ("<environment_context>", "</environment_context>"),
];

fn cut(text: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        match rest[start..].find(close) {
            Some(end) => rest = &rest[start + end + close.len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Computes the deterministic answer for a conversation.
pub fn compute(conv: &Conversation) -> Outcome {
    if conv.last == Last::UserText && conv.tool_choice != ToolChoice::None {
        match magic::directive(&conv.last_user_text) {
            Some(Directive::Call { name, arguments }) => {
                return directed_call(conv, name, arguments)
            }
            Some(Directive::Text) if conv.tool_choice == ToolChoice::Auto => {
                return echo(conv);
            }
            _ => {}
        }
        if let Some(tool) = pick_tool(conv) {
            return Outcome::ToolCall {
                name: tool.name.clone(),
                arguments: tool_arguments(&tool.schema),
            };
        }
    }
    match &conv.last {
        Last::ToolResult(content) => apply_limits(
            format!("Tool result received: {content}"),
            &conv.stops,
            conv.max_tokens,
        ),
        _ => echo(conv),
    }
}

/// The plain text answer: the last user text echoed back.
fn echo(conv: &Conversation) -> Outcome {
    let text = format!(
        "Mock reply ✓ from {}: {}",
        conv.model,
        truncate_chars(&conv.last_user_text, MAX_ECHO_CHARS)
    );
    apply_limits(text, &conv.stops, conv.max_tokens)
}

/// The tool call a `MOCK_CALL` directive asks for, or a text answer naming
/// what is wrong with it (undeclared tool, bad JSON).
fn directed_call(
    conv: &Conversation,
    name: &str,
    arguments: Option<Result<Value, String>>,
) -> Outcome {
    let problem = |why: String| Outcome::Text {
        text: format!("{}: {why}", crate::magic::CALL),
        finish: Finish::Stop,
    };
    let Some(tool) = conv.tools.iter().find(|t| t.name == name) else {
        return problem(format!("tool `{name}` is not declared"));
    };
    match arguments {
        None => Outcome::ToolCall {
            name: tool.name.clone(),
            arguments: tool_arguments(&tool.schema),
        },
        Some(Ok(args)) => Outcome::ToolCall {
            name: tool.name.clone(),
            arguments: args.to_string(),
        },
        Some(Err(why)) => problem(why),
    }
}

fn pick_tool(conv: &Conversation) -> Option<&Tool> {
    if let ToolChoice::Named(name) = &conv.tool_choice {
        if let Some(tool) = conv.tools.iter().find(|t| &t.name == name) {
            return Some(tool);
        }
    }
    conv.tools.first()
}

/// Applies stop sequences, then the max-token (word) limit.
pub fn apply_limits(mut text: String, stops: &[String], max_tokens: Option<u64>) -> Outcome {
    let mut finish = Finish::Stop;
    let earliest = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|pos| (pos, s)))
        .min_by_key(|(pos, _)| *pos);
    if let Some((pos, stop)) = earliest {
        let stop = stop.clone();
        text.truncate(pos);
        finish = Finish::StopSequence(stop);
    }
    if let Some(max) = max_tokens {
        if word_count(&text) > max {
            text = first_words(&text, usize::try_from(max).unwrap_or(usize::MAX));
            finish = Finish::Length;
        }
    }
    Outcome::Text { text, finish }
}

fn schema_type(prop: Option<&Value>) -> Option<&str> {
    match prop?.get("type")? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// Builds the JSON arguments for a tool call: every `required` property is set.
pub fn tool_arguments(schema: &Value) -> String {
    let mut args = Map::new();
    let props = schema.get("properties");
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let value = match schema_type(props.and_then(|p| p.get(name))) {
            Some("string") => Value::String(format!("mock-{name}")),
            Some("integer") | Some("number") => Value::from(1),
            Some("boolean") => Value::Bool(true),
            _ => Value::Null,
        };
        args.insert(name.to_string(), value);
    }
    Value::Object(args).to_string()
}

/// Usage for an outcome.
pub fn usage(conv: &Conversation, outcome: &Outcome, cached: u64) -> Usage {
    let output = match outcome {
        Outcome::Text { text, .. } => word_count(text),
        Outcome::ToolCall { arguments, .. } => arguments.len() as u64 / 4 + 1,
    };
    Usage {
        input: conv.input_words.max(1),
        output,
        cached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_are_left_out_of_the_echo() {
        let t = "<system-reminder>\nrules\n</system-reminder>\n say hi MOCK_TEXT";
        assert_eq!(without_reminders(t), "say hi MOCK_TEXT");
        assert_eq!(
            without_reminders("plain  text"),
            "plain  text"
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        let codex = "<environment_context>\n<cwd>/x</cwd>\n</environment_context> hello";
        assert_eq!(without_reminders(codex), "hello");
        let only = "<system-reminder>x</system-reminder>";
        assert_eq!(without_reminders(only), only);
    }
    use serde_json::json;

    fn conv() -> Conversation {
        Conversation {
            model: "m1".into(),
            last: Last::UserText,
            last_user_text: "hello there".into(),
            input_words: 2,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            stops: Vec::new(),
            max_tokens: None,
        }
    }

    fn text(o: &Outcome) -> (&str, &Finish) {
        match o {
            Outcome::Text { text, finish } => (text, finish),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn plain_reply_and_usage() {
        let c = conv();
        let o = compute(&c);
        assert_eq!(
            text(&o),
            ("Mock reply ✓ from m1: hello there", &Finish::Stop)
        );
        let u = usage(&c, &o, 3);
        assert_eq!((u.input, u.output, u.cached), (2, 7, 3));
    }

    #[test]
    fn echo_is_truncated_on_char_boundary() {
        let mut c = conv();
        c.last_user_text = "é".repeat(300);
        let o = compute(&c);
        let (t, _) = text(&o);
        assert!(t.ends_with(&"é".repeat(200)));
        assert!(!t.ends_with(&"é".repeat(201)));
    }

    #[test]
    fn stop_and_length() {
        let mut c = conv();
        c.stops = vec!["there".into(), "✓".into()];
        let o = compute(&c);
        assert_eq!(text(&o), ("Mock reply ", &Finish::StopSequence("✓".into())));
        c.stops.clear();
        c.max_tokens = Some(3);
        let o = compute(&c);
        assert_eq!(text(&o), ("Mock reply ✓", &Finish::Length));
    }

    #[test]
    fn tool_result_reply() {
        let mut c = conv();
        c.last = Last::ToolResult("42 degrees".into());
        c.tools = vec![Tool {
            name: "t".into(),
            schema: json!({}),
        }];
        let o = compute(&c);
        assert_eq!(
            text(&o),
            ("Tool result received: 42 degrees", &Finish::Stop)
        );
    }

    #[test]
    fn tool_call_arguments() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"}, "days": {"type": "integer"},
                "f": {"type": ["boolean", "null"]}, "o": {"type": "object"},
                "x": {"type": "number"}
            },
            "required": ["city", "days", "f", "o", "x"]
        });
        let mut c = conv();
        c.tools = vec![
            Tool {
                name: "first".into(),
                schema: json!({"type": "object"}),
            },
            Tool {
                name: "weather".into(),
                schema,
            },
        ];
        let o = compute(&c);
        assert_eq!(
            o,
            Outcome::ToolCall {
                name: "first".into(),
                arguments: "{}".into()
            }
        );
        c.tool_choice = ToolChoice::Named("weather".into());
        let o = compute(&c);
        let args = r#"{"city":"mock-city","days":1,"f":true,"o":null,"x":1}"#;
        assert_eq!(
            o,
            Outcome::ToolCall {
                name: "weather".into(),
                arguments: args.into()
            }
        );
        assert_eq!(usage(&c, &o, 0).output, args.len() as u64 / 4 + 1);
        c.tool_choice = ToolChoice::None;
        assert!(matches!(compute(&c), Outcome::Text { .. }));
    }

    fn two_tools() -> Conversation {
        let mut c = conv();
        c.tools = vec![
            Tool {
                name: "first".into(),
                schema: json!({"type": "object"}),
            },
            Tool {
                name: "Read".into(),
                schema: json!({"type": "object", "properties": {"p": {"type": "string"}}, "required": ["p"]}),
            },
        ];
        c
    }

    #[test]
    fn mock_call_directive() {
        let mut c = two_tools();
        c.last_user_text =
            "<system-reminder>x</system-reminder> read it MOCK_CALL Read {\"p\": \"/tmp/a b\"} then stop"
                .into();
        let o = compute(&c);
        let Outcome::ToolCall { name, arguments } = o else {
            panic!("not a call: {o:?}")
        };
        assert_eq!(name, "Read");
        let args: Value = serde_json::from_str(&arguments).unwrap();
        assert_eq!(args, json!({"p": "/tmp/a b"}));
        c.last_user_text = "MOCK_CALL Read".into();
        let o = compute(&c);
        assert_eq!(
            o,
            Outcome::ToolCall {
                name: "Read".into(),
                arguments: r#"{"p":"mock-p"}"#.into()
            }
        );
        c.last_user_text = "MOCK_CALL Nope {}".into();
        let o = compute(&c);
        assert_eq!(text(&o).0, "MOCK_CALL: tool `Nope` is not declared");
        c.last_user_text = "MOCK_CALL Read {\"p\": ".into();
        let o = compute(&c);
        assert!(text(&o)
            .0
            .starts_with("MOCK_CALL: arguments are not valid JSON"));
        c.last_user_text = "MOCK_CALLX Read".into();
        assert!(matches!(compute(&c), Outcome::ToolCall { name, .. } if name == "first"));
        c.last = Last::ToolResult("done".into());
        c.last_user_text = "MOCK_CALL Read".into();
        assert_eq!(text(&compute(&c)).0, "Tool result received: done");
    }

    #[test]
    fn mock_text_directive() {
        let mut c = two_tools();
        c.last_user_text = "just talk MOCK_TEXT".into();
        assert_eq!(
            text(&compute(&c)).0,
            "Mock reply ✓ from m1: just talk MOCK_TEXT"
        );
        c.tool_choice = ToolChoice::Named("Read".into());
        assert!(matches!(compute(&c), Outcome::ToolCall { name, .. } if name == "Read"));
    }

    #[test]
    fn pieces_concatenate() {
        let s = "Mock  reply ✓\nfrom x: a";
        let p = word_pieces(s);
        assert_eq!(p, vec!["Mock  ", "reply ", "✓\n", "from ", "x: ", "a"]);
        assert_eq!(p.concat(), s);
        let b = byte_pieces("ab✓cdefgh", 3);
        assert_eq!(b.concat(), "ab✓cdefgh");
        assert_eq!(b[0], "ab✓");
        assert!(word_pieces("").is_empty());
    }
}
