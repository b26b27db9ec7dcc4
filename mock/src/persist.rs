//! Persistent per-listener faults (`PUT /_mock/faults`).
//!
//! Header faults travel with the request, so a gateway hands the same ones
//! to every provider it tries, and a long reliability run's client cannot set
//! headers per provider at all. A fault stored on one listener makes exactly
//! that provider misbehave, for every request, for a random share of them
//! (`rate`) or for the next N (`remaining`), until it is healed. A fault
//! may also just add response `headers` (a provider's `set-cookie`, a
//! forged gateway header) to otherwise normal answers.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::Faults;

/// The JSON body of `PUT /_mock/faults`, as sent (every field optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    status: Option<u16>,
    rate: Option<f64>,
    retry_after: Option<Value>,
    reset: Option<bool>,
    overloaded: Option<bool>,
    delay_ms: Option<u64>,
    remaining: Option<u64>,
    headers: Option<serde_json::Map<String, Value>>,
}

/// A validated stored fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub status: Option<u16>,
    pub rate: f64,
    pub retry_after: Option<String>,
    pub reset: bool,
    pub overloaded: bool,
    pub delay_ms: u64,
    /// Faults left before the listener heals itself (`None`: no limit).
    pub remaining: Option<u64>,
    /// Extra response headers, lowercase names, in name order.
    pub headers: Vec<(String, String)>,
}

/// Headers the mock writes itself: a fault may not duplicate them (the
/// response would be malformed rather than hostile).
const FRAMING: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
];

/// Validates `headers`: names are HTTP tokens (lowercased), values are
/// strings without control characters.
fn parse_headers(
    raw: Option<serde_json::Map<String, Value>>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (name, value) in raw.unwrap_or_default() {
        let lower = name.to_ascii_lowercase();
        let token = !lower.is_empty()
            && lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(format!("headers: `{name}` is not a header name"));
        }
        if FRAMING.contains(&lower.as_str()) {
            return Err(format!("headers: `{lower}` is written by the mock itself"));
        }
        let Value::String(v) = value else {
            return Err(format!("headers: the value of `{lower}` must be a string"));
        };
        if v.chars().any(|c| c.is_control()) {
            return Err(format!(
                "headers: the value of `{lower}` has a control character"
            ));
        }
        out.push((lower, v));
    }
    Ok(out)
}

impl Spec {
    /// Parses and validates a `PUT /_mock/faults` body; `Err` is the 400 message.
    pub fn parse(bytes: &[u8]) -> Result<Spec, String> {
        let body: Body =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid fault body: {e}"))?;
        if let Some(s) = body.status {
            if !(300..=999).contains(&s) {
                return Err(format!("status must be in 300..=999, got {s}"));
            }
        }
        let rate = body.rate.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("rate must be in 0..=1, got {rate}"));
        }
        if body.remaining == Some(0) {
            return Err("remaining must be at least 1 (DELETE heals)".into());
        }
        let retry_after = match body.retry_after {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
            Some(other) => {
                return Err(format!(
                    "retry_after must be a non-empty string or a whole number, got {other}"
                ))
            }
        };
        let headers = parse_headers(body.headers)?;
        Ok(Spec {
            headers,
            status: body.status,
            rate,
            retry_after,
            reset: body.reset.unwrap_or(false),
            overloaded: body.overloaded.unwrap_or(false),
            delay_ms: body.delay_ms.unwrap_or(0),
            remaining: body.remaining,
        })
    }

    /// Every field, defaults filled in, `remaining` as it stands now.
    pub fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "rate": self.rate,
            "retry_after": self.retry_after,
            "reset": self.reset,
            "overloaded": self.overloaded,
            "delay_ms": self.delay_ms,
            "remaining": self.remaining,
            "headers": self.headers.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect::<serde_json::Map<String, Value>>(),
        })
    }

    fn faults(&self) -> Faults {
        Faults {
            status: self.status,
            delay_ms: self.delay_ms,
            retry_after: self.retry_after.clone(),
            reset: self.reset,
            overloaded: self.overloaded,
            headers: self.headers.clone(),
            ..Faults::default()
        }
    }
}

/// One listener's stored fault plus the generator that draws `rate`.
/// Kept behind the listener's mutex, so the draw and the `remaining`
/// count are atomic across connection threads.
#[derive(Debug)]
pub struct State {
    spec: Option<Spec>,
    rng: u64,
}

impl State {
    /// No fault; the generator is seeded from the clock and `salt`.
    pub fn new(salt: &str) -> State {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let salt = salt.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        State {
            spec: None,
            rng: (nanos ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    pub fn spec(&self) -> Option<&Spec> {
        self.spec.as_ref()
    }

    pub fn set(&mut self, spec: Option<Spec>) {
        self.spec = spec;
    }

    /// xorshift64: plenty for picking which requests fail.
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Decides for one request: the faults to apply, if it is faulted.
    /// A faulted request uses up one of `remaining`; the last one heals.
    pub fn draw(&mut self) -> Option<Faults> {
        let rate = self.spec.as_ref()?.rate;
        let hit = rate >= 1.0 || (rate > 0.0 && self.next_unit() < rate);
        if !hit {
            return None;
        }
        let spec = self.spec.as_mut()?;
        let faults = spec.faults();
        match spec.remaining {
            Some(n) if n <= 1 => self.spec = None,
            Some(n) => spec.remaining = Some(n - 1),
            None => {}
        }
        Some(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(body: &str) -> State {
        let mut s = State::new("t");
        s.set(Some(Spec::parse(body.as_bytes()).unwrap()));
        s
    }

    #[test]
    fn parse_defaults_and_errors() {
        let spec = Spec::parse(b"{}").unwrap();
        assert_eq!(spec.rate, 1.0);
        assert_eq!(spec.status, None);
        let spec = Spec::parse(
            br#"{"status": 503, "rate": 1.0, "retry_after": "2", "reset": false,
                "overloaded": false, "delay_ms": 0, "remaining": null}"#,
        )
        .unwrap();
        assert_eq!(spec.status, Some(503));
        assert_eq!(spec.retry_after.as_deref(), Some("2"));
        assert_eq!(
            Spec::parse(br#"{"retry_after": 7}"#).unwrap().retry_after,
            Some("7".into())
        );
        for bad in [
            r#"{"bogus": 1}"#,
            r#"{"rate": 1.5}"#,
            r#"{"rate": -0.1}"#,
            r#"{"status": 200}"#,
            r#"{"status": "503"}"#,
            r#"{"remaining": 0}"#,
            r#"{"retry_after": -1}"#,
            r#"[]"#,
            "",
        ] {
            assert!(Spec::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_are_strict() {
        let spec = Spec::parse(
            br#"{"headers": {"Set-Cookie": "sid=1; Path=/", "x-modelmux-status": "200"}}"#,
        )
        .unwrap();
        assert_eq!(
            spec.headers,
            vec![
                ("set-cookie".to_string(), "sid=1; Path=/".to_string()),
                ("x-modelmux-status".to_string(), "200".to_string()),
            ]
        );
        assert_eq!(spec.to_json()["headers"]["set-cookie"], "sid=1; Path=/");
        let mut s = state(r#"{"headers": {"location": "https://x.example/"}}"#);
        let f = s.draw().unwrap();
        assert_eq!(
            f.headers,
            vec![("location".into(), "https://x.example/".into())]
        );
        assert_eq!(
            f.error_status(),
            None,
            "headers alone do not fail the request"
        );
        for bad in [
            r#"{"headers": {"bad name": "1"}}"#,
            r#"{"headers": {"": "1"}}"#,
            r#"{"headers": {"x-a": 1}}"#,
            r#"{"headers": {"x-a": "a
x-b: 2"}}"#,
            r#"{"headers": {"content-length": "1"}}"#,
            r#"{"headers": {"Transfer-Encoding": "chunked"}}"#,
            r#"{"headers": ["x-a"]}"#,
        ] {
            assert!(Spec::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn remaining_counts_down_then_heals() {
        let mut s = state(r#"{"status": 503, "remaining": 2, "retry_after": "3"}"#);
        let f = s.draw().unwrap();
        assert_eq!(f.error_status(), Some(503));
        assert_eq!(f.retry_after.as_deref(), Some("3"));
        assert_eq!(s.spec().unwrap().remaining, Some(1));
        assert!(s.draw().is_some());
        assert!(s.spec().is_none());
        assert!(s.draw().is_none());
    }

    #[test]
    fn rate_zero_one_and_half() {
        let mut never = state(r#"{"status": 500, "rate": 0, "remaining": 3}"#);
        assert!((0..100).all(|_| never.draw().is_none()));
        assert_eq!(never.spec().unwrap().remaining, Some(3));
        let mut always = state(r#"{"reset": true}"#);
        assert!((0..100).all(|_| always.draw().is_some_and(|f| f.reset)));
        let mut half = state(r#"{"overloaded": true, "rate": 0.5}"#);
        let hits = (0..1000).filter(|_| half.draw().is_some()).count();
        assert!((350..650).contains(&hits), "{hits}");
    }
}
