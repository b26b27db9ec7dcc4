//! What a provider declares: the [`Contract`] trait and the per-case
//! answer, [`Support`].

use modelmux_core::config::Provider;
use modelmux_core::dialect::Dialect;
use serde_json::Value;

use crate::cases::{ErrorCase, RequestCase, ResponseCase, StreamCase};

/// The result of one check: `Err` says what is wrong.
pub type Check = Result<(), String>;

/// The upstream request a translator built, for request checks.
#[derive(Debug)]
pub struct Upstream {
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    /// The upstream body as JSON (the client's body when forwarded as is).
    pub body: Value,
    /// The client's request as OpenAI chat JSON: the body sent, or for a
    /// Messages or Responses client the case it expresses (so one check
    /// serves every dialect).
    pub client: Value,
    /// The body as the client sent it, in its dialect.
    pub sent: Value,
}

impl Upstream {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A provider-specific check of the upstream request.
pub type RequestCheck = fn(&Upstream) -> Check;

/// Supported, with its native fixture at the conventional path
/// `tests/fixtures/contract/<provider>/<case>.json|.sse` (or, for cases
/// whose native body is shared, none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixture;

/// What the client gets for an upstream error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorWant {
    /// Translated: the shared client status and OpenAI `type`
    /// (`ErrorCase::client_status`, `ErrorCase::kind`), the native
    /// message kept.
    Translated,
    /// Translated, with this OpenAI `code` (`model_not_found`).
    Coded(&'static str),
    /// Already OpenAI's envelope: forwarded as is (same status, same JSON).
    Forwarded,
    /// Dialect axis only: the provider's OpenAI error rewritten into the
    /// client's envelope, with the status's type and the provider's own
    /// `error.message` kept word for word.
    Rewrapped,
}

/// A bug the provider has today, named so the run prints it. No provider
/// declares one at the moment; the mechanism stays for the next.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// What is wrong, precisely enough to find it.
    Bug(&'static str),
}

/// A provider's answer for one case.
#[derive(Debug, Clone)]
pub enum Support<T> {
    /// Supported: run it against this expectation.
    Yes(T),
    /// Request cases only: the provider cannot honour the request, and
    /// says so with a 400 naming `param`.
    Refused { param: &'static str },
    /// The case does not apply to this provider, and why.
    NotApplicable(&'static str),
    /// Should be `want`, but a known provider bug makes it fail. The run
    /// prints the bug and passes while `want` fails; once the bug is
    /// fixed the case fails until the declaration says plain `want`.
    #[allow(dead_code)]
    Known(Known, Box<Support<T>>),
}

impl<T> Support<T> {
    /// Marks this expectation as failing today because of `bug`.
    #[allow(dead_code)]
    pub fn known(self, bug: Known) -> Self {
        Support::Known(bug, Box::new(self))
    }
}

/// One provider's declarations. Implement every method with a `match`
/// that has no wildcard arm, so new cases must be declared.
pub trait Contract {
    /// Fixture folder and report label.
    const NAME: &'static str;
    /// The registered kind [`Contract::provider`] must speak (guards against
    /// a kind that is not registered yet silently becoming `openai`).
    const KIND: &'static str;
    /// The provider reports reasoning tokens apart from output tokens;
    /// when not, every expected reasoning token count is 0.
    const REASONING_TOKENS: bool;

    fn provider() -> Provider;
    /// The upstream model name the target sends.
    fn upstream_model() -> &'static str {
        "upstream-model"
    }
    /// What the provider's API requires of every request (e.g. a non-empty
    /// conversation with a user turn): run on every translated request.
    fn accepts(up: &Upstream) -> Check;
    /// [`Contract::accepts`] for a client speaking `dialect`: differs only
    /// where that dialect is passed through to another endpoint.
    fn accepts_in(dialect: Dialect, up: &Upstream) -> Check {
        let _ = dialect;
        Self::accepts(up)
    }

    fn request(case: RequestCase) -> Support<RequestCheck>;
    fn response(case: ResponseCase) -> Support<Fixture>;
    fn error(case: ErrorCase) -> Support<ErrorWant>;
    fn stream(case: StreamCase) -> Support<Fixture>;

    /// Request case `case` from a client speaking `dialect` (Messages or
    /// Responses; chat is [`Contract::request`]). The translated path is
    /// shared, so the default is the chat declaration and a provider
    /// declares only where a dialect differs (its passthrough, a refusal
    /// of its own).
    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        let _ = dialect;
        Self::request(case)
    }
    /// Response case `case` for a client speaking `dialect`; defaults to
    /// the chat declaration.
    fn response_in(dialect: Dialect, case: ResponseCase) -> Support<Fixture> {
        let _ = dialect;
        Self::response(case)
    }
    /// Error case `case` for a client speaking `dialect`; defaults to the
    /// chat declaration (`Forwarded` only holds where the dialect is the
    /// provider's own: its passthrough).
    fn error_in(dialect: Dialect, case: ErrorCase) -> Support<ErrorWant> {
        let _ = dialect;
        Self::error(case)
    }
    /// Stream case `case` for a client speaking `dialect`; defaults to the
    /// chat declaration.
    fn stream_in(dialect: Dialect, case: StreamCase) -> Support<Fixture> {
        let _ = dialect;
        Self::stream(case)
    }
    /// The fixture file of stream case `name` (`<name>.sse` for SSE).
    fn stream_file(name: &str) -> String {
        format!("{name}.sse")
    }
    /// The native stream bytes of a stream fixture: the file as is for
    /// SSE; providers with binary framing build their frames from it.
    fn stream_bytes(file: Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(file)
    }
    /// Error statuses of this provider only (Anthropic's 529), beyond the
    /// shared list; fixture `error_<status>.json`.
    fn own_errors() -> Vec<OwnError> {
        Vec::new()
    }
}

/// A provider-specific error status and what the client must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnError {
    pub upstream: u16,
    pub client: u16,
    pub kind: &'static str,
    /// The native message the client must see.
    pub message: &'static str,
}

/// The path of a fixture of provider `P`.
pub fn fixture_path<P: Contract>(file: &str) -> String {
    format!(
        "{}/tests/fixtures/contract/{}/{file}",
        env!("CARGO_MANIFEST_DIR"),
        P::NAME
    )
}

/// Reads a fixture of provider `P`.
pub fn fixture<P: Contract>(file: &str) -> Result<Vec<u8>, String> {
    let path = fixture_path::<P>(file);
    std::fs::read(&path).map_err(|e| format!("fixture {path}: {e}"))
}

/// Checks that `v` is a non-empty JSON array and returns it.
pub fn non_empty<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, String> {
    match v.as_array() {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(format!("{what} must be a non-empty array, got {v}")),
    }
}

/// The words of every `system` text of an upstream body, in order (text
/// blocks joined by a space), for checks that must not care whether
/// instructions stay separate blocks or are joined, as long as words do
/// not run together.
pub fn system_words(texts: &[&str]) -> Vec<String> {
    texts
        .join(" ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The words the system-and-developer case says, in order.
pub fn instruction_words() -> Vec<String> {
    system_words(&[crate::cases::SYSTEM_TEXT, crate::cases::DEVELOPER_TEXT])
}

/// The bug a Messages or Responses client meets when a provider refuses
/// what it asked: the 400 names the field of the neutral (OpenAI chat)
/// request, which the client never sent.
pub const REFUSAL_NAMES_CHAT_FIELD: &str = "a refusal of a Messages or Responses request names \
    the chat field (`messages[0].content[1].image_url.url`, `response_format`) instead of the \
    client's (`messages.0.content.1.source.url`, `input[0].content[1].image_url`, \
    `text.format`): providers refuse on the neutral request and nothing maps the param back";
