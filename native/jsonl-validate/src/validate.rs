//! The record-level rules (`offline/validate-record.ts`, as the DuckDB SQL applies them) for a
//! parsed line's values, field by field: each check's reason, or none. The writer applies them
//! in schema order as it writes a line (`parquet.rs` `put`, one walk of the line). A value this
//! module cannot judge exactly as DuckDB does (numbers it reads differently, repeated keys, …)
//! is a [`Fallback`].

use crate::bytes;
use crate::json::{Value, NOT_INT};
use crate::plan::{Node, Op};
use std::borrow::Cow;

/// A line the native validator cannot decide exactly: the file goes to DuckDB.
#[derive(Debug)]
pub struct Fallback(pub &'static str);

pub type Entries<'v, 'a> = &'v [(Cow<'a, str>, Value<'a>)];

/// The value of key `k` in an object, or a fallback when the key appears more than once
/// (`JSON.parse` keeps the last, DuckDB's JSON functions the first).
pub fn get<'v, 'a>(o: Entries<'v, 'a>, k: &str) -> Result<Option<&'v Value<'a>>, Fallback> {
    let mut found = None;
    for (n, v) in o {
        if n == k {
            if found.is_some() {
                return Err(Fallback("a key repeated in an object"));
            }
            found = Some(v);
        }
    }
    Ok(found)
}

/// Most records have few fields; more go through [`get`] field by field.
pub const MAX_SLOTS: usize = 32;

/// The value of each field of `fields` in object `o` (absent: `None`), in one pass over the
/// object (keys usually come in schema order: each is first compared with the next field's
/// name); a fallback when a field's key appears more than once.
pub fn slots<'v, 'a>(
    o: Entries<'v, 'a>,
    fields: &[(String, Node)],
    out: &mut [Option<&'v Value<'a>>; MAX_SLOTS],
) -> Result<(), Fallback> {
    if fields.len() > MAX_SLOTS {
        for (i, (k, _)) in fields.iter().enumerate().take(MAX_SLOTS) {
            out[i] = get(o, k)?;
        }
        return Ok(());
    }
    let mut next = 0;
    for (k, v) in o {
        let i = if next < fields.len() && bytes::eq(fields[next].0.as_bytes(), k.as_bytes()) {
            next
        } else {
            match fields.iter().position(|(n, _)| bytes::eq(n.as_bytes(), k.as_bytes())) {
                Some(i) => i,
                None => continue,
            }
        };
        if out[i].is_some() {
            return Err(Fallback("a key repeated in an object"));
        }
        out[i] = Some(v);
        next = i + 1;
    }
    Ok(())
}

/// A fallback when a map repeats a key (`JSON.parse` keeps the last, DuckDB the first).
pub fn no_repeated_keys(o: Entries) -> Result<(), Fallback> {
    if o.len() <= 24 {
        for i in 1..o.len() {
            for j in 0..i {
                if o[i].0 == o[j].0 {
                    return Err(Fallback("a key repeated in a map"));
                }
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(o.len());
        for (k, _) in o {
            if !seen.insert(k.as_ref()) {
                return Err(Fallback("a key repeated in a map"));
            }
        }
    }
    Ok(())
}

pub enum Int {
    Val(i64),
    NotInt,
    Range,
}

const INT64_EXACT_MAX: f64 = 9007199254740991.0;

fn is_int_literal(t: &str) -> bool {
    !t.bytes().any(|c| c == b'.' || c == b'e' || c == b'E')
}

fn digits(t: &str) -> usize {
    t.len() - usize::from(t.starts_with('-'))
}

/// An integer literal read exactly (it fits an i64: up to 18 digits always, 19 when it fits);
/// longer ones may read differently (DuckDB: UBIGINT or a double; `JSON.parse`: a double).
fn int_literal(t: &str) -> Result<i64, Fallback> {
    if digits(t) > 19 {
        return Err(Fallback("an integer of more than 19 digits"));
    }
    t.parse::<i64>().map_err(|_| Fallback("an integer beyond the int64 range"))
}

/// An int64 field's number: integer literals exactly (beyond ±(2^53 − 1) out of range, as
/// their double is too), other finite numbers read as a double, correctly rounded, as
/// `JSON.parse` and DuckDB read them.
/// `int` is the parser's value of an integer literal of at most 18 digits, else [`NOT_INT`].
pub fn int_value(t: &str, int: i64) -> Result<Int, Fallback> {
    if int != NOT_INT {
        return Ok(if int.unsigned_abs() > INT64_EXACT_MAX as u64 { Int::Range } else { Int::Val(int) });
    }
    if is_int_literal(t) {
        let i = int_literal(t)?;
        return Ok(if i.unsigned_abs() > INT64_EXACT_MAX as u64 { Int::Range } else { Int::Val(i) });
    }
    let f: f64 = t.parse().map_err(|_| Fallback("an unreadable number"))?;
    if !f.is_finite() {
        return Err(Fallback("a number beyond the double range"));
    }
    if f.fract() != 0.0 {
        return Ok(Int::NotInt);
    }
    if f.abs() > INT64_EXACT_MAX {
        return Ok(Int::Range);
    }
    Ok(Int::Val(f as i64))
}

/// A float64 field's number (no negative zero: DuckDB and `JSON.parse` may differ on it).
pub fn float_value(t: &str, int: i64) -> Result<f64, Fallback> {
    if int != NOT_INT && !(int == 0 && t.starts_with('-')) {
        return Ok(int as f64);
    }
    if is_int_literal(t) {
        if t == "-0" {
            return Err(Fallback("a negative zero"));
        }
        // Exact, or rounded to the nearest double as the decimal text would be.
        return Ok(int_literal(t)? as f64);
    }
    let f: f64 = t.parse().map_err(|_| Fallback("an unreadable number"))?;
    if !f.is_finite() {
        return Err(Fallback("a number beyond the double range"));
    }
    if f == 0.0 && f.is_sign_negative() {
        return Err(Fallback("a negative zero"));
    }
    Ok(f)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Num(..) => "number",
        Value::Str(_) => "string",
        Value::Arr(_) => "array",
        Value::Obj(_) => "object",
    }
}

fn utf16_len(s: &str) -> usize {
    // UTF-16 units: one per code point, two for those beyond U+FFFF (4-byte UTF-8 sequences).
    let b = s.as_bytes();
    let mut n = 0;
    for &c in b {
        if (c & 0xC0) != 0x80 {
            n += 1;
            if c >= 0xF0 {
                n += 1;
            }
        }
    }
    n
}

/// The first of a number field's checks `v` fails, or `None`.
pub fn number_checks(f: &Node, v: f64) -> Option<String> {
    for c in &f.checks {
        let bad = match c.op {
            Op::Finite => !v.is_finite(),
            Op::Min => v < c.n,
            Op::MinEx => v <= c.n,
            Op::Max => v > c.n,
            Op::MaxEx => v >= c.n,
            _ => false,
        };
        if bad {
            return Some(c.msg.clone());
        }
    }
    None
}

/// The reason for a value of the wrong JSON type.
pub fn wrong(f: &Node, v: &Value) -> String {
    format!("{}{}", f.wrong, type_name(v))
}

/// The first problem of string `s` of field `f` (its enum, then its length checks), or `None`.
pub fn str_problem(f: &Node, s: &str) -> Result<Option<String>, Fallback> {
    if let Some(values) = &f.enum_values {
        if !values.iter().any(|x| bytes::eq(x.as_bytes(), s.as_bytes())) {
            if s.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\' || c == 0x7f) {
                return Err(Fallback("an enum reason quoting a string with escapes"));
            }
            return Ok(Some(format!("{}\"{}\"{}", f.enum_pre, s, f.enum_post)));
        }
    }
    if !f.checks.is_empty() {
        // UTF-16 units: at least a quarter of the UTF-8 bytes, at most all of them.
        let quarter = s.len().div_ceil(4) as f64; // (b / 4).ceil() without a libm call
        if quarter >= f.min_units && s.len() as f64 <= f.max_units {
            return Ok(None);
        }
        let n = utf16_len(s) as f64;
        for c in &f.checks {
            let bad = match c.op {
                Op::MinLength => n < c.n,
                Op::MaxLength => n > c.n,
                _ => false,
            };
            if bad {
                return Ok(Some(c.msg.clone()));
            }
        }
    }
    Ok(None)
}

/// The first of an array field's item-count checks `n` items fail, or `None`.
pub fn items_problem(f: &Node, n: usize) -> Option<String> {
    let n = n as f64;
    for c in &f.checks {
        let bad = match c.op {
            Op::MinItems => n < c.n,
            Op::MaxItems => n > c.n,
            _ => false,
        };
        if bad {
            return Some(c.msg.clone());
        }
    }
    None
}
