use serde_json::Value;

use super::*;
use crate::config::Provider;
use crate::dialect::Dialect;
use crate::gateway::probe::Probe;
use crate::providers::Outcome;

/// A Responses body and its probe, built by hand (the gateway's probe is
/// the lead's; only the model span and `stream` matter here).
fn probe(body: &str) -> Probe<'static> {
    let v: Value = serde_json::from_str(body).unwrap();
    let model = v["model"].as_str().unwrap().to_string();
    let quoted = serde_json::to_string(&model).unwrap();
    let start = body.find(&quoted).unwrap();
    Probe {
        model,
        model_span: start..start + quoted.len(),
        stream: v["stream"] == Value::Bool(true),
        stream_options: None,
        object_start: 0,
    }
}

fn start_with(kind: &str, body: &str, upstream: &str) -> (Box<dyn Translator>, Outbound) {
    let p = match kind {
        "azure" => Provider::new("az", "azure", "r.openai.azure.com").with_key("k"),
        k => Provider::new("oa", k, "h"),
    };
    let pr = probe(body);
    let input = ChatInput {
        body: body.as_bytes(),
        probe: &pr,
        dialect: Dialect::OpenAiResponses,
        betas: None,
    };
    let ctx = TargetCtx {
        provider: &p,
        model: upstream,
        public_model: "public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    crate::providers::chat(&input, ctx).unwrap()
}

const BODY: &str =
    r#"{"model":"public","input":[{"role":"user","content":"hi"}],"store":false,"x_new":1}"#;

#[test]
fn forwards_the_body_with_only_the_model_spliced() {
    let (_, out) = start_with("openai", BODY, "gpt-5");
    assert_eq!(out.path, "/v1/responses");
    let expected = BODY.replace(r#""public""#, r#""gpt-5""#);
    assert_eq!(out.body.as_deref(), Some(expected.as_bytes()));

    let (_, out) = start_with("openai", BODY, "public");
    assert_eq!(out.body, None, "same name: the body goes as sent");
}

#[test]
fn azure_uses_its_v1_responses_path() {
    let (_, out) = start_with("azure", BODY, "my-deployment");
    assert_eq!(out.path, "/openai/v1/responses");
    let expected = BODY.replace(r#""public""#, r#""my-deployment""#);
    assert_eq!(out.body.as_deref(), Some(expected.as_bytes()));
    assert!(out.headers.iter().any(|(k, _)| *k == "api-key"));
}

const USAGE: &str = r#"{"input_tokens":30,"input_tokens_details":{"cached_tokens":20},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":39}"#;

fn usage() -> Usage {
    Usage {
        input: 30,
        cache_read: 20,
        output: 9,
        reasoning: 4,
        ..Usage::default()
    }
}

/// Runs a stream split at `at`: the bytes the client got and the outcome.
fn run(body: &[u8], at: usize) -> (Vec<u8>, Outcome) {
    let (mut t, _) = start_with("openai", r#"{"model":"m","stream":true,"input":"x"}"#, "m");
    let edit = t.response_headers(200, &|_| None);
    assert_eq!(edit.mode, BodyMode::Stream);
    let mut out = Vec::new();
    let (a, b) = body.split_at(at.min(body.len()));
    for (part, end) in [(a, false), (b, true)] {
        match t.response_body(part, end) {
            BodyEdit::Replace(bytes) => out.extend(bytes),
            other => panic!("{other:?}"),
        }
    }
    (out, t.outcome())
}

fn every_split(body: &[u8]) -> (Vec<u8>, Outcome) {
    let whole = run(body, usize::MAX);
    for at in 0..=body.len() {
        assert_eq!(run(body, at), whole, "split at {at}");
    }
    whole
}

fn completed(kind: &str) -> String {
    format!(
        concat!(
            "event: response.created\n",
            "data: {{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{{\"id\":\"resp_1\",\"status\":\"in_progress\",\"usage\":null}}}}\n\n",
            "event: response.output_text.delta\n",
            "data: {{\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"H\u{e9}\"}}\n\n",
            "event: response.function_call_arguments.delta\r\n",
            "data: {{\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":2,\"delta\":\"{{}}\"}}\r\n\r\n",
            "event: {kind}\n",
            "data: {{\"type\":\"{kind}\",\"sequence_number\":3,\"response\":{{\"id\":\"resp_1\",\"output\":[{{\"type\":\"message\",\"content\":[{{\"type\":\"output_text\",\"text\":\"say \\\"usage\\\": {{}}\"}}]}}],\"usage\":{usage},\"user\":null,\"metadata\":{{}}}}}}\n\n",
        ),
        kind = kind,
        usage = USAGE
    )
}

#[test]
fn stream_usage_from_the_terminal_event_at_every_split() {
    for kind in ["response.completed", "response.incomplete"] {
        let body = completed(kind);
        let (out, outcome) = every_split(body.as_bytes());
        // Re-emitted whole: the same events (CRLF lines become LF).
        assert_eq!(String::from_utf8(out).unwrap(), body.replace("\r\n", "\n"));
        assert_eq!(outcome.usage, usage(), "{kind}");
        assert_eq!(outcome.failure, None, "{kind}");
        assert!(outcome.content);
        assert_eq!(outcome.streamed, 5, "delta bytes: H, é (2), {{}} (2)");
    }
}

#[test]
fn response_failed_and_error_events_are_failures() {
    let (_, outcome) = every_split(completed("response.failed").as_bytes());
    assert_eq!(outcome.usage, usage());
    let f = outcome.failure.unwrap();
    assert_eq!((f.cause, f.status), (Cause::ErrorEvent, 502));

    let body = "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null,\"sequence_number\":1}\n\n";
    let (out, outcome) = every_split(body.as_bytes());
    assert_eq!(out, body.as_bytes());
    assert_eq!(outcome.failure.map(|f| f.cause), Some(Cause::ErrorEvent));
}

#[test]
fn a_stream_without_a_terminal_event_is_truncated() {
    let full = completed("response.completed");
    let cut = full.find("event: response.completed").unwrap();
    let body = &full.as_bytes()[..cut + 10];
    let (out, outcome) = every_split(body);
    let out = String::from_utf8(out).unwrap();
    let last = out.split("\n\n").filter(|e| !e.is_empty()).last().unwrap();
    let data: Value =
        serde_json::from_str(last.strip_prefix("event: error\ndata: ").unwrap()).unwrap();
    assert_eq!(data["type"], "error");
    assert_eq!(data["code"], "server_error");
    assert_eq!(outcome.failure.map(|f| f.cause), Some(Cause::Truncated));
    assert_eq!(outcome.usage, Usage::default());
}

#[test]
fn json_usage_from_the_tail_and_errors_normalised() {
    let body = format!(
        r#"{{"id":"resp_1","object":"response","status":"completed","output":[{{"type":"message","content":[{{"type":"output_text","text":"\"usage\": 1"}}]}}],"tools":[],"usage":{USAGE},"user":null,"metadata":{{"k":"{}"}}}}"#,
        "v".repeat(512)
    );
    for at in 0..=body.len() {
        let (mut t, _) = start_with("openai", BODY, "m");
        let edit = t.response_headers(200, &|_| None);
        assert_eq!(edit.mode, BodyMode::Tail(RESPONSE_TAIL));
        let (a, b) = body.as_bytes().split_at(at);
        assert_eq!(t.response_body(a, false), BodyEdit::Keep);
        assert_eq!(t.response_body(b, true), BodyEdit::Keep);
        assert_eq!(t.outcome().usage, usage(), "split at {at}");
        assert_eq!(t.outcome().failure, None);
    }

    let (mut t, _) = start_with("openai", BODY, "m");
    let edit = t.response_headers(429, &|h| (h == "retry-after").then(|| "2".to_string()));
    assert_eq!(edit.mode, BodyMode::Buffer);
    let replaced = t.response_body(b"Too Many Requests", true);
    let BodyEdit::Replace(body) = replaced else {
        panic!("{replaced:?}")
    };
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");
    let f = t.outcome().failure.unwrap();
    assert_eq!(
        (f.cause, f.status, f.retry_after_ms),
        (Cause::Status, 429, Some(2000))
    );
}

#[test]
fn presets_are_not_passed_through() {
    let p = Provider::new("g", "groq", "h");
    assert!(matches!(
        p.options,
        crate::providers::Options::OpenAi(ref o) if o.preset.is_some()
    ));
    let pr = probe(BODY);
    let input = ChatInput {
        body: BODY.as_bytes(),
        probe: &pr,
        dialect: Dialect::OpenAiResponses,
        betas: None,
    };
    let ctx = TargetCtx {
        provider: &p,
        model: "m",
        public_model: "public",
        now_unix_secs: 0,
        tokens: &crate::providers::auth::NoTokens,
    };
    // Translated: the Responses decoder decides (a stub until it lands),
    // and nothing is sent to `/responses`.
    match crate::providers::chat(&input, ctx) {
        Ok((_, out)) => assert!(out.path.ends_with("/chat/completions"), "{}", out.path),
        Err(e) => assert_ne!(e.status, 200),
    }
}

#[test]
fn azure_responses_path_keeps_only_a_v1_api_version() {
    use crate::providers::azure::{ApiStyle, Options};
    let v1 = Options {
        api_style: ApiStyle::V1,
        api_version: Some("preview".into()),
        ..Options::default()
    };
    assert_eq!(
        v1.responses_path("/b"),
        "/b/openai/v1/responses?api-version=preview"
    );
    let deployments = Options {
        api_version: Some("2024-10-21".into()),
        ..Options::default()
    };
    assert_eq!(deployments.responses_path(""), "/openai/v1/responses");
}
