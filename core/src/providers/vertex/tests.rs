use serde_json::{json, Value};

use super::{publisher, Publisher};
use crate::config::{Config, ConfigError, Provider};
use crate::error::ApiError;
use crate::providers::auth::{oauth, Auth, TokenSource};
use crate::providers::{BodyEdit, EmbedRequest, Outbound, TargetCtx, Translator};

#[derive(Debug)]
struct OneToken;

impl TokenSource for OneToken {
    fn token(&self, slot: &str) -> Option<String> {
        (slot == "vx").then(|| "ya29.token".to_string())
    }
}

fn env(name: &str) -> Option<String> {
    (name == "SOME_KEY").then(|| "k".to_string())
}

fn config(provider: Value) -> Result<Config, ConfigError> {
    let v = json!({
        "providers": [provider],
        "models": [{"name": "m", "targets": [{"provider": "vx", "model": "gemini-2.5-flash"}]}]
    });
    Config::from_json(v.to_string().as_bytes(), &env)
}

fn vertex(location: &str) -> Value {
    json!({"name": "vx", "type": "vertex", "cluster": "c_vx", "project": "proj-1",
           "location": location, "auth": {"source": "metadata", "cluster": "c_md"}})
}

fn provider() -> Provider {
    config(vertex("us-central1")).unwrap().providers.remove(0)
}

fn start(body: &Value, model: &str) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "m",
        now_unix_secs: 1_700_000_000,
        tokens: &OneToken,
    };
    crate::providers::chat_body(&serde_json::to_vec(body).unwrap(), ctx)
}

fn chat(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn header<'o>(out: &'o Outbound, name: &str) -> Option<&'o str> {
    out.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn body(out: &Outbound) -> Value {
    serde_json::from_slice(out.body.as_deref().unwrap()).unwrap()
}

#[test]
fn host_follows_location_and_auth_is_oauth() {
    let p = provider();
    assert_eq!(p.host, "us-central1-aiplatform.googleapis.com");
    assert_eq!(p.base_path, "/v1");
    let Auth::OAuth(source) = &p.auth else {
        panic!("not oauth: {:?}", p.auth)
    };
    assert_eq!(source.slot, "vx");
    assert_eq!(source.cluster, "c_md");
    assert_eq!(source.kind, oauth::SourceKind::Metadata);
    let global = config(vertex("global")).unwrap();
    assert_eq!(global.providers[0].host, "aiplatform.googleapis.com");
}

#[test]
fn config_errors_name_the_field() {
    let mut v = vertex("us-central1");
    v["api_key_env"] = json!("SOME_KEY");
    assert_eq!(config(v).unwrap_err().path, "providers[0].api_key_env");
    let mut v = vertex("us-central1");
    v["anthropic_version"] = json!("x");
    let e = config(v).unwrap_err();
    assert!(e.to_string().contains("anthropic_version"), "{e}");
    let mut v = vertex("us-central1");
    v.as_object_mut().unwrap().remove("project");
    assert!(config(v).unwrap_err().to_string().contains("project"));
    let mut v = vertex("us/central1");
    v["location"] = json!("us/central1");
    assert_eq!(config(v).unwrap_err().path, "providers[0].location");
    let mut v = vertex("us-central1");
    v["auth"] = json!({"source": "metadata"});
    assert!(config(v).unwrap_err().to_string().contains("cluster"));
}

#[test]
fn publisher_follows_model_and_prefix() {
    assert_eq!(
        publisher("claude-sonnet-4@20250514"),
        (Publisher::Anthropic, "claude-sonnet-4@20250514")
    );
    assert_eq!(
        publisher("anthropic/my-tuned"),
        (Publisher::Anthropic, "my-tuned")
    );
    assert_eq!(
        publisher("google/claude-like"),
        (Publisher::Google, "claude-like")
    );
    assert_eq!(
        publisher("models/gemini-2.5-pro"),
        (Publisher::Google, "gemini-2.5-pro")
    );
    assert_eq!(
        publisher("gemini-2.5-pro"),
        (Publisher::Google, "gemini-2.5-pro")
    );
}

#[test]
fn gemini_paths_and_bearer_token() {
    let base = "/v1/projects/proj-1/locations/us-central1/publishers/google/models";
    let (_, out) = start(&chat(false), "gemini-2.5-flash").unwrap();
    assert_eq!(out.path, format!("{base}/gemini-2.5-flash:generateContent"));
    assert_eq!(header(&out, "authorization"), Some("Bearer ya29.token"));
    assert_eq!(header(&out, "x-goog-api-key"), None);
    let b = body(&out);
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "hi"}]}])
    );
    let (_, out) = start(&chat(true), "google/gemini-2.5-flash").unwrap();
    let want = format!("{base}/gemini-2.5-flash:streamGenerateContent?alt=sse");
    assert_eq!(out.path, want);
}

#[test]
fn claude_body_has_version_and_no_model() {
    let base = "/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models";
    let model = "claude-sonnet-4@20250514";
    let (_, out) = start(&chat(false), model).unwrap();
    assert_eq!(out.path, format!("{base}/{model}:rawPredict"));
    assert_eq!(header(&out, "anthropic-version"), None);
    assert_eq!(header(&out, "authorization"), Some("Bearer ya29.token"));
    let want = json!({
        "anthropic_version": "vertex-2023-10-16",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    });
    assert_eq!(body(&out), want);
    let (_, out) = start(&chat(true), model).unwrap();
    assert_eq!(out.path, format!("{base}/{model}:streamRawPredict"));
    assert_eq!(body(&out)["stream"], true);
    assert!(body(&out).get("model").is_none());
}

/// The client's answer for an upstream error status and body.
fn client_error(model: &str, status: u16, native: &Value) -> Value {
    let (mut t, _) = start(&chat(false), model).unwrap();
    t.response_headers(status, &|_| None);
    let edit = t.response_body(native.to_string().as_bytes(), true);
    let BodyEdit::Replace(bytes) = edit else {
        panic!("{edit:?}")
    };
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn claude_reads_both_error_shapes() {
    let rpc = json!({"error": {"code": 429, "message": "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.", "status": "RESOURCE_EXHAUSTED"}});
    let e = client_error("claude-x", 429, &rpc);
    assert_eq!(e["error"]["code"], "resource_exhausted");
    assert_eq!(e["error"]["type"], "rate_limit_error");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Quota exceeded"));
    let native = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too big"}});
    let e = client_error("claude-x", 400, &native);
    assert_eq!(e["error"]["code"], "invalid_request_error");
    assert_eq!(e["error"]["message"], "max_tokens: too big");
}

fn embed(
    input: Value,
    dims: Option<u32>,
    model: &str,
) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let mut v = json!({"model": "m", "input": input});
    if let Some(d) = dims {
        v["dimensions"] = json!(d);
    }
    let raw = v.to_string();
    let req = serde_json::from_str(&raw).unwrap();
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "m",
        now_unix_secs: 1_700_000_000,
        tokens: &OneToken,
    };
    let input = EmbedRequest {
        body: raw.as_bytes(),
        req,
    };
    crate::providers::embeddings(&input, ctx)
}

#[test]
fn embeddings_use_predict() {
    let (mut t, out) = embed(json!(["a", "b"]), Some(256), "text-embedding-005").unwrap();
    let path = "/v1/projects/proj-1/locations/us-central1/publishers/google/models/text-embedding-005:predict";
    assert_eq!(out.path, path);
    let want = json!({"instances": [{"content": "a"}, {"content": "b"}], "parameters": {"outputDimensionality": 256}});
    assert_eq!(body(&out), want);
    t.response_headers(200, &|_| None);
    let native = json!({"predictions": [
        {"embeddings": {"values": [0.5, 1.0], "statistics": {"token_count": 3, "truncated": false}}},
        {"embeddings": {"values": [0.25, 0.0], "statistics": {"token_count": 4.0, "truncated": false}}}
    ], "metadata": {"billableCharacterCount": 2}});
    let BodyEdit::Replace(bytes) = t.response_body(native.to_string().as_bytes(), true) else {
        panic!("not replaced")
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["data"][1]["embedding"], json!([0.25, 0.0]));
    assert_eq!(v["usage"]["prompt_tokens"], 7);
    assert_eq!(t.usage().input, 7);
    let (_, out) = embed(json!("a"), None, "text-embedding-005").unwrap();
    assert_eq!(body(&out), json!({"instances": [{"content": "a"}]}));
}

#[test]
fn embeddings_count_mismatch_is_502_and_claude_has_none() {
    let (mut t, _) = embed(json!(["a", "b"]), None, "text-embedding-005").unwrap();
    t.response_headers(200, &|_| None);
    let native = json!({"predictions": [{"embeddings": {"values": [0.5]}}]});
    let edit = t.response_body(native.to_string().as_bytes(), true);
    assert!(
        matches!(edit, BodyEdit::Fail { status: 502, .. }),
        "{edit:?}"
    );
    let e = embed(json!("a"), None, "claude-x").unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
    let e = embed(json!([1, 2]), None, "text-embedding-005").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("input"));
}

#[test]
fn gemini_unknown_model_is_model_not_found() {
    let msg = "Publisher Model `projects/p/locations/us-central1/publishers/google/models/gemini-9` was not found or your project does not have access to it.";
    let rpc = json!({"error": {"code": 404, "message": msg, "status": "NOT_FOUND"}});
    let e = client_error("gemini-9", 404, &rpc);
    let want = json!({"error": {"message": msg, "type": "invalid_request_error",
                                "param": null, "code": "model_not_found"}});
    assert_eq!(e, want);
}

fn start_messages(body: &Value, model: &str) -> (Box<dyn Translator>, Outbound) {
    start_messages_with(body, model, None)
}

fn start_messages_with(
    body: &Value,
    model: &str,
    betas: Option<&str>,
) -> (Box<dyn Translator>, Outbound) {
    let p = provider();
    let ctx = TargetCtx {
        provider: &p,
        model,
        public_model: "m",
        now_unix_secs: 1_700_000_000,
        tokens: &OneToken,
    };
    let bytes = serde_json::to_vec(body).unwrap();
    let probe = crate::gateway::probe::probe(&bytes).unwrap();
    let input = crate::providers::ChatInput {
        body: &bytes,
        probe: &probe,
        dialect: crate::dialect::Dialect::AnthropicMessages,
        betas,
    };
    crate::providers::chat(&input, ctx).unwrap()
}

#[test]
fn claude_passthrough_sends_betas_in_the_body() {
    let sent =
        json!({"model": "m", "max_tokens": 7, "messages": [{"role": "user", "content": "hi"}]});
    let header = Some("interleaved-thinking-2025-05-14, context-1m-2025-08-07");
    let (_, out) = start_messages_with(&sent, "claude-x", header);
    let want = json!(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]);
    assert_eq!(body(&out)["anthropic_beta"], want);
    assert_eq!(header_of(&out, "anthropic-beta"), None);
    let (_, out) = start_messages_with(&sent, "claude-x", None);
    assert!(body(&out).get("anthropic_beta").is_none());
}

fn header_of<'o>(out: &'o Outbound, name: &str) -> Option<&'o str> {
    out.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn claude_passthrough_keeps_the_messages_body() {
    let base = "/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models";
    let model = "claude-sonnet-4@20250514";
    let sent = json!({"model": "m", "max_tokens": 7, "stream": true, "top_k": 3,
        "context_management": {"edits": []},
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]});
    let (mut t, out) = start_messages(&sent, model);
    assert_eq!(out.path, format!("{base}/{model}:streamRawPredict"));
    assert_eq!(header(&out, "authorization"), Some("Bearer ya29.token"));
    let mut want = sent.clone();
    want.as_object_mut().unwrap().remove("model");
    want["anthropic_version"] = json!("vertex-2023-10-16");
    assert_eq!(body(&out), want);
    // Usage is observed on the (Anthropic-format) stream.
    t.response_headers(200, &|_| None);
    let stream = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_v\",\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":6}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    );
    let edit = t.response_body(stream.as_bytes(), true);
    assert_eq!(edit, BodyEdit::Replace(stream.as_bytes().to_vec()));
    let o = t.outcome();
    assert_eq!((o.usage.input, o.usage.output, o.failure), (4, 6, None));
}

#[test]
fn claude_passthrough_errors_are_anthropics() {
    let sent =
        json!({"model": "m", "max_tokens": 7, "messages": [{"role": "user", "content": "hi"}]});
    let rpc = json!({"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}});
    let (mut t, _) = start_messages(&sent, "claude-x");
    t.response_headers(429, &|_| None);
    let BodyEdit::Replace(bytes) = t.response_body(rpc.to_string().as_bytes(), true) else {
        panic!("google.rpc error kept")
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        v,
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Quota exceeded."}})
    );
    let native =
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}});
    let (mut t, _) = start_messages(&sent, "claude-x");
    t.response_headers(400, &|_| None);
    assert_eq!(
        t.response_body(native.to_string().as_bytes(), true),
        BodyEdit::Keep
    );
    assert_eq!(t.outcome().failure.map(|f| f.status), Some(400));
}
