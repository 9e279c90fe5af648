//! The model of a `#[namespace]` impl block, built and validated from syn.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Type};

use crate::ctxt::Ctxt;

/// A validated namespace.
pub(crate) struct NamespaceDef {
    /// The path, or for a dynamic namespace (`dynamic = ".."`) the regular expression.
    pub(crate) path: LitStr,
    /// Whether `path` is the pattern of a dynamic namespace.
    pub(crate) dynamic: bool,
    /// The path of `socketio_core` (`crate = ".."`), `::socketio_core` by default.
    pub(crate) krate: syn::Path,
    /// `typescript`: describe the handlers' types for `socketio_core::typescript`.
    pub(crate) typescript: bool,
    /// `emits = Type`: the namespace's server → client events (a `ServerEvents` type).
    pub(crate) emits: Option<Type>,
    /// The impl block, our attributes removed.
    pub(crate) item: ItemImpl,
    pub(crate) handlers: Vec<Handler>,
}

impl NamespaceDef {
    pub(crate) fn item_tokens(&self) -> TokenStream {
        self.item.to_token_stream()
    }

    /// Whether a stub `NamespaceHandlers` impl can be emitted next to errors (a plain,
    /// non-generic inherent impl), so `io.register(T)` adds no error of its own.
    pub(crate) fn can_stub(&self) -> bool {
        self.item.trait_.is_none() && self.item.generics.params.is_empty()
    }
}

/// What a method handles.
#[derive(Clone)]
pub(crate) enum Kind {
    /// `#[on("a", "b", ..)]`: one or more event names.
    Event(Vec<LitStr>),
    /// `#[on_any]`: a listener of every event, before its handler.
    Any,
    /// `#[fallback]`: every event without a handler of its own.
    Fallback,
    /// `#[packet_middleware]`: sees every event before its handler and may stop it.
    PacketMiddleware,
    /// `#[on_any_outgoing]`: sees every event sent to a socket.
    Outgoing,
    Connect,
    /// `#[middleware]`: a namespace middleware, run before the connect handler in declaration
    /// order.
    Middleware,
    Disconnect,
}

/// One handler method.
pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) method: syn::Ident,
    pub(crate) is_async: bool,
    /// Parameter types after the socket.
    pub(crate) args: Vec<Type>,
    /// Their names, where the pattern is a plain identifier (for TypeScript parameter names).
    pub(crate) arg_names: Vec<Option<String>>,
    pub(crate) ret: ReturnType,
    /// The method's `#[cfg(..)]` attributes, carried to everything generated for it.
    pub(crate) cfgs: Vec<syn::Attribute>,
}

const ATTRS: [&str; 8] = [
    "on",
    "on_any",
    "on_any_outgoing",
    "fallback",
    "on_connect",
    "on_disconnect",
    "middleware",
    "packet_middleware",
];

/// Event names a client's EVENT never triggers in the Node server (socket.io's
/// `RESERVED_EVENTS`); `Namespace::RESERVED_EVENTS` in socketio-core is the same list.
pub(crate) const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Parses and validates; every problem goes to `cx`. `None` when the item is not even an impl
/// block.
pub(crate) fn parse(cx: &Ctxt, attr: TokenStream, item: TokenStream) -> Option<NamespaceDef> {
    let (path, options) = parse_args(cx, attr);
    let mut item: ItemImpl = match syn::parse2(item) {
        Ok(item) => item,
        Err(err) => {
            cx.error(
                err.span(),
                "#[namespace] goes on an impl block: `#[namespace(\"/chat\")] impl Chat { .. }`",
            );
            return None;
        }
    };
    if let Some((_, trait_, _)) = &item.trait_ {
        cx.error(
            trait_.span(),
            "#[namespace] goes on an inherent impl block, not a trait impl",
        );
    }
    if !item.generics.params.is_empty() {
        cx.error(
            item.generics.span(),
            "#[namespace] impl blocks cannot be generic",
        );
    }
    let mut handlers = Vec::new();
    let mut seen_events: Vec<LitStr> = Vec::new();
    let mut seen_fallback: Option<Span> = None;
    let mut seen_connect: Option<Span> = None;
    let mut seen_disconnect: Option<Span> = None;
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(kind) = take_kind(cx, method) else {
            continue;
        };
        let cfgs: Vec<syn::Attribute> = method
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg"))
            .cloned()
            .collect();
        // Methods under `#[cfg]` may legitimately handle the same thing in exclusive
        // configurations: they are not duplicates (at run time the last registered wins).
        let check_duplicates = cfgs.is_empty();
        match &kind {
            Kind::Event(names) => {
                for name in names {
                    if RESERVED.contains(&name.value().as_str()) {
                        cx.error(
                            name.span(),
                            format!(
                                "\"{}\" is a reserved event name: a client cannot send it\n\
                                 help: use #[on_connect] / #[on_disconnect] for the socket's lifecycle",
                                name.value()
                            ),
                        );
                        continue;
                    }
                    if !check_duplicates {
                        continue;
                    }
                    if let Some(first) = seen_events.iter().find(|n| n.value() == name.value()) {
                        let mut err = syn::Error::new(
                            name.span(),
                            format!(
                                "duplicate handler for event \"{}\" in this namespace",
                                name.value()
                            ),
                        );
                        err.combine(syn::Error::new(
                            first.span(),
                            "note: first handler of this event is here",
                        ));
                        cx.push(err);
                    } else {
                        seen_events.push(name.clone());
                    }
                }
            }
            // Several middlewares and listeners run in declaration order.
            Kind::Middleware | Kind::PacketMiddleware | Kind::Any | Kind::Outgoing => {}
            _ if !check_duplicates => {}
            Kind::Fallback => duplicate_hook(cx, &mut seen_fallback, method, "fallback"),
            Kind::Connect => duplicate_hook(cx, &mut seen_connect, method, "on_connect"),
            Kind::Disconnect => duplicate_hook(cx, &mut seen_disconnect, method, "on_disconnect"),
        }
        if let Some(handler) = parse_handler(cx, kind, method, cfgs) {
            handlers.push(handler);
        }
    }
    Some(NamespaceDef {
        path: path.unwrap_or_else(|| LitStr::new("/", Span::call_site())),
        dynamic: options.dynamic,
        krate: options
            .krate
            .unwrap_or_else(|| syn::parse_quote!(::socketio_core)),
        typescript: options.typescript,
        emits: options.emits,
        item,
        handlers,
    })
}

fn duplicate_hook(cx: &Ctxt, seen: &mut Option<Span>, method: &ImplItemFn, name: &str) {
    match seen {
        Some(first) => {
            let mut err = syn::Error::new(
                method.sig.ident.span(),
                format!("duplicate #[{name}] in this namespace"),
            );
            err.combine(syn::Error::new(
                *first,
                format!("note: first #[{name}] is here"),
            ));
            cx.push(err);
        }
        None => *seen = Some(method.sig.ident.span()),
    }
}

/// The options after the path.
#[derive(Default)]
struct Options {
    krate: Option<syn::Path>,
    typescript: bool,
    emits: Option<Type>,
    /// `dynamic = "regex"` was given (the regex is then the returned path).
    dynamic: bool,
}

const OPTIONS_HELP: &str = "the options are `crate = \"path::to::socketio_core\"`, `typescript`, \
     `emits = EventsType` and `dynamic = \"^/regex$\"`";

/// Parses `"/path"` (or the option `dynamic = "regex"` instead) then optional options:
/// `crate = "path::to::socketio_core"`, `typescript`, `emits = Type`. For a dynamic namespace
/// the returned path is the pattern.
fn parse_args(cx: &Ctxt, attr: TokenStream) -> (Option<LitStr>, Options) {
    let mut options = Options::default();
    if attr.is_empty() {
        cx.error(
            Span::call_site(),
            "#[namespace] needs the namespace path: #[namespace(\"/chat\")]",
        );
        return (None, options);
    }
    let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
    let exprs = match syn::parse::Parser::parse2(parser, attr) {
        Ok(exprs) => exprs,
        Err(err) => {
            cx.error(
                err.span(),
                "expected the namespace path, then options: #[namespace(\"/chat\", crate = \"..\")]",
            );
            return (None, options);
        }
    };
    let mut exprs = exprs.into_iter().peekable();
    let path = match exprs.peek() {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(path),
            ..
        })) => {
            let path = path.clone();
            exprs.next();
            check_path(cx, &path);
            Some(path)
        }
        // `#[namespace(dynamic = "..")]`: no path.
        Some(syn::Expr::Assign(_)) => None,
        Some(other) => {
            let other = other.clone();
            exprs.next();
            cx.error(
                other.span(),
                "expected one string literal, the namespace path: #[namespace(\"/chat\")]",
            );
            None
        }
        None => None,
    };
    let mut pattern: Option<LitStr> = None;
    let mut seen_typescript = false;
    for option in exprs {
        if let syn::Expr::Path(p) = &option {
            if p.path.is_ident("typescript") {
                if seen_typescript {
                    cx.error(p.span(), "duplicate #[namespace] option `typescript`");
                }
                seen_typescript = true;
                options.typescript = true;
                continue;
            }
        }
        let syn::Expr::Assign(assign) = &option else {
            cx.error(option.span(), format!("expected an option: {OPTIONS_HELP}"));
            continue;
        };
        let key = match &*assign.left {
            syn::Expr::Path(p) if p.path.is_ident("crate") => "crate",
            syn::Expr::Path(p) if p.path.is_ident("emits") => "emits",
            syn::Expr::Path(p) if p.path.is_ident("dynamic") => "dynamic",
            _ => {
                cx.error(
                    assign.left.span(),
                    format!("unknown #[namespace] option: {OPTIONS_HELP}"),
                );
                continue;
            }
        };
        if key == "emits" {
            if options.emits.is_some() {
                cx.error(assign.left.span(), "duplicate #[namespace] option `emits`");
                continue;
            }
            match syn::parse2::<Type>(assign.right.to_token_stream()) {
                Ok(ty) => options.emits = Some(ty),
                Err(_) => cx.error(
                    assign.right.span(),
                    "`emits` takes a type: emits = ChatEvents (a #[derive(ServerEvents)] enum)",
                ),
            }
            continue;
        }
        let value = match &*assign.right {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(value),
                ..
            }) => value,
            other => {
                let help = if key == "crate" {
                    "`crate` takes a string: crate = \"socketio_axum::socketio_core\""
                } else {
                    "`dynamic` takes a string, a regular expression: dynamic = \"^/room-\\\\d+$\""
                };
                cx.error(other.span(), help);
                continue;
            }
        };
        if key == "dynamic" {
            if path.is_some() {
                cx.error(
                    assign.left.span(),
                    "a dynamic namespace has a pattern instead of a path: remove the path",
                );
            } else if pattern.is_some() {
                cx.error(
                    assign.left.span(),
                    "duplicate #[namespace] option `dynamic`",
                );
            } else {
                pattern = Some(value.clone());
            }
            continue;
        }
        if options.krate.is_some() {
            cx.error(assign.left.span(), "duplicate #[namespace] option `crate`");
            continue;
        }
        match value.parse::<syn::Path>() {
            Ok(path) => options.krate = Some(path),
            Err(_) => cx.error(
                value.span(),
                "`crate` takes a path: crate = \"socketio_axum::socketio_core\"",
            ),
        }
    }
    match pattern {
        Some(pattern) => {
            options.dynamic = true;
            (Some(pattern), options)
        }
        None => {
            if path.is_none() {
                cx.error(
                    Span::call_site(),
                    "#[namespace] needs the namespace path: #[namespace(\"/chat\")]",
                );
            }
            (path, options)
        }
    }
}

fn check_path(cx: &Ctxt, path: &LitStr) {
    let value = path.value();
    if !value.starts_with('/') {
        cx.error(
            path.span(),
            format!("a namespace path starts with `/`: \"/{value}\""),
        );
    } else if value.chars().any(char::is_whitespace) {
        cx.error(path.span(), "a namespace path cannot contain whitespace");
    }
}

/// Removes our attribute from a method and says what it handles.
fn take_kind(cx: &Ctxt, method: &mut ImplItemFn) -> Option<Kind> {
    let mut kind = None;
    let mut remaining = Vec::new();
    for attr in method.attrs.drain(..) {
        let name = attr.path().get_ident().map(|i| i.to_string());
        let Some(name) = name.filter(|n| ATTRS.contains(&n.as_str())) else {
            remaining.push(attr);
            continue;
        };
        if kind.is_some() {
            cx.error(
                attr.path().span(),
                "a method handles one thing: only one of #[on], #[on_any], #[fallback], \
                 #[on_any_outgoing], #[on_connect], #[on_disconnect], #[middleware], \
                 #[packet_middleware]\nhelp: to handle several events with one method, list them: \
                 #[on(\"a\", \"b\")]",
            );
            continue;
        }
        kind = match name.as_str() {
            "on" => {
                let parser =
                    syn::punctuated::Punctuated::<LitStr, syn::Token![,]>::parse_terminated;
                match attr.parse_args_with(parser) {
                    Ok(names) if !names.is_empty() => {
                        Some(Kind::Event(names.into_iter().collect()))
                    }
                    _ => {
                        cx.error(
                            attr.path().span(),
                            "#[on] needs the event name: #[on(\"message\")], or several: #[on(\"a\", \"b\")]",
                        );
                        None
                    }
                }
            }
            other => {
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    let help = if other == "on_connect" || other == "middleware" {
                        "\nhelp: the auth payload is a parameter: `fn connect(&self, socket: SocketRef, auth: Auth)`"
                    } else if other == "on_any" || other == "fallback" {
                        "\nhelp: take the event's name as a parameter: `name: EventName`"
                    } else {
                        ""
                    };
                    cx.error(
                        attr.meta.span(),
                        format!("#[{other}] takes no arguments{help}"),
                    );
                }
                Some(match other {
                    "on_any" => Kind::Any,
                    "fallback" => Kind::Fallback,
                    "packet_middleware" => Kind::PacketMiddleware,
                    "on_any_outgoing" => Kind::Outgoing,
                    "on_connect" => Kind::Connect,
                    "middleware" => Kind::Middleware,
                    _ => Kind::Disconnect,
                })
            }
        };
    }
    method.attrs = remaining;
    kind
}

fn parse_handler(
    cx: &Ctxt,
    kind: Kind,
    method: &ImplItemFn,
    cfgs: Vec<syn::Attribute>,
) -> Option<Handler> {
    let sig = &method.sig;
    let mut ok = true;
    if !sig.generics.params.is_empty() {
        cx.error(sig.generics.span(), "handler methods cannot be generic");
        ok = false;
    }
    if matches!(kind, Kind::PacketMiddleware | Kind::Outgoing) {
        return parse_sync_hook(cx, kind, method, cfgs, ok);
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) => {
            // Point at what is wrong: the `mut` of `&mut self`, or `self` taken by value.
            let span = r.mutability.map_or(r.self_token.span, |m| m.span);
            cx.error(
                span,
                "handlers take `&self` (the namespace is shared by all its sockets)",
            );
            ok = false;
        }
        _ => {
            cx.error(
                sig.ident.span(),
                "handlers take `&self` first: `fn name(&self, socket: SocketRef, ..)`",
            );
            return None;
        }
    }
    match inputs.next() {
        Some(FnArg::Typed(pat)) if is_socket_ref(&pat.ty) => {}
        Some(other) => {
            cx.error(
                other.span(),
                "the parameter after `&self` must be the socket: `socket: SocketRef`",
            );
            ok = false;
        }
        None => {
            cx.error(
                sig.paren_token.span.join(),
                "missing the socket parameter: `fn name(&self, socket: SocketRef, ..)`",
            );
            ok = false;
        }
    }
    let mut args = Vec::new();
    let mut arg_names = Vec::new();
    for input in inputs {
        // Any irrefutable pattern works (`(a, b): (i64, i64)`): the generated code passes
        // values, never names.
        if let FnArg::Typed(pat) = input {
            if let Type::Reference(reference) = &*pat.ty {
                cx.push(syn::Error::new_spanned(
                    reference,
                    format!(
                        "handler arguments are owned values deserialized from the event\n\
                         help: write `{}`",
                        owned_suggestion(reference)
                    ),
                ));
                ok = false;
            }
            args.push((*pat.ty).clone());
            arg_names.push(match &*pat.pat {
                syn::Pat::Ident(id) => Some(id.ident.to_string()),
                _ => None,
            });
        }
    }
    if let (Kind::Disconnect, ReturnType::Type(_, ty)) = (&kind, &sig.output) {
        cx.error(
            ty.span(),
            "#[on_disconnect] methods return nothing: the client is gone",
        );
        ok = false;
    }
    ok.then(|| Handler {
        kind,
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        args,
        arg_names,
        ret: sig.output.clone(),
        cfgs,
    })
}

/// `#[packet_middleware] fn name(&self, socket: &SocketRef, event: &str, args: &mut Args) ->
/// Result<(), PacketRejection>` and `#[on_any_outgoing] fn name(&self, socket: &Socket, event:
/// &str, args: &Args)`: sync, `&self`; the rest of the signature is checked by the compiler
/// against `Namespace::use_packet_middleware` / `on_any_outgoing`.
fn parse_sync_hook(
    cx: &Ctxt,
    kind: Kind,
    method: &ImplItemFn,
    cfgs: Vec<syn::Attribute>,
    mut ok: bool,
) -> Option<Handler> {
    let sig = &method.sig;
    let (name, params, help) = match kind {
        Kind::PacketMiddleware => (
            "packet_middleware",
            "&self, socket: &SocketRef, event: &str, args: &mut Args",
            "they run inline, in the socket's event order\n\
             help: wait in a #[middleware] (at connection) or in the event's handler",
        ),
        _ => (
            "on_any_outgoing",
            "&self, socket: &Socket, event: &str, args: &Args",
            "they run as the packet is queued\nhelp: spawn a task for work that waits",
        ),
    };
    if let Some(asyncness) = sig.asyncness {
        cx.error(
            asyncness.span,
            format!("#[{name}] methods are sync: {help}"),
        );
        ok = false;
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => {
            cx.error(sig.ident.span(), format!("#[{name}] takes `{params}`"));
            ok = false;
        }
    }
    ok.then(|| Handler {
        kind,
        method: sig.ident.clone(),
        is_async: false,
        args: Vec::new(),
        arg_names: Vec::new(),
        ret: sig.output.clone(),
        cfgs,
    })
}

/// The owned type to write instead of a reference: `String` for `&str`, `Vec<T>` for `&[T]`,
/// `T` for `&T`.
fn owned_suggestion(reference: &syn::TypeReference) -> String {
    let elem = &*reference.elem;
    let text = |t: &Type| t.to_token_stream().to_string().replace(' ', "");
    match elem {
        Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        Type::Slice(slice) => format!("Vec<{}>", text(&slice.elem)),
        other => text(other),
    }
}

/// Whether a type is (a path ending in) `SocketRef` or `TypedSocket<..>`.
fn is_socket_ref(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "SocketRef" || s.ident == "TypedSocket"),
        _ => false,
    }
}
