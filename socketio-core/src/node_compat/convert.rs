//! Between socketio-core's arguments ([`Args`], JSON with binary attachments) and the Node
//! adapters' values ([`Value`], msgpack-shaped with binary inline).

use rmpv::Value;

use crate::args::{Args, Value as Arg};
use crate::socket::SocketRef;

/// One argument as the Node adapters carry it: binary inline, a number with no fraction as an
/// integer (as notepack.io writes a JavaScript number), any other as a float 64.
pub fn to_node(arg: &Arg) -> Value {
    match arg {
        Arg::Null => Value::Nil,
        Arg::Bool(b) => Value::Boolean(*b),
        Arg::Number(n) => {
            if let Some(i) = n.as_u64() {
                Value::from(i)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::from(f as i64)
                } else {
                    Value::F64(f)
                }
            }
        }
        Arg::String(s) => Value::from(s.as_str()),
        Arg::Binary(b) => Value::Binary(b.to_vec()),
        Arg::Array(items) => Value::Array(items.iter().map(to_node).collect()),
        Arg::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_node(v)))
                .collect(),
        ),
    }
}

/// A Node value as an argument: binary stays binary, `NaN`/`Infinity` and extension values
/// (a `Date`, `undefined`) become `null`, map keys that are not strings are written as text.
pub fn from_node(value: &Value) -> Arg {
    match value {
        Value::Nil | Value::Ext(..) => Arg::Null,
        Value::Boolean(b) => Arg::Bool(*b),
        Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => Arg::Number(u.into()),
            (_, Some(s)) => Arg::Number(s.into()),
            _ => Arg::Null,
        },
        Value::F32(f) => float(f64::from(*f)),
        Value::F64(f) => float(*f),
        Value::String(s) => Arg::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Binary(b) => Arg::Binary(b.clone().into()),
        Value::Array(items) => Arg::Array(items.iter().map(from_node).collect()),
        Value::Map(entries) => Arg::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                        other => other.to_string(),
                    };
                    (key, from_node(v))
                })
                .collect(),
        ),
    }
}

fn float(f: f64) -> Arg {
    serde_json::Number::from_f64(f).map_or(Arg::Null, Arg::Number)
}

/// A JSON value (`socket.data`, a session's data) as a Node value.
pub fn json_to_node(json: &serde_json::Value) -> Value {
    serde_json::from_value::<Arg>(json.clone()).map_or(Value::Nil, |a| to_node(&a))
}

/// A Node value as JSON, as `JSON.stringify` would write it (binary as
/// `{"type":"Buffer","data":[..]}`).
pub fn node_to_json(value: &Value) -> serde_json::Value {
    serde_json::from_slice(&super::value::encode_json(value)).unwrap_or(serde_json::Value::Null)
}

/// Every argument of `args`, as Node values.
pub fn args_to_node(args: &Args) -> Vec<Value> {
    (0..args.len())
        .map(|i| args.get::<Arg>(i).map_or(Value::Nil, |a| to_node(&a)))
        .collect()
}

/// Node values as arguments.
pub fn args_from_node(values: &[Value]) -> Args {
    Args::from_values(values.iter().map(from_node))
}

/// `socket.handshake` as Node's fetchSockets answers carry it: [`crate::Handshake::to_json`]
/// as a Node value.
pub fn handshake_of(socket: &SocketRef) -> Value {
    json_to_node(&socket.handshake().to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_numbers_and_objects_cross_both_ways() {
        let args = Args::from_serialize(&(
            "a",
            2.0,
            -3,
            0.5,
            bytes::Bytes::from_static(&[1, 2]),
            serde_json::json!({"k": [true, null]}),
        ))
        .unwrap();
        let node = args_to_node(&args);
        assert_eq!(
            node,
            vec![
                Value::from("a"),
                Value::from(2),
                Value::from(-3),
                Value::F64(0.5),
                Value::Binary(vec![1, 2]),
                Value::Map(vec![(
                    Value::from("k"),
                    Value::Array(vec![Value::Boolean(true), Value::Nil])
                )]),
            ]
        );
        let back = args_from_node(&node);
        assert_eq!(back.attachments().len(), 1);
        assert_eq!(args_to_node(&back), node);
        // what JSON cannot hold becomes null instead of failing
        assert_eq!(from_node(&Value::F64(f64::NAN)), Arg::Null);
        assert_eq!(from_node(&Value::Ext(-1, vec![0; 4])), Arg::Null);
    }
}
