//! Write-only emitters: processes that are not servers (workers, scripts) emitting to the
//! clients of a cluster (python-socketio's `write_only=True` managers).

use std::sync::Arc;

use serde::Serialize;

use super::wire::{encode_attachments, Kind, Message, Selection};
use super::{Bus, BusError};
use crate::args::Args;

/// Publishes operations for every node of a cluster; it has no sockets and listens to nothing.
///
/// ```no_run
/// # async fn run(bus: impl socketio_core::cluster::Bus) -> Result<(), Box<dyn std::error::Error>> {
/// use socketio_core::cluster::Emitter;
/// let emitter = Emitter::new(bus, "socket.io");
/// emitter.of("/chat").to("lobby").emit("news", &"maintenance at noon").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    bus: Arc<dyn Bus>,
    channel: String,
    nsp: String,
    selection: Selection,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("channel", &self.channel)
            .field("nsp", &self.nsp)
            .field("selection", &self.selection)
            .finish()
    }
}

/// Why an emitter could not publish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitterError {
    /// The data could not be serialized.
    #[error("cannot serialize the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The bus refused the message.
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl Emitter {
    /// An emitter for the cluster sharing `bus` under `channel`, addressing namespace `/`.
    pub fn new(bus: impl Bus, channel: &str) -> Self {
        Emitter {
            bus: Arc::new(bus),
            channel: channel.to_owned(),
            nsp: "/".to_owned(),
            selection: Selection::default(),
        }
    }

    /// The same emitter addressing namespace `nsp` (everyone in it).
    pub fn of(&self, nsp: &str) -> Self {
        Emitter {
            nsp: crate::protocol::normalize_namespace(nsp),
            selection: Selection::default(),
            ..self.clone()
        }
    }

    /// A copy narrowed to sockets in `room` (chainable: any of the rooms).
    pub fn to(&self, room: impl Into<String>) -> Self {
        let mut narrowed = self.clone();
        narrowed.selection.rooms.push(room.into());
        narrowed
    }

    /// A copy that leaves out sockets in `room` (or with that id).
    pub fn except(&self, room: impl Into<String>) -> Self {
        let mut narrowed = self.clone();
        narrowed.selection.except.push(room.into());
        narrowed
    }

    /// Emits `event` to the selected sockets of every node; `data` follows the argument rules
    /// of [`crate::args`] (binary attachments included).
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitterError> {
        let (args, attachments) = Args::from_serialize(data)?.into_parts();
        self.publish(Kind::Broadcast {
            selection: self.selection.clone(),
            event: event.to_owned(),
            args,
            attachments: encode_attachments(&attachments),
        })
        .await
    }

    /// Makes the selected sockets join `room`.
    pub async fn join(&self, room: &str) -> Result<(), EmitterError> {
        let targets = vec![room.to_owned()];
        self.publish(Kind::Join {
            selection: self.selection.clone(),
            targets,
        })
        .await
    }

    /// Makes the selected sockets leave `room`.
    pub async fn leave(&self, room: &str) -> Result<(), EmitterError> {
        let targets = vec![room.to_owned()];
        self.publish(Kind::Leave {
            selection: self.selection.clone(),
            targets,
        })
        .await
    }

    /// Disconnects the selected sockets (`close`: their whole connection).
    pub async fn disconnect(&self, close: bool) -> Result<(), EmitterError> {
        self.publish(Kind::Disconnect {
            selection: self.selection.clone(),
            close,
        })
        .await
    }

    /// Makes every socket of the namespace leave `room`.
    pub async fn close_room(&self, room: &str) -> Result<(), EmitterError> {
        self.publish(Kind::CloseRoom {
            room: room.to_owned(),
        })
        .await
    }

    async fn publish(&self, kind: Kind) -> Result<(), EmitterError> {
        let msg = Message {
            uid: "emitter".to_owned(),
            nsp: self.nsp.clone(),
            kind,
        };
        let payload = serde_json::to_vec(&msg)?;
        self.bus
            .publish(self.channel.clone(), payload.into())
            .await?;
        Ok(())
    }
}
