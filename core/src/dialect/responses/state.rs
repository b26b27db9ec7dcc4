//! Reasoning state carried by the client between turns, in a reasoning
//! item's `encrypted_content`.
//!
//! The gateway keeps nothing between requests, yet Anthropic rejects a
//! conversation whose earlier thinking blocks do not come back byte for
//! byte with their signatures, and Gemini wants each function call's
//! thought signature back. A Responses client that asks for
//! `include: ["reasoning.encrypted_content"]` (Codex always does, with
//! `store: false`) returns every reasoning item verbatim on the next turn,
//! so that field carries the state: `mmx1.` then base64url (no padding) of
//! a small JSON document, the thinking blocks in order and the thought
//! signatures by `call_id`.
//!
//! The blob is not encrypted or signed by the gateway: it holds nothing
//! the client could not already see or send through chat's
//! `thinking_blocks`, and the providers verify their own signatures. The
//! `mmx1.` prefix tells it apart from OpenAI's own encrypted reasoning,
//! which only OpenAI can read and which the decoder drops when
//! translating; a later format gets a new prefix, and an unknown one is
//! dropped the same way.

use serde::{Deserialize, Serialize};

use crate::events::Thinking;
use crate::providers::auth::jwt::base64url;

/// The prefix of this gateway's format, version 1.
pub const PREFIX: &str = "mmx1.";

/// The decoded state of one reasoning item.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Thinking blocks, in the order the provider produced them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
    /// Thought signatures of the function calls that follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallSignature>,
}

/// A thinking block as the provider must see it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Thinking { thinking: String, signature: String },
    RedactedThinking { data: String },
}

/// A function call's opaque per-call state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSignature {
    pub call_id: String,
    pub signature: String,
}

impl State {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.calls.is_empty()
    }

    pub fn push_thinking(&mut self, t: &Thinking<'_>) {
        self.blocks.push(match t {
            Thinking::Signed { text, signature } => Block::Thinking {
                thinking: text.to_string(),
                signature: signature.to_string(),
            },
            Thinking::Redacted { data } => Block::RedactedThinking {
                data: data.to_string(),
            },
        });
    }

    /// The `encrypted_content` value.
    pub fn seal(&self) -> String {
        // Serializing strings and vectors cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", base64url(&json))
    }

    /// The state in an `encrypted_content` value: `Ok(None)` when it is not
    /// this gateway's format (OpenAI's own), an error when it claims to be
    /// and is damaged.
    pub fn open(sealed: &str) -> Result<Option<State>, &'static str> {
        let Some(b64) = sealed.strip_prefix(PREFIX) else {
            return Ok(None);
        };
        let json = unbase64url(b64).ok_or("it is not valid base64url")?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|_| "its reasoning state is damaged")
    }
}

/// Base64url without padding (RFC 4648 §5); `None` on any other byte or
/// an impossible length.
fn unbase64url(s: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for chunk in s.as_bytes().chunks(4) {
        let mut v = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            v |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = v.to_be_bytes();
        let [_, a, b, c] = bytes;
        out.push(a);
        if chunk.len() > 2 {
            out.push(b);
        }
        if chunk.len() > 3 {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            let slice = &data[..n];
            assert_eq!(
                unbase64url(&base64url(slice)).as_deref(),
                Some(slice),
                "{n}"
            );
        }
        assert_eq!(unbase64url("Zm9vYmFy").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(unbase64url("Zm9vYg").as_deref(), Some(&b"foob"[..]));
        assert_eq!(unbase64url("Zm9v+g"), None);
        assert_eq!(unbase64url("Zm9vY"), None);
    }

    #[test]
    fn state_seals_and_opens() {
        let mut st = State::default();
        st.push_thinking(&Thinking::Signed {
            text: "hmm \"quoted\"".into(),
            signature: "sig/+=".into(),
        });
        st.push_thinking(&Thinking::Redacted {
            data: "opaque".into(),
        });
        st.calls.push(CallSignature {
            call_id: "call_1".into(),
            signature: "ts".into(),
        });
        let sealed = st.seal();
        assert!(sealed.starts_with("mmx1."));
        assert_eq!(State::open(&sealed), Ok(Some(st)));
    }

    #[test]
    fn foreign_and_damaged_blobs() {
        assert_eq!(State::open("gAAAAABo-openai-blob"), Ok(None));
        assert!(State::open("mmx1.!!!").is_err());
        assert!(State::open(&format!("mmx1.{}", base64url(b"[1,2]"))).is_err());
    }
}
