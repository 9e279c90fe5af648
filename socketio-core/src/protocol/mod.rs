//! Socket.IO v5 packets (pure codec, no IO).

pub(crate) mod packet;
