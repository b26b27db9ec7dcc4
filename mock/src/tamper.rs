//! Body tampering for usage and stream-integrity tests (`x-mock-*` request
//! headers, scoped by `x-mock-only` like the other faults). They act on the
//! rendered response, so every provider's mock gets them alike:
//!
//! | header                      | effect                                                        |
//! |-----------------------------|---------------------------------------------------------------|
//! | `x-mock-output-tokens: N`   | every output-token count (`completion_tokens`, `output_tokens`, `candidatesTokenCount`, `outputTokens`) becomes the JSON number `N` (`-3`, `1.5`, `18446744073709551615`) |
//! | `x-mock-pad-bytes: N`       | a JSON body gets a leading `"x_mock_pad"` string field of `N` bytes |
//! | `x-mock-big-event-bytes: N` | a stream gets an extra event of about `N` bytes after its first |
//! | `x-mock-bad-utf8: 1`        | a stream gets an extra event that is not UTF-8 after its first |
//!
//! Values are strict: a header whose value is not what the table says is
//! ignored (`N` must be a JSON number for the first, a whole number for the
//! sizes), so a typo never silently changes the reply.

use crate::faults::{applies_to, Body, Response};
use crate::http::Request;

/// The keys whose number `x-mock-output-tokens` replaces.
const OUTPUT_KEYS: [&str; 4] = [
    "\"completion_tokens\":",
    "\"output_tokens\":",
    "\"candidatesTokenCount\":",
    "\"outputTokens\":",
];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tamper {
    output_tokens: Option<String>,
    pad_bytes: usize,
    big_event_bytes: usize,
    bad_utf8: bool,
}

impl Tamper {
    pub fn from_request(req: &Request, label: &str) -> Tamper {
        if !applies_to(req, label) {
            return Tamper::default();
        }
        let size = |name: &str| {
            req.header(name)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0)
        };
        let number = req
            .header("x-mock-output-tokens")
            .map(str::trim)
            .filter(|v| serde_json::from_str::<serde_json::Number>(v).is_ok())
            .map(str::to_string);
        Tamper {
            output_tokens: number,
            pad_bytes: size("x-mock-pad-bytes"),
            big_event_bytes: size("x-mock-big-event-bytes"),
            bad_utf8: req.header("x-mock-bad-utf8").map(str::trim) == Some("1"),
        }
    }

    pub fn apply(&self, mut resp: Response) -> Response {
        match &mut resp.body {
            Body::Json(bytes) => {
                if let Some(n) = &self.output_tokens {
                    *bytes = replace_numbers(bytes, n);
                }
                if self.pad_bytes > 0 && bytes.first() == Some(&b'{') {
                    let pad = format!("{{\"x_mock_pad\":\"{}\",", "p".repeat(self.pad_bytes));
                    bytes.splice(..1, pad.into_bytes());
                }
            }
            Body::Sse(events) => {
                if let Some(n) = &self.output_tokens {
                    for ev in events.iter_mut() {
                        *ev = replace_numbers(ev, n);
                    }
                }
                let at = 1.min(events.len());
                if self.bad_utf8 {
                    events.insert(at, b"data: {\"x_mock\":\"\xff\xfe\"}\n\n".to_vec());
                }
                if self.big_event_bytes > 0 {
                    let big = format!(
                        "data: {{\"x_mock\":\"{}\"}}\n\n",
                        "b".repeat(self.big_event_bytes)
                    );
                    events.insert(at, big.into_bytes());
                }
            }
            Body::Reset => {}
        }
        resp
    }
}

/// Replaces the number after each output-token key with `n`.
fn replace_numbers(bytes: &[u8], n: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        let Some(after) = OUTPUT_KEYS
            .iter()
            .find_map(|k| rest.strip_prefix(k.as_bytes()))
        else {
            out.push(first);
            rest = tail;
            continue;
        };
        out.extend_from_slice(rest.get(..rest.len() - after.len()).unwrap_or(&[]));
        let value = after.trim_ascii_start();
        let number = value
            .iter()
            .take_while(|b| b.is_ascii_digit() || b"-+.eE".contains(b))
            .count();
        rest = match number {
            0 => after,
            _ => {
                out.extend_from_slice(n.as_bytes());
                value.get(number..).unwrap_or(&[])
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            target: "/".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            keep_alive: true,
        }
    }

    #[test]
    fn replaces_every_output_count() {
        let t = Tamper::from_request(&req(&[("x-mock-output-tokens", "-3")]), "openai");
        let resp = Response::raw_json(
            200,
            br#"{"usage":{"prompt_tokens":4,"completion_tokens": 12,"output_tokens":7,"usageMetadata":{"candidatesTokenCount":2}}}"#.to_vec(),
        );
        let Body::Json(b) = t.apply(resp).body else {
            panic!()
        };
        assert_eq!(
            String::from_utf8(b).unwrap(),
            r#"{"usage":{"prompt_tokens":4,"completion_tokens":-3,"output_tokens":-3,"usageMetadata":{"candidatesTokenCount":-3}}}"#
        );
    }

    #[test]
    fn values_are_strict() {
        for bad in ["abc", "1,5", "", "NaN"] {
            let t = Tamper::from_request(&req(&[("x-mock-output-tokens", bad)]), "openai");
            assert_eq!(t, Tamper::default(), "{bad}");
        }
        let t = Tamper::from_request(
            &req(&[("x-mock-pad-bytes", "-1"), ("x-mock-bad-utf8", "yes")]),
            "o",
        );
        assert_eq!(t, Tamper::default());
        let scoped = [("x-mock-output-tokens", "1"), ("x-mock-only", "anthropic")];
        assert_eq!(
            Tamper::from_request(&req(&scoped), "openai"),
            Tamper::default()
        );
        assert_ne!(
            Tamper::from_request(&req(&scoped), "anthropic"),
            Tamper::default()
        );
    }

    #[test]
    fn pads_json_and_inserts_stream_events() {
        let t = Tamper::from_request(&req(&[("x-mock-pad-bytes", "3")]), "o");
        let Body::Json(b) = t.apply(Response::raw_json(200, b"{\"a\":1}".to_vec())).body else {
            panic!()
        };
        assert_eq!(b, b"{\"x_mock_pad\":\"ppp\",\"a\":1}");
        let headers = [("x-mock-big-event-bytes", "5"), ("x-mock-bad-utf8", "1")];
        let t = Tamper::from_request(&req(&headers), "o");
        let resp = Response::sse(vec![b"data: 1\n\n".to_vec(), b"data: 2\n\n".to_vec()]);
        let Body::Sse(events) = t.apply(resp).body else {
            panic!()
        };
        assert_eq!(events.len(), 4);
        assert_eq!(events[1], b"data: {\"x_mock\":\"bbbbb\"}\n\n");
        assert!(std::str::from_utf8(&events[2]).is_err());
    }
}
