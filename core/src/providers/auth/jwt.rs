//! The JWT assertion a service account trades for an access token
//! (Google's "OAuth 2.0 for Server to Server Applications", RFC 7523).
//!
//! Header `{"alg":"RS256","typ":"JWT","kid":<private_key_id>}`, claims
//! `iss` (the account's email), `scope`, `aud` (the key's `token_uri`),
//! `iat` and `exp`. Google refuses an `exp` more than one hour after `iat`,
//! so the assertion asks for exactly one hour; the access token's own
//! lifetime comes from the token endpoint's `expires_in`, not from here.
//!
//! Signing is RSASSA-PKCS1-v1_5 with SHA-256 and needs no randomness, which
//! is why it runs inside the wasm VM without an entropy source. Without an
//! RNG the private-key operation is not blinded; the filter signs about
//! once an hour, on its own schedule, so no client can time it.

use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// An assertion is valid for this long: the most Google accepts.
pub const ASSERTION_LIFETIME_S: u64 = 3600;

/// A service account's RSA key, parsed once at config load.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(RsaPrivateKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Parses a PKCS#8 PEM key (`-----BEGIN PRIVATE KEY-----`). The error
    /// says what is wrong, never what the key contains.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| format!("private_key is not a PKCS#8 PEM RSA key ({e})"))?;
        key.validate()
            .map_err(|e| format!("private_key is not a valid RSA key ({e})"))?;
        Ok(SigningKey(key))
    }

    /// RS256 signature of `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let digest = Sha256::digest(message);
        self.0
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|e| format!("signing failed ({e})"))
    }

    /// The public half (tests verify signatures with it).
    pub fn public(&self) -> rsa::RsaPublicKey {
        self.0.to_public_key()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// What an assertion says about its issuer.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    pub email: &'a str,
    pub key_id: Option<&'a str>,
    /// The token endpoint, as `aud`.
    pub audience: &'a str,
    pub scope: &'a str,
}

/// A signed assertion `header.claims.signature`, issued at `now_secs`.
pub fn assertion(key: &SigningKey, who: Issuer<'_>, now_secs: u64) -> Result<String, String> {
    let header = Header {
        alg: "RS256",
        typ: "JWT",
        kid: who.key_id.filter(|k| !k.is_empty()),
    };
    let claims = Claims {
        iss: who.email,
        scope: who.scope,
        aud: who.audience,
        iat: now_secs,
        exp: now_secs.saturating_add(ASSERTION_LIFETIME_S),
    };
    let mut out = encode(&header)?;
    out.push('.');
    out.push_str(&encode(&claims)?);
    let signature = key.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&base64url(&signature));
    Ok(out)
}

fn encode<T: Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_vec(v)
        .map(|json| base64url(&json))
        .map_err(|e| e.to_string())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 7515 §2).
pub fn base64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    let sextet = |v: u32, shift: u32| {
        let i = ((v >> shift) & 63) as usize;
        ALPHABET.get(i).map_or('A', |b| char::from(*b))
    };
    for chunk in data.chunks(3) {
        let mut v = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            v |= u32::from(*b) << (16 - 8 * i as u32);
        }
        out.push(sextet(v, 18));
        out.push(sextet(v, 12));
        if chunk.len() > 1 {
            out.push(sextet(v, 6));
        }
        if chunk.len() > 2 {
            out.push(sextet(v, 0));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A 2048-bit test key generated for these tests only.
    pub const TEST_KEY: &str = include_str!("test_key.pem");

    pub fn test_key() -> SigningKey {
        SigningKey::from_pem(TEST_KEY).unwrap()
    }

    fn unbase64url(s: &str) -> Vec<u8> {
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes() {
            let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    /// The claims of `jwt` once its RS256 signature checks out with `key`.
    pub fn verified_claims(key: &SigningKey, jwt: &str) -> Value {
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let digest = Sha256::digest(signed.as_bytes());
        key.public()
            .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &unbase64url(sig))
            .unwrap();
        let claims = signed.split('.').nth(1).unwrap();
        serde_json::from_slice(&unbase64url(claims)).unwrap()
    }

    #[test]
    fn base64url_matches_rfc4648_vectors_without_padding() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (&[0xfb, 0xff, 0xbf], "-_-_"),
        ];
        for (data, want) in cases {
            assert_eq!(base64url(data), want);
            assert_eq!(unbase64url(want), data);
        }
    }

    fn issuer() -> Issuer<'static> {
        Issuer {
            email: "gw@proj.iam.gserviceaccount.com",
            key_id: Some("abc123"),
            audience: "https://oauth2.googleapis.com/token",
            scope: "https://www.googleapis.com/auth/cloud-platform",
        }
    }

    #[test]
    fn assertion_is_an_rs256_jwt_with_the_claims_google_expects() {
        let key = test_key();
        let jwt = assertion(&key, issuer(), 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&unbase64url(parts[0])).unwrap();
        assert_eq!(
            header,
            json!({"alg": "RS256", "typ": "JWT", "kid": "abc123"})
        );
        let claims: Value = serde_json::from_slice(&unbase64url(parts[1])).unwrap();
        assert_eq!(
            claims,
            json!({
                "iss": "gw@proj.iam.gserviceaccount.com",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64,
            })
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        let digest = Sha256::digest(signed.as_bytes());
        let sig = unbase64url(parts[2]);
        assert_eq!(sig.len(), 256);
        let scheme = || Pkcs1v15Sign::new::<Sha256>();
        key.public().verify(scheme(), &digest, &sig).unwrap();
        let other = Sha256::digest(format!("{signed}x").as_bytes());
        assert!(key.public().verify(scheme(), &other, &sig).is_err());
    }

    #[test]
    fn no_kid_when_the_key_has_no_id() {
        let who = Issuer {
            key_id: None,
            ..issuer()
        };
        let jwt = assertion(&test_key(), who, 5).unwrap();
        let head = jwt.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(&unbase64url(head)).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let e = SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("private_key is not a PKCS#8 PEM RSA key"),
            "{e}"
        );
        assert!(!e.contains("c2VjcmV0"), "{e}");
        assert!(SigningKey::from_pem("not a key").is_err());
        assert_eq!(format!("{:?}", test_key()), "SigningKey(***)");
    }
}
