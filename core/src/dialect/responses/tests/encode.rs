use std::borrow::Cow;

use serde_json::{json, Value};

use crate::dialect::responses::encoder;
use crate::error::ApiError;
use crate::events::{Choice, Finish, Meta, Reply, Thinking, ToolCall};
use crate::usage::Usage;

pub fn meta(encrypted_reasoning: bool) -> Meta {
    Meta {
        model: "pub-model".into(),
        created: 1_700_000_000,
        include_usage: true,
        encrypted_reasoning,
    }
}

fn usage() -> Usage {
    Usage {
        input: 100,
        cache_read: 40,
        cache_write: 10,
        output: 30,
        reasoning: 12,
        implausible: false,
    }
}

pub fn reply_json(r: &Reply<'_>, encrypted: bool) -> Value {
    let bytes = encoder(meta(encrypted)).reply(r).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn text_reply_is_a_completed_response() {
    let r = Reply {
        id: Cow::Borrowed("msg_abc"),
        choice: Choice {
            text: Some("Hello".into()),
            ..Choice::default()
        },
        usage: usage(),
        ..Reply::default()
    };
    let expected = json!({
        "id": "resp_msg_abc",
        "object": "response",
        "created_at": 1_700_000_000u64,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "metadata": {},
        "model": "pub-model",
        "output": [{
            "type": "message", "id": "msg_msg_abc_0", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]
        }],
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "temperature": null,
        "top_p": null,
        "usage": {
            "input_tokens": 100,
            "input_tokens_details": {"cached_tokens": 40, "cache_write_tokens": 10},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 130
        }
    });
    assert_eq!(reply_json(&r, false), expected);
}

fn reasoning_reply() -> Reply<'static> {
    Reply {
        id: Cow::Borrowed(""),
        choice: Choice {
            reasoning: Some("thought".into()),
            thinking: vec![Thinking::Signed {
                text: "thought".into(),
                signature: "SIG".into(),
            }],
            tool_calls: vec![ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "{\"x\":1}".into(),
                signature: Some("TS".into()),
            }],
            finish: Finish::ToolCalls,
            ..Choice::default()
        },
        usage: usage(),
        ..Reply::default()
    }
}

#[test]
fn reasoning_and_calls_become_items() {
    let v = reply_json(&reasoning_reply(), false);
    assert_eq!(v["id"], "resp_6553f100");
    assert_eq!(
        v["output"],
        json!([
            {"type": "reasoning", "id": "rs_6553f100_0",
             "summary": [{"type": "summary_text", "text": "thought"}]},
            {"type": "function_call", "id": "fc_6553f100_1", "call_id": "call_1", "name": "f",
             "arguments": "{\"x\":1}", "status": "completed"}
        ])
    );
    assert_eq!(v["status"], "completed");
}

#[test]
fn encrypted_reasoning_only_when_asked() {
    let v = reply_json(&reasoning_reply(), true);
    let sealed = v["output"][0]["encrypted_content"].as_str().unwrap();
    let st = crate::dialect::responses::state::State::open(sealed)
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&st).unwrap(),
        json!({
            "blocks": [{"type": "thinking", "thinking": "thought", "signature": "SIG"}],
            "calls": [{"call_id": "call_1", "signature": "TS"}]
        })
    );
    // No reasoning text, only state: an item with an empty summary.
    let mut r = reasoning_reply();
    r.choice.reasoning = None;
    let v = reply_json(&r, true);
    assert_eq!(v["output"][0]["summary"], json!([]));
    assert!(v["output"][0]["encrypted_content"].is_string());
    assert!(reply_json(&r, false)["output"][0]["type"] == "function_call");
}

#[test]
fn stopped_early_is_incomplete() {
    for (finish, reason) in [
        (Finish::Length, "max_output_tokens"),
        (Finish::ContentFilter, "content_filter"),
    ] {
        let r = Reply {
            choice: Choice {
                text: Some("Hel".into()),
                finish,
                ..Choice::default()
            },
            ..Reply::default()
        };
        let v = reply_json(&r, false);
        assert_eq!(v["status"], "incomplete");
        assert_eq!(v["incomplete_details"], json!({"reason": reason}));
        assert_eq!(v["output"][0]["status"], "incomplete");
    }
    // Nothing at all still lists one (empty) message.
    let v = reply_json(&Reply::default(), false);
    assert_eq!(v["output"][0]["content"][0]["text"], "");
}

#[test]
fn errors_use_the_openai_envelope() {
    let e = ApiError::invalid_param("input", "bad");
    let v: Value = serde_json::from_slice(&encoder(meta(false)).error(&e)).unwrap();
    assert_eq!(
        v,
        json!({"error": {"message": "bad", "type": "invalid_request_error", "param": "input", "code": null}})
    );
}

/// Whole replies for the SDK check (see `stream::write_sdk_fixtures`).
pub fn sdk_replies() -> Vec<(&'static str, Value)> {
    let text = Reply {
        id: Cow::Borrowed("msg_abc"),
        choice: Choice {
            text: Some("Hello".into()),
            ..Choice::default()
        },
        usage: usage(),
        ..Reply::default()
    };
    let cut = Reply {
        choice: Choice {
            text: Some("Hel".into()),
            finish: Finish::Length,
            ..Choice::default()
        },
        ..Reply::default()
    };
    vec![
        ("text.json", reply_json(&text, false)),
        ("reasoning.json", reply_json(&reasoning_reply(), true)),
        ("incomplete.json", reply_json(&cut, false)),
    ]
}
