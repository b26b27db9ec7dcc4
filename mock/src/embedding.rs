//! Deterministic embedding vectors shared by every provider's mock.
//!
//! The same text and dimension count give the same vector on the OpenAI,
//! Azure and Gemini mocks, so a gateway test can compare what a client got
//! through any provider with `expected_embedding(text, dims)` in
//! `tests/e2e/support.py`:
//!
//! * `h` = 64-bit FNV-1a of the text's UTF-8 bytes;
//! * for `i` in `0..dims`: `z = splitmix64(h + (i + 1) * 0x9E3779B97F4A7C15)`
//!   (wrapping), `k = ((z >> 11) * 2_000_001) >> 53` (integer, `0..=2_000_000`)
//!   and the value is `(k - 1_000_000) / 1e6`: in `[-1, 1]`, 6 decimals.
//!
//! Without a requested size the mocks return `DEFAULT_DIMS` values.

/// Values per vector when the request does not ask for a size.
pub const DEFAULT_DIMS: usize = 8;

/// The largest size a request may ask for (Gemini's and OpenAI's largest models).
pub const MAX_DIMS: u64 = 3072;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The mock's embedding of `text` with `dims` values.
pub fn vector(text: &str, dims: usize) -> Vec<f64> {
    let h = fnv1a(text.as_bytes());
    (0..dims as u64)
        .map(|i| {
            let z = splitmix64(h.wrapping_add((i + 1).wrapping_mul(GOLDEN)));
            let k = (u128::from(z >> 11) * 2_000_001) >> 53;
            (k as f64 - 1_000_000.0) / 1e6
        })
        .collect()
}

/// Little-endian `f32` bytes of a vector, base64-encoded (OpenAI's
/// `encoding_format: "base64"`).
pub fn base64_f32(values: &[f64]) -> String {
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|v| (*v as f32).to_le_bytes())
        .collect();
    base64(&bytes)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_and_bounded() {
        let a = vector("hello world", 16);
        assert_eq!(a.len(), 16);
        assert_eq!(a, vector("hello world", 16));
        assert_eq!(&vector("hello world", 4)[..], &a[..4]);
        assert_ne!(a, vector("hello world!", 16));
        for v in &a {
            assert!((-1.0..=1.0).contains(v), "{v}");
            assert_eq!((v * 1e6).round() / 1e6, *v);
        }
        assert!(vector("", 0).is_empty());
    }

    #[test]
    fn known_values() {
        // Pinned so that the Python twin in tests/e2e/support.py can't drift.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(vector("hello", 2), [0.905546, 0.237689]);
        assert_eq!(vector("a b", 3), [-0.771629, 0.740495, -0.909183]);
    }

    #[test]
    fn base64_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_f32(&[1.0]), "AACAPw==");
    }
}
