use serde_json::{json, Value};

use super::{provider, rejected, start, upstream, user, with};

#[test]
fn minimal_request_path_headers_and_defaults() {
    let (chat, out) = start(&with(json!({}))).unwrap();
    assert_eq!(out.path, "/v1/messages");
    assert_eq!(
        out.headers,
        vec![
            ("anthropic-version", "2023-06-01".to_string()),
            ("content-type", "application/json".to_string()),
            ("x-api-key", "sk-ant-test".to_string()),
        ]
    );
    let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 4096,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    );
    assert!(!chat.failed());
}

#[test]
fn no_api_key_header_without_key() {
    let p = crate::config::Provider::new("claude", "anthropic", "api.anthropic.com");
    let ctx = crate::providers::TargetCtx {
        provider: &p,
        model: "m",
        public_model: "m",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    let body = serde_json::to_vec(&with(json!({}))).unwrap();
    let (_, out) = crate::providers::chat_body(&body, ctx).unwrap();
    assert!(out.headers.iter().all(|(k, _)| *k != "x-api-key"));
}

#[test]
fn system_and_developer_go_to_system_blocks() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "system", "content": "be brief"},
        user("hi"),
        {"role": "developer", "content": [{"type": "text", "text": "use metric"}, {"type": "text", "text": ""}]},
        {"role": "assistant", "content": "hello"},
    ]}));
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "be brief"}, {"type": "text", "text": "use metric"}])
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
        ])
    );
}

#[test]
fn consecutive_same_role_turns_merge() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("a"), {"role": "system", "content": "s"}, user("b"),
        {"role": "assistant", "content": "c"}, {"role": "assistant", "content": [{"type": "text", "text": "d"}]},
        user(""), user("e"),
    ]}));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]},
            {"role": "user", "content": [{"type": "text", "text": "e"}]},
        ])
    );
}

#[test]
fn tool_round_trip_conversation() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("weather in Paris and Rome?"),
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "toolu_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "21C"}]},
        user("and in F?"),
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "toolu_3", "type": "function", "function": {"name": "now", "arguments": ""}}
        ]},
        {"role": "tool", "tool_call_id": "toolu_3", "content": ""},
    ]}));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "weather in Paris and Rome?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "21C"}]},
                {"type": "text", "text": "and in F?"},
            ]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_3", "name": "now", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_3"}]},
        ])
    );
}

#[test]
fn tool_results_go_before_text_already_in_the_turn() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        user("hurry"),
        {"role": "tool", "tool_call_id": "t1", "content": "ok"},
    ]}));
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}, {"type": "text", "text": "hurry"}])
    );
}

#[test]
fn bad_tool_arguments_are_rejected() {
    for args in ["{not json", "[1, 2]", "42"] {
        let e = rejected(json!({"model": "smart", "messages": [
            user("q"),
            {"role": "assistant", "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": args}}]},
        ]}));
        assert_eq!(
            e.param.as_deref(),
            Some("messages[1].tool_calls[0].function.arguments")
        );
    }
}

#[test]
fn images_inline_and_by_url() {
    let body = upstream(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "compare"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        ]}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "compare"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        ])
    );
}

#[test]
fn unusable_images_are_rejected() {
    for url in [
        "ftp://example.com/cat.jpg",
        "data:image/png,rawbytes",
        "cat.jpg",
    ] {
        let e = rejected(
            json!({"model": "smart", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}}]}]}),
        );
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[0].image_url.url"),
            "{url}"
        );
    }
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "system", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}, user("hi")]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
}

#[test]
fn tools_and_tool_choice() {
    let tools = json!([
        {"type": "function", "function": {"name": "weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}},
        {"type": "function", "function": {"name": "now"}},
    ]);
    let body = upstream(with(json!({"tools": tools})));
    assert_eq!(
        body["tools"],
        json!([
            {"name": "weather", "description": "Weather by city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}},
        ])
    );
    assert!(body.get("tool_choice").is_none());
    let cases = [
        (json!("auto"), json!({"type": "auto"})),
        (json!("none"), json!({"type": "none"})),
        (json!("required"), json!({"type": "any"})),
        (
            json!({"type": "function", "function": {"name": "now"}}),
            json!({"type": "tool", "name": "now"}),
        ),
    ];
    for (choice, want) in cases {
        let body = upstream(with(json!({"tools": tools, "tool_choice": choice})));
        assert_eq!(body["tool_choice"], want);
    }
    let body = upstream(with(
        json!({"tools": tools, "tool_choice": "required", "parallel_tool_calls": false}),
    ));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    let body = upstream(with(json!({"tools": tools, "parallel_tool_calls": false})));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
    let body = upstream(with(json!({"tool_choice": "required"})));
    assert!(body.get("tool_choice").is_none() && body.get("tools").is_none());
    let e = rejected(with(
        json!({"tools": [{"type": "custom", "custom": {"name": "x"}}]}),
    ));
    assert_eq!(e.param.as_deref(), Some("tools[0].type"));
}

#[test]
fn stop_max_tokens_sampling_user_stream() {
    assert_eq!(
        upstream(with(json!({"stop": "END"})))["stop_sequences"],
        json!(["END"])
    );
    assert_eq!(
        upstream(with(json!({"stop": ["a", "b"]})))["stop_sequences"],
        json!(["a", "b"])
    );
    assert_eq!(
        upstream(with(json!({"max_tokens": 100})))["max_tokens"],
        json!(100)
    );
    assert_eq!(
        upstream(with(
            json!({"max_tokens": 100, "max_completion_tokens": 50})
        ))["max_tokens"],
        json!(50)
    );
    assert_eq!(
        rejected(with(json!({"max_completion_tokens": 0})))
            .param
            .as_deref(),
        Some("max_completion_tokens")
    );
    let body = upstream(with(
        json!({"temperature": 0.7, "top_p": 0.9, "user": "u-42", "stream": true,
        "stream_options": {"include_usage": true}}),
    ));
    assert_eq!(body["temperature"], json!(0.7));
    assert_eq!(body["top_p"], json!(0.9));
    assert_eq!(body["metadata"], json!({"user_id": "u-42"}));
    assert_eq!(body["stream"], json!(true));
    assert!(body.get("stream_options").is_none());
    assert!(upstream(with(json!({"stream": false})))
        .get("stream")
        .is_none());
}

#[test]
fn temperature_above_one_is_rejected() {
    assert_eq!(
        upstream(with(json!({"temperature": 1.0})))["temperature"],
        json!(1.0)
    );
    let e = rejected(with(json!({"temperature": 1.5})));
    assert_eq!(e.param.as_deref(), Some("temperature"));
    assert!(e.message.contains("between 0 and 1"), "{}", e.message);
    assert_eq!(
        rejected(with(json!({"top_p": 2}))).param.as_deref(),
        Some("top_p")
    );
}

#[test]
fn unsupported_parameters_are_named() {
    let cases = [
        json!({"n": 2}),
        json!({"response_format": {"type": "yaml"}}),
        json!({"logprobs": true}),
        json!({"top_logprobs": 3}),
        json!({"audio": {"voice": "alloy", "format": "wav"}}),
        json!({"modalities": ["text", "audio"]}),
        json!({"presence_penalty": 0.5}),
        json!({"frequency_penalty": -1}),
        json!({"logit_bias": {"50256": -100}}),
        json!({"seed": 7}),
        json!({"prediction": {"type": "content", "content": "x"}}),
        json!({"functions": [{"name": "f"}]}),
    ];
    for extra in cases {
        let param = extra.as_object().unwrap().keys().next().unwrap().clone();
        let e = rejected(with(extra));
        assert_eq!(e.param.as_deref(), Some(param.as_str()));
        assert!(
            e.message.contains("not supported by provider anthropic"),
            "{}",
            e.message
        );
    }
    let e = rejected(with(json!({"frobnicate": true})));
    assert_eq!(e.param.as_deref(), Some("frobnicate"));
    assert!(e.message.contains("Unrecognized request argument"));
}

#[test]
fn harmless_parameters_are_accepted() {
    let body = upstream(with(json!({
        "n": 1, "response_format": {"type": "text"}, "logprobs": false, "modalities": ["text"],
        "presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {}, "store": true,
        "metadata": {"k": "v"}, "service_tier": "auto", "reasoning_effort": "none",
        "parallel_tool_calls": true, "stream_options": {"include_usage": false}, "verbosity": "low",
        "prompt_cache_key": "k", "safety_identifier": "s-1"
    })));
    assert_eq!(body["metadata"], json!({"user_id": "s-1"}));
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
}

#[test]
fn only_instructions_become_the_user_turn() {
    let up = upstream(json!({"model": "smart", "messages": [{"role": "system", "content": "s"}]}));
    assert_eq!(
        up["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "s"}]}])
    );
    assert!(up.get("system").is_none(), "{up}");
    let e = rejected(json!({"model": "smart", "messages": [{"role": "system", "content": ""}]}));
    assert_eq!(e.param.as_deref(), Some("messages"));
    let e = rejected(
        json!({"model": "smart", "messages": [{"role": "function", "name": "f", "content": "x"}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages[0].role"));
}

#[test]
fn schema_errors_surface_as_400() {
    let e = rejected(json!({"model": "smart", "messages": "hi"}));
    assert_eq!(e.param.as_deref(), Some("messages"));
    let e = rejected(json!({"model": "smart", "messages": [{"role": "wizard", "content": "x"}]}));
    assert_eq!(e.param.as_deref(), Some("messages[0].role"));
}

/// The hand-written encoder must produce exactly what serde would.
#[test]
fn encoder_matches_serde_byte_for_byte() {
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather \"now\"",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
        {"type": "function", "function": {"name": "noop"}}]);
    let cases = [
        json!({"model": "x", "messages": [
            {"role": "system", "content": "sys \"quoted\" \\ back\nslash \u{1} \u{1f}"},
            {"role": "developer", "content": [{"type": "text", "text": "dev h\u{e9}llo \u{2713} \u{1F600}"}]},
            {"role": "user", "content": [
                {"type": "text", "text": "look\tat\r\nthis"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]},
            {"role": "assistant", "content": "calling", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny \u{2600}"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "part"}]},
            {"role": "user", "content": "and?"}],
            "tools": tools, "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false, "stop": ["END", "\u{7}"], "temperature": 0.7, "top_p": 0.25,
            "max_completion_tokens": 77, "user": "u-1", "stream": true}),
        json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "required"}),
        json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "stop": "once", "temperature": 1}),
        json!({"model": "x", "reasoning_effort": "high", "max_completion_tokens": 3000,
            "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema":
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false}}},
            "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                      {"type": "function", "function": {"name": "g", "description": "d"}, "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "system", "content": "sys", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"role": "user", "content": [
                    {"type": "text", "text": "doc \"q\"", "cache_control": {"type": "ephemeral"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}, "cache_control": {"type": "ephemeral", "ttl": "5m"}}]},
                {"role": "assistant", "content": "calling", "reasoning_content": "why \n not",
                 "thinking_blocks": [{"type": "thinking", "signature": "EqQB+/=="},
                                     {"type": "redacted_thinking", "data": "Emw\"K"}],
                 "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                 "cache_control": {"type": "ephemeral"}},
                {"role": "tool", "tool_call_id": "t1", "content": "r", "cache_control": {"type": "ephemeral"}},
                {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "p", "cache_control": {"type": "ephemeral"}}]}]}),
        json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
            "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted", "z": [1, {"b": null, "a": 2.5}]},
            "response_format": {"type": "json_object"}}),
    ];
    let p = provider();
    let ctx = crate::providers::TargetCtx {
        provider: &p,
        model: "claude-x",
        public_model: "x",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    for case in cases {
        let bytes = serde_json::to_vec(&case).unwrap();
        let req = crate::openai::parse_chat_request(&bytes).unwrap();
        let body =
            super::super::request::build(&super::super::Options::default(), &req, &ctx).unwrap();
        let ours = super::super::encode::messages_request(&body);
        let theirs = serde_json::to_vec(&body).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }
}
