//! Provider-neutral summaries of what the client got, read from the OpenAI
//! JSON, and the expectations they are compared with.

use std::collections::HashSet;

use modelmux_core::usage::Usage;
use serde_json::Value;

use crate::sse;
use crate::support::Check;

/// Token counts as the client sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Tokens {
    pub fn new(prompt: u64, completion: u64) -> Self {
        Tokens {
            prompt,
            completion,
            ..Tokens::default()
        }
    }
    pub fn cached(self, cached: u64) -> Self {
        Tokens { cached, ..self }
    }
    pub fn reasoning(self, reasoning: u64) -> Self {
        Tokens { reasoning, ..self }
    }
    /// As the provider can report it.
    pub fn for_provider(self, reasoning_tokens: bool) -> Self {
        if reasoning_tokens {
            self
        } else {
            self.reasoning(0)
        }
    }
    pub fn of_usage(u: &Usage) -> Self {
        Tokens {
            prompt: u.input,
            completion: u.output,
            cached: u.cache_read,
            reasoning: u.reasoning,
        }
    }
    /// An OpenAI `usage` object; checks `total_tokens` on the way.
    pub fn of_json(u: &Value) -> Result<Self, String> {
        let n = |v: &Value| v.as_u64();
        let t = Tokens {
            prompt: n(&u["prompt_tokens"]).ok_or(format!("no prompt_tokens in {u}"))?,
            completion: n(&u["completion_tokens"]).ok_or(format!("no completion_tokens in {u}"))?,
            cached: n(&u["prompt_tokens_details"]["cached_tokens"]).unwrap_or(0),
            reasoning: n(&u["completion_tokens_details"]["reasoning_tokens"]).unwrap_or(0),
        };
        ensure_eq!(
            u["total_tokens"].as_u64(),
            Some(t.prompt + t.completion),
            "total_tokens of {u}"
        );
        Ok(t)
    }
}

/// A tool call: name and parsed arguments.
pub type Call = (&'static str, Value);

/// The expected `chat.completion`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyWant {
    /// `""` means no text (`content` null or empty).
    pub text: &'static str,
    pub reasoning: &'static str,
    pub tools: Vec<Call>,
    pub finish: &'static str,
    /// The choices after the first (`n` > 1), by index from 1.
    pub more: Vec<ChoiceWant>,
    pub usage: Tokens,
}

impl Default for ReplyWant {
    fn default() -> Self {
        ReplyWant {
            text: "",
            reasoning: "",
            tools: Vec::new(),
            finish: "stop",
            more: Vec::new(),
            usage: Tokens::default(),
        }
    }
}

/// A further choice of the expected `chat.completion`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceWant {
    /// `""` means no text (`content` null or empty).
    pub text: &'static str,
    pub reasoning: &'static str,
    pub tools: Vec<Call>,
    pub finish: &'static str,
}

impl Default for ChoiceWant {
    fn default() -> Self {
        ChoiceWant {
            text: "",
            reasoning: "",
            tools: Vec::new(),
            finish: "stop",
        }
    }
}

/// How a stream must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum End {
    /// Finish reason, usage chunk if asked, `[DONE]`; no failure.
    #[default]
    Done,
    /// An OpenAI error event of this `type`, last; no `[DONE]`; failure
    /// `Cause::ErrorEvent`.
    Error(&'static str),
    /// No `[DONE]`, a closing `server_error` event; failure `Cause::Truncated`.
    Truncated,
}

/// The expected chunks of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamWant {
    pub text: &'static str,
    pub reasoning: &'static str,
    pub tools: Vec<Call>,
    pub finish: Option<&'static str>,
    /// Checked when the stream completes; `None` for broken streams.
    pub usage: Option<Tokens>,
    pub end: End,
}

impl Default for StreamWant {
    fn default() -> Self {
        StreamWant {
            text: "",
            reasoning: "",
            tools: Vec::new(),
            finish: Some("stop"),
            usage: None,
            end: End::Done,
        }
    }
}

/// Tool calls as read back: ids must be non-empty and unique.
pub fn check_calls(calls: &[(String, String, String)], want: &[Call]) -> Check {
    let mut ids = HashSet::new();
    for (id, _, _) in calls {
        ensure!(!id.is_empty(), "a tool call has an empty id: {calls:?}");
        ensure!(ids.insert(id), "tool call id {id} is not unique: {calls:?}");
    }
    let mut got = Vec::new();
    for (_, name, args) in calls {
        let parsed: Value = serde_json::from_str(args)
            .map_err(|e| format!("tool call arguments {args:?} are not JSON: {e}"))?;
        got.push((name.as_str(), parsed));
    }
    let want: Vec<(&str, Value)> = want.iter().map(|(n, a)| (*n, a.clone())).collect();
    ensure_eq!(got, want, "tool calls (name, arguments)");
    Ok(())
}

/// Compares a `chat.completion` with the expectation: its choices in
/// index order 0, 1, ...
pub fn check_reply(v: &Value, want: &ReplyWant) -> Check {
    ensure_eq!(v["object"], "chat.completion", "object of {v}");
    let choices = v["choices"].as_array().ok_or(format!("no choices: {v}"))?;
    ensure_eq!(choices.len(), 1 + want.more.len(), "number of choices");
    let first = ChoiceWant {
        text: want.text,
        reasoning: want.reasoning,
        tools: want.tools.clone(),
        finish: want.finish,
    };
    for (i, (choice, want)) in choices
        .iter()
        .zip(std::iter::once(&first).chain(&want.more))
        .enumerate()
    {
        ensure_eq!(choice["index"], i, "index of choice {i}");
        check_choice(choice, want).map_err(|e| format!("choice {i}: {e}"))?;
    }
    ensure_eq!(Tokens::of_json(&v["usage"])?, want.usage, "usage");
    Ok(())
}

fn check_choice(choice: &Value, want: &ChoiceWant) -> Check {
    let msg = &choice["message"];
    ensure_eq!(msg["role"], "assistant", "message.role");
    let text = match &msg["content"] {
        Value::Null => "",
        Value::String(s) => s,
        other => return Err(format!("content is neither null nor a string: {other}")),
    };
    ensure_eq!(text, want.text, "message.content");
    ensure_eq!(
        msg["reasoning_content"].as_str().unwrap_or(""),
        want.reasoning,
        "message.reasoning_content"
    );
    let mut calls = Vec::new();
    for c in msg["tool_calls"].as_array().into_iter().flatten() {
        ensure_eq!(c["type"], "function", "tool call type in {c}");
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        calls.push((
            s(&c["id"]),
            s(&c["function"]["name"]),
            s(&c["function"]["arguments"]),
        ));
    }
    check_calls(&calls, &want.tools)?;
    ensure_eq!(choice["finish_reason"], want.finish, "finish_reason");
    Ok(())
}

/// What a client reads from a chunk stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamSummary {
    pub text: String,
    pub reasoning: String,
    /// (id, name, arguments) by index.
    pub calls: Vec<(String, String, String)>,
    pub finishes: Vec<String>,
    pub usage_chunks: Vec<Tokens>,
    /// The `error` object of a final error event.
    pub error: Option<Value>,
    pub done: bool,
}

/// Reads OpenAI chunks, checking the framing invariants on the way:
/// nothing after `[DONE]` or an error event, one id, usage-only chunks
/// have `choices: []`, `usage` appears only when the client asked. A chunk
/// with `choices: []` and no usage carries nothing and is skipped.
pub fn read_stream(out: &[u8], include_usage: bool) -> Result<StreamSummary, String> {
    let mut s = StreamSummary::default();
    let mut ids = HashSet::new();
    for data in sse::data_events(out)? {
        ensure!(
            !s.done && s.error.is_none(),
            "an event after [DONE] or an error: {data}"
        );
        if data == "[DONE]" {
            s.done = true;
            continue;
        }
        let c: Value =
            serde_json::from_str(&data).map_err(|e| format!("event {data:?} is not JSON: {e}"))?;
        if let Some(e) = c.get("error") {
            s.error = Some(e.clone());
            continue;
        }
        let usage = c.get("usage").filter(|u| !u.is_null());
        if c["choices"] == serde_json::json!([]) && usage.is_none() {
            // Nothing for the client (Azure's `prompt_filter_results`
            // chunk, with empty `id` and `object`).
            continue;
        }
        ensure_eq!(c["object"], "chat.completion.chunk", "object of {c}");
        ids.insert(c["id"].as_str().unwrap_or_default().to_string());
        if let Some(u) = usage {
            ensure!(include_usage, "usage chunk the client did not ask for: {c}");
            ensure_eq!(
                c["choices"],
                serde_json::json!([]),
                "choices of usage chunk"
            );
            s.usage_chunks.push(Tokens::of_json(u)?);
            continue;
        }
        for choice in c["choices"].as_array().into_iter().flatten() {
            read_choice(&mut s, choice)?;
        }
    }
    ensure!(ids.len() <= 1, "chunks carry different ids: {ids:?}");
    Ok(s)
}

fn read_choice(s: &mut StreamSummary, choice: &Value) -> Check {
    ensure_eq!(choice["index"], 0, "choice index");
    let d = &choice["delta"];
    s.text.push_str(d["content"].as_str().unwrap_or(""));
    s.reasoning
        .push_str(d["reasoning_content"].as_str().unwrap_or(""));
    for t in d["tool_calls"].as_array().into_iter().flatten() {
        let i = t["index"]
            .as_u64()
            .ok_or(format!("tool delta without index: {t}"))? as usize;
        let args = t["function"]["arguments"].as_str().unwrap_or("");
        if i == s.calls.len() {
            let id = t["id"]
                .as_str()
                .ok_or(format!("first delta of call {i} has no id"))?;
            let name = t["function"]["name"]
                .as_str()
                .ok_or(format!("first delta of call {i} has no name"))?;
            s.calls
                .push((id.to_string(), name.to_string(), args.to_string()));
        } else {
            let call = s
                .calls
                .get_mut(i)
                .ok_or(format!("tool delta for index {i} skips an index: {t}"))?;
            call.2.push_str(args);
        }
    }
    if let Some(f) = choice["finish_reason"].as_str() {
        s.finishes.push(f.to_string());
    }
    Ok(())
}

/// Compares a stream summary with the expectation (usage is checked by
/// the runner, which also knows the `Outcome`).
pub fn check_stream(s: &StreamSummary, want: &StreamWant) -> Check {
    ensure_eq!(s.text, want.text, "streamed content");
    ensure_eq!(s.reasoning, want.reasoning, "streamed reasoning_content");
    check_calls(&s.calls, &want.tools)?;
    let want_finish: Vec<&str> = want.finish.into_iter().collect();
    ensure_eq!(s.finishes, want_finish, "finish_reason chunks");
    match want.end {
        End::Done => {
            ensure!(s.done, "no [DONE]");
            ensure!(s.error.is_none(), "unexpected error event {:?}", s.error);
        }
        End::Error(kind) => {
            ensure!(!s.done, "[DONE] after an error");
            let e = s.error.as_ref().ok_or("no error event at the end")?;
            ensure_eq!(e["type"], kind, "error event type");
            ensure!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "error event without a message: {e}"
            );
        }
        End::Truncated => {
            ensure!(!s.done, "[DONE] on a truncated stream");
            // A stream that just stops looks complete to most clients.
            let e = s
                .error
                .as_ref()
                .ok_or("no error event closing a truncated stream")?;
            ensure_eq!(e["type"], "server_error", "truncation error type");
        }
    }
    Ok(())
}
