//! `#[namespace("/path")]`: parse the impl block into a model, validate it, generate code.

mod expand;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = parse::parse(&cx, attr, item.clone());
    match (cx.check(), parsed) {
        (Ok(()), Some(def)) => expand::expand(&def),
        (Err(err), Some(def)) => fallback(err, def.item_tokens()),
        (Err(err), None) => fallback(err, item),
        (Ok(()), None) => unreachable!("parse failed without reporting"),
    }
}

/// Re-emits the impl (without our attributes, when it parsed) next to the errors, so the
/// methods still exist and no cascade of unrelated errors follows.
fn fallback(err: syn::Error, item: TokenStream) -> TokenStream {
    let errors = err.to_compile_error();
    quote::quote!(#errors #item)
}
