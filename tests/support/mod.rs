//! Shared support for the end-to-end tests: raw protocol clients and the test server.

#![allow(dead_code)]

pub mod client;
pub mod cluster;
pub mod script;
pub mod server;

/// Runs `async fn $name(Transport)` as two tests: `$name::websocket` and `$name::polling`.
#[macro_export]
macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn websocket() {
                super::$name(super::Transport::WebSocket).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn polling() {
                super::$name(super::Transport::Polling).await
            }
        }
    )*};
}
