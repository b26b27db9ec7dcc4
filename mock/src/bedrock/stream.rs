//! A computed answer as ConverseStream frames.
//!
//! Order, as Bedrock sends it: `messageStart`, then per content block its
//! deltas and a `contentBlockStop` (only tool use and tool result blocks
//! open with a `contentBlockStart`, which names the tool or the use it
//! answers), `messageStop` with the stop
//! reason, and last `metadata` with usage and metrics. Reasoning streams its
//! text, then its signature in a delta of its own. Tool input arrives as
//! JSON text split across deltas. Every payload also carries a `p` member
//! of letters of varying length: AWS pads events so that their sizes don't
//! reveal the tokens, and clients must ignore it.

use serde_json::{json, Value};

use super::eventstream;
use super::respond::{
    server_result, server_tool_id, tool_input, tool_use_id, usage_json, Answer, Built,
    GUARDRAIL_TEXT, LATENCY_MS, SERVER_CODE, SERVER_TOOL,
};
use crate::faults::{applies_to, Faults};
use crate::http::Request;
use crate::reply::{byte_pieces, word_pieces, Outcome};

const PAD: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The exception types a ConverseStream can end with.
pub const EXCEPTIONS: &[&str] = &[
    "throttlingException",
    "modelStreamErrorException",
    "validationException",
    "internalServerException",
    "serviceUnavailableException",
];

struct Frames {
    out: Vec<Vec<u8>>,
}

impl Frames {
    fn push(&mut self, kind: &str, mut payload: Value) {
        let len = (self.out.len() * 7) % PAD.len() + 1;
        payload["p"] = json!(PAD.get(..len).unwrap_or(PAD));
        self.out.push(eventstream::event(kind, &payload));
    }

    fn delta(&mut self, index: usize, delta: Value) {
        self.push(
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": delta}),
        );
    }

    fn stop(&mut self, index: usize) {
        self.push("contentBlockStop", json!({"contentBlockIndex": index}));
    }

    fn text(&mut self, index: usize, text: &str) {
        for piece in word_pieces(text) {
            self.delta(index, json!({"text": piece}));
        }
        self.stop(index);
    }
}

/// Every frame of the answer.
pub fn frames(b: &Built) -> Vec<Vec<u8>> {
    let mut f = Frames { out: Vec::new() };
    f.push("messageStart", json!({"role": "assistant"}));
    let mut index = 0;
    if let Some((text, sig)) = &b.reasoning {
        for piece in word_pieces(text) {
            f.delta(index, json!({"reasoningContent": {"text": piece}}));
        }
        f.delta(index, json!({"reasoningContent": {"signature": sig}}));
        f.stop(index);
        index += 1;
    }
    if b.server_tool {
        server_blocks(&mut f, index, b.n);
        index += 2;
    }
    match &b.answer {
        Answer::Guardrail => f.text(index, GUARDRAIL_TEXT),
        Answer::Filtered => {}
        Answer::Outcome(Outcome::Text { text, .. }) => f.text(index, text),
        Answer::Outcome(Outcome::ToolCall { name, arguments }) => {
            let start = json!({"toolUse": {"toolUseId": tool_use_id(b.n), "name": name}});
            f.push(
                "contentBlockStart",
                json!({"contentBlockIndex": index, "start": start}),
            );
            let input = tool_input(arguments).to_string();
            for piece in byte_pieces(&input, input.len() / 2 + 1) {
                f.delta(index, json!({"toolUse": {"input": piece}}));
            }
            f.stop(index);
        }
    }
    f.push(
        "messageStop",
        json!({"stopReason": super::respond::stop_reason(&b.answer)}),
    );
    let metadata = json!({"usage": usage_json(b), "metrics": {"latencyMs": LATENCY_MS}});
    f.push("metadata", metadata);
    f.out
}

/// A server tool's use and result as blocks `index` and `index + 1`.
fn server_blocks(f: &mut Frames, index: usize, n: u64) {
    let id = server_tool_id(n);
    let start =
        json!({"toolUse": {"toolUseId": id, "name": SERVER_TOOL, "type": "server_tool_use"}});
    f.push(
        "contentBlockStart",
        json!({"contentBlockIndex": index, "start": start}),
    );
    let input = json!({"code": SERVER_CODE}).to_string();
    f.delta(index, json!({"toolUse": {"input": input}}));
    f.stop(index);
    let start = json!({"toolResult": {"toolUseId": id, "type": "nova_code_interpreter_result",
                                       "status": "success"}});
    f.push(
        "contentBlockStart",
        json!({"contentBlockIndex": index + 1, "start": start}),
    );
    f.delta(index + 1, json!({"toolResult": server_result()}));
    f.stop(index + 1);
}

/// The exception a stream must end with: `x-mock-stream-exception: NAME`
/// (on the listeners `x-mock-only` allows), else `modelStreamErrorException`
/// for the shared `stream_error` fault.
pub fn exception_fault(req: &Request, faults: &Faults, label: &str) -> Option<&'static str> {
    let named = req
        .header("x-mock-stream-exception")
        .filter(|_| applies_to(req, label))
        .and_then(|name| EXCEPTIONS.iter().find(|e| **e == name.trim()).copied());
    named.or(faults.stream_error.then_some("modelStreamErrorException"))
}

/// The exception frame of one of [`EXCEPTIONS`].
pub fn exception_frame(kind: &str) -> Vec<u8> {
    let payload = match kind {
        "throttlingException" => {
            json!({"message": "Too many tokens, please wait before trying again."})
        }
        "modelStreamErrorException" => json!({
            "message": "The model encountered an error while streaming.",
            "originalStatusCode": 500,
            "originalMessage": "Mock upstream model error.",
        }),
        "validationException" => {
            json!({"message": "The model produced output that fails validation."})
        }
        "serviceUnavailableException" => {
            json!({"message": "Bedrock is unable to process your request."})
        }
        _ => {
            json!({"message": "The system encountered an unexpected error during processing. Try your request again."})
        }
    };
    eventstream::exception(kind, &payload)
}
