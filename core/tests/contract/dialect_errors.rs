//! Error cases on the dialect axis: a native error status and body, for
//! a Messages and a Responses client (plain and streamed request), must
//! reach the client in its own dialect: Anthropic's
//! `{"type":"error","error":{"type","message"}}` with Anthropic's type for
//! the status, or the OpenAI envelope a Responses client reads. The
//! declaration is [`Contract::error_in`] (default: the chat one); a
//! passthrough forwards its provider's own errors as they are.
//! Provider-only statuses ([`Contract::own_errors`]) stay on the chat run.

use modelmux_core::dialect::Dialect;
use modelmux_core::providers::{BodyMode, Cause, Failure};
use serde_json::Value;

use crate::cases::{self, ErrorCase};
use crate::convert::to_dialect;
use crate::dialects::OTHERS;
use crate::run::{deliver, judge, not_a_request_case, started_in, Verdict, Verdicts};
use crate::support::{fixture, Check, Contract, ErrorWant};

/// Anthropic's error `type` for a client status (its documented list).
fn anthropic_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        _ => "api_error",
    }
}

pub fn run<P: Contract>() -> Verdicts {
    let mut out = Vec::new();
    for d in OTHERS {
        for &case in ErrorCase::ALL {
            let yes = |want| {
                let native = match case {
                    ErrorCase::NotJson => cases::NOT_JSON.to_vec(),
                    _ => fixture::<P>(&format!("{}.json", case.name()))?,
                };
                for stream in [false, true] {
                    once::<P>(d, case, &native, want, stream)
                        .map_err(|e| format!("{e} (stream request: {stream})"))?;
                }
                Ok(())
            };
            let v = match to_dialect(&cases::plain_request(true, true), d) {
                Err(why) => Verdict::NotApplicable(why),
                Ok(_) => judge(P::error_in(d, case), &yes, &not_a_request_case),
            };
            out.push((format!("[{}] {}", d.name(), case.name()), v));
        }
    }
    out
}

fn once<P: Contract>(
    d: Dialect,
    case: ErrorCase,
    native: &[u8],
    want: ErrorWant,
    stream: bool,
) -> Check {
    let body = to_dialect(&cases::plain_request(stream, true), d).map_err(str::to_string)?;
    let (mut chat, _) = started_in::<P>(d, &body)?;
    let retry_after = case.retry_after();
    let head = chat.response_headers(case.status(), &|h| {
        (h == "retry-after")
            .then(|| retry_after.map(str::to_string))
            .flatten()
    });
    ensure_eq!(head.mode, BodyMode::Buffer, "mode of an error response");
    let edit = chat.response_body(native, true);
    let (status, out) = deliver(head.mode, case.status(), head.status, native, edit);
    let v: Value = serde_json::from_slice(&out).map_err(|e| {
        format!(
            "the client body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&out)
        )
    })?;
    check_body(d, case, native, want, status, &v)?;
    let failure = Failure {
        cause: Cause::Status,
        status,
        retry_after_ms: retry_after.map(|s| s.parse::<u64>().unwrap_or(0) * 1000),
    };
    ensure_eq!(chat.outcome().failure, Some(failure), "Outcome.failure");
    Ok(())
}

/// The client's error body for `want`.
fn check_body(
    d: Dialect,
    case: ErrorCase,
    native: &[u8],
    want: ErrorWant,
    status: u16,
    v: &Value,
) -> Check {
    let e = &v["error"];
    match want {
        ErrorWant::Forwarded => {
            ensure_eq!(status, case.status(), "client status");
            let native: Value = serde_json::from_slice(native).map_err(|e| e.to_string())?;
            ensure_eq!(*v, native, "forwarded error body");
        }
        ErrorWant::Translated | ErrorWant::Coded(_) | ErrorWant::Rewrapped => {
            ensure_eq!(status, case.status(), "client status");
            let message = e["message"].as_str().unwrap_or_default();
            let native_message = match want {
                ErrorWant::Rewrapped => serde_json::from_slice::<Value>(native)
                    .ok()
                    .and_then(|n| n["error"]["message"].as_str().map(str::to_string))
                    .ok_or("a rewrapped error needs an OpenAI error fixture")?,
                _ => case.message().to_string(),
            };
            ensure!(
                message.contains(&native_message),
                "error.message {message:?} does not carry the provider's {native_message:?}"
            );
            match d {
                Dialect::AnthropicMessages => {
                    ensure_eq!(v["type"], "error", "envelope type in {v}");
                    ensure_eq!(e["type"], anthropic_type(status), "error.type in {v}");
                }
                Dialect::OpenAiChat | Dialect::OpenAiResponses => {
                    ensure_eq!(e["type"], case.kind(), "error.type in {v}");
                    if let ErrorWant::Coded(code) = want {
                        ensure_eq!(e["code"], code, "error.code in {v}");
                    }
                }
            }
        }
    }
    Ok(())
}
