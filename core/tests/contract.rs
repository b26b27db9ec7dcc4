//! The provider contract: one list of cases every provider must clear, so a
//! new provider meets the same bar as the first.
//!
//! # Layout
//! * [`cases`]: the shared case lists ([`cases::RequestCase`],
//!   [`cases::ResponseCase`], [`cases::ErrorCase`], [`cases::StreamCase`])
//!   with the client requests and what the client must get back, as
//!   provider-neutral summaries ([`summary`]).
//! * [`support`]: the [`support::Contract`] trait a provider's declaration
//!   implements, and [`support::Support`], the answer for one case:
//!   supported, refused with the parameter the 400 names, not applicable
//!   (with the reason), or a known provider bug.
//! * [`run`] and [`streams`]: the runners; shared checks live there, so a
//!   provider cannot opt out of them.
//! * One declaration file per provider ([`openai`], [`anthropic`], ...) and
//!   its hand-written native fixtures under
//!   `tests/fixtures/contract/<provider>/<case>.json|.sse`.
//!
//! Declarations `match` over every case enum without a wildcard arm, so a
//! new case does not compile until every provider has declared it. The
//! suite also fails on a fixture no supported case reads, and when a
//! provider's kind is not registered (`Provider::new` would otherwise fall
//! back to `openai` silently).
//!
//! A `Support::Known(Known::Bug(..), want)` case runs `want`: while it
//! fails the run prints the bug and passes; once it passes the suite fails
//! until the declaration is plain `want` again. Every case's verdict is
//! printed (`cargo test --test contract -- --nocapture`).
//!
//! Fixtures are compared with shared expectations, so a provider's native
//! numbers are chosen to mean the same thing (e.g. Anthropic's
//! `input_tokens` 128 + `cache_read_input_tokens` 1920 is the shared
//! `prompt_tokens` 2048 with 1920 cached). Expectations are read from the
//! client's JSON as values, never compared as strings.
//!
//! # What each kind of case checks
//! * Request: translation succeeds; the upstream body is JSON; the
//!   provider's own validity bar ([`support::Contract::accepts`], e.g. "a
//!   non-empty `messages` that starts with a user turn") holds for every
//!   case, which is what the system-only and developer-only cases are
//!   about; `content-type: application/json`; then the declaration's own
//!   check of the upstream JSON (and path and headers); a 200 for the
//!   streaming case is streamed, for the others not. A refusal must be a
//!   400 `invalid_request_error` whose `param` is the declared one (the
//!   `n`, `logprobs` and `seed` cases tell honouring from refusing).
//! * Response: a native 2xx body → the OpenAI `chat.completion` summary
//!   (text, reasoning, tool calls with parsed arguments and unique ids,
//!   finish reason, usage) and the usage in the `Outcome` equal to the
//!   usage the client sees. A valid JSON body that is not the provider's
//!   shape must be a 502 (`BodyEdit::Fail` in Buffer mode, a `Malformed`
//!   failure).
//! * Error: a native error status and body → the client status, an OpenAI
//!   error envelope, and `Outcome.failure` with `Cause::Status`; a
//!   `retry-after` header is honoured. Translated errors must carry the
//!   shared `type` for the status and the provider's message; an error
//!   that already is OpenAI's (the passthrough) must be forwarded as is.
//!   Each runs for a plain and for a streamed request (errors on streams
//!   are buffered too). A plain-text 502 from an intermediary must become
//!   an OpenAI error for every provider.
//! * Stream: native SSE → the summary of the OpenAI chunks (text,
//!   reasoning, tool calls assembled by index, finish reason, usage chunk
//!   when asked, `[DONE]` or the failure), with and without
//!   `stream_options.include_usage`, and identical output bytes, usage and
//!   failure for every single cut point and for byte-at-a-time delivery.
//!   Framing invariants hold throughout: nothing after `[DONE]` or an error
//!   event, one chunk id, usage only when asked and only in a `choices:
//!   []` chunk, `content-length` dropped when the bytes change. A chunk
//!   with `choices: []` and no usage carries nothing (Azure's
//!   `prompt_filter_results`) and is skipped.
//!
//! # The dialect axis
//! Every request, response, error and stream case runs again for a client
//! speaking Anthropic Messages and one speaking OpenAI Responses
//! ([`dialects`]): the request case expressed in that dialect by a
//! test-side converter ([`convert`]; what a dialect cannot say is not
//! applicable, with the reason), the same native fixtures, and the client's
//! `message` / `response` JSON or event stream read back into the same
//! neutral summary ([`dialect_summary`]: finish reasons mapped to chat's,
//! Anthropic's `input_tokens` plus its cache reads and writes as the
//! prompt count). Streams are re-split at every byte. The declarations are
//! [`support::Contract::request_in`], `response_in`, `error_in` and
//! `stream_in` ([`dialect_errors`] for the errors), which
//! default to the chat declaration, since the translated path is shared:
//! a provider declares only where a dialect differs (its passthrough, a
//! check of a differently packaged but equal request, a known bug).
//! Passthrough pairs (Messages to `anthropic` and Claude on Vertex,
//! Responses to `openai` and `azure`) are checked where the fixtures mean
//! something (Messages to Anthropic reads Anthropic's own fixtures) and
//! declared not applicable otherwise.
//!
//! A provider that reports no reasoning-token split (Anthropic counts
//! thinking inside `output_tokens`) says so once
//! ([`support::Contract::REASONING_TOKENS`]); its expected reasoning token
//! count is then 0 everywhere.
//!
//! # Adding a provider
//! Write `contract/<name>.rs` implementing [`support::Contract`] (the
//! compiler lists the cases to declare), add its fixtures, and add one line
//! to the `providers!` list at the bottom of this file.

// Test helpers outside `#[test]` functions: the in-test allowance of
// clippy.toml does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Fails the current check with a formatted message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Fails the current check unless both sides are equal.
macro_rules! ensure_eq {
    ($got:expr, $want:expr $(,)?) => {
        ensure_eq!($got, $want, "{}", stringify!($got))
    };
    ($got:expr, $want:expr, $($msg:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(format!(
                "{}: got {:?}, want {:?}",
                format!($($msg)+),
                got,
                want
            ));
        }
    }};
}

#[path = "contract/cases.rs"]
mod cases;
#[path = "contract/convert.rs"]
mod convert;
#[path = "contract/dialect_errors.rs"]
mod dialect_errors;
#[path = "contract/dialect_summary.rs"]
mod dialect_summary;
#[path = "contract/dialects.rs"]
mod dialects;
#[path = "contract/run.rs"]
mod run;
#[path = "contract/sse.rs"]
mod sse;
#[path = "contract/streams.rs"]
mod streams;
#[path = "contract/summary.rs"]
mod summary;
#[path = "contract/support.rs"]
mod support;

#[path = "contract/anthropic.rs"]
mod anthropic;
#[path = "contract/azure.rs"]
mod azure;
#[path = "contract/bedrock.rs"]
mod bedrock;
#[path = "contract/cohere.rs"]
mod cohere;
#[path = "contract/gemini.rs"]
mod gemini;
#[path = "contract/openai.rs"]
mod openai;
#[path = "contract/vertex.rs"]
mod vertex;

/// One test module per provider, one test per kind of case.
macro_rules! providers {
    ($($module:ident => $contract:ty),* $(,)?) => {
        $(
            mod $module {
                use super::*;
                type P = $contract;

                #[test]
                fn requests() {
                    run::report::<P>("requests", run::requests::<P>());
                }

                #[test]
                fn responses() {
                    run::report::<P>("responses", run::responses::<P>());
                }

                #[test]
                fn errors() {
                    run::report::<P>("errors", run::errors::<P>());
                }

                #[test]
                fn streams() {
                    run::report::<P>("streams", streams::run::<P>());
                }

                #[test]
                fn dialect_requests() {
                    run::report::<P>("requests", dialects::requests::<P>());
                }

                #[test]
                fn dialect_responses() {
                    run::report::<P>("responses", dialects::responses::<P>());
                }

                #[test]
                fn dialect_errors() {
                    run::report::<P>("errors", dialect_errors::run::<P>());
                }

                #[test]
                fn dialect_streams() {
                    run::report::<P>("streams", dialects::streams::<P>());
                }

                #[test]
                fn fixtures_are_all_used() {
                    run::report::<P>("fixtures", run::unused_fixtures::<P>());
                }
            }
        )*
    };
}

providers! {
    openai_contract => openai::OpenAi,
    anthropic_contract => anthropic::Anthropic,
    gemini_contract => gemini::Gemini,
    azure_contract => azure::Azure,
    vertex_gemini_contract => vertex::VertexGemini,
    vertex_claude_contract => vertex::VertexClaude,
    cohere_contract => cohere::Cohere,
    bedrock_contract => bedrock::Bedrock,
}
