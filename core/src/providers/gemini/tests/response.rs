use serde_json::{json, Value};

use super::exchange;
use crate::providers::Cause;

fn candidate(parts: Value, finish: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
           "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 14},
           "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

fn reply(body: &Value) -> Value {
    let (chat, status, out) = exchange(200, &serde_json::to_vec(body).unwrap());
    assert_eq!(status, None, "{out}");
    assert!(!chat.failed(), "{out}");
    out
}

#[test]
fn text_reply() {
    let out = reply(&candidate(
        json!([{"text": "Hello"}, {"text": ", world"}]),
        "STOP",
    ));
    assert_eq!(
        out,
        json!({
            "id": "resp-1", "object": "chat.completion", "created": 1_700_000_000u64, "model": "smart",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, world"},
                         "finish_reason": "stop", "logprobs": null}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14,
                      "prompt_tokens_details": {"cached_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0}},
        })
    );
}

#[test]
fn thoughts_go_to_reasoning_and_usage_counts_them() {
    let mut body = candidate(
        json!([
            {"text": "Weighing the options. ", "thought": true},
            {"text": "Pick B.", "thought": true},
            {"text": "B", "thoughtSignature": "dGV4dC1zaWc="},
        ]),
        "STOP",
    );
    body["usageMetadata"] = json!({"promptTokenCount": 120, "cachedContentTokenCount": 100,
        "candidatesTokenCount": 1, "thoughtsTokenCount": 30, "totalTokenCount": 151});
    let out = reply(&body);
    let msg = &out["choices"][0]["message"];
    assert_eq!(msg["content"], json!("B"));
    assert_eq!(
        msg["reasoning_content"],
        json!("Weighing the options. Pick B.")
    );
    assert!(msg.get("tool_calls").is_none());
    assert_eq!(
        out["usage"],
        json!({"prompt_tokens": 120, "completion_tokens": 31, "total_tokens": 151,
               "prompt_tokens_details": {"cached_tokens": 100},
               "completion_tokens_details": {"reasoning_tokens": 30}})
    );
}

#[test]
fn parallel_function_calls_with_signatures() {
    let out = reply(&candidate(
        json!([
            {"text": "Looking up both."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris", "units": {"t": "C"}}}, "thoughtSignature": "c2lnLTE="},
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
            {"functionCall": {"name": "now"}},
            {"functionCall": {"id": "own-id", "name": "ping", "args": {}}},
        ]),
        "STOP",
    ));
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], json!("tool_calls"));
    assert_eq!(choice["message"]["content"], json!("Looking up both."));
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 4);
    let ids: Vec<&str> = calls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids[3], "own-id");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{ids:?}");
    assert!(ids[..3].iter().all(|id| id.starts_with("call_")), "{ids:?}");
    assert_eq!(
        calls[0],
        json!({"id": ids[0], "type": "function",
               "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"units\":{\"t\":\"C\"}}"},
               "extra_content": {"google": {"thought_signature": "c2lnLTE="}}})
    );
    assert_eq!(
        calls[1],
        json!({"id": ids[1], "type": "function",
               "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}})
    );
    assert_eq!(calls[2]["function"]["arguments"], json!("{}"));
    // Same response, same ids; another response id, other ids.
    let again = reply(&candidate(
        json!([{"functionCall": {"name": "get_weather", "args": {}}}]),
        "STOP",
    ));
    assert_eq!(
        again["choices"][0]["message"]["tool_calls"][0]["id"],
        json!(ids[0])
    );
    let mut other = candidate(
        json!([{"functionCall": {"name": "get_weather", "args": {}}}]),
        "STOP",
    );
    other["responseId"] = json!("resp-2");
    let other = reply(&other);
    assert_ne!(
        other["choices"][0]["message"]["tool_calls"][0]["id"],
        json!(ids[0])
    );
    assert_eq!(other["choices"][0]["message"]["content"], Value::Null);
}

#[test]
fn every_finish_reason() {
    for (reason, want) in [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_RECITATION", "content_filter"),
        ("MODEL_ARMOR", "content_filter"),
        ("LANGUAGE", "stop"),
        ("OTHER", "stop"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
        ("FINISH_REASON_UNSPECIFIED", "stop"),
        ("SOMETHING_NEW", "stop"),
    ] {
        let out = reply(&candidate(json!([{"text": "x"}]), reason));
        assert_eq!(out["choices"][0]["finish_reason"], json!(want), "{reason}");
    }
    // A safety stop with no content at all is still a reply.
    let out = reply(&json!({"candidates": [{"finishReason": "SAFETY"}], "responseId": "r"}));
    assert_eq!(out["choices"][0]["finish_reason"], json!("content_filter"));
    assert_eq!(out["choices"][0]["message"]["content"], json!(""));
}

#[test]
fn blocked_prompts_are_content_filter_completions() {
    for reason in [
        "SAFETY",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "IMAGE_SAFETY",
        "MODEL_ARMOR",
        "JAILBREAK",
    ] {
        let body = json!({"promptFeedback": {"blockReason": reason, "safetyRatings": []},
                          "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
                          "responseId": "blk"});
        let out = reply(&body);
        let choice = &out["choices"][0];
        assert_eq!(choice["finish_reason"], json!("content_filter"), "{reason}");
        assert_eq!(choice["message"]["content"], json!(""), "{reason}");
        assert_eq!(out["usage"]["prompt_tokens"], json!(8), "{reason}");
        assert_eq!(out["usage"]["completion_tokens"], json!(0), "{reason}");
    }
}

#[test]
fn malformed_2xx_bodies_are_502() {
    for body in [
        &br#"{"not":"gemini"}"#[..],
        br#"{"candidates":[]}"#,
        br#"{"promptFeedback":{}}"#,
        br#"[1,2]"#,
        b"<html>oops</html>",
        br#"{"candidates":"x"}"#,
    ] {
        let (chat, status, out) = exchange(200, body);
        assert_eq!(status, Some(502), "{}", String::from_utf8_lossy(body));
        assert_eq!(out["error"]["type"], json!("server_error"));
        let f = chat.outcome().failure.unwrap();
        assert_eq!(f.cause, Cause::Malformed);
    }
}

#[test]
fn error_object_behind_a_2xx() {
    let body =
        br#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#;
    let (chat, status, out) = exchange(200, body);
    assert_eq!(status, Some(503));
    assert_eq!(out["error"]["code"], json!("unavailable"));
    assert_eq!(chat.outcome().failure.unwrap().cause, Cause::ErrorEvent);
}

#[test]
fn every_google_rpc_status() {
    for (http, status, code, kind) in [
        (
            400,
            "INVALID_ARGUMENT",
            "invalid_argument",
            "invalid_request_error",
        ),
        (
            400,
            "FAILED_PRECONDITION",
            "failed_precondition",
            "invalid_request_error",
        ),
        (
            403,
            "PERMISSION_DENIED",
            "permission_denied",
            "permission_error",
        ),
        (
            401,
            "UNAUTHENTICATED",
            "unauthenticated",
            "authentication_error",
        ),
        (404, "NOT_FOUND", "not_found", "invalid_request_error"),
        (
            429,
            "RESOURCE_EXHAUSTED",
            "resource_exhausted",
            "rate_limit_error",
        ),
        (500, "INTERNAL", "internal", "server_error"),
        (503, "UNAVAILABLE", "unavailable", "server_error"),
        (
            504,
            "DEADLINE_EXCEEDED",
            "deadline_exceeded",
            "server_error",
        ),
    ] {
        let body = json!({"error": {"code": http, "message": format!("msg {status}"), "status": status,
                                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}]}});
        let (chat, client_status, out) = exchange(http, &serde_json::to_vec(&body).unwrap());
        assert_eq!(client_status, None, "{status}: status kept");
        assert_eq!(
            out,
            json!({"error": {"message": format!("msg {status}"), "type": kind, "param": null, "code": code}}),
            "{status}"
        );
        let f = chat.outcome().failure.unwrap();
        assert_eq!((f.cause, f.status), (Cause::Status, http));
    }
}

#[test]
fn non_json_error_bodies_are_quoted() {
    let (_, _, out) = exchange(502, b"<html>Bad Gateway</html>");
    assert_eq!(out["error"]["type"], json!("server_error"));
    assert_eq!(
        out["error"]["message"],
        json!("provider gemini returned HTTP 502: <html>Bad Gateway</html>")
    );
    let (_, _, out) = exchange(429, br#"{"error":{"message":"slow down"}}"#);
    assert_eq!(out["error"]["message"], json!("slow down"));
    assert_eq!(out["error"]["code"], Value::Null);
    assert_eq!(out["error"]["type"], json!("rate_limit_error"));
}

#[test]
fn retry_after_is_kept() {
    let (mut chat, _) = super::start(&super::with(json!({}))).unwrap();
    chat.response_headers(429, &|h| (h == "retry-after").then(|| "7".to_string()));
    assert_eq!(chat.outcome().failure.unwrap().retry_after_ms, Some(7000));
}

#[test]
fn not_found_for_a_model_is_model_not_found() {
    let msg = "models/gemini-9.9-ultra is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.";
    let body = json!({"error": {"code": 404, "message": msg, "status": "NOT_FOUND"}});
    let (_, status, out) = exchange(404, &serde_json::to_vec(&body).unwrap());
    assert_eq!(status, None, "404 kept");
    let want = json!({"error": {"message": msg, "type": "invalid_request_error",
                                "param": null, "code": "model_not_found"}});
    assert_eq!(out, want);
    // Another resource keeps the canonical code.
    let body =
        json!({"error": {"code": 404, "message": "File abc not found.", "status": "NOT_FOUND"}});
    let (_, _, out) = exchange(404, &serde_json::to_vec(&body).unwrap());
    assert_eq!(out["error"]["code"], json!("not_found"));
}
