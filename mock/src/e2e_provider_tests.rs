//! End-to-end tests of the Gemini and Azure listeners: real sockets,
//! stored and scoped faults, cut streams and reset connections.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::e2e_tests::{connect, post, read_response, send, simple};
use crate::server::{spawn_with, Options, Provider};

const GEMINI_KEY: (&str, &str) = ("x-goog-api-key", "mock-gemini-key");
const AZURE_KEY: (&str, &str) = ("api-key", "mock-azure-key");
const G_SSE: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
const G_GEN: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
const AZ_CHAT: &str = "/openai/deployments/dep/chat/completions?api-version=2024-10-21";

fn listen(label: &str, provider: Provider, key: &str) -> SocketAddr {
    let opts = Options {
        label,
        provider,
        addr: "127.0.0.1:0",
        key,
        tls: None,
        base: None,
    };
    spawn_with(opts).unwrap().0
}

fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "ping pong"}]}]})
}

fn azure_body(stream: bool) -> Value {
    json!({"stream": stream, "messages": [{"role": "user", "content": "ping pong"}]})
}

#[test]
fn gemini_sse_over_the_wire() {
    let addr = listen("gemini", Provider::Gemini, "mock-gemini-key");
    let mut c = connect(addr);
    let resp = post(&mut c, G_SSE, &[GEMINI_KEY], &gemini_body());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert!(resp.complete);
    let text = resp.text();
    let events: Vec<&str> = text.split("\r\n\r\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 7, "one event per word");
    let last: Value = serde_json::from_str(events[6].strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 7);
    // Cut after two events: no terminating chunk.
    let resp = post(
        &mut c,
        G_SSE,
        &[GEMINI_KEY, ("x-mock-cut-after", "2")],
        &gemini_body(),
    );
    assert!(!resp.complete);
    assert_eq!(resp.chunks.len(), 2);
}

#[test]
fn scoped_and_stored_faults_on_new_kinds() {
    let g = listen("gem", Provider::Gemini, "mock-gemini-key");
    let a = listen("az", Provider::Azure, "mock-azure-key");
    let only = [("x-mock-status", "429"), ("x-mock-only", "gem")];
    let resp = post(
        &mut connect(g),
        G_GEN,
        &[GEMINI_KEY, only[0], only[1]],
        &gemini_body(),
    );
    assert_eq!(resp.status, 429);
    assert_eq!(resp.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    let resp = post(
        &mut connect(a),
        AZ_CHAT,
        &[AZURE_KEY, only[0], only[1]],
        &azure_body(false),
    );
    assert_eq!(resp.status, 200);

    let mut c = connect(a);
    send(
        &mut c,
        "PUT",
        "/_mock/faults",
        &[],
        r#"{"status": 503, "remaining": 1}"#,
    );
    assert_eq!(read_response(&mut c).status, 200);
    // A wrong key is answered before the stored fault and does not use it up.
    let resp = post(&mut c, AZ_CHAT, &[("api-key", "x")], &azure_body(false));
    assert_eq!(resp.status, 401);
    let resp = post(&mut c, AZ_CHAT, &[AZURE_KEY], &azure_body(false));
    assert_eq!(resp.status, 503);
    assert_eq!(resp.json()["error"]["code"], "ServiceUnavailable");
    let resp = post(&mut c, AZ_CHAT, &[AZURE_KEY], &azure_body(true));
    assert_eq!(resp.status, 200);
    assert!(resp.text().ends_with("data: [DONE]\n\n"));
    let log = simple(&mut c, "GET", "/_mock/requests").json();
    let faults: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["fault"])
        .collect();
    assert_eq!(
        faults,
        [&Value::Null, &Value::Null, &json!("stored"), &Value::Null]
    );
    assert_eq!(log[2]["headers"]["api-key"], "mock-azure-key");

    // Reset: the Gemini listener closes without answering.
    let mut c = connect(g);
    send(
        &mut c,
        "POST",
        G_GEN,
        &[GEMINI_KEY, ("x-mock-reset", "1")],
        &gemini_body().to_string(),
    );
    let mut rest = Vec::new();
    assert_eq!(std::io::Read::read_to_end(&mut c, &mut rest).ok(), Some(0));
    // Introspection errors use the listener's native shape.
    let resp = simple(&mut connect(g), "GET", "/_mock/nothing");
    assert_eq!(resp.json()["error"]["status"], "NOT_FOUND");
}
