//! Errors returned by the server API.

use std::time::Duration;

use crate::args::ArgError;

/// Why an emit could not be queued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The data could not be serialized.
    #[error("cannot serialize the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The client is not reading fast enough: its outbound queue (`max_buffer_size`) is full.
    #[error("the client's outbound queue is full")]
    Full,
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Closed,
    /// An ack was asked for a packet that is not an EVENT without an ack id (a broadcast with
    /// acks given another packet by an adapter).
    #[error("only an event packet can ask for an ack")]
    NotAnEvent,
}

/// Why an emit that waits for the client's ack did not get a usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The client did not answer in time.
    #[error("no ack within {0:?}")]
    Timeout(Duration),
    /// The socket disconnected before answering.
    #[error("the socket disconnected before acknowledging")]
    Closed,
    /// The answer did not deserialize into the requested type.
    #[error("cannot decode the ack: {0}")]
    Decode(#[from] ArgError),
    /// The emit itself failed.
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// A refused namespace connection, sent to the client as CONNECT_ERROR.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The `message` the client receives.
    pub message: String,
    /// Optional extra `data` the client receives.
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A rejection with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Attaches extra data (serialized to JSON) for the client.
    pub fn with_data<T: serde::Serialize>(mut self, data: &T) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }
}

impl From<&str> for ConnectError {
    fn from(message: &str) -> Self {
        ConnectError::new(message)
    }
}

impl From<String> for ConnectError {
    fn from(message: String) -> Self {
        ConnectError::new(message)
    }
}

/// Why a packet middleware ([`crate::Namespace::use_packet_middleware`]) stopped an incoming
/// event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketRejection {
    /// Drop the event silently: no handler runs and no ack is sent.
    #[error("event dropped")]
    Drop,
    /// Refuse the event: no handler runs; a client that asked for an ack gets the error ack
    /// `{"error": message}`.
    #[error("{0}")]
    Error(String),
}
