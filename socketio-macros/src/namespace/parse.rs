//! The model of a `#[namespace]` impl block, built and validated from syn.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, ReturnType, Type};

use crate::ctxt::Ctxt;

/// A validated namespace.
pub(crate) struct NamespaceDef {
    pub(crate) path: LitStr,
    /// The impl block, our attributes removed.
    pub(crate) item: ItemImpl,
    pub(crate) handlers: Vec<Handler>,
}

impl NamespaceDef {
    pub(crate) fn item_tokens(&self) -> TokenStream {
        self.item.to_token_stream()
    }
}

/// What a method handles.
#[derive(Clone)]
pub(crate) enum Kind {
    Event(LitStr),
    Connect,
    Disconnect,
}

/// One handler method.
pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) method: syn::Ident,
    pub(crate) is_async: bool,
    /// Parameter types after the socket.
    pub(crate) args: Vec<Type>,
    pub(crate) ret: ReturnType,
}

const ATTRS: [&str; 3] = ["on", "on_connect", "on_disconnect"];

/// Parses and validates; every problem goes to `cx`. `None` when the item is not even an impl
/// block.
pub(crate) fn parse(cx: &Ctxt, attr: TokenStream, item: TokenStream) -> Option<NamespaceDef> {
    let path = parse_path(cx, attr);
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
    let mut seen_connect: Option<Span> = None;
    let mut seen_disconnect: Option<Span> = None;
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(kind) = take_kind(cx, method) else {
            continue;
        };
        match &kind {
            Kind::Event(name) => {
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
            Kind::Connect => duplicate_hook(cx, &mut seen_connect, method, "on_connect"),
            Kind::Disconnect => duplicate_hook(cx, &mut seen_disconnect, method, "on_disconnect"),
        }
        if let Some(handler) = parse_handler(cx, kind, method) {
            handlers.push(handler);
        }
    }
    Some(NamespaceDef {
        path: path.unwrap_or_else(|| LitStr::new("/", Span::call_site())),
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

fn parse_path(cx: &Ctxt, attr: TokenStream) -> Option<LitStr> {
    if attr.is_empty() {
        cx.error(
            Span::call_site(),
            "#[namespace] needs the namespace path: #[namespace(\"/chat\")]",
        );
        return None;
    }
    let path: LitStr = match syn::parse2(attr) {
        Ok(p) => p,
        Err(err) => {
            cx.error(
                err.span(),
                "expected one string literal, the namespace path: #[namespace(\"/chat\")]",
            );
            return None;
        }
    };
    let value = path.value();
    if !value.starts_with('/') {
        cx.error(
            path.span(),
            format!("a namespace path starts with `/`: \"/{value}\""),
        );
    } else if value.chars().any(char::is_whitespace) {
        cx.error(path.span(), "a namespace path cannot contain whitespace");
    }
    Some(path)
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
                "a method handles one thing: only one of #[on], #[on_connect], #[on_disconnect]",
            );
            continue;
        }
        kind = match name.as_str() {
            "on" => match attr.parse_args::<LitStr>() {
                Ok(event) => Some(Kind::Event(event)),
                Err(_) => {
                    cx.error(
                        attr.path().span(),
                        "#[on] needs the event name: #[on(\"message\")]",
                    );
                    None
                }
            },
            other => {
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    cx.error(attr.path().span(), format!("#[{other}] takes no arguments"));
                }
                Some(if other == "on_connect" {
                    Kind::Connect
                } else {
                    Kind::Disconnect
                })
            }
        };
    }
    method.attrs = remaining;
    kind
}

fn parse_handler(cx: &Ctxt, kind: Kind, method: &ImplItemFn) -> Option<Handler> {
    let sig = &method.sig;
    let mut ok = true;
    if !sig.generics.params.is_empty() {
        cx.error(sig.generics.span(), "handler methods cannot be generic");
        ok = false;
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
    for input in inputs {
        if let FnArg::Typed(pat) = input {
            if !matches!(*pat.pat, Pat::Ident(_) | Pat::Wild(_)) {
                cx.error(pat.pat.span(), "handler parameters must be plain names");
                ok = false;
            }
            args.push((*pat.ty).clone());
        }
    }
    let max = match kind {
        Kind::Event(_) => usize::MAX,
        Kind::Connect | Kind::Disconnect => 1,
    };
    if args.len() > max {
        let what = match kind {
            Kind::Connect => {
                "#[on_connect] takes `&self`, the socket and optionally the auth payload"
            }
            _ => "#[on_disconnect] takes `&self`, the socket and optionally a `DisconnectReason`",
        };
        cx.error(args[1].span(), what);
        ok = false;
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
        ret: sig.output.clone(),
    })
}

/// Whether a type is (a path ending in) `SocketRef`.
fn is_socket_ref(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "SocketRef"),
        _ => false,
    }
}
