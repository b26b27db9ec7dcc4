use serde_json::{json, Value};

use crate::faults::{Body, Faults};
use crate::openai::handle;
use crate::server::{Listener, Provider};

const KEY: &str = "k-openai";

fn call_raw(body: &Value, extra: &[(&str, &str)]) -> crate::faults::Response {
    let bearer = format!("Bearer {KEY}");
    let req = crate::test_support::post(super::PATH, &[("authorization", &bearer)], body, extra);
    let state = Listener::new(Provider::OpenAi, KEY);
    handle(&state, &req, &Faults::from_request(&req))
}

fn call(body: Value) -> (u16, Value) {
    let resp = call_raw(&body, &[]);
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

/// (event name, data) of a streamed response; checks the framing and that
/// sequence numbers count up from 0.
fn sse(body: Value, extra: &[(&str, &str)]) -> Vec<Value> {
    let resp = call_raw(&body, extra);
    let Body::Sse(events) = resp.body else {
        panic!("not a stream")
    };
    let mut out = Vec::new();
    for (i, e) in events.into_iter().enumerate() {
        let text = String::from_utf8(e).unwrap();
        let (name, data) = text.strip_suffix("\n\n").unwrap().split_once('\n').unwrap();
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(
            Some(name),
            format!("event: {}", data["type"].as_str().unwrap())
                .as_str()
                .into()
        );
        assert_eq!(data["sequence_number"], i as u64);
        out.push(data);
    }
    out
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn error(body: Value) -> Value {
    let (status, v) = call(body);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    v["error"].clone()
}

/// The shape of a Codex request (texts and tool list shortened).
fn codex(prompt: &str) -> Value {
    json!({
        "model": "gpt-x",
        "stream": true,
        "input": [
            {"type": "message", "id": "msg_a", "role": "developer",
             "content": [{"type": "input_text", "text": "You are a coding agent."}]},
            {"type": "message", "id": "msg_b", "role": "user",
             "content": [{"type": "input_text", "text": "<environment_context/>"}]},
            {"type": "message", "id": "msg_c", "role": "user",
             "content": [{"type": "input_text", "text": prompt}]}
        ],
        "tools": [
            {"type": "function", "name": "exec_command", "description": "Runs a command.",
             "strict": false, "parameters": {"type": "object",
             "properties": {"cmd": {"type": "string"}}, "required": ["cmd"],
             "additionalProperties": false}},
            {"type": "namespace", "name": "multi_agent_v1", "description": "agents",
             "tools": [{"type": "function", "name": "close_agent", "description": "close",
                        "strict": false, "parameters": {"type": "object", "properties": {}}}]},
            {"type": "web_search", "external_web_access": false}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "reasoning": {"summary": "auto"},
        "store": false,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "client_metadata": {"session_id": "s1", "turn_id": "t1"}
    })
}

#[test]
fn text_reply_json() {
    let (status, v) =
        call(json!({"model": "gpt-x", "input": "hello there", "instructions": "be brief"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["id"], "resp_mock_1");
    assert_eq!(
        (v["object"].clone(), v["status"].clone()),
        (json!("response"), json!("completed"))
    );
    assert_eq!(v["instructions"], "be brief");
    assert_eq!(
        v["output"],
        json!([{"id": "msg_mock_1", "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "Mock reply ✓ from gpt-x: hello there",
                             "annotations": [], "logprobs": []}]}])
    );
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 4, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
               "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 11})
    );
}

#[test]
fn tool_loop_json() {
    let mut body = codex("list files MOCK_CALL exec_command {\"cmd\": \"ls -la\"}");
    body["stream"] = json!(false);
    body.as_object_mut().unwrap().remove("include");
    let (status, v) = call(body.clone());
    assert_eq!(status, 200, "{v}");
    let item = &v["output"][0];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "exec_command");
    let args: Value = serde_json::from_str(item["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"cmd": "ls -la"}));
    let input = body["input"].as_array_mut().unwrap();
    input.push(item.clone());
    input.push(json!({"type": "function_call_output", "call_id": item["call_id"], "output": "a.txt b.txt"}));
    let (status, v) = call(body.clone());
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Tool result received: a.txt b.txt"
    );
    body["input"][4]["call_id"] = json!("call_other");
    let e = error(body);
    assert_eq!(
        e["message"],
        "No tool call found for function call output with call_id call_other."
    );
}

#[test]
fn strict_validation() {
    let e = error(json!({"model": "m", "input": "x", "frobnicate": 1}));
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (json!("frobnicate"), json!("unknown_parameter"))
    );
    let e = error(json!({"model": "m", "input": "x", "temperature": "hot"}));
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (json!("temperature"), json!("invalid_type"))
    );
    let e = error(json!({"model": "m", "input": 5}));
    assert_eq!(e["param"], "input");
    let e = error(json!({"input": "x"}));
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (json!("model"), json!("missing_required_parameter"))
    );
    let e = error(json!({"model": "m", "input": "x", "max_output_tokens": 5}));
    assert_eq!(e["code"], "integer_below_min_value");
    let e = error(
        json!({"model": "m", "input": [{"type": "message", "role": "robot", "content": "x"}]}),
    );
    assert_eq!(e["param"], "input[0].role");
    let e = error(json!({"model": "m", "input": [{"type": "telepathy"}]}));
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (json!("input[0].type"), json!("invalid_value"))
    );
    let e = error(
        json!({"model": "m", "input": [{"role": "user", "content": [{"type": "output_text", "text": "x"}]}]}),
    );
    assert_eq!(e["param"], "input[0].content[0].type");
    let e =
        error(json!({"model": "m", "input": "x", "tools": [{"type": "function", "name": "a b"}]}));
    assert_eq!(e["param"], "tools[0].name");
    let e = error(json!({"model": "m", "input": "x", "tools": [{"type": "teleport"}]}));
    assert_eq!(e["param"], "tools[0].type");
    let e = error(
        json!({"model": "m", "input": "x", "tools": [{"type": "function", "name": "a", "parameters": {}, "extra": 1}]}),
    );
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (json!("tools[0].extra"), json!("unknown_parameter"))
    );
    let e = error(json!({"model": "m", "input": "x", "include": ["everything"]}));
    assert_eq!(e["param"], "include[0]");
    let e = error(json!({"model": "m", "input": "x", "reasoning": {"effort": "extreme"}}));
    assert_eq!(e["param"], "reasoning.effort");
    let e = error(json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}));
    assert_eq!(e["code"], "previous_response_not_found");
    let e = error(
        json!({"model": "m", "input": "x", "text": {"format": {"type": "json_schema", "schema": {}}}}),
    );
    assert_eq!(e["param"], "text.format.name");
}

#[test]
fn reasoning_and_custom_items_are_accepted() {
    let body = json!({"model": "m", "input": [
        {"role": "user", "content": "go"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": super::respond::encrypted("rs_1")},
        {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done"}
    ], "tools": [{"type": "custom", "name": "apply_patch", "description": "patch"}]});
    let (status, v) = call(body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Tool result received: Done"
    );
}

#[test]
fn codex_stream_text() {
    let ev = sse(codex("say hi MOCK_TEXT"), &[]);
    let mut kinds = types(&ev);
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let text: String = ev
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Mock reply ✓ from gpt-x: say hi MOCK_TEXT");
    let done = ev
        .iter()
        .find(|e| e["type"] == "response.output_text.done")
        .unwrap();
    assert_eq!(done["text"], text.as_str());
    assert_eq!(ev[0]["response"]["status"], "in_progress");
    assert_eq!(ev[0]["response"]["output"], json!([]));
    let last = ev.last().unwrap();
    assert_eq!(
        last["response"]["output"][1]["content"][0]["text"],
        text.as_str()
    );
    assert_eq!(last["response"]["usage"]["output_tokens"], 8);
    assert_eq!(
        types(&ev)
            .iter()
            .filter(|t| **t == "response.output_text.delta")
            .count(),
        8
    );
    assert_eq!(ev[4]["item"]["id"], ev[6]["item_id"]);
}

#[test]
fn codex_stream_call() {
    let ev = sse(
        codex("MOCK_CALL exec_command {\"cmd\": \"cat notes.txt\"}"),
        &[],
    );
    let args: String = ev
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"cmd": "cat notes.txt"})
    );
    let done = ev
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done["arguments"], args.as_str());
    let done: Vec<&Value> = ev
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .collect();
    let reasoning = json!({"id": "rs_mock_1", "type": "reasoning", "summary": [],
                           "encrypted_content": super::respond::encrypted("rs_mock_1")});
    let call = json!({"id": "fc_mock_1", "type": "function_call", "status": "completed",
                      "arguments": args, "call_id": "call_mock_1", "name": "exec_command"});
    assert_eq!(done[0]["item"], reasoning);
    assert_eq!(
        (done[1]["item"].clone(), done[1]["output_index"].clone()),
        (call.clone(), json!(1))
    );
    assert!(ev
        .iter()
        .filter(|e| e.get("item_id").is_some())
        .all(|e| e["output_index"] == 1));
    assert_eq!(ev.last().unwrap()["type"], "response.completed");
    assert_eq!(
        ev.last().unwrap()["response"]["output"],
        json!([reasoning, call])
    );
}

#[test]
fn reasoning_round_trip() {
    let mut body = codex("MOCK_CALL exec_command {\"cmd\": \"ls\"}");
    body["stream"] = json!(false);
    let (_, v) = call(body.clone());
    let output = v["output"].as_array().unwrap().clone();
    assert_eq!(output[0]["type"], "reasoning");
    let call_id = output[1]["call_id"].clone();
    let input = body["input"].as_array_mut().unwrap();
    input.extend(output);
    input.push(json!({"type": "function_call_output", "call_id": call_id, "output": "ok"}));
    let (status, v) = call(body.clone());
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["output"][1]["content"][0]["text"],
        "Tool result received: ok"
    );
    body["input"][3]["encrypted_content"] = json!("forged");
    let e = error(body.clone());
    assert_eq!(
        (e["param"].clone(), e["code"].clone()),
        (
            json!("input[3].encrypted_content"),
            json!("invalid_encrypted_content")
        )
    );
    // Without include, no reasoning item.
    body.as_object_mut().unwrap().remove("include");
    body["input"] = json!("hi MOCK_TEXT");
    let (_, v) = call(body);
    assert_eq!(v["output"].as_array().unwrap().len(), 1);
}

#[test]
fn length_cut_is_incomplete() {
    let words = "w ".repeat(40);
    let body = json!({"model": "m", "input": words, "max_output_tokens": 16, "stream": true});
    let ev = sse(body.clone(), &[]);
    let last = ev.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    let mut body = body;
    body["stream"] = json!(false);
    let (_, v) = call(body);
    assert_eq!(v["status"], "incomplete");
}

#[test]
fn structured_output() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer"}},
                        "required": ["city", "n"], "additionalProperties": false});
    let body = json!({"model": "m", "input": "weather?", "text": {"format":
        {"type": "json_schema", "name": "w", "schema": schema, "strict": true}}});
    let (status, v) = call(body);
    assert_eq!(status, 200, "{v}");
    let text = v["output"][0]["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"city": "mock-city", "n": 1})
    );
}

#[test]
fn stream_fault_fails_the_response() {
    let ev = sse(codex("hi MOCK_TEXT"), &[("x-mock-stream-error", "1")]);
    let last = ev.last().unwrap();
    assert_eq!(last["type"], "response.failed");
    assert_eq!(last["response"]["error"]["code"], "server_error");
    assert!(!types(&ev).contains(&"response.completed"));
}
