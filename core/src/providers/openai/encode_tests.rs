use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::*;
use crate::openai::{parse_chat_request, ServerTool};

fn target(model: &str) -> Target<'_> {
    Target {
        model,
        stream_usage: true,
    }
}

fn encode(body: &Value, t: Target<'_>) -> Result<Value, ApiError> {
    let raw = serde_json::to_vec(body).unwrap();
    let req = parse_chat_request(&raw).unwrap();
    chat_body(&req, t).map(|b| serde_json::from_slice(&b).unwrap())
}

/// A request using every field OpenAI chat defines that the encoder writes.
fn full() -> Value {
    json!({
        "model": "gpt-5",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
            {"role": "user", "name": "ann", "content": [
                {"type": "text", "text": "look \"here\""},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}},
                {"type": "file", "file": {"file_id": "file-1"}}
            ]},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": "{\"a\":1}"},
                 "extra_content": {"google": {"thought_signature": "sig=="}}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}], "refusal": "no"},
            {"role": "user", "content": "thanks"}
        ],
        "tools": [{"type": "function", "function": {
            "name": "get", "description": "d", "strict": true,
            "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}
        }}],
        "tool_choice": {"type": "function", "function": {"name": "get"}},
        "parallel_tool_calls": false,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_completion_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["x", "y"],
        "n": 2,
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "logprobs": true,
        "top_logprobs": 2,
        "seed": 7,
        "user": "u1",
        "safety_identifier": "s1",
        "prompt_cache_key": "k",
        "metadata": {"a": "b"},
        "store": false,
        "service_tier": "flex",
        "reasoning_effort": "high",
        "verbosity": "low",
        "modalities": ["text"],
        "prediction": {"type": "content", "content": "p"},
        "web_search_options": {}
    })
}

#[test]
fn a_chat_body_round_trips_as_json() {
    let input = full();
    assert_eq!(encode(&input, target("gpt-5")).unwrap(), input);
}

#[test]
fn tool_settings_without_tools_are_left_out() {
    for tools in [None, Some(json!([]))] {
        let mut input = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "tool_choice": "auto", "parallel_tool_calls": false});
        if let Some(t) = tools {
            input["tools"] = t;
        }
        assert_eq!(
            encode(&input, target("m")).unwrap(),
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        );
    }
}

#[test]
fn simple_forms_round_trip_too() {
    let input = json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": "required",
        "stop": "end",
        "response_format": {"type": "json_object"}
    });
    assert_eq!(encode(&input, target("m")).unwrap(), input);
}

#[test]
fn model_is_the_upstream_name_and_max_tokens_becomes_max_completion_tokens() {
    let input = json!({"model": "public", "max_tokens": 9,
        "messages": [{"role": "user", "content": "hi"}]});
    let out = encode(&input, target("up")).unwrap();
    assert_eq!(
        out,
        json!({"model": "up", "max_completion_tokens": 9,
            "messages": [{"role": "user", "content": "hi"}]})
    );
}

#[test]
fn streams_always_ask_for_usage_unless_the_provider_opted_out() {
    let input = json!({"model": "m", "stream": true, "stream_options": {"include_usage": false},
        "messages": [{"role": "user", "content": "hi"}]});
    let out = encode(&input, target("m")).unwrap();
    assert_eq!(out["stream_options"], json!({"include_usage": true}));
    let off = Target {
        model: "m",
        stream_usage: false,
    };
    let out = encode(&input, off).unwrap();
    assert_eq!(out.get("stream_options"), None);
    assert_eq!(out["stream"], json!(true));
}

#[test]
fn other_providers_state_and_cache_hints_are_dropped() {
    let input = json!({"model": "m", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}],
         "cache_control": {"type": "ephemeral"}},
        {"role": "assistant", "content": "b", "reasoning_content": "r",
         "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}]}
    ], "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}}]});
    let out = encode(&input, target("m")).unwrap();
    assert_eq!(
        out,
        json!({"model": "m", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}]},
            {"role": "assistant", "content": "b"}
        ], "tools": [{"type": "function", "function": {"name": "f"}}]})
    );
}

fn refused(input: &Value, edit: impl FnOnce(&mut ChatRequest<'_>)) -> ApiError {
    let raw = serde_json::to_vec(input).unwrap();
    let mut req = parse_chat_request(&raw).unwrap();
    edit(&mut req);
    chat_body(&req, target("gpt-5")).unwrap_err()
}

fn hi() -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
}

#[test]
fn what_openai_chat_cannot_carry_is_a_400_naming_it() {
    let e = refused(&hi(), |r| r.ext.top_k = Some(5));
    assert_eq!((e.status, e.param.as_deref()), (400, Some("top_k")));

    let raw = RawValue::from_string(r#"{"type":"web_search_20250305","name":"web_search"}"#.into())
        .unwrap();
    let body = serde_json::to_vec(&hi()).unwrap();
    let mut req = parse_chat_request(&body).unwrap();
    req.ext.server_tools.push(ServerTool {
        kind: "web_search_20250305".into(),
        name: Some("web_search".into()),
        raw: &raw,
    });
    let e = chat_body(&req, target("gpt-5")).unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("tools")));
    assert!(e.message.contains("`web_search_20250305`"), "{}", e.message);

    let e = refused(&hi(), |r| {
        r.ext.previous_response_id = Some("resp_1".into())
    });
    assert_eq!(e.param.as_deref(), Some("previous_response_id"));
    assert!(e.message.contains("stateless") || e.message.contains("no conversation state"));

    let e = refused(&hi(), |r| r.store = Some(true));
    assert_eq!(e.param.as_deref(), Some("store"));

    let e = refused(&hi(), |r| {
        r.extra.insert("top_k".into(), json!(3));
    });
    assert_eq!(e.param.as_deref(), Some("top_k"));
}

#[test]
fn parts_and_tools_openai_chat_has_no_form_for_are_400s() {
    let audio = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "a"},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    ]}]});
    let e = refused(&audio, |_| {});
    assert_eq!(e.param.as_deref(), Some("messages[0].content[1].type"));

    let custom = json!({"model": "m", "messages": [{"role": "user", "content": "a"}],
        "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "custom", "custom": {"name": "g"}}]});
    let e = refused(&custom, |_| {});
    assert_eq!(e.param.as_deref(), Some("tools[1].type"));
}

#[test]
fn thinking_budget_maps_to_reasoning_effort_for_reasoning_models() {
    let cases = [
        (1024, Some("low")),
        (4095, Some("low")),
        (4096, Some("medium")),
        (16383, Some("medium")),
        (16384, Some("high")),
        (64000, Some("high")),
    ];
    for (budget, effort) in cases {
        for model in ["gpt-5-mini", "o3", "o4-mini", "gpt-oss-120b"] {
            let raw = serde_json::to_vec(&hi()).unwrap();
            let mut req = parse_chat_request(&raw).unwrap();
            req.ext.thinking = Some(ThinkingRequest::Enabled {
                budget_tokens: budget,
            });
            let out: Value =
                serde_json::from_slice(&chat_body(&req, target(model)).unwrap()).unwrap();
            assert_eq!(
                out.get("reasoning_effort").and_then(Value::as_str),
                effort,
                "{model} {budget}"
            );
        }
    }
    let raw = serde_json::to_vec(&hi()).unwrap();
    let mut req = parse_chat_request(&raw).unwrap();
    req.ext.thinking = Some(ThinkingRequest::Enabled {
        budget_tokens: 20000,
    });
    let out: Value = serde_json::from_slice(&chat_body(&req, target("gpt-4o")).unwrap()).unwrap();
    assert_eq!(out.get("reasoning_effort"), None, "not a reasoning model");
    for t in [ThinkingRequest::Adaptive, ThinkingRequest::Disabled] {
        req.ext.thinking = Some(t);
        let out: Value = serde_json::from_slice(&chat_body(&req, target("o3")).unwrap()).unwrap();
        assert_eq!(out.get("reasoning_effort"), None, "{t:?}");
    }
    // The client's own effort wins.
    let raw = serde_json::to_vec(&json!({"model": "m", "reasoning_effort": "minimal",
        "messages": [{"role": "user", "content": "hi"}]}))
    .unwrap();
    let mut req = parse_chat_request(&raw).unwrap();
    req.ext.thinking = Some(ThinkingRequest::Enabled {
        budget_tokens: 30000,
    });
    let out: Value = serde_json::from_slice(&chat_body(&req, target("o3")).unwrap()).unwrap();
    assert_eq!(out["reasoning_effort"], json!("minimal"));
}
