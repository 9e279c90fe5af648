//! Between socketio-core's broadcast options and the Node adapters' (the value conversions
//! are `socketio_core::node_compat`'s).

use socketio_core::adapter::BroadcastOptions as CoreOptions;

use super::{BroadcastFlags, BroadcastOptions};

/// Node's options as ours (`volatile` kept, `local` dropped: a received operation is never
/// forwarded).
pub(crate) fn core_options(opts: BroadcastOptions) -> CoreOptions {
    let volatile = opts.flags.as_ref().is_some_and(BroadcastFlags::volatile);
    CoreOptions {
        rooms: opts.rooms,
        except: opts.except,
        flags: socketio_core::adapter::BroadcastFlags {
            local: false,
            volatile,
        },
    }
}

/// Options on the wire: with a flags object for broadcasts (`{}`, `volatile`, `timeout`), none
/// for the other requests (as Node sends them).
pub(crate) fn wire_options(opts: &CoreOptions, flags: Option<BroadcastFlags>) -> BroadcastOptions {
    BroadcastOptions {
        rooms: opts.rooms.clone(),
        except: opts.except.clone(),
        flags,
    }
}

/// The flags object of a broadcast: `{}`, or `{volatile: true}`.
pub(crate) fn broadcast_flags(opts: &CoreOptions) -> BroadcastFlags {
    let mut flags = BroadcastFlags::default();
    if opts.flags.volatile {
        flags.set("volatile", true);
    }
    flags
}
