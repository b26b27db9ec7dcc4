use std::borrow::Cow;

use serde_json::{json, Value};

use super::*;
use crate::usage::Usage;

fn parse(v: Value) -> Result<(), ApiError> {
    let body = serde_json::to_vec(&v).unwrap();
    parse_chat_request(&body).map(|_| ())
}

fn err_param(v: Value) -> String {
    let e = parse(v).unwrap_err();
    assert_eq!(e.status, 400);
    e.param.unwrap_or_default()
}

#[test]
fn parses_full_request_borrowing_strings() {
    let body = br#"{
        "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "stop": ["x", "y"], "max_tokens": 10, "temperature": 0.5
    }"#;
    let req = parse_chat_request(body).unwrap();
    assert!(req.include_usage());
    assert_eq!(req.max_output_tokens(), Some(("max_tokens", 10)));
    let msgs = req.messages();
    assert_eq!(msgs.len(), 4);
    assert!(matches!(
        &msgs[0].content,
        Some(TextOr::Text(Cow::Borrowed("be brief")))
    ));
    let Some(TextOr::Items(parts)) = &msgs[1].content else {
        panic!("parts")
    };
    assert_eq!(parts[1].kind, PartType::ImageUrl);
    assert_eq!(parts[1].image_url.as_ref().unwrap().url, "https://x/y.png");
    assert!(matches!(parts[0].text, Some(Cow::Borrowed(_))));
    let call = &msgs[2].tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.function.arguments, "{\"a\":1}");
    assert_eq!(msgs[3].tool_call_id.as_deref(), Some("call_1"));
    assert!(matches!(req.tool_choice, Some(ToolChoice::Named(_))));
    assert_eq!(
        req.stop,
        Some(TextOr::Items(vec![
            Str(Cow::Borrowed("x")),
            Str(Cow::Borrowed("y"))
        ]))
    );
    assert!(req.extra.is_empty());
}

#[test]
fn tool_choice_modes_and_unknown_params() {
    for (v, want) in [
        ("none", ToolChoice::None),
        ("auto", ToolChoice::Auto),
        ("required", ToolChoice::Required),
    ] {
        let body = serde_json::to_vec(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": v, "frobnicate": 1})).unwrap();
        let req = parse_chat_request(&body).unwrap();
        assert_eq!(req.tool_choice, Some(want));
        assert_eq!(req.extra.get("frobnicate"), Some(&json!(1)));
    }
    let p = err_param(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "sometimes"}),
    );
    assert_eq!(p, "tool_choice");
}

#[test]
fn type_errors_name_the_field() {
    let user = json!([{"role": "user", "content": "hi"}]);
    assert_eq!(
        err_param(json!({"model": "m", "messages": {"role": "user"}})),
        "messages"
    );
    assert_eq!(err_param(json!({"model": 3, "messages": user})), "model");
    assert_eq!(
        err_param(json!({"model": "m", "messages": user, "stream": "yes"})),
        "stream"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": user, "max_tokens": -1})),
        "max_tokens"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]})),
        "messages[0].role"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": [{"role": "user", "content": 5}]})),
        "messages[0].content"
    );
    let e =
        parse(json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]})).unwrap_err();
    assert!(e.message.contains("robot"), "{}", e.message);
    assert!(!e.message.contains("line 1"), "{}", e.message);
}

#[test]
fn missing_and_empty_fields() {
    assert_eq!(err_param(json!({"model": "m"})), "messages");
    assert_eq!(err_param(json!({"model": "m", "messages": []})), "messages");
    assert_eq!(
        err_param(json!({"messages": [{"role": "user", "content": "x"}]})),
        "model"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": [{"role": "user"}]})),
        "messages[0].content"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]})),
        "messages[0].tool_call_id"
    );
    assert_eq!(
        err_param(json!({"model": "m", "messages": [{"role": "assistant"}]})),
        "messages[0].content"
    );
    assert_eq!(
        err_param(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]})
        ),
        "messages[0].content[0].text"
    );
    assert_eq!(
        err_param(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})
        ),
        "tools[0].function"
    );
}

#[test]
fn malformed_bodies() {
    for body in [&b"{\"model\": "[..], b"[1,2]", b"{} x", b"\"str\""] {
        let e = parse_chat_request(body).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.param, None);
    }
}

#[test]
fn unknown_part_and_tool_types_parse() {
    let body = serde_json::to_vec(&json!({
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "hologram", "hologram": {}}]}],
        "tools": [{"type": "web_magic"}],
        "response_format": {"type": "yaml"}
    }))
    .unwrap();
    let req = parse_chat_request(&body).unwrap();
    let Some(TextOr::Items(parts)) = &req.messages()[0].content else {
        panic!()
    };
    assert_eq!(parts[0].kind, PartType::Unknown);
    assert_eq!(req.tools.as_ref().unwrap()[0].kind, ToolType::Unknown);
    assert_eq!(
        req.response_format.as_ref().unwrap().kind,
        ResponseFormatType::Unknown
    );
}

#[test]
fn chunk_usage_presence() {
    let choice = [ChunkChoice {
        delta: Delta {
            content: Some("hi"),
            ..Delta::default()
        },
        ..ChunkChoice::default()
    }];
    let mut chunk = ChatCompletionChunk {
        id: "c",
        object: CHUNK_OBJECT,
        created: 7,
        model: "m",
        choices: &choice,
        usage: None,
    };
    let v = serde_json::to_value(&chunk).unwrap();
    assert!(v.get("usage").is_none());
    assert_eq!(
        v["choices"],
        json!([{"index": 0, "delta": {"content": "hi"}, "logprobs": null, "finish_reason": null}])
    );
    chunk.usage = Some(None);
    assert_eq!(serde_json::to_value(&chunk).unwrap()["usage"], Value::Null);
    let u = Usage {
        implausible: false,
        cache_write: 0,
        input: 10,
        output: 5,
        cache_read: 3,
        reasoning: 0,
    };
    chunk.usage = Some(Some(CompletionUsage::from_usage(&u)));
    assert_eq!(
        serde_json::to_value(&chunk).unwrap()["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
               "prompt_tokens_details": {"cached_tokens": 3},
               "completion_tokens_details": {"reasoning_tokens": 0}})
    );
}

#[test]
fn duplicate_keys_of_parsed_fields_name_the_parameter() {
    let cases: &[(&[u8], &str)] = &[
        (
            br#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1,"temperature":2}"#,
            "temperature",
        ),
        (
            br#"{"model":"m","messages":[{"role":"user","content":"x","content":"y"}]}"#,
            "messages[0].content",
        ),
        (
            br#"{"model":"m","stream":true,"stream_options":{"include_usage":true,"include_usage":false},"messages":[{"role":"user","content":"x"}]}"#,
            "stream_options.include_usage",
        ),
    ];
    for (body, param) in cases {
        let e = parse_chat_request(body).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(*param), "{}", e.message);
        assert!(e.message.starts_with("Duplicate key"), "{}", e.message);
    }
}
