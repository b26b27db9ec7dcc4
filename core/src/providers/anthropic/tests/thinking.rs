use serde_json::{json, Value};

use super::{rejected, start, upstream, user, with};
use crate::providers::{BodyEdit, BodyMode};

const SIG: &str = "EqQBCgIYAhIMx+/9Lh3nZ2FtZQ==";

#[test]
fn reasoning_effort_maps_to_a_budget_and_raises_max_tokens() {
    for (effort, budget) in [
        ("minimal", 1024),
        ("low", 2048),
        ("medium", 8192),
        ("high", 16384),
        ("xhigh", 32768),
    ] {
        let body = upstream(with(json!({"reasoning_effort": effort})));
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": budget}),
            "{effort}"
        );
        assert_eq!(body["max_tokens"], json!(budget + 4096), "{effort}");
    }
    let body = upstream(with(json!({"reasoning_effort": "none"})));
    assert!(body.get("thinking").is_none());
    assert_eq!(body["max_tokens"], json!(4096));
}

#[test]
fn a_client_cap_stays_and_clamps_the_budget() {
    let body = upstream(with(
        json!({"reasoning_effort": "high", "max_completion_tokens": 5000}),
    ));
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 4999})
    );
    assert_eq!(body["max_tokens"], json!(5000));
    let body = upstream(with(
        json!({"reasoning_effort": "medium", "max_tokens": 20000}),
    ));
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(body["max_tokens"], json!(20000));
    let e = rejected(with(
        json!({"reasoning_effort": "low", "max_completion_tokens": 1024}),
    ));
    assert_eq!(e.param.as_deref(), Some("max_completion_tokens"));
    assert!(e.message.contains("greater than 1024"), "{}", e.message);
    let e = rejected(with(json!({"reasoning_effort": "extreme"})));
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
}

#[test]
fn thinking_extension_passes_as_given() {
    let given = json!({"type": "enabled", "budget_tokens": 3000, "display": "summarized"});
    let body = upstream(with(json!({"thinking": given, "reasoning_effort": "high"})));
    assert_eq!(body["thinking"], given);
    assert_eq!(body["max_tokens"], json!(7096));
    let body = upstream(with(
        json!({"thinking": given, "max_completion_tokens": 9000}),
    ));
    assert_eq!(body["max_tokens"], json!(9000));
    let body = upstream(with(json!({"thinking": {"type": "adaptive"}})));
    assert_eq!(body["thinking"], json!({"type": "adaptive"}));
    assert_eq!(body["max_tokens"], json!(4096));
    let body = upstream(with(
        json!({"thinking": {"type": "disabled"}, "temperature": 0.2}),
    ));
    assert_eq!(body["thinking"], json!({"type": "disabled"}));
    for bad in [json!("on"), json!({"budget_tokens": 2048}), json!(true)] {
        let e = rejected(with(json!({"thinking": bad})));
        assert_eq!(e.param.as_deref(), Some("thinking"));
    }
}

#[test]
fn parameters_incompatible_with_thinking_are_named() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let cases = [
        (json!({"temperature": 0.5}), "temperature"),
        (json!({"top_p": 0.9}), "top_p"),
        (
            json!({"tools": tools, "tool_choice": "required"}),
            "tool_choice",
        ),
        (
            json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "f"}}}),
            "tool_choice",
        ),
    ];
    for (extra, param) in cases {
        for thinking in [
            json!({"reasoning_effort": "low"}),
            json!({"thinking": {"type": "enabled", "budget_tokens": 2048}}),
        ] {
            let mut body = with(extra.clone());
            for (k, v) in thinking.as_object().unwrap() {
                body[k] = v.clone();
            }
            assert_eq!(rejected(body).param.as_deref(), Some(param), "{extra}");
        }
        // Without thinking the same parameters translate.
        upstream(with(extra));
    }
    let body = upstream(with(
        json!({"reasoning_effort": "low", "temperature": 1, "top_p": 0.95,
               "tools": tools, "tool_choice": "auto"}),
    ));
    assert_eq!(body["temperature"], json!(1.0));
    assert_eq!(body["top_p"], json!(0.95));
    assert_eq!(body["tool_choice"], json!({"type": "auto"}));
}

fn assistant_turn(message: Value) -> Value {
    let body = upstream(json!({"model": "smart", "messages": [user("q"), message]}));
    body["messages"][1]["content"].clone()
}

#[test]
fn thinking_blocks_go_back_first_and_unchanged() {
    let content = assistant_turn(json!({"role": "assistant", "content": "Checking.",
        "reasoning_content": "Need the weather.",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "Need the weather.", "signature": SIG},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3p"}],
        "tool_calls": [{"id": "toolu_1", "type": "function",
                        "function": {"name": "weather", "arguments": "{}"}}]}));
    assert_eq!(
        content,
        json!([
            {"type": "thinking", "thinking": "Need the weather.", "signature": SIG},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3p"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}},
        ])
    );
}

#[test]
fn reasoning_content_alone_is_not_sent() {
    let content = assistant_turn(
        json!({"role": "assistant", "content": "42", "reasoning_content": "Let me think."}),
    );
    assert_eq!(content, json!([{"type": "text", "text": "42"}]));
}

#[test]
fn a_streamed_signature_takes_the_reasoning_content() {
    let content = assistant_turn(json!({"role": "assistant", "content": "42",
        "reasoning_content": "The user wants a number.",
        "thinking_blocks": [{"type": "thinking", "signature": SIG}]}));
    assert_eq!(
        content[0],
        json!({"type": "thinking", "thinking": "The user wants a number.", "signature": SIG})
    );
    // With several signed entries the text cannot be split: each keeps its own.
    let content = assistant_turn(json!({"role": "assistant", "content": "42",
        "reasoning_content": "ab",
        "thinking_blocks": [{"type": "thinking", "signature": "s1"},
                            {"type": "thinking", "thinking": "b", "signature": "s2"}]}));
    assert_eq!(
        content[0],
        json!({"type": "thinking", "thinking": "", "signature": "s1"})
    );
    assert_eq!(
        content[1],
        json!({"type": "thinking", "thinking": "b", "signature": "s2"})
    );
}

#[test]
fn malformed_thinking_blocks_are_named() {
    let cases = [
        (
            json!({"type": "thinking", "thinking": "t"}),
            "messages[1].thinking_blocks[0].signature",
        ),
        (
            json!({"type": "redacted_thinking"}),
            "messages[1].thinking_blocks[0].data",
        ),
        (
            json!({"type": "summary", "text": "t"}),
            "messages[1].thinking_blocks[0].type",
        ),
    ];
    for (block, param) in cases {
        let e = rejected(json!({"model": "smart", "messages": [user("q"),
            {"role": "assistant", "content": "a", "thinking_blocks": [block]}]}));
        assert_eq!(e.param.as_deref(), Some(param));
    }
}

/// Anthropic reply → OpenAI JSON (the real encoder) → the client appends
/// the message and a tool result → the next Anthropic request.
#[test]
fn multi_turn_tool_round_trip_keeps_the_thinking_block() {
    let tools = json!([{"type": "function", "function": {"name": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let first = json!({"model": "smart", "reasoning_effort": "medium", "tools": tools,
        "messages": [user("Weather in Paris?")]});
    let (mut chat, out) = start(&first).unwrap();
    let sent: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    let thinking = "The user wants Paris weather.\nI should call \"weather\" — with city=Paris.";
    let reply = serde_json::to_vec(&json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": thinking, "signature": SIG},
            {"type": "tool_use", "id": "toolu_9", "name": "weather", "input": {"city": "Paris"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 50, "output_tokens": 80}
    }))
    .unwrap();
    assert_eq!(chat.response_headers(200, &|_| None).mode, BodyMode::Buffer);
    let BodyEdit::Replace(client) = chat.response_body(&reply, true) else {
        panic!("not replaced")
    };
    let client: Value = serde_json::from_slice(&client).unwrap();
    let message = client["choices"][0]["message"].clone();
    assert_eq!(message["reasoning_content"], json!(thinking));
    assert_eq!(
        message["thinking_blocks"],
        json!([{"type": "thinking", "thinking": thinking, "signature": SIG}])
    );

    let mut next = first.clone();
    let msgs = next["messages"].as_array_mut().unwrap();
    msgs.push(message);
    msgs.push(json!({"role": "tool", "tool_call_id": "toolu_9", "content": "18C"}));
    let (_, out) = start(&next).unwrap();
    let raw = out.body.unwrap();
    let body: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": thinking, "signature": SIG},
            {"type": "tool_use", "id": "toolu_9", "name": "weather", "input": {"city": "Paris"}}]})
    );
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "18C"}])
    );
    let needle = format!("\"signature\":\"{SIG}\"");
    assert!(String::from_utf8(raw).unwrap().contains(&needle));
}
