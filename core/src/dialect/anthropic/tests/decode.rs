use serde_json::{json, Value};

use crate::dialect::anthropic::decode;
use crate::error::ApiError;
use crate::openai::{ChatRequest, PartType, Role, TextOr, ThinkingRequest, ToolChoice};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn base(extra: Value) -> Value {
    let mut b = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}]
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn rejected(v: Value) -> ApiError {
    let bytes = body(&v);
    let e = decode(&bytes).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    e
}

fn param(v: Value) -> String {
    rejected(v).param.unwrap_or_default()
}

fn raw(r: Option<&serde_json::value::RawValue>) -> Value {
    serde_json::from_str(r.unwrap().get()).unwrap()
}

fn with<R>(v: Value, check: impl FnOnce(&ChatRequest<'_>) -> R) -> R {
    let bytes = body(&v);
    let req = decode(&bytes).unwrap();
    check(&req)
}

#[test]
fn required_fields_are_named() {
    for field in ["model", "max_tokens", "messages"] {
        let mut b = base(json!({}));
        b.as_object_mut().unwrap().remove(field);
        let e = rejected(b);
        assert_eq!(e.param.as_deref(), Some(field));
        assert_eq!(e.message, format!("{field}: Field required"));
    }
    assert_eq!(param(base(json!({"messages": []}))), "messages");
}

#[test]
fn unknown_and_mistyped_fields_are_named_by_path() {
    assert_eq!(
        param(base(json!({"frequency_penalty": 1}))),
        "frequency_penalty"
    );
    let e = rejected(base(
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a", "bogus": 1}]}]}),
    ));
    assert_eq!(e.param.as_deref(), Some("messages.0.content.0.bogus"));
    assert!(
        e.message.contains("Extra inputs are not permitted"),
        "{}",
        e.message
    );
    assert_eq!(param(base(json!({"max_tokens": "ten"}))), "max_tokens");
    assert_eq!(
        param(base(
            json!({"messages": [{"role": "robot", "content": "x"}]})
        )),
        "messages.0.role"
    );
    assert_eq!(
        param(base(
            json!({"messages": [{"role": "user", "content": [{"type": "text"}]}]})
        )),
        "messages.0.content.0.text"
    );
    assert_eq!(
        param(base(
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]})
        )),
        "messages.0.content.0.text"
    );
    assert_eq!(
        param(base(
            json!({"tools": [{"name": "f", "input_schema": {}, "color": "red"}]})
        )),
        "tools.0.color"
    );
    assert_eq!(
        param(base(json!({"tools": [{"name": "f"}]}))),
        "tools.0.input_schema"
    );
    assert_eq!(
        param(base(json!({"tool_choice": {"type": "tool"}}))),
        "tool_choice.name"
    );
    assert_eq!(
        param(base(json!({"thinking": {"type": "enabled"}}))),
        "thinking.budget_tokens"
    );
    assert_eq!(
        param(base(json!({"system": [{"type": "image"}]}))),
        "system.0.type"
    );
    let e = rejected(json!("just a string"));
    assert!(e.message.contains("JSON object"), "{}", e.message);
}

#[test]
fn untranslatable_blocks_are_named() {
    let server_block = json!({"role": "assistant", "content": [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
    ]});
    let e = rejected(base(
        json!({"messages": [{"role": "user", "content": "q"}, server_block]}),
    ));
    assert_eq!(e.param.as_deref(), Some("messages.1.content.0.type"));
    assert!(e.message.contains("server_tool_use"));
    let url_doc = json!({"role": "user", "content": [
        {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}
    ]});
    assert_eq!(
        param(base(json!({"messages": [url_doc]}))),
        "messages.0.content.0.source.type"
    );
    let misplaced = json!({"role": "user", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    ]});
    assert_eq!(
        param(base(json!({"messages": [misplaced]}))),
        "messages.0.content.0.type"
    );
    let bad_input = json!({"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": [1]}
    ]});
    assert_eq!(
        param(base(json!({"messages": [bad_input]}))),
        "messages.0.content.0.input"
    );
}

#[test]
fn system_string_and_blocks_keep_cache_control() {
    with(base(json!({"system": "be brief"})), |r| {
        let m = &r.messages()[0];
        assert_eq!(m.role, Role::System);
        assert!(matches!(&m.content, Some(TextOr::Text(t)) if t == "be brief"));
    });
    let sys = json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}]);
    with(base(json!({"system": sys})), |r| {
        let Some(TextOr::Items(parts)) = &r.messages()[0].content else {
            panic!()
        };
        assert_eq!(parts.len(), 2);
        assert!(parts[0].cache_control.is_none());
        assert_eq!(raw(parts[1].cache_control), json!({"type": "ephemeral"}));
    });
}

#[test]
fn user_content_kinds() {
    let content = json!([
        {"type": "text", "text": "look", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "document", "title": "report", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}}
    ]);
    with(
        base(json!({"messages": [{"role": "user", "content": content}]})),
        |r| {
            let Some(TextOr::Items(p)) = &r.messages()[0].content else {
                panic!()
            };
            assert_eq!(p[0].text.as_deref(), Some("look"));
            assert_eq!(
                raw(p[0].cache_control),
                json!({"type": "ephemeral", "ttl": "1h"})
            );
            assert_eq!(p[1].kind, PartType::ImageUrl);
            assert_eq!(
                p[1].image_url.as_ref().unwrap().url,
                "data:image/png;base64,iVBOR"
            );
            assert_eq!(
                p[2].image_url.as_ref().unwrap().url,
                "https://example.com/a.png"
            );
            assert_eq!(p[3].kind, PartType::File);
            let f = p[3].file.as_ref().unwrap();
            assert_eq!(
                f.file_data.as_deref(),
                Some("data:application/pdf;base64,JVBERi0")
            );
            assert_eq!(f.filename.as_deref(), Some("report"));
            assert_eq!(
                (p[4].kind, p[4].text.as_deref()),
                (PartType::Text, Some("plain words"))
            );
        },
    );
}

#[test]
fn tool_results_come_first_as_tool_messages() {
    let msgs = json!([
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm \u{2014} ok", "signature": "sig/+=="},
            {"type": "redacted_thinking", "data": "ENC"},
            {"type": "text", "text": "checking"},
            {"type": "tool_use", "id": "toolu_1", "name": "get", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get", "input": {"city": "Rome"}, "cache_control": {"type": "ephemeral"}}
        ]},
        {"role": "user", "content": [
            {"type": "text", "text": "here"},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "cache_control": {"type": "ephemeral"},
             "content": [{"type": "text", "text": "timeout"}]}
        ]}
    ]);
    with(base(json!({"messages": msgs})), |r| {
        let m = r.messages();
        assert_eq!(m.len(), 5);
        let a = &m[1];
        assert_eq!(a.role, Role::Assistant);
        let tb = a.thinking_blocks.as_ref().unwrap();
        assert_eq!(
            (tb[0].kind.as_ref(), tb[0].thinking.as_deref()),
            ("thinking", Some("hmm \u{2014} ok"))
        );
        assert_eq!(tb[0].signature.as_deref(), Some("sig/+=="));
        assert_eq!(
            (tb[1].kind.as_ref(), tb[1].data.as_deref()),
            ("redacted_thinking", Some("ENC"))
        );
        let calls = a.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].id, "toolu_1");
        let args: Value = serde_json::from_str(&calls[1].function.arguments).unwrap();
        assert_eq!(args, json!({"city": "Rome"}));
        assert_eq!(raw(a.cache_control), json!({"type": "ephemeral"}));
        assert_eq!(
            (m[2].role, m[2].tool_call_id.as_deref()),
            (Role::Tool, Some("toolu_1"))
        );
        assert!(matches!(&m[2].content, Some(TextOr::Text(t)) if t == "sunny"));
        assert_eq!(
            (m[3].role, m[3].tool_call_id.as_deref()),
            (Role::Tool, Some("toolu_2"))
        );
        assert_eq!(raw(m[3].cache_control), json!({"type": "ephemeral"}));
        assert_eq!(m[4].role, Role::User);
        assert_eq!(r.ext.tool_errors, vec![3]);
    });
}

#[test]
fn parameters_map_to_the_neutral_request() {
    let extra = json!({
        "system": "s", "stream": true, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
        "stop_sequences": ["END", "STOP"], "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 2048}, "service_tier": "standard_only",
        "tools": [
            {"name": "get", "description": "d", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "bash_20250124", "name": "bash"}
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "container": "cnt_1"
    });
    with(base(extra), |r| {
        assert!(r.is_stream());
        assert_eq!(
            (r.temperature, r.top_p, r.ext.top_k),
            (Some(0.5), Some(0.9), Some(40))
        );
        assert_eq!(r.max_output_tokens(), Some(("max_tokens", 1024)));
        let Some(TextOr::Items(stops)) = &r.stop else {
            panic!()
        };
        assert_eq!(
            stops.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["END", "STOP"]
        );
        assert_eq!(r.user.as_deref(), Some("u-1"));
        assert_eq!(
            r.ext.thinking,
            Some(ThinkingRequest::Enabled {
                budget_tokens: 2048
            })
        );
        assert_eq!(r.service_tier.as_deref(), Some("default"));
        let tools = r.tools.as_ref().unwrap();
        assert_eq!(tools.len(), 1);
        let f = tools[0].function.as_ref().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(f.parameters.unwrap().get()).unwrap(),
            json!({"type": "object"})
        );
        assert_eq!(raw(tools[0].cache_control), json!({"type": "ephemeral"}));
        let st: Vec<_> = r.ext.server_tools.iter().map(|t| t.kind.as_ref()).collect();
        assert_eq!(st, ["web_search_20250305", "bash_20250124"]);
        let ws: Value = serde_json::from_str(r.ext.server_tools[0].raw.get()).unwrap();
        assert_eq!(
            ws,
            json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3})
        );
        assert_eq!(r.tool_choice, Some(ToolChoice::Required));
        assert_eq!(r.parallel_tool_calls, Some(false));
        assert_eq!(r.extra.get("container"), Some(&json!("cnt_1")));
    });
    with(
        base(
            json!({"thinking": {"type": "adaptive"}, "tool_choice": {"type": "tool", "name": "get"}}),
        ),
        |r| {
            assert_eq!(r.ext.thinking, Some(ThinkingRequest::Adaptive));
            let Some(ToolChoice::Named(n)) = &r.tool_choice else {
                panic!()
            };
            assert_eq!(n.function.as_ref().unwrap().name, "get");
            assert_eq!(r.parallel_tool_calls, None);
        },
    );
}

#[test]
fn duplicate_keys_and_broken_json_are_clear_400s() {
    let dup =
        br#"{"model":"a","max_tokens":1,"model":"b","messages":[{"role":"user","content":"x"}]}"#;
    let e = decode(dup).unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
    let e = decode(br#"{"model":"a","max_tokens":1,"messages":[{"role":"user","content":"x"}"#)
        .unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("not valid JSON"), "{}", e.message);
    let nested =
        br#"{"model":"a","max_tokens":1,"messages":[{"role":"user","content":"x","role":"user"}]}"#;
    assert_eq!(
        decode(nested).unwrap_err().param.as_deref(),
        Some("messages.0.role")
    );
}

#[test]
fn escaped_strings_keep_their_value() {
    let sig = "Eq\\\"QB/+\\u00e9=";
    let body = format!(
        r#"{{"model":"a","max_tokens":1,"messages":[{{"role":"assistant","content":[{{"type":"thinking","thinking":"t\n","signature":"{sig}"}}]}}]}}"#
    );
    let bytes = body.as_bytes();
    let req = decode(bytes).unwrap();
    let tb = &req.messages()[0].thinking_blocks.as_ref().unwrap()[0];
    let want: String = serde_json::from_str(&format!("\"{sig}\"")).unwrap();
    assert_eq!(tb.signature.as_deref(), Some(want.as_str()));
}

#[test]
fn fields_of_another_block_type_are_refused() {
    let cases = [
        (
            json!({"role": "user", "content": [{"type": "text", "text": "a", "is_error": true}]}),
            "messages.0.content.0.is_error",
        ),
        (
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "text": "a"}]}),
            "messages.0.content.0.text",
        ),
        (
            json!({"role": "assistant", "content": [{"type": "thinking", "thinking": "a", "signature": "s", "cache_control": {"type": "ephemeral"}}]}),
            "messages.0.content.0.cache_control",
        ),
        (
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "title": "t"}]}]}),
            "messages.0.content.0.content.0.title",
        ),
    ];
    for (msg, field) in cases {
        let e = rejected(base(json!({"messages": [msg]})));
        assert_eq!(e.param.as_deref(), Some(field));
        assert!(e.message.contains("Extra inputs are not permitted"));
    }
}

#[test]
fn claude_code_s_turn_shape_decodes() {
    // What Claude Code sends besides the basics: a system turn between the
    // others (with its own output_config), context management, an effort,
    // adaptive thinking with a display mode, and a deferred tool.
    let v = base(json!({
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "be terse"}],
             "output_config": {"effort": "low"}},
            {"role": "user", "content": "again"}
        ],
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
        "output_config": {"effort": "max"},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "tools": [{"name": "Read", "input_schema": {"type": "object"}, "defer_loading": true}]
    }));
    with(v, |r| {
        let roles: Vec<Role> = r.messages().iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::System, Role::User]);
        assert_eq!(r.reasoning_effort.as_deref(), Some("xhigh"));
        assert!(r.extra.is_empty(), "{:?}", r.extra);
        assert_eq!(r.ext.thinking, Some(ThinkingRequest::Adaptive));
    });
    let other =
        base(json!({"output_config": {"effort": "low", "format": {"type": "json_schema"}}}));
    with(other, |r| assert!(r.extra.contains_key("output_config")));
    assert_eq!(
        param(base(json!({"output_config": {"effort": "huge"}}))),
        "output_config.effort"
    );
    assert_eq!(
        param(base(
            json!({"messages": [{"role": "system", "content": [{"type": "image"}]}]})
        )),
        "messages.0.content.0.type"
    );
}
