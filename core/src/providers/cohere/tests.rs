//! Unit tests of the Cohere provider: request translation, whole replies,
//! errors, embeddings and options.

use serde_json::{json, Value};

use crate::config::Provider;
use crate::error::ApiError;
use crate::openai::embeddings::parse_embeddings_request;
use crate::providers::{BodyEdit, BodyMode, EmbedRequest, Outbound, TargetCtx, Translator};

fn provider() -> Provider {
    Provider::new("co", "cohere", "api.cohere.com").with_key("co-test")
}

fn ctx(p: &Provider) -> TargetCtx<'_> {
    TargetCtx {
        provider: p,
        model: "command-a-03-2025",
        public_model: "smart",
        now_unix_secs: 1_700_000_000,
        tokens: &crate::providers::auth::NoTokens,
    }
}

fn start(body: &Value) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    crate::providers::chat_body(&serde_json::to_vec(body).unwrap(), ctx(&p))
}

fn upstream(body: Value) -> Value {
    let (_, out) = start(&body).unwrap();
    serde_json::from_slice(&out.body.unwrap()).unwrap()
}

fn rejected(body: Value) -> ApiError {
    let e = start(&body).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    e
}

fn with(extra: Value) -> Value {
    let mut body = json!({"model": "smart", "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// A non-streamed exchange: the client's status (when changed) and body.
fn exchange(status: u16, upstream_body: &[u8]) -> (Box<dyn Translator>, Option<u16>, Value) {
    let (mut chat, _) = start(&with(json!({}))).unwrap();
    let edit = chat.response_headers(status, &|_| None);
    assert_eq!(edit.mode, BodyMode::Buffer);
    let (client_status, bytes) = match chat.response_body(upstream_body, true) {
        BodyEdit::Replace(b) => (edit.status, b),
        BodyEdit::Fail { status, body } => (Some(status), body),
        BodyEdit::Keep => panic!("body kept"),
    };
    (chat, client_status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn path_auth_and_sampling_parameters() {
    let (_, out) = start(&with(json!({
        "max_completion_tokens": 64, "max_tokens": 9, "temperature": 0.2, "top_p": 0.5,
        "stop": ["END", ""], "seed": 7, "frequency_penalty": 0.1, "presence_penalty": 0.3,
        "top_k": 40, "user": "u1", "stream": true
    })))
    .unwrap();
    assert_eq!(out.path, "/v2/chat");
    assert!(out
        .headers
        .contains(&("authorization", "Bearer co-test".to_string())));
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"model": "command-a-03-2025",
               "messages": [{"role": "user", "content": "hi"}],
               "max_tokens": 64, "temperature": 0.2, "p": 0.5, "stop_sequences": ["END"],
               "seed": 7, "frequency_penalty": 0.1, "presence_penalty": 0.3, "k": 40,
               "stream": true})
    );
}

#[test]
fn roles_tools_and_tool_results() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "English."}]},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18C"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "noon"}]},
        {"role": "assistant", "content": "18C at noon."}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "strict": true,
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                  {"type": "function", "function": {"name": "get_time", "description": "Now."}}],
        "tool_choice": "required"}));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "English."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_plan": "Let me check.", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "18C"},
            {"role": "tool", "tool_call_id": "c2", "content": "noon"},
            {"role": "assistant", "content": "18C at noon."}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time", "description": "Now.",
             "parameters": {"type": "object", "properties": {}}}}
        ])
    );
    assert_eq!(body["tool_choice"], "REQUIRED");
    assert_eq!(body["strict_tools"], true);
}

#[test]
fn reasoning_content_goes_back_as_the_tool_plan() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "Calling.", "reasoning_content": "I will look it up.",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"}]}));
    assert_eq!(body["messages"][1]["tool_plan"], "I will look it up.");
    assert_eq!(body["messages"][1]["content"], "Calling.");
}

#[test]
fn images_system_only_and_tool_choice_modes() {
    let body = upstream(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}]}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([{"type": "text", "text": "What is it?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}])
    );
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "system", "content": "A"}, {"role": "developer", "content": "B"}]}));
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "A\n\nB"}])
    );
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let auto = upstream(with(json!({"tools": tools, "tool_choice": "auto"})));
    assert!(auto.get("tool_choice").is_none(), "{auto}");
    let none = upstream(with(json!({"tools": tools, "tool_choice": "none"})));
    assert_eq!(none["tool_choice"], "NONE");
    let e = rejected(with(json!({"tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "f"}}})));
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
}

#[test]
fn response_format_and_reasoning_effort() {
    let b = upstream(with(json!({"response_format": {"type": "json_object"}})));
    assert_eq!(b["response_format"], json!({"type": "json_object"}));
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let b = upstream(with(json!({"response_format": {"type": "json_schema",
        "json_schema": {"name": "x", "schema": schema}}})));
    assert_eq!(
        b["response_format"],
        json!({"type": "json_object", "json_schema": schema})
    );
    let b = upstream(with(json!({"response_format": {"type": "text"}})));
    assert!(b.get("response_format").is_none());
    let b = upstream(with(json!({"reasoning_effort": "low"})));
    assert_eq!(
        b["thinking"],
        json!({"type": "enabled", "token_budget": 1024})
    );
    let b = upstream(with(json!({"reasoning_effort": "none"})));
    assert_eq!(b["thinking"], json!({"type": "disabled"}));
    let e = rejected(with(json!({"reasoning_effort": "max"})));
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
}

#[test]
fn unhonourable_parameters_are_refused_by_name() {
    let cases = [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"top_logprobs": 2}), "top_logprobs"),
        (json!({"logit_bias": {"1": 2}}), "logit_bias"),
        (json!({"bogus": 1}), "bogus"),
        (json!({"max_tokens": 0}), "max_tokens"),
        (json!({"top_k": -1}), "top_k"),
        (
            json!({"tools": [{"type": "function", "function": {"name": "f"}}],
                "parallel_tool_calls": false}),
            "parallel_tool_calls",
        ),
    ];
    for (extra, param) in cases {
        let e = rejected(with(extra.clone()));
        assert_eq!(e.param.as_deref(), Some(param), "{extra}");
    }
    let e = rejected(json!({"model": "smart", "messages": [
        {"role": "user", "content": "x"}, {"role": "tool", "content": "r"}]}));
    assert_eq!(e.param.as_deref(), Some("messages[1].tool_call_id"));
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].type"));
}

#[test]
fn whole_reply_with_plan_thinking_calls_and_usage() {
    let native = json!({"id": "r1", "finish_reason": "TOOL_CALL", "message": {"role": "assistant",
        "content": [{"type": "thinking", "thinking": "Hmm."}, {"type": "text", "text": "Checking."}],
        "tool_plan": " I need the weather.",
        "tool_calls": [{"id": "get_weather_0", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 6},
                  "tokens": {"input_tokens": 50.0, "output_tokens": 16.0}, "cached_tokens": 32},
        "extra": true});
    let (chat, status, body) = exchange(200, native.to_string().as_bytes());
    assert_eq!(status, None);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Checking.");
    assert_eq!(
        choice["message"]["reasoning_content"],
        "Hmm. I need the weather."
    );
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "get_weather_0", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert_eq!(body["usage"]["prompt_tokens"], 50);
    assert_eq!(body["usage"]["completion_tokens"], 16);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 32);
    assert_eq!(chat.usage().input, 50);
}

#[test]
fn finish_reasons_and_billed_units_fallback() {
    let reply = |reason: &str| {
        json!({"id": "r", "finish_reason": reason,
               "message": {"role": "assistant", "content": [{"type": "text", "text": "t"}]},
               "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}}})
        .to_string()
    };
    for (reason, want) in [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("SOMETHING_NEW", "stop"),
    ] {
        let (chat, status, body) = exchange(200, reply(reason).as_bytes());
        assert_eq!(status, None, "{reason}");
        assert_eq!(body["choices"][0]["finish_reason"], want, "{reason}");
        assert_eq!((chat.usage().input, chat.usage().output), (3, 1));
    }
    for (reason, want) in [("ERROR", 502), ("TIMEOUT", 504)] {
        let (chat, status, body) = exchange(200, reply(reason).as_bytes());
        assert_eq!(status, Some(want), "{reason}: {body}");
        assert_eq!(body["error"]["type"], "server_error");
        assert!(chat.failed());
    }
    let (_, status, _) = exchange(200, br#"{"id":"x","finish_reason":"COMPLETE"}"#);
    assert_eq!(status, Some(502));
}

#[test]
fn errors_keep_status_and_message() {
    let (chat, status, body) = exchange(429, br#"{"id":"e1","message":"trial key rate limit"}"#);
    assert_eq!(status, None);
    assert_eq!(
        body,
        json!({"error": {"message": "trial key rate limit", "type": "rate_limit_error",
                         "param": null, "code": null}})
    );
    assert_eq!(chat.outcome().failure.map(|f| f.status), Some(429));
    let (chat, status, body) = exchange(498, br#"{"message":"invalid api token"}"#);
    assert_eq!(status, Some(401));
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(chat.outcome().failure.map(|f| f.status), Some(401));
    let (_, _, body) = exchange(502, b"<html>bad gateway</html>");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("bad gateway"));
}

fn embed(body: &Value, p: &Provider) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let bytes = serde_json::to_vec(body).unwrap();
    let req = parse_embeddings_request(&bytes)?;
    let input = EmbedRequest { body: &bytes, req };
    let mut c = ctx(p);
    c.model = "embed-v4.0";
    crate::providers::embeddings(&input, c)
}

fn embed_answer(chat: &mut Box<dyn Translator>, status: u16, body: &[u8]) -> Value {
    chat.response_headers(status, &|_| None);
    assert_eq!(
        chat.response_body(body, false),
        BodyEdit::Replace(Vec::new())
    );
    match chat.response_body(b"", true) {
        BodyEdit::Replace(b) | BodyEdit::Fail { body: b, .. } => {
            serde_json::from_slice(&b).unwrap()
        }
        BodyEdit::Keep => panic!("kept"),
    }
}

#[test]
fn embeddings_request_and_response() {
    let p = provider();
    let (mut chat, out) = embed(
        &json!({"model": "e", "input": ["a", "b"], "dimensions": 256, "encoding_format": "base64"}),
        &p,
    )
    .unwrap();
    assert_eq!(out.path, "/v2/embed");
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"model": "embed-v4.0", "texts": ["a", "b"], "input_type": "search_document",
               "embedding_types": ["float"], "output_dimension": 256})
    );
    let native = json!({"id": "e1", "embeddings": {"float": [[1.0], [0.5]]}, "texts": ["a", "b"],
                        "meta": {"billed_units": {"input_tokens": 2}}, "response_type": "embeddings_by_type"});
    let got = embed_answer(&mut chat, 200, native.to_string().as_bytes());
    assert_eq!(got["data"][0]["embedding"], "AACAPw==");
    assert_eq!(got["data"][1]["index"], 1);
    assert_eq!(got["usage"], json!({"prompt_tokens": 2, "total_tokens": 2}));
    assert_eq!(chat.usage().input, 2);

    let (mut chat, _) = embed(&json!({"model": "e", "input": "a"}), &p).unwrap();
    let short = json!({"id": "e1", "embeddings": {"float": []}});
    let got = embed_answer(&mut chat, 200, short.to_string().as_bytes());
    assert_eq!(got["error"]["type"], "server_error");
    assert!(chat.failed());
    let e = embed(&json!({"model": "e", "input": [1, 2]}), &p).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("input"));
}

#[test]
fn embed_input_type_option() {
    let opts = crate::providers::Options::parse(
        "cohere",
        json!({"embed_input_type": "search_query"}),
        "$.providers[0]",
    )
    .unwrap();
    let mut p = provider();
    p.options = opts;
    let (_, out) = embed(&json!({"model": "e", "input": "q"}), &p).unwrap();
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(body["input_type"], "search_query");
    for bad in [json!({"embed_input_type": "image"}), json!({"region": "x"})] {
        let e =
            crate::providers::Options::parse("cohere", bad.clone(), "$.providers[0]").unwrap_err();
        let text = format!("{e:?}");
        assert!(text.contains("$.providers[0]"), "{bad}: {text}");
    }
}
