//! Our Redis client for a test [`Deployment`] (socketio-redis's tests only: socketio-postgres's
//! include `common/mod.rs` and have no socketio-redis).

use super::common::{Deployment, REDIS_CLUSTER, REDIS_URL};

/// Our client for `deployment`.
pub(crate) fn client(deployment: Deployment) -> socketio_redis::RedisClient {
    match deployment {
        Deployment::Standalone => socketio_redis::RedisClient::open(REDIS_URL).unwrap(),
        Deployment::Cluster => socketio_redis::RedisClient::cluster(REDIS_CLUSTER).unwrap(),
    }
}
