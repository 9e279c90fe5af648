//! The HTTP endpoint as a tower `Service`, so the core depends on no web framework.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;

use crate::engine::http::ResponseBody;
use crate::engine::{Engine, EngineHandler};
use crate::future::BoxFuture;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Request bodies of any type, once they reach the engine.
pub(crate) type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// An Engine.IO server seen from HTTP (a Socket.IO server or a bare Engine.IO one).
pub(crate) trait Endpoint: Send + Sync + 'static {
    fn path(&self) -> &str;
    fn call(self: Arc<Self>, req: Request<RequestBody>) -> BoxFuture<Response<ResponseBody>>;
}

impl<H: EngineHandler> Endpoint for Engine<H> {
    fn path(&self) -> &str {
        &self.config.path
    }

    fn call(self: Arc<Self>, req: Request<RequestBody>) -> BoxFuture<Response<ResponseBody>> {
        Box::pin(self.handle_request(req))
    }
}

/// Answers Engine.IO requests on the server's path (with or without the trailing slash) and 404
/// elsewhere. Cloning is cheap.
#[derive(Clone)]
pub struct SocketIoService {
    endpoint: Arc<dyn Endpoint>,
}

impl std::fmt::Debug for SocketIoService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoService")
            .field("path", &self.endpoint.path())
            .finish()
    }
}

impl SocketIoService {
    pub(crate) fn new(endpoint: Arc<dyn Endpoint>) -> Self {
        SocketIoService { endpoint }
    }

    /// Whether `path` is the Engine.IO endpoint.
    pub fn matches(&self, path: &str) -> bool {
        let own = self.endpoint.path();
        path == own || path == own.trim_end_matches('/')
    }
}

impl<B> tower_service::Service<Request<B>> for SocketIoService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if !self.matches(req.uri().path()) {
            return Box::pin(async {
                Ok(Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(ResponseBody::default())
                    .unwrap())
            });
        }
        let req = req.map(|body| {
            body.map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
                .map_err(Into::into)
                .boxed_unsync()
        });
        let endpoint = self.endpoint.clone();
        Box::pin(async move { Ok(endpoint.call(req).await) })
    }
}
