//! Vertex's streamed function-call arguments (`partialArgs`) → JSON text,
//! written as it arrives.
//!
//! With `functionCallingConfig.streamFunctionCallArguments` a call's
//! arguments come as a list of `{jsonPath, <value>, willContinue}` pieces
//! spread over several chunks: each piece sets the value at one path
//! (`$.city`, `$.stops[1].name`), and a string with `willContinue: true`
//! goes on in the next piece for the same path. OpenAI clients want the
//! arguments as JSON text fragments, so [`ArgsWriter`] writes each piece
//! at once: it closes the containers the new path leaves, opens the ones
//! it enters, then writes the value (a continued string stays open).
//!
//! The pieces come in document order, as the model generates them; a path
//! that goes back into a container already closed would repeat a key, so
//! it is not supported (Vertex never does that). Memory is the stack of
//! open containers and the open string's path: bounded by one piece.

use std::borrow::Cow;

use super::wire::PartialArg;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(u64),
}

/// An open object or array below the arguments object.
#[derive(Debug)]
struct Frame {
    /// The step from the parent to this container.
    seg: Seg,
    array: bool,
    members: bool,
}

/// Writes one call's arguments object from its pieces.
#[derive(Debug, Default)]
pub(super) struct ArgsWriter {
    /// The root object has had a member (its brace is written by `open`).
    root_members: bool,
    /// Containers below the root, outermost first.
    frames: Vec<Frame>,
    /// The path of the string still open (`willContinue` was true).
    string: Option<String>,
}

impl ArgsWriter {
    /// The start of the arguments.
    pub fn open(out: &mut String) -> Self {
        out.push('{');
        ArgsWriter::default()
    }

    /// Appends the JSON text of `arg` to `out`; `Err` names what is wrong
    /// with its path.
    pub fn piece(&mut self, arg: &PartialArg<'_>, out: &mut String) -> Result<(), String> {
        let path = arg.json_path.as_deref().unwrap_or("");
        if self.string.as_deref() == Some(path) {
            push_escaped(arg.string_value.as_deref().unwrap_or(""), out);
            if arg.will_continue != Some(true) {
                out.push('"');
                self.string = None;
            }
            return Ok(());
        }
        let mut segs = parse_path(path)?;
        let Some(leaf) = segs.pop() else {
            return Err(format!("a partial argument at `{path}`, not below `$`"));
        };
        self.close_string(out);
        let kept = self
            .frames
            .iter()
            .zip(&segs)
            .take_while(|(f, s)| f.seg == **s)
            .count();
        while self.frames.len() > kept {
            self.pop(out);
        }
        let rest: Vec<Seg> = segs.into_iter().skip(kept).collect();
        let mut next = rest.iter().chain(std::iter::once(&leaf)).skip(1);
        for seg in &rest {
            self.member(seg, out);
            let array = matches!(next.next(), Some(Seg::Index(_)));
            out.push(if array { '[' } else { '{' });
            self.frames.push(Frame {
                seg: seg.clone(),
                array,
                members: false,
            });
        }
        self.member(&leaf, out);
        self.value(arg, path, out);
        Ok(())
    }

    /// The end of the arguments: closes everything still open.
    pub fn close(mut self, out: &mut String) {
        self.close_string(out);
        while !self.frames.is_empty() {
            self.pop(out);
        }
        out.push('}');
    }

    fn close_string(&mut self, out: &mut String) {
        if self.string.take().is_some() {
            out.push('"');
        }
    }

    fn pop(&mut self, out: &mut String) {
        if let Some(f) = self.frames.pop() {
            out.push(if f.array { ']' } else { '}' });
        }
    }

    /// Starts a member of the innermost container: the comma, and the key
    /// in an object (an index step into an object, or a key into an array,
    /// writes what the container takes).
    fn member(&mut self, seg: &Seg, out: &mut String) {
        let (members, array) = match self.frames.last_mut() {
            Some(f) => (&mut f.members, f.array),
            None => (&mut self.root_members, false),
        };
        if *members {
            out.push(',');
        }
        *members = true;
        if !array {
            let key: Cow<'_, str> = match seg {
                Seg::Key(k) => Cow::Borrowed(k),
                Seg::Index(i) => Cow::Owned(i.to_string()),
            };
            out.push('"');
            push_escaped(&key, out);
            out.push_str("\":");
        }
    }

    fn value(&mut self, arg: &PartialArg<'_>, path: &str, out: &mut String) {
        if let Some(s) = arg.string_value.as_deref() {
            out.push('"');
            push_escaped(s, out);
            if arg.will_continue == Some(true) {
                self.string = Some(path.to_string());
            } else {
                out.push('"');
            }
        } else if let Some(n) = arg.number_value.map(|n| n.get().trim()) {
            // NaN and the infinities come as strings: JSON has no such number.
            out.push_str(if n.starts_with('"') { "null" } else { n });
        } else if let Some(b) = arg.bool_value {
            out.push_str(if b { "true" } else { "false" });
        } else {
            out.push_str("null");
        }
    }
}

/// `s` as the inside of a JSON string.
fn push_escaped(s: &str, out: &mut String) {
    let quoted = serde_json::Value::from(s).to_string();
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or("");
    out.push_str(inner);
}

/// The steps of an RFC 9535 normalized path: `$`, then `.name`,
/// `['name']` / `["name"]` or `[index]` steps.
fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let bad = || format!("unsupported JSON path `{path}` in partialArgs");
    let mut rest = path.strip_prefix('$').ok_or_else(bad)?;
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let (name, after) = r.split_at(end);
            if name.is_empty() {
                return Err(bad());
            }
            segs.push(Seg::Key(name.to_string()));
            rest = after;
        } else if let Some(r) = rest.strip_prefix('[') {
            let (seg, after) = bracket(r).ok_or_else(bad)?;
            segs.push(seg);
            rest = after;
        } else {
            return Err(bad());
        }
    }
    Ok(segs)
}

/// One bracketed step after its `[`: a quoted name or an index.
fn bracket(r: &str) -> Option<(Seg, &str)> {
    if let Some(q) = r.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = r.get(1..)?;
        let mut name = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                name.push(chars.next()?.1);
            } else if c == q {
                let after = body.get(i + c.len_utf8()..)?.strip_prefix(']')?;
                return Some((Seg::Key(name), after));
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = r.find(']')?;
    let index = r.get(..end)?.parse().ok()?;
    Some((Seg::Index(index), r.get(end + 1..)?))
}
