//! A small block-style YAML writer with comments, anchors and aliases.
//!
//! Output is deterministic: maps keep insertion order. Short maps and lists
//! of scalars are written in flow style (`{ a: b }`, `[a, b]`) to keep the
//! bootstrap readable; everything else is block style.

use std::fmt::Write as _;

/// A YAML value under construction.
#[derive(Debug, Clone)]
pub enum Node {
    Str(String),
    Int(u64),
    /// A fraction, e.g. an overload threshold.
    Float(f64),
    Bool(bool),
    /// A multi-line string written as a literal block (`|`).
    Block(String),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    /// Comment lines written before the entry or list item holding the node.
    Commented(Vec<String>, Box<Node>),
    /// `&name` on the value.
    Anchor(String, Box<Node>),
    /// `*name`.
    Alias(String),
}

/// Flow collections longer than this are written in block style.
const FLOW_WIDTH: usize = 72;

pub fn s(v: impl Into<String>) -> Node {
    Node::Str(v.into())
}

pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

pub fn seq(items: impl IntoIterator<Item = Node>) -> Node {
    Node::Seq(items.into_iter().collect())
}

/// `{ "@type": type.googleapis.com/<name>, ...rest }`.
pub fn typed(name: &str, rest: Vec<(&str, Node)>) -> Node {
    let mut entries = vec![(
        "@type".to_string(),
        s(format!("type.googleapis.com/{name}")),
    )];
    entries.extend(rest.into_iter().map(|(k, v)| (k.to_string(), v)));
    Node::Map(entries)
}

pub fn commented(lines: &[&str], node: Node) -> Node {
    Node::Commented(
        lines.iter().map(|l| l.to_string()).collect(),
        Box::new(node),
    )
}

/// Renders a document (a map at the top level) with a trailing newline.
pub fn to_string(doc: &Node) -> String {
    let mut out = String::new();
    write_value_lines(&mut out, doc, 0);
    out
}

fn split_comments(node: &Node) -> (Vec<&str>, &Node) {
    let mut lines = Vec::new();
    let mut node = node;
    while let Node::Commented(c, inner) = node {
        lines.extend(c.iter().map(String::as_str));
        node = inner;
    }
    (lines, node)
}

fn write_comments(out: &mut String, lines: &[&str], indent: usize) {
    for line in lines {
        let pad = " ".repeat(indent);
        if line.is_empty() {
            let _ = writeln!(out, "{pad}#");
        } else {
            let _ = writeln!(out, "{pad}# {line}");
        }
    }
}

/// Writes the entries of a map or the items of a list, each on its own
/// lines at `indent`.
fn write_value_lines(out: &mut String, node: &Node, indent: usize) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if indent == 0 && i > 0 {
                    out.push('\n');
                }
                let (comments, value) = split_comments(value);
                write_comments(out, &comments, indent);
                let _ = write!(out, "{pad}{}:", scalar(key));
                write_after_key(out, value, indent, indent + 2);
            }
        }
        Node::Seq(items) => {
            for item in items {
                let (comments, item) = split_comments(item);
                write_comments(out, &comments, indent);
                let _ = write!(out, "{pad}-");
                write_seq_item(out, item, indent);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", inline(other).unwrap_or_default());
        }
    }
}

/// Writes what follows `key:`; `child` is the indent of nested entries.
/// Lists under a key sit at the key's own indent, as in Envoy's examples.
fn write_after_key(out: &mut String, value: &Node, indent: usize, child: usize) {
    let (anchor, value) = match value {
        Node::Anchor(name, inner) => (format!(" &{name}"), inner.as_ref()),
        other => (String::new(), other),
    };
    out.push_str(&anchor);
    if let Some(text) = inline(value) {
        let _ = writeln!(out, " {text}");
        return;
    }
    match value {
        Node::Block(text) => write_block(out, text, child),
        Node::Seq(_) => {
            out.push('\n');
            write_value_lines(out, value, indent);
        }
        _ => {
            out.push('\n');
            write_value_lines(out, value, child);
        }
    }
}

/// Writes a list item after its `-`; the item's content indent is
/// `dash_indent + 2`.
fn write_seq_item(out: &mut String, item: &Node, dash_indent: usize) {
    let inner = dash_indent + 2;
    if let Some(text) = inline(item) {
        let _ = writeln!(out, " {text}");
        return;
    }
    match item {
        Node::Map(entries) => {
            let mut first = true;
            let pad = " ".repeat(inner);
            for (key, value) in entries {
                let (comments, value) = split_comments(value);
                if !first {
                    write_comments(out, &comments, inner);
                    out.push_str(&pad);
                } else {
                    out.push(' ');
                }
                first = false;
                out.push_str(&scalar(key));
                out.push(':');
                write_after_key(out, value, inner, inner + 2);
            }
        }
        Node::Seq(_) => {
            out.push('\n');
            write_value_lines(out, item, inner);
        }
        Node::Block(text) => write_block(out, text, inner),
        _ => {
            let _ = writeln!(out, " {}", inline(item).unwrap_or_default());
        }
    }
}

fn write_block(out: &mut String, text: &str, indent: usize) {
    out.push_str(" |\n");
    let pad = " ".repeat(indent);
    for line in text.trim_end_matches('\n').lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
}

/// The single-line form of a node: always for scalars, for collections
/// when they hold only scalars and fit in [`FLOW_WIDTH`].
fn inline(node: &Node) -> Option<String> {
    let flow = match node {
        Node::Str(v) => return Some(scalar(v)),
        Node::Int(v) => return Some(v.to_string()),
        Node::Float(v) => return Some(format!("{v:?}")),
        Node::Bool(v) => return Some(v.to_string()),
        Node::Alias(name) => return Some(format!("*{name}")),
        Node::Map(entries) if entries.is_empty() => return Some("{}".to_string()),
        Node::Seq(items) if items.is_empty() => return Some("[]".to_string()),
        Node::Map(entries) => {
            let parts = entries
                .iter()
                .map(|(k, v)| flow_scalar(v).map(|v| format!("{}: {v}", scalar(k))))
                .collect::<Option<Vec<_>>>()?;
            format!("{{ {} }}", parts.join(", "))
        }
        Node::Seq(items) => {
            let parts = items.iter().map(flow_scalar).collect::<Option<Vec<_>>>()?;
            format!("[{}]", parts.join(", "))
        }
        Node::Block(_) | Node::Commented(..) | Node::Anchor(..) => return None,
    };
    (flow.len() <= FLOW_WIDTH).then_some(flow)
}

/// Scalars (and empty collections) allowed inside a flow collection.
fn flow_scalar(node: &Node) -> Option<String> {
    match node {
        Node::Str(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_) => inline(node),
        Node::Map(e) if e.is_empty() => Some("{}".to_string()),
        Node::Seq(e) if e.is_empty() => Some("[]".to_string()),
        _ => None,
    }
}

/// A string as a YAML scalar: plain when unambiguous, else single-quoted
/// (no escapes but `''`), else double-quoted for control characters (a
/// JSON string literal is a valid YAML double-quoted scalar).
pub fn scalar(v: &str) -> String {
    if is_plain(v) {
        v.to_string()
    } else if v.chars().all(|c| !c.is_control()) {
        format!("'{}'", v.replace('\'', "''"))
    } else {
        serde_json::Value::String(v.to_string()).to_string()
    }
}

fn is_plain(v: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    ];
    let Some(first) = v.chars().next() else {
        return false;
    };
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./-:".contains(c);
    (first.is_ascii_alphanumeric() || first == '_' || first == '/')
        && v.chars().all(safe)
        && !v.ends_with(':')
        && !v.contains("://")
        && !RESERVED.contains(&v.to_ascii_lowercase().as_str())
        && !looks_numeric(v)
}

/// Anything a YAML 1.1 or 1.2 reader might take for a number or time.
fn looks_numeric(v: &str) -> bool {
    let first = v.chars().next().unwrap_or('x');
    (first.is_ascii_digit() || first == '.' || first == '-')
        && v.chars()
            .all(|c| c.is_ascii_hexdigit() || "._:-+xXoO".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> serde_json::Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn scalars_round_trip() {
        for v in [
            "",
            "true",
            "Yes",
            "null",
            "10",
            "1.5",
            "0x1f",
            "1:30",
            "@type",
            "a: b",
            "a #b",
            "%START_TIME%",
            "x\ny",
            "-",
            "/",
            "5s",
            "127.0.0.1",
            "a\"b",
            "'",
            " lead",
        ] {
            let doc = map([("k", s(v))]);
            assert_eq!(parse(&to_string(&doc))["k"], serde_json::json!(v), "{v}");
        }
        assert_eq!(scalar("127.0.0.1"), "'127.0.0.1'");
        assert_eq!(scalar("a\nb"), "\"a\\nb\"");
        assert_eq!(
            scalar("envoy.filters.http.router"),
            "envoy.filters.http.router"
        );
    }

    #[test]
    fn nested_documents_parse_back() {
        let doc = map([
            ("a", commented(&["hello", ""], Node::Int(1))),
            (
                "list",
                seq([
                    map([("name", s("x")), ("inner", map([("deep", seq([s("p")]))]))]),
                    commented(&["second"], map([("name", s("y"))])),
                    seq([Node::Bool(true)]),
                ]),
            ),
            (
                "block",
                Node::Anchor(
                    "b".into(),
                    Box::new(Node::Block("{\n  \"k\": 1\n}\n".into())),
                ),
            ),
            ("again", Node::Alias("b".into())),
            ("empty", map::<&str>([])),
            ("t", typed("x.y.Z", vec![("v", s("1"))])),
        ]);
        let text = to_string(&doc);
        let want = serde_json::json!({
            "a": 1,
            "list": [{"name": "x", "inner": {"deep": ["p"]}}, {"name": "y"}, [true]],
            "block": "{\n  \"k\": 1\n}\n",
            "again": "{\n  \"k\": 1\n}\n",
            "empty": {},
            "t": {"@type": "type.googleapis.com/x.y.Z", "v": "1"},
        });
        assert_eq!(parse(&text), want, "{text}");
        assert!(text.starts_with("# hello\n#\na: 1\n\nlist:\n"), "{text}");
    }
}
