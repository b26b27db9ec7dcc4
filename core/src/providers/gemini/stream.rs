//! Gemini `streamGenerateContent?alt=sse` → neutral events, one SSE event
//! at a time.
//!
//! Every `data:` event is a whole `GenerateContentResponse` holding the next
//! slice of the candidate: text and thought parts are deltas, while function
//! calls arrive whole (name and complete `args` in one part), so each becomes
//! a tool start plus its full arguments. `usageMetadata` is repeated with
//! growing counts. Gemini sends no `[DONE]`: the chunk that carries a
//! `finishReason` is the last, often with the final usage in it, so the
//! order is parts, usage, finish, end. A stream that stops before any
//! `finishReason` is left open for the translator to report as truncated.
//! An `error` object or a blocked prompt (`promptFeedback.blockReason`, no
//! candidates) ends the stream with an error event.

use super::errors;
use super::response::{blocked_error, call_id, compact_json, finish_reason, usage_from_wire};
use super::wire::GenerateContentResponse;
use crate::error::ApiError;
use crate::events::Event;

#[derive(Debug, Default)]
pub(super) struct StreamDecoder {
    started: bool,
    /// The response id of the first chunk: call ids derive from it.
    response_id: String,
    /// Function calls so far (the next tool call index).
    calls: u32,
}

type Emit<'e> = &'e mut dyn FnMut(Event<'_>);

impl StreamDecoder {
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
        let candidate = chunk.candidate();
        if candidate.is_none() && chunk.usage_metadata.is_none() {
            return emit(Event::Error(invalid("no candidates and no usage")));
        }
        if !self.started {
            self.started = true;
            let id = chunk.response_id.as_deref().unwrap_or("");
            id.clone_into(&mut self.response_id);
            emit(Event::Start { id });
        }
        for part in candidate.map(|c| c.parts()).unwrap_or(&[]) {
            if let Some(call) = &part.function_call {
                let id = call_id(call.id.as_deref(), &self.response_id, self.calls);
                let index = self.calls;
                self.calls = self.calls.saturating_add(1);
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
                emit(if part.thought == Some(true) {
                    Event::Reasoning(text)
                } else {
                    Event::Text(text)
                });
            }
        }
        if let Some(u) = &chunk.usage_metadata {
            emit(Event::Usage(usage_from_wire(u)));
        }
        if let Some(reason) = candidate.and_then(|c| c.finish_reason) {
            emit(Event::Finish(finish_reason(Some(reason), self.calls > 0)));
            emit(Event::End);
        }
    }
}

fn invalid(detail: &str) -> ApiError {
    let msg = format!("Provider gemini sent an invalid stream chunk: {detail}");
    ApiError::new(502, "server_error", msg)
}
