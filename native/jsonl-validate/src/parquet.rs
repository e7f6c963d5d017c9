//! A small Parquet writer for the cache entry: DuckDB's schema conventions (every column
//! OPTIONAL; VARCHAR as BYTE_ARRAY + UTF8, BIGINT as INT64 + INT_64, lists in the three-level
//! LIST layout, maps as MAP / key_value with a REQUIRED key, structs as plain groups), one
//! PLAIN data page (v1, Snappy) per column chunk; levels and dictionary indices in the RLE /
//! bit-packed hybrid encoding.

use crate::bytes;
use crate::json::Value;
use crate::plan::{Kind, Node};
use crate::validate::{float_value, get, int_value, items_problem, no_repeated_keys, number_checks, slots, str_problem, wrong, Fallback, Int, MAX_SLOTS};
use std::io::{self, Write};

#[derive(Clone, Copy, PartialEq)]
enum PType {
    Bool = 0,
    Int64 = 2,
    Double = 5,
    Bytes = 6,
}

pub(crate) struct Leaf {
    path: Vec<String>,
    ptype: PType,
    max_def: u8,
    max_rep: u8,
    def: Vec<u8>,
    rep: Vec<u8>,
    data: Vec<u8>,
    bools: Vec<bool>,
    /// Strings: the chunk's dictionary while it pays (see [`Dict`]).
    dict: Dict,
    /// The lengths of `def`, `rep`, `data` and `bools` before the line being written (see
    /// [`Leaf::rollback`]).
    mark: [usize; 4],
}

/// A hash of a string's bytes (FxHash's multiply-rotate step, 8 bytes at a time).
#[inline]
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut b = bytes;
    while b.len() >= 8 {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b[..8].try_into().unwrap())).wrapping_mul(K);
        b = &b[8..];
    }
    if b.len() >= 4 {
        h = (h.rotate_left(5) ^ u32::from_le_bytes(b[..4].try_into().unwrap()) as u64).wrapping_mul(K);
        b = &b[4..];
    }
    for &x in b {
        h = (h.rotate_left(5) ^ x as u64).wrapping_mul(K);
    }
    h
}

/// A string column chunk's dictionary (DuckDB writes one when it pays: the entry is then about
/// as small, and as fast to read, as DuckDB's own): distinct values, in order of first use, and
/// each value's index. Given up for the rest of the chunk (the values written PLAIN) when more
/// than half the values are distinct after the first 1,024, or the distinct values pass 4 MiB.
/// The lookup is an open-addressing table of (hash, index) pairs over the values' own bytes:
/// no allocation per value.
#[derive(Default)]
struct Dict {
    off: bool,
    /// Slots: the value's hash (high 32 bits) and its index + 1 (low 32; 0: empty).
    table: Vec<u64>,
    /// PLAIN-encoded distinct values, and where each starts.
    values: Vec<u8>,
    starts: Vec<u32>,
    indices: Vec<u32>,
    /// The last value's bytes in `values`, and its index.
    last: (usize, usize),
    last_index: u32,
    /// Before the line being written: how many indices, and whether the dictionary was off;
    /// when it goes off during the line, the PLAIN data's length for those indices.
    mark: usize,
    mark_off: bool,
    mark_plain: usize,
}

impl Dict {
    /// The distinct value `i`'s bytes.
    #[inline]
    fn value(&self, i: usize) -> &[u8] {
        let at = self.starts[i] as usize;
        let len = u32::from_le_bytes(self.values[at..at + 4].try_into().unwrap()) as usize;
        &self.values[at + 4..at + 4 + len]
    }

    fn grow(&mut self) {
        let cap = (self.table.len() * 2).max(1024);
        let mut table = vec![0u64; cap];
        for &slot in &self.table {
            if slot != 0 {
                let mut j = (slot >> 32) as usize & (cap - 1);
                while table[j] != 0 {
                    j = (j + 1) & (cap - 1);
                }
                table[j] = slot;
            }
        }
        self.table = table;
    }

    /// Adds `s`; false when the dictionary is (now) off and `s` goes to the PLAIN data.
    fn add(&mut self, s: &[u8], data: &mut Vec<u8>) -> bool {
        if self.off {
            return false;
        }
        // The same value as the last one (a file's `__file` on every row, runs of a platform):
        // no hashing.
        if !self.indices.is_empty() && bytes::eq(&self.values[self.last.0..self.last.1], s) {
            self.indices.push(self.last_index);
            return true;
        }
        if self.starts.len() * 2 >= self.table.len() {
            self.grow();
        }
        let h = (hash(s) >> 32) as u32; // the high bits: they depend on every byte
        let mask = self.table.len() - 1;
        let mut j = h as usize & mask;
        let i = loop {
            let slot = self.table[j];
            if slot == 0 {
                let i = self.starts.len() as u32;
                self.starts.push(self.values.len() as u32);
                self.values.extend_from_slice(&(s.len() as u32).to_le_bytes());
                self.values.extend_from_slice(s);
                self.table[j] = ((h as u64) << 32) | (i as u64 + 1);
                break i;
            }
            if (slot >> 32) as u32 == h {
                let i = (slot as u32) - 1;
                if bytes::eq(self.value(i as usize), s) {
                    break i;
                }
            }
            j = (j + 1) & mask;
        };
        self.indices.push(i);
        let at = self.starts[i as usize] as usize + 4;
        self.last = (at, at + s.len());
        self.last_index = i;
        let n = self.indices.len();
        if (n >= 1024 && self.starts.len() * 2 > n) || self.values.len() > 4 << 20 {
            // Off: the values so far become PLAIN data.
            for (k, &i) in self.indices.iter().enumerate() {
                if k == self.mark {
                    self.mark_plain = data.len();
                }
                let at = self.starts[i as usize] as usize;
                let len = u32::from_le_bytes(self.values[at..at + 4].try_into().unwrap()) as usize;
                data.extend_from_slice(&self.values[at..at + 4 + len]);
            }
            if self.mark >= self.indices.len() {
                self.mark_plain = data.len();
            }
            self.clear();
            self.off = true;
        }
        true
    }
    fn clear(&mut self) {
        self.off = false;
        self.table.iter_mut().for_each(|x| *x = 0);
        self.values.clear();
        self.starts.clear();
        self.indices.clear();
    }
}

impl Leaf {
    /// Notes the lengths before a line, for [`Leaf::rollback`].
    #[inline]
    fn mark(&mut self) {
        self.mark = [self.def.len(), self.rep.len(), self.data.len(), self.bools.len()];
        self.dict.mark = self.dict.indices.len();
        self.dict.mark_off = self.dict.off;
    }
    /// Takes back what the line written since [`Leaf::mark`] added (a line rejected midway).
    /// Distinct values it added stay in the dictionary, unused: the entry's rows are the same.
    fn rollback(&mut self) {
        let [def, rep, data, bools] = self.mark;
        self.def.truncate(def);
        self.rep.truncate(rep);
        self.bools.truncate(bools);
        if self.dict.off && !self.dict.mark_off {
            // Off during the line: the data holds the earlier lines' values PLAIN, then this one's.
            self.data.truncate(self.dict.mark_plain);
        } else {
            self.data.truncate(data);
            if !self.dict.off {
                self.dict.indices.truncate(self.dict.mark);
            }
        }
    }
    #[inline]
    pub(crate) fn null(&mut self, def: u8, rep: u8) {
        self.def.push(def);
        if self.max_rep > 0 {
            self.rep.push(rep);
        }
    }
    #[inline]
    pub(crate) fn levels(&mut self, rep: u8) {
        self.def.push(self.max_def);
        if self.max_rep > 0 {
            self.rep.push(rep);
        }
    }
    #[inline]
    pub(crate) fn int(&mut self, rep: u8, i: i64) {
        self.levels(rep);
        self.data.extend_from_slice(&i.to_le_bytes());
    }
    #[inline]
    pub(crate) fn float(&mut self, rep: u8, x: f64) {
        self.levels(rep);
        self.data.extend_from_slice(&x.to_le_bytes());
    }
    #[inline]
    pub(crate) fn boolean(&mut self, rep: u8, b: bool) {
        self.levels(rep);
        self.bools.push(b);
    }
    pub(crate) fn bytes(&mut self, rep: u8, s: &[u8]) {
        self.levels(rep);
        if self.dict.add(s, &mut self.data) {
            return;
        }
        self.data.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.data.extend_from_slice(s);
    }
}

/// How a schema node is laid out: its leaves (in order) and, for lists and maps, its
/// repetition level.
pub(crate) struct Shape {
    pub(crate) leaves: std::ops::Range<usize>,
    pub(crate) rep: u8,
    pub(crate) children: Vec<Shape>,
}

struct SchemaElement {
    name: String,
    ptype: Option<PType>,
    repetition: i32, // 0 required, 1 optional, 2 repeated
    children: i32,
    converted: Option<i32>,
}

pub struct Writer<W: Write> {
    out: W,
    offset: u64,
    leaves: Vec<Leaf>,
    shapes: Vec<Shape>,
    schema: Vec<SchemaElement>,
    rows: u64,
    group_rows: u64,
    groups: Vec<Vec<u8>>, // encoded RowGroup structs
    file_name: Vec<u8>,
}

const UTF8: i32 = 0;
const MAP: i32 = 1;
const LIST: i32 = 3;
const INT_64: i32 = 18;

fn build(
    name: &str,
    n: &Node,
    path: &[String],
    def: u8,
    rep: u8,
    leaves: &mut Vec<Leaf>,
    schema: &mut Vec<SchemaElement>,
) -> Shape {
    let mut p = path.to_vec();
    p.push(name.to_string());
    let start = leaves.len();
    let leaf = |ptype: PType, converted: Option<i32>, leaves: &mut Vec<Leaf>, schema: &mut Vec<SchemaElement>| {
        schema.push(SchemaElement { name: name.into(), ptype: Some(ptype), repetition: 1, children: 0, converted });
        leaves.push(Leaf { path: p.clone(), ptype, max_def: def + 1, max_rep: rep, def: vec![], rep: vec![], data: vec![], bools: vec![], dict: Dict::default(), mark: [0; 4] });
        Shape { leaves: start..start + 1, rep, children: vec![] }
    };
    match n.kind {
        Kind::Str => leaf(PType::Bytes, Some(UTF8), leaves, schema),
        Kind::Int => leaf(PType::Int64, Some(INT_64), leaves, schema),
        Kind::Float => leaf(PType::Double, None, leaves, schema),
        Kind::Bool => leaf(PType::Bool, None, leaves, schema),
        Kind::Record => {
            schema.push(SchemaElement { name: name.into(), ptype: None, repetition: 1, children: n.fields.len() as i32, converted: None });
            let children = n.fields.iter().map(|(k, f)| build(k, f, &p, def + 1, rep, leaves, schema)).collect();
            Shape { leaves: start..leaves.len(), rep, children }
        }
        Kind::Array => {
            schema.push(SchemaElement { name: name.into(), ptype: None, repetition: 1, children: 1, converted: Some(LIST) });
            schema.push(SchemaElement { name: "list".into(), ptype: None, repetition: 2, children: 1, converted: None });
            let mut lp = p.clone();
            lp.push("list".into());
            let el = build("element", n.inner.as_deref().unwrap(), &lp, def + 2, rep + 1, leaves, schema);
            Shape { leaves: start..leaves.len(), rep: rep + 1, children: vec![el] }
        }
        Kind::Map => {
            schema.push(SchemaElement { name: name.into(), ptype: None, repetition: 1, children: 1, converted: Some(MAP) });
            schema.push(SchemaElement { name: "key_value".into(), ptype: None, repetition: 2, children: 2, converted: None });
            let mut kp = p.clone();
            kp.push("key_value".into());
            let mut key_path = kp.clone();
            key_path.push("key".into());
            schema.push(SchemaElement { name: "key".into(), ptype: Some(PType::Bytes), repetition: 0, children: 0, converted: Some(UTF8) });
            leaves.push(Leaf { path: key_path, ptype: PType::Bytes, max_def: def + 2, max_rep: rep + 1, def: vec![], rep: vec![], data: vec![], bools: vec![], dict: Dict::default(), mark: [0; 4] });
            let key = Shape { leaves: leaves.len() - 1..leaves.len(), rep: rep + 1, children: vec![] };
            let val = build("value", n.inner.as_deref().unwrap(), &kp, def + 2, rep + 1, leaves, schema);
            Shape { leaves: start..leaves.len(), rep: rep + 1, children: vec![key, val] }
        }
    }
}

const ROW_GROUP_ROWS: u64 = 122_880;

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, fields: &[(String, Node)], file_name: &str) -> io::Result<Self> {
        let mut leaves = Vec::new();
        let mut schema = vec![SchemaElement { name: "duckdb_schema".into(), ptype: None, repetition: 0, children: fields.len() as i32 + 2, converted: None }];
        let mut shapes = Vec::new();
        let str_node = Node { kind: Kind::Str, missing: None, wrong: String::new(), range: String::new(), enum_values: None, enum_pre: String::new(), enum_post: String::new(), checks: vec![], min_units: 0.0, max_units: f64::INFINITY, key: vec![], fields: vec![], inner: None };
        for name in ["__file", "__reason"] {
            shapes.push(build(name, &str_node, &[], 0, 0, &mut leaves, &mut schema));
        }
        for (k, f) in fields {
            shapes.push(build(k, f, &[], 0, 0, &mut leaves, &mut schema));
        }
        out.write_all(b"PAR1")?;
        Ok(Writer { out, offset: 4, leaves, shapes, schema, rows: 0, group_rows: 0, groups: vec![], file_name: file_name.as_bytes().to_vec() })
    }

    fn nulls(&mut self, shape: usize, def: u8, rep: u8) {
        let r = self.shapes[shape].leaves.clone();
        for l in &mut self.leaves[r] {
            l.null(def, rep);
        }
    }

    fn end_row(&mut self) -> io::Result<()> {
        self.rows += 1;
        self.group_rows += 1;
        if self.group_rows >= ROW_GROUP_ROWS {
            self.flush_group()?;
        }
        Ok(())
    }

    /// The row's `__file`: the same value on every row, so after the row group's first the
    /// dictionary's last index again, without comparing the bytes.
    #[inline]
    fn file(&mut self) {
        let l = &mut self.leaves[0];
        if !l.dict.off && !l.dict.indices.is_empty() {
            l.levels(0);
            l.dict.indices.push(l.dict.last_index);
            return;
        }
        l.bytes(0, &self.file_name);
    }

    /// A rejected line: its reason, every field null.
    pub fn reject(&mut self, reason: &str) -> io::Result<()> {
        self.file();
        self.leaves[1].bytes(0, reason.as_bytes());
        for s in 2..self.shapes.len() {
            self.nulls(s, 0, 0);
        }
        self.end_row()
    }

    /// A line's object: its fields judged by the record-level rules (`validate.rs`, in schema
    /// order, the first problem's reason as DuckDB gives it) and written in the same walk. A
    /// valid record ends its row; with a problem, what its fields wrote is taken back and the
    /// reason returned (the caller writes the reject). A fallback leaves the file to DuckDB.
    pub fn record(&mut self, fields: &[(String, Node)], o: &[(std::borrow::Cow<str>, Value)]) -> Result<io::Result<Option<String>>, Fallback> {
        for l in &mut self.leaves[2..] {
            l.mark();
        }
        let shapes = std::mem::take(&mut self.shapes);
        let r = put_fields(&mut self.leaves, &shapes[2..], fields, o, 0, 0);
        self.shapes = shapes;
        if let Some(reason) = r? {
            for l in &mut self.leaves[2..] {
                l.rollback();
            }
            return Ok(Ok(Some(reason)));
        }
        self.file();
        self.leaves[1].null(0, 0);
        Ok(self.end_row().map(|_| None))
    }

    /// A line written by the direct path (`direct.rs`) when it is a valid record it decides:
    /// true; false (what it wrote taken back) when the generic path must decide the line.
    pub fn direct(&mut self, fields: &[(String, Node)], line: &[u8]) -> io::Result<bool> {
        for l in &mut self.leaves[2..] {
            l.mark();
        }
        if crate::direct::line(&mut self.leaves, &self.shapes[2..], fields, line).is_err() {
            for l in &mut self.leaves[2..] {
                l.rollback();
            }
            return Ok(false);
        }
        self.file();
        self.leaves[1].null(0, 0);
        self.end_row().map(|_| true)
    }

    fn flush_group(&mut self) -> io::Result<()> {
        if self.group_rows == 0 {
            return Ok(());
        }
        let mut chunks = Vec::new();
        let mut total = 0i64;
        for l in &mut self.leaves {
            let chunk_offset = self.offset;
            let mut usize_ = 0i64;
            let mut dict_offset = None;
            let dictionary = l.ptype == PType::Bytes && !l.dict.off && !l.dict.indices.is_empty();
            if dictionary {
                let (h, n) = page(&mut self.out, &mut self.offset, 2, &l.dict.values, |h| {
                    h.begin(7); // DictionaryPageHeader
                    h.i32(1, l.dict.starts.len() as i32);
                    h.i32(2, 0); // PLAIN
                    h.end();
                })?;
                dict_offset = Some(chunk_offset);
                usize_ += h + n;
            }
            let mut body = Vec::new();
            if l.max_rep > 0 {
                levels(&l.rep, bit_width(l.max_rep), &mut body);
            }
            levels(&l.def, bit_width(l.max_def), &mut body);
            if dictionary {
                let width = bit_width_u32(l.dict.starts.len() as u32 - 1).max(1);
                body.push(width as u8);
                hybrid(&l.dict.indices, width, &mut body);
            } else if l.ptype == PType::Bool {
                let mut byte = 0u8;
                for (i, &b) in l.bools.iter().enumerate() {
                    if b {
                        byte |= 1 << (i % 8);
                    }
                    if i % 8 == 7 {
                        body.push(byte);
                        byte = 0;
                    }
                }
                if l.bools.len() % 8 != 0 {
                    body.push(byte);
                }
            } else {
                body.extend_from_slice(&l.data);
            }
            let page_offset = self.offset;
            let values = l.def.len() as i32;
            let encoding = if dictionary { 8 } else { 0 }; // RLE_DICTIONARY or PLAIN
            let (h, n) = page(&mut self.out, &mut self.offset, 0, &body, |h| {
                h.begin(5); // DataPageHeader
                h.i32(1, values);
                h.i32(2, encoding);
                h.i32(3, 3); // RLE
                h.i32(4, 3); // RLE
                h.end();
            })?;
            usize_ += h + n;
            let size = (self.offset - chunk_offset) as i64;
            total += usize_;
            // ColumnChunk
            let mut c = Thrift::default();
            c.i64(2, chunk_offset as i64);
            c.begin(3); // ColumnMetaData
            c.i32(1, l.ptype as i32);
            if dictionary {
                c.list_i32(2, &[0, 3, 8]);
            } else {
                c.list_i32(2, &[0, 3]);
            }
            c.list_str(3, &l.path);
            c.i32(4, 1); // SNAPPY
            c.i64(5, l.def.len() as i64);
            c.i64(6, usize_);
            c.i64(7, size);
            c.i64(9, page_offset as i64);
            if let Some(d) = dict_offset {
                c.i64(11, d as i64);
            }
            // Statistics of top-level columns, as DuckDB writes them (its filters and row-group
            // pruning read them): nulls, and numbers' minimum and maximum.
            if l.path.len() == 1 {
                let nulls = l.def.iter().filter(|&&d| d < l.max_def).count() as i64;
                c.begin(12);
                let range = match l.ptype {
                    PType::Int64 => {
                        let v = l.data.chunks_exact(8).map(|x| i64::from_le_bytes(x.try_into().unwrap()));
                        v.clone().min().zip(v.max()).map(|(a, b)| (a.to_le_bytes(), b.to_le_bytes()))
                    }
                    PType::Double => l.data.chunks_exact(8).map(|x| f64::from_le_bytes(x.try_into().unwrap())).fold(None, |acc: Option<(f64, f64)>, x| {
                        Some(acc.map_or((x, x), |(a, b)| (a.min(x), b.max(x))))
                    }).map(|(a, b)| (a.to_le_bytes(), b.to_le_bytes())),
                    _ => None,
                };
                if let Some((min, max)) = range {
                    c.bin(1, &max);
                    c.bin(2, &min);
                    c.i64(3, nulls);
                    c.bin(5, &max);
                    c.bin(6, &min);
                } else {
                    c.i64(3, nulls);
                }
                c.end();
            }
            c.end();
            c.stop();
            chunks.push(c.buf);
            l.def.clear();
            l.rep.clear();
            l.data.clear();
            l.dict.clear();
            l.bools.clear();
        }
        let mut g = Thrift::default();
        g.list_structs(1, &chunks);
        g.i64(2, total);
        g.i64(3, self.group_rows as i64);
        g.stop();
        self.groups.push(g.buf);
        self.group_rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush_group()?;
        let mut m = Thrift::default();
        m.i32(1, 1);
        let elements: Vec<Vec<u8>> = self
            .schema
            .iter()
            .map(|e| {
                let mut s = Thrift::default();
                if let Some(t) = e.ptype {
                    s.i32(1, t as i32);
                }
                s.i32(3, e.repetition);
                s.bin(4, e.name.as_bytes());
                if e.ptype.is_none() {
                    s.i32(5, e.children);
                }
                if let Some(c) = e.converted {
                    s.i32(6, c);
                }
                s.stop();
                s.buf
            })
            .collect();
        m.list_structs(2, &elements);
        m.i64(3, self.rows as i64);
        m.list_structs(4, &self.groups);
        m.bin(6, b"larder jsonl-validate");
        m.stop();
        self.out.write_all(&m.buf)?;
        self.out.write_all(&(m.buf.len() as u32).to_le_bytes())?;
        self.out.write_all(b"PAR1")?;
        self.out.flush()?;
        Ok(self.rows)
    }
}

/// The fields of object `o` judged and written (see [`Writer::record`]): the first problem's
/// reason, or `None` when every field was written.
fn put_fields(leaves: &mut [Leaf], shapes: &[Shape], fields: &[(String, Node)], o: &[(std::borrow::Cow<str>, Value)], def: u8, rep: u8) -> Result<Option<String>, Fallback> {
    if fields.len() > MAX_SLOTS {
        for (i, (k, sub)) in fields.iter().enumerate() {
            if let Some(p) = put(leaves, &shapes[i], sub, get(o, k)?, def, rep)? {
                return Ok(Some(p));
            }
        }
        return Ok(None);
    }
    let mut s = [None; MAX_SLOTS];
    slots(o, fields, &mut s)?;
    for (i, (_, sub)) in fields.iter().enumerate() {
        if let Some(p) = put(leaves, &shapes[i], sub, s[i], def, rep)? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// Value `v` (absent: `None`) of field `f` judged and, when valid, written; its problem
/// otherwise (what it wrote before the problem is taken back by the caller).
fn put(leaves: &mut [Leaf], shape: &Shape, f: &Node, v: Option<&Value>, def: u8, rep: u8) -> Result<Option<String>, Fallback> {
    let v = match v {
        None | Some(Value::Null) => {
            if f.missing.is_some() {
                return Ok(f.missing.clone());
            }
            for l in &mut leaves[shape.leaves.clone()] {
                l.null(def, rep);
            }
            return Ok(None);
        }
        Some(v) => v,
    };
    let leaf = shape.leaves.start;
    match (f.kind, v) {
        (Kind::Str, Value::Str(s)) => {
            if f.enum_values.is_some() || !f.checks.is_empty() {
                if let Some(p) = str_problem(f, s)? {
                    return Ok(Some(p));
                }
            }
            leaves[leaf].bytes(rep, s.as_bytes());
        }
        (Kind::Int, Value::Num(t, i)) => match int_value(t, *i)? {
            Int::NotInt => return Ok(Some(wrong(f, v))),
            Int::Range => return Ok(Some(f.range.clone())),
            Int::Val(i) => {
                if let Some(p) = number_checks(f, i as f64) {
                    return Ok(Some(p));
                }
                leaves[leaf].int(rep, i);
            }
        },
        (Kind::Float, Value::Num(t, i)) => {
            let x = float_value(t, *i)?;
            if let Some(p) = number_checks(f, x) {
                return Ok(Some(p));
            }
            leaves[leaf].float(rep, x);
        }
        (Kind::Bool, Value::Bool(b)) => {
            leaves[leaf].boolean(rep, *b);
        }
        (Kind::Record, Value::Obj(o)) => return put_fields(leaves, &shape.children, &f.fields, o, def + 1, rep),
        (Kind::Array, Value::Arr(a)) => {
            if let Some(p) = items_problem(f, a.len()) {
                return Ok(Some(p));
            }
            if a.is_empty() {
                for l in &mut leaves[shape.leaves.clone()] {
                    l.null(def + 1, rep);
                }
                return Ok(None);
            }
            let inner = f.inner.as_deref().unwrap();
            for (i, x) in a.iter().enumerate() {
                let r = if i == 0 { rep } else { shape.rep };
                if let Some(p) = put(leaves, &shape.children[0], inner, Some(x), def + 2, r)? {
                    return Ok(Some(p));
                }
            }
        }
        (Kind::Map, Value::Obj(o)) => {
            no_repeated_keys(o)?;
            if o.is_empty() {
                for l in &mut leaves[shape.leaves.clone()] {
                    l.null(def + 1, rep);
                }
                return Ok(None);
            }
            let inner = f.inner.as_deref().unwrap();
            let key = shape.children[0].leaves.start;
            for (i, (k, x)) in o.iter().enumerate() {
                let r = if i == 0 { rep } else { shape.rep };
                leaves[key].bytes(r, k.as_bytes());
                if let Some(p) = put(leaves, &shape.children[1], inner, Some(x), def + 2, r)? {
                    return Ok(Some(p));
                }
            }
        }
        _ => return Ok(Some(wrong(f, v))),
    }
    Ok(None)
}

/// Writes a page (Snappy) of type `kind` (0 data, 2 dictionary) holding `body`, its header's
/// type-specific part written by `header`; returns the header's size and the body's.
fn page<W: Write>(out: &mut W, offset: &mut u64, kind: i32, body: &[u8], header: impl FnOnce(&mut Thrift)) -> io::Result<(i64, i64)> {
    let compressed = snap::raw::Encoder::new().compress_vec(body).map_err(io::Error::other)?;
    let mut h = Thrift::default();
    h.i32(1, kind);
    h.i32(2, body.len() as i32);
    h.i32(3, compressed.len() as i32);
    header(&mut h);
    h.stop();
    out.write_all(&h.buf)?;
    out.write_all(&compressed)?;
    *offset += (h.buf.len() + compressed.len()) as u64;
    Ok((h.buf.len() as i64, body.len() as i64))
}

fn bit_width_u32(max: u32) -> u32 {
    32 - max.leading_zeros()
}

fn bit_width(max: u8) -> u32 {
    8 - max.leading_zeros()
}

/// A value the hybrid encoding codes: a level or a dictionary index.
trait Coded: Copy + PartialEq + Into<u64> {
    /// Where the run of `v` that goes on at `j` in `values` ends.
    fn run_end(values: &[Self], mut j: usize, v: Self) -> usize {
        while j < values.len() && values[j] == v {
            j += 1;
        }
        j
    }
}

impl Coded for u32 {}

impl Coded for u8 {
    /// Long runs (a column without nulls) 16 levels at a time, in one 128-bit compare.
    fn run_end(values: &[u8], mut j: usize, v: u8) -> usize {
        let all = u128::from_ne_bytes([v; 16]);
        while j + 16 <= values.len() && u128::from_ne_bytes(values[j..j + 16].try_into().unwrap()) == all {
            j += 16;
        }
        while j < values.len() && values[j] == v {
            j += 1;
        }
        j
    }
}

/// Values in the RLE / bit-packed hybrid encoding, as DuckDB and other writers code them: a
/// repeated run of 8 values or more as an RLE run (a varint and the value), every other stretch
/// as bit-packed groups of 8 values (the last one padded with zeros; the page's value count
/// says where the values end). The map and list columns' levels alternate (a short run per
/// entry): RLE alone took ~2 bytes a run there and made the entry slower to read.
fn hybrid<T: Coded>(values: &[T], width: u32, out: &mut Vec<u8>) {
    let n = values.len();
    let bytes = width.div_ceil(8) as usize;
    // The start of the values not written yet (a bit-packed stretch in the making).
    let mut lit = 0;
    let mut i = 0;
    while i < n {
        let v = values[i];
        let j = T::run_end(values, i + 1, v);
        if j - i >= 8 {
            // The bit-packed stretch before the run ends on a group of 8: it takes the run's
            // first values when it must.
            let pad = (8 - (i - lit) % 8) % 8;
            if j - i - pad >= 8 {
                if i + pad > lit {
                    bit_packed(&values[lit..i + pad], width, out);
                }
                varint(((j - i - pad) as u64) << 1, out);
                out.extend_from_slice(&v.into().to_le_bytes()[..bytes]);
                lit = j;
            }
        }
        i = j;
    }
    if lit < n {
        bit_packed(&values[lit..], width, out);
    }
}

/// `values` as one bit-packed run of the hybrid encoding (padded to a multiple of 8 values).
fn bit_packed<T: Copy + Into<u64>>(values: &[T], width: u32, out: &mut Vec<u8>) {
    let groups = values.len().div_ceil(8);
    varint(((groups as u64) << 1) | 1, out);
    if width <= 8 {
        // A group of 8 in one 64-bit word.
        let group = |g: &[T], out: &mut Vec<u8>| {
            let mut acc: u64 = 0;
            for (k, &v) in g.iter().enumerate() {
                acc |= v.into() << (k as u32 * width);
            }
            out.extend_from_slice(&acc.to_le_bytes()[..width as usize]);
        };
        let mut chunks = values.chunks_exact(8);
        for g in &mut chunks {
            group(g, out);
        }
        if !chunks.remainder().is_empty() {
            group(chunks.remainder(), out);
        }
        return;
    }
    if width <= 16 {
        // A group of 8 in one 128-bit word.
        let group = |g: &[T], out: &mut Vec<u8>| {
            let mut acc: u128 = 0;
            for (k, &v) in g.iter().enumerate() {
                acc |= (v.into() as u128) << (k as u32 * width);
            }
            out.extend_from_slice(&acc.to_le_bytes()[..width as usize]);
        };
        let mut chunks = values.chunks_exact(8);
        for g in &mut chunks {
            group(g, out);
        }
        if !chunks.remainder().is_empty() {
            group(chunks.remainder(), out);
        }
        return;
    }
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for i in 0..groups * 8 {
        let v = values.get(i).map_or(0, |&v| v.into());
        acc |= v << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Levels in the hybrid encoding, after their 4-byte length.
fn levels(levels: &[u8], width: u32, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    hybrid(levels, width, out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Thrift's compact protocol, just what a Parquet footer and page header need.
#[derive(Default)]
struct Thrift {
    buf: Vec<u8>,
    last: Vec<i16>,
    cur: i16,
}

impl Thrift {
    fn field(&mut self, id: i16, t: u8) {
        let d = id - self.cur;
        if d > 0 && d <= 15 {
            self.buf.push(((d as u8) << 4) | t);
        } else {
            self.buf.push(t);
            varint(zigzag(id as i64), &mut self.buf);
        }
        self.cur = id;
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, 5);
        varint(zigzag(v as i64), &mut self.buf);
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, 6);
        varint(zigzag(v), &mut self.buf);
    }
    fn bin(&mut self, id: i16, b: &[u8]) {
        self.field(id, 8);
        varint(b.len() as u64, &mut self.buf);
        self.buf.extend_from_slice(b);
    }
    fn list_header(&mut self, n: usize, t: u8) {
        if n < 15 {
            self.buf.push(((n as u8) << 4) | t);
        } else {
            self.buf.push(0xF0 | t);
            varint(n as u64, &mut self.buf);
        }
    }
    fn list_i32(&mut self, id: i16, v: &[i32]) {
        self.field(id, 9);
        self.list_header(v.len(), 5);
        for &x in v {
            varint(zigzag(x as i64), &mut self.buf);
        }
    }
    fn list_str(&mut self, id: i16, v: &[String]) {
        self.field(id, 9);
        self.list_header(v.len(), 8);
        for x in v {
            varint(x.len() as u64, &mut self.buf);
            self.buf.extend_from_slice(x.as_bytes());
        }
    }
    /// A list of structs already encoded (each ends with its stop byte).
    fn list_structs(&mut self, id: i16, v: &[Vec<u8>]) {
        self.field(id, 9);
        self.list_header(v.len(), 12);
        for x in v {
            self.buf.extend_from_slice(x);
        }
    }
    fn begin(&mut self, id: i16) {
        self.field(id, 12);
        self.last.push(self.cur);
        self.cur = 0;
    }
    fn end(&mut self) {
        self.buf.push(0);
        self.cur = self.last.pop().unwrap();
    }
    fn stop(&mut self) {
        self.buf.push(0);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}
