//! Code generation: one `EventHandler` (or connect/disconnect handler) type per method, the
//! `NamespaceHandlers` impl, and the `inventory` entry, all inside `const _: () = { .. };`.
//!
//! Generated code names only `<krate>::__private::*` (socketio-core's table of paths), so it
//! works through a re-export (`crate = ".."`) and never depends on the user's imports.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ReturnType;

use super::parse::{Handler, Kind, NamespaceDef};

pub(crate) fn expand(def: &NamespaceDef) -> TokenStream {
    let item = &def.item;
    let self_ty = &item.self_ty;
    let path = &def.path;
    let krate = &def.krate;
    let p = quote!(#krate::__private);
    let type_name = quote!(#self_ty).to_string().replace(' ', "");
    // Each handler type is declared in the block that installs it, under the method's
    // `#[cfg]`s: a method compiled out registers nothing.
    let installs = def.handlers.iter().map(|handler| {
        let (ty, install) = handler_type(handler, self_ty, &p);
        let describe = if def.typescript {
            describe(handler, &p)
        } else {
            TokenStream::new()
        };
        let cfgs = &handler.cfgs;
        quote!(#(#cfgs)* { #ty #install #describe })
    });
    let emits = def.emits.as_ref().map(|emits| {
        let describe = if def.typescript {
            quote!(ns.describe_emits::<#emits>();)
        } else {
            TokenStream::new()
        };
        let check = quote_spanned! {emits.span()=>
            fn __socketio_emits<E: #p::ServerEvents>() {}
            __socketio_emits::<#emits>();
        };
        quote!(#check #describe)
    });
    let dynamic = def.dynamic;
    quote! {
        #item

        const _: () = {
            impl #p::NamespaceHandlers for #self_ty {
                const PATH: &'static str = #path;
                const DYNAMIC: bool = #dynamic;

                #[allow(clippy::useless_conversion)]
                fn register(self: #p::Arc<Self>, ns: &#p::Namespace) {
                    #(#installs)*
                    #emits
                }
            }

            fn __socketio_register(io: &#p::SocketIo) -> bool {
                // Autoref specialization: registers a `Default` instance when there is one.
                struct Probe<T>(#p::PhantomData<T>);
                trait ViaDefault {
                    fn make(&self, io: &#p::SocketIo) -> bool;
                }
                impl<T: #p::NamespaceHandlers + #p::Default> ViaDefault for Probe<T> {
                    fn make(&self, io: &#p::SocketIo) -> bool {
                        io.register(<T as #p::Default>::default());
                        true
                    }
                }
                trait NoDefault {
                    fn make(&self, io: &#p::SocketIo) -> bool;
                }
                impl<T> NoDefault for &Probe<T> {
                    fn make(&self, _io: &#p::SocketIo) -> bool {
                        false
                    }
                }
                (&Probe::<#self_ty>(#p::PhantomData)).make(io)
            }

            #p::inventory::submit! {
                #p::NamespaceRegistration {
                    path: #path,
                    type_name: #type_name,
                    location: (#p::file!(), #p::line!()),
                    register: __socketio_register,
                }
            }
        };
    }
}

/// What is emitted next to the errors when validation failed: a `NamespaceHandlers` impl
/// that registers nothing, so `io.register(T)` elsewhere adds no error of its own (thiserror's
/// fallback does the same for `Error`).
pub(crate) fn stub(def: &NamespaceDef) -> TokenStream {
    let self_ty = &def.item.self_ty;
    let path = &def.path;
    let krate = &def.krate;
    let p = quote!(#krate::__private);
    let dynamic = def.dynamic;
    quote! {
        const _: () = {
            impl #p::NamespaceHandlers for #self_ty {
                const PATH: &'static str = #path;
                const DYNAMIC: bool = #dynamic;

                fn register(self: #p::Arc<Self>, _ns: &#p::Namespace) {}
            }
        };
    }
}

/// The handler type of one method (declared inside the block that installs it) and the
/// statement installing it.
fn handler_type(
    handler: &Handler,
    self_ty: &syn::Type,
    p: &TokenStream,
) -> (TokenStream, TokenStream) {
    let method = &handler.method;
    let name = format_ident!("__socketio_{}", method);
    let call_await = if handler.is_async {
        quote!(.await)
    } else {
        quote!()
    };
    let vars: Vec<_> = (0..handler.args.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let struct_def = quote! {
        #[allow(non_camel_case_types)]
        struct #name(#p::Arc<#self_ty>);
    };
    let new_handler = quote!(#p::Arc::new(#name(#p::Arc::clone(&self))));
    match &handler.kind {
        Kind::PacketMiddleware => {
            let install = quote! {
                let this = #p::Arc::clone(&self);
                ns.use_packet_middleware(
                    move |socket: &#p::SocketRef, event: &str, args: &mut #p::Args| {
                        <#self_ty>::#method(&this, socket, event, args)
                    },
                );
            };
            (quote!(), install)
        }
        Kind::Outgoing => {
            let install = quote! {
                let this = #p::Arc::clone(&self);
                ns.on_any_outgoing(
                    move |socket: &#p::Socket, event: &str, args: &#p::Args| {
                        <#self_ty>::#method(&this, socket, event, args)
                    },
                );
            };
            (quote!(), install)
        }
        Kind::Event(_) | Kind::Any | Kind::Fallback => {
            let extract = handler.args.iter().map(
                |ty| quote_spanned!(ty.span()=> <#ty as #p::FromEvent>::from_event(&mut parts)?),
            );
            let tys = &handler.args;
            let send = send_return(&handler.ret, p);
            // A sync method runs right away and its ack is sent before returning: nothing to
            // keep alive. An async one moves the shared handle into its future.
            let body = if handler.is_async {
                quote! {
                    #p::Box::pin(async move {
                        let out = <#self_ty>::#method(&self.0, #p::Into::into(socket), #(#vars),*).await;
                        #send
                    })
                }
            } else {
                quote! {
                    let out = <#self_ty>::#method(&self.0, #p::Into::into(socket), #(#vars),*);
                    #send
                    #p::Box::pin(#p::ready(()))
                }
            };
            let ty = quote! {
                #struct_def
                impl #p::EventHandler for #name {
                    fn call(
                        self: #p::Arc<Self>,
                        socket: #p::SocketRef,
                        event: #p::Event,
                    ) -> #p::BoxFuture<()> {
                        let #p::Event { name, args, mut ack } = event;
                        let extracted: #p::Result<(#(#tys,)*), #p::ArgError> = {
                            #[allow(unused_mut, unused_variables)]
                            let mut parts = #p::event_parts(&socket, &name, &args, &mut ack);
                            #[allow(clippy::redundant_closure_call)]
                            (|| #p::Ok((#(#extract,)*)))()
                        };
                        let (#(#vars,)*) = match extracted {
                            #p::Ok(values) => values,
                            #p::Err(err) => {
                                #p::reject_event(&socket, &name, ack, err);
                                return #p::Box::pin(#p::ready(()));
                            }
                        };
                        #body
                    }
                }
            };
            let install = match &handler.kind {
                Kind::Event(names) if names.len() == 1 => {
                    let event = &names[0];
                    quote!(ns.on_handler(#event, #new_handler);)
                }
                Kind::Event(names) => quote! {
                    let handler: #p::Arc<dyn #p::EventHandler> = #new_handler;
                    #(ns.on_handler(#names, #p::Arc::clone(&handler));)*
                },
                Kind::Any => quote!(ns.on_any_handler(#new_handler);),
                _ => quote!(ns.on_fallback(#new_handler);),
            };
            (ty, install)
        }
        Kind::Connect | Kind::Middleware => {
            let extract = handler.args.iter().map(|ty| {
                quote_spanned! {ty.span()=>
                    match <#ty as #p::FromConnect>::from_connect(&socket, &auth) {
                        #p::Ok(value) => value,
                        #p::Err(err) => return #p::Box::pin(async move { #p::Err(err) }),
                    }
                }
            });
            let result = match &handler.ret {
                ReturnType::Default => quote!(out),
                ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> out),
            };
            let ty = quote! {
                #struct_def
                impl #p::ConnectHandler for #name {
                    fn call(
                        &self,
                        socket: #p::SocketRef,
                        auth: #p::Option<#p::Value>,
                    ) -> #p::BoxFuture<#p::Result<(), #p::ConnectError>> {
                        #(let #vars = #extract;)*
                        let _ = &auth;
                        let this = #p::Arc::clone(&self.0);
                        #p::Box::pin(async move {
                            let out = <#self_ty>::#method(&*this, #p::Into::into(socket), #(#vars),*) #call_await;
                            #p::IntoConnectResult::into_connect_result(#result)
                        })
                    }
                }
            };
            let install = if matches!(handler.kind, Kind::Connect) {
                quote!(ns.on_connect_handler(#new_handler);)
            } else {
                quote!(ns.use_middleware_handler(#new_handler);)
            };
            (ty, install)
        }
        Kind::Disconnect => {
            // Each parameter after the socket from `FromDisconnect` (the reason, `State<T>`),
            // checked at its type's span.
            let extract = handler.args.iter().map(|ty| {
                quote_spanned! {ty.span()=>
                    <#ty as #p::FromDisconnect>::from_disconnect(&socket, reason)
                }
            });
            let ty = quote! {
                #struct_def
                impl #p::DisconnectHandler for #name {
                    fn call(
                        &self,
                        socket: #p::SocketRef,
                        reason: #p::DisconnectReason,
                    ) -> #p::BoxFuture<()> {
                        let _ = &reason;
                        #(let #vars = #extract;)*
                        let this = #p::Arc::clone(&self.0);
                        #p::Box::pin(async move {
                            <#self_ty>::#method(&*this, #p::Into::into(socket), #(#vars),*) #call_await;
                        })
                    }
                }
            };
            let install = quote!(ns.on_disconnect_handler(#new_handler););
            (ty, install)
        }
    }
}

/// The TypeScript description of one handler (`#[namespace(.., typescript)]`): its argument
/// types with their names and its ack, or the connect handler's auth type.
fn describe(handler: &Handler, p: &TokenStream) -> TokenStream {
    let ts = quote!(#p::typescript);
    match &handler.kind {
        Kind::Event(names) => {
            // Built one parameter at a time, each at its type's span, so a type without `TS`
            // is reported once, there.
            let ack = ack_type(&handler.ret);
            let new = quote_spanned! {ack.span()=>
                let mut types = #ts::EventTypes::with_ack::<#ack>();
            };
            let params =
                handler
                    .args
                    .iter()
                    .zip(&handler.arg_names)
                    .enumerate()
                    .map(|(i, (ty, name))| {
                        let name = name.clone().unwrap_or_else(|| format!("arg{i}"));
                        quote_spanned! {ty.span()=>
                            <#ty as #ts::DescribeArg>::describe_arg(&mut types, #p::Some(#name));
                        }
                    });
            quote! {
                #new
                #(#params)*
                #(ns.describe_event_types(#names, #p::Clone::clone(&types));)*
            }
        }
        // The auth payload is the parameter that is not a `State<T>` extractor.
        Kind::Connect => match handler.args.iter().find(|ty| !is_state(ty)) {
            Some(ty) => quote_spanned! {ty.span()=> ns.describe_auth::<#ty>(); },
            None => quote!(ns.describe_no_auth();),
        },
        _ => TokenStream::new(),
    }
}

/// The ack of a return type, as `socketio_core::typescript::AckTypes` takes it: `()` for none,
/// a tuple as is, `Result<T, E>` as `Result<tuple of T, E>`, any other `T` as `(T,)`.
fn ack_type(ret: &ReturnType) -> syn::Type {
    match ret {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => ack_of(ty),
    }
}

fn ack_of(ty: &syn::Type) -> syn::Type {
    match ty {
        syn::Type::Paren(inner) => ack_of(&inner.elem),
        syn::Type::Group(inner) => ack_of(&inner.elem),
        syn::Type::Tuple(_) => ty.clone(),
        syn::Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last();
            if let Some(seg) = last.filter(|s| s.ident == "Result") {
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    let tys: Vec<&syn::Type> = args
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            syn::GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect();
                    if let [ok, err] = tys[..] {
                        let ok = match ack_of(ok) {
                            syn::Type::Tuple(t) => syn::Type::Tuple(t),
                            other => syn::parse_quote!((#other,)),
                        };
                        let mut out = path.clone();
                        let seg = out.path.segments.last_mut().expect("a last segment");
                        seg.arguments =
                            syn::PathArguments::AngleBracketed(syn::parse_quote!(<#ok, #err>));
                        return syn::Type::Path(out);
                    }
                }
            }
            syn::parse_quote!((#ty,))
        }
        other => syn::parse_quote!((#other,)),
    }
}

/// Sends the return value as the ack; a return type that is not an ack (`IntoAck`) is
/// reported at the method's return type.
fn send_return(ret: &ReturnType, p: &TokenStream) -> TokenStream {
    let span = match ret {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    quote_spanned!(span=> #p::send_return(ack, &out);)
}

/// Whether `ty` names the `State<T>` extractor (by its last path segment).
fn is_state(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "State"))
}
