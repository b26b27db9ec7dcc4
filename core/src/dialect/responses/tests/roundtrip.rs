//! Reasoning state out in one response, back in the next request.

use serde_json::{json, Value};

use super::encode::reply_json;
use super::messages_json;
use super::stream::{check, encode, full_events};
use crate::dialect::responses::decode;
use crate::events::{Choice, Finish, Reply, Thinking, ToolCall};

/// The next request: the previous output, verbatim, then the call results.
fn next_turn(output: &Value, calls: &[&str]) -> Value {
    let mut input = vec![json!({"role": "user", "content": "go"})];
    input.extend(output.as_array().unwrap().iter().cloned());
    for c in calls {
        input.push(json!({"type": "function_call_output", "call_id": c, "output": "ok"}));
    }
    json!({"model": "m", "input": input, "include": ["reasoning.encrypted_content"]})
}

fn decoded(req: &Value) -> Value {
    let b = serde_json::to_vec(req).unwrap();
    messages_json(&decode(&b).unwrap())
}

#[test]
fn streamed_state_comes_back_on_the_next_turn() {
    let (_, last) = check(&encode(full_events(), true));
    let req = next_turn(&last["response"]["output"], &["call_1", "call_2"]);
    assert_eq!(
        decoded(&req),
        json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"text": "Hello"}],
             "thinking_blocks": [
                {"type": "thinking", "thinking": "think more", "signature": "S1", "data": null},
                {"type": "redacted_thinking", "thinking": null, "signature": null, "data": "R"}
             ],
             "tool_calls": [
                {"id": "call_1", "name": "f", "arguments": "{\"a\":1}"},
                {"id": "call_2", "name": "g", "arguments": "{}", "thought_signature": "TS"}
             ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
            {"role": "tool", "tool_call_id": "call_2", "content": "ok"}
        ])
    );
}

#[test]
fn whole_reply_state_comes_back_on_the_next_turn() {
    let r = Reply {
        choice: Choice {
            reasoning: Some("why".into()),
            thinking: vec![Thinking::Signed {
                text: "why".into(),
                signature: "SIG".into(),
            }],
            tool_calls: vec![ToolCall {
                id: "c1".into(),
                name: "f".into(),
                arguments: "{}".into(),
                signature: Some("TS1".into()),
            }],
            finish: Finish::ToolCalls,
            ..Choice::default()
        },
        ..Reply::default()
    };
    let out = reply_json(&r, true)["output"].clone();
    assert_eq!(
        decoded(&next_turn(&out, &["c1"])),
        json!([
            {"role": "user", "content": "go"},
            {"role": "assistant",
             "thinking_blocks": [{"type": "thinking", "thinking": "why", "signature": "SIG", "data": null}],
             "tool_calls": [{"id": "c1", "name": "f", "arguments": "{}", "thought_signature": "TS1"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}
        ])
    );
    // Without the state (client did not ask), nothing is restored.
    let out = reply_json(&r, false)["output"].clone();
    let msgs = decoded(&next_turn(&out, &["c1"]));
    assert_eq!(
        msgs[1],
        json!({"role": "assistant", "tool_calls": [{"id": "c1", "name": "f", "arguments": "{}"}]})
    );
}
