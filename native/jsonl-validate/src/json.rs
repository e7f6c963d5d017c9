//! A strict JSON parser (RFC 8259, what `JSON.parse` accepts) into a borrowed value tree.
//! Numbers stay as their text (integer literals of up to 18 digits also read); strings are decoded (borrowed when they hold no escape).

use std::borrow::Cow;

#[derive(Debug)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// A number's text, and its value when the text is an integer literal of at most 18
    /// digits (read exactly as an i64), else [`NOT_INT`].
    Num(&'a str, i64),
    Str(Cow<'a, str>),
    Arr(Vec<Value<'a>>),
    Obj(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// Why a text was not parsed: not JSON (the current path says `invalid JSON` too), or a text
/// whose reading by DuckDB this parser does not mirror (the whole file then goes to DuckDB).
#[derive(Debug)]
pub enum Error {
    Invalid,
    Fallback(&'static str),
}

const MAX_DEPTH: usize = 64;

/// [`Value::Num`]'s value for a number that is not an integer literal of at most 18 digits.
pub const NOT_INT: i64 = i64::MIN;

/// The JSON number starting at `b[start]`: where it ends and, for an integer literal of at most
/// 18 digits, its value (else [`NOT_INT`]); `None` when the bytes there are not a JSON number.
/// Shared by the generic parser and the direct path (`direct.rs`), which read numbers alike.
#[inline(always)]
pub fn scan_number(b: &[u8], start: usize) -> Option<(usize, i64)> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = i;
    let mut int: i64 = 0;
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                // Wrapping: beyond 18 digits the value is not kept (NOT_INT below).
                int = int.wrapping_mul(10).wrapping_add((c - b'0') as i64);
                i += 1;
            }
        }
        _ => return None,
    }
    if i - digits > 18 {
        int = NOT_INT;
    } else if digits > start {
        int = -int;
    }
    if b.get(i) == Some(&b'.') {
        int = NOT_INT;
        i = digit_run(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        int = NOT_INT;
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digit_run(b, i)?;
    }
    Some((i, int))
}

/// Where the run of digits starting at `b[i]` ends; `None` when there is no digit there (a
/// fraction or an exponent needs one).
#[inline(always)]
fn digit_run(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    (i > start).then_some(i)
}

/// The bytes that end a run of plain string content: `"`, `\\` and control bytes.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first byte from `i` on that ends a run of plain string content
/// ([`SPECIAL`]), or `b.len()`: 16 bytes at a time (SSE2, every x86-64 has it), the last ones in
/// one overlapping load.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn special(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    let n = b.len();
    if n < 16 {
        return i + b[i..].iter().position(|&c| SPECIAL[c as usize]).unwrap_or(n - i);
    }
    // SAFETY: every load reads 16 bytes inside `b` (i + 16 <= n, or n - 16 >= 0).
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let ctl = _mm_set1_epi8(0x1f);
        let mask = |x: __m128i| -> u32 {
            let m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                // x <= 0x1f (unsigned): min(x, 0x1f) == x
                _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x),
            );
            _mm_movemask_epi8(m) as u32
        };
        while i + 16 <= n {
            let m = mask(_mm_loadu_si128(b.as_ptr().add(i) as *const __m128i));
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i < n {
            // The last 16 bytes; those before `i` (already scanned) masked off.
            let m = mask(_mm_loadu_si128(b.as_ptr().add(n - 16) as *const __m128i)) >> (i + 16 - n);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
        }
    }
    n
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn special(b: &[u8], i: usize) -> usize {
    i + b[i..].iter().position(|&c| SPECIAL[c as usize]).unwrap_or(b.len() - i)
}

type Entry<'a> = (Cow<'a, str>, Value<'a>);

/// Emptied object and array vectors, kept from line to line so that parsing a line allocates
/// nothing but the strings holding escapes.
#[derive(Default)]
pub struct Pool {
    objects: Vec<Vec<Entry<'static>>>,
    arrays: Vec<Vec<Value<'static>>>,
    /// Whether a string was decoded into an allocation (it held an escape) since the last
    /// [`Pool::recycle`].
    owned: bool,
}

/// An emptied vector of `T` turned into one of `U`, its allocation kept.
///
/// SAFETY: `T` and `U` must be the same type but for lifetimes (the same layout); the vector is
/// emptied first, so no value of one lifetime is read as one of another.
unsafe fn relabel<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    let mut v = std::mem::ManuallyDrop::new(v);
    Vec::from_raw_parts(v.as_mut_ptr() as *mut U, 0, v.capacity())
}

impl Pool {
    /// Gives the vectors of `v`'s objects and arrays back, emptied, for the next lines.
    pub fn recycle(&mut self, v: Value) {
        let plain = !std::mem::take(&mut self.owned);
        self.give(v, plain);
    }

    /// `plain`: no string of `v` owns an allocation.
    fn give(&mut self, v: Value, plain: bool) {
        match v {
            Value::Obj(mut o) => {
                for (_, x) in o.iter_mut() {
                    if matches!(x, Value::Obj(_) | Value::Arr(_)) {
                        self.give(std::mem::replace(x, Value::Null), plain);
                    }
                }
                if plain {
                    // SAFETY: what is left (borrowed strings, numbers, literals, nulls where the
                    // objects and arrays were) owns nothing: not dropping it leaks nothing.
                    unsafe { o.set_len(0) };
                }
                // SAFETY: the same entry type, another lifetime.
                self.objects.push(unsafe { relabel(o) });
            }
            Value::Arr(mut a) => {
                for x in a.iter_mut() {
                    if matches!(x, Value::Obj(_) | Value::Arr(_)) {
                        self.give(std::mem::replace(x, Value::Null), plain);
                    }
                }
                if plain {
                    // SAFETY: as above.
                    unsafe { a.set_len(0) };
                }
                // SAFETY: as above.
                self.arrays.push(unsafe { relabel(a) });
            }
            _ => {}
        }
    }
}

pub struct Parser<'a, 'p> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    pool: &'p mut Pool,
}

pub fn parse(s: &str) -> Result<Value<'_>, Error> {
    parse_with(s, &mut Pool::default())
}

/// [`parse`], taking vectors from `pool` (give them back with [`Pool::recycle`]).
pub fn parse_with<'a>(s: &'a str, pool: &mut Pool) -> Result<Value<'a>, Error> {
    let mut p = Parser { s, b: s.as_bytes(), pos: 0, depth: 0, pool };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(Error::Invalid);
    }
    Ok(v)
}

/// Where the JSON value starting at byte `pos` of `s` ends, read as [`parse`] reads a value
/// inside `depth` objects and arrays; or why it cannot be read.
pub fn value_end(s: &str, pos: usize, depth: usize) -> Result<usize, Error> {
    let mut pool = Pool::default();
    let mut p = Parser { s, b: s.as_bytes(), pos, depth, pool: &mut pool };
    p.value()?;
    Ok(p.pos)
}

impl<'a> Parser<'a, '_> {
    /// The text from `a` to `b`, both at ASCII bytes (quotes, backslashes, a number's ends) or
    /// the text's end: on character boundaries.
    #[inline(always)]
    fn slice(&self, a: usize, b: usize) -> &'a str {
        debug_assert!(self.s.is_char_boundary(a) && self.s.is_char_boundary(b));
        // SAFETY: a <= b <= len on character boundaries (above), so the bytes are UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.b.get_unchecked(a..b)) }
    }

    #[inline(always)]
    fn ws(&mut self) {
        // Most tokens follow one another without space.
        if self.b.get(self.pos).is_some_and(|&c| c > b' ') {
            return;
        }
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b' ' | b'\t' | b'\n' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn value(&mut self) -> Result<Value<'a>, Error> {
        let Some(&c) = self.b.get(self.pos) else { return Err(Error::Invalid) };
        match c {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => Ok(Value::Str(self.string()?)),
            b't' => self.lit(b"true", Value::Bool(true)),
            b'f' => self.lit(b"false", Value::Bool(false)),
            b'n' => self.lit(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            0..=0x1f => Err(Error::Fallback("a control character")),
            _ => Err(Error::Invalid),
        }
    }

    fn lit(&mut self, word: &[u8], v: Value<'a>) -> Result<Value<'a>, Error> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(Error::Invalid)
        }
    }

    fn number(&mut self) -> Result<Value<'a>, Error> {
        let start = self.pos;
        let (end, int) = scan_number(self.b, start).ok_or(Error::Invalid)?;
        self.pos = end;
        Ok(Value::Num(self.slice(start, end), int))
    }

    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        // at '"'
        self.pos += 1;
        let start = self.pos;
        let b = self.b;
        let mut i = special(b, start);
        match b.get(i) {
            None => return Err(Error::Invalid),
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(self.slice(start, i)));
            }
            Some(b'\\') => {}
            Some(_) => return Err(Error::Fallback("a control character in a string")),
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.slice(start, i));
        loop {
            let Some(&c) = b.get(i) else { return Err(Error::Invalid) };
            match c {
                b'"' => {
                    self.pos = i + 1;
                    self.pool.owned = true;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    let Some(&e) = b.get(i + 1) else { return Err(Error::Invalid) };
                    i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4(i)?;
                            i += 4;
                            if (0xD800..0xDC00).contains(&hi) {
                                // A high surrogate must be followed by an escaped low one.
                                if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                                    let lo = self.hex4(i + 2)?;
                                    if (0xDC00..0xE000).contains(&lo) {
                                        i += 6;
                                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                        out.push(char::from_u32(cp).unwrap());
                                        continue;
                                    }
                                }
                                return Err(Error::Invalid);
                            }
                            if (0xDC00..0xE000).contains(&hi) {
                                return Err(Error::Invalid);
                            }
                            out.push(char::from_u32(hi).unwrap());
                        }
                        _ => return Err(Error::Invalid),
                    }
                }
                0..=0x1f => return Err(Error::Fallback("a control character in a string")),
                _ => {
                    // Copy the run up to the next quote or backslash.
                    let s = i;
                    i = special(b, i);
                    out.push_str(self.slice(s, i));
                }
            }
        }
    }

    fn hex4(&self, i: usize) -> Result<u32, Error> {
        let h = self.b.get(i..i + 4).ok_or(Error::Invalid)?;
        let mut v = 0u32;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(Error::Invalid),
            };
            v = v * 16 + d as u32;
        }
        Ok(v)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::Fallback("JSON nested deeper than 64"));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value<'a>, Error> {
        self.enter()?;
        self.pos += 1;
        let mut items: Vec<Value<'a>> = self.pool.arrays.pop().map(|v| unsafe { relabel(v) }).unwrap_or_default(); // SAFETY: empty, same type
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Arr(items));
                }
                _ => return Err(Error::Invalid),
            }
        }
    }

    fn object(&mut self) -> Result<Value<'a>, Error> {
        self.enter()?;
        self.pos += 1;
        let mut entries: Vec<Entry<'a>> = self.pool.objects.pop().map(|v| unsafe { relabel(v) }).unwrap_or_default(); // SAFETY: empty, same type
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Obj(entries));
        }
        loop {
            self.ws();
            if self.b.get(self.pos) != Some(&b'"') {
                return Err(Error::Invalid);
            }
            let k = self.string()?;
            self.ws();
            if self.b.get(self.pos) != Some(&b':') {
                return Err(Error::Invalid);
            }
            self.pos += 1;
            self.ws();
            let v = self.value()?;
            entries.push((k, v));
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Obj(entries));
                }
                _ => return Err(Error::Invalid),
            }
        }
    }
}
