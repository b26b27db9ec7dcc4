//! Gemini `streamGenerateContent?alt=sse` → neutral events, one SSE event
//! at a time.
//!
//! Every `data:` event is a whole `GenerateContentResponse` holding the next
//! slice of the candidates: text and thought parts are deltas, while
//! function calls arrive whole (name and complete `args` in one part), so
//! each becomes a tool start plus its full arguments. `usageMetadata` is
//! repeated with growing counts. Gemini sends no `[DONE]`: a candidate is
//! complete with the chunk that carries its `finishReason`, the stream
//! when every candidate asked for (`candidateCount`, 1 without `n`) is, and
//! that last chunk often carries the final usage, so the order is parts,
//! usage, finish, end. A stream that stops before then is left open for the
//! translator to report as truncated. An `error` object or a blocked prompt
//! (`promptFeedback.blockReason`, no candidates) ends the stream with an
//! error event.
//!
//! With several candidates each chunk's candidates carry their `index`
//! (absent means 0), and the events of each are preceded by an
//! [`Event::Choice`] whenever the candidate differs from the previous
//! one's; tool calls are counted per candidate. A single candidate never
//! switches, so its events are exactly those of a single-choice stream.

use super::errors;
use super::response::{blocked_error, call_id, compact_json, finish_reason, usage_from_wire};
use super::wire::{Candidate, GenerateContentResponse};
use crate::error::ApiError;
use crate::events::Event;

/// What is kept per candidate.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    /// Function calls so far (the next tool call index).
    calls: u32,
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
        }
    }

    pub fn event(&mut self, data: &str, emit: Emit<'_>) {
        let chunk: GenerateContentResponse<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => return emit(Event::Error(invalid(&e.to_string()))),
        };
        if let Some(e) = &chunk.error {
            return emit(Event::Error(errors::from_rpc(None, e)));
        }
        if let Some(reason) = chunk.blocked() {
            return emit(Event::Error(blocked_error(reason)));
        }
        let candidates = chunk.candidates();
        if candidates.is_empty() && chunk.usage_metadata.is_none() {
            return emit(Event::Error(invalid("no candidates and no usage")));
        }
        if !self.started {
            self.started = true;
            let id = chunk.response_id.as_deref().unwrap_or("");
            id.clone_into(&mut self.response_id);
            emit(Event::Start { id });
        }
        for c in candidates {
            self.parts(c, emit);
        }
        if let Some(u) = &chunk.usage_metadata {
            emit(Event::Usage(usage_from_wire(u)));
        }
        let mut finished = false;
        for c in candidates {
            let Some(reason) = c.finish_reason else {
                continue;
            };
            let slot = self.switch(c, emit);
            if !slot.finished {
                slot.finished = true;
                finished = true;
                emit(Event::Finish(finish_reason(Some(reason), slot.calls > 0)));
            }
        }
        if finished && self.finished() >= self.expected {
            emit(Event::End);
        }
    }

    /// The events of one candidate's parts.
    fn parts(&mut self, c: &Candidate<'_>, emit: Emit<'_>) {
        let parts = c.parts();
        if parts.is_empty() {
            return;
        }
        let choice = c.index.unwrap_or(0);
        for part in parts {
            if let Some(call) = &part.function_call {
                let slot = self.switch(c, emit);
                let index = slot.calls;
                slot.calls = slot.calls.saturating_add(1);
                let id = call_id(call.id.as_deref(), &self.response_id, choice, index);
                emit(Event::ToolStart {
                    index,
                    id: &id,
                    name: &call.name,
                    signature: part.thought_signature.as_deref(),
                });
                let args = call
                    .args
                    .map_or_else(|| "{}".to_string(), |a| compact_json(a.get()));
                emit(Event::ToolArgs { index, json: &args });
            } else if let Some(text) = part.text.as_deref() {
                self.switch(c, emit);
                emit(if part.thought == Some(true) {
                    Event::Reasoning(text)
                } else {
                    Event::Text(text)
                });
            }
        }
    }

    /// Makes `c` the current candidate (announcing a change) and returns
    /// its slot.
    fn switch(&mut self, c: &Candidate<'_>, emit: Emit<'_>) -> &mut Slot {
        let index = c.index.unwrap_or(0);
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

fn invalid(detail: &str) -> ApiError {
    let msg = format!("Provider gemini sent an invalid stream chunk: {detail}");
    ApiError::new(502, "server_error", msg)
}
