//! Shared support for the end-to-end tests: raw protocol clients and the test server.

#![allow(dead_code)]

pub mod client;
pub mod cluster;
pub mod server;
