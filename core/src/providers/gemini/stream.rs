//! Gemini `streamGenerateContent?alt=sse` → neutral events, one SSE event
//! at a time.
//!
//! Every `data:` event is a whole `GenerateContentResponse` holding the next
//! slice of the candidates: text and thought parts are deltas, while
//! function calls usually arrive whole (name and complete `args` in one
//! part), so each becomes a tool start plus its full arguments. With
//! Vertex's `streamFunctionCallArguments` a call spans parts instead: the
//! first has the name and `willContinue: true`, later ones carry
//! `partialArgs` and no name, and one without `willContinue` ends it; the
//! pieces are written as argument fragments as they come (see
//! `partial.rs`), and a call still open when its candidate finishes is
//! closed then.
//!
//! `usageMetadata` is repeated, and its counts are not only growing: the
//! prompt count can change between chunks (a first estimate, then the
//! billed count). The usage is the last usage-bearing chunk's, whole, so
//! only that one is sent, at the end; a per-field maximum would mix
//! chunks. Gemini sends no `[DONE]`: a candidate is complete with the
//! chunk that carries its `finishReason`, the stream when every candidate
//! asked for (`candidateCount`, 1 without `n`) is, and that last chunk
//! often carries the final usage, so the order is parts, finish, usage,
//! end. A stream that stops before then is left open for the translator to
//! report as truncated. An `error` object ends the stream with an error
//! event (after the usage so far). A blocked prompt (`promptFeedback.blockReason`, no candidates)
//! finishes every candidate with `content_filter` and ends, with its usage.
//!
//! With several candidates each chunk's candidates carry their `index`
//! (absent means 0), and the events of each are preceded by an
//! [`Event::Choice`] whenever the candidate differs from the previous
//! one's; tool calls are counted per candidate. A single candidate never
//! switches, so its events are exactly those of a single-choice stream.

use super::errors;
use super::partial::ArgsWriter;
use super::response::{call_id, compact_json, finish_reason, usage_from_wire};
use super::wire::{Candidate, GenerateContentResponse, ResponseFunctionCall, ResponsePart};
use crate::error::ApiError;
use crate::events::{Event, Finish};
use crate::usage::Usage;

/// A call whose arguments are still streaming.
#[derive(Debug)]
struct OpenCall {
    index: u32,
    args: ArgsWriter,
}

/// What is kept per candidate.
#[derive(Debug, Default)]
struct Slot {
    /// Function calls so far (the next tool call index).
    calls: u32,
    /// The call whose `partialArgs` are still coming.
    open: Option<OpenCall>,
    /// Its `finishReason` has come.
    finished: bool,
}

#[derive(Debug)]
pub(super) struct StreamDecoder {
    started: bool,
    /// The response id of the first chunk: call ids derive from it.
    response_id: String,
    /// The candidates asked for: the stream is complete when as many
    /// have finished.
    expected: u32,
    /// The candidate the last events belonged to.
    current: u32,
    /// Candidate 0.
    first: Slot,
    /// Other candidates by index; empty for a single candidate.
    others: Vec<(u32, Slot)>,
    /// The last chunk's `usageMetadata`, sent at the end.
    usage: Option<Usage>,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        StreamDecoder::new(1)
    }
}

type Emit<'e> = &'e mut dyn FnMut(Event<'_>);

impl StreamDecoder {
    /// A decoder for a stream of `candidates` candidates.
    pub fn new(candidates: u32) -> Self {
        StreamDecoder {
            started: false,
            response_id: String::new(),
            expected: candidates.max(1),
            current: 0,
            first: Slot::default(),
            others: Vec::new(),
            usage: None,
        }
    }

    pub fn event(&mut self, data: &str, emit: Emit<'_>) {
        let chunk: GenerateContentResponse<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => return emit(Event::Error(invalid(&e.to_string()))),
        };
        if let Some(e) = &chunk.error {
            self.flush_usage(emit);
            return emit(Event::Error(errors::from_rpc(None, e)));
        }
        let candidates = chunk.candidates();
        let blocked = chunk.blocked().is_some();
        if candidates.is_empty() && chunk.usage_metadata.is_none() && !blocked {
            return emit(Event::Error(invalid("no candidates and no usage")));
        }
        if !self.started {
            self.started = true;
            let id = chunk.response_id.as_deref().unwrap_or("");
            id.clone_into(&mut self.response_id);
            emit(Event::Start { id });
        }
        if let Some(u) = &chunk.usage_metadata {
            self.usage = Some(usage_from_wire(u));
        }
        if blocked {
            return self.blocked(emit);
        }
        for c in candidates {
            if let Err(e) = self.parts(c, emit) {
                self.flush_usage(emit);
                return emit(Event::Error(invalid(&e)));
            }
        }
        let mut finished = false;
        for c in candidates {
            let Some(reason) = c.finish_reason else {
                continue;
            };
            let slot = self.switch(c.index.unwrap_or(0), emit);
            if !slot.finished {
                slot.finished = true;
                finished = true;
                close_call(slot, emit);
                emit(Event::Finish(finish_reason(Some(reason), slot.calls > 0)));
            }
        }
        if finished && self.finished() >= self.expected {
            self.end(emit);
        }
    }

    /// The usage, then the end.
    fn end(&mut self, emit: Emit<'_>) {
        self.flush_usage(emit);
        emit(Event::End);
    }

    /// Sends the last usage seen: at the end, or before an error (the
    /// tokens so far were billed). A stream cut off before either sends
    /// none, and the translator estimates.
    fn flush_usage(&mut self, emit: Emit<'_>) {
        if let Some(u) = self.usage.take() {
            emit(Event::Usage(u));
        }
    }

    /// The prompt was blocked: every candidate is filtered, nothing said.
    fn blocked(&mut self, emit: Emit<'_>) {
        for index in 0..self.expected {
            let slot = self.switch(index, emit);
            if !slot.finished {
                slot.finished = true;
                emit(Event::Finish(Finish::ContentFilter));
            }
        }
        self.end(emit);
    }

    /// The events of one candidate's parts; `Err` for a call that cannot
    /// be assembled.
    fn parts(&mut self, c: &Candidate<'_>, emit: Emit<'_>) -> Result<(), String> {
        let choice = c.index.unwrap_or(0);
        for part in c.parts() {
            if let Some(call) = &part.function_call {
                let response_id = std::mem::take(&mut self.response_id);
                let slot = self.switch(choice, emit);
                let res = function_call(slot, part, call, (&response_id, choice), emit);
                self.response_id = response_id;
                res?;
            } else if let Some(text) = part.text.as_deref() {
                self.switch(choice, emit);
                emit(if part.thought == Some(true) {
                    Event::Reasoning(text)
                } else {
                    Event::Text(text)
                });
            }
        }
        Ok(())
    }

    /// Makes `c` the current candidate (announcing a change) and returns
    /// its slot.
    fn switch(&mut self, index: u32, emit: Emit<'_>) -> &mut Slot {
        if index != self.current {
            self.current = index;
            emit(Event::Choice(index));
        }
        if index == 0 {
            return &mut self.first;
        }
        if !self.others.iter().any(|(i, _)| *i == index) {
            self.others.push((index, Slot::default()));
        }
        // Always found: pushed just above if it was missing.
        self.others
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map_or(&mut self.first, |(_, slot)| slot)
    }

    /// How many candidates have finished.
    fn finished(&self) -> u32 {
        let others = self.others.iter().filter(|(_, s)| s.finished).count();
        u32::from(self.first.finished).saturating_add(u32::try_from(others).unwrap_or(u32::MAX))
    }
}

/// One function-call part of candidate `(response_id, choice)`: a whole
/// call, the start of a streamed one, or more of the open one.
fn function_call(
    slot: &mut Slot,
    part: &ResponsePart<'_>,
    call: &ResponseFunctionCall<'_>,
    (response_id, choice): (&str, u32),
    emit: Emit<'_>,
) -> Result<(), String> {
    let more = call.will_continue == Some(true);
    let Some(name) = call.name.as_deref().filter(|n| !n.is_empty()) else {
        let Some(open) = slot.open.as_mut() else {
            return Err("a function call without a name".to_string());
        };
        let mut json = String::new();
        for arg in call.partial_args.iter().flatten() {
            open.args.piece(arg, &mut json)?;
        }
        let index = open.index;
        if !more {
            if let Some(open) = slot.open.take() {
                open.args.close(&mut json);
            }
        }
        if !json.is_empty() {
            emit(Event::ToolArgs { index, json: &json });
        }
        return Ok(());
    };
    close_call(slot, emit);
    let index = slot.calls;
    slot.calls = slot.calls.saturating_add(1);
    let id = call_id(call.id.as_deref(), response_id, choice, index);
    emit(Event::ToolStart {
        index,
        id: &id,
        name,
        signature: part.thought_signature.as_deref(),
    });
    if let Some(a) = call.args {
        let json = compact_json(a.get());
        emit(Event::ToolArgs { index, json: &json });
        return Ok(());
    }
    let mut json = String::new();
    let mut args = ArgsWriter::open(&mut json);
    for arg in call.partial_args.iter().flatten() {
        args.piece(arg, &mut json)?;
    }
    if more {
        slot.open = Some(OpenCall { index, args });
    } else {
        args.close(&mut json);
    }
    emit(Event::ToolArgs { index, json: &json });
    Ok(())
}

/// Ends the candidate's open call, if any (its end part never came).
fn close_call(slot: &mut Slot, emit: Emit<'_>) {
    if let Some(open) = slot.open.take() {
        let mut json = String::new();
        open.args.close(&mut json);
        emit(Event::ToolArgs {
            index: open.index,
            json: &json,
        });
    }
}

fn invalid(detail: &str) -> ApiError {
    let msg = format!("Provider gemini sent an invalid stream chunk: {detail}");
    ApiError::new(502, "server_error", msg)
}
