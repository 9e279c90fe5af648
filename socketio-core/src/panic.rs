//! Reading a caught panic, for the error log of every place that contains user code's panics
//! (handlers in `handler`/`namespace`, the bare Engine.IO callback in `engine_io`).

use std::any::Any;

/// The message of a panic payload: the `&str` or `String` given to `panic!`, otherwise a
/// placeholder.
pub(crate) fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}
