//! An AMQP (RabbitMQ) [`Bus`] for `socketio-core` clusters and write-only emitters: each
//! channel is a fanout exchange, and each subscriber reads it through its own exclusive,
//! auto-deleted queue (the role of python-socketio's Kombu manager).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use socketio_amqp::AmqpBus;
//! use socketio_core::SocketIo;
//!
//! let io = SocketIo::new();
//! io.join_cluster(AmqpBus::new("amqp://guest:guest@127.0.0.1:5672/%2f"), "socket.io").await?;
//! # Ok(()) }
//! ```
//!
//! A subscription that loses its connection reconnects by itself (with a growing delay, logged
//! with `tracing`); messages published while it was down are lost.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use socketio_core::cluster::{reconnecting_stream, retry_once, Bus, BusError, BusStream};
use socketio_core::BoxFuture;
use tokio::sync::Mutex;

/// RabbitMQ (AMQP 0-9-1) as a message bus. Cheap to clone; connects lazily.
#[derive(Clone)]
pub struct AmqpBus {
    url: Arc<str>,
    name: Option<Arc<str>>,
    publisher: Arc<Mutex<Option<Channel>>>,
}

impl std::fmt::Debug for AmqpBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBus").finish_non_exhaustive()
    }
}

impl AmqpBus {
    /// A bus on the broker at `url` (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`).
    pub fn new(url: &str) -> Self {
        AmqpBus {
            url: url.into(),
            name: None,
            publisher: Arc::default(),
        }
    }

    /// Names this bus's broker connections (the `connection_name` client property, shown in
    /// the management UI and by `rabbitmqctl list_connections client_properties`), to tell
    /// the nodes apart.
    ///
    /// ```
    /// let bus = socketio_amqp::AmqpBus::new("amqp://127.0.0.1:5672/%2f").with_connection_name("node-1");
    /// # drop(bus);
    /// ```
    pub fn with_connection_name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    async fn channel(&self) -> lapin::Result<Channel> {
        let mut properties = ConnectionProperties::default();
        if let Some(name) = &self.name {
            properties = properties.with_connection_name(name.as_ref().into());
        }
        Connection::connect(&self.url, properties)
            .await?
            .create_channel()
            .await
    }

    async fn publish_once(&self, exchange: &str, payload: &[u8]) -> lapin::Result<()> {
        let mut guard = self.publisher.lock().await;
        if guard.as_ref().is_none_or(|c| !c.status().connected()) {
            *guard = Some(self.channel().await?);
        }
        let channel = guard.as_ref().expect("connected above");
        let result = async {
            declare_exchange(channel, exchange).await?;
            channel
                .basic_publish(
                    exchange.into(),
                    "".into(),
                    BasicPublishOptions::default(),
                    payload,
                    BasicProperties::default(),
                )
                .await?;
            Ok(())
        }
        .await;
        if result.is_err() {
            *guard = None;
        }
        result
    }
}

async fn declare_exchange(channel: &Channel, exchange: &str) -> lapin::Result<()> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Fanout,
            // Gone once its last subscriber queue is: no exchanges pile up on the broker.
            ExchangeDeclareOptions {
                auto_delete: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

/// A consumer on a fresh exclusive queue bound to `exchange`.
async fn consume(bus: &AmqpBus, exchange: &str) -> lapin::Result<Consumer> {
    let channel = bus.channel().await?;
    declare_exchange(&channel, exchange).await?;
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.name().clone(),
            exchange.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel
        .basic_consume(
            queue.name().clone(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

impl Bus for AmqpBus {
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<Result<(), BusError>> {
        let bus = self.clone();
        Box::pin(async move { retry_once("amqp", || bus.publish_once(&channel, &payload)).await })
    }

    fn subscribe(&self, channel: String) -> BoxFuture<Result<BusStream, BusError>> {
        let bus = self.clone();
        Box::pin(reconnecting_stream(channel.clone(), move || {
            let (bus, channel) = (bus.clone(), channel.clone());
            async move {
                let consumer = consume(&bus, &channel).await?;
                // A delivery error means the channel broke: end the stream to reconnect.
                Ok::<_, lapin::Error>(
                    consumer
                        .take_while(|delivery| std::future::ready(delivery.is_ok()))
                        .filter_map(|delivery| std::future::ready(delivery.ok()))
                        .map(|delivery| Bytes::from(delivery.data)),
                )
            }
        }))
    }
}
