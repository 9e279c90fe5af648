use super::*;
use serde_json::json;

fn hex(text: &str) -> Bytes {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

fn event(packet: &Packet) -> (&str, &Args) {
    match &packet.data {
        PacketData::Event(name, args) => (name, args),
        other => panic!("not an event: {other:?}"),
    }
}

/// Bytes socket.io-msgpack-parser 3.0.2 (notepack.io 2.2.0) wrote for the packets
/// socket.io-client 4.8 hands it (captured with node; see each comment for the JS packet).
#[test]
fn decodes_what_the_npm_parser_writes() {
    // {type: 0, data: undefined, nsp: "/"}: connect without auth
    let p = decode(&hex("83a47479706500a464617461d40000a36e7370a12f")).unwrap();
    assert_eq!(
        (p.kind, p.ns.as_ref(), &p.data),
        (PacketType::Connect, "/", &PacketData::Connect(None))
    );

    // {type: 0, data: {token: "abc", n: 1}, nsp: "/admin"}
    let p = decode(&hex(
        "83a47479706500a46461746182a5746f6b656ea3616263a16e01a36e7370a62f61646d696e",
    ))
    .unwrap();
    assert_eq!(p.ns, "/admin");
    assert_eq!(
        p.data,
        PacketData::Connect(Some(json!({"token": "abc", "n": 1})))
    );

    // {type: 2, data: ["ev", 1, 1.5, -3, "x", null, true, Buffer [1,2,255], {k: [2**40]}],
    //  options: {compress: true}, nsp: "/", id: 7}
    let p = decode(&hex(concat!(
        "85a47479706502a46461746199a2657601cb3ff8000000000000fda178c0c3c4030102ff81a16b91cf",
        "0000010000000000a76f7074696f6e7381a8636f6d7072657373c3a36e7370a12fa2696407"
    )))
    .unwrap();
    assert_eq!(p.id, Some(7));
    let (name, args) = event(&p);
    assert_eq!(name, "ev");
    assert_eq!(
        args.values(),
        &[
            json!(1),
            json!(1.5),
            json!(-3),
            json!("x"),
            json!(null),
            json!(true),
            json!({"_placeholder": true, "num": 0}),
            json!({"k": [1u64 << 40]}),
        ]
    );
    assert_eq!(args.attachments(), &[Bytes::from_static(&[1, 2, 255])]);
    // integers stay integers, floats floats
    assert!(args.values()[0].is_u64() && args.values()[1].is_f64() && args.values()[2].is_i64());
    assert_eq!(
        args.get::<crate::Value>(6).unwrap(),
        crate::Value::Binary(Bytes::from_static(&[1, 2, 255]))
    );

    // {type: 2, data: ["ev", ArrayBuffer [9,8], undefined, {a: undefined, b: 1},
    //  new Date(1700000000123)], nsp: "/"}
    let p = decode(&hex(concat!(
        "83a47479706502a46461746195a26576c702000908d4000082a161d40000a16201d7000000018bcfe568",
        "7ba36e7370a12f"
    )))
    .unwrap();
    let (_, args) = event(&p);
    assert_eq!(
        args.values(),
        &[
            json!({"_placeholder": true, "num": 0}),
            json!(null),
            json!({"b": 1}),
            json!("2023-11-14T22:13:20.123Z"),
        ]
    );
    assert_eq!(args.attachments(), &[Bytes::from_static(&[9, 8])]);

    // {type: 3, data: ["a", Buffer [7]], nsp: "/", id: 3}
    let p = decode(&hex(
        "84a47479706503a46461746192a161c40107a36e7370a12fa2696403",
    ))
    .unwrap();
    assert_eq!((p.kind, p.id), (PacketType::Ack, Some(3)));
    let PacketData::Ack(args) = &p.data else {
        panic!("not an ack")
    };
    assert_eq!(
        args.values(),
        &[json!("a"), json!({"_placeholder": true, "num": 0})]
    );
    assert_eq!(args.attachments(), &[Bytes::from_static(&[7])]);
}

/// What we write reads back as what was written, binary and number kinds included, with and
/// without an id, in any namespace.
#[test]
fn events_and_acks_round_trip() {
    let args = Args::from_values([
        crate::Value::from(json!({"a": [1, -2, 2.5, "s", null, false], "z": 0.0})),
        crate::Value::Binary(Bytes::from_static(b"\x00\xff")),
        crate::Value::from(json!(u64::MAX)),
        crate::Value::from(json!(i64::MIN)),
    ]);
    let (values, atts) = args.clone().into_parts();
    for (ns, id) in [("/", None), ("/chat", Some(0)), ("/x", Some(u64::MAX))] {
        let bytes = encode_event(ns, "news", &values, &atts, id);
        let p = decode(&bytes).unwrap();
        assert_eq!((p.ns.as_ref(), p.id), (ns, id));
        let (name, got) = event(&p);
        assert_eq!(name, "news");
        assert_eq!(got, &args);
        assert!(got.values()[0]["z"].is_f64(), "0.0 stays a float");

        let data = Value::Array(values.clone());
        let ack = encode(PacketType::Ack, ns, Some(5), Some(&data), &atts);
        let p = decode(&ack).unwrap();
        assert_eq!((p.kind, p.id), (PacketType::Ack, Some(5)));
        assert_eq!(p.data, PacketData::Ack(args.clone()));
    }
}

#[test]
fn numbers_take_their_kind_and_smallest_form() {
    let bytes = |v: Value| {
        let mut out = Vec::new();
        write_value(&mut out, &v, &[]);
        out
    };
    assert_eq!(bytes(json!(2)), [0x02]);
    assert_eq!(bytes(json!(-1)), [0xff]);
    assert_eq!(bytes(json!(300)), [0xcd, 0x01, 0x2c]);
    assert_eq!(bytes(json!(-200)), [0xd1, 0xff, 0x38]);
    assert_eq!(
        bytes(json!(u64::MAX)),
        [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    // a float is float 64 even without a fraction (notepack.io writes non-integers so)
    assert_eq!(bytes(json!(2.0)), [0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0]);
    // float 32 from other clients reads as a float
    let f32_packet = [
        &hex("83a47479706502a36e7370a12fa46461746192a26576")[..],
        &[0xca, 0x3f, 0xc0, 0, 0],
    ]
    .concat();
    let p = decode(&Bytes::from(f32_packet)).unwrap();
    assert_eq!(event(&p).1.values(), &[json!(1.5)]);
}

/// The packet the npm parser's `checkPacket` accepts for a server packet: a map with `type`
/// and `nsp` first, `data` and `id` only when present.
#[test]
fn writes_maps_the_npm_parser_checks() {
    let connect = encode(
        PacketType::Connect,
        "/",
        None,
        Some(&json!({"sid": "x"})),
        &[],
    );
    assert_eq!(
        &connect[..],
        &hex("83a47479706500a36e7370a12fa46461746181a3736964a178")[..]
    );
    let disconnect = encode(PacketType::Disconnect, "/a", None, None, &[]);
    assert_eq!(&disconnect[..], &hex("82a47479706501a36e7370a22f61")[..]);
    // a BINARY_* type never goes out: binary is inside the packet
    let ack = encode(PacketType::BinaryAck, "/", Some(1), Some(&json!([])), &[]);
    assert_eq!(ack[6], 3);
}

#[test]
fn ack_id_is_added_to_an_encoded_event() {
    let args = [json!("a"), json!({"_placeholder": true, "num": 0})];
    let atts = [Bytes::from_static(b"bin")];
    for ns in ["/", "/chat"] {
        let plain = encode_event(ns, "ev", &args, &atts, None);
        assert_eq!(
            with_ack_id(&plain, 42),
            Some(encode_event(ns, "ev", &args, &atts, Some(42)))
        );
    }
    assert_eq!(
        with_ack_id(&encode_event("/", "ev", &[], &[], Some(1)), 2),
        None
    );
    assert_eq!(
        with_ack_id(
            &encode(PacketType::Ack, "/", None, Some(&json!([])), &[]),
            2
        ),
        None
    );
    assert_eq!(with_ack_id(&[], 2), None);
}

#[test]
fn invalid_packets_are_clear_errors() {
    let head = |fields: &str| hex(fields);
    let cases: Vec<(Bytes, ParseError)> = vec![
        (hex(""), malformed("unexpected end of data")),
        (hex("92"), malformed("a packet is a msgpack map")),
        (hex("c1"), malformed("a packet is a msgpack map")),
        // truncated inside the map, a string cut short
        (hex("83a474797065"), malformed("unexpected end of data")),
        (
            hex("81a474797065d9ff61"),
            malformed("unexpected end of data"),
        ),
        (hex("81a474797065c1"), malformed("reserved byte 0xc1")),
        // invalid UTF-8 in a string
        (
            hex("81a4747970ff00"),
            malformed("a string is not valid UTF-8"),
        ),
        // an array as a map key
        (
            hex("819000"),
            malformed("a map key is not a string or a number"),
        ),
        // trailing bytes
        (
            hex("82a47479706501a36e7370a12f00"),
            malformed("1 bytes after the packet"),
        ),
        // {type: 4}: a client may not send CONNECT_ERROR; 5 and "2" are unknown
        (
            head("82a47479706504a36e7370a12f"),
            ParseError::ClientConnectError,
        ),
        (head("82a47479706505a36e7370a12f"), ParseError::UnknownType),
        (
            head("82a474797065a132a36e7370a12f"),
            ParseError::UnknownType,
        ),
        (head("81a36e7370a12f"), ParseError::UnknownType),
        // nsp missing or not a string
        (head("81a47479706501"), ParseError::Namespace),
        (head("82a47479706501a36e737001"), ParseError::Namespace),
        // id negative, fractional
        (
            head("83a47479706503a36e7370a12fa26964ff"),
            ParseError::AckId,
        ),
        (
            head("83a47479706503a36e7370a12fa26964cb3ff8000000000000"),
            ParseError::AckId,
        ),
        // data of the wrong shape: CONNECT with an array, DISCONNECT with data, EVENT
        // without name or with a reserved one, ACK without id
        (
            head("83a47479706500a36e7370a12fa46461746190"),
            ParseError::Payload,
        ),
        (
            head("83a47479706501a36e7370a12fa46461746190"),
            ParseError::Payload,
        ),
        (head("82a47479706502a36e7370a12f"), ParseError::Payload),
        (
            head("83a47479706502a36e7370a12fa46461746190"),
            ParseError::Payload,
        ),
        (
            head("83a47479706502a36e7370a12fa46461746191c3"),
            ParseError::Payload,
        ),
        (
            head("83a47479706502a36e7370a12fa46461746191a7636f6e6e656374"),
            ParseError::Payload,
        ),
        (
            head("83a47479706503a36e7370a12fa46461746190"),
            ParseError::Payload,
        ),
    ];
    for (bytes, err) in cases {
        assert_eq!(decode(&bytes), Err(err), "{bytes:02x?}");
    }
    // the message says what is wrong
    assert_eq!(
        decode(&hex("c1")).unwrap_err().to_string(),
        "invalid msgpack packet: a packet is a msgpack map"
    );
}

/// A declared length is not trusted: 4 G entries, elements or bytes announced by a few bytes
/// reserve nothing (reserving them would abort the process) and end in an error.
#[test]
fn huge_declared_lengths_reserve_nothing() {
    for bytes in [
        "dfffffffff",                                         // map 32
        "81a474797065ddffffffff",                             // array 32
        "81a474797065dbffffffff",                             // str 32
        "81a474797065c6ffffffff",                             // bin 32
        "81a474797065c9ffffffff00",                           // ext 32
        "83a47479706502a36e7370a12fa464617461ddfffffff0c0c0", // array 32, three elements there
    ] {
        assert_eq!(
            decode(&hex(bytes)),
            Err(malformed("unexpected end of data")),
            "{bytes}"
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = |levels: usize| {
        let mut out = hex("83a47479706502a36e7370a12fa4646174619201").to_vec();
        out.extend(std::iter::repeat_n(0x91, levels));
        out.push(0xc0);
        Bytes::from(out)
    };
    assert!(decode(&deep(MAX_DEPTH - 2)).is_ok());
    assert_eq!(
        decode(&deep(100_000)),
        Err(malformed(format!("nested deeper than {MAX_DEPTH} levels")))
    );
}

/// Binary in a CONNECT's auth object reads as byte numbers (the auth is plain JSON).
#[test]
fn binary_in_auth_reads_as_numbers() {
    let auth = json!({"key": {"_placeholder": true, "num": 0}});
    let bytes = encode(
        PacketType::Connect,
        "/",
        None,
        Some(&auth),
        &[Bytes::from_static(&[1, 2])],
    );
    assert_eq!(
        decode(&bytes).unwrap().data,
        PacketData::Connect(Some(json!({"key": [1, 2]})))
    );
}

#[test]
fn dates_read_as_date_to_json() {
    for (ms, text) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
        (-62_198_755_200_000, "-000001-01-01T00:00:00.000Z"),
        (8_640_000_000_000_000, "+275760-09-13T00:00:00.000Z"),
    ] {
        assert_eq!(js_date_json(ms).as_deref(), Some(text), "{ms}");
    }
    assert_eq!(js_date_json(8_640_000_000_000_001), None);
    assert_eq!(js_date_json(i64::MIN), None);
}

/// Other extension types read as notepack.io reads them: `[type, binary]`.
#[test]
fn other_extensions_are_type_and_binary() {
    let p = decode(&hex("83a47479706502a36e7370a12fa46461746192a26576d50701ff")).unwrap();
    let (_, args) = event(&p);
    assert_eq!(
        args.values(),
        &[json!([7, {"_placeholder": true, "num": 0}])]
    );
    assert_eq!(args.attachments(), &[Bytes::from_static(&[1, 0xff])]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any JSON arguments (every number kind) and binary survive encode + decode exactly.
        #[test]
        fn arguments_round_trip(
            name in "\\PC{1,10}",
            args in prop::collection::vec(json_value(), 0..5),
            blobs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..3),
        ) {
            prop_assume!(!crate::protocol::packet::RESERVED_EVENTS.contains(&name.as_str()));
            let mut values = args.clone();
            values.extend((0..blobs.len()).map(placeholder));
            let atts: Vec<Bytes> = blobs.into_iter().map(Bytes::from).collect();
            let bytes = encode_event("/", &name, &values, &atts, Some(1));
            let p = decode(&bytes).unwrap();
            let (got_name, got) = event(&p);
            prop_assert_eq!(got_name, name.as_str());
            prop_assert_eq!(got.values(), &values[..]);
            prop_assert_eq!(got.attachments(), &atts[..]);
        }

        /// Whatever arrives, decoding answers and never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&Bytes::from(bytes));
        }

        /// A valid packet cut anywhere or with a byte changed: an answer, never a panic.
        #[test]
        fn damaged_packets_never_panic(cut in 0usize..64, at in 0usize..64, byte in any::<u8>()) {
            let good = encode_event("/chat", "ev", &[json!({"a": [1, 2.5, "x"]}), placeholder(0)],
                &[Bytes::from_static(b"bin")], Some(9));
            let _ = decode(&good.slice(..cut.min(good.len())));
            let mut changed = good.to_vec();
            let at = at % changed.len();
            changed[at] = byte;
            let _ = decode(&Bytes::from(changed));
        }
    }
}
