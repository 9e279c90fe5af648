//! Code generation: one `EventHandler` (or connect/disconnect handler) type per method, the
//! `NamespaceHandlers` impl, and the `inventory` entry, all inside `const _: () = { .. };`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ReturnType;

use super::parse::{Handler, Kind, NamespaceDef};

pub(crate) fn expand(def: &NamespaceDef) -> TokenStream {
    let item = &def.item;
    let self_ty = &item.self_ty;
    let path = &def.path;
    let type_name = quote!(#self_ty).to_string().replace(' ', "");
    let mut types = Vec::new();
    let mut installs = Vec::new();
    for handler in &def.handlers {
        let (ty, install) = handler_type(handler, self_ty);
        types.push(ty);
        installs.push(install);
    }
    quote! {
        #item

        const _: () = {
            #(#types)*

            impl ::socketio_core::NamespaceHandlers for #self_ty {
                const PATH: &'static str = #path;

                fn register(self: ::std::sync::Arc<Self>, ns: &::socketio_core::Namespace) {
                    #(#installs)*
                }
            }

            fn __socketio_register(io: &::socketio_core::SocketIo) -> bool {
                // Autoref specialization: registers a `Default` instance when there is one.
                struct Probe<T>(::std::marker::PhantomData<T>);
                trait ViaDefault {
                    fn make(&self, io: &::socketio_core::SocketIo) -> bool;
                }
                impl<T: ::socketio_core::NamespaceHandlers + ::std::default::Default> ViaDefault for Probe<T> {
                    fn make(&self, io: &::socketio_core::SocketIo) -> bool {
                        io.register(T::default());
                        true
                    }
                }
                trait NoDefault {
                    fn make(&self, io: &::socketio_core::SocketIo) -> bool;
                }
                impl<T> NoDefault for &Probe<T> {
                    fn make(&self, _io: &::socketio_core::SocketIo) -> bool {
                        false
                    }
                }
                (&Probe::<#self_ty>(::std::marker::PhantomData)).make(io)
            }

            ::socketio_core::__private::inventory::submit! {
                ::socketio_core::__private::NamespaceRegistration {
                    path: #path,
                    type_name: #type_name,
                    location: (::std::file!(), ::std::line!()),
                    register: __socketio_register,
                }
            }
        };
    }
}

/// The handler type of one method and the statement installing it.
fn handler_type(handler: &Handler, self_ty: &syn::Type) -> (TokenStream, TokenStream) {
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
        struct #name(::std::sync::Arc<#self_ty>);
    };
    match &handler.kind {
        Kind::Event(event) => {
            let extract = handler.args.iter().map(|ty| {
                quote_spanned!(ty.span()=> <#ty as ::socketio_core::FromEvent>::from_event(&mut parts)?)
            });
            let tys = &handler.args;
            let send = send_return(&handler.ret);
            // A sync method runs right away and its ack is sent before returning: nothing to
            // keep alive. An async one moves the shared handle into its future.
            let body = if handler.is_async {
                quote! {
                    ::std::boxed::Box::pin(async move {
                        let out = <#self_ty>::#method(&self.0, socket, #(#vars),*).await;
                        #send
                    })
                }
            } else {
                quote! {
                    let out = <#self_ty>::#method(&self.0, socket, #(#vars),*);
                    #send
                    ::std::boxed::Box::pin(::std::future::ready(()))
                }
            };
            let ty = quote! {
                #struct_def
                impl ::socketio_core::EventHandler for #name {
                    fn call(
                        self: ::std::sync::Arc<Self>,
                        socket: ::socketio_core::SocketRef,
                        event: ::socketio_core::Event,
                    ) -> ::socketio_core::BoxFuture<()> {
                        let ::socketio_core::Event { name, args, mut ack } = event;
                        let extracted: ::std::result::Result<(#(#tys,)*), ::socketio_core::ArgError> = {
                            #[allow(unused_mut, unused_variables)]
                            let mut parts = ::socketio_core::__private::event_parts(&socket, &args, &mut ack);
                            #[allow(clippy::redundant_closure_call)]
                            (|| ::std::result::Result::Ok((#(#extract,)*)))()
                        };
                        let (#(#vars,)*) = match extracted {
                            ::std::result::Result::Ok(values) => values,
                            ::std::result::Result::Err(err) => {
                                ::socketio_core::__private::reject_event(&socket, &name, ack, err);
                                return ::std::boxed::Box::pin(::std::future::ready(()));
                            }
                        };
                        #body
                    }
                }
            };
            let install = quote! {
                ns.on_handler(#event, ::std::sync::Arc::new(#name(::std::sync::Arc::clone(&self))));
            };
            (ty, install)
        }
        Kind::Connect => {
            let (decode, pass) = match handler.args.first() {
                Some(ty) => (
                    quote_spanned! {ty.span()=>
                        let auth: #ty = match ::socketio_core::__private::decode_auth::<#ty>(auth) {
                            ::std::result::Result::Ok(a) => a,
                            ::std::result::Result::Err(err) => {
                                return ::std::boxed::Box::pin(async move { ::std::result::Result::Err(err) });
                            }
                        };
                    },
                    quote!(, auth),
                ),
                None => (quote!(let _ = auth;), quote!()),
            };
            let result = match &handler.ret {
                ReturnType::Default => quote!(out),
                ReturnType::Type(_, ty) => quote_spanned!(ty.span()=> out),
            };
            let ty = quote! {
                #struct_def
                impl ::socketio_core::ConnectHandler for #name {
                    fn call(
                        &self,
                        socket: ::socketio_core::SocketRef,
                        auth: ::std::option::Option<::socketio_core::__private::Value>,
                    ) -> ::socketio_core::BoxFuture<::std::result::Result<(), ::socketio_core::ConnectError>> {
                        #decode
                        let this = ::std::sync::Arc::clone(&self.0);
                        ::std::boxed::Box::pin(async move {
                            let out = <#self_ty>::#method(&*this, socket #pass) #call_await;
                            ::socketio_core::IntoConnectResult::into_connect_result(#result)
                        })
                    }
                }
            };
            let install = quote! {
                ns.on_connect_handler(::std::sync::Arc::new(#name(::std::sync::Arc::clone(&self))));
            };
            (ty, install)
        }
        Kind::Disconnect => {
            let pass = if handler.args.is_empty() {
                quote!()
            } else {
                quote!(, reason)
            };
            let ty = quote! {
                #struct_def
                impl ::socketio_core::DisconnectHandler for #name {
                    fn call(
                        &self,
                        socket: ::socketio_core::SocketRef,
                        reason: ::socketio_core::DisconnectReason,
                    ) -> ::socketio_core::BoxFuture<()> {
                        let _ = &reason;
                        let this = ::std::sync::Arc::clone(&self.0);
                        ::std::boxed::Box::pin(async move {
                            <#self_ty>::#method(&*this, socket #pass) #call_await;
                        })
                    }
                }
            };
            let install = quote! {
                ns.on_disconnect_handler(::std::sync::Arc::new(#name(::std::sync::Arc::clone(&self))));
            };
            (ty, install)
        }
    }
}

/// Sends the return value as the ack; a return type that is not `Serialize` is reported at
/// the method's return type.
fn send_return(ret: &ReturnType) -> TokenStream {
    let span = match ret {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    quote_spanned!(span=> ::socketio_core::__private::send_return(ack, &out);)
}
