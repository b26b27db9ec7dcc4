//! End-to-end tests of failover faults: `x-mock-only` scoping, stored
//! faults (`/_mock/faults`), reset, overloaded 200s and `retry-after`.

use std::io::{BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::e2e_tests::{connect, post, read_response, send, simple, Resp, OA_AUTH};
use crate::server::{spawn_with, Options, Provider};

const OA_PATH: &str = "/v1/chat/completions";
const AN_PATH: &str = "/v1/messages";
const AN_HEADERS: [(&str, &str); 3] = [
    ("x-api-key", "mock-anthropic-key"),
    ("anthropic-version", "2023-06-01"),
    ("content-type", "application/json"),
];

fn listen(label: &str, provider: Provider) -> SocketAddr {
    let key = match provider {
        Provider::OpenAi => "mock-openai-key",
        Provider::Anthropic => "mock-anthropic-key",
        Provider::Gemini => "mock-gemini-key",
        Provider::Azure => "mock-azure-key",
        Provider::Cohere => "mock-cohere-key",
        Provider::Vertex => "",
        Provider::Bedrock => "mock-bedrock-key",
    };
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

fn oa_body(stream: bool) -> Value {
    json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn an_body(stream: bool) -> Value {
    json!({"model": "claude", "max_tokens": 20, "stream": stream,
        "messages": [{"role": "user", "content": "hi"}]})
}

/// One OpenAI request on a fresh connection with extra headers.
fn oa(addr: SocketAddr, extra: &[(&str, &str)]) -> Resp {
    let mut headers = vec![OA_AUTH];
    headers.extend_from_slice(extra);
    post(&mut connect(addr), OA_PATH, &headers, &oa_body(false))
}

fn put_faults(c: &mut BufReader<TcpStream>, body: &str) -> Resp {
    send(c, "PUT", "/_mock/faults", &[], body);
    read_response(c)
}

/// Sends a request and expects the connection to close without one byte.
fn expect_reset(c: &mut BufReader<TcpStream>, path: &str, headers: &[(&str, &str)], body: &Value) {
    send(c, "POST", path, headers, &body.to_string());
    let mut rest = Vec::new();
    let read = c.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert_eq!(read.ok(), Some(0), "closed, not timed out");
}

#[test]
fn x_mock_only_scopes_header_faults() {
    let first = listen("openai", Provider::OpenAi);
    let second = listen("oa2", Provider::OpenAi);
    let fault = [("x-mock-status", "503"), ("x-mock-only", "openai")];
    assert_eq!(oa(first, &fault).status, 503);
    assert_eq!(oa(second, &fault).status, 200);
    let both = [("x-mock-status", "429"), ("x-mock-only", "oa2, openai")];
    assert_eq!(oa(first, &both).status, 429);
    assert_eq!(oa(second, &both).status, 429);
    let other = [("x-mock-reset", "1"), ("x-mock-only", "nobody")];
    assert_eq!(oa(first, &other).status, 200);
    // Without x-mock-only every listener applies them, as before.
    assert_eq!(oa(second, &[("x-mock-status", "500")]).status, 500);
}

#[test]
fn stored_fault_lifecycle() {
    let addr = listen("openai", Provider::OpenAi);
    let mut c = connect(addr);
    assert_eq!(simple(&mut c, "GET", "/_mock/faults").json(), Value::Null);
    let set = put_faults(
        &mut c,
        r#"{"status": 503, "remaining": 2, "retry_after": "2"}"#,
    );
    assert_eq!(set.status, 200);
    assert_eq!(set.json()["remaining"], 2);
    assert_eq!(set.json()["rate"], 1.0);
    // A 401 is answered before faults and does not use one up.
    assert_eq!(post(&mut c, OA_PATH, &[], &oa_body(false)).status, 401);
    let resp = post(&mut c, OA_PATH, &[OA_AUTH], &oa_body(false));
    assert_eq!(resp.status, 503);
    assert_eq!(resp.json()["error"]["type"], "server_error");
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(resp.header("retry-after-ms"), Some("2000"));
    assert_eq!(
        simple(&mut c, "GET", "/_mock/faults").json()["remaining"],
        1
    );
    assert_eq!(
        post(&mut c, OA_PATH, &[OA_AUTH], &oa_body(false)).status,
        503
    );
    assert_eq!(simple(&mut c, "GET", "/_mock/faults").json(), Value::Null);
    assert_eq!(
        post(&mut c, OA_PATH, &[OA_AUTH], &oa_body(false)).status,
        200
    );

    let log = simple(&mut c, "GET", "/_mock/requests").json();
    let faults: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["fault"])
        .collect();
    assert_eq!(
        faults,
        [
            &Value::Null,
            &json!("stored"),
            &json!("stored"),
            &Value::Null
        ]
    );
    assert_eq!(log[1]["path"], OA_PATH);
    assert_eq!(log[1]["body"]["model"], "gpt-4o");
    assert_eq!(log[1]["headers"]["authorization"], "Bearer mock-openai-key");
    assert_eq!(log[1]["sni"], Value::Null);

    assert_eq!(
        put_faults(&mut c, r#"{"status": 500, "bogus": 1}"#).status,
        400
    );
    assert_eq!(
        put_faults(&mut c, r#"{"status": 500, "rate": 2}"#).status,
        400
    );
    assert_eq!(simple(&mut c, "PATCH", "/_mock/faults").status, 405);
}

#[test]
fn stored_fault_rate_override_and_heal() {
    let addr = listen("anthropic", Provider::Anthropic);
    let mut c = connect(addr);
    let call = |c: &mut BufReader<TcpStream>, extra: &[(&str, &str)]| {
        let mut headers = AN_HEADERS.to_vec();
        headers.extend_from_slice(extra);
        post(c, AN_PATH, &headers, &an_body(false)).status
    };
    assert_eq!(
        put_faults(&mut c, r#"{"status": 529, "rate": 0}"#).status,
        200
    );
    assert!((0..20).all(|_| call(&mut c, &[]) == 200));
    assert_eq!(
        put_faults(&mut c, r#"{"status": 529, "rate": 1}"#).status,
        200
    );
    assert!((0..20).all(|_| call(&mut c, &[]) == 529));
    // The request's own applicable headers win; excluded ones don't count.
    assert_eq!(call(&mut c, &[("x-mock-status", "429")]), 429);
    let elsewhere = [("x-mock-status", "429"), ("x-mock-only", "openai")];
    assert_eq!(call(&mut c, &elsewhere), 529);
    assert_eq!(simple(&mut c, "DELETE", "/_mock/faults").status, 200);
    assert_eq!(call(&mut c, &[]), 200);
    assert_eq!(simple(&mut c, "GET", "/_mock/faults").json(), Value::Null);

    assert_eq!(put_faults(&mut c, r#"{"delay_ms": 300}"#).status, 200);
    let start = Instant::now();
    assert_eq!(call(&mut c, &[]), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn reset_closes_without_a_response() {
    let addr = listen("openai", Provider::OpenAi);
    let mut c = connect(addr);
    expect_reset(
        &mut c,
        OA_PATH,
        &[OA_AUTH, ("x-mock-reset", "1")],
        &oa_body(false),
    );

    let addr = listen("anthropic", Provider::Anthropic);
    let mut c = connect(addr);
    assert_eq!(
        put_faults(&mut c, r#"{"reset": true, "remaining": 1}"#).status,
        200
    );
    expect_reset(&mut c, AN_PATH, &AN_HEADERS, &an_body(true));
    let mut c = connect(addr);
    assert_eq!(
        post(&mut c, AN_PATH, &AN_HEADERS, &an_body(false)).status,
        200
    );
    let log = simple(&mut c, "GET", "/_mock/requests").json();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[0]["fault"], "stored");
    assert_eq!(log[0]["body"]["stream"], true);
}

const OA_OVERLOADED: &str = r#"{"error":{"message":"The server is overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#;
const AN_OVERLOADED: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

#[test]
fn overloaded_behind_200() {
    let addr = listen("openai", Provider::OpenAi);
    let over = [OA_AUTH, ("x-mock-overloaded", "1")];
    let resp = post(&mut connect(addr), OA_PATH, &over, &oa_body(false));
    assert_eq!((resp.status, resp.text()), (200, OA_OVERLOADED.to_string()));
    let resp = post(&mut connect(addr), OA_PATH, &over, &oa_body(true));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert_eq!(resp.header("connection"), Some("close"));
    assert_eq!(resp.text(), format!("data: {OA_OVERLOADED}\n\n"));

    let addr = listen("anthropic", Provider::Anthropic);
    let mut c = connect(addr);
    let mut headers = AN_HEADERS.to_vec();
    headers.push(("x-mock-overloaded", "true"));
    let resp = post(&mut c, AN_PATH, &headers, &an_body(false));
    assert_eq!((resp.status, resp.text()), (200, AN_OVERLOADED.to_string()));
    assert_eq!(put_faults(&mut c, r#"{"overloaded": true}"#).status, 200);
    let resp = post(&mut c, AN_PATH, &AN_HEADERS, &an_body(true));
    assert_eq!(resp.status, 200);
    assert!(resp.complete);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        resp.text(),
        format!("event: error\ndata: {AN_OVERLOADED}\n\n")
    );
}

#[test]
fn retry_after_headers() {
    let addr = listen("anthropic", Provider::Anthropic);
    let mut headers = AN_HEADERS.to_vec();
    headers.extend([("x-mock-status", "429"), ("x-mock-retry-after", "5")]);
    let resp = post(&mut connect(addr), AN_PATH, &headers, &an_body(false));
    assert_eq!(resp.status, 429);
    assert_eq!(resp.json()["error"]["type"], "rate_limit_error");
    assert_eq!(resp.header("retry-after"), Some("5"));
    assert_eq!(resp.header("retry-after-ms"), None);

    let addr = listen("openai", Provider::OpenAi);
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    let resp = oa(
        addr,
        &[("x-mock-status", "429"), ("x-mock-retry-after", date)],
    );
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some(date));
    assert_eq!(resp.header("retry-after-ms"), None);
    let resp = oa(
        addr,
        &[("x-mock-status", "429"), ("x-mock-retry-after", "1")],
    );
    assert_eq!(resp.header("retry-after-ms"), Some("1000"));
    // No injected error: no retry-after.
    let resp = oa(addr, &[("x-mock-retry-after", "1")]);
    assert_eq!((resp.status, resp.header("retry-after")), (200, None));
}

#[test]
fn stored_remaining_is_exact_across_connections() {
    let addr = listen("openai", Provider::OpenAi);
    let set = put_faults(&mut connect(addr), r#"{"status": 500, "remaining": 25}"#);
    assert_eq!(set.status, 200);
    let workers: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = connect(addr);
                (0..10)
                    .filter(|_| post(&mut c, OA_PATH, &[OA_AUTH], &oa_body(false)).status == 500)
                    .count()
            })
        })
        .collect();
    let faulted: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(faulted, 25);
}
