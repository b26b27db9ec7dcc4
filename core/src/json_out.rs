//! A small JSON writer for the bodies modelmux builds.
//!
//! Translated requests are mostly one or two large strings (the prompt, a
//! base64 image). serde_json escapes strings one byte at a time through a
//! lookup table, which under a wasm VM costs about 0.8 ns per byte; here
//! runs that need no escaping are found eight bytes at a time and copied
//! whole, which makes re-encoding a prompt close to a `memcpy`.

use std::fmt::Write as _;

use serde_json::value::RawValue;

/// Appends `s` as a JSON string literal (same escapes as serde_json).
pub fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if !needs_escape_in(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let b = bytes.get(i).copied().unwrap_or(b' ');
        if let Some(esc) = escape(b) {
            out.extend_from_slice(bytes.get(run..i).unwrap_or_default());
            push_escape(out, b, esc);
            run = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
    out.push(b'"');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// True if any byte of `w` is below 0x20, `"` or `\` (exact: no false
/// negatives; a false positive only sends the word down the byte path).
fn needs_escape_in(w: u64) -> bool {
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let s = w ^ (ONES * u64::from(b'\\'));
    let slash = s.wrapping_sub(ONES) & !s & HIGH;
    (control | quote | slash) != 0
}

/// The short escape letter for `b`, `Some(0)` for `\u00XX`, `None` if plain.
fn escape(b: u8) -> Option<u8> {
    match b {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        0..=0x1f => Some(0),
        _ => None,
    }
}

fn push_escape(out: &mut Vec<u8>, b: u8, esc: u8) {
    if esc == 0 {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\u00");
        out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
        out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
    } else {
        out.push(b'\\');
        out.push(esc);
    }
}

/// Builds one JSON object; fields are written in call order.
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Object<'o> {
    pub fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes the key; the caller writes the value into the returned buffer.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        string(out, value);
        self
    }

    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    pub fn raw(&mut self, key: &str, value: &RawValue) -> &mut Self {
        let out = self.key(key);
        out.extend_from_slice(value.get().as_bytes());
        self
    }

    pub fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        let out = self.key(key);
        let mut s = String::new();
        let _ = write!(s, "{value}");
        out.extend_from_slice(s.as_bytes());
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// A finite number as serde_json prints it; non-finite numbers are `null`.
    pub fn float(&mut self, key: &str, value: f64) -> &mut Self {
        let out = self.key(key);
        match serde_json::to_vec(&value) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(_) => out.extend_from_slice(b"null"),
        }
        self
    }

    pub fn close(self) {
        self.out.push(b'}');
    }
}

/// Writes `items` as a JSON array with `each` writing one element.
pub fn array<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_match_serde_json_byte_for_byte() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain ascii text that is longer than eight bytes".into(),
            "quote \" backslash \\ newline \n tab \t cr \r bs \u{8} ff \u{c}".into(),
            "control \u{1}\u{1f} del \u{7f} h\u{e9}llo \u{2713} \u{1F600}".into(),
            "\"\"\"\"\"\"\"\"\"\\".into(),
        ];
        for b in 0u8..=0x7f {
            let c = char::from(b);
            cases.push(format!("abcdefg{c}hijklmno{c}"));
            cases.push(format!("{c}"));
        }
        for s in &cases {
            assert_eq!(enc(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn word_test_has_no_false_negatives() {
        for b in 0u8..=0xff {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = b;
                let special = b < 0x20 || b == b'"' || b == b'\\';
                if special {
                    assert!(
                        needs_escape_in(u64::from_le_bytes(w)),
                        "byte {b:#x} at {pos}"
                    );
                }
            }
        }
        assert!(!needs_escape_in(u64::from_le_bytes(*b"abcdefgh")));
    }

    #[test]
    fn objects_and_arrays() {
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.str("a", "x")
            .uint("n", 42)
            .bool("b", true)
            .float("f", 0.5);
        o.opt_str("none", None);
        let raw: Box<RawValue> = serde_json::from_str(r#"{"k":[1]}"#).unwrap();
        o.raw("r", &raw);
        array(o.key("arr"), &[1u64, 2], |out, n| {
            out.extend_from_slice(n.to_string().as_bytes())
        });
        o.close();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "x", "n": 42, "b": true, "f": 0.5, "r": {"k": [1]}, "arr": [1, 2]})
        );
    }
}
