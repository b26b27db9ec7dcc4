//! The dialect axis: every request, response and stream case again for a
//! client speaking Anthropic Messages and one speaking OpenAI Responses.
//!
//! * Requests: the case is expressed in the dialect ([`convert`]); what it
//!   cannot say is not applicable, with the converter's reason. The
//!   translated request then meets the same bar as a chat client's:
//!   [`Contract::accepts`] and the declaration's check, which reads the
//!   case's chat form as `Upstream::client`. A refusal is a 400 in the
//!   client's dialect that names the field.
//! * Responses: the provider's native fixture, translated for the
//!   dialect's request, read back from the client's `message` /
//!   `response` into the neutral summary ([`dialect_summary`]) and
//!   compared with the chat expectation. A body that is not the
//!   provider's shape is a 502 with an error in the client's dialect.
//! * Streams: the native stream fixture, whole and re-split at every byte,
//!   read from the dialect's events; the output bytes and `Outcome` must
//!   be the same for every split. There is no `include_usage` in these
//!   dialects: a complete stream always reports usage.
//!
//! The declarations are [`Contract::request_in`], [`Contract::response_in`]
//! and [`Contract::stream_in`], which default to the chat declaration.
//!
//! [`convert`]: crate::convert
//! [`dialect_summary`]: crate::dialect_summary

use modelmux_core::dialect::Dialect;
use modelmux_core::providers::{BodyEdit, BodyMode, Cause};
use serde_json::Value;

use crate::cases::{self, RequestCase, ResponseCase, StreamCase};
use crate::convert::to_dialect;
use crate::dialect_summary::{self as ds, Neutral};
use crate::run::{judge, judge_request, not_a_request_case, started_in, Sent, Verdict, Verdicts};
use crate::sse;
use crate::streams::feed;
use crate::summary::{check_calls, End, Tokens};
use crate::support::{fixture, Check, Contract};

/// The dialects beside chat.
pub const OTHERS: [Dialect; 2] = [Dialect::AnthropicMessages, Dialect::OpenAiResponses];

fn label(d: Dialect, case: &str) -> String {
    format!("[{}] {case}", d.name())
}

/// Usage as `dialect` can say it: Messages has no reasoning split.
fn in_dialect(d: Dialect, t: Tokens) -> Tokens {
    t.for_provider(d != Dialect::AnthropicMessages)
}

pub fn requests<P: Contract>() -> Verdicts {
    let mut out = Vec::new();
    for d in OTHERS {
        for &case in RequestCase::ALL {
            let chat = cases::request(case);
            let v = match to_dialect(&chat, d) {
                Err(why) => Verdict::NotApplicable(why),
                Ok(body) => {
                    let sent = Sent {
                        dialect: d,
                        chat: &chat,
                        body: &body,
                    };
                    judge_request::<P>(&sent, case, P::request_in(d, case))
                }
            };
            out.push((label(d, case.name()), v));
        }
    }
    out
}

pub fn responses<P: Contract>() -> Verdicts {
    let mut out = Vec::new();
    for d in OTHERS {
        for &case in ResponseCase::ALL {
            let v = match to_dialect(&cases::response_request(case), d) {
                Err(why) => Verdict::NotApplicable(why),
                Ok(body) => {
                    let yes = |_| response_case::<P>(d, &body, case);
                    judge(P::response_in(d, case), &yes, &not_a_request_case)
                }
            };
            out.push((label(d, case.name()), v));
        }
    }
    out
}

fn json_of(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "the client body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    })
}

fn response_case<P: Contract>(d: Dialect, body: &Value, case: ResponseCase) -> Check {
    let (mut chat, _) = started_in::<P>(d, body)?;
    let head = chat.response_headers(200, &|_| None);
    let Some(want) = cases::reply(case) else {
        let edit = chat.response_body(cases::NOT_THE_SHAPE, true);
        ensure_eq!(
            head.mode,
            BodyMode::Buffer,
            "mode for a body that must become a 502"
        );
        let BodyEdit::Fail { status, body } = edit else {
            return Err(format!(
                "want BodyEdit::Fail {{ status: 502 }}, got {edit:?}"
            ));
        };
        ensure_eq!(status, 502, "status of the failure");
        let v = json_of(&body)?;
        if d == Dialect::AnthropicMessages {
            ensure_eq!(v["type"], "error", "an Anthropic error envelope: {v}");
        }
        ensure!(v["error"]["message"].is_string(), "no error message in {v}");
        let failure = chat.outcome().failure.map(|f| (f.cause, f.status));
        ensure_eq!(failure, Some((Cause::Malformed, 502)), "Outcome.failure");
        return Ok(());
    };
    let native = fixture::<P>(&format!("{}.json", case.name()))?;
    let edit = chat.response_body(&native, true);
    let out = match edit {
        BodyEdit::Keep => native.clone(),
        BodyEdit::Replace(b) => b,
        BodyEdit::Fail { status, body } => {
            return Err(format!(
                "failed with {status}: {}",
                String::from_utf8_lossy(&body)
            ))
        }
    };
    ensure_eq!(head.status.unwrap_or(200), 200, "client status");
    let got = ds::read_body(d, &json_of(&out)?)?;
    let usage = want.usage.for_provider(P::REASONING_TOKENS);
    ensure_eq!(got.text, want.text, "text");
    ensure_eq!(got.reasoning, want.reasoning, "reasoning");
    check_calls(&got.calls, &want.tools)?;
    ensure_eq!(got.finish.as_deref(), Some(want.finish), "finish (neutral)");
    ensure_eq!(got.usage, Some(in_dialect(d, usage)), "usage (neutral)");
    let outcome = chat.outcome();
    ensure_eq!(outcome.failure, None, "Outcome.failure");
    ensure_eq!(Tokens::of_usage(&outcome.usage), usage, "Outcome.usage");
    Ok(())
}

pub fn streams<P: Contract>() -> Verdicts {
    let mut out = Vec::new();
    for d in OTHERS {
        for &case in StreamCase::ALL {
            let v = match to_dialect(&cases::plain_request(true, true), d) {
                Err(why) => Verdict::NotApplicable(why),
                Ok(body) => {
                    let yes = |_| {
                        let native = P::stream_bytes(fixture::<P>(&P::stream_file(case.name()))?)?;
                        stream_case::<P>(d, &body, case, &native)
                    };
                    judge(P::stream_in(d, case), &yes, &not_a_request_case)
                }
            };
            out.push((label(d, case.name()), v));
        }
    }
    out
}

fn stream_case<P: Contract>(d: Dialect, body: &Value, case: StreamCase, native: &[u8]) -> Check {
    let whole = feed::<P>(d, body, native, &[])?;
    let got: Neutral = ds::read_stream(d, &whole.out)?;
    let want = cases::stream(case);
    ensure_eq!(got.text, want.text, "streamed text");
    ensure_eq!(got.reasoning, want.reasoning, "streamed reasoning");
    check_calls(&got.calls, &want.tools)?;
    let failure = whole.outcome.failure.map(|f| f.cause);
    match want.end {
        End::Done => {
            ensure!(got.done, "the stream did not end as a complete one");
            ensure_eq!(got.error, None, "error event");
            ensure_eq!(got.finish.as_deref(), want.finish, "finish (neutral)");
            ensure_eq!(failure, None, "Outcome.failure");
            let usage = want
                .usage
                .ok_or("a complete stream case must say its usage")?;
            let usage = usage.for_provider(P::REASONING_TOKENS);
            ensure_eq!(got.usage, Some(in_dialect(d, usage)), "usage (neutral)");
            ensure_eq!(
                Tokens::of_usage(&whole.outcome.usage),
                usage,
                "Outcome.usage"
            );
        }
        End::Error(_) | End::Truncated => {
            ensure!(!got.done, "a broken stream ended as a complete one");
            let e = got.error.as_ref().ok_or("no error event at the end")?;
            let message = e["message"].as_str().or(e["error"]["message"].as_str());
            ensure!(
                message.is_some_and(|m| !m.is_empty()),
                "error event without a message: {e}"
            );
            let cause = match want.end {
                End::Error(_) => Cause::ErrorEvent,
                _ => Cause::Truncated,
            };
            ensure_eq!(failure, Some(cause), "Outcome.failure cause");
        }
    }
    for (label, cuts) in sse::splits(native.len()) {
        let split = feed::<P>(d, body, native, &cuts)?;
        let (a, b) = (masked(&split.out), masked(&whole.out));
        if a != b || split.outcome != whole.outcome {
            return Err(format!(
                "{label}: differs from the unsplit run ({:?} vs {:?}); output {:?}",
                split.outcome,
                whole.outcome,
                String::from_utf8_lossy(&a)
            ));
        }
    }
    Ok(())
}

/// The output with the gateway-made Messages id (and the tool ids derived
/// from it) masked: the Anthropic encoder numbers the ids it makes for an
/// upstream without one (Bedrock), so two runs differ there and only
/// there. Uniqueness of tool ids is checked on the whole run.
fn masked(out: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(out);
    let key = "\"id\":\"msg_";
    let Some(at) = text.find(key) else {
        return out.to_vec();
    };
    let rest = &text[at + key.len()..];
    let base = &rest[..rest.find('"').unwrap_or(rest.len())];
    if base.is_empty() {
        return out.to_vec();
    }
    text.replace(base, "<id>").into_bytes()
}
