//! Packet and argument codec micro-benchmarks: text and binary, encode and decode, through the
//! public `Args` API (`Args::from_serialize`, `Args::decode`, `Args::get`) and the packet codec
//! entry points (`socketio_core::__private::codec`).
//!
//! `cargo bench -p socketio-core --bench codec`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use serde::{Deserialize, Serialize};
use socketio_core::__private::codec;
use socketio_core::{Args, Parser};

#[derive(Serialize, Deserialize)]
struct Message {
    room: String,
    text: String,
    n: u64,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Upload {
    name: String,
    data: Bytes,
}

fn message() -> Message {
    Message {
        room: "lobby".into(),
        text: "hello everyone, this is a chat line of ordinary length".into(),
        n: 42,
        tags: vec!["a".into(), "b".into()],
    }
}

fn codec_benches(c: &mut Criterion) {
    let msg = message();
    let upload = Upload {
        name: "file.bin".into(),
        data: Bytes::from(vec![7u8; 4096]),
    };

    let mut g = c.benchmark_group("encode");
    g.bench_function("text event (fast path)", |b| {
        b.iter(|| codec::encode_event_fast("/chat", "message", black_box(&msg)).unwrap())
    });
    g.bench_function("text event (via Args)", |b| {
        b.iter(|| {
            let args = Args::from_serialize(black_box(&msg)).unwrap();
            codec::encode_event("/chat", "message", &args)
        })
    });
    g.bench_function("Args::from_serialize, text", |b| {
        b.iter(|| Args::from_serialize(black_box(&msg)).unwrap())
    });
    g.bench_function("Args::from_serialize, 3 arguments", |b| {
        b.iter(|| Args::from_serialize(black_box(&("lobby", &msg, 42u32))).unwrap())
    });
    g.bench_function("Args::from_serialize, 4 KiB Bytes attachment", |b| {
        b.iter(|| Args::from_serialize(black_box(&upload)).unwrap())
    });
    g.bench_function("binary event (4 KiB attachment)", |b| {
        b.iter(|| {
            let args = Args::from_serialize(black_box(&upload)).unwrap();
            codec::encode_event("/chat", "upload", &args)
        })
    });
    g.bench_function("text event (emit's frame, Parser::Default)", |b| {
        b.iter(|| {
            assert!(codec::serialize_event(
                Parser::Default,
                "/chat",
                "message",
                black_box(&msg)
            ))
        })
    });
    g.bench_function("msgpack event (emit's frame, Parser::MsgPack)", |b| {
        b.iter(|| {
            assert!(codec::serialize_event(
                Parser::MsgPack,
                "/chat",
                "message",
                black_box(&msg)
            ))
        })
    });
    g.bench_function("msgpack event (4 KiB bin)", |b| {
        b.iter(|| {
            assert!(codec::serialize_event(
                Parser::MsgPack,
                "/chat",
                "upload",
                black_box(&upload)
            ))
        })
    });
    g.finish();

    let text_packet = codec::encode_event_fast("/chat", "message", &msg).unwrap();
    let text_packet = &text_packet[1..]; // without the Engine.IO type
    let args = Args::from_serialize(&msg).unwrap();
    let binary_args = Args::from_serialize(&upload).unwrap();
    let binary_packet = codec::encode_event("/chat", "upload", &binary_args);
    let binary_packet = &binary_packet[1..];
    let msgpack_packet = codec::encode_event_msgpack("/chat", "message", &args);
    let msgpack_binary_packet = codec::encode_event_msgpack("/chat", "upload", &binary_args);

    let mut g = c.benchmark_group("decode");
    g.bench_function("text packet", |b| {
        b.iter(|| assert!(codec::decode_packet(black_box(text_packet))))
    });
    g.bench_function("binary packet header", |b| {
        b.iter(|| assert!(codec::decode_packet(black_box(binary_packet))))
    });
    g.bench_function("msgpack packet", |b| {
        b.iter(|| assert!(codec::decode_msgpack_packet(black_box(&msgpack_packet))))
    });
    g.bench_function("msgpack packet (4 KiB bin)", |b| {
        b.iter(|| {
            assert!(codec::decode_msgpack_packet(black_box(
                &msgpack_binary_packet
            )))
        })
    });
    let three_args = Args::from_serialize(&("lobby", &msg, 42u32)).unwrap();
    g.bench_function("Args::decode, text into a struct", |b| {
        b.iter(|| black_box(&args).decode::<Message>().unwrap())
    });
    g.bench_function("Args::decode, 3 arguments into a tuple", |b| {
        b.iter(|| {
            black_box(&three_args)
                .decode::<(String, Message, u32)>()
                .unwrap()
        })
    });
    g.bench_function("Args::decode, 4 KiB Bytes attachment into a struct", |b| {
        b.iter(|| black_box(&binary_args).decode::<Upload>().unwrap())
    });
    g.bench_function("text argument into a struct", |b| {
        b.iter(|| black_box(&args).get::<Message>(0).unwrap())
    });
    g.bench_function("binary argument into a struct", |b| {
        b.iter(|| black_box(&binary_args).get::<Upload>(0).unwrap())
    });
    g.finish();
}

criterion_group!(benches, codec_benches);
criterion_main!(benches);
