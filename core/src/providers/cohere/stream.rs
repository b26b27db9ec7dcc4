//! Cohere `/v2/chat` with `stream: true` → neutral events, one SSE event at
//! a time.
//!
//! Cohere frames typed events, `event: <type>\ndata: <json>\n\n`, the type
//! repeated as the data's `type` (which is what is read):
//! * `message-start` (its `id`) → start.
//! * `content-start` / `content-delta` carry `delta.message.content` with
//!   `text`, or `thinking` on reasoning models → text / reasoning.
//! * `tool-plan-delta` (`delta.message.tool_plan`, the model's plan before
//!   it calls tools) → reasoning, as in whole replies.
//! * `tool-call-start` carries the call's `id`, `function.name` and
//!   usually empty `arguments`; `tool-call-delta` the next argument piece;
//!   both name the call by `index`. Calls are numbered for the client in
//!   order of their start, whatever indexes Cohere uses. A call that
//!   streamed no argument text (a tool without parameters) gets `{}` at
//!   its `tool-call-end`, or at `message-end` without one: clients parse
//!   `arguments` as JSON.
//! * `message-end` carries `delta.finish_reason` and `delta.usage`: usage,
//!   then the finish, then the end. `finish_reason` `ERROR`/`TIMEOUT` or a
//!   `delta.error` end the stream with an error event instead.
//! * `content-end`, `citation-*`, `debug` and unknown
//!   types carry nothing for the client and are skipped. Anything after
//!   `message-end` (a `[DONE]` sentinel, which Cohere's SDKs tolerate) is
//!   ignored by the translator.
//! * Data that is not JSON, or a known event whose delta has the wrong
//!   shape, ends the stream with an error; so does an error object (a
//!   `message` without a `type`) in place of an event. A stream without
//!   `message-end` is left open for the translator to report as truncated.

use serde::Deserialize;

use super::response::{failure, finish_reason, usage_from_wire};
use super::wire::{CallDelta, ContentDelta, EndDelta, EventType, PlanDelta, StreamEvent};
use crate::error::ApiError;
use crate::events::Event;

#[derive(Debug, Default)]
pub(super) struct StreamDecoder {
    started: bool,
    /// Each started tool call: Cohere's index and whether it streamed
    /// argument text; the position is the client's index.
    calls: Vec<Call>,
}

#[derive(Debug)]
struct Call {
    own: u32,
    has_args: bool,
}

type Emit<'e> = &'e mut dyn FnMut(Event<'_>);

fn invalid(detail: &str) -> ApiError {
    let msg = format!("Provider cohere sent an invalid stream event: {detail}");
    ApiError::new(502, "server_error", msg)
}

/// Decodes `delta` as `T` (a missing delta is an empty one).
fn delta<'a, T: Deserialize<'a> + Default>(ev: &StreamEvent<'a>) -> Result<T, ApiError> {
    match ev.delta {
        None => Ok(T::default()),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| invalid(&e.to_string())),
    }
}

impl StreamDecoder {
    pub fn event(&mut self, data: &str, emit: Emit<'_>) {
        let ev: StreamEvent<'_> = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(e) => return emit(Event::Error(invalid(&e.to_string()))),
        };
        let Some(kind) = ev.kind else {
            let msg = ev.message.as_deref().unwrap_or("an event without a type");
            return emit(Event::Error(super::errors::with_message(502, msg)));
        };
        if let Err(e) = self.typed(kind, &ev, emit) {
            emit(Event::Error(e));
        }
    }

    fn start(&mut self, id: &str, emit: Emit<'_>) {
        if !self.started {
            self.started = true;
            emit(Event::Start { id });
        }
    }

    fn typed(
        &mut self,
        kind: EventType,
        ev: &StreamEvent<'_>,
        emit: Emit<'_>,
    ) -> Result<(), ApiError> {
        match kind {
            EventType::MessageStart => self.start(ev.id.as_deref().unwrap_or(""), emit),
            EventType::ContentStart | EventType::ContentDelta => {
                let d: ContentDelta<'_> = delta(ev)?;
                let Some(c) = d.message.and_then(|m| m.content) else {
                    return Ok(());
                };
                self.start("", emit);
                if let Some(t) = c.thinking.as_deref().filter(|t| !t.is_empty()) {
                    emit(Event::Reasoning(t));
                }
                if let Some(t) = c.text.as_deref().filter(|t| !t.is_empty()) {
                    emit(Event::Text(t));
                }
            }
            EventType::ToolPlanDelta => {
                let d: PlanDelta<'_> = delta(ev)?;
                if let Some(p) = d.message.and_then(|m| m.tool_plan) {
                    self.start("", emit);
                    if !p.is_empty() {
                        emit(Event::Reasoning(&p));
                    }
                }
            }
            EventType::ToolCallStart => self.call_start(ev, emit)?,
            EventType::ToolCallDelta => self.call_delta(ev, emit)?,
            EventType::MessageEnd => self.end(ev, emit)?,
            EventType::ToolCallEnd => {
                if let Some(p) = self.position(ev.index) {
                    self.no_args(Some(p), emit);
                }
            }
            EventType::ContentEnd
            | EventType::CitationStart
            | EventType::CitationEnd
            | EventType::Debug
            | EventType::Unknown => {}
        }
        Ok(())
    }

    fn call_start(&mut self, ev: &StreamEvent<'_>, emit: Emit<'_>) -> Result<(), ApiError> {
        let d: CallDelta<'_> = delta(ev)?;
        let call = d
            .message
            .and_then(|m| m.tool_calls)
            .ok_or_else(|| invalid("tool-call-start without a tool call"))?;
        let f = call.function.as_ref();
        let name = f.and_then(|f| f.name.as_deref()).unwrap_or("");
        let id = call.id.as_deref().unwrap_or("");
        if name.is_empty() || id.is_empty() {
            return Err(invalid("tool-call-start without an id or a name"));
        }
        self.start("", emit);
        let index = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
        let own = ev.index.unwrap_or(index);
        let args = f
            .and_then(|f| f.arguments.as_deref())
            .filter(|a| !a.is_empty());
        self.calls.push(Call {
            own,
            has_args: args.is_some(),
        });
        emit(Event::ToolStart {
            index,
            id,
            name,
            signature: None,
        });
        if let Some(args) = args {
            emit(Event::ToolArgs { index, json: args });
        }
        Ok(())
    }

    fn call_delta(&mut self, ev: &StreamEvent<'_>, emit: Emit<'_>) -> Result<(), ApiError> {
        let d: CallDelta<'_> = delta(ev)?;
        let args = d
            .message
            .and_then(|m| m.tool_calls)
            .and_then(|c| c.function)
            .and_then(|f| f.arguments);
        let Some(args) = args.filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        let index = self
            .position(ev.index)
            .ok_or_else(|| invalid("tool-call-delta for a call that did not start"))?;
        if let Some(c) = self.calls.get_mut(index) {
            c.has_args = true;
        }
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        emit(Event::ToolArgs { index, json: &args });
        Ok(())
    }

    /// The client's index of Cohere's call `own` (the last call without).
    fn position(&self, own: Option<u32>) -> Option<usize> {
        match own {
            Some(own) => self.calls.iter().rposition(|c| c.own == own),
            None => self.calls.len().checked_sub(1),
        }
    }

    /// `{}` for the call at `only` (every call when `None`, at
    /// `message-end`) if it streamed no argument text.
    fn no_args(&mut self, only: Option<usize>, emit: Emit<'_>) {
        for (i, c) in self.calls.iter_mut().enumerate() {
            if c.has_args || only.is_some_and(|p| p != i) {
                continue;
            }
            c.has_args = true;
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            emit(Event::ToolArgs { index, json: "{}" });
        }
    }

    fn end(&mut self, ev: &StreamEvent<'_>, emit: Emit<'_>) -> Result<(), ApiError> {
        let d: EndDelta<'_> = delta(ev)?;
        if let Some(e) = failure(d.finish_reason, d.error.as_deref()) {
            return Err(e);
        }
        self.start(ev.id.as_deref().unwrap_or(""), emit);
        self.no_args(None, emit);
        if let Some(u) = &d.usage {
            emit(Event::Usage(usage_from_wire(u)));
        }
        emit(Event::Finish(finish_reason(
            d.finish_reason,
            !self.calls.is_empty(),
        )));
        emit(Event::End);
        Ok(())
    }
}
