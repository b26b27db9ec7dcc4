//! The stream runner: each stream case with and without
//! `stream_options.include_usage`, whole and re-split at every byte.

use modelmux_core::dialect::Dialect;
use modelmux_core::providers::{BodyEdit, BodyMode, Cause, Outcome};
use serde_json::Value;

use crate::cases::{self, StreamCase};
use crate::run::{judge, not_a_request_case, started_in, Verdicts};
use crate::sse;
use crate::summary::{self, End, Tokens};
use crate::support::{fixture, Check, Contract};

/// A stream run's client bytes and outcome.
#[derive(Debug, PartialEq)]
pub struct Fed {
    pub out: Vec<u8>,
    pub outcome: Outcome,
}

/// Feeds `native` cut at `cuts` (ascending), `end` on the last piece, to
/// a stream started for `body` in `dialect`.
pub fn feed<P: Contract>(
    dialect: Dialect,
    body: &Value,
    native: &[u8],
    cuts: &[usize],
) -> Result<Fed, String> {
    let (mut chat, _) = started_in::<P>(dialect, body)?;
    let head = chat.response_headers(200, &|_| None);
    ensure_eq!(head.mode, BodyMode::Stream, "mode of a streamed 200");
    ensure_eq!(head.status, None, "status edit of a streamed 200");
    let mut out = Vec::new();
    let mut from = 0;
    for (i, &to) in cuts
        .iter()
        .chain(std::iter::once(&native.len()))
        .enumerate()
    {
        let piece = &native[from..to];
        match chat.response_body(piece, i == cuts.len()) {
            BodyEdit::Keep => out.extend_from_slice(piece),
            BodyEdit::Replace(b) | BodyEdit::Fail { body: b, .. } => out.extend_from_slice(&b),
        }
        from = to;
    }
    ensure!(
        head.drop_content_length || out == native,
        "the bytes changed but content-length is kept"
    );
    Ok(Fed {
        out,
        outcome: chat.outcome(),
    })
}

/// Every stream case of `P`.
pub fn run<P: Contract>() -> Verdicts {
    StreamCase::ALL
        .iter()
        .map(|&case| {
            let yes = |_| {
                let native = P::stream_bytes(fixture::<P>(&P::stream_file(case.name()))?)?;
                for include_usage in [false, true] {
                    stream_case::<P>(case, &native, include_usage)
                        .map_err(|e| format!("{e} (include_usage: {include_usage})"))?;
                }
                Ok(())
            };
            (
                case.name().to_string(),
                judge(P::stream(case), &yes, &not_a_request_case),
            )
        })
        .collect()
}

fn stream_case<P: Contract>(case: StreamCase, native: &[u8], include_usage: bool) -> Check {
    let body = cases::plain_request(true, include_usage);
    let whole = feed::<P>(Dialect::OpenAiChat, &body, native, &[])?;
    let s = summary::read_stream(&whole.out, include_usage)?;
    let want = cases::stream(case);
    summary::check_stream(&s, &want)?;
    let failure = whole.outcome.failure.map(|f| f.cause);
    match want.end {
        End::Done => {
            ensure_eq!(failure, None, "Outcome.failure");
            let tokens = want.usage.map(|t| t.for_provider(P::REASONING_TOKENS));
            let tokens = tokens.ok_or("a complete stream case must say its usage")?;
            ensure_eq!(
                Tokens::of_usage(&whole.outcome.usage),
                tokens,
                "Outcome.usage"
            );
            let chunks = if include_usage { vec![tokens] } else { vec![] };
            ensure_eq!(s.usage_chunks, chunks, "usage chunks");
        }
        End::Error(_) => ensure_eq!(failure, Some(Cause::ErrorEvent), "Outcome.failure cause"),
        End::Truncated => ensure_eq!(failure, Some(Cause::Truncated), "Outcome.failure cause"),
    }
    same_at_every_split::<P>(Dialect::OpenAiChat, &body, native, &whole)
}

/// Every single cut and byte-at-a-time delivery give `whole`'s bytes and
/// outcome.
fn same_at_every_split<P: Contract>(
    dialect: Dialect,
    body: &Value,
    native: &[u8],
    whole: &Fed,
) -> Check {
    for (label, cuts) in sse::splits(native.len()) {
        let split = feed::<P>(dialect, body, native, &cuts)?;
        if &split != whole {
            let got = String::from_utf8_lossy(&split.out);
            return Err(format!(
                "{label}: differs from the unsplit run ({:?} vs {:?}); output {got:?}",
                split.outcome, whole.outcome
            ));
        }
    }
    Ok(())
}
