//! The typed Responses stream: each SSE event is `event: <type>` plus JSON
//! data carrying the same `type` and a `sequence_number` counting from 0.
//!
//! `response.created` and `response.in_progress` open the stream; then each
//! output item is `response.output_item.added`, its deltas, its `.done`
//! events and `response.output_item.done`, one item after the other as
//! OpenAI streams them: an item closes when the next one opens or the
//! reply ends. A reasoning item holds one summary part per thinking block
//! (a signature or redacted data ends the block); when the client asked
//! for `reasoning.encrypted_content`, its `output_item.done` carries the
//! sealed provider state, and a Gemini thought signature that arrives with
//! a call goes into the reasoning item just before that call (a reasoning
//! item of its own when none is open). The stream ends with
//! `response.completed`, or `response.incomplete` when the provider
//! stopped at the token limit or a content filter, or, on
//! [`Event::Error`], with an `error` event then `response.failed`.
//!
//! The terminal event repeats the whole response, as OpenAI's does, so the
//! state grows with the output (each item's text and arguments), not with
//! the number of events. Argument deltas for a call that is no longer the
//! open item (no provider interleaves calls today) still go out under that
//! call's id and reach the final response; only its early
//! `function_call_arguments.done` missed them. Events of choices other
//! than 0 are dropped: a Responses request cannot ask for several.

use serde::Serialize;

use super::encode::{
    item_id, response_id, status, OutItem, OutputText, ResponseError, ResponseObj, SummaryPart,
    UsageObj,
};
use super::state::{CallSignature, State};
use super::stream_wire::{
    at, failed_code, write, ArgsDone, Delta, ErrorBody, Part, TextDone, WithItem, WithResponse,
};
use crate::error::ApiError;
use crate::events::{Event, Finish, Meta, Thinking};
use crate::usage::Usage;

/// Which kind of item is open (it is the last of `output`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Open {
    #[default]
    None,
    Reasoning {
        part_open: bool,
    },
    Message,
    Call,
}

#[derive(Debug, Default)]
pub struct StreamState {
    id: String,
    seq: u64,
    started: bool,
    done: bool,
    /// Events belong to a choice other than 0.
    skip: bool,
    output: Vec<OutItem>,
    open: Open,
    /// Provider state of the open reasoning item.
    state: State,
    /// Tool call index → output index.
    calls: Vec<(u32, usize)>,
    finish: Finish,
    usage: Usage,
}

impl StreamState {
    pub fn event(&mut self, meta: &Meta, ev: Event<'_>, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if let Event::Choice(k) = ev {
            self.skip = k != 0;
            return;
        }
        if self.skip && !matches!(ev, Event::Usage(_) | Event::End | Event::Error(_)) {
            return;
        }
        if let Event::Start { id } = ev {
            self.start(meta, id, out);
            return;
        }
        self.start(meta, "", out);
        match ev {
            Event::Text(t) if !t.is_empty() => self.text(meta, t, out),
            Event::Reasoning(t) if !t.is_empty() => self.reasoning(meta, t, out),
            Event::Thinking(t) => self.thinking(meta, &t, out),
            Event::ToolStart {
                index,
                id,
                name,
                signature,
            } => self.tool_start(meta, index, id, name, signature, out),
            Event::ToolArgs { index, json } => self.tool_args(index, json, out),
            Event::Finish(f) => self.finish = f,
            Event::Usage(u) => self.usage.merge_max(u),
            Event::End => self.end(meta, out),
            Event::Error(e) => self.fail(meta, &e, out),
            Event::Text(_) | Event::Reasoning(_) | Event::Start { .. } | Event::Choice(_) => {}
        }
    }

    fn start(&mut self, meta: &Meta, id: &str, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        self.id = response_id(id, meta.created);
        for kind in ["response.created", "response.in_progress"] {
            let response = ResponseObj::new(&self.id, meta, &[]);
            write(out, &mut self.seq, kind, WithResponse { response });
        }
    }

    /// Opens `item` as the next output item.
    fn open_item(&mut self, item: OutItem, open: Open, out: &mut Vec<u8>) {
        let output_index = self.output.len();
        let body = WithItem {
            output_index,
            item: &item,
        };
        write(out, &mut self.seq, "response.output_item.added", body);
        self.output.push(item);
        self.open = open;
    }

    fn next_id(&self, prefix: &str) -> String {
        item_id(prefix, &self.id, self.output.len())
    }

    fn text(&mut self, meta: &Meta, t: &str, out: &mut Vec<u8>) {
        if self.open != Open::Message {
            self.close(meta, out);
            let item = OutItem::Message {
                id: self.next_id("msg"),
                status: "in_progress",
                role: "assistant",
                content: Vec::new(),
            };
            self.open_item(item, Open::Message, out);
            let part = OutputText::new(String::new());
            self.write_part(&part, None, "response.content_part.added", out);
            if let Some(OutItem::Message { content, .. }) = self.output.last_mut() {
                content.push(part);
            }
        }
        if let Some(OutItem::Message { content, .. }) = self.output.last_mut() {
            if let Some(part) = content.last_mut() {
                part.text.push_str(t);
            }
        }
        self.write_delta(t, Some(0), None, "response.output_text.delta", out);
    }

    /// Writes a delta for the last item.
    fn write_delta(
        &mut self,
        delta: &str,
        content_index: Option<u32>,
        summary_index: Option<usize>,
        kind: &str,
        out: &mut Vec<u8>,
    ) {
        let i = self.output.len().saturating_sub(1);
        let Some(item) = self.output.last() else {
            return;
        };
        let mut place = at(item, i);
        place.content_index = content_index;
        place.summary_index = summary_index;
        let logprobs = content_index.map(|_| []);
        let body = Delta {
            at: place,
            delta,
            logprobs,
        };
        write(out, &mut self.seq, kind, body);
    }

    /// Writes a part event (content or summary part) for the last item.
    fn write_part<P: Serialize>(
        &mut self,
        part: &P,
        summary_index: Option<usize>,
        kind: &str,
        out: &mut Vec<u8>,
    ) {
        let i = self.output.len().saturating_sub(1);
        let Some(item) = self.output.last() else {
            return;
        };
        let mut place = at(item, i);
        place.summary_index = summary_index;
        if summary_index.is_none() {
            place.content_index = Some(0);
        }
        write(out, &mut self.seq, kind, Part { at: place, part });
    }

    /// Makes a reasoning item the open one.
    fn ensure_reasoning(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        if matches!(self.open, Open::Reasoning { .. }) {
            return;
        }
        self.close(meta, out);
        let item = OutItem::Reasoning {
            id: self.next_id("rs"),
            summary: Vec::new(),
            encrypted_content: None,
        };
        self.open_item(item, Open::Reasoning { part_open: false }, out);
    }

    fn reasoning(&mut self, meta: &Meta, t: &str, out: &mut Vec<u8>) {
        self.ensure_reasoning(meta, out);
        if self.open != (Open::Reasoning { part_open: true }) {
            let part = SummaryPart::new(String::new());
            let k = self.summary_len();
            self.write_part(&part, Some(k), "response.reasoning_summary_part.added", out);
            if let Some(OutItem::Reasoning { summary, .. }) = self.output.last_mut() {
                summary.push(part);
            }
            self.open = Open::Reasoning { part_open: true };
        }
        if let Some(OutItem::Reasoning { summary, .. }) = self.output.last_mut() {
            if let Some(part) = summary.last_mut() {
                part.text.push_str(t);
            }
        }
        let k = self.summary_len().saturating_sub(1);
        self.write_delta(
            t,
            None,
            Some(k),
            "response.reasoning_summary_text.delta",
            out,
        );
    }

    fn summary_len(&self) -> usize {
        match self.output.last() {
            Some(OutItem::Reasoning { summary, .. }) => summary.len(),
            _ => 0,
        }
    }

    /// A thinking block ends: its summary part closes and its state is kept.
    fn thinking(&mut self, meta: &Meta, t: &Thinking<'_>, out: &mut Vec<u8>) {
        self.ensure_reasoning(meta, out);
        let text = self.close_part(out);
        match t {
            Thinking::Signed {
                text: given,
                signature,
            } if given.is_empty() => {
                self.state.push_thinking(&Thinking::Signed {
                    text: text.unwrap_or_default().into(),
                    signature: signature.as_ref().into(),
                });
            }
            t => self.state.push_thinking(t),
        }
    }

    /// Closes the open summary part; returns its text.
    fn close_part(&mut self, out: &mut Vec<u8>) -> Option<String> {
        if self.open != (Open::Reasoning { part_open: true }) {
            return None;
        }
        self.open = Open::Reasoning { part_open: false };
        let i = self.output.len().saturating_sub(1);
        let Some(item @ OutItem::Reasoning { summary, .. }) = self.output.last() else {
            return None;
        };
        let k = summary.len().saturating_sub(1);
        let part = summary.last()?;
        let mut place = at(item, i);
        place.summary_index = Some(k);
        let body = TextDone {
            at: place,
            text: &part.text,
            logprobs: None,
        };
        write(
            out,
            &mut self.seq,
            "response.reasoning_summary_text.done",
            body,
        );
        let mut place = at(item, i);
        place.summary_index = Some(k);
        let body = Part { at: place, part };
        write(
            out,
            &mut self.seq,
            "response.reasoning_summary_part.done",
            body,
        );
        Some(part.text.clone())
    }

    fn tool_start(
        &mut self,
        meta: &Meta,
        index: u32,
        id: &str,
        name: &str,
        signature: Option<&str>,
        out: &mut Vec<u8>,
    ) {
        if let (Some(sig), true) = (signature, meta.encrypted_reasoning) {
            self.ensure_reasoning(meta, out);
            self.state.calls.push(CallSignature {
                call_id: id.to_string(),
                signature: sig.to_string(),
            });
        }
        self.close(meta, out);
        self.calls.push((index, self.output.len()));
        let item = OutItem::FunctionCall {
            id: self.next_id("fc"),
            call_id: id.to_string(),
            name: name.to_string(),
            arguments: String::new(),
            status: "in_progress",
        };
        self.open_item(item, Open::Call, out);
    }

    fn tool_args(&mut self, index: u32, json: &str, out: &mut Vec<u8>) {
        if json.is_empty() {
            return;
        }
        let Some(&(_, i)) = self.calls.iter().find(|(k, _)| *k == index) else {
            return;
        };
        if let Some(OutItem::FunctionCall { arguments, .. }) = self.output.get_mut(i) {
            arguments.push_str(json);
        }
        if let Some(item) = self.output.get(i) {
            let body = Delta {
                at: at(item, i),
                delta: json,
                logprobs: None,
            };
            write(
                out,
                &mut self.seq,
                "response.function_call_arguments.delta",
                body,
            );
        }
    }

    /// Closes the open item with its `.done` events.
    fn close(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        let open = self.open;
        if open == Open::None {
            return;
        }
        self.close_part(out);
        self.open = Open::None;
        let done = if status(self.finish).0 == "incomplete" {
            "incomplete"
        } else {
            "completed"
        };
        let state = std::mem::take(&mut self.state);
        match self.output.last_mut() {
            Some(OutItem::Reasoning {
                encrypted_content, ..
            }) => {
                if meta.encrypted_reasoning && !state.is_empty() {
                    *encrypted_content = Some(state.seal());
                }
            }
            Some(OutItem::Message { status, .. } | OutItem::FunctionCall { status, .. }) => {
                *status = done;
            }
            None => return,
        }
        self.write_done(out);
    }

    /// The open item's `.done` events, `response.output_item.done` last.
    fn write_done(&mut self, out: &mut Vec<u8>) {
        let i = self.output.len().saturating_sub(1);
        let Some(item) = self.output.last() else {
            return;
        };
        match item {
            OutItem::Message { content, .. } => {
                if let Some(part) = content.last() {
                    let mut place = at(item, i);
                    place.content_index = Some(0);
                    let body = TextDone {
                        at: place,
                        text: &part.text,
                        logprobs: Some([]),
                    };
                    write(out, &mut self.seq, "response.output_text.done", body);
                    let mut place = at(item, i);
                    place.content_index = Some(0);
                    let body = Part { at: place, part };
                    write(out, &mut self.seq, "response.content_part.done", body);
                }
            }
            OutItem::FunctionCall { arguments, .. } => {
                let body = ArgsDone {
                    at: at(item, i),
                    arguments,
                };
                write(
                    out,
                    &mut self.seq,
                    "response.function_call_arguments.done",
                    body,
                );
            }
            OutItem::Reasoning { .. } => {}
        }
        let body = WithItem {
            output_index: i,
            item,
        };
        write(out, &mut self.seq, "response.output_item.done", body);
    }

    fn end(&mut self, meta: &Meta, out: &mut Vec<u8>) {
        self.close(meta, out);
        self.done = true;
        let (status, incomplete) = status(self.finish);
        let mut response = ResponseObj::new(&self.id, meta, &self.output);
        response.status = status;
        response.incomplete_details = incomplete;
        response.usage = Some(UsageObj::from_usage(&self.usage));
        let kind = if status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        write(out, &mut self.seq, kind, WithResponse { response });
    }

    fn fail(&mut self, meta: &Meta, e: &ApiError, out: &mut Vec<u8>) {
        self.done = true;
        let body = ErrorBody {
            code: e.code.unwrap_or(e.kind),
            message: &e.message,
            param: e.param.as_deref(),
        };
        write(out, &mut self.seq, "error", body);
        let mut response = ResponseObj::new(&self.id, meta, &self.output);
        response.status = "failed";
        response.error = Some(ResponseError {
            code: failed_code(e),
            message: &e.message,
        });
        (!self.usage.is_empty()).then(|| response.usage = Some(UsageObj::from_usage(&self.usage)));
        write(
            out,
            &mut self.seq,
            "response.failed",
            WithResponse { response },
        );
    }
}
