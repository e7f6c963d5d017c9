//! The direct path: a line parsed straight against the schema, each value read as its field's
//! declared type and written into its column as it is met (no value tree, no key lookup
//! afterwards). It decides only the plain case — a valid line whose every field is valid,
//! keys without escapes, each once (unknown keys' values read by the generic parser and
//! ignored), no whitespace but spaces and tabs —
//! and is [`Unsure`] about anything else (a problem, an escape, a number `int_value` or
//! `float_value` cannot read, …): the writer then takes back what the line wrote and the
//! generic path (`json.rs` → `parquet.rs` `record`) decides it, as before. So every decision
//! and reason is the generic path's; this only accepts, sooner, lines that path accepts.

use crate::bytes;
use crate::json::{self, special};
use crate::parquet::{Leaf, Shape};
use crate::plan::{Kind, Node};
use crate::validate::{float_value, int_value, items_problem, number_checks, str_problem, Int};

/// The line is not one this path decides.
pub struct Unsure;

type R<T> = Result<T, Unsure>;

/// Below the generic parser's limit (64), so the generic path always decides deeper lines.
const MAX_DEPTH: usize = 48;
/// Map entries whose keys are compared pairwise for a repeat; more go the generic way.
const MAX_MAP_KEYS: usize = 16;

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Spaces and tabs (a subset of what the generic parser skips: a line holds no `\n`).
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Whether byte `c` comes next, after any spaces (consumed with it).
    #[inline(always)]
    fn after_ws(&mut self, c: u8) -> bool {
        if self.peek() != Some(c) {
            self.ws();
            if self.peek() != Some(c) {
                return false;
            }
        }
        self.pos += 1;
        true
    }

    /// The next byte after any spaces, consumed.
    #[inline(always)]
    fn take_ws(&mut self) -> Option<u8> {
        match self.take() {
            Some(b' ' | b'\t') => {
                self.ws();
                self.take()
            }
            c => c,
        }
    }

    /// Spaces before a value or a key (rare: lines written by `JSON.stringify` have none).
    #[inline(always)]
    fn lead(&mut self) {
        if matches!(self.peek(), Some(b' ' | b'\t')) {
            self.ws();
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// The next byte, consumed.
    #[inline(always)]
    fn take(&mut self) -> Option<u8> {
        let c = self.b.get(self.pos).copied();
        self.pos += 1;
        c
    }

    #[inline(always)]
    fn lit(&mut self, word: &[u8]) -> bool {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters (at its opening quote): its bytes.
    #[inline(always)]
    fn string(&mut self) -> R<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return Err(Unsure);
        }
        let start = self.pos + 1;
        let end = special(self.b, start);
        if self.b.get(end) != Some(&b'"') {
            return Err(Unsure);
        }
        self.pos = end + 1;
        Ok(&self.b[start..end])
    }

    /// A number's text and, for an integer literal of at most 18 digits, its value (else
    /// [`json::NOT_INT`]), as `json.rs` reads it ([`json::scan_number`]).
    #[inline(always)]
    fn number(&mut self) -> R<(&'a str, i64)> {
        let b = self.b;
        let start = self.pos;
        let (i, int) = json::scan_number(b, start).ok_or(Unsure)?;
        self.pos = i;
        // SAFETY: ASCII bytes.
        Ok((unsafe { std::str::from_utf8_unchecked(&b[start..i]) }, int))
    }
}

/// Line `b` (UTF-8, starting with `{`) written into `leaves` when it is a valid record of
/// `fields` (laid out as `shapes`); [`Unsure`] otherwise, with what it wrote left for the
/// caller to take back.
pub fn line(leaves: &mut [Leaf], shapes: &[Shape], fields: &[(String, Node)], b: &[u8]) -> R<()> {
    let mut c = Cursor { b, pos: 0 };
    object(&mut c, leaves, shapes, fields, 0, 0, 1)?;
    c.ws();
    if c.pos != b.len() {
        return Err(Unsure);
    }
    Ok(())
}

fn nulls(leaves: &mut [Leaf], shape: &Shape, def: u8, rep: u8) {
    for l in &mut leaves[shape.leaves.clone()] {
        l.null(def, rep);
    }
}

/// An object of `fields` (at its `{`), at nesting depth `depth`.
fn object(c: &mut Cursor, leaves: &mut [Leaf], shapes: &[Shape], fields: &[(String, Node)], def: u8, rep: u8, depth: usize) -> R<()> {
    if depth > MAX_DEPTH || fields.len() > 64 {
        return Err(Unsure);
    }
    c.pos += 1;
    let mut seen: u64 = 0;
    c.ws();
    if c.peek() == Some(b'}') {
        c.pos += 1;
    } else {
        // Keys usually come in schema order: each is first compared with the next field's name.
        let mut next = 0;
        loop {
            let i = match fields.get(next) {
                // The next field's key exactly, `"name":`.
                Some((_, f)) if !f.key.is_empty() && c.b.get(c.pos..c.pos + f.key.len()).is_some_and(|k| bytes::eq(k, &f.key)) => {
                    c.pos += f.key.len();
                    next
                }
                _ => {
                    c.lead();
                    let k = c.string()?;
                    if !c.after_ws(b':') {
                        return Err(Unsure);
                    }
                    if next < fields.len() && bytes::eq(fields[next].0.as_bytes(), k) {
                        next
                    } else if let Some(i) = fields.iter().position(|(n, _)| bytes::eq(n.as_bytes(), k)) {
                        i
                    } else {
                        // An unknown key: its value read (and ignored) as the generic parse reads it.
                        c.lead();
                        // SAFETY: the line is UTF-8, and `pos` follows an ASCII byte.
                        let s = unsafe { std::str::from_utf8_unchecked(c.b) };
                        c.pos = json::value_end(s, c.pos, depth).map_err(|_| Unsure)?;
                        match c.take_ws() {
                            Some(b',') => continue,
                            Some(b'}') => break,
                            _ => return Err(Unsure),
                        }
                    }
                }
            };
            c.lead();
            if seen & (1 << i) != 0 {
                return Err(Unsure);
            }
            seen |= 1 << i;
            next = i + 1;
            value(c, leaves, &shapes[i], &fields[i].1, def, rep, depth)?;
            match c.take_ws() {
                Some(b',') => {}
                Some(b'}') => break,
                _ => return Err(Unsure),
            }
        }
    }
    // Absent fields: null, as a null value.
    if seen.count_ones() as usize != fields.len() {
        for (i, (_, f)) in fields.iter().enumerate() {
            if seen & (1 << i) == 0 {
                if f.missing.is_some() {
                    return Err(Unsure);
                }
                nulls(leaves, &shapes[i], def, rep);
            }
        }
    }
    Ok(())
}

/// A value of field `f` (at its first byte), written as `parquet.rs` `put` writes it.
fn value(c: &mut Cursor, leaves: &mut [Leaf], shape: &Shape, f: &Node, def: u8, rep: u8, depth: usize) -> R<()> {
    let Some(ch) = c.peek() else { return Err(Unsure) };
    if ch == b'n' {
        if f.missing.is_some() || !c.lit(b"null") {
            return Err(Unsure);
        }
        nulls(leaves, shape, def, rep);
        return Ok(());
    }
    let leaf = shape.leaves.start;
    match f.kind {
        Kind::Str => {
            let s = c.string()?;
            if f.enum_values.is_some() || !f.checks.is_empty() {
                // SAFETY: the line is UTF-8 and `s` lies between two quotes.
                let t = unsafe { std::str::from_utf8_unchecked(s) };
                if !matches!(str_problem(f, t), Ok(None)) {
                    return Err(Unsure);
                }
            }
            leaves[leaf].bytes(rep, s);
        }
        Kind::Int => {
            let (t, i) = c.number()?;
            let Ok(Int::Val(i)) = int_value(t, i) else { return Err(Unsure) };
            if !f.checks.is_empty() && number_checks(f, i as f64).is_some() {
                return Err(Unsure);
            }
            leaves[leaf].int(rep, i);
        }
        Kind::Float => {
            let (t, i) = c.number()?;
            let x = float_value(t, i).map_err(|_| Unsure)?;
            if !f.checks.is_empty() && number_checks(f, x).is_some() {
                return Err(Unsure);
            }
            leaves[leaf].float(rep, x);
        }
        Kind::Bool => {
            let v = if c.lit(b"true") {
                true
            } else if c.lit(b"false") {
                false
            } else {
                return Err(Unsure);
            };
            leaves[leaf].boolean(rep, v);
        }
        Kind::Record => {
            if ch != b'{' {
                return Err(Unsure);
            }
            object(c, leaves, &shape.children, &f.fields, def + 1, rep, depth + 1)?;
        }
        Kind::Array => {
            if ch != b'[' || depth >= MAX_DEPTH {
                return Err(Unsure);
            }
            c.pos += 1;
            c.ws();
            let mut n = 0;
            if c.peek() == Some(b']') {
                c.pos += 1;
                nulls(leaves, shape, def + 1, rep);
            } else {
                let inner = f.inner.as_deref().ok_or(Unsure)?;
                loop {
                    c.lead();
                    let r = if n == 0 { rep } else { shape.rep };
                    value(c, leaves, &shape.children[0], inner, def + 2, r, depth + 1)?;
                    n += 1;
                    match c.take_ws() {
                        Some(b',') => {}
                        Some(b']') => break,
                        _ => return Err(Unsure),
                    }
                }
            }
            if items_problem(f, n).is_some() {
                return Err(Unsure);
            }
        }
        Kind::Map => {
            if ch != b'{' || depth >= MAX_DEPTH {
                return Err(Unsure);
            }
            c.pos += 1;
            c.ws();
            if c.peek() == Some(b'}') {
                c.pos += 1;
                nulls(leaves, shape, def + 1, rep);
                return Ok(());
            }
            let inner = f.inner.as_deref().ok_or(Unsure)?;
            let key = shape.children[0].leaves.start;
            let mut keys: [&[u8]; MAX_MAP_KEYS] = [&[]; MAX_MAP_KEYS];
            let mut n = 0;
            loop {
                c.lead();
                let k = c.string()?;
                // A repeated key: `JSON.parse` keeps the last, DuckDB the first (a fallback).
                if n == MAX_MAP_KEYS || keys[..n].iter().any(|p| bytes::eq(p, k)) {
                    return Err(Unsure);
                }
                keys[n] = k;
                if !c.after_ws(b':') {
                    return Err(Unsure);
                }
                c.lead();
                let r = if n == 0 { rep } else { shape.rep };
                n += 1;
                leaves[key].bytes(r, k);
                value(c, leaves, &shape.children[1], inner, def + 2, r, depth + 1)?;
                match c.take_ws() {
                    Some(b',') => {}
                    Some(b'}') => break,
                    _ => return Err(Unsure),
                }
            }
        }
    }
    Ok(())
}
