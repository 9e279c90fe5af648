//! The benchmark handlers on socketioxide, shared by `server-socketioxide` and
//! `server-socketioxide-redis`.

/// The same handlers on namespace "/" of `$io` (a `SocketIo<$adapter>`); a macro, as the
/// adapter-generic bound socketioxide needs (`DefinedAdapter`) is not re-exported by it.
#[macro_export]
macro_rules! socketioxide_handlers {
    ($io:expr, $adapter:ty) => {
        $io.ns("/", async |s: ::socketioxide::extract::SocketRef<$adapter>| {
            s.on(
                "echo",
                async |::socketioxide::extract::Data(data): ::socketioxide::extract::Data<::serde_json::Value>, ack: ::socketioxide::extract::AckSender<$adapter>| {
                    let _ = ack.send(&data);
                },
            );
            s.on(
                "join",
                async |s: ::socketioxide::extract::SocketRef<$adapter>,
                       ::socketioxide::extract::TryData(name): ::socketioxide::extract::TryData<String>,
                       ack: ::socketioxide::extract::AckSender<$adapter>| {
                    // `["join"]` has no argument to extract: room "bench"
                    s.join(name.unwrap_or_else(|_| "bench".to_owned()));
                    let _ = ack.send(&());
                },
            );
            // to every member of room "bench" or data.room (the emitter is not one), on every node
            s.on(
                "broadcast",
                async |s: ::socketioxide::extract::SocketRef<$adapter>, ::socketioxide::extract::Data(data): ::socketioxide::extract::Data<::serde_json::Value>| {
                    let to = data["room"].as_str().unwrap_or("bench").to_owned();
                    let _ = s.within(to).emit("msg", &data).await;
                },
            );
        })
    };
}
