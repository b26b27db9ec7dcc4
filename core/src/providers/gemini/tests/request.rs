use serde_json::{json, Value};

use super::{rejected, start, start_model, upstream, with};

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn text(t: &str) -> Value {
    json!({"text": t})
}

#[test]
fn minimal_request_path_headers_and_body() {
    let (chat, out) = start(&with(json!({}))).unwrap();
    assert_eq!(out.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(
        out.headers,
        vec![
            ("content-type", "application/json".to_string()),
            ("x-goog-api-key", "AIza-test".to_string()),
        ]
    );
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    );
    assert!(!chat.failed());
}

#[test]
fn stream_path_and_models_prefix() {
    let (_, out) = start_model(&with(json!({"stream": true})), "models/gemini-2.0-flash").unwrap();
    assert_eq!(
        out.path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert!(body.get("stream").is_none(), "{body}");
}

#[test]
fn system_and_developer_go_to_system_instruction() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "system", "content": "be brief"},
        user("hi"),
        {"role": "developer", "content": [{"type": "text", "text": "use metric"}, {"type": "text", "text": ""}]},
        {"role": "assistant", "content": "hello"},
    ]}));
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [text("be brief"), text("use metric")]})
    );
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [text("hi")]},
            {"role": "model", "parts": [text("hello")]},
        ])
    );
}

#[test]
fn only_system_messages_become_the_user_turn() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "system", "content": "Say hello."},
        {"role": "developer", "content": "In French."},
    ]}));
    assert_eq!(
        body,
        json!({"contents": [{"role": "user", "parts": [text("Say hello."), text("In French.")]}]})
    );
}

#[test]
fn nothing_but_empty_content_is_refused() {
    let e = rejected(json!({"model": "smart", "messages": [user("")]}));
    assert_eq!(e.param.as_deref(), Some("messages"));
}

#[test]
fn consecutive_same_role_turns_merge_and_empty_text_is_dropped() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("a"), {"role": "system", "content": "s"}, user("b"),
        {"role": "assistant", "content": "c"}, {"role": "assistant", "content": [{"type": "text", "text": "d"}]},
        user(""), user("e"),
    ]}));
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [text("a"), text("b")]},
            {"role": "model", "parts": [text("c"), text("d")]},
            {"role": "user", "parts": [text("e")]},
        ])
    );
}

fn tool_conversation() -> Value {
    json!({"model": "smart", "messages": [
        user("weather in Paris and Oslo?"),
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
             "extra_content": {"google": {"thought_signature": "c2lnLWE="}}},
            {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        ]},
        {"role": "tool", "tool_call_id": "call_b", "content": "12:00"},
        {"role": "tool", "tool_call_id": "call_a", "content": "{\"temp\": 21, \"unit\": \"C\"}"},
        user("thanks"),
    ]})
}

#[test]
fn tool_calls_and_results_map_to_function_parts() {
    let body = upstream(tool_conversation());
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [text("weather in Paris and Oslo?")]},
            {"role": "model", "parts": [
                text("Checking."),
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnLWE="},
                {"functionCall": {"name": "get_time", "args": {}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}}},
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21, "unit": "C"}}},
                text("thanks"),
            ]},
        ])
    );
}

#[test]
fn unsigned_foreign_tool_calls_get_the_documented_placeholder_on_the_first_call() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "t2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "t1", "content": "1"},
        {"role": "tool", "tool_call_id": "t2", "content": "2"},
    ]}));
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "skip_thought_signature_validator"},
            {"functionCall": {"name": "g", "args": {}}},
        ])
    );
}

#[test]
fn tool_result_forms() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            {"id": "c", "type": "function", "function": {"name": "h", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "a", "content": "[1, 2]"},
        {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "{\"ok\":"}, {"type": "text", "text": " true}"}]},
        {"role": "tool", "tool_call_id": "c", "content": [{"type": "text", "text": "plain "}, {"type": "text", "text": "text"}]},
    ]}));
    let responses: Vec<&Value> = body["contents"][2]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["functionResponse"]["response"])
        .collect();
    assert_eq!(
        responses,
        vec![
            &json!({"result": "[1, 2]"}),
            &json!({"ok": true}),
            &json!({"result": "plain text"})
        ]
    );
}

#[test]
fn tool_message_without_a_matching_call_is_refused() {
    let e = rejected(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "zzz", "content": "x"},
    ]}));
    assert_eq!(e.param.as_deref(), Some("messages[2].tool_call_id"));
}

#[test]
fn tool_call_arguments_must_be_an_object() {
    let e = rejected(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]},
    ]}));
    assert_eq!(
        e.param.as_deref(),
        Some("messages[1].tool_calls[0].function.arguments")
    );
}

#[test]
fn images_inline_and_by_reference() {
    let body = upstream(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "compare"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a/cat.JPG?size=2"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/render"}},
        ]}]}),
    );
    assert_eq!(
        body["contents"][0]["parts"],
        json!([
            text("compare"),
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/a/cat.JPG?size=2"}},
            {"fileData": {"fileUri": "https://example.com/render"}},
        ])
    );
}

#[test]
fn bad_images_and_other_parts_are_refused() {
    let img = |url: &str| {
        json!({"model": "smart", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}}]}]})
    };
    for url in [
        "ftp://x/y.png",
        "data:image/png,notbase64",
        "data:;base64,AAAA",
    ] {
        let e = rejected(img(url));
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[0].image_url.url"),
            "{url}"
        );
    }
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "system", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}, user("hi")]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
}

#[test]
fn generation_config_mapping() {
    let body = upstream(with(json!({
        "max_completion_tokens": 300, "max_tokens": 5, "temperature": 1.5, "top_p": 0.9,
        "stop": ["END", ""], "seed": 42, "presence_penalty": 0.5, "frequency_penalty": -0.25, "n": 1,
        "user": "u1", "store": true, "metadata": {"k": "v"}, "service_tier": "auto",
        "logit_bias": {}, "modalities": ["text"],
    })));
    assert_eq!(
        body["generationConfig"],
        json!({"maxOutputTokens": 300, "temperature": 1.5, "topP": 0.9, "stopSequences": ["END"],
               "seed": 42, "presencePenalty": 0.5, "frequencyPenalty": -0.25})
    );
    let body = upstream(with(json!({"max_tokens": 7, "stop": "STOP"})));
    assert_eq!(
        body["generationConfig"],
        json!({"maxOutputTokens": 7, "stopSequences": ["STOP"]})
    );
}

#[test]
fn response_format_mapping() {
    let body = upstream(with(json!({"response_format": {"type": "json_object"}})));
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    let schema = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"type": "string"}}});
    let body = upstream(with(json!({"response_format": {"type": "json_schema",
        "json_schema": {"name": "x", "strict": true, "schema": schema}}})));
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
    );
    let body = upstream(with(json!({"response_format": {"type": "text"}})));
    assert!(body.get("generationConfig").is_none());
    let e = rejected(with(
        json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
    ));
    assert_eq!(
        e.param.as_deref(),
        Some("response_format.json_schema.schema")
    );
}

#[test]
fn reasoning_effort_budgets_before_gemini_3() {
    for (effort, config) in [
        ("none", json!({"thinkingBudget": 0})),
        (
            "minimal",
            json!({"thinkingBudget": 512, "includeThoughts": true}),
        ),
        (
            "low",
            json!({"thinkingBudget": 1024, "includeThoughts": true}),
        ),
        (
            "medium",
            json!({"thinkingBudget": 8192, "includeThoughts": true}),
        ),
        (
            "high",
            json!({"thinkingBudget": 24576, "includeThoughts": true}),
        ),
        (
            "xhigh",
            json!({"thinkingBudget": 24576, "includeThoughts": true}),
        ),
    ] {
        let body = upstream(with(json!({"reasoning_effort": effort})));
        assert_eq!(
            body["generationConfig"],
            json!({"thinkingConfig": config}),
            "{effort}"
        );
    }
}

#[test]
fn reasoning_effort_levels_from_gemini_3() {
    for (effort, level, thoughts) in [
        ("none", "MINIMAL", false),
        ("minimal", "MINIMAL", true),
        ("low", "LOW", true),
        ("medium", "MEDIUM", true),
        ("high", "HIGH", true),
    ] {
        let (_, out) = start_model(
            &with(json!({"reasoning_effort": effort})),
            "gemini-3-pro-preview",
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        let mut want = json!({"thinkingLevel": level});
        if thoughts {
            want["includeThoughts"] = json!(true);
        }
        assert_eq!(body["generationConfig"]["thinkingConfig"], want, "{effort}");
    }
    let e = rejected(with(json!({"reasoning_effort": "extreme"})));
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Weather now",
        "strict": true,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                        "required": ["city"], "additionalProperties": false}}})
}

#[test]
fn tools_and_tool_choice() {
    let noargs = json!({"type": "function", "function": {"name": "ping",
        "parameters": {"type": "object", "properties": {}}}});
    let bare = json!({"type": "function", "function": {"name": "pong"}});
    let body = upstream(with(json!({"tools": [weather_tool(), noargs, bare]})));
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "Weather now",
             "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
            {"name": "ping"},
            {"name": "pong"},
        ]}])
    );
    assert!(body.get("toolConfig").is_none());
    for (choice, config) in [
        (json!("auto"), json!({"mode": "AUTO"})),
        (json!("none"), json!({"mode": "NONE"})),
        (json!("required"), json!({"mode": "ANY"})),
        (
            json!({"type": "function", "function": {"name": "get_weather"}}),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        ),
    ] {
        let body = upstream(with(
            json!({"tools": [weather_tool()], "tool_choice": choice}),
        ));
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": config}),
            "{choice}"
        );
    }
    // tool_choice without tools is dropped.
    let body = upstream(with(json!({"tool_choice": "required"})));
    assert!(body.get("toolConfig").is_none());
    let e = rejected(with(json!({"tools": [weather_tool()],
        "tool_choice": {"type": "function", "function": {"name": "nope"}}})));
    assert_eq!(e.param.as_deref(), Some("tool_choice.function.name"));
}

#[test]
fn unsupported_parameters_are_refused_by_name() {
    for (param, value) in [
        ("n", json!(0)),
        ("logprobs", json!(true)),
        ("top_logprobs", json!(2)),
        ("audio", json!({"voice": "alloy", "format": "wav"})),
        ("modalities", json!(["text", "audio"])),
        ("logit_bias", json!({"50256": -100})),
        ("prediction", json!({"type": "content", "content": "x"})),
        ("web_search_options", json!({})),
        ("functions", json!([{"name": "f"}])),
        ("function_call", json!("auto")),
        ("response_format", json!({"type": "grammar"})),
        ("seed", json!(1_i64 << 40)),
        ("max_completion_tokens", json!(0)),
        ("frobnicate", json!(1)),
    ] {
        let e = rejected(with(json!({ param: value })));
        assert_eq!(e.param.as_deref(), Some(param), "{param}: {e:?}");
    }
    let e = rejected(with(
        json!({"tools": [weather_tool()], "parallel_tool_calls": false}),
    ));
    assert_eq!(e.param.as_deref(), Some("parallel_tool_calls"));
    // Honoured trivially when no call can happen.
    upstream(with(json!({"parallel_tool_calls": false})));
    upstream(with(
        json!({"tools": [weather_tool()], "tool_choice": "none", "parallel_tool_calls": false}),
    ));
    let e = rejected(with(
        json!({"tools": [{"type": "custom", "custom": {"name": "x"}}]}),
    ));
    assert_eq!(e.param.as_deref(), Some("tools[0].type"));
}

#[test]
fn refusal_and_deprecated_function_messages() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("q"), {"role": "assistant", "refusal": "I can't."}, user("ok")]}));
    assert_eq!(body["contents"][1]["parts"], json!([text("I can't.")]));
    let e = rejected(json!({"model": "smart", "messages": [
        user("q"), {"role": "function", "name": "f", "content": "x"}]}));
    assert_eq!(e.param.as_deref(), Some("messages[1].role"));
    let e = rejected(json!({"model": "smart", "messages": [
        user("q"), {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}]}));
    assert_eq!(e.param.as_deref(), Some("messages[1].function_call"));
}

#[test]
fn base_path_from_config() {
    let mut p = super::provider();
    p.base_path = "/v1".to_string();
    let ctx = crate::providers::TargetCtx {
        provider: &p,
        model: "gemini-2.5-pro",
        public_model: "m",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let body = serde_json::to_vec(&with(json!({}))).unwrap();
    let (_, out) = crate::providers::chat_body(&body, ctx).unwrap();
    assert_eq!(out.path, "/v1/models/gemini-2.5-pro:generateContent");
}
