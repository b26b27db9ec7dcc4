use serde_json::{json, Value};

use crate::providers::gemini::partial::ArgsWriter;
use crate::providers::gemini::wire::PartialArg;

/// Writes the pieces (each a `partialArgs` list, one per chunk) and
/// returns the fragments and the parsed result.
fn assemble(chunks: &[Value]) -> (Vec<String>, Value) {
    let mut frags = Vec::new();
    let mut out = String::new();
    let mut w = ArgsWriter::open(&mut out);
    for chunk in chunks {
        let text = chunk.to_string();
        let pieces: Vec<PartialArg<'_>> = serde_json::from_str(&text).unwrap();
        for p in &pieces {
            w.piece(p, &mut out).unwrap();
        }
        frags.push(std::mem::take(&mut out));
    }
    w.close(&mut out);
    frags.push(out);
    let all = frags.concat();
    let value = serde_json::from_str(&all).unwrap_or_else(|e| panic!("{all}: {e}"));
    (frags, value)
}

#[test]
fn continued_strings_nested_objects_arrays_and_scalars() {
    let (frags, v) = assemble(&[
        json!([{"jsonPath": "$.title", "stringValue": "Say \"hi\"", "willContinue": true}]),
        json!([{"jsonPath": "$.title", "stringValue": " to Zoë\n"},
               {"jsonPath": "$.stops[0].name", "stringValue": "Oslo"},
               {"jsonPath": "$.stops[0].nights", "numberValue": 2}]),
        json!([{"jsonPath": "$.stops[1].name", "stringValue": "Bergen"},
               {"jsonPath": "$.stops[1].nights", "numberValue": 1.5},
               {"jsonPath": "$.options['late checkout']", "boolValue": true},
               {"jsonPath": "$.options.note", "nullValue": null},
               {"jsonPath": "$.budget", "numberValue": "Infinity"}]),
    ]);
    assert_eq!(
        v,
        json!({"title": "Say \"hi\" to Zoë\n",
               "stops": [{"name": "Oslo", "nights": 2}, {"name": "Bergen", "nights": 1.5}],
               "options": {"late checkout": true, "note": null},
               "budget": null})
    );
    // Incremental: the first piece is out before the rest arrives.
    assert_eq!(frags[0], r#"{"title":"Say \"hi\""#);
}

#[test]
fn a_string_left_open_is_closed_at_the_end() {
    let (_, v) = assemble(&[json!([
        {"jsonPath": "$.city", "stringValue": "Par", "willContinue": true}
    ])]);
    assert_eq!(v, json!({"city": "Par"}));
}

#[test]
fn no_pieces_is_an_empty_object() {
    let (_, v) = assemble(&[]);
    assert_eq!(v, json!({}));
}

#[test]
fn bad_paths_are_refused() {
    for path in ["city", "$", "$..a", "$[x]", "$['open", "$.a b"] {
        let text = json!([{"jsonPath": path, "stringValue": "x"}]).to_string();
        let pieces: Vec<PartialArg<'_>> = serde_json::from_str(&text).unwrap();
        let mut out = String::new();
        let mut w = ArgsWriter::open(&mut out);
        let res = w.piece(&pieces[0], &mut out);
        if path == "$.a b" {
            // A name with a space after a dot is still a name.
            assert!(res.is_ok());
        } else {
            assert!(res.is_err(), "{path}");
        }
    }
}
