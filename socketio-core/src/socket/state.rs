//! Shared typed state: values given to [`crate::SocketIoBuilder::state`], one per type, handed to
//! handlers and middlewares by the [`State`] extractor (axum's `State`, without a type
//! parameter on the server: any number of types, looked up by `TypeId`).

use std::any::{Any, TypeId};
use std::sync::Arc;

use foldhash::HashMap;

/// The state values of a server, by type. Cheap to clone (the values are shared).
#[derive(Clone, Default)]
pub(crate) struct StateMap(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl StateMap {
    /// Stores `value` as the state of type `T`, replacing any earlier one of that type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The state of type `T`, if the server has one.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.0.get(&TypeId::of::<T>())?.clone();
        value.downcast::<T>().ok()
    }
}

/// The server's shared state of type `T` (set with [`crate::SocketIoBuilder::state`]), as a
/// handler or middleware parameter: the extractor of axum's `State`, for event handlers
/// (`ns.on`, `#[on]`), connect handlers and namespace middlewares (`ns.use_middleware`,
/// `#[middleware]`). It derefs to `T`; the value is shared, not cloned, so put a `Mutex` or an
/// atomic inside for what changes.
///
/// Asking for a type the server was not given is a programming error: the handler panics with a
/// message naming the type (contained and logged like any handler panic: the client gets the
/// error ack, or the CONNECT_ERROR `"internal server error"`).
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use socketio_core::{SocketIo, SocketRef, State};
///
/// #[derive(Default)]
/// struct Stats {
///     hits: AtomicUsize,
/// }
///
/// let io = SocketIo::builder().state(Stats::default()).build();
/// io.ns("/").on("hit", |_s: SocketRef, stats: State<Stats>| async move {
///     stats.hits.fetch_add(1, Ordering::Relaxed) + 1
/// });
/// ```
pub struct State<T>(pub Arc<T>);

impl<T> State<T> {
    /// The shared value.
    pub fn into_inner(self) -> Arc<T> {
        self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for State<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

impl<T> std::ops::Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> State<T> {
    /// The state of `T` from `map`; panics with the type's name when there is none.
    pub(crate) fn from_map(map: &StateMap) -> Self {
        match map.get::<T>() {
            Some(value) => State(value),
            None => panic!(
                "no state of type `{}`: give it to the server with SocketIo::builder().state(..)",
                std::any::type_name::<T>()
            ),
        }
    }
}
