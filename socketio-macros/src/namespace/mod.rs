//! `#[namespace("/path")]`: parse the impl block into a model, validate it, generate code.

mod expand;
mod parse;

pub(crate) use parse::RESERVED;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = parse::parse(&cx, attr, item.clone());
    match (cx.check(), parsed) {
        (Ok(()), Some(def)) => expand::expand(&def),
        (Err(err), Some(def)) => {
            let stub = if def.can_stub() {
                expand::stub(&def)
            } else {
                TokenStream::new()
            };
            fallback(err, def.item_tokens(), stub)
        }
        (Err(err), None) => fallback(err, item, TokenStream::new()),
        (Ok(()), None) => unreachable!("parse failed without reporting"),
    }
}

/// Re-emits the impl (without our attributes, when it parsed) and a stub `NamespaceHandlers`
/// impl next to the errors, so the methods still exist, `io.register(T)` still type-checks and
/// no cascade of unrelated errors follows.
fn fallback(err: syn::Error, item: TokenStream, stub: TokenStream) -> TokenStream {
    let errors = err.to_compile_error();
    quote::quote!(#errors #item #stub)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Every path the expansion names goes through `<crate>::__private`: with `crate = ".."`,
    /// neither `socketio_core` nor `std` appears, so a re-export is all the user needs.
    #[test]
    fn generated_code_names_only_the_private_table() {
        let item = quote! {
            impl Chat {
                #[on_connect]
                async fn connect(&self, socket: SocketRef, auth: Option<Auth>) {}
                #[on("a", "b")]
                async fn ab(&self, socket: SocketRef, n: i64) -> i64 { n }
                #[on_any]
                fn any(&self, socket: SocketRef) {}
                #[on_disconnect]
                fn gone(&self, socket: SocketRef) {}
            }
        };
        let out = super::expand(
            quote!("/chat", crate = "my::reexport", typescript, emits = Events),
            item,
        )
        .to_string();
        assert!(out.contains("my :: reexport :: __private :: typescript :: EventTypes"));
        assert!(out.contains("my :: reexport :: __private :: NamespaceHandlers"));
        assert!(!out.contains("socketio_core"), "{out}");
        assert!(!out.contains("std ::"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    /// A method's `#[cfg]` is carried to the block that declares and installs its handler.
    #[test]
    fn cfg_is_carried_to_the_registration() {
        let item = quote! {
            impl Chat {
                #[cfg(feature = "x")]
                #[on("a")]
                fn a(&self, socket: SocketRef) {}
            }
        };
        let out = super::expand(quote!("/"), item).to_string();
        let register = out.find("fn register").expect("register");
        let carried = out[register..].find("# [cfg (feature = \"x\")] {");
        assert!(carried.is_some(), "{out}");
    }
}
