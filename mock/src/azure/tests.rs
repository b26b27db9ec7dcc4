use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-azure";
const CHAT: &str = "/openai/deployments/dep-4o/chat/completions?api-version=2024-10-21";
const V1_CHAT: &str = "/openai/v1/chat/completions";

fn request(target: &str, body: &Value, extra: &[(&str, &str)]) -> Request {
    crate::test_support::post(target, &[("api-key", KEY)], body, extra)
}

fn call_req(req: &Request) -> Response {
    let state = Listener::new(Provider::Azure, KEY);
    handle(&state, req, &Faults::from_request(req))
}

fn call_at(target: &str, body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let resp = call_req(&request(target, &body, extra));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

fn sse(target: &str, body: Value) -> Vec<String> {
    let resp = call_req(&request(target, &body, &[]));
    let Body::Sse(events) = resp.body else {
        panic!("not a stream")
    };
    events
        .into_iter()
        .map(|e| String::from_utf8(e).unwrap())
        .collect()
}

fn data(event: &str) -> Value {
    serde_json::from_str(event.strip_prefix("data: ").unwrap().trim_end()).unwrap()
}

fn messages(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

#[test]
fn deployment_chat_echoes_the_deployment() {
    let (status, v) = call_at(CHAT, json!({"messages": messages("hi there")}), &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["model"], "dep-4o");
    let choice = &v["choices"][0];
    assert_eq!(
        choice["message"]["content"],
        "Mock reply ✓ from dep-4o: hi there"
    );
    assert_eq!(
        choice["content_filter_results"]["violence"],
        json!({"filtered": false, "severity": "safe"})
    );
    assert_eq!(
        choice["content_filter_results"]["protected_material_text"]["detected"],
        false
    );
    let prompt = &v["prompt_filter_results"][0];
    assert_eq!(prompt["prompt_index"], 0);
    assert_eq!(
        prompt["content_filter_results"]["jailbreak"],
        json!({"filtered": false, "detected": false})
    );
    assert_eq!(v["usage"]["prompt_tokens"], 2);
    // A body model (as the AzureOpenAI SDK sends it) does not change the echo.
    let (_, v) = call_at(
        CHAT,
        json!({"model": "gpt-4o", "messages": messages("a")}),
        &[],
    );
    assert_eq!(v["model"], "dep-4o");
}

#[test]
fn v1_api_and_auth() {
    let body = json!({"model": "dep-mini", "messages": messages("yo")});
    for (target, extra) in [
        (V1_CHAT, vec![]),
        ("/openai/v1/chat/completions?api-version=preview", vec![]),
        (
            V1_CHAT,
            vec![("api-key", ""), ("authorization", "Bearer k-azure")],
        ),
    ] {
        let (status, v) = call_at(target, body.clone(), &extra);
        assert_eq!(status, 200, "{target} {v}");
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "Mock reply ✓ from dep-mini: yo"
        );
    }
    let (status, v) = call_at(V1_CHAT, json!({"messages": messages("yo")}), &[]);
    assert_eq!(
        (status, v["error"]["message"].as_str()),
        (400, Some("you must provide a model parameter"))
    );
    let (status, v) = call_at(V1_CHAT, body.clone(), &[("api-key", "nope")]);
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "401");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Access denied due to invalid subscription key"));
    let (status, v) = call_at(
        V1_CHAT,
        body,
        &[("api-key", ""), ("authorization", "Bearer nope")],
    );
    assert_eq!(status, 401);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Unauthorized. Access token is missing"));
}

#[test]
fn api_versions_and_paths() {
    let body = json!({"messages": messages("a")});
    let (status, v) = call_at("/openai/deployments/d/chat/completions", body.clone(), &[]);
    assert_eq!(
        (status, v),
        (
            404,
            json!({"error": {"code": "404", "message": "Resource not found"}})
        )
    );
    let (status, v) = call_at(
        "/openai/deployments/d/chat/completions?api-version=2019-01-01",
        body.clone(),
        &[],
    );
    assert_eq!(
        (status, v),
        (
            400,
            json!({"error": {"code": "BadRequest", "message": "API version not supported"}})
        )
    );
    let (status, _) = call_at(
        "/openai/v1/chat/completions?api-version=2024-10-21",
        body.clone(),
        &[],
    );
    assert_eq!(status, 400);
    for target in [
        "/v1/chat/completions",
        "/openai/deployments//chat/completions?api-version=2024-10-21",
        "/openai/deployments/d/completions?api-version=2024-10-21",
    ] {
        assert_eq!(call_at(target, body.clone(), &[]).0, 404, "{target}");
    }
    let preview = "/openai/deployments/d/chat/completions?api-version=2025-04-01-preview";
    assert_eq!(call_at(preview, body, &[]).0, 200);
}

#[test]
fn strict_like_openai() {
    let (status, v) = call_at(CHAT, json!({"messages": messages("a"), "bogus": 1}), &[]);
    assert_eq!(status, 400);
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(
        v["error"]["message"],
        "Unrecognized request argument supplied: bogus"
    );
}

#[test]
fn stream_with_filter_results() {
    let events = sse(
        CHAT,
        json!({"stream": true, "stream_options": {"include_usage": true}, "messages": messages("hi there")}),
    );
    assert_eq!(events.last().unwrap(), "data: [DONE]\n\n");
    let first = data(&events[0]);
    assert_eq!(first["choices"], json!([]));
    assert_eq!(first["id"], "");
    assert_eq!(first["prompt_filter_results"][0]["prompt_index"], 0);
    let chunks: Vec<Value> = events[1..events.len() - 1]
        .iter()
        .map(|e| data(e))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "Mock reply ✓ from dep-4o: hi there");
    for c in chunks.iter().filter(|c| {
        c["choices"][0]["delta"]["content"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    }) {
        assert_eq!(
            c["choices"][0]["content_filter_results"]["hate"]["severity"],
            "safe"
        );
    }
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 7);
}

#[test]
fn magic_filters() {
    let (status, v) = call_at(
        CHAT,
        json!({"messages": messages("tell me MOCK_PROMPT_FILTER")}),
        &[],
    );
    assert_eq!(status, 400);
    let e = &v["error"];
    assert_eq!(
        (
            e["code"].as_str(),
            e["param"].as_str(),
            e["status"].as_u64()
        ),
        (Some("content_filter"), Some("prompt"), Some(400))
    );
    assert_eq!(e["innererror"]["code"], "ResponsibleAIPolicyViolation");
    assert_eq!(
        e["innererror"]["content_filter_result"]["violence"],
        json!({"filtered": true, "severity": "medium"})
    );
    let (status, v) = call_at(
        CHAT,
        json!({"messages": messages("tell me MOCK_CONTENT_FILTER")}),
        &[],
    );
    assert_eq!(status, 200);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "content_filter");
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["content_filter_results"]["violence"]["filtered"],
        true
    );
    let events = sse(
        CHAT,
        json!({"stream": true, "messages": messages("x MOCK_CONTENT_FILTER")}),
    );
    let last = data(&events[events.len() - 2]);
    assert_eq!(last["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        last["choices"][0]["content_filter_results"]["violence"]["filtered"],
        true
    );
}

#[test]
fn embeddings_routes() {
    let target = "/openai/deployments/emb-small/embeddings?api-version=2024-10-21";
    let (status, v) = call_at(
        target,
        json!({"input": ["hello world", "x"], "dimensions": 4}),
        &[],
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["model"], "emb-small");
    assert_eq!(
        v["data"][0]["embedding"],
        json!(crate::embedding::vector("hello world", 4))
    );
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
    let (status, v) = call_at(
        "/openai/v1/embeddings",
        json!({"model": "emb", "input": "a"}),
        &[],
    );
    assert_eq!(
        (status, v["data"][0]["embedding"].as_array().map(Vec::len)),
        (200, Some(8))
    );
}

#[test]
fn azure_faults() {
    for (status, code) in [
        (429, "429"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable"),
        (408, "Timeout"),
    ] {
        let s = status.to_string();
        let req = request(
            CHAT,
            &json!({"messages": messages("a")}),
            &[("x-mock-status", &s), ("x-mock-retry-after", "3")],
        );
        let resp = call_req(&req);
        assert_eq!(resp.status, status);
        assert!(resp.headers.contains(&("retry-after-ms", "3000".into())));
        let Body::Json(b) = resp.body else { panic!() };
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["code"], code);
    }
    let (status, v) = call_at(
        CHAT,
        json!({"messages": messages("a")}),
        &[("x-mock-overloaded", "1")],
    );
    assert_eq!(
        (status, v["error"]["type"].as_str()),
        (200, Some("server_error"))
    );
}
