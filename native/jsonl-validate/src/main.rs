//! `jsonl-validate --plan <plan.json> --input <file.jsonl> --name <__file> --output <entry.parquet>`
//!
//! Validates a JSON Lines file against a Larder source schema (the plan written by
//! `offline/duckdb/native-validate.ts`) and writes the Parquet cache entry DuckDB's `COPY` would
//! (`offline/duckdb/jsonl-cache.ts`): `__file`, `__reason`, then every field, typed; rejected
//! lines have every field null. Prints `{"rows":N}` on success (exit 0). Exits 3, after one
//! `fallback: …` line on stderr, as soon as a line is one it cannot decide exactly as DuckDB
//! does (the caller then validates the file with DuckDB); 1 on any other failure. Lines end
//! at `\n` or `\r\n`; a byte order mark at the start of the file is dropped. Reports
//! `lines N` on stderr every 65,536 lines. Valid records go the direct way (`direct.rs`);
//! with `JSONL_VALIDATE_GENERIC` set, every line goes the generic way (the tests compare both).

mod bytes;
mod direct;
mod json;
mod parquet;
mod plan;
mod validate;

use std::io::{BufWriter, Read, Write};
use std::process::exit;

const FALLBACK: i32 = 3;
/// DuckDB's line reader (`read_csv`, `max_line_size`) refuses longer lines.
const MAX_LINE: usize = 16_777_216;

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1)
}

fn fallback(why: &str, line: u64) -> ! {
    eprintln!("fallback: {why} (line {line})");
    exit(FALLBACK)
}

/// Whether JavaScript's `trim()` empties `s` (the cache skips such lines).
fn js_blank(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}')
    })
}

/// The first `c` in `b`: 16 bytes at a time (SSE2), the last ones in one overlapping load.
#[cfg(target_arch = "x86_64")]
fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    use std::arch::x86_64::*;
    let n = b.len();
    if n < 16 {
        return b.iter().position(|&x| x == c);
    }
    // SAFETY: every load reads 16 bytes inside `b`.
    unsafe {
        let v = _mm_set1_epi8(c as i8);
        let mut i = 0;
        while i + 16 <= n {
            let m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(b.as_ptr().add(i) as *const __m128i), v)) as u32;
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
        if i < n {
            let m = (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(b.as_ptr().add(n - 16) as *const __m128i), v)) as u32) >> (i + 16 - n);
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
        }
    }
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

/// Whether `b` is ASCII: the high bits of 16 bytes at a time OR-ed, tested once.
#[cfg(target_arch = "x86_64")]
fn ascii(b: &[u8]) -> bool {
    use std::arch::x86_64::*;
    let n = b.len();
    if n < 16 {
        return b.is_ascii();
    }
    // SAFETY: every load reads 16 bytes inside `b`.
    unsafe {
        let mut acc = _mm_loadu_si128(b.as_ptr().add(n - 16) as *const __m128i);
        let mut i = 0;
        while i + 16 <= n {
            acc = _mm_or_si128(acc, _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i));
            i += 16;
        }
        _mm_movemask_epi8(acc) == 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn ascii(b: &[u8]) -> bool {
    b.is_ascii()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut plan_path, mut input, mut name, mut output) = (None, None, None, None);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| fail(&format!("{a} needs a value")));
        match a.as_str() {
            "--plan" => plan_path = Some(v),
            "--input" => input = Some(v),
            "--name" => name = Some(v),
            "--output" => output = Some(v),
            _ => fail(&format!("unknown argument {a}")),
        }
    }
    let (Some(plan_path), Some(input), Some(name), Some(output)) = (plan_path, input, name, output) else {
        fail("usage: jsonl-validate --plan <plan.json> --input <file> --name <__file> --output <parquet>")
    };
    let plan_text = std::fs::read_to_string(&plan_path).unwrap_or_else(|e| fail(&format!("{plan_path}: {e}")));
    let plan = plan::parse(&plan_text).unwrap_or_else(|e| fail(&e));
    if plan.fields.is_empty() {
        fallback("a schema without fields", 0);
    }
    let mut file = std::fs::File::open(&input).unwrap_or_else(|e| fail(&format!("{input}: {e}")));
    let out = std::fs::File::create(&output).unwrap_or_else(|e| fail(&format!("{output}: {e}")));
    let mut writer = parquet::Writer::new(BufWriter::with_capacity(1 << 20, out), &plan.fields, &name)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let direct = std::env::var_os("JSONL_VALIDATE_GENERIC").is_none();
    let mut pool = json::Pool::default();
    let mut n: u64 = 0;
    let stderr = std::io::stderr();
    // The file is read in large blocks; lines are validated where they lie in the block (the
    // partial last one moves to the front before the next read; the block grows for a longer one).
    let mut buf = vec![0u8; 1 << 22];
    let (mut start, mut len, mut eof) = (0usize, 0usize, false);
    loop {
        let mut line = match memchr(b'\n', &buf[start..len]) {
            Some(k) => {
                let mut line = &buf[start..start + k];
                start += k + 1;
                // CRLF: DuckDB's line reader ends the line at `\r\n` as at `\n` (any other CR
                // breaks lines there too, and falls back below).
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                line
            }
            None if eof => {
                if start == len {
                    break;
                }
                let line = &buf[start..len];
                start = len;
                line
            }
            None => {
                if len - start > MAX_LINE {
                    fallback("a line longer than 16 MiB", n + 1);
                }
                buf.copy_within(start..len, 0);
                len -= start;
                start = 0;
                if len == buf.len() {
                    buf.resize(buf.len() * 2, 0);
                }
                let got = file.read(&mut buf[len..]).unwrap_or_else(|e| fail(&e.to_string()));
                eof = got == 0;
                len += got;
                continue;
            }
        };
        n += 1;
        if n % 65_536 == 0 {
            let _ = writeln!(stderr.lock(), "lines {n}");
        }
        if line.len() > MAX_LINE {
            fallback("a line longer than 16 MiB", n);
        }
        // A byte order mark at the start of the file is not part of line 1 (DuckDB drops it).
        if n == 1 && line.starts_with(b"\xef\xbb\xbf") {
            line = &line[3..];
        }
        let text = if ascii(line) {
            // SAFETY: ASCII is UTF-8.
            unsafe { std::str::from_utf8_unchecked(line) }
        } else {
            let Ok(text) = std::str::from_utf8(line) else { fallback("a line that is not UTF-8", n) };
            text
        };
        if line.first() != Some(&b'{') && js_blank(text) {
            continue;
        }
        if text.starts_with('\u{feff}') {
            fallback("a byte order mark", n);
        }
        // Most lines are valid records: parsed straight into their columns (`direct.rs`); the
        // generic parse below decides any other, as before.
        if direct && line.first() == Some(&b'{') && writer.direct(&plan.fields, line).unwrap_or_else(|e| fail(&e.to_string())) {
            continue;
        }
        let parsed = json::parse_with(text, &mut pool);
        let result = match &parsed {
            Err(json::Error::Fallback(why)) => fallback(why, n),
            // A control byte (CR: DuckDB's line reader breaks the line there; NUL; U+001F, its
            // column delimiter; any other) leaves the line to DuckDB: the parser stops at the
            // first one outside a string, and at those inside strings (invalid to JSON.parse).
            Err(json::Error::Invalid) if line.iter().any(|&c| c < 0x20 && c != b'\t') => {
                fallback("a CR, NUL, U+001F or other control character", n)
            }
            Err(json::Error::Invalid) => writer.reject("invalid JSON"),
            Ok(json::Value::Obj(o)) => match writer.record(&plan.fields, o) {
                Err(e) => fallback(e.0, n),
                // Fields after the first problem are not judged: DuckDB's reason is that one too.
                Ok(Ok(Some(reason))) => writer.reject(&reason),
                Ok(r) => r.map(|_| ()),
            },
            Ok(_) => writer.reject("not a JSON object"),
        };
        result.unwrap_or_else(|e| fail(&e.to_string()));
        if let Ok(v) = parsed {
            pool.recycle(v);
        }
    }
    let rows = writer.finish().unwrap_or_else(|e| fail(&e.to_string()));
    println!("{{\"rows\":{rows}}}");
}
