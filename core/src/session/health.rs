//! Circuits for what Envoy's outlier detection cannot express.
//!
//! Outlier detection ejects an endpoint after consecutive 5xx (the upstream
//! side turns 429s and overloaded bodies into 503s for it) and lets it back
//! after the ejection time, which covers "keeps failing, then recovers". It
//! has no notion of a provider saying *how long* to stay away: a 429 or 529
//! with `Retry-After` (seconds or an HTTP date; OpenAI also sends
//! `retry-after-ms`). Those open a circuit here until that time.
//!
//! The state lives in proxy-wasm shared data, which every worker's VM sees,
//! as the ASCII decimal "open until" in Unix milliseconds under
//! `modelmux.circuit.<provider>`. Updates use compare-and-swap so two
//! workers tripping at once keep the later deadline. The downstream side
//! reads it when choosing the rotation, the one place the filter can still
//! change which endpoint Envoy tries first.

use super::SharedStore;

const CAS_TRIES: usize = 8;

fn key(provider: &str) -> String {
    format!("modelmux.circuit.{provider}")
}

/// Until when (Unix ms) the provider's circuit is open; 0 when closed.
pub fn open_until(store: &dyn SharedStore, provider: &str) -> u64 {
    let (value, _) = store.get(&key(provider));
    value
        .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse().ok())
        .unwrap_or(0)
}

pub fn is_open(store: &dyn SharedStore, provider: &str, now_ms: u64) -> bool {
    open_until(store, provider) > now_ms
}

/// Opens the circuit until `until_ms`, keeping a later deadline already
/// set. Returns whether this call moved the deadline.
pub fn trip(store: &dyn SharedStore, provider: &str, until_ms: u64) -> bool {
    let key = key(provider);
    for _ in 0..CAS_TRIES {
        let (value, cas) = store.get(&key);
        let current = value
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if current >= until_ms {
            return false;
        }
        if store.set(&key, until_ms.to_string().as_bytes(), cas) {
            return true;
        }
    }
    false
}

/// How long a response asks to be left alone, in ms, capped at `max_ms`.
/// `retry_after_ms` wins when present (it is the more precise).
pub fn retry_after_ms(
    retry_after: Option<&str>,
    retry_after_ms: Option<&str>,
    now_ms: u64,
    max_ms: u64,
) -> Option<u64> {
    let ms = retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v as u64)
        .or_else(|| {
            let v = retry_after?.trim();
            match v.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => Some((s * 1000.0) as u64),
                Ok(_) => None,
                Err(_) => http_date_ms(v).map(|at| at.saturating_sub(now_ms)),
            }
        })?;
    (ms > 0).then_some(ms.min(max_ms))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix ms.
pub fn http_date_ms(v: &str) -> Option<u64> {
    let mut parts = v.split_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: u64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || year < 1970 || !(1..=31).contains(&day) {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|x| *x == month)? as u64 + 1;
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::fake::MemoryStore;

    #[test]
    fn parses_retry_after_forms() {
        assert_eq!(retry_after_ms(Some("2"), None, 0, 60_000), Some(2_000));
        assert_eq!(retry_after_ms(Some("1.5"), None, 0, 60_000), Some(1_500));
        assert_eq!(retry_after_ms(Some("7"), Some("250"), 0, 60_000), Some(250));
        assert_eq!(retry_after_ms(Some("9999"), None, 0, 60_000), Some(60_000));
        assert_eq!(retry_after_ms(Some("soon"), None, 0, 60_000), None);
        assert_eq!(retry_after_ms(Some("0"), None, 0, 60_000), None);
        assert_eq!(retry_after_ms(None, None, 0, 60_000), None);
        let at = http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(at, 784_111_777_000);
        assert_eq!(
            retry_after_ms(
                Some("Sun, 06 Nov 1994 08:49:37 GMT"),
                None,
                at - 3_000,
                60_000
            ),
            Some(3_000)
        );
    }

    #[test]
    fn trip_keeps_the_later_deadline_across_workers() {
        let store = MemoryStore::default();
        assert!(!is_open(&store, "a", 1_000));
        assert!(trip(&store, "a", 5_000));
        assert!(!trip(&store, "a", 4_000));
        assert_eq!(open_until(&store, "a"), 5_000);
        assert!(is_open(&store, "a", 4_999));
        assert!(!is_open(&store, "a", 5_000));
        assert!(!is_open(&store, "b", 0));
    }

    #[test]
    fn trip_retries_on_cas_mismatch() {
        let store = MemoryStore::default();
        store.fail_next_sets(2);
        assert!(trip(&store, "a", 9_000));
        assert_eq!(open_until(&store, "a"), 9_000);
    }
}
