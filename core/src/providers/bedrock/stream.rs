//! ConverseStream (`application/vnd.amazon.eventstream`) messages → neutral
//! events, one decoded message at a time.
//!
//! Each message names its kind in headers: `:message-type` `event` with
//! `:event-type`, or `exception` with `:exception-type`, and carries JSON.
//! * `messageStart` → start, with the response's `x-amzn-requestid` as the
//!   id (no event carries one). Bedrock pads events with a `p` field of random
//!   length (against traffic analysis); unknown fields are ignored.
//! * `contentBlockStart` with `start.toolUse{toolUseId,name}` → a tool call
//!   start; calls are numbered for the client in order of their start and
//!   found again by `contentBlockIndex`. A server tool's use
//!   (`type: "server_tool_use"`, see `response.rs`) is skipped with its
//!   input deltas, as are `toolResult` blocks; `tool_use` without a client
//!   call finishes as `stop`.
//! * `contentBlockDelta`: `delta.text` → text, `delta.toolUse.input` (a
//!   fragment of JSON text) → arguments, `delta.reasoningContent.text` →
//!   reasoning, `.signature` → the signed thinking block's signature,
//!   `.redactedContent` → redacted thinking.
//! * `contentBlockStop` of a tool call that streamed no arguments sends
//!   `{}` so the client always gets an object.
//! * `messageStop` (`stopReason`) → the finish. Usage comes *after* it, in
//!   `metadata`; the reply ends once both arrived. A stream that ends
//!   after `messageStop` without `metadata` still ends cleanly (usage
//!   unknown); one without `messageStop` is truncated (the translator
//!   reports it).
//! * Exceptions: `throttlingException` 429, `validationException` 400,
//!   `internalServerException` 500, `serviceUnavailableException` 503,
//!   `modelStreamErrorException` (the model failed, 424 in AWS's model)
//!   502, others 502; each ends the stream with an error event.
//! * Unknown event types are skipped; a known event whose JSON does not
//!   parse ends the stream with an error.

use serde::Deserialize;

use super::response::{error, finish, usage_from_wire};
use super::wire::{client_tool, BlockDelta, BlockStart, BlockStop, MessageStop, Metadata};
use crate::error::ApiError;
use crate::events::{Event, Thinking};
use crate::eventstream::Message;

type Emit<'e> = &'e mut dyn FnMut(Event<'_>);

#[derive(Debug, Default)]
pub(super) struct StreamDecoder {
    /// The reply id: Bedrock's `x-amzn-requestid` (events carry none).
    id: String,
    started: bool,
    /// The `contentBlockIndex` of each started tool call (the position is
    /// the client's index) and whether it streamed arguments.
    calls: Vec<(u32, bool)>,
    /// The `contentBlockIndex` of each server tool use (input skipped).
    server: Vec<u32>,
    stopped: bool,
    metadata: bool,
    ended: bool,
}

fn invalid(detail: &str) -> ApiError {
    let msg = format!("Provider bedrock sent an invalid stream event: {detail}");
    ApiError::new(502, "server_error", msg)
}

fn parse<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(payload).map_err(|e| invalid(&e.to_string()))
}

fn exception_status(kind: &str) -> u16 {
    match kind {
        "throttlingException" => 429,
        "validationException" => 400,
        "internalServerException" => 500,
        "serviceUnavailableException" => 503,
        _ => 502,
    }
}

#[derive(Deserialize)]
struct ExceptionBody {
    #[serde(alias = "Message", default)]
    message: Option<String>,
}

impl StreamDecoder {
    pub fn new(id: String) -> Self {
        StreamDecoder {
            id,
            ..StreamDecoder::default()
        }
    }

    /// The body ended: a stopped reply without `metadata` ends here.
    pub fn finish(&mut self, emit: Emit<'_>) {
        if self.stopped && !self.ended {
            self.ended = true;
            emit(Event::End);
        }
    }

    pub fn message(&mut self, msg: &Message<'_>, emit: Emit<'_>) {
        let res = match msg.header(":message-type") {
            Some("exception") => {
                let kind = msg.header(":exception-type").unwrap_or("");
                let body: Option<ExceptionBody> = serde_json::from_slice(msg.payload).ok();
                let message = body.and_then(|b| b.message);
                Err(error(
                    exception_status(kind),
                    Some(kind),
                    message.as_deref(),
                ))
            }
            Some("error") => Err(error(
                502,
                msg.header(":error-code"),
                msg.header(":error-message"),
            )),
            Some("event") | None => {
                self.event(msg.header(":event-type").unwrap_or(""), msg.payload, emit)
            }
            Some(_) => Ok(()),
        };
        if let Err(e) = res {
            emit(Event::Error(e));
        }
    }

    fn start(&mut self, emit: Emit<'_>) {
        if !self.started {
            self.started = true;
            emit(Event::Start { id: &self.id });
        }
    }

    fn event(&mut self, kind: &str, payload: &[u8], emit: Emit<'_>) -> Result<(), ApiError> {
        match kind {
            "messageStart" => self.start(emit),
            "contentBlockStart" => self.block_start(parse(payload)?, emit)?,
            "contentBlockDelta" => self.block_delta(parse(payload)?, emit)?,
            "contentBlockStop" => {
                let stop: BlockStop = parse(payload)?;
                let block = stop.content_block_index.unwrap_or(0);
                if let Some((index, args)) = self.call(block) {
                    if !args {
                        emit(Event::ToolArgs { index, json: "{}" });
                    }
                }
            }
            "messageStop" => {
                let stop: MessageStop = parse(payload)?;
                self.start(emit);
                self.stopped = true;
                emit(Event::Finish(finish(
                    stop.stop_reason,
                    !self.calls.is_empty(),
                )));
                self.maybe_end(emit);
            }
            "metadata" => {
                let meta: Metadata = parse(payload)?;
                if let Some(u) = &meta.usage {
                    emit(Event::Usage(usage_from_wire(u)));
                }
                self.metadata = true;
                self.maybe_end(emit);
            }
            _ => {}
        }
        Ok(())
    }

    fn maybe_end(&mut self, emit: Emit<'_>) {
        if self.stopped && self.metadata && !self.ended {
            self.ended = true;
            emit(Event::End);
        }
    }

    /// The client index of the tool call in block `block`, and whether it
    /// streamed arguments.
    fn call(&self, block: u32) -> Option<(u32, bool)> {
        let pos = self.calls.iter().rposition(|(b, _)| *b == block)?;
        let index = u32::try_from(pos).ok()?;
        self.calls.get(pos).map(|(_, args)| (index, *args))
    }

    fn block_start(&mut self, ev: BlockStart<'_>, emit: Emit<'_>) -> Result<(), ApiError> {
        let Some(tool) = ev.start.and_then(|s| s.tool_use) else {
            return Ok(());
        };
        if tool.tool_use_id.is_empty() || tool.name.is_empty() {
            return Err(invalid("a tool use without an id or a name"));
        }
        self.start(emit);
        let index = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
        let block = ev.content_block_index.unwrap_or(index);
        if !client_tool(tool.kind.as_deref()) {
            self.server.push(block);
            return Ok(());
        }
        self.calls.push((block, false));
        emit(Event::ToolStart {
            index,
            id: &tool.tool_use_id,
            name: &tool.name,
            signature: None,
        });
        Ok(())
    }

    fn block_delta(&mut self, ev: BlockDelta, emit: Emit<'_>) -> Result<(), ApiError> {
        let Some(delta) = ev.delta else {
            return Ok(());
        };
        self.start(emit);
        if let Some(t) = delta.text.as_deref().filter(|t| !t.is_empty()) {
            emit(Event::Text(t));
        }
        if let Some(json) = delta
            .tool_use
            .and_then(|t| t.input)
            .filter(|j| !j.is_empty())
        {
            let block = ev.content_block_index.unwrap_or(0);
            if self.server.contains(&block) {
                return Ok(());
            }
            let (index, _) = self
                .call(block)
                .ok_or_else(|| invalid("tool input for a block that is not a tool use"))?;
            if let Some(c) = usize::try_from(index)
                .ok()
                .and_then(|i| self.calls.get_mut(i))
            {
                c.1 = true;
            }
            emit(Event::ToolArgs { index, json: &json });
        }
        if let Some(r) = delta.reasoning_content {
            if let Some(t) = r.text.as_deref().filter(|t| !t.is_empty()) {
                emit(Event::Reasoning(t));
            }
            if let Some(signature) = r.signature {
                emit(Event::Thinking(Thinking::Signed {
                    text: std::borrow::Cow::Borrowed(""),
                    signature: std::borrow::Cow::Owned(signature),
                }));
            }
            if let Some(data) = r.redacted_content {
                emit(Event::Thinking(Thinking::Redacted {
                    data: std::borrow::Cow::Owned(data),
                }));
            }
        }
        Ok(())
    }
}
