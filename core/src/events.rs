//! The neutral reply: what every provider decodes into and every client
//! dialect encodes from.
//!
//! A provider's response module turns its native JSON into a [`Reply`]; its
//! stream module turns each native event into [`Event`]s. One encoder per
//! client dialect (see `crate::dialect`) writes the
//! client's format from these, so N providers and M dialects need N + M
//! pieces, not N × M translators.
//!
//! # Several choices (OpenAI's `n`)
//! The neutral types are shaped for the common single choice, which costs
//! nothing extra: a [`Reply`] holds its first [`Choice`] inline and further
//! ones in [`Reply::more`], empty (so unallocated) unless the provider
//! returned several. A stream says which choice the following events
//! belong to with [`Event::Choice`]; it starts at choice 0 and a
//! single-choice stream never sends one, so its events are the same as
//! before choices existed. Tool call indexes count per choice; usage and
//! the reply id are per response.

use std::borrow::Cow;

use crate::error::ApiError;
use crate::usage::Usage;

/// Why the model stopped, in the client-neutral vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Finish {
    #[default]
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

/// Reasoning state that must come back unchanged on the next turn, or the
/// provider rejects the conversation (Anthropic thinking signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thinking<'a> {
    /// A thinking block: its text and the provider's signature over it.
    Signed {
        text: Cow<'a, str>,
        signature: Cow<'a, str>,
    },
    /// Reasoning the provider encrypted: only the opaque data survives.
    Redacted { data: Cow<'a, str> },
}

/// A tool call of a whole reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall<'a> {
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    /// JSON text of the arguments (an object).
    pub arguments: Cow<'a, str>,
    /// Opaque per-call state the provider needs back (Gemini's
    /// `thoughtSignature`).
    pub signature: Option<Cow<'a, str>>,
}

/// One choice of a whole reply: what the model said and why it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice<'a> {
    /// Position among the reply's choices, from 0.
    pub index: u32,
    /// The text; `None` when the choice is nothing but tool calls.
    pub text: Option<Cow<'a, str>>,
    /// Reasoning text (thinking, thought summaries), never mixed into `text`.
    pub reasoning: Option<Cow<'a, str>>,
    pub thinking: Vec<Thinking<'a>>,
    pub tool_calls: Vec<ToolCall<'a>>,
    pub finish: Finish,
}

/// A whole (non-streamed) reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The provider's message id; empty when it sends none.
    pub id: Cow<'a, str>,
    /// The first, usually the only, choice.
    pub choice: Choice<'a>,
    /// Further choices (`n` > 1), in any order: encoders sort all choices
    /// by [`Choice::index`]. Empty for a single choice.
    pub more: Vec<Choice<'a>>,
    /// For the whole response, all choices together.
    pub usage: Usage,
}

impl<'a> Reply<'a> {
    /// Every choice, the first one first.
    pub fn choices(&self) -> impl Iterator<Item = &Choice<'a>> {
        std::iter::once(&self.choice).chain(&self.more)
    }
}

/// One step of a streamed reply, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// The reply began; `id` is the provider's message id (may be empty).
    Start {
        id: &'a str,
    },
    Text(&'a str),
    Reasoning(&'a str),
    /// A finished thinking block's signature, or redacted thinking data.
    Thinking(Thinking<'a>),
    /// The following events, up to the next `Choice`, belong to the choice
    /// with this index. A stream starts at choice 0; single-choice streams
    /// never send this.
    Choice(u32),
    /// A tool call begins; `index` counts the choice's tool calls from 0.
    ToolStart {
        index: u32,
        id: &'a str,
        name: &'a str,
        signature: Option<&'a str>,
    },
    /// More argument JSON for tool call `index`.
    ToolArgs {
        index: u32,
        json: &'a str,
    },
    /// The current choice is complete.
    Finish(Finish),
    /// Cumulative usage so far (providers repeat growing counts).
    Usage(Usage),
    /// The reply is complete (every choice; encoders close any choice
    /// that had no `Finish` as stopped).
    End,
    /// The provider failed; nothing follows.
    Error(ApiError),
}

impl Event<'_> {
    /// Bytes of generated text this event carries (text, reasoning, a tool
    /// name or arguments): what a usage estimate counts.
    pub fn generated_bytes(&self) -> u64 {
        let n = match self {
            Event::Text(t) | Event::Reasoning(t) => t.len(),
            Event::ToolStart { name, .. } => name.len(),
            Event::ToolArgs { json, .. } => json.len(),
            _ => 0,
        };
        u64::try_from(n).unwrap_or(u64::MAX)
    }
}

/// What every translated response repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The public model name the client asked for.
    pub model: String,
    /// The gateway's clock (providers' own timestamps differ or are absent).
    pub created: u64,
    /// The client asked for a usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// The client wants reasoning state back to return on the next turn
    /// (Responses `include: ["reasoning.encrypted_content"]`).
    pub encrypted_reasoning: bool,
}

/// Writes one client dialect from neutral events.
pub trait Encoder: std::fmt::Debug {
    /// Appends the client bytes for `ev` to `out`.
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>);
    /// The whole reply as the client's JSON body.
    fn reply(&self, reply: &Reply<'_>) -> Result<Vec<u8>, ApiError>;
    /// An error as the client's JSON body.
    fn error(&self, err: &ApiError) -> Vec<u8>;
}
