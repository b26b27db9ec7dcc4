//! Is the Bedrock path linear in the body size? Times, at 1 KiB to 1 MiB,
//! SigV4 signing of a request body, event-stream framing of a
//! ConverseStream answer, the whole ConverseStream → OpenAI SSE
//! translation, and the OpenAI → Converse request translation, and prints
//! µs per call and µs per KiB (flat µs/KiB = linear).
//!
//!     cargo run --release -p modelmux-core --example linear
//!
//! Native code, not wasm: the filter runs the same core under V8, slower
//! by a roughly constant factor (bench/README.md).

use std::time::{Duration, Instant};

use modelmux_core::config::{Config, Provider, Secret};
use modelmux_core::eventstream::{encode, EventStreamDecoder};
use modelmux_core::providers::auth::{sigv4::SigV4, NoTokens};
use modelmux_core::providers::{chat_body, Outbound, TargetCtx};
use serde_json::json;

const SIZES_KIB: [usize; 4] = [1, 16, 256, 1024];
const MODEL: &str = "anthropic.claude-3-5-sonnet-20241022-v2:0";
/// Envoy hands a body to the filter in pieces of about this size.
const PIECE: usize = 16 * 1024;
/// Roughly this much work per size and operation.
const BUDGET: Duration = Duration::from_millis(300);

fn main() -> Result<(), String> {
    let provider = provider()?;
    println!(
        "{:<22} {:>8} {:>7} {:>12} {:>8}",
        "operation", "KiB", "iters", "µs/call", "µs/KiB"
    );
    for kib in SIZES_KIB {
        let body = prose(kib * 1024);
        row("sigv4 sign", kib, || sign(&body))?;
    }
    for kib in SIZES_KIB {
        let stream = converse_stream(kib * 1024);
        row("eventstream decode", kib, || decode(&stream))?;
    }
    for kib in SIZES_KIB {
        let stream = converse_stream(kib * 1024);
        row("stream translate", kib, || {
            translate_stream(&provider, &stream)
        })?;
    }
    for kib in SIZES_KIB {
        let request = openai_request(kib * 1024)?;
        row("request translate", kib, || {
            translate_request(&provider, &request)
        })?;
    }
    Ok(())
}

/// Runs `op` (which returns the time it measured) until BUDGET is spent.
fn row(
    name: &str,
    kib: usize,
    mut op: impl FnMut() -> Result<Duration, String>,
) -> Result<(), String> {
    op()?; // warm-up
    let (mut iters, mut spent) = (0u32, Duration::ZERO);
    while spent < BUDGET || iters < 5 {
        spent += op()?;
        iters += 1;
    }
    let us = spent.as_secs_f64() * 1e6 / f64::from(iters);
    println!(
        "{name:<22} {kib:>8} {iters:>7} {us:>12.1} {:>8.2}",
        us / kib as f64
    );
    Ok(())
}

fn provider() -> Result<Provider, String> {
    let doc = json!({
        "providers": [{"name": "br", "type": "bedrock", "cluster": "c_br",
                       "region": "us-east-1", "auth": {"type": "sigv4"}}],
        "models": [{"name": "smart", "targets": [{"provider": "br", "model": MODEL}]}]
    });
    let env = |name: &str| Some(format!("mock-{name}"));
    let mut config =
        Config::from_json(doc.to_string().as_bytes(), &env).map_err(|e| e.to_string())?;
    config
        .providers
        .pop()
        .ok_or_else(|| "no provider".to_string())
}

fn target(provider: &Provider) -> TargetCtx<'_> {
    TargetCtx {
        provider,
        model: MODEL,
        public_model: "smart",
        now_unix_secs: 1_750_000_000,
        tokens: &NoTokens,
    }
}

/// Deterministic text with the escapes JSON has to deal with.
fn prose(len: usize) -> String {
    "Gateway \"latency\" budget\tstream upstream token.\n"
        .chars()
        .cycle()
        .take(len)
        .collect()
}

fn sign(body: &str) -> Result<Duration, String> {
    let signer = SigV4 {
        access_key_id: Secret::new("AKIDMOCKBEDROCK"),
        secret_access_key: Secret::new("mock-bedrock-secret"),
        session_token: None,
        region: "us-east-1".into(),
        service: "bedrock",
    };
    let mut out = Outbound {
        path: "/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse".into(),
        headers: vec![("content-type", "application/json".into())],
        body: Some(body.as_bytes().to_vec()),
    };
    let start = Instant::now();
    signer
        .sign(
            &mut out,
            "bedrock-runtime.us-east-1.amazonaws.com",
            1_750_000_000,
        )
        .map_err(|e| format!("{e:?}"))?;
    Ok(start.elapsed())
}

/// A ConverseStream answer of about `len` bytes: text deltas of ~100
/// characters between the start and stop events, as the mock sends them.
fn converse_stream(len: usize) -> Vec<u8> {
    let event = |kind: &str, payload: serde_json::Value| {
        let headers = [
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ];
        encode(&headers, payload.to_string().as_bytes())
    };
    let mut out = event("messageStart", json!({"role": "assistant", "p": "abc"}));
    let text = prose(100);
    while out.len() < len {
        out.extend(event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}, "p": "abcdefg"}),
        ));
    }
    out.extend(event("contentBlockStop", json!({"contentBlockIndex": 0})));
    out.extend(event("messageStop", json!({"stopReason": "end_turn"})));
    out.extend(event("metadata", json!({"usage": {"inputTokens": 10, "outputTokens": 20, "totalTokens": 30}, "metrics": {"latencyMs": 5}})));
    out
}

fn decode(stream: &[u8]) -> Result<Duration, String> {
    let mut decoder = EventStreamDecoder::new();
    let (mut messages, mut typed) = (0usize, 0usize);
    let start = Instant::now();
    for piece in stream.chunks(PIECE) {
        decoder
            .push(piece, |m| {
                messages += 1;
                typed += usize::from(m.header(":event-type").is_some());
            })
            .map_err(|e| format!("{e:?}"))?;
    }
    let spent = start.elapsed();
    if messages == 0 || typed != messages || !decoder.is_idle() {
        return Err(format!("decoded {messages} messages, {typed} typed"));
    }
    Ok(spent)
}

fn stream_request() -> Vec<u8> {
    json!({"model": "smart", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn translate_stream(provider: &Provider, stream: &[u8]) -> Result<Duration, String> {
    let (mut chat, _) =
        chat_body(&stream_request(), target(provider)).map_err(|e| format!("{e:?}"))?;
    chat.response_headers(200, &|_| None);
    let mut produced = 0usize;
    let start = Instant::now();
    let mut pieces = stream.chunks(PIECE).peekable();
    while let Some(piece) = pieces.next() {
        if let modelmux_core::providers::BodyEdit::Replace(bytes) =
            chat.response_body(piece, pieces.peek().is_none())
        {
            produced += bytes.len();
        }
    }
    let spent = start.elapsed();
    if produced < stream.len() / 4 {
        return Err(format!(
            "translated {} stream bytes into {produced}",
            stream.len()
        ));
    }
    Ok(spent)
}

fn openai_request(len: usize) -> Result<Vec<u8>, String> {
    let doc = json!({"model": "smart", "max_tokens": 256, "messages": [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": prose(len)}]});
    serde_json::to_vec(&doc).map_err(|e| e.to_string())
}

fn translate_request(provider: &Provider, request: &[u8]) -> Result<Duration, String> {
    let start = Instant::now();
    let (_, out) = chat_body(request, target(provider)).map_err(|e| format!("{e:?}"))?;
    let spent = start.elapsed();
    match out.body {
        Some(body) if body.len() >= request.len() / 2 => Ok(spent),
        _ => Err("request translation produced no body".into()),
    }
}
