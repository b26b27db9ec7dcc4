use super::*;
use crate::config::{Config, Provider};
use crate::openai::embeddings::parse_embeddings_request;
use crate::providers::{BodyEdit, BodyMode, Outbound, Translator};
use serde_json::{json, Value};

const CHAT: &[u8] = br#"{"model":"public","messages":[{"role":"user","content":"hi"}]}"#;
const STREAM: &[u8] =
    br#"{"model":"public","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;

fn provider(opts: Value) -> Provider {
    let cfg = json!({
        "providers": [{"name": "az", "type": "azure", "cluster": "c", "host": "res.openai.azure.com", "api_key_env": "K"}],
        "models": [{"name": "m", "targets": [{"provider": "az", "model": "x"}]}]
    });
    let mut cfg = cfg;
    if let (Some(p), Some(o)) = (cfg["providers"][0].as_object_mut(), opts.as_object()) {
        p.extend(o.clone());
    }
    let c = Config::from_json(cfg.to_string().as_bytes(), &|_| Some("sk-az".into())).unwrap();
    c.providers[0].clone()
}

fn ctx<'a>(p: &'a Provider, deployment: &'a str) -> TargetCtx<'a> {
    TargetCtx {
        provider: p,
        model: deployment,
        public_model: "public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    }
}

fn chat(p: &Provider, body: &[u8], deployment: &str) -> (Box<dyn Translator>, Outbound) {
    crate::providers::chat_body(body, ctx(p, deployment)).unwrap()
}

fn header<'o>(out: &'o Outbound, name: &str) -> Option<&'o str> {
    out.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn deployments_style_path_version_and_api_key() {
    let p = provider(json!({}));
    let (_, out) = chat(&p, CHAT, "gpt 4o/prod");
    assert_eq!(
        out.path,
        "/openai/deployments/gpt%204o%2Fprod/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(header(&out, "api-key"), Some("sk-az"));
    assert_eq!(header(&out, "authorization"), None);
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["model"], json!("gpt 4o/prod"));

    let p = provider(json!({"api_version": "2025-04-01-preview", "base_path": "/aoai"}));
    let (_, out) = chat(&p, CHAT, "public");
    assert_eq!(
        out.path,
        "/aoai/openai/deployments/public/chat/completions?api-version=2025-04-01-preview"
    );
    assert!(out.body.is_none(), "same name: body forwarded untouched");
}

#[test]
fn v1_style_path_and_bearer_token() {
    let p = provider(json!({"api_style": "v1", "auth": "bearer"}));
    let (_, out) = chat(&p, CHAT, "my-deployment");
    assert_eq!(out.path, "/openai/v1/chat/completions");
    assert_eq!(header(&out, "authorization"), Some("Bearer sk-az"));
    assert_eq!(header(&out, "api-key"), None);
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["model"], json!("my-deployment"));
    let p = provider(json!({"api_style": "v1", "api_version": "preview"}));
    let (_, out) = chat(&p, CHAT, "d");
    assert_eq!(out.path, "/openai/v1/chat/completions?api-version=preview");
    assert_eq!(header(&out, "api-key"), Some("sk-az"));
}

#[test]
fn config_requires_host_and_key_and_checks_options() {
    let base = |extra: Value| {
        let mut p = json!({"name": "az", "type": "azure", "cluster": "c", "host": "r.openai.azure.com", "api_key_env": "K"});
        if let (Some(o), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    o.remove(k);
                } else {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        let c = json!({"providers": [p], "models": [{"name": "m", "targets": [{"provider": "az", "model": "x"}]}]});
        Config::from_json(c.to_string().as_bytes(), &|_| Some("k".into())).map(|_| ())
    };
    assert_eq!(base(json!({})), Ok(()));
    assert_eq!(
        base(json!({"host": null})).unwrap_err().path,
        "providers[0].host"
    );
    assert_eq!(
        base(json!({"api_key_env": null})).unwrap_err().path,
        "providers[0].api_key_env"
    );
    assert_eq!(
        base(json!({"api_style": "v2"})).unwrap_err().path,
        "providers[0].api_style"
    );
    assert_eq!(
        base(json!({"api_version": "2024-10-21&x=1"}))
            .unwrap_err()
            .path,
        "providers[0].api_version"
    );
    assert!(base(json!({"deployment": "d"})).is_err());
}

#[test]
fn stream_asks_for_usage_unless_turned_off() {
    let p = provider(json!({}));
    let (_, out) = chat(&p, STREAM, "d");
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    let p = provider(json!({"stream_usage": false}));
    let (_, out) = chat(&p, STREAM, "d");
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent.get("stream_options"), None);
}

/// An Azure stream: the prompt-filter chunk (`choices: []`, no usage)
/// first, then content with filter annotations, then the usage chunk.
const AZURE_STREAM: &str = concat!(
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n",
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"hi\"},\"finish_reason\":null,\"index\":0}],\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n",
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"content_filter\",\"index\":0}],\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n",
    "data: {\"choices\":[],\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":1,\"total_tokens\":9}}\n\n",
    "data: [DONE]\n\n",
);

fn events(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|s| !s.is_empty() && *s != "data: [DONE]")
        .map(|s| serde_json::from_str(s.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn prompt_filter_chunk_passes_and_only_the_usage_chunk_is_stripped() {
    let p = provider(json!({}));
    let bytes = AZURE_STREAM.as_bytes();
    for cut in 0..=bytes.len() {
        let (mut ex, _) = chat(&p, STREAM, "d");
        let h = ex.response_headers(200, &|_| None);
        assert_eq!(h.mode, BodyMode::Stream);
        let mut out = Vec::new();
        for (piece, end) in [(&bytes[..cut], false), (&bytes[cut..], true)] {
            match ex.response_body(piece, end) {
                BodyEdit::Replace(b) => out.extend(b),
                other => panic!("{other:?}"),
            }
        }
        let ev = events(&out);
        assert_eq!(ev.len(), 3, "cut {cut}");
        assert_eq!(ev[0]["prompt_filter_results"][0]["prompt_index"], json!(0));
        assert_eq!(ev[0]["choices"], json!([]));
        assert_eq!(
            ev[2]["choices"][0]["finish_reason"],
            json!("content_filter")
        );
        assert!(ev.iter().all(|e| e["usage"].is_null()));
        assert!(String::from_utf8_lossy(&out).ends_with("data: [DONE]\n\n"));
        assert_eq!((ex.usage().input, ex.usage().output), (8, 1));
        assert!(!ex.failed());
    }
}

fn error_body(status: u16, body: &[u8]) -> Value {
    let p = provider(json!({}));
    let (mut ex, _) = chat(&p, CHAT, "d");
    let h = ex.response_headers(status, &|_| None);
    assert_eq!(h.mode, BodyMode::Buffer);
    assert!(ex.failed());
    match ex.response_body(body, true) {
        BodyEdit::Replace(b) => serde_json::from_slice(&b).unwrap(),
        BodyEdit::Keep => serde_json::from_slice(body).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn prompt_filter_400_keeps_code_content_filter() {
    let body = json!({"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": null, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}}});
    let v = error_body(400, body.to_string().as_bytes());
    assert_eq!(
        v,
        json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "type": "invalid_request_error", "param": "prompt", "code": "content_filter",
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}
        }})
    );
}

#[test]
fn numeric_codes_and_gateway_shape_become_openai_errors() {
    let v = error_body(
        401,
        br#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}"#,
    );
    assert_eq!(
        v,
        json!({"error": {"message": "Access denied due to invalid subscription key or wrong API endpoint.",
            "type": "authentication_error", "param": null, "code": "invalid_api_key"}})
    );
    let v = error_body(
        401,
        br#"{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect, or have expired."}"#,
    );
    assert_eq!(v["error"]["type"], json!("authentication_error"));
    assert_eq!(v["error"]["code"], json!("invalid_api_key"));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Unauthorized."));
    let v = error_body(
        429,
        br#"{"error":{"code":"429","message":"Requests have exceeded the call rate limit."}}"#,
    );
    assert_eq!(
        (&v["error"]["type"], &v["error"]["code"]),
        (&json!("rate_limit_error"), &json!("rate_limit_exceeded"))
    );
    let v = error_body(
        404,
        br#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#,
    );
    assert_eq!(
        (&v["error"]["type"], &v["error"]["code"]),
        (
            &json!("invalid_request_error"),
            &json!("DeploymentNotFound")
        )
    );
    let v = error_body(503, b"Service Unavailable");
    assert_eq!(
        v["error"]["message"],
        json!("upstream returned HTTP 503: Service Unavailable")
    );
}

#[test]
fn openai_shaped_errors_keep_their_fields() {
    let body =
        br#"{"error":{"message":"bad","type":"invalid_request_error","param":"n","code":null}}"#;
    let v = error_body(400, body);
    assert_eq!(
        v,
        json!({"error": {"message": "bad", "type": "invalid_request_error", "param": "n", "code": null}})
    );
}

#[test]
fn embeddings_paths_for_both_styles() {
    let body = br#"{"model":"public","input":["a","b"],"encoding_format":"base64"}"#;
    let input = EmbedRequest {
        body,
        req: parse_embeddings_request(body).unwrap(),
    };
    let p = provider(json!({}));
    let (_, out) = crate::providers::embeddings(&input, ctx(&p, "ada-2")).unwrap();
    assert_eq!(
        out.path,
        "/openai/deployments/ada-2/embeddings?api-version=2024-10-21"
    );
    assert_eq!(header(&out, "api-key"), Some("sk-az"));
    let sent: Value = serde_json::from_slice(out.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"model": "ada-2", "input": ["a", "b"], "encoding_format": "base64"})
    );
    let p = provider(json!({"api_style": "v1"}));
    let (mut ex, out) = crate::providers::embeddings(&input, ctx(&p, "ada-2")).unwrap();
    assert_eq!(out.path, "/openai/v1/embeddings");
    ex.response_headers(429, &|_| None);
    let BodyEdit::Replace(b) =
        ex.response_body(br#"{"error":{"code":"429","message":"slow"}}"#, true)
    else {
        panic!("expected a rewrite")
    };
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["code"], json!("rate_limit_exceeded"));
}

#[test]
fn segment_encoding() {
    assert_eq!(encode_segment("a-b_c.d~e"), "a-b_c.d~e");
    assert_eq!(encode_segment("a b/c?d#é"), "a%20b%2Fc%3Fd%23%C3%A9");
}
