//! Reading the client's SSE bytes, and feeding native bytes in pieces.

/// The `data` of each event, in order; comments and other fields are
/// skipped. The output must be UTF-8 and end on an event boundary.
pub fn data_events(out: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(out).map_err(|e| format!("output is not UTF-8: {e}"))?;
    let text = text.replace("\r\n", "\n");
    ensure!(
        text.is_empty() || text.ends_with("\n\n"),
        "output does not end on an event boundary: {:?}",
        text.chars().rev().take(80).collect::<String>()
    );
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let data: Vec<&str> = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if !data.is_empty() {
            events.push(data.join("\n"));
        }
    }
    Ok(events)
}

/// Ascending cut points: every single cut, then byte-at-a-time.
pub fn splits(len: usize) -> impl Iterator<Item = (String, Vec<usize>)> {
    let singles = (0..=len).map(|c| (format!("cut at {c}"), vec![c]));
    let bytes = std::iter::once(("byte at a time".to_string(), (1..len).collect()));
    singles.chain(bytes)
}
