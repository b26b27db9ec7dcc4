use serde_json::{json, Value};

use super::messages_json;
use crate::dialect::responses::decode;
use crate::error::ApiError;
use crate::openai::{ResponseFormatType, ToolChoice};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn err(v: Value) -> ApiError {
    decode(&body(&v)).expect_err("should be refused")
}

#[test]
fn every_item_kind_becomes_chat_messages() {
    let req = json!({
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": "hi"},
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"},
                {"type": "input_image", "file_id": "file-img"},
                {"type": "input_file", "file_data": "data:application/pdf;base64,QUJD", "filename": "a.pdf"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "s"}],
             "encrypted_content": "gAAAA-openai-own"},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
             "content": [{"type": "output_text", "text": "calling", "annotations": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{\"a\":1}"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2",
             "output": [{"type": "input_text", "text": "two"}]},
            {"type": "function_call", "call_id": "c3", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c3", "output": "three"},
            {"role": "system", "content": "sys"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]}
        ]
    });
    let b = body(&req);
    let r = decode(&b).unwrap();
    let expected = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "developer", "content": [{"text": "dev"}]},
        {"role": "user", "content": [
            {"text": "look"},
            {"image_url": "https://x/y.png", "detail": "low"},
            {"file_data": null, "file_id": "file-img", "filename": null},
            {"file_data": "data:application/pdf;base64,QUJD", "file_id": null, "filename": "a.pdf"}
        ]},
        {"role": "assistant", "content": [{"text": "calling"}], "tool_calls": [
            {"id": "c1", "name": "f", "arguments": "{}"},
            {"id": "c2", "name": "g", "arguments": "{\"a\":1}"}
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"text": "two"}]},
        {"role": "assistant", "tool_calls": [{"id": "c3", "name": "f", "arguments": "{}"}]},
        {"role": "tool", "tool_call_id": "c3", "content": "three"},
        {"role": "system", "content": "sys"},
        {"role": "assistant", "content": [{"refusal": "no"}]}
    ]);
    assert_eq!(messages_json(&r), expected);
    assert_eq!(r.model.as_deref(), Some("m"));
}

#[test]
fn string_input_is_one_user_message() {
    let b = body(&json!({"model": "m", "input": "hello"}));
    let r = decode(&b).unwrap();
    assert_eq!(
        messages_json(&r),
        json!([{"role": "user", "content": "hello"}])
    );
    assert!(r.tools.is_none() && r.stream.is_none() && r.stream_options.is_none());
}

#[test]
fn parameters_map_to_the_neutral_request() {
    let b = body(&json!({
        "model": "m", "input": "q",
        "tools": [
            {"type": "function", "name": "f", "description": "d",
             "parameters": {"type": "object", "properties": {}}, "strict": true},
            {"type": "web_search"},
            {"type": "namespace", "name": "ns", "description": "grouped",
             "tools": [{"type": "function", "name": "h", "parameters": {"type": "object"}}]},
            {"type": "mcp", "server_label": "x", "server_url": "https://m"}
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "parallel_tool_calls": false,
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true},
                 "verbosity": "low"},
        "reasoning": {"effort": "high", "summary": "auto"},
        "max_output_tokens": 99, "temperature": 0.5, "top_p": 0.9,
        "stream": true, "stream_options": {"include_obfuscation": false},
        "metadata": {"k": "v"}, "user": "u", "safety_identifier": "s",
        "prompt_cache_key": "pk", "service_tier": "flex", "store": false,
        "previous_response_id": "resp_1",
        "include": ["reasoning.encrypted_content", "web_search_call.results"],
        "client_metadata": {"session_id": "s1"},
        "truncation": "disabled"
    }));
    let r = decode(&b).unwrap();
    let tools = r.tools.as_ref().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[1].function.as_ref().unwrap().name, "h");
    let f = tools[0].function.as_ref().unwrap();
    assert_eq!(
        (f.name.as_ref(), f.description.as_deref(), f.strict),
        ("f", Some("d"), Some(true))
    );
    let params: Value = serde_json::from_str(f.parameters.unwrap().get()).unwrap();
    assert_eq!(params, json!({"type": "object", "properties": {}}));
    let kinds: Vec<&str> = r.ext.server_tools.iter().map(|t| t.kind.as_ref()).collect();
    assert_eq!(kinds, ["web_search", "mcp"]);
    let raw: Value = serde_json::from_str(r.ext.server_tools[1].raw.get()).unwrap();
    assert_eq!(raw["server_label"], "x");
    match &r.tool_choice {
        Some(ToolChoice::Named(n)) => assert_eq!(n.function.as_ref().unwrap().name, "f"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.parallel_tool_calls, Some(false));
    let rf = r.response_format.as_ref().unwrap();
    assert_eq!(rf.kind, ResponseFormatType::JsonSchema);
    let schema: Value = serde_json::from_str(rf.json_schema.unwrap().get()).unwrap();
    assert_eq!(schema["name"], "out");
    assert_eq!(schema["schema"], json!({"type": "object"}));
    assert_eq!(schema["strict"], true);
    assert_eq!(r.verbosity.as_deref(), Some("low"));
    assert_eq!(r.reasoning_effort.as_deref(), Some("high"));
    assert_eq!(r.ext.reasoning_summary.as_deref(), Some("auto"));
    assert_eq!(r.max_output_tokens(), Some(("max_completion_tokens", 99)));
    assert_eq!((r.temperature, r.top_p), (Some(0.5), Some(0.9)));
    assert!(r.is_stream() && r.include_usage());
    assert_eq!(
        r.stream_options.as_ref().unwrap().include_obfuscation,
        Some(false)
    );
    let meta: Value = serde_json::from_str(r.metadata.unwrap().get()).unwrap();
    assert_eq!(meta, json!({"k": "v"}));
    assert_eq!(r.user.as_deref(), Some("u"));
    assert_eq!(r.safety_identifier.as_deref(), Some("s"));
    assert_eq!(r.prompt_cache_key.as_deref(), Some("pk"));
    assert_eq!(r.service_tier.as_deref(), Some("flex"));
    assert_eq!((r.store, r.ext.store), (None, false));
    assert_eq!(r.ext.previous_response_id.as_deref(), Some("resp_1"));
    assert!(r.ext.encrypted_reasoning);
    assert!(r.extra.is_empty(), "{:?}", r.extra);
}

#[test]
fn tool_choice_modes_and_formats() {
    for (given, want) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Required),
    ] {
        let b = body(&json!({"model": "m", "input": "q", "tool_choice": given}));
        assert_eq!(decode(&b).unwrap().tool_choice, Some(want));
    }
    for (ty, want) in [
        ("text", ResponseFormatType::Text),
        ("json_object", ResponseFormatType::JsonObject),
    ] {
        let b = body(&json!({"model": "m", "input": "q", "text": {"format": {"type": ty}}}));
        let r = decode(&b).unwrap();
        let rf = r.response_format.unwrap();
        assert_eq!((rf.kind, rf.json_schema.is_none()), (want, true));
    }
    let b = body(&json!({"model": "m", "input": "q"}));
    assert!(!decode(&b).unwrap().ext.encrypted_reasoning);
}

#[test]
fn what_only_openai_honours_goes_to_extra() {
    let b = body(&json!({
        "model": "m", "input": "q", "background": true, "truncation": "auto",
        "max_tool_calls": 3, "conversation": "conv_1", "top_logprobs": 2,
        "include": ["message.output_text.logprobs"], "prompt_cache_retention": "24h"
    }));
    let r = decode(&b).unwrap();
    let extra = serde_json::Value::Object(r.extra.clone());
    assert_eq!(
        extra,
        json!({
            "background": true, "truncation": "auto", "max_tool_calls": 3,
            "conversation": "conv_1", "top_logprobs": 2,
            "include": ["message.output_text.logprobs"], "prompt_cache_retention": "24h"
        })
    );
    // Asking for nothing is not a parameter to refuse.
    let b = body(&json!({"model": "m", "input": "q", "background": false, "truncation": null}));
    assert!(decode(&b).unwrap().extra.is_empty());
}

#[test]
fn errors_name_the_parameter() {
    let q = |extra: Value| {
        let mut v = json!({"model": "m", "input": "q"});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        (q(json!({"bogus": 1})), "bogus"),
        (q(json!({"temperature": "hot"})), "temperature"),
        (
            q(json!({"reasoning": {"effort": "low", "bogus": 1}})),
            "reasoning.bogus",
        ),
        (
            q(json!({"text": {"format": {"type": "xml"}}})),
            "text.format.type",
        ),
        (
            q(json!({"text": {"format": {"type": "json_schema", "name": "x"}}})),
            "text.format.schema",
        ),
        (q(json!({"tools": [{"type": "function"}]})), "tools[0].name"),
        (q(json!({"tools": [{"name": "f"}]})), "tools[0].type"),
        (
            q(json!({"tools": [{"type": "namespace", "name": "n"}]})),
            "tools[0].tools",
        ),
        (
            q(
                json!({"tools": [{"type": "namespace", "name": "n", "tools": [{"type": "function"}]}]}),
            ),
            "tools[0].tools[0].name",
        ),
        (
            q(
                json!({"tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}]}),
            ),
            "tools[0].tools[0].type",
        ),
        (q(json!({"tool_choice": "sometimes"})), "tool_choice"),
        (
            q(json!({"tool_choice": {"type": "file_search"}})),
            "tool_choice",
        ),
        (
            q(json!({"tool_choice": {"type": "function"}})),
            "tool_choice.name",
        ),
        (
            q(json!({"include": ["reasoning.encrypted_content", "everything"]})),
            "include[1]",
        ),
        (q(json!({"truncation": "sometimes"})), "truncation"),
        (q(json!({"max_output_tokens": -1})), "max_output_tokens"),
        (q(json!({"input": 5})), "input"),
        (q(json!({"input": [["user", "hi"]]})), "input[0]"),
        (q(json!({"tools": [["function", "f"]]})), "tools[0]"),
        (q(json!({"text": {"format": ["text"]}})), "text.format"),
        (
            q(json!({"input": [{"content": "no role or type"}]})),
            "input[0].type",
        ),
        (
            q(json!({"input": [{"type": "item_reference", "id": "msg_1"}]})),
            "input[0].type",
        ),
        (
            q(
                json!({"input": [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]}),
            ),
            "input[1].role",
        ),
        (
            q(json!({"input": [{"type": "message", "role": "user"}]})),
            "input[0].content",
        ),
        (
            q(json!({"input": [{"role": "user", "content": [{"type": "input_text"}]}]})),
            "input[0].content[0].text",
        ),
        (
            q(json!({"input": [{"role": "user", "content": [{"type": "input_text", "text": 3}]}]})),
            "input[0].content[0].text",
        ),
        (
            q(json!({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]})),
            "input[0].content[0].type",
        ),
        (
            q(json!({"input": [{"role": "user", "content": [{"type": "input_image"}]}]})),
            "input[0].content[0].image_url",
        ),
        (
            q(
                json!({"input": [{"role": "user", "content": [{"type": "input_file", "file_url": "https://x"}]}]}),
            ),
            "input[0].content[0].file_url",
        ),
        (
            q(json!({"input": [{"role": "user", "content": [{"type": "input_file"}]}]})),
            "input[0].content[0].file_data",
        ),
        (
            q(json!({"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]})),
            "input[0].call_id",
        ),
        (
            q(json!({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]})),
            "input[0].arguments",
        ),
        (
            q(json!({"input": [{"type": "function_call_output", "call_id": "c"}]})),
            "input[0].output",
        ),
        (
            q(
                json!({"input": [{"type": "reasoning", "summary": [], "encrypted_content": "mmx1.%%%"}]}),
            ),
            "input[0].encrypted_content",
        ),
        (json!({"input": "q"}), "model"),
        (json!({"model": "m"}), "input"),
        (json!({"model": "m", "input": []}), "input"),
    ];
    for (req, param) in cases {
        let e = err(req.clone());
        assert_eq!(e.status, 400, "{req}");
        assert_eq!(e.param.as_deref(), Some(param), "{req}: {}", e.message);
        assert!(
            e.message.contains(param) || param == "model",
            "{req}: {}",
            e.message
        );
    }
}

#[test]
fn malformed_bodies_are_400_without_param() {
    for b in [
        &b"{"[..],
        b"[1]",
        b"null",
        b"{\"model\":\"m\",\"input\":\"q\",\"model\":\"n\"}",
    ] {
        let e = decode(b).expect_err("refused");
        assert_eq!(e.status, 400);
        let dup = b.starts_with(b"{\"model\":\"m\",\"input\"");
        assert_eq!(e.param.as_deref(), dup.then_some("model"), "{}", e.message);
    }
}

#[test]
fn previous_response_id_allows_an_empty_input() {
    let b = body(&json!({"model": "m", "previous_response_id": "resp_1", "input": []}));
    let r = decode(&b).unwrap();
    assert!(r.messages().is_empty());
}

/// What Codex sends on a second turn: its prompt as a developer message,
/// message ids, a namespace tool, `web_search`, `client_metadata`, and the
/// previous turn's items verbatim.
#[test]
fn a_codex_turn_decodes() {
    let b = body(&json!({
        "model": "gpt-x", "stream": true,
        "input": [
            {"type": "message", "id": "msg_a", "role": "developer",
             "content": [{"type": "input_text", "text": "You are a coding agent."}]},
            {"type": "message", "id": "msg_c", "role": "user",
             "content": [{"type": "input_text", "text": "list files"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [],
             "encrypted_content": "gAAAAABopenai"},
            {"type": "function_call", "id": "fc_1", "call_id": "call_9",
             "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}", "status": "completed"},
            {"type": "function_call_output", "call_id": "call_9", "output": "a.txt\n"}
        ],
        "tools": [
            {"type": "function", "name": "exec_command", "description": "Runs a command.",
             "strict": false, "parameters": {"type": "object",
             "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}},
            {"type": "namespace", "name": "multi_agent_v1", "description": "agents",
             "tools": [{"type": "function", "name": "close_agent", "description": "close",
                        "strict": false, "parameters": {"type": "object", "properties": {}}}]},
            {"type": "web_search", "external_web_access": false}
        ],
        "tool_choice": "auto", "parallel_tool_calls": true,
        "reasoning": {"summary": "auto"}, "store": false,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "client_metadata": {"session_id": "s1", "turn_id": "t1"}
    }));
    let r = decode(&b).unwrap();
    assert_eq!(
        messages_json(&r),
        json!([
            {"role": "developer", "content": [{"text": "You are a coding agent."}]},
            {"role": "user", "content": [{"text": "list files"}]},
            {"role": "assistant", "tool_calls": [
                {"id": "call_9", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "a.txt\n"}
        ])
    );
    let names: Vec<&str> = r
        .tools
        .iter()
        .flatten()
        .map(|t| t.function.as_ref().unwrap().name.as_ref())
        .collect();
    assert_eq!(names, ["exec_command", "close_agent"]);
    assert_eq!(r.ext.server_tools.len(), 1);
    assert_eq!(r.ext.server_tools[0].kind, "web_search");
    assert!(r.ext.encrypted_reasoning && r.include_usage());
    assert_eq!(r.ext.reasoning_summary.as_deref(), Some("auto"));
    assert_eq!((r.store, r.ext.store), (None, false));
    assert!(r.extra.is_empty());
}
