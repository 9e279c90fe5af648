use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Args;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct File {
    name: String,
    data: Bytes,
}

#[test]
fn top_level_shapes() {
    assert!(Args::from_serialize(&()).unwrap().is_empty());
    assert_eq!(Args::from_serialize(&"a").unwrap().values(), &[json!("a")]);
    assert_eq!(
        Args::from_serialize(&("a", 1)).unwrap().values(),
        &[json!("a"), json!(1)]
    );
    assert_eq!(
        Args::from_serialize(&vec![1, 2]).unwrap().values(),
        &[json!([1, 2])]
    );
    assert_eq!(
        Args::from_serialize(&((1, 2),)).unwrap().values(),
        &[json!([1, 2])]
    );
}

#[test]
fn results_send_ok_or_error_object() {
    let ok: Result<(&str, u8), String> = Ok(("OK", 1));
    assert_eq!(
        Args::from_serialize(&ok).unwrap().values(),
        &[json!("OK"), json!(1)]
    );
    let err: Result<u8, &str> = Err("nope");
    assert_eq!(
        Args::from_serialize(&err).unwrap().values(),
        &[json!({"error": "nope"})]
    );
}

#[test]
fn bytes_become_attachments_anywhere() {
    let file = File {
        name: "a.bin".into(),
        data: Bytes::from_static(&[1, 2, 3]),
    };
    let args = Args::from_serialize(&(&file, Bytes::from_static(b"x"))).unwrap();
    assert_eq!(
        args.values(),
        &[
            json!({"name": "a.bin", "data": {"_placeholder": true, "num": 0}}),
            json!({"_placeholder": true, "num": 1})
        ]
    );
    assert_eq!(args.attachments().len(), 2);
    let (back, x): (File, Bytes) = args.decode().unwrap();
    assert_eq!(back, file);
    assert_eq!(&x[..], b"x");
    let as_vec: Vec<u8> = args.get::<File>(0).map(|f| f.data.to_vec()).unwrap();
    assert_eq!(as_vec, vec![1, 2, 3]);
}

#[test]
fn decode_rules() {
    let args = Args::new(vec![json!("a"), json!(2)], vec![]);
    assert_eq!(args.decode::<String>().unwrap(), "a");
    assert_eq!(args.decode::<(String, u8)>().unwrap(), ("a".to_string(), 2));
    args.decode::<()>().unwrap();
    assert_eq!(args.get::<Option<String>>(5).unwrap(), None);
    let err = args.get::<u8>(0).unwrap_err();
    assert_eq!(err.index, Some(0));
    assert!(
        err.to_string().starts_with("argument 0 does not fit u8: "),
        "{err}"
    );
}

#[test]
fn missing_attachment_is_an_error_not_a_panic() {
    let args = Args::new(vec![json!({"_placeholder": true, "num": 3})], vec![]);
    assert!(args.get::<Bytes>(0).is_err());
}

#[test]
fn enums_and_maps() {
    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    enum Kind {
        A,
        B(u8),
        C { x: i32 },
    }
    let v = (Kind::A, Kind::B(1), Kind::C { x: -1 });
    let args = Args::from_serialize(&v).unwrap();
    assert_eq!(
        args.values(),
        &[json!("A"), json!({"B": 1}), json!({"C": {"x": -1}})]
    );
    assert_eq!(args.decode::<(Kind, Kind, Kind)>().unwrap(), v);
    let mut m = std::collections::BTreeMap::new();
    m.insert(1u32, "one");
    assert_eq!(
        Args::from_serialize(&m).unwrap().values(),
        &[json!({"1": "one"})]
    );
}

#[test]
fn null_is_an_argument_and_unit_is_none() {
    // `()` alone means "no argument"; a JSON null is one argument, at the top level and as
    // the Ok of a Result (a handler returning `Value::Null` acks `[null]`).
    assert!(Args::from_serialize(&()).unwrap().is_empty());
    assert!(Args::from_serialize(&Ok::<(), String>(()))
        .unwrap()
        .is_empty());
    for args in [
        Args::from_serialize(&serde_json::Value::Null).unwrap(),
        Args::from_serialize(&super::Value::Null).unwrap(),
        Args::from_serialize(&Ok::<_, String>(serde_json::Value::Null)).unwrap(),
        Args::from_serialize(&Ok::<_, String>(super::Value::Null)).unwrap(),
        Args::from_serialize(&None::<u8>).unwrap(),
    ] {
        assert_eq!(args.values(), &[json!(null)]);
    }
    // the fast path (straight to packet text) follows the same rule
    let mut out = Vec::new();
    assert!(super::write_json_args(&mut out, &serde_json::Value::Null).unwrap());
    assert_eq!(out, b"[null]");
}

#[test]
fn object_keys_keep_their_order() {
    let text = r#"[{"id":42,"body":{"z":1,"a":2},"alpha":true}]"#;
    let raw = Args::from_raw(super::RawArgs::parse(text).unwrap());
    for value in [
        raw.get::<serde_json::Value>(0).unwrap(),
        raw.values()[0].clone(),
        serde_json::Value::from(raw.get::<super::Value>(0).unwrap()),
    ] {
        assert_eq!(
            value.to_string(),
            r#"{"id":42,"body":{"z":1,"a":2},"alpha":true}"#
        );
    }
    let echoed = Args::from_serialize(&raw.get::<super::Value>(0).unwrap()).unwrap();
    assert_eq!(
        echoed.values()[0].to_string(),
        r#"{"id":42,"body":{"z":1,"a":2},"alpha":true}"#
    );
}

#[test]
fn dynamic_values_keep_binary() {
    use super::Value;
    let file = File {
        name: "a.bin".into(),
        data: Bytes::from_static(&[1, 2]),
    };
    let args = Args::from_serialize(&("x", file)).unwrap();
    // plain serde_json::Value: bytes as numbers (pure JSON keeps working)
    assert_eq!(
        args.get::<serde_json::Value>(1).unwrap(),
        json!({"name": "a.bin", "data": [1, 2]})
    );
    // Value: binary stays binary, at any depth, and goes out again as an attachment
    let value: Value = args.get(1).unwrap();
    assert_eq!(
        value.get("data"),
        Some(&Value::Binary(Bytes::from_static(&[1, 2])))
    );
    let relayed = Args::from_serialize(&value).unwrap();
    assert_eq!(relayed.attachments(), &[Bytes::from_static(&[1, 2])]);
    assert_eq!(
        relayed.values(),
        &[json!({"name": "a.bin", "data": {"_placeholder": true, "num": 0}})]
    );
    assert_eq!(
        relayed.get::<File>(0).unwrap().data,
        Bytes::from_static(&[1, 2])
    );
    // a top-level binary argument, and into typed bytes again
    let blob: Value = args
        .get(1)
        .map(|v: Value| v.get("data").unwrap().clone())
        .unwrap();
    assert_eq!(
        blob.deserialize_into::<Bytes>().unwrap(),
        Bytes::from_static(&[1, 2])
    );
    let all = Args::from_values([Value::from("a"), blob, Value::Null]);
    assert_eq!(
        all.values(),
        &[
            json!("a"),
            json!({"_placeholder": true, "num": 0}),
            json!(null)
        ]
    );
    assert_eq!(all.attachments().len(), 1);
}

#[test]
fn every_ack_argument_is_reachable() {
    use super::FromAck;
    let answer = Args::from_serialize(&("a", 1, Bytes::from_static(b"z"))).unwrap();
    let all = Args::from_ack(answer.clone()).unwrap();
    assert_eq!(all, answer);
    assert_eq!(String::from_ack(answer.clone()).unwrap(), "a");
    let (a, n): (String, u8) = FromAck::from_ack(answer).unwrap();
    assert_eq!((a.as_str(), n), ("a", 1));
}

#[test]
fn argument_errors_name_index_and_type_without_json_positions() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct ChatMsg {
        body: String,
    }
    let raw = Args::from_raw(super::RawArgs::parse(r#"["room", {"text": 1}, "x"]"#).unwrap());
    let err = raw.get::<ChatMsg>(1).unwrap_err();
    assert_eq!(err.index, Some(1));
    assert_eq!(
        err.to_string(),
        "argument 1 does not fit ChatMsg: missing field `body`"
    );
    let err = raw.get::<u32>(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"argument 2 does not fit u32: invalid type: string "x", expected u32"#
    );
    let err = raw.get::<Option<Vec<u8>>>(0).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("argument 0 does not fit Option<Vec<u8>>: "),
        "{err}"
    );
    assert!(!err.to_string().contains("line"), "{err}");
    // the same from values (a binary packet's arguments)
    let values = Args::new(vec![json!("x")], Vec::new());
    assert_eq!(
        values.get::<u32>(0).unwrap_err().to_string(),
        r#"argument 0 does not fit u32: invalid type: string "x", expected u32"#
    );
}

#[test]
fn short_type_names() {
    use super::de::short_type_name;
    assert_eq!(short_type_name("alloc::string::String"), "String");
    assert_eq!(
        short_type_name("core::option::Option<my_app::chat::Msg>"),
        "Option<Msg>"
    );
    assert_eq!(
        short_type_name("(alloc::string::String, u32, &str)"),
        "(String, u32, &str)"
    );
}
