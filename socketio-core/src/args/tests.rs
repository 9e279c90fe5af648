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
    assert!(err.to_string().starts_with("argument 0:"), "{err}");
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
