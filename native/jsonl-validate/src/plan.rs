//! The schema as the TypeScript side hands it over (`offline/duckdb/native-validate.ts`): a
//! `RecordType` with every reason text already worded, so the messages are the TypeScript ones.

use crate::json::{self, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Map,
    Array,
    Record,
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    MinLength,
    MaxLength,
    Finite,
    Min,
    MinEx,
    Max,
    MaxEx,
    MinItems,
    MaxItems,
}

#[derive(Debug)]
pub struct Check {
    pub op: Op,
    pub n: f64,
    pub msg: String,
}

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    /// The reason when the value is absent or null; `None` when the field is nullable.
    pub missing: Option<String>,
    /// `field "x": expected int64, got ` (the JSON type's name follows).
    pub wrong: String,
    pub range: String,
    pub enum_values: Option<Vec<String>>,
    pub enum_pre: String,
    pub enum_post: String,
    pub checks: Vec<Check>,
    /// A string's length checks as two bounds on its UTF-8 bytes `b`: every check holds when
    /// `ceil(b / 4)` (its fewest UTF-16 units) is at least `min_units` and `b` (its most) at
    /// most `max_units` (none: `0` and infinity).
    pub min_units: f64,
    pub max_units: f64,
    /// As a record's field: its key as a line writes it, `"name":` (empty when the name holds
    /// a quote, a backslash or a control character, which a line writes escaped).
    pub key: Vec<u8>,
    pub fields: Vec<(String, Node)>,
    /// Map values, array items.
    pub inner: Option<Box<Node>>,
}

pub struct Plan {
    pub fields: Vec<(String, Node)>,
}

fn get<'v, 'a>(o: &'v [(std::borrow::Cow<'a, str>, Value<'a>)], k: &str) -> Option<&'v Value<'a>> {
    o.iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn text(v: Option<&Value>) -> Result<String, String> {
    match v {
        Some(Value::Str(s)) => Ok(s.to_string()),
        _ => Err("expected a string".into()),
    }
}

fn opt_text(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        Some(Value::Null) | None => Ok(None),
        other => text(other).map(Some),
    }
}

fn node(v: &Value) -> Result<Node, String> {
    let Value::Obj(o) = v else { return Err("a plan node is an object".into()) };
    let kind = match text(get(o, "kind"))?.as_str() {
        "string" => Kind::Str,
        "int64" => Kind::Int,
        "float64" => Kind::Float,
        "bool" => Kind::Bool,
        "map" => Kind::Map,
        "array" => Kind::Array,
        "record" => Kind::Record,
        k => return Err(format!("unknown kind {k}")),
    };
    let mut checks = Vec::new();
    if let Some(Value::Arr(cs)) = get(o, "checks") {
        for c in cs {
            let Value::Obj(c) = c else { return Err("a check is an object".into()) };
            let op = match text(get(c, "op"))?.as_str() {
                "minLength" => Op::MinLength,
                "maxLength" => Op::MaxLength,
                "finite" => Op::Finite,
                "min" => Op::Min,
                "minExclusive" => Op::MinEx,
                "max" => Op::Max,
                "maxExclusive" => Op::MaxEx,
                "minItems" => Op::MinItems,
                "maxItems" => Op::MaxItems,
                k => return Err(format!("unknown check {k}")),
            };
            let n = match get(c, "n") {
                Some(Value::Num(t, _)) => t.parse::<f64>().map_err(|e| e.to_string())?,
                _ => return Err("a check's n is a number".into()),
            };
            checks.push(Check { op, n, msg: text(get(c, "msg"))? });
        }
    }
    let enum_values = match get(o, "enum") {
        Some(Value::Arr(a)) => Some(
            a.iter().map(|x| text(Some(x))).collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    let fields = match get(o, "fields") {
        Some(f) => fields(f)?,
        None => Vec::new(),
    };
    let inner = match get(o, "inner") {
        Some(i) => Some(Box::new(node(i)?)),
        None => None,
    };
    if matches!(kind, Kind::Map | Kind::Array) && inner.is_none() {
        return Err("a map or array node has an inner node".into());
    }
    let min_units = checks.iter().filter(|c| matches!(c.op, Op::MinLength)).fold(0.0, |a: f64, c| a.max(c.n));
    let max_units = checks.iter().filter(|c| matches!(c.op, Op::MaxLength)).fold(f64::INFINITY, |a: f64, c| a.min(c.n));
    Ok(Node {
        kind,
        min_units,
        max_units,
        key: Vec::new(),
        missing: opt_text(get(o, "missing"))?,
        wrong: text(get(o, "wrong"))?,
        range: opt_text(get(o, "range"))?.unwrap_or_default(),
        enum_values,
        enum_pre: opt_text(get(o, "enumPre"))?.unwrap_or_default(),
        enum_post: opt_text(get(o, "enumPost"))?.unwrap_or_default(),
        checks,
        fields,
        inner,
    })
}

fn fields(v: &Value) -> Result<Vec<(String, Node)>, String> {
    let Value::Arr(a) = v else { return Err("fields are a list".into()) };
    a.iter()
        .map(|p| match p {
            Value::Arr(pair) if pair.len() == 2 => {
                let name = text(Some(&pair[0]))?;
                let mut n = node(&pair[1])?;
                if !name.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
                    n.key = [b"\"", name.as_bytes(), b"\":"].concat();
                }
                Ok((name, n))
            }
            _ => Err("a field is [name, node]".into()),
        })
        .collect()
}

pub fn parse(s: &str) -> Result<Plan, String> {
    let v = json::parse(s).map_err(|e| format!("the plan is not JSON: {e:?}"))?;
    let Value::Obj(o) = &v else { return Err("the plan is an object".into()) };
    let f = get(o, "fields").ok_or("the plan has fields")?;
    Ok(Plan { fields: fields(f)? })
}
