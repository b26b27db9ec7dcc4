use serde_json::{json, Value};

use super::{rejected, upstream, user, with};

fn eph() -> Value {
    json!({"type": "ephemeral"})
}

#[test]
fn message_level_marks_the_last_block_of_the_message() {
    let body = upstream(json!({"model": "smart", "messages": [
        {"role": "user", "content": "long document", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
         "cache_control": {"type": "ephemeral"}},
    ]}));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "long document",
                "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            {"role": "user", "content": [{"type": "text", "text": "a"},
                {"type": "text", "text": "b", "cache_control": eph()}]},
        ])
    );
}

#[test]
fn part_level_marks_that_part() {
    let body = upstream(
        json!({"model": "smart", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}, "cache_control": eph()},
        {"type": "text", "text": "", "cache_control": eph()},
        {"type": "text", "text": "question"}]}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "cache_control": eph()},
            {"type": "text", "text": "question"},
        ])
    );
}

#[test]
fn system_developer_and_tools() {
    let body = upstream(json!({"model": "smart",
        "tools": [{"type": "function", "function": {"name": "a"}},
                  {"type": "function", "function": {"name": "b"}, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [
            {"role": "system", "content": "rules", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"role": "developer", "content": [{"type": "text", "text": "x", "cache_control": eph()},
                                               {"type": "text", "text": "y"}]},
            user("hi")]}));
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "rules", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "x", "cache_control": eph()},
            {"type": "text", "text": "y"},
        ])
    );
    assert!(body["tools"][0].get("cache_control").is_none());
    assert_eq!(
        body["tools"][1]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
}

#[test]
fn assistant_and_tool_messages() {
    let body = upstream(json!({"model": "smart", "messages": [
        user("q"),
        {"role": "assistant", "content": "calling", "cache_control": eph(),
         "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}],
         "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "big result", "cache_control": eph()},
        {"role": "assistant", "content": "", "thinking_blocks": [{"type": "redacted_thinking", "data": "d"}],
         "cache_control": eph()},
    ]}));
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "t", "signature": "s"},
            {"type": "text", "text": "calling"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}, "cache_control": eph()},
        ])
    );
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "t1", "content": "big result", "cache_control": eph()}])
    );
    // Thinking blocks cannot carry a breakpoint: nothing else to mark.
    assert_eq!(
        body["messages"][3]["content"],
        json!([{"type": "redacted_thinking", "data": "d"}])
    );
}

#[test]
fn null_means_no_breakpoint() {
    let body = upstream(
        json!({"model": "smart", "messages": [{"role": "user", "content": "hi", "cache_control": null}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([{"type": "text", "text": "hi"}])
    );
}

#[test]
fn invalid_values_are_named() {
    let bad = [
        json!({"type": "persistent"}),
        json!({"type": "ephemeral", "ttl": "2h"}),
        json!({"type": "ephemeral", "ttl": 3600}),
        json!({"type": "ephemeral", "scope": "global"}),
        json!("ephemeral"),
        json!({}),
    ];
    for cc in bad {
        let e = rejected(
            json!({"model": "smart", "messages": [{"role": "user", "content": "hi", "cache_control": cc}]}),
        );
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].cache_control"),
            "{cc}"
        );
        assert!(e.message.contains("ephemeral"), "{}", e.message);
        let e = rejected(
            json!({"model": "smart", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": cc}]}]}),
        );
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[1].cache_control")
        );
        let e = rejected(with(
            json!({"tools": [{"type": "function", "function": {"name": "f"}, "cache_control": cc}]}),
        ));
        assert_eq!(e.param.as_deref(), Some("tools[0].cache_control"));
        let e = rejected(json!({"model": "smart", "messages": [
            {"role": "system", "content": "s", "cache_control": cc}, user("hi")]}));
        assert_eq!(e.param.as_deref(), Some("messages[0].cache_control"));
    }
}
