//! Unit tests of the Bedrock provider: options and credentials, request
//! translation, whole replies and errors.

use serde_json::{json, Value};

use crate::config::{Config, ConfigError, Provider};
use crate::error::ApiError;
use crate::providers::auth::Auth;
use crate::providers::{BodyEdit, BodyMode, Outbound, TargetCtx, Translator};

const CLAUDE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn env(name: &str) -> Option<String> {
    match name {
        "AWS_ACCESS_KEY_ID" | "MY_KEY" => Some("AKIDEXAMPLE".to_string()),
        "AWS_SECRET_ACCESS_KEY" | "MY_SECRET" => Some("secret".to_string()),
        "BR_API_KEY" => Some("br-key".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn config(provider: Value) -> Result<Config, ConfigError> {
    let v = json!({
        "providers": [provider],
        "models": [{"name": "m", "targets": [{"provider": "br", "model": CLAUDE}]}]
    });
    Config::from_json(v.to_string().as_bytes(), &env)
}

fn bedrock(extra: Value) -> Value {
    let mut p = json!({"name": "br", "type": "bedrock", "cluster": "c_br", "region": "us-east-1"});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn provider() -> Provider {
    config(bedrock(json!({}))).unwrap().providers.remove(0)
}

fn start_with(body: &Value, model: &str) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "m",
        now_unix_secs: 1_700_000_000,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::chat_body(&serde_json::to_vec(body).unwrap(), ctx)
}

fn upstream_for(body: Value, model: &str) -> Value {
    let (_, out) = start_with(&body, model).unwrap();
    serde_json::from_slice(&out.body.unwrap()).unwrap()
}

fn upstream(body: Value) -> Value {
    upstream_for(body, CLAUDE)
}

fn with(extra: Value) -> Value {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn rejected(body: Value) -> ApiError {
    let e = start_with(&body, CLAUDE).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    e
}

#[test]
fn options_default_host_and_sigv4_from_default_env() {
    let p = provider();
    assert_eq!(p.host, "bedrock-runtime.us-east-1.amazonaws.com");
    assert_eq!(p.base_path, "");
    let Auth::SigV4(s) = &p.auth else {
        panic!("not sigv4: {:?}", p.auth)
    };
    assert_eq!(s.access_key_id.expose(), "AKIDEXAMPLE");
    assert_eq!(s.secret_access_key.expose(), "secret");
    assert_eq!(s.session_token, None);
    assert_eq!(s.region, "us-east-1");
    assert_eq!(s.service, "bedrock");
    assert_eq!(p.options.envoy_signing(), None);
}

#[test]
fn options_sigv4_custom_env_and_missing_vars_name_the_field() {
    let p = config(bedrock(
        json!({"auth": {"type": "sigv4", "access_key_id_env": "MY_KEY",
        "secret_access_key_env": "MY_SECRET", "session_token_env": "EMPTY"}}),
    ))
    .unwrap()
    .providers
    .remove(0);
    assert!(matches!(&p.auth, Auth::SigV4(s) if s.session_token.is_none()));
    let e = config(bedrock(
        json!({"auth": {"type": "sigv4", "access_key_id_env": "NOPE"}}),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("auth.access_key_id_env"), "{e}");
    let e = config(bedrock(
        json!({"auth": {"type": "sigv4", "secret_access_key_env": "NOPE"}}),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("auth.secret_access_key_env"), "{e}");
    let e = config(bedrock(json!({"auth": {"type": "sigv4", "bogus": 1}}))).unwrap_err();
    assert!(e.to_string().contains("bogus"), "{e}");
}

#[test]
fn options_envoy_api_key_and_errors() {
    let p = config(bedrock(json!({"auth": {"type": "envoy"}})))
        .unwrap()
        .providers
        .remove(0);
    assert_eq!(p.auth, Auth::None);
    let s = p.options.envoy_signing().unwrap();
    assert_eq!((s.service, s.region.as_str()), ("bedrock", "us-east-1"));
    for auth in [
        json!({"auth": {"type": "api_key"}, "api_key_env": "BR_API_KEY"}),
        json!({"api_key_env": "BR_API_KEY"}),
    ] {
        let p = config(bedrock(auth)).unwrap().providers.remove(0);
        assert!(matches!(&p.auth, Auth::Bearer(k) if k.expose() == "br-key"));
    }
    let e = config(bedrock(json!({"auth": {"type": "api_key"}}))).unwrap_err();
    assert!(e.to_string().contains("api_key_env"), "{e}");
    let e = config(bedrock(json!({"region": "US East"}))).unwrap_err();
    assert!(e.to_string().contains("region"), "{e}");
    let e = config(bedrock(json!({"regoin": "x"}))).unwrap_err();
    assert!(e.to_string().contains("regoin"), "{e}");
}

#[test]
fn path_encodes_the_model_once_and_streams_on_converse_stream() {
    let (_, out) = start_with(&with(json!({})), CLAUDE).unwrap();
    assert_eq!(
        out.path,
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"
    );
    assert!(out
        .headers
        .iter()
        .any(|(k, v)| *k == "content-type" && v == "application/json"));
    assert!(out.headers.iter().any(|(k, v)| *k == "authorization"
        && v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/")));
    let arn = "arn:aws:bedrock:us-east-1:123:inference-profile/x";
    let (_, out) = start_with(&with(json!({"stream": true})), arn).unwrap();
    assert_eq!(
        out.path,
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fx/converse-stream"
    );
}

#[test]
fn request_maps_messages_tools_and_config() {
    let body = json!({"model": "m", "max_tokens": 300, "temperature": 0.5, "top_p": 0.9,
    "stop": ["END"], "tool_choice": "required",
    "tools": [{"type": "function", "function": {"name": "get", "description": "d",
               "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}},
              {"type": "function", "function": {"name": "ping"}}],
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "no lies"}]},
        {"role": "user", "content": [{"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]},
        {"role": "assistant", "content": "calling",
         "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get", "arguments": "{\"q\":\"x\"}"}},
                        {"id": "t2", "type": "function", "function": {"name": "ping", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "r1"},
        {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "r2"}]},
        {"role": "user", "content": "thanks"}
    ]});
    let expected = json!({
        "system": [{"text": "be brief"}, {"text": "no lies"}],
        "messages": [
            {"role": "user", "content": [{"text": "look"},
                {"image": {"format": "png", "source": {"bytes": "iVBO"}}}]},
            {"role": "assistant", "content": [{"text": "calling"},
                {"toolUse": {"toolUseId": "t1", "name": "get", "input": {"q": "x"}}},
                {"toolUse": {"toolUseId": "t2", "name": "ping", "input": {}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": "r1"}]}},
                {"toolResult": {"toolUseId": "t2", "content": [{"text": "r2"}]}},
                {"text": "thanks"}]}
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
        "toolConfig": {"tools": [
            {"toolSpec": {"name": "get", "description": "d",
                "inputSchema": {"json": {"type": "object", "properties": {"q": {"type": "string"}}}}}},
            {"toolSpec": {"name": "ping", "inputSchema": {"json": {"type": "object", "properties": {}}}}}],
            "toolChoice": {"any": {}}}
    });
    assert_eq!(upstream(body), expected);
}

#[test]
fn request_minimal_and_tool_choices() {
    assert_eq!(
        upstream(with(json!({}))),
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    );
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let choice = |c: Value| upstream(with(json!({"tools": tools, "tool_choice": c})));
    assert_eq!(
        choice(json!("auto"))["toolConfig"]["toolChoice"],
        json!({"auto": {}})
    );
    assert_eq!(
        choice(json!({"type": "function", "function": {"name": "f"}}))["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "f"}})
    );
    assert_eq!(choice(json!("none")).get("toolConfig"), None);
}

#[test]
fn request_instructions_only_become_the_user_turn() {
    let body = json!({"model": "m", "messages": [{"role": "system", "content": "a"},
                                                 {"role": "developer", "content": "b"}]});
    assert_eq!(
        upstream(body),
        json!({"messages": [{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]})
    );
}

#[test]
fn request_thinking_for_claude() {
    let sent = upstream(with(json!({"reasoning_effort": "low"})));
    assert_eq!(
        sent["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 2048 + 4096);
    let sent = upstream(with(
        json!({"reasoning_effort": "high", "max_completion_tokens": 5000}),
    ));
    assert_eq!(
        sent["additionalModelRequestFields"]["thinking"]["budget_tokens"],
        4999
    );
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 5000);
    let sent = upstream(with(json!({"reasoning_effort": "none"})));
    assert_eq!(sent.get("additionalModelRequestFields"), None);
    let e = rejected(with(json!({"reasoning_effort": "low", "max_tokens": 1000})));
    assert_eq!(e.param.as_deref(), Some("max_tokens"));
    let e = start_with(
        &with(json!({"reasoning_effort": "low"})),
        "amazon.nova-pro-v1:0",
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
}

#[test]
fn request_thinking_blocks_go_back_as_reasoning_content() {
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "reasoning_content": "hmm",
         "thinking_blocks": [{"type": "thinking", "signature": "sig"},
                             {"type": "redacted_thinking", "data": "ZGF0YQ=="}]},
        {"role": "user", "content": "more"}]});
    assert_eq!(
        upstream(body)["messages"][1]["content"],
        json!([{"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
               {"reasoningContent": {"redactedContent": "ZGF0YQ=="}},
               {"text": "a"}])
    );
}

#[test]
fn request_refuses_what_converse_lacks() {
    for (extra, param) in [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"presence_penalty": 0.5}), "presence_penalty"),
        (json!({"frequency_penalty": 0.5}), "frequency_penalty"),
        (json!({"seed": 1}), "seed"),
        (json!({"logit_bias": {"1": 2}}), "logit_bias"),
        (
            json!({"response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": [1]}}}),
            "response_format.json_schema.schema",
        ),
        (
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
            "response_format.json_schema.schema",
        ),
        (json!({"top_k": 3}), "top_k"),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url",
            "image_url": {"url": "https://x/y.png"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url",
            "image_url": {"url": "data:image/tiff;base64,AAAA"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
        (
            json!({"messages": [{"role": "assistant", "content": "x", "tool_calls": [{"id": "a",
            "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]}),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
    ] {
        let e = rejected(with(extra.clone()));
        assert_eq!(e.param.as_deref(), Some(param), "{extra}");
    }
    // Neutral values ask for nothing.
    upstream(with(
        json!({"n": 1, "presence_penalty": 0, "response_format": {"type": "text"}}),
    ));
}

#[test]
fn json_schema_becomes_output_config_text_format() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
                        "required": ["city"], "additionalProperties": false});
    let body = upstream(with(
        json!({"response_format": {"type": "json_schema", "json_schema": {
        "name": "capital", "description": "The capital.", "strict": true, "schema": schema}}}),
    ));
    let text_format = &body["outputConfig"]["textFormat"];
    let def = &text_format["structure"]["jsonSchema"];
    // The schema travels as JSON text: compare it parsed.
    let sent: Value = serde_json::from_str(def["schema"].as_str().unwrap()).unwrap();
    assert_eq!(sent, schema);
    let mut rest = def.clone();
    rest.as_object_mut().unwrap().remove("schema");
    assert_eq!(
        rest,
        json!({"name": "capital", "description": "The capital."})
    );
    assert_eq!(text_format["type"], "json_schema");
    assert_eq!(
        text_format.as_object().unwrap().len() + body["outputConfig"].as_object().unwrap().len(),
        3
    );
    // `text` sends no outputConfig.
    let plain = upstream(with(json!({"response_format": {"type": "text"}})));
    assert!(plain.get("outputConfig").is_none());
}

/// A non-streamed exchange: the client's status (when changed) and body.
fn exchange(
    status: u16,
    errortype: Option<&str>,
    body: &[u8],
) -> (Box<dyn Translator>, Option<u16>, Value) {
    let (mut chat, _) = start_with(&with(json!({})), CLAUDE).unwrap();
    let et = errortype.map(str::to_string);
    let headers = |h: &str| match h {
        "x-amzn-errortype" => et.clone(),
        "x-amzn-requestid" => Some("9d1b-req".to_string()),
        _ => None,
    };
    let edit = chat.response_headers(status, &headers);
    assert_eq!(edit.mode, BodyMode::Buffer);
    let (client_status, bytes) = match chat.response_body(body, true) {
        BodyEdit::Replace(b) => (edit.status, b),
        BodyEdit::Fail { status, body } => (Some(status), body),
        BodyEdit::Keep => panic!("body kept"),
    };
    (chat, client_status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn reply_text_tools_reasoning_and_usage() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig1"}}},
            {"text": "Hello"},
            {"toolUse": {"toolUseId": "tu1", "name": "get", "input": {"q": 1}}},
            {"futureBlock": {}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 45,
                  "cacheReadInputTokens": 20, "cacheWriteInputTokens": 10},
        "metrics": {"latencyMs": 100}, "newField": 1});
    let (chat, status, out) = exchange(200, None, body.to_string().as_bytes());
    assert_eq!(status, None);
    assert_eq!(out["id"], "9d1b-req");
    let choice = &out["choices"][0];
    assert_eq!(choice["message"]["content"], "Hello");
    assert_eq!(choice["message"]["reasoning_content"], "think");
    assert_eq!(
        choice["message"]["thinking_blocks"],
        json!([{"type": "thinking", "thinking": "think", "signature": "sig1"}])
    );
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "tu1", "type": "function",
        "function": {"name": "get", "arguments": "{\"q\":1}"}}])
    );
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(out["usage"]["prompt_tokens"], 40);
    assert_eq!(out["usage"]["completion_tokens"], 5);
    assert_eq!(out["usage"]["total_tokens"], 45);
    assert_eq!(out["usage"]["prompt_tokens_details"]["cached_tokens"], 20);
    let u = chat.usage();
    assert_eq!(
        (u.input, u.cache_read, u.cache_write, u.output),
        (40, 20, 10, 5)
    );
    assert!(!chat.failed());
}

#[test]
fn reply_stop_reasons() {
    for (reason, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("model_context_window_exceeded", "stop"),
    ] {
        let body = json!({"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}},
                          "stopReason": reason});
        let (_, _, out) = exchange(200, None, body.to_string().as_bytes());
        assert_eq!(out["choices"][0]["finish_reason"], finish, "{reason}");
    }
}

#[test]
fn reply_without_output_is_a_502() {
    let (chat, status, out) = exchange(200, None, br#"{"stopReason":"end_turn"}"#);
    assert_eq!(status, Some(502));
    assert_eq!(out["error"]["type"], "server_error");
    assert!(chat.failed());
}

#[test]
fn errors_keep_status_and_name_the_exception() {
    for (status, kind, client) in [
        (
            400,
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            400,
        ),
        (429, "ThrottlingException", 429),
        (403, "AccessDeniedException", 403),
        (503, "ServiceUnavailableException", 503),
        (424, "ModelErrorException", 502),
    ] {
        let (chat, got, out) = exchange(status, Some(kind), br#"{"message":"bad thing"}"#);
        assert_eq!(got, (client != status).then_some(client));
        let name = kind.split(':').next().unwrap();
        assert_eq!(out["error"]["message"], format!("{name}: bad thing"));
        assert_eq!(chat.outcome().failure.unwrap().status, client);
    }
    let (_, _, out) = exchange(403, None, br#"{"Message":"denied"}"#);
    assert_eq!(out["error"]["message"], "denied");
    assert_eq!(out["error"]["type"], "permission_error");
}

#[test]
fn server_tool_uses_are_not_client_calls_even_with_a_tool_use_stop() {
    let server = json!({"toolUse": {"toolUseId": "tooluse_srv", "name": "nova_code_interpreter",
                                    "type": "server_tool_use", "input": {"code": "print(6*7)"}}});
    let result = json!({"toolResult": {"toolUseId": "tooluse_srv", "status": "success",
                                       "content": [{"json": {"stdOut": "42\n", "exitCode": 0}}]}});
    let client = json!({"toolUse": {"toolUseId": "tooluse_cli", "name": "get_weather",
                                    "input": {"city": "Oslo"}}});
    let body = |content: Value| {
        json!({"output": {"message": {"role": "assistant", "content": content}},
               "stopReason": "tool_use", "usage": {"inputTokens": 5, "outputTokens": 2}})
    };
    let only_server = body(json!([server, result, {"text": "It is 42."}]));
    let (_, _, out) = exchange(200, None, only_server.to_string().as_bytes());
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], json!("stop"));
    assert_eq!(choice["message"]["content"], json!("It is 42."));
    assert!(choice["message"].get("tool_calls").is_none(), "{out}");
    let both = body(json!([server, result, client]));
    let (_, _, out) = exchange(200, None, both.to_string().as_bytes());
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], json!("tool_calls"));
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], json!("get_weather"));
}
