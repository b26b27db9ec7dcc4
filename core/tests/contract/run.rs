//! The runners for request, response and error cases (streams: see
//! `streams.rs`), with the shared checks; each case's verdict is collected
//! for [`report`].

use std::collections::BTreeSet;

use modelmux_core::dialect::Dialect;
use modelmux_core::error::ApiError;
use modelmux_core::gateway::probe::probe_as;
use modelmux_core::providers::{
    chat, BodyEdit, BodyMode, Cause, ChatInput, Failure, Outbound, TargetCtx, Translator,
};
use serde_json::Value;

use crate::cases::{self, ErrorCase, RequestCase, ResponseCase, StreamCase, PUBLIC_MODEL};
use crate::summary::{self, Tokens};
use crate::support::{fixture, fixture_path, Check, Contract, ErrorWant, Known, Support, Upstream};

const NOW: u64 = 1_750_000_000;

/// One case's verdict.
#[derive(Debug)]
pub enum Verdict {
    Pass,
    NotApplicable(&'static str),
    /// Fails as declared: the bug and how it shows.
    KnownBug(&'static str, String),
    Fail(String),
}

pub type Verdicts = Vec<(String, Verdict)>;

/// Prints every verdict and fails the test if any case failed.
pub fn report<P: Contract>(kind: &str, verdicts: Verdicts) {
    let mut failed = Vec::new();
    for (case, v) in &verdicts {
        let line = match v {
            Verdict::Pass => "ok".to_string(),
            Verdict::NotApplicable(why) => format!("not applicable: {why}"),
            Verdict::KnownBug(bug, how) => format!("KNOWN BUG: {bug} (shows as: {how})"),
            Verdict::Fail(msg) => {
                failed.push(format!("{} {kind} {case}: {msg}", P::NAME));
                format!("FAILED: {msg}")
            }
        };
        println!("{} {kind} {case}: {line}", P::NAME);
    }
    assert!(
        failed.is_empty(),
        "{} of {} {} {kind} cases failed:\n{}",
        failed.len(),
        verdicts.len(),
        P::NAME,
        failed.join("\n")
    );
}

/// Applies a declaration: runs `yes` for supported cases, `refused` for
/// refusals, and turns known bugs around.
pub fn judge<T>(
    support: Support<T>,
    yes: &dyn Fn(T) -> Check,
    refused: &dyn Fn(&'static str) -> Check,
) -> Verdict {
    let result = match support {
        Support::NotApplicable(why) => return Verdict::NotApplicable(why),
        Support::Known(Known::Bug(bug), want) => {
            return match judge(*want, yes, refused) {
                Verdict::Pass => Verdict::Fail(format!(
                    "declared known bug no longer happens, update the declaration: {bug}"
                )),
                Verdict::Fail(how) => Verdict::KnownBug(bug, how),
                other => Verdict::Fail(format!("a known bug must wrap a runnable case: {other:?}")),
            };
        }
        Support::Yes(t) => yes(t),
        Support::Refused { param } => refused(param),
    };
    match result {
        Ok(()) => Verdict::Pass,
        Err(msg) => Verdict::Fail(msg),
    }
}

pub fn not_a_request_case(_: &'static str) -> Check {
    Err("`Refused` applies to request cases only".to_string())
}

/// Starts a chat with `P` for `body`, a request in `dialect`.
pub fn start_in<P: Contract>(
    dialect: Dialect,
    body: &Value,
) -> Result<(Box<dyn Translator>, Outbound), ApiError> {
    let provider = P::provider();
    assert_eq!(
        provider.kind(),
        P::KIND,
        "{}: the provider does not speak `{}` (not registered yet?)",
        P::NAME,
        P::KIND
    );
    let target = TargetCtx {
        provider: &provider,
        model: P::upstream_model(),
        public_model: PUBLIC_MODEL,
        now_unix_secs: NOW,
        tokens: &modelmux_core::providers::auth::NoTokens,
    };
    let bytes = serde_json::to_vec(body).unwrap();
    let probe = probe_as(&bytes, dialect)?;
    let input = ChatInput {
        body: &bytes,
        probe: &probe,
        dialect,
        betas: None,
    };
    chat(&input, target)
}

pub fn started<P: Contract>(body: &Value) -> Result<(Box<dyn Translator>, Outbound), String> {
    started_in::<P>(Dialect::OpenAiChat, body)
}

pub fn started_in<P: Contract>(
    dialect: Dialect,
    body: &Value,
) -> Result<(Box<dyn Translator>, Outbound), String> {
    start_in::<P>(dialect, body).map_err(|e| {
        format!(
            "translation failed: {} {} (param {:?})",
            e.status, e.message, e.param
        )
    })
}

// ---- requests ----

pub fn requests<P: Contract>() -> Verdicts {
    RequestCase::ALL
        .iter()
        .map(|&case| {
            let body = cases::request(case);
            let sent = Sent {
                dialect: Dialect::OpenAiChat,
                chat: &body,
                body: &body,
            };
            (
                case.name().to_string(),
                judge_request::<P>(&sent, case, P::request(case)),
            )
        })
        .collect()
}

/// A request case as sent in one dialect.
pub struct Sent<'a> {
    pub dialect: Dialect,
    /// The case's OpenAI chat form (what the declarations' checks read as
    /// `Upstream::client`).
    pub chat: &'a Value,
    /// The body the client sent, in `dialect`.
    pub body: &'a Value,
}

pub fn judge_request<P: Contract>(
    sent: &Sent<'_>,
    case: RequestCase,
    support: Support<crate::support::RequestCheck>,
) -> Verdict {
    let yes = |check: crate::support::RequestCheck| request_ok::<P>(case, sent, check);
    let refused = |param| request_refused::<P>(sent, param);
    judge(support, &yes, &refused)
}

fn request_ok<P: Contract>(
    case: RequestCase,
    sent: &Sent<'_>,
    check: fn(&Upstream) -> Check,
) -> Check {
    let (mut chat, out) = started_in::<P>(sent.dialect, sent.body)?;
    let upstream = match &out.body {
        Some(b) => serde_json::from_slice(b).map_err(|e| {
            format!(
                "the upstream body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(b)
            )
        })?,
        None => sent.body.clone(),
    };
    let up = Upstream {
        path: out.path,
        headers: out.headers,
        body: upstream,
        client: sent.chat.clone(),
        sent: sent.body.clone(),
    };
    ensure_eq!(
        up.header("content-type"),
        Some("application/json"),
        "upstream content-type"
    );
    P::accepts_in(sent.dialect, &up)
        .map_err(|e| format!("not a request the provider accepts: {e}; body {}", up.body))?;
    check(&up).map_err(|e| format!("{e}; upstream body {}", up.body))?;
    let mode = chat.response_headers(200, &|_| None).mode;
    let streaming = case == RequestCase::Streaming;
    ensure_eq!(
        mode == BodyMode::Stream,
        streaming,
        "streamed 200 ({mode:?})"
    );
    Ok(())
}

/// A refusal: a 400 naming `param`, in the client's dialect (Anthropic's
/// envelope has no `param` field; the message names it).
fn request_refused<P: Contract>(sent: &Sent<'_>, param: &'static str) -> Check {
    let Err(e) = start_in::<P>(sent.dialect, sent.body) else {
        return Err(format!("declared refused (param `{param}`) but translated"));
    };
    ensure_eq!(e.status, 400, "status of the refusal ({})", e.message);
    ensure_eq!(e.kind, "invalid_request_error", "type of the refusal");
    ensure_eq!(
        e.param.as_deref(),
        Some(param),
        "param of the refusal ({})",
        e.message
    );
    ensure!(!e.message.is_empty(), "the refusal has no message");
    let v: Value = serde_json::from_slice(&sent.dialect.error_body(&e)).unwrap();
    ensure_eq!(
        v["error"]["type"],
        "invalid_request_error",
        "type in the error body {v}"
    );
    match sent.dialect {
        Dialect::AnthropicMessages => ensure!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(param)),
            "the error message does not name `{param}`: {v}"
        ),
        Dialect::OpenAiChat | Dialect::OpenAiResponses => {
            ensure_eq!(v["error"]["param"], param, "param in the error body")
        }
    }
    Ok(())
}

// ---- responses and errors (buffered) ----

/// What the client receives for a whole body: status and bytes.
pub fn deliver(
    mode: BodyMode,
    upstream: u16,
    status: Option<u16>,
    native: &[u8],
    edit: BodyEdit,
) -> (u16, Vec<u8>) {
    let status = status.unwrap_or(upstream);
    match (mode, edit) {
        (BodyMode::Tail(_), _) | (_, BodyEdit::Keep) => (status, native.to_vec()),
        (_, BodyEdit::Replace(b)) => (status, b),
        (BodyMode::Buffer, BodyEdit::Fail { status, body }) => (status, body),
        (BodyMode::Stream, BodyEdit::Fail { body, .. }) => (status, body),
    }
}

fn json_of(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "the client body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    })
}

pub fn responses<P: Contract>() -> Verdicts {
    ResponseCase::ALL
        .iter()
        .map(|&case| {
            let yes = |_| response_case::<P>(case);
            (
                case.name().to_string(),
                judge(P::response(case), &yes, &not_a_request_case),
            )
        })
        .collect()
}

fn response_case<P: Contract>(case: ResponseCase) -> Check {
    let (mut chat, _) = started::<P>(&cases::response_request(case))?;
    let head = chat.response_headers(200, &|_| None);
    ensure!(
        matches!(head.mode, BodyMode::Buffer | BodyMode::Tail(_)),
        "a plain 200 must be buffered or observed, got {:?}",
        head.mode
    );
    let native = match cases::reply(case) {
        None => cases::NOT_THE_SHAPE.to_vec(),
        Some(_) => fixture::<P>(&format!("{}.json", case.name()))?,
    };
    let edit = chat.response_body(&native, true);
    let Some(want) = cases::reply(case) else {
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
        ensure_eq!(v["error"]["type"], "server_error", "error type in {v}");
        let failure = chat.outcome().failure.map(|f| (f.cause, f.status));
        ensure_eq!(failure, Some((Cause::Malformed, 502)), "Outcome.failure");
        return Ok(());
    };
    let (status, out) = deliver(head.mode, 200, head.status, &native, edit);
    ensure_eq!(status, 200, "client status");
    let v = json_of(&out)?;
    let want = summary::ReplyWant {
        usage: want.usage.for_provider(P::REASONING_TOKENS),
        ..want
    };
    summary::check_reply(&v, &want)?;
    let outcome = chat.outcome();
    ensure_eq!(outcome.failure, None, "Outcome.failure");
    ensure_eq!(
        Tokens::of_usage(&outcome.usage),
        want.usage,
        "Outcome.usage"
    );
    Ok(())
}

/// The expectation of one error run.
struct ErrorRun {
    upstream: u16,
    native: Vec<u8>,
    retry_after: Option<&'static str>,
    client: u16,
    kind: &'static str,
    message: &'static str,
    want: ErrorWant,
}

pub fn errors<P: Contract>() -> Verdicts {
    let mut verdicts: Verdicts = ErrorCase::ALL
        .iter()
        .map(|&case| {
            let yes = |want| {
                let native = match case {
                    ErrorCase::NotJson => cases::NOT_JSON.to_vec(),
                    _ => fixture::<P>(&format!("{}.json", case.name()))?,
                };
                let run = ErrorRun {
                    upstream: case.status(),
                    native,
                    retry_after: case.retry_after(),
                    client: case.status(),
                    kind: case.kind(),
                    message: case.message(),
                    want,
                };
                error_case::<P>(&run)
            };
            (
                case.name().to_string(),
                judge(P::error(case), &yes, &not_a_request_case),
            )
        })
        .collect();
    for own in P::own_errors() {
        let run = fixture::<P>(&format!("error_{}.json", own.upstream)).and_then(|native| {
            error_case::<P>(&ErrorRun {
                upstream: own.upstream,
                native,
                retry_after: None,
                client: own.client,
                kind: own.kind,
                message: own.message,
                want: ErrorWant::Translated,
            })
        });
        let v = run.map_or_else(Verdict::Fail, |()| Verdict::Pass);
        verdicts.push((format!("error_{} (own)", own.upstream), v));
    }
    verdicts
}

/// Runs one error for a plain and for a streamed request.
fn error_case<P: Contract>(run: &ErrorRun) -> Check {
    for stream in [false, true] {
        error_once::<P>(run, stream).map_err(|e| format!("{e} (stream request: {stream})"))?;
    }
    Ok(())
}

fn error_once<P: Contract>(run: &ErrorRun, stream: bool) -> Check {
    let (mut chat, _) = started::<P>(&cases::plain_request(stream, true))?;
    let retry_after = run.retry_after;
    let head = chat.response_headers(run.upstream, &|h| {
        (h == "retry-after")
            .then(|| retry_after.map(str::to_string))
            .flatten()
    });
    ensure_eq!(head.mode, BodyMode::Buffer, "mode of an error response");
    let edit = chat.response_body(&run.native, true);
    let (status, out) = deliver(head.mode, run.upstream, head.status, &run.native, edit);
    let v = json_of(&out)?;
    let e = &v["error"];
    ensure!(e.is_object(), "not an OpenAI error envelope: {v}");
    let message = e["message"].as_str().unwrap_or_default();
    match run.want {
        ErrorWant::Translated | ErrorWant::Coded(_) => {
            ensure_eq!(status, run.client, "client status");
            ensure_eq!(e["type"], run.kind, "error.type in {v}");
            ensure!(
                message.contains(run.message),
                "error.message {message:?} does not carry the provider's {:?}",
                run.message
            );
            if let ErrorWant::Coded(code) = run.want {
                ensure_eq!(e["code"], code, "error.code in {v}");
            }
        }
        ErrorWant::Forwarded => {
            ensure_eq!(status, run.upstream, "client status");
            ensure_eq!(v, json_of(&run.native)?, "forwarded error body");
        }
        ErrorWant::Rewrapped => return Err("`Rewrapped` is for other dialects than chat".into()),
    }
    let want = Failure {
        cause: Cause::Status,
        status,
        retry_after_ms: retry_after.map(|s| s.parse::<u64>().unwrap() * 1000),
    };
    ensure_eq!(chat.outcome().failure, Some(want), "Outcome.failure");
    Ok(())
}

// ---- fixtures ----

fn declared<T>(s: &Support<T>) -> bool {
    match s {
        Support::Yes(_) => true,
        Support::Known(_, inner) => declared(inner),
        Support::Refused { .. } | Support::NotApplicable(_) => false,
    }
}

/// Every fixture file of `P` belongs to a case that runs.
pub fn unused_fixtures<P: Contract>() -> Verdicts {
    let mut used = BTreeSet::new();
    for &c in ResponseCase::ALL {
        if declared(&P::response(c)) {
            used.insert(format!("{}.json", c.name()));
        }
    }
    for &c in StreamCase::ALL {
        if declared(&P::stream(c)) {
            used.insert(P::stream_file(c.name()));
        }
    }
    for &c in ErrorCase::ALL {
        if declared(&P::error(c)) {
            used.insert(format!("{}.json", c.name()));
        }
    }
    for own in P::own_errors() {
        used.insert(format!("error_{}.json", own.upstream));
    }
    let dir = fixture_path::<P>("");
    let files = std::fs::read_dir(&dir).map(|d| {
        d.filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<BTreeSet<_>>()
    });
    let verdict = match files {
        Err(e) => Verdict::Fail(format!("{dir}: {e}")),
        Ok(files) => {
            let unused: Vec<_> = files.difference(&used).collect();
            if unused.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail(format!("fixtures no supported case reads: {unused:?}"))
            }
        }
    };
    vec![("all used".to_string(), verdict)]
}
