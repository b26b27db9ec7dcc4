//! The JSON bodies of the Responses stream events, and the SSE writer.

use serde::Serialize;

use super::encode::{OutItem, ResponseObj};
use crate::error::ApiError;

/// One event's JSON: its type, its number, then its own fields.
#[derive(Serialize)]
pub(super) struct Envelope<'a, T> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub sequence_number: u64,
    #[serde(flatten)]
    pub body: T,
}

#[derive(Serialize)]
pub(super) struct WithResponse<'a> {
    pub response: ResponseObj<'a>,
}

#[derive(Serialize)]
pub(super) struct WithItem<'a> {
    pub output_index: usize,
    pub item: &'a OutItem,
}

/// The fields that place an event: its item and where in it.
#[derive(Serialize)]
pub(super) struct At<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_index: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct Delta<'a> {
    #[serde(flatten)]
    pub at: At<'a>,
    pub delta: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<[(); 0]>,
}

#[derive(Serialize)]
pub(super) struct Part<'a, P> {
    #[serde(flatten)]
    pub at: At<'a>,
    pub part: &'a P,
}

#[derive(Serialize)]
pub(super) struct TextDone<'a> {
    #[serde(flatten)]
    pub at: At<'a>,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<[(); 0]>,
}

#[derive(Serialize)]
pub(super) struct ArgsDone<'a> {
    #[serde(flatten)]
    pub at: At<'a>,
    pub arguments: &'a str,
}

#[derive(Serialize)]
pub(super) struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub param: Option<&'a str>,
}

pub(super) fn at(item: &OutItem, output_index: usize) -> At<'_> {
    At {
        item_id: item.id(),
        output_index,
        content_index: None,
        summary_index: None,
    }
}

/// Writes one SSE event.
pub(super) fn write<T: Serialize>(out: &mut Vec<u8>, seq: &mut u64, kind: &str, body: T) {
    let start = out.len();
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    let env = Envelope {
        kind,
        sequence_number: *seq,
        body,
    };
    if serde_json::to_writer(&mut *out, &env).is_ok() {
        out.extend_from_slice(b"\n\n");
        *seq += 1;
    } else {
        out.truncate(start);
    }
}

/// The SDK's `response.error.code` is a closed set.
pub(super) fn failed_code(e: &ApiError) -> &'static str {
    match e.status {
        429 => "rate_limit_exceeded",
        400 => "invalid_prompt",
        _ => "server_error",
    }
}
